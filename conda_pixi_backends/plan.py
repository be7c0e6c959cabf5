"""From declarations, settings and overrides to a plan: what to install, reuse or leave alone.

Planning reads files only; it never imports py-rattler, so a plan of already installed
backends (the common case) costs milliseconds.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from conda_pixi_backends.model import Declaration, Request, normalize_channel, normalize_spec
from conda_pixi_backends.overrides import Override, Overrides
from conda_pixi_backends.settings import Settings
from conda_pixi_backends.store import EnvRecord, Store, in_layout

OVERRIDDEN = "overridden"
ALREADY = "already-installed"
INSTALLED = "installed"
WOULD_INSTALL = "would-install"
#: Sources of a request that are not manifest files.
COMMAND_LINE = "command line"
CONFIG = "config"
#: The lock file `lock` writes and `--locked` reads by default.
LOCK_FILE = "pixi-backends.lock"


@dataclass
class Entry:
    """One backend of the plan, and then of the result."""

    request: Request
    status: str
    override: Override | None = None
    record: EnvRecord | None = None


@dataclass(frozen=True)
class Fetch:
    """How channels are reached; handed to py-rattler's own configuration by the installer."""

    offline: bool = False
    #: Channel URL -> mirror URLs, tried in order instead of the channel.
    mirrors: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Fetch:
        return cls(offline=settings.offline, mirrors=dict(settings.mirrors))


def manifest_sources(sources: Iterable[str]) -> list[str]:
    """The manifest files among a request's sources (not the command line, not the config)."""
    return [s for s in sources if s not in (COMMAND_LINE, CONFIG)]


def same_packages(a: Iterable[Mapping[str, str]], b: Iterable[Mapping[str, str]]) -> bool:
    """Equal package sets: name, version, build, and sha256 (or the URL when there is none)."""

    def identity(rows: Iterable[Mapping[str, str]]) -> set[tuple[str, ...]]:
        return {
            (p["name"], p["version"], p["build"], p.get("sha256") or p.get("url", "")) for p in rows
        }

    return identity(a) == identity(b)


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def requests_for(
    declarations: Sequence[Declaration],
    settings: Settings,
    channels: Sequence[str] = (),
    override_channels: bool = False,
) -> list[Request]:
    """Apply settings to declarations; equal requests merge and remember every source.

    Channels, highest priority first: `--channel`s, then the declaration's own (a manifest's),
    else the configured ones; `--override-channels` keeps only the `--channel`s.
    """
    merged: dict[Request, tuple[list[str], list[str]]] = {}
    for declaration in declarations:
        own = [] if override_channels else list(declaration.channels or settings.channels)
        alias = settings.channel_alias
        cli = [normalize_channel(c, Path.cwd(), alias, "--channel") for c in channels]
        what = f"{declaration.source}: channels" if declaration.channels else "setting 'channels'"
        urls = cli + [normalize_channel(c, declaration.base, alias, what) for c in own]
        request = Request(
            name=declaration.name,
            spec=declaration.spec,
            channels=_dedupe(urls),
            platform=settings.platform,
            additional_dependencies=_dedupe(sorted(declaration.additional_dependencies)),
            constraints=_dedupe(sorted(settings.constraints)),
            exclude_newer=declaration.exclude_newer,
        )
        sources, workspaces = merged.setdefault(request, ([], []))
        sources.append(declaration.source)
        if declaration.workspace is not None:
            workspaces.append(str(declaration.workspace))
    return [
        replace(r, sources=_dedupe(sources), workspaces=_dedupe(workspaces))
        for r, (sources, workspaces) in merged.items()
    ]


@dataclass(frozen=True)
class Conflict:
    """One workspace whose packages ask for different requests of one backend name: Pixi's
    override maps a name to one executable, so one of them cannot be served there."""

    workspace: str
    name: str
    requests: tuple[Request, ...]

    def describe(self) -> str:
        asked = "; ".join(f"{r.spec} (from {', '.join(r.sources)})" for r in self.requests)
        return (
            f"workspace {self.workspace} asks for {self.name} in {len(self.requests)} different "
            f"ways, which one override cannot serve: {asked}"
        )


def conflicts(requests: Sequence[Request]) -> list[Conflict]:
    """The workspaces that ask for one backend name in more than one way."""
    asked: dict[tuple[str, str], list[Request]] = {}
    for request in requests:
        for workspace in request.workspaces:
            asked.setdefault((workspace, request.name), []).append(request)
    return [
        Conflict(workspace, name, tuple(found))
        for (workspace, name), found in asked.items()
        if len(found) > 1
    ]


def config_backends(settings: Settings, origin: str = "setting 'backends'") -> list[Declaration]:
    """What the `backends` setting asks for on `settings.platform`: a list of MatchSpecs, or a
    mapping of platform to such lists. `origin` (file and line, variable) names bad specs."""
    getter = getattr(settings, "backend_specs", None)
    if callable(getter):
        specs: Any = getter(settings.platform)
    elif isinstance(settings.backends, dict):
        specs = settings.backends.get(settings.platform, [])
    else:
        specs = settings.backends
    where = f"{origin}: backends"
    found = []
    for text in specs or []:
        name, spec = normalize_spec(str(text), where)
        found.append(Declaration(name=name, spec=spec, source=CONFIG))
    return found


def request_from_record(record: EnvRecord) -> Request:
    """The request an environment was installed for, from its metadata."""
    data = record.request
    return Request(
        name=str(data["name"]),
        spec=str(data["spec"]),
        channels=tuple(data["channels"]),
        platform=str(data["platform"]),
        additional_dependencies=tuple(data.get("additional_dependencies", ())),
        constraints=tuple(data.get("constraints", ())),
        exclude_newer=data.get("exclude_newer"),  # type: ignore[arg-type]
        sources=tuple(record.manifests) or (COMMAND_LINE,),
    )


def own_launcher(store: Store, override: Override) -> bool:
    """True for an override that our own activation script set: it points into our bin/.
    Compared as real paths, so a store root reached through a symlink or '..' is still ours."""
    if override.path is None:
        return False
    path = override.resolve()
    return path is not None and Path(os.path.realpath(path)).parent == Path(
        os.path.realpath(store.bin)
    )


def stores_for(settings: Settings) -> tuple[Store, Store | None]:
    """The store to work in, and the read-only shared store to reuse environments from.

    An admin's shared `root` may be read-only for users: then what it holds is used from
    there, and what it lacks goes to the user's own `user_root`.
    """
    shared = Store(settings.root)
    existing = (shared.root / "store.json").is_file()  # else: create it, or say why not
    if settings.user_root != settings.root and existing and not shared.writable():
        return Store(settings.user_root), shared
    return shared, None


def make_plan(
    store: Store,
    requests: Sequence[Request],
    overrides: Overrides,
    force: bool = False,
    locked: Mapping[str, Sequence[Mapping[str, str]]] | None = None,
    shared: Store | None = None,
) -> list[Entry]:
    """With `locked` (environment name -> locked package rows), an installed environment that
    holds other packages than its lock is to be installed again. With a read-only `shared`
    store, what it holds is reused (unless forced) before looking in `store`."""
    plan = []
    for request in requests:
        override = overrides.get(request.name)
        if override is not None and not any(
            own_launcher(s, override) for s in (store, shared) if s is not None
        ):
            plan.append(Entry(request, OVERRIDDEN, override=override))
            continue
        record = None
        if not force and shared is not None:
            record = shared.record(request.env_name)
        if record is None and not force:
            record = store.record(request.env_name)
        if (
            record
            and locked is not None
            and not same_packages(record.packages, locked[request.env_name])
        ):
            record = None  # not what the lock file says: install that
        plan.append(Entry(request, ALREADY if record else WOULD_INSTALL, record=record))
    return plan


def provision(
    store: Store,
    requests: Sequence[Request],
    overrides: Overrides,
    force: bool = False,
    dry_run: bool = False,
    progress: bool = False,
    fetch: Fetch | None = None,
    lock_file: Path | None = None,
    shared: Store | None = None,
) -> list[Entry]:
    """Plan, install what is missing, note what is reused, and expose the result.

    With `dry_run` nothing is solved, downloaded or written. py-rattler is imported only
    when something must be installed, or a `lock_file` read: then every request that is not
    overridden gets exactly its locked packages, with no solve.
    """
    locked_rows: dict[str, list[dict[str, str]]] | None = None
    locked: dict[str, Any] = {}
    if lock_file is not None:
        from conda_pixi_backends import installer

        wanted = [r for r in requests if not _overridden(store, overrides, r)]
        records, rows = installer.locked_records(lock_file, wanted)
        locked = {r.env_name: recs for r, recs in zip(wanted, records, strict=True)}
        locked_rows = {r.env_name: row for r, row in zip(wanted, rows, strict=True)}
    entries = make_plan(store, requests, overrides, force=force, locked=locked_rows, shared=shared)
    if dry_run:
        return entries
    todo = [e for e in entries if e.status == WOULD_INSTALL]
    if todo:
        from conda_pixi_backends import installer

        installer.validate([e.request for e in todo], fetch or Fetch())
    fresh = not (store.root / "store.json").exists()
    try:
        return _provision(store, entries, todo, force, progress, fetch, locked, lock_file)
    except BaseException:
        if fresh:
            store.discard_skeleton([e.request.env_name for e in todo])
        raise


def _provision(
    store: Store,
    entries: list[Entry],
    todo: list[Entry],
    force: bool,
    progress: bool,
    fetch: Fetch | None,
    locked: dict[str, Any],
    lock_file: Path | None,
) -> list[Entry]:
    store.ensure()
    replaced: list[Path] = []
    new: list[str] = []
    if todo:
        from conda_pixi_backends import installer

        if progress:
            print(f"Solving and installing {len(todo)} backend environment(s)...", file=sys.stderr)
        given = [locked[e.request.env_name] for e in todo] if lock_file is not None else None
        results = installer.install(
            store, [e.request for e in todo], force, progress, fetch, records=given
        )
        for entry, outcome in zip(todo, results, strict=True):
            entry.record = outcome.record
            entry.status = INSTALLED if outcome.installed else ALREADY
            if outcome.replaced is not None:
                replaced.append(outcome.replaced)
            elif outcome.installed:
                new.append(outcome.record.env_name)
    for entry in entries:
        ours = entry.record is not None and in_layout(store.envs, entry.record)
        if entry.status == ALREADY and entry.record is not None and ours:
            entry.record = store.touch(
                entry.record, manifest_sources(entry.request.sources), entry.request.workspaces
            )
    from conda_pixi_backends import exposure

    try:
        exposure.expose(store, [e.record for e in entries if e.record is not None])
    except BaseException:
        # Exposure is all or nothing (a full disk changes no script): take back what this
        # command added, so that the store is as it was.
        for env_name in new:
            with store.lock(env_name):
                store.forget(env_name)
        raise
    for prefix in replaced:  # only now that no launcher names them
        store.retire(prefix)
    return entries


def _overridden(store: Store, overrides: Overrides, request: Request) -> bool:
    override = overrides.get(request.name)
    return override is not None and not own_launcher(store, override)


def refresh_exposure(store: Store) -> None:
    """Rewrite launchers and activation scripts from the current metadata."""
    from conda_pixi_backends import exposure

    with store.lock("exposure"):
        exposure.refresh(store, store.exposed())


def lock_file_for(
    manifests: Sequence[Path], given: Path | None = None, write: bool = False
) -> Path:
    """The lock file: `given`, else `pixi-backends.lock` beside the first manifest (the one
    found from here upward when none is given), else in the current folder. When reading, the
    nearest one in that folder or a parent is used, as a workspace keeps one at its root."""
    if given is not None:
        return Path(given).absolute()
    from conda_pixi_backends import discovery
    from conda_pixi_backends.errors import UserInputError

    if manifests:
        first = Path(manifests[0]).absolute()
        folder = first if first.is_dir() else first.parent
    else:
        try:
            folder = discovery.find_manifest(Path.cwd()).parent
        except UserInputError:
            folder = Path.cwd()
    if not write:
        for candidate in (folder, *folder.parents):
            if (candidate / LOCK_FILE).is_file():
                return candidate / LOCK_FILE
    return folder / LOCK_FILE
