"""`remove NAME|KEY ...`: delete backend environments, their launchers and activation entries.

The order keeps every moment consistent: under the `exposure` lock, the environments leave
exposed.json, bin/ and activate/ first; then, under each environment's own lock, its metadata
goes (it is now incomplete, so nothing exposes or reuses it) and last its folder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conda_pixi_backends.commands import common

if TYPE_CHECKING:
    from conda_pixi_backends.store import EnvRecord, Store

#: An environment folder: `<name>-<key>`, or `<name>-<key>.<n>` beside a prefix still in use.
_FOLDER = re.compile(r"(?P<name>.+)-(?P<key>[0-9a-f]{12})(\.\d+)?")


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "remove",
        parents=[parent],
        help="remove backend environments, their launchers and activation entries",
        description=(
            "Remove backend environments: by backend NAME (all of its environments), by KEY, or "
            "by environment name NAME-KEY. Their launchers and PIXI_BUILD_BACKEND_OVERRIDE "
            "entries go first, so nothing ever points at a missing environment."
        ),
    )
    parser.add_argument("targets", nargs="+", metavar="NAME|KEY")
    common.add_removal_flags(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


@dataclass
class Target:
    """One environment to remove: complete (with its record) or incomplete (a bare folder)."""

    env: str
    path: Path
    record: EnvRecord | None = None

    def row(self, store: Store, status: str, exposed: dict[str, str]) -> dict[str, Any]:
        from conda_pixi_backends import exposure

        record = self.record
        name = record.name if record else None
        launcher = (
            str(exposure.launcher_path(store, name))
            if name is not None and exposed.get(name) == self.env
            else None
        )
        package = record.package(record.name) if record else None
        return {
            "env": self.env,
            "status": status,
            "complete": record is not None,
            "name": name,
            "key": record.key if record else None,
            "version": package["version"] if package else None,
            "prefix": str(self.path),
            "launcher": launcher,
        }


def lock_name(env: str) -> str:
    """The lock an install of this folder holds: its environment's, also for `<env>.<n>`."""
    match = _FOLDER.fullmatch(env)
    return f"{match['name']}-{match['key']}" if match else env


def _matches(arg: str, env: str, record: EnvRecord | None) -> bool:
    if arg == env:
        return True
    if record is not None:
        return arg in (record.name, record.key)
    # An incomplete folder has only its name to go by.
    match = _FOLDER.fullmatch(env)
    return match is not None and arg in (match["name"], match["key"])


def select(store: Store, args: list[str], shared: Store | None = None) -> list[Target]:
    """The environments the arguments name, in store order; an unknown one is bad input, and
    one of the read-only `shared` store is refused, saying so."""
    from conda_pixi_backends.errors import OperationError, UserInputError

    complete, incomplete = store.scan()
    candidates = [Target(env, Path(r.prefix), r) for env, r in complete.items()]
    candidates += [Target(env, store.envs / env) for env in incomplete]
    chosen: dict[str, Target] = {}
    unknown = []
    for arg in args:
        hits = [t for t in candidates if _matches(arg, t.env, t.record)]
        if not hits and shared is not None:
            theirs = [e for e, r in shared.scan()[0].items() if _matches(arg, e, r)]
            if theirs:
                raise OperationError(
                    f"{arg}: {', '.join(theirs)} is in the shared store {shared.root}, which "
                    "you cannot change; nothing removed (ask its admin, or install your own: "
                    f"conda pixi-backend install --force {arg})"
                )
        if not hits:
            unknown.append(arg)
        chosen.update((t.env, t) for t in hits)
    if unknown:
        raise UserInputError(
            f"no backend environment named or keyed {', '.join(map(repr, unknown))} in "
            f"{store.root}; nothing removed (see: conda pixi-backend list)"
        )
    return [t for t in candidates if t.env in chosen]


def delete(
    store: Store,
    targets: list[Target],
    keep: Callable[[EnvRecord, EnvRecord], bool] | None = None,
) -> tuple[list[Target], int]:
    """Remove the targets in the safe order; returns those removed and the bytes freed.

    Under the locks the store is read again: a complete target is removed at the prefix its
    metadata names now (an `update` may have moved it), one already gone is dropped, and an
    incomplete one that an install completed meanwhile is spared. With `keep(seen, fresh)`
    (gc), exposed targets and those for which it returns True are spared too.
    """
    from conda_pixi_backends import exposure
    from conda_pixi_backends.commands.list_ import freed_bytes
    from conda_pixi_backends.errors import OperationError

    try:
        with store.lock("exposure"), contextlib.ExitStack() as held:
            exposed = store.exposed()
            if keep is not None:  # an install may have exposed one since the caller looked
                live = exposure.live_exposure(store, exposed)
                serving = {where for name, where in exposed.items() if name in live}
                targets = [t for t in targets if t.env not in serving]
            for name in sorted({lock_name(t.env) for t in targets}):
                held.enter_context(store.lock(name))
            complete, incomplete = store.scan()
            fresh_targets = []
            for target in targets:
                if target.record is None:
                    if target.env in incomplete:
                        fresh_targets.append(target)
                    continue
                fresh = complete.get(target.env)
                if fresh is not None and not (keep is not None and keep(target.record, fresh)):
                    fresh_targets.append(Target(target.env, Path(fresh.prefix), fresh))
            targets = fresh_targets
            names = {t.env for t in targets}
            remaining = {name: env for name, env in exposed.items() if env not in names}
            if remaining != exposed:
                exposure.refresh(store, remaining)
            freed = freed_bytes([t.path for t in targets])
            for target in targets:
                store.metadata_path(target.env).unlink(missing_ok=True)
                if target.path.is_dir() and not target.path.is_symlink():
                    store.remove_tree(target.path)
    except OSError as exc:
        where = exc.filename or store.root
        raise OperationError(
            f"cannot remove from {store.root}: {where}: {exc.strerror or exc}; what was removed "
            "stays removed, the rest is unchanged or incomplete (`gc` clears it)"
        ) from None
    return targets, freed


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends.commands.list_ import freed_bytes, human

    store, shared = common.stores(args)
    targets = select(store, args.targets, shared)
    exposed = store.exposed()
    freed = freed_bytes([t.path for t in targets])
    planned = [f"{t.env}  {t.path}" for t in targets]
    if not common.confirm(args, planned, human(freed)):
        return 0
    if not args.dry_run:
        targets, freed = delete(store, targets)
    status = "would-remove" if args.dry_run else "removed"
    rows = [t.row(store, status, exposed) for t in targets]
    if args.json:
        json.dump(
            {
                "root": str(store.root),
                "dry_run": args.dry_run,
                "removed": rows,
                "bytes_freed": freed,
            },
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
        return 0
    for row in rows:
        what = f"{row['name']} {row['version']} ({row['key']})" if row["complete"] else row["env"]
        gone = f" and its launcher {row['launcher']}" if row["launcher"] else ""
        print(f"{status.replace('-', ' ')}: {what}  {row['prefix']}{gone}")
    print(f"{'Would free' if args.dry_run else 'Freed'} {human(freed)}.")
    return 0
