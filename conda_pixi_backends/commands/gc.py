"""`gc`: remove the backend environments and package-cache entries that nothing keeps.

What is kept and why, what goes and in which order are `cleanup`'s (`collect_garbage`) and
`package_cache`'s; this prints the result.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from conda_pixi_backends.commands import SUMMARIES, common
from conda_pixi_backends.keepers import RECENT_DAYS

if TYPE_CHECKING:
    from pathlib import Path

    from conda_pixi_backends.cleanup import Collection, Removal, RetiredRow
    from conda_pixi_backends.keepers import Reason


class EnvRemovedRow(TypedDict):
    """A complete environment nothing keeps, or an incomplete folder (`name`, `key` and
    `last_used` null), in `removed`."""

    kind: Literal["environment", "incomplete"]
    status: Removal
    env: str
    name: str | None
    key: str | None
    path: str
    last_used: str | None


class PrefixRemovedRow(TypedDict):
    """A retired prefix past its grace period, or an orphaned one, in `removed`."""

    kind: Literal["retired", "orphaned"]
    status: Removal
    env: str
    path: str


class PackageRemovedRow(TypedDict):
    """A package-cache entry no remaining environment uses, in `removed`."""

    kind: Literal["package"]
    status: Removal
    name: str
    path: str


RemovedRow = EnvRemovedRow | PrefixRemovedRow | PackageRemovedRow


class KeptRow(TypedDict):
    """An environment something keeps, and why, in `kept`."""

    env: str
    name: str
    key: str
    reasons: list[Reason]


class SkippedRow(TypedDict):
    """What gc left alone (being installed, used meanwhile), and why, in `skipped`."""

    env: str
    reason: str


class Result(TypedDict):
    """What `gc --json` prints."""

    root: str
    dry_run: bool
    older_than_days: float
    removed: list[RemovedRow]
    kept: list[KeptRow]
    retired: list[RetiredRow]
    skipped: list[SkippedRow]
    #: Why the package cache was left alone, if it was.
    package_cache: str | None
    bytes_freed: int


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "gc",
        parents=[parent],
        help=SUMMARIES["gc"],
        description=(
            "Remove backend environments that are not exposed, not asked for by an existing "
            "manifest or by the 'backends' setting, and not used within --older-than days; "
            "incomplete environments no install is working on; and package-cache entries no "
            "remaining environment uses."
        ),
    )
    parser.add_argument(
        "--older-than", type=common.number("days", 0, common.MAX_DAYS), default=RECENT_DAYS,
        metavar="DAYS", help="keep environments used within this many days (default: 30)",
    )  # fmt: skip
    common.add_removal_flags(parser)
    common.add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends.sizes import human
    from conda_pixi_backends.store import stores_for

    settings = common.settings(args)
    store = stores_for(settings)[0]

    def collect(*, dry_run: bool) -> Result:
        from conda_pixi_backends import cleanup

        found = cleanup.collect_garbage(
            store, settings, older_than=args.older_than, dry_run=dry_run
        )
        return result_json(str(store.root), found, older_than=args.older_than, dry_run=dry_run)

    if common.would_ask(args):
        preview = collect(dry_run=True)
        lines = [f"{row['kind']}: {_label(row)}" for row in preview["removed"]]
        if not common.ask(lines, human(preview["bytes_freed"])):
            return 0
    result = collect(dry_run=args.dry_run)
    if args.json:
        common.print_json(result)
    else:
        report(result, dry_run=args.dry_run)
    return 0


def result_json(root: str, found: Collection, *, older_than: float, dry_run: bool) -> Result:
    """What gc removed (or would remove), kept and skipped, as `--json` prints it."""
    from conda_pixi_backends.sizes import freed_bytes

    status: Removal = "would-remove" if dry_run else "removed"
    removed: list[RemovedRow] = [
        {
            "kind": "environment" if t.record else "incomplete",
            "status": status,
            "env": t.env,
            "name": t.record.name if t.record else None,
            "key": t.record.key if t.record else None,
            "path": str(t.path),
            "last_used": t.record.last_used if t.record else None,
        }
        for t in found.removed
    ]
    prefixes: tuple[tuple[Literal["retired", "orphaned"], list[Path]], ...] = (
        ("retired", found.retired),
        ("orphaned", found.orphans),
    )
    for kind, paths in prefixes:
        removed += [{"kind": kind, "status": status, "env": p.name, "path": str(p)} for p in paths]
    removed += [
        {"kind": "package", "status": status, "name": name, "path": str(folder)}
        for name, folder in found.packages.folders()
    ]
    return {
        "root": root,
        "dry_run": dry_run,
        "older_than_days": older_than,
        "removed": removed,
        "kept": [
            {"env": k.env, "name": k.record.name, "key": k.record.key, "reasons": k.reasons}
            for k in found.kept
        ],
        "retired": [r.row(freed_bytes([r.prefix])) for r in found.waiting],
        "skipped": [{"env": env, "reason": reason} for env, reason in found.skipped],
        "package_cache": found.packages.note,
        "bytes_freed": found.freed,
    }


def _label(row: RemovedRow) -> str:
    """What a removed row names: its folder, else (a package) its entry."""
    return row["env"] if row["kind"] != "package" else row["name"]


def report(result: Result, *, dry_run: bool) -> None:
    from conda_pixi_backends.keepers import reason_text
    from conda_pixi_backends.sizes import human

    verb = "would remove" if dry_run else "removed"
    for row in result["removed"]:
        label = _label(row)
        if row["kind"] == "environment":
            label = f"{row['name']} ({row['key']})"
        print(f"{verb} {row['kind']}: {label}  {row['path']}")
    for kept in result["kept"]:
        why = ", ".join(reason_text(r) for r in kept["reasons"])
        print(f"kept {kept['name']} ({kept['key']}): {why}")
    for retired in result["retired"]:
        print(
            f"kept retired {retired['env']} ({human(retired['size'])}) for launchers started "
            f"before its update, until {retired['until']}"
        )
    for skipped in result["skipped"]:
        print(f"skipped {skipped['env']}: {skipped['reason']}")
    if result["package_cache"]:
        print(f"package cache: {result['package_cache']}")
    print(f"{'Would free' if dry_run else 'Freed'} {human(result['bytes_freed'])}.")
