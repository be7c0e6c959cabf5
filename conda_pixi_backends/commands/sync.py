"""`sync`: make the store hold what the `backends` setting (and any manifests) ask for.

It installs like `install` (same plan, same output); `--prune` then removes this platform's
environments that nothing asked for and nothing else keeps (`cleanup.prunable`), in the safe
order `remove` uses: exposure first, then metadata, then the folder.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from conda_pixi_backends.commands import SUMMARIES, common, results
from conda_pixi_backends.keepers import RECENT_DAYS

if TYPE_CHECKING:
    from conda_pixi_backends.keepers import Reason
    from conda_pixi_backends.model import Request
    from conda_pixi_backends.settings import Settings
    from conda_pixi_backends.store import Store


class PrunedRow(TypedDict):
    """An environment `--prune` removed (or, dry, would remove), in `pruned`."""

    name: str
    key: str
    platform: str
    version: str | None
    prefix: str
    status: Literal["would-prune", "pruned"]


class KeptRow(TypedDict):
    """An environment `--prune` kept, and why, in `kept`."""

    name: str
    key: str
    prefix: str
    reasons: list[Reason]


class SyncResult(results.Result):
    """What `sync --json` prints: `install --json`'s object, and what `--prune` did."""

    pruned: list[PrunedRow]
    kept: list[KeptRow]


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "sync",
        parents=[parent],
        help=SUMMARIES["sync"],
        description=(
            "Install every backend the 'backends' setting asks for on the configured platform, "
            "plus those of the given manifests, and expose them. With --prune, remove this "
            "platform's environments that neither asks for."
        ),
    )
    common.add_manifest_flag(
        parser, "a pixi.toml, pyproject.toml or folder whose backends to add (repeatable)"
    )
    parser.add_argument(
        "--platform", metavar="P", help="the platform to sync (default: setting 'platform')"
    )
    parser.add_argument(
        "--prune",
        action="store_true",
        help="remove this platform's environments that neither asks for and nothing else keeps "
        "(exposed, asked for by a recorded manifest, used within --older-than days)",
    )
    parser.add_argument(
        "--older-than", type=common.number("days", 0, common.MAX_DAYS), default=RECENT_DAYS,
        metavar="DAYS", help="with --prune: keep environments used within this many days "
        "(default: 30; 0 prunes regardless of use)",
    )  # fmt: skip
    common.add_lock_flags(parser)
    common.add_offline_flag(parser)
    common.add_removal_flags(parser)
    common.add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends import configuration, discovery, overrides, plan, provision
    from conda_pixi_backends import store as store_module
    from conda_pixi_backends.keepers import reason_text

    flags = {"root": args.root, "platform": args.platform, "offline": args.offline}
    loaded = configuration.load(flags, workspace=common.workspace_root(args.manifest))
    cfg = loaded.settings
    store, shared = store_module.stores_for(cfg)
    declarations = plan.config_backends(cfg, loaded.origins.get("backends", "backends"))
    found = discovery.Discovery()
    if args.manifest:
        found = discovery.discover(args.manifest, common.discovery_context(cfg))
        declarations += found.declarations
    requests = plan.requests_for(declarations, cfg)
    locked = args.locked or args.lock_file is not None
    lock_file = plan.lock_file_for(args.manifest, args.lock_file) if locked else None
    progress = sys.stderr.isatty() and not args.json
    entries = provision.provision(
        store, requests, overrides.from_environ(), dry_run=args.dry_run, progress=progress,
        fetch=cfg.fetch(), lock_file=lock_file, shared=shared,
    )  # fmt: skip

    pruned: list[PrunedRow] = []
    kept: list[KeptRow] = []
    if args.prune:
        pruned, kept = prune(store, requests, cfg, args)
    if args.json:
        rows = [results.entry_json(store, e) for e in entries]
        result: SyncResult = {
            "root": str(store.root),
            "backends": rows,
            "unresolved": results.unresolved_json(found.unresolved),
            "pruned": pruned,
            "kept": kept,
        }
        common.print_json(result)
        return 0
    results.report(store, entries, found.unresolved, as_json=False, dry_run=args.dry_run)
    for row in pruned:
        status = row["status"].replace("-", " ")
        print(f"{row['name']}  {status}  {row['prefix']}  ({row['version']}, key {row['key']})")
    for keep in kept:
        why = ", ".join(reason_text(r) for r in keep["reasons"])
        print(f"{keep['name']}  kept  {keep['prefix']}  ({why})")
    return 0


def prune(
    store: Store, requests: list[Request], cfg: Settings, args: argparse.Namespace
) -> tuple[list[PrunedRow], list[KeptRow]]:
    """Remove (or, dry, list) the environments of the platform that no request asks for and
    nothing else keeps; returns those and the ones kept, with why, as `--json` prints them."""
    from conda_pixi_backends import cleanup
    from conda_pixi_backends.sizes import freed_bytes, human

    targets, kept = cleanup.prunable(store, requests, cfg, older_than=args.older_than)
    kept_rows: list[KeptRow] = [
        {
            "name": k.record.name,
            "key": k.record.key,
            "prefix": k.record.prefix,
            "reasons": k.reasons,
        }
        for k in kept
    ]
    planned = [f"{t.env}  {t.path}" for t in targets]
    if not common.confirm(args, planned, human(freed_bytes([t.path for t in targets]))):
        return [], kept_rows
    if targets and not args.dry_run:
        targets, _freed = cleanup.delete(store, targets)
    rows: list[PrunedRow] = []
    for target in targets:
        record = target.record
        assert record is not None
        rows.append(
            {
                "name": record.name,
                "key": record.key,
                "platform": cfg.platform,
                "version": record.version,
                "prefix": record.prefix,
                "status": "would-prune" if args.dry_run else "pruned",
            }
        )
    return rows, kept_rows
