"""What the store holds, as `list` shows it: each environment with its exposure, size, times
and the workspaces it serves; incomplete and retired prefixes; totals.

Plain file work (metadata, exposed.json, one walk of the store): no py-rattler, no solve.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypedDict

from conda_pixi_backends.sizes import Inode, WalkCache, freed_bytes, walk

if TYPE_CHECKING:
    from collections.abc import Iterable

    from conda_pixi_backends.cleanup import RetiredRow
    from conda_pixi_backends.overrides import OverrideRow, Overrides
    from conda_pixi_backends.store import EnvRecord, Store


class Size(TypedDict):
    """An environment's bytes on disk: alone, and added to those listed before it."""

    apparent: int
    unique: int


class EnvRow(TypedDict):
    """A complete environment in `list --json` (`environments`)."""

    env: str
    status: Literal["complete"]
    name: str
    #: `version`, `build`, `channel`: of the backend package itself.
    version: str | None
    build: str | None
    channel: str | None
    key: str
    spec: str | None
    platform: str | None
    prefix: str
    exposed: bool
    executables: list[str]
    size: Size
    created: str
    last_used: str
    manifests: list[str]
    workspaces: list[str]
    #: The read-only shared store it comes from; null for this store's own.
    shared: str | None
    read_only: bool
    override: OverrideRow | None


class IncompleteRow(TypedDict):
    """An environment folder or metadata without a complete environment (`environments`)."""

    env: str
    status: Literal["incomplete"]
    path: str | None
    metadata: str | None
    reason: str


class Totals(TypedDict):
    """Bytes of every complete environment (each inode once), and of the whole store."""

    environments: int
    store: int


class Listing(TypedDict):
    """What `list --json` prints."""

    root: str
    environments: list[EnvRow | IncompleteRow]
    retired: list[RetiredRow]
    totals: Totals


def env_row(
    store: Store,
    env_name: str,
    record: EnvRecord,
    exposed: dict[str, str],
    found: Overrides,
    size: Size,
    workspaces: list[str],
) -> EnvRow:
    """One complete environment, as `list --json` prints it."""
    from conda_pixi_backends import exposure

    package = record.package(record.name) or {}
    is_exposed = exposed.get(record.name) == env_name and record.executable is not None
    launcher = exposure.launcher_path(store, record.name, exposure.platform_of(record))
    override = found.get(record.name)
    if override is not None and exposure.own_launcher(store, override):
        override = None
    return {
        "env": env_name,
        "status": "complete",
        "name": record.name,
        "version": record.version,
        "build": package.get("build"),
        "channel": package.get("channel"),
        "key": record.key,
        "spec": record.request.get("spec"),
        "platform": record.request.get("platform"),
        "prefix": record.prefix,
        "exposed": is_exposed,
        "executables": [str(launcher)] if is_exposed and launcher.is_file() else [],
        "size": size,
        "created": record.created,
        "last_used": record.last_used,
        "manifests": list(record.manifests),
        "workspaces": workspaces,
        "shared": None,
        "read_only": False,
        "override": None if override is None else override.to_json(),
    }


def collect(store: Store) -> Listing:
    """The whole listing: environments (complete ones by name, then incomplete) and totals.

    Sizes are bytes of files and symlinks (folders not counted), each inode counted once:
    `apparent` is the environment alone (what `du -sb PREFIX` says, less folders); `unique` is
    what it adds to the environments listed before it, so the `unique` sizes add up to
    `totals.environments`; `totals.store` is every distinct file under the root (package
    cache, launchers, metadata and environments, wherever their prefixes are).
    """
    from conda_pixi_backends import cleanup, overrides
    from conda_pixi_backends.exposure import live_exposure
    from conda_pixi_backends.store import why_incomplete, workspace_choices

    found = overrides.from_environ()
    complete, incomplete = store.scan()
    exposed = store.exposed()
    # Which workspaces each environment serves: the launcher's table, computed the same way,
    # for the names that have a launcher (exposed, to a complete environment).
    served: dict[str, list[str]] = {}
    for name in live_exposure(store, exposed, complete):
        same = [r for r in complete.values() if r.name == name and r.executable]
        for root, chosen in sorted(workspace_choices(same).items()):
            served.setdefault(chosen.env_name, []).append(root)
    seen: set[Inode] = set()
    rows: list[EnvRow] = []
    walked: set[Path] = set()
    walks = WalkCache(store.cache / "sizes.json")
    for env_name, record in complete.items():
        # a prefix never changes once installed: `install --force` and `update` make a new one
        own = walks.walk(Path(record.prefix), record.created)
        apparent = sum(own.values())
        unique = sum(size for inode, size in own.items() if inode not in seen)
        seen.update(own)
        walked.add(Path(record.prefix))
        rows.append(
            env_row(
                store,
                env_name,
                record,
                exposed,
                found,
                {"apparent": apparent, "unique": unique},
                served.get(env_name, []),
            )
        )
    environments = sum(row["size"]["unique"] for row in rows)
    listed: list[EnvRow | IncompleteRow] = [*rows]
    for env_name in incomplete:
        path = store.envs / env_name
        listed.append(
            {
                "env": env_name,
                "status": "incomplete",
                "path": str(path) if path.is_dir() else None,
                "metadata": str(store.metadata_path(env_name))
                if store.metadata_path(env_name).exists()
                else None,
                "reason": why_incomplete(store.metadata_path(env_name)),
            }
        )
    total = environments
    tops = list(_store_tops(store, walked))
    # cache/ last, after the walks are saved there: the total then counts the file they go to
    for top in sorted(tops, key=lambda t: t == store.cache):
        if top == store.cache:
            walks.save()
        for inode, size in _walk_top(store, top, walks):
            if inode not in seen:
                seen.add(inode)
                total += size
    walks.save()  # when there is no cache/ (nothing is written then)
    waiting = cleanup.waiting(store) if store.envs.is_dir() else []
    return {
        "root": str(store.root),
        "environments": listed,
        "retired": [r.row(freed_bytes([r.prefix])) for r in waiting],
        "totals": {"environments": environments, "store": total},
    }


def _walk_top(store: Store, top: Path, walks: WalkCache) -> Iterable[tuple[Inode, int]]:
    """(inode, size) of the files below a top folder of the store. The package cache's
    extracted packages are remembered (their files do not change once extracted); the rest is
    small, and walked."""
    if top != store.pkgs:
        return [(inode, size) for inode, size, _ in walk(top)]
    found: list[tuple[Inode, int]] = []
    try:
        entries = list(os.scandir(top))
    except OSError:
        return found
    for entry in entries:
        try:
            folder = entry.is_dir(follow_symlinks=False)
            mtime = entry.stat(follow_symlinks=False).st_mtime_ns
        except OSError:
            continue
        if folder:
            found += walks.walk(Path(entry.path), str(mtime)).items()
        else:
            found += [(inode, size) for inode, size, _ in walk(entry.path)]
    return found


def _store_tops(store: Store, skip: set[Path]) -> Iterable[Path]:
    """The folders to walk for the store total: the root, minus environments already walked."""
    try:
        tops = list(store.root.iterdir())
    except OSError:
        return []
    found: list[Path] = []
    for top in tops:
        if top == store.envs:
            with contextlib.suppress(OSError):
                found.extend(p for p in store.envs.iterdir() if p not in skip)
        elif top not in skip:
            found.append(top)
    return found


def shared_rows(store: Store, shared: Store) -> list[EnvRow]:
    """The environments of the read-only shared store that this store's launchers serve."""
    from conda_pixi_backends import overrides
    from conda_pixi_backends.store import read_record

    found = overrides.from_environ()
    exposed = store.exposed()
    rows: list[EnvRow] = []
    for name, where in sorted(exposed.items()):
        record = read_record(Path(where)) if Path(where).is_absolute() else None
        if record is None:
            continue
        size = sum(s for _, s, _ in walk(record.prefix))
        row = env_row(
            store, record.env_name, record, {name: record.env_name}, found,
            {"apparent": size, "unique": 0}, [],
        )  # fmt: skip
        row["shared"], row["read_only"] = str(shared.root), True
        rows.append(row)
    return rows


def listing(store: Store, shared: Store | None = None) -> Listing:
    """`collect`, plus the shared store's environments this store's launchers serve."""
    found = collect(store)
    if shared is not None:
        found["environments"] += shared_rows(store, shared)
    return found
