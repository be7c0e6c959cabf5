"""`remove NAME|KEY ...`: delete backend environments, their launchers and activation entries.

What is selected and the safe order of deleting it are `cleanup`'s.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, TypedDict

from conda_pixi_backends.commands import SUMMARIES, common

if TYPE_CHECKING:
    from conda_pixi_backends.cleanup import Removal, Target
    from conda_pixi_backends.store import Store


class RemovedRow(TypedDict):
    """One environment in `remove --json` (`removed`); for an incomplete folder `complete` is
    false and `name`, `key` and `version` are null."""

    env: str
    status: Removal
    complete: bool
    name: str | None
    key: str | None
    version: str | None
    prefix: str
    #: The launcher that went with it; null when it was not exposed.
    launcher: str | None


class Result(TypedDict):
    """What `remove --json` prints."""

    root: str
    dry_run: bool
    removed: list[RemovedRow]
    bytes_freed: int


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "remove",
        parents=[parent],
        help=SUMMARIES["remove"],
        description=(
            "Remove backend environments: by backend NAME (all of its environments), by KEY, or "
            "by environment name NAME-KEY. Their launchers and PIXI_BUILD_BACKEND_OVERRIDE "
            "entries go first, so nothing ever points at a missing environment."
        ),
    )
    parser.add_argument("targets", nargs="+", metavar="NAME|KEY")
    common.add_removal_flags(parser)
    common.add_json_flag(parser)
    parser.set_defaults(func=run)


def target_row(
    store: Store, target: Target, status: Removal, exposed: dict[str, str]
) -> RemovedRow:
    """One removed environment, as `--json` prints it."""
    from conda_pixi_backends import exposure

    record = target.record
    name = record.name if record else None
    launcher = (
        str(exposure.launcher_path(store, name, exposure.platform_of(record)))
        if record is not None and name is not None and exposed.get(name) == target.env
        else None
    )
    return {
        "env": target.env,
        "status": status,
        "complete": record is not None,
        "name": name,
        "key": record.key if record else None,
        "version": record.version if record else None,
        "prefix": str(target.path),
        "launcher": launcher,
    }


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends import cleanup
    from conda_pixi_backends.sizes import freed_bytes, human

    store, shared = common.stores(args)
    targets = cleanup.select(store, args.targets, shared)
    exposed = store.exposed()
    freed = freed_bytes([t.path for t in targets])
    planned = [f"{t.env}  {t.path}" for t in targets]
    if not common.confirm(args, planned, human(freed)):
        return 0
    if not args.dry_run:
        targets, freed = cleanup.delete(store, targets)
    status: Removal = "would-remove" if args.dry_run else "removed"
    rows = [target_row(store, t, status, exposed) for t in targets]
    if args.json:
        result: Result = {
            "root": str(store.root),
            "dry_run": args.dry_run,
            "removed": rows,
            "bytes_freed": freed,
        }
        common.print_json(result)
        return 0
    for row in rows:
        what = f"{row['name']} {row['version']} ({row['key']})" if row["complete"] else row["env"]
        gone = f" and its launcher {row['launcher']}" if row["launcher"] else ""
        print(f"{status.replace('-', ' ')}: {what}  {row['prefix']}{gone}")
    print(f"{'Would free' if args.dry_run else 'Freed'} {human(freed)}.")
    return 0
