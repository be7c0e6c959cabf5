"""`list`: every backend environment in the store, its exposure, size, times and users.

Plain file work (metadata, exposed.json, one walk of the store): no py-rattler, no solve.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conda_pixi_backends.commands import common

if TYPE_CHECKING:
    from conda_pixi_backends.overrides import Overrides
    from conda_pixi_backends.store import EnvRecord, Store

Inode = tuple[int, int]


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "list",
        parents=[parent],
        help="list the backend environments in the store",
        description=(
            "List every backend environment in the store: backend version, key, launcher, "
            "size on disk (hardlinks counted once), times, the manifests that asked for it, "
            "and whether PIXI_BUILD_BACKEND_OVERRIDE(_ALL) replaces it in this shell."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def walk(top: Path | str) -> Iterable[tuple[Inode, int, int]]:
    """(inode, size, link count) of every file and symlink below `top` (or of `top` itself when
    it is no folder); symlinks are not followed."""
    try:
        st = os.lstat(top)
    except OSError:
        return
    if not stat.S_ISDIR(st.st_mode):
        yield (st.st_dev, st.st_ino), st.st_size, st.st_nlink
        return
    stack = [os.fspath(top)]
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                        continue
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                yield (st.st_dev, st.st_ino), st.st_size, st.st_nlink


def freed_bytes(paths: Iterable[Path]) -> int:
    """What deleting these files and folders gives back: a file's bytes count only when every
    one of its hardlinks is among them (a package file still linked from elsewhere stays)."""
    found: dict[Inode, list[int]] = {}
    for path in paths:
        for inode, size, nlink in walk(path):
            seen = found.setdefault(inode, [0, nlink, size])
            seen[0] += 1
    return sum(size for count, nlink, size in found.values() if count >= nlink)


def env_row(
    store: Store,
    env_name: str,
    record: EnvRecord,
    exposed: dict[str, str],
    found: Overrides,
    size: dict[str, int],
    workspaces: list[str],
) -> dict[str, Any]:
    """One complete environment, as `list --json` prints it."""
    from conda_pixi_backends import exposure, plan

    package = record.package(record.name) or {}
    is_exposed = exposed.get(record.name) == env_name and record.executable is not None
    launcher = exposure.launcher_path(store, record.name)
    override = found.get(record.name)
    if override is not None and plan.own_launcher(store, override):
        override = None
    return {
        "env": env_name,
        "status": "complete",
        "name": record.name,
        "version": package.get("version"),
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
        "override": None
        if override is None
        else {"variable": override.variable, "value": override.path},
    }


def collect(store: Store) -> dict[str, Any]:
    """The whole listing: environments (complete ones by name, then incomplete) and totals.

    Sizes are bytes of files and symlinks (folders not counted), each inode counted once:
    `apparent` is the environment alone (what `du -sb PREFIX` says, less folders); `unique` is
    what it adds to the environments listed before it, so the `unique` sizes add up to
    `totals.environments`; `totals.store` is every distinct file under the root (package
    cache, launchers, metadata and environments, wherever their prefixes are).
    """
    from conda_pixi_backends import exposure, overrides
    from conda_pixi_backends.store import why_incomplete

    found = overrides.from_environ()
    complete, incomplete = store.scan()
    exposed = store.exposed()
    # Which workspaces each environment serves: the launcher's table, computed the same way.
    served: dict[str, list[str]] = {}
    for name in {r.name for r in complete.values()}:
        same = [r for r in complete.values() if r.name == name and r.executable]
        for root, chosen in sorted(exposure.workspace_choices(same).items()):
            served.setdefault(chosen.env_name, []).append(root)
    seen: set[Inode] = set()
    rows: list[dict[str, Any]] = []
    walked: set[Path] = set()
    for env_name, record in complete.items():
        own: dict[Inode, int] = {}
        for inode, size, _ in walk(record.prefix):
            own[inode] = size
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
    for env_name in incomplete:
        path = store.envs / env_name
        rows.append(
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
    for top in _store_tops(store, walked):
        for inode, size, _ in walk(top):
            if inode not in seen:
                seen.add(inode)
                total += size
    from conda_pixi_backends import cleanup

    waiting = cleanup.waiting(store) if store.envs.is_dir() else []
    return {
        "root": str(store.root),
        "environments": rows,
        "retired": [r.row(freed_bytes([r.prefix])) for r in waiting],
        "totals": {"environments": environments, "store": total},
    }


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


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"  # pragma: no cover - unreachable


def report(listing: dict[str, Any]) -> None:
    rows = listing["environments"]
    complete = [r for r in rows if r["status"] == "complete"]
    if not rows:
        print(f"No backend environments in {listing['root']}.")
        return
    width = max((len(r["name"]) for r in complete), default=0)
    for row in complete:
        marks = []
        if row["exposed"]:
            launcher = row["executables"][0] if row["executables"] else "yes"
            marks.append(f"exposed: {launcher}" + (", elsewhere" if row["workspaces"] else ""))
        if row["override"]:
            marks.append(f"overridden by {row['override']['variable']}")
        size = row["size"]
        print(
            f"{row['name']:<{width}}  {row['version'] or '?':<10} {row['key']}  "
            f"{human(size['unique']):>9} (of {human(size['apparent'])})  "
            f"used {row['last_used'][:10]}" + (f"  [{'; '.join(marks)}]" if marks else "")
        )
        if row.get("shared"):
            print(f"{'':<{width}}  from the shared store {row['shared']} (read-only: its admin's)")
        for workspace in row["workspaces"]:
            print(f"{'':<{width}}  serves Pixi in workspace {workspace}")
        for manifest in row["manifests"]:
            print(f"{'':<{width}}  for {manifest}")
    for row in rows:
        if row["status"] == "incomplete":
            print(
                f"incomplete: {row['path'] or row['metadata']}: {row['reason']}; "
                f"`gc` removes it, or: conda pixi-backend remove {row['env']}"
            )
    for row in listing.get("retired", []):
        print(
            f"retired: {row['path']} ({human(row['size'])}): replaced by an update or a "
            f"reinstall, kept for launchers started before it until {row['until']}"
        )
    totals = listing["totals"]
    print(
        f"\n{len(complete)} environment(s): {human(totals['environments'])} on disk, hardlinks "
        f"counted once; the whole store: {human(totals['store'])}."
    )


def shared_rows(store: Store, shared: Store) -> list[dict[str, Any]]:
    """The environments of the read-only shared store that this store's launchers serve."""
    from conda_pixi_backends import overrides
    from conda_pixi_backends.store import read_record

    found = overrides.from_environ()
    exposed = store.exposed()
    rows = []
    for name, where in sorted(exposed.items()):
        record = read_record(Path(where)) if Path(where).is_absolute() else None
        if record is None:
            continue
        size = sum(s for _, s, _ in walk(record.prefix))
        row = env_row(
            store, record.env_name, record, {name: record.env_name}, found,
            {"apparent": size, "unique": 0}, [],
        )  # fmt: skip
        row.update(shared=str(shared.root), read_only=True)
        rows.append(row)
    return rows


def run(args: argparse.Namespace) -> int:
    store, shared = common.stores(args)
    listing = collect(store)
    if shared is not None:
        listing["environments"] += shared_rows(store, shared)
    if args.json:
        json.dump(listing, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        report(listing)
    return 0
