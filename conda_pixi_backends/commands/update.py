"""`update [NAME ...]`: solve installed requests again and move them to the newest match.

An environment whose new solution differs is installed into a new prefix beside the old one;
its metadata, written last, switches to it; the launchers are rewritten; only then is the old
prefix retired. A retired prefix stays on disk for a grace period, because a launcher started
before the switch still runs from it, and is removed by a later `update` once the period is
over (the metadata file keeps its name, keyed by request; its `prefix` names the live one).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from conda_pixi_backends import cleanup
from conda_pixi_backends.commands import common, install

if TYPE_CHECKING:
    from conda_pixi_backends.store import EnvRecord


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "update",
        parents=[parent],
        help="update installed backends to the newest version their request allows",
        description=(
            "Solve the request of each installed backend environment (all, or those of the "
            "named backends) again; where the newest solution differs, install it beside the "
            "old one and switch to it. Running backends keep working throughout."
        ),
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help="a backend name, e.g. pixi-build-python"
    )
    install.add_offline_flag(parser)
    parser.add_argument(
        "--grace-period", type=common.number("seconds", 0, common.MAX_SECONDS),
        default=cleanup.GRACE_PERIOD, metavar="SECONDS",
        help="keep prefixes replaced by an earlier update this long for launchers still "
        "running from them (default: 86400, one day)",
    )  # fmt: skip
    parser.add_argument(
        "--dry-run", action="store_true", help="solve and show what would change; write nothing"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def _label(row: dict[str, str] | None) -> str | None:
    return f"{row['version']}={row['build']}" if row else None


def changes(old: list[dict[str, str]], new: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The packages that differ, as `version=build` before and after (None: absent)."""
    before = {p["name"]: p for p in old}
    after = {p["name"]: p for p in new}
    found = []
    for name in sorted(before.keys() | after.keys()):
        a, b = before.get(name), after.get(name)
        same = a and b and (a["version"], a["build"], a.get("sha256")) == (
            b["version"], b["build"], b.get("sha256")
        )  # fmt: skip
        if not same:
            found.append({"name": name, "old": _label(a), "new": _label(b)})
    return found


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends import plan
    from conda_pixi_backends.errors import OperationError, UserInputError
    from conda_pixi_backends.plan import stores_for

    cfg = common.settings(args, offline=args.offline)
    store = stores_for(cfg)[0]
    records = store.records()
    if args.names:
        unknown = sorted(set(args.names) - {r.name for r in records})
        if unknown:
            raise UserInputError(
                f"{', '.join(unknown)}: not installed in {store.root}; nothing updated "
                "(see: conda pixi-backend list)"
            )
        records = [r for r in records if r.name in args.names]
    swept = []
    if not args.dry_run and store.root.is_dir():
        # Heal a switch that died before its launcher rewrite, then drop old retired prefixes.
        store.ensure()
        plan.refresh_exposure(store)
        swept = [str(p) for p in store.sweep_retired(args.grace_period)]
    rows: list[dict[str, Any]] = []
    if records:
        from conda_pixi_backends import installer

        requests = [plan.request_from_record(r) for r in records]
        for record, request in zip(records, requests, strict=True):
            if request.key != record.key:
                raise OperationError(
                    f"{store.metadata_path(record.env_name)}: its request no longer has key "
                    f"{record.key}; reinstall it: conda pixi-backend install --force ..."
                )
        fetch = plan.Fetch.from_settings(cfg)
        solved = installer.solve(store, requests, fetch)
        new_rows = [installer.package_rows(s) for s in solved]
        stale = [
            i
            for i, (record, new) in enumerate(zip(records, new_rows, strict=True))
            if not plan.same_packages(record.packages, new)
        ]
        outcomes: dict[int, Any] = {}
        if stale and not args.dry_run:
            results = installer.install(
                store, [requests[i] for i in stale], fetch=fetch, records=[solved[i] for i in stale]
            )
            outcomes = dict(zip(stale, results, strict=True))
            plan.refresh_exposure(store)
            for outcome in results:  # only now that no launcher names them
                if outcome.replaced is not None:
                    store.retire(outcome.replaced)
        for i, record in enumerate(records):
            rows.append(_row(record, new_rows[i], i in stale, outcomes.get(i), args.dry_run))
    result = {"root": str(store.root), "backends": rows, "removed_retired": swept}
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
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


def _row(
    record: EnvRecord, new: list[dict[str, str]], stale: bool, outcome: Any, dry_run: bool
) -> dict[str, Any]:
    """One backend of the result, as `--json` prints it."""
    old_package = record.package(record.name)
    current = outcome.record if outcome is not None else record
    if not stale:
        status = "up-to-date"
    elif dry_run:
        status = "would-update"
    else:
        # Another update may have switched it meanwhile: compare with what is live now.
        status = "updated" if outcome is not None and outcome.installed else "up-to-date"
    package = (
        next((p for p in new if p["name"] == record.name), None)
        if status == "would-update"
        else current.package(record.name)
    )
    return {
        "name": record.name,
        "key": record.key,
        "spec": record.request.get("spec"),
        "platform": record.request.get("platform"),
        "status": status,
        "old_version": old_package["version"] if old_package else None,
        "version": package["version"] if package else None,
        "prefix": current.prefix,
        "previous_prefix": str(outcome.replaced)
        if status == "updated" and outcome.replaced
        else None,
        "changes": changes(record.packages, new) if stale else [],
    }
