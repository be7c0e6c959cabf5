"""`bundle`: the packages a lock file pins, written as a conda channel folder to carry to a site
with no network (see `conda_pixi_backends.bundle`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from conda_pixi_backends.commands import SUMMARIES, common

if TYPE_CHECKING:
    from conda_pixi_backends.bundle import PackageRow


class BundleResult(TypedDict):
    """What `bundle --json` prints."""

    outdir: str
    #: OUTDIR as a channel URL (`file://...`).
    channel: str
    #: The lock file the bundle was made from.
    lock_file: str
    #: Whether that lock file was written by this run (there was none).
    locked_now: bool
    platforms: list[str]
    #: The backend environments (`<name>-<key>`) the bundle serves.
    environments: list[str]
    added: list[PackageRow]
    reused: list[PackageRow]
    added_bytes: int
    reused_bytes: int


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "bundle",
        parents=[parent],
        help=SUMMARIES["bundle"],
        description=(
            "Download exactly the packages the lock file pins for every backend request of the "
            "manifests and of the 'backends' setting (locking first when there is no lock file), "
            "each once and checked against its sha256, into OUTDIR as a conda channel: "
            "<subdir>/ folders, repodata, pixi-backends.lock, bundle.lock (the same packages "
            "with the bundle as channel) and bundle.json (what is inside). Running it again adds "
            "only what is missing."
        ),
    )
    parser.add_argument("outdir", type=Path, metavar="OUTDIR", help="the bundle's folder")
    common.add_manifest_flag(parser)
    parser.add_argument(
        "--lock-file", type=Path, metavar="PATH",
        help="the lock file (default: the nearest pixi-backends.lock from the manifest's folder "
        "upward; written first if there is none)",
    )  # fmt: skip
    parser.add_argument(
        "--platform", action="append", default=[], metavar="P", dest="platforms",
        help="a platform to bundle for (repeatable; default: setting 'platform')",
    )  # fmt: skip
    common.add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends import bundle, plan
    from conda_pixi_backends.configuration import load
    from conda_pixi_backends.errors import command
    from conda_pixi_backends.sizes import human

    bundle.checked_outdir(args.outdir)  # before anything is locked or written
    workspace = common.workspace_root(args.manifest)
    loaded = load({"root": args.root}, workspace=workspace)
    platforms = common.platforms(args.platforms, loaded.settings.platform)
    requests = plan.lock_requests(args.manifest, platforms, loaded)
    lock_file, locked_now = bundle.lock_file_for(
        args.manifest, args.lock_file, requests, platforms, loaded.settings
    )
    if locked_now and not args.json:
        print(f"Locked {len(requests)} backend environment(s) in {lock_file}", flush=True)
    progress = sys.stderr.isatty() and not args.json
    done = bundle.bundle(
        args.outdir, requests, lock_file, loaded.settings.fetch(), progress=progress
    )
    added = sum(p.size for p in done.added)
    reused = sum(p.size for p in done.reused)
    if args.json:
        result: BundleResult = {
            "outdir": str(done.outdir),
            "channel": done.channel,
            "lock_file": str(lock_file),
            "locked_now": locked_now,
            "platforms": platforms,
            "environments": done.environments,
            "added": [p.row() for p in done.added],
            "reused": [p.row() for p in done.reused],
            "added_bytes": added,
            "reused_bytes": reused,
        }
        common.print_json(result)
        return 0
    print(
        f"Bundled {len(done.packages)} package(s) for {len(done.environments)} backend "
        f"environment(s) in {done.outdir}: {len(done.added)} added ({human(added)}), "
        f"{len(done.reused)} already there ({human(reused)})"
    )
    print(
        f"Install from it with: {command()} install --locked --lock-file "
        f"{done.outdir / bundle.BUNDLE_LOCK} -c {done.channel} --override-channels --offline"
    )
    return 0
