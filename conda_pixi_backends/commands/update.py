"""`update [NAME ...]`: solve installed requests again and move them to the newest match.

The swap (install beside, switch, retire, sweep after the grace period) is `updates`'.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, TypedDict

from conda_pixi_backends.cleanup import GRACE_PERIOD
from conda_pixi_backends.commands import SUMMARIES, common

if TYPE_CHECKING:
    from conda_pixi_backends.updates import Change, Status, Update


class BackendRow(TypedDict):
    """One environment in `update --json` (`backends`)."""

    name: str
    key: str
    spec: str | None
    platform: str | None
    status: Status
    #: The backend's version before, and now (in a dry run: in the new solution).
    old_version: str | None
    version: str | None
    #: The live prefix, and the one an update replaced (retired now; null otherwise).
    prefix: str
    previous_prefix: str | None
    changes: list[Change]


class Result(TypedDict):
    """What `update --json` prints."""

    root: str
    backends: list[BackendRow]
    #: The retired prefixes past their grace period that this update removed.
    removed_retired: list[str]


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "update",
        parents=[parent],
        help=SUMMARIES["update"],
        description=(
            "Solve the request of each installed backend environment (all, or those of the "
            "named backends) again; where the newest solution differs, install it beside the "
            "old one and switch to it. Running backends keep working throughout."
        ),
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help="a backend name, e.g. pixi-build-python"
    )
    common.add_offline_flag(parser)
    parser.add_argument(
        "--grace-period", type=common.number("seconds", 0, common.MAX_SECONDS),
        default=GRACE_PERIOD, metavar="SECONDS",
        help="keep prefixes replaced by an earlier update this long for launchers still "
        "running from them (default: 86400, one day)",
    )  # fmt: skip
    parser.add_argument(
        "--dry-run", action="store_true", help="solve and show what would change; write nothing"
    )
    common.add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends import updates
    from conda_pixi_backends.store import stores_for

    cfg = common.settings(args, offline=args.offline)
    store = stores_for(cfg)[0]
    done = updates.update(store, cfg, args.names, dry_run=args.dry_run, grace=args.grace_period)
    rows = [backend_row(u) for u in done.backends]
    swept = [str(p) for p in done.swept]
    if args.json:
        result: Result = {"root": str(store.root), "backends": rows, "removed_retired": swept}
        common.print_json(result)
        return 0
    if not rows:
        print(f"No backend environments installed in {store.root}.")
    width = max((len(r["name"]) for r in rows), default=0)
    for row in rows:
        status = row["status"].replace("-", " ")
        versions = row["version"] or ""
        if row["status"] in ("updated", "would-update"):
            versions = f"{row['old_version']} -> {row['version']}"
        print(f"{row['name']:<{width}}  {status:<12}  {versions}  {row['prefix']}")
    for path in swept:
        print(f"removed retired {path}")
    return 0


def backend_row(update: Update) -> BackendRow:
    """One backend of the result, as `--json` prints it."""
    return {
        "name": update.old.name,
        "key": update.old.key,
        "spec": update.old.request.get("spec"),
        "platform": update.old.request.get("platform"),
        "status": update.status,
        "old_version": update.old.version,
        "version": update.version,
        "prefix": update.current.prefix,
        "previous_prefix": str(update.replaced) if update.replaced else None,
        "changes": update.changes(),
    }
