"""From declarations, settings and overrides to a plan: what to install, reuse or leave alone.

Planning reads files only; it never imports py-rattler, so a plan of already installed
backends (the common case) costs milliseconds. `provision` carries a plan out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal, NamedTuple

from conda_pixi_backends.exposure import own_launcher
from conda_pixi_backends.model import (
    COMMAND_LINE,
    CONFIG,
    Declaration,
    Request,
    normalize_channel,
    normalize_spec,
    same_packages,
)

if TYPE_CHECKING:
    from conda_pixi_backends.overrides import Override, Overrides
    from conda_pixi_backends.settings import Loaded, Settings
    from conda_pixi_backends.store import EnvRecord, Store

#: What became of one backend: left to an override, reused, installed now, or (dry run) to be
#: installed.
Status = Literal["overridden", "already-installed", "installed", "would-install"]
OVERRIDDEN: Final = "overridden"
ALREADY: Final = "already-installed"
INSTALLED: Final = "installed"
WOULD_INSTALL: Final = "would-install"
#: The lock file `lock` writes and `--locked` reads by default.
LOCK_FILE = "pixi-backends.lock"


@dataclass
class Entry:
    """One backend of the plan, and then of the result."""

    request: Request
    status: Status
    override: Override | None = None
    record: EnvRecord | None = None


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def requests_for(
    declarations: Sequence[Declaration],
    settings: Settings,
    channels: Sequence[str] = (),
    *,
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


class Conflict(NamedTuple):
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
    """What the `backends` setting asks for on `settings.platform` (`Settings.backend_specs`,
    the one reading of it), as declarations. `origin` (file and line, variable) names bad specs."""
    where = f"{origin}: backends"
    found = []
    for text in settings.backend_specs():
        name, spec = normalize_spec(text, where)
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
        exclude_newer=None if data.get("exclude_newer") is None else str(data["exclude_newer"]),
        sources=tuple(record.manifests) or (COMMAND_LINE,),
    )


def make_plan(
    store: Store,
    requests: Sequence[Request],
    overrides: Overrides,
    *,
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


def lock_file_for(
    manifests: Sequence[Path], given: Path | None = None, *, write: bool = False
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


def lock_requests(
    manifests: Sequence[Path], platforms: Sequence[str], loaded: Loaded
) -> list[Request]:
    """What `lock` (and `bundle`) locks: every backend request of the manifests (default: the one found from
    here upward, else none when the `backends` setting asks for some) and of the `backends`
    setting, for each platform."""
    from conda_pixi_backends import discovery
    from conda_pixi_backends.discovery import DiscoveryContext
    from conda_pixi_backends.errors import UserInputError

    cfg = loaded.settings
    origin = loaded.origins.get("backends", "backends")
    context = DiscoveryContext(default_channels=tuple(cfg.default_channels))
    if manifests:
        declared = discovery.discover(list(manifests), context).declarations
    else:
        try:
            declared = discovery.discover(
                [discovery.find_manifest(Path.cwd())], context
            ).declarations
        except UserInputError:
            if not any(config_backends(cfg.for_platform(p), origin) for p in platforms):
                raise
            declared = []
    requests = []
    for platform in platforms:
        target = cfg.for_platform(platform)
        requests += requests_for(config_backends(target, origin) + declared, target)
    return requests
