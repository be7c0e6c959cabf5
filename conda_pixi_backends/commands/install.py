"""`install`: the backends that manifests or SPECs ask for, installed once and exposed to Pixi."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from conda_pixi_backends.commands import SUMMARIES, common, results


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "install",
        parents=[parent],
        help=SUMMARIES["install"],
        description=(
            "Install each build backend once into a shared environment, write a launcher for it "
            "and the activation scripts that hand it to Pixi. With neither SPEC nor --manifest, "
            "the manifest is found from the current folder upward, as Pixi does."
        ),
    )
    parser.add_argument(
        "specs", nargs="*", metavar="SPEC", help="a MatchSpec, e.g. 'pixi-build-python 0.8.*'"
    )
    add_request_flags(parser)
    parser.add_argument("--force", action="store_true", help="reinstall even if already installed")
    common.add_lock_flags(parser)
    common.add_offline_flag(parser)
    parser.add_argument(
        "--dry-run", action="store_true", help="show the plan; solve, download and write nothing"
    )
    common.add_json_flag(parser)
    parser.set_defaults(func=run)


def add_request_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that shape requests: manifests, channels, platform."""
    common.add_manifest_flag(parser)
    parser.add_argument(
        "-c", "--channel", action="append", default=[], metavar="URL",
        help="a channel to search first (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--override-channels", action="store_true", help="search only the --channel channels"
    )
    parser.add_argument(
        "--platform", metavar="P", help="the platform to install for (default: this machine's)"
    )


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends import overrides, plan, provision
    from conda_pixi_backends import store as store_module
    from conda_pixi_backends.errors import UserInputError

    if args.override_channels and not args.channel:
        raise UserInputError("--override-channels needs at least one --channel")
    overridden = overrides.from_environ()
    cfg = common.settings(args, offline=args.offline)
    store, shared = store_module.stores_for(cfg)
    found = common.declarations(args.specs, args.manifest, cfg)
    requests = plan.requests_for(
        found.declarations, cfg, args.channel, override_channels=args.override_channels
    )
    progress = sys.stderr.isatty() and not args.json
    locked = args.locked or args.lock_file is not None
    lock_file = plan.lock_file_for(args.manifest, args.lock_file) if locked else None
    entries = provision.provision(
        store, requests, overridden, force=args.force, dry_run=args.dry_run, progress=progress,
        fetch=cfg.fetch(), lock_file=lock_file, shared=shared,
    )  # fmt: skip
    for conflict in plan.conflicts(requests):
        print(f"warning: {conflict.describe()}; it gets the last one", file=sys.stderr)
    results.report(store, entries, found.unresolved, as_json=args.json, dry_run=args.dry_run)
    return 0
