"""`lock`: write the exact packages of every backend request to a lock file.

The file is in rattler's lock-file format (the one pixi.lock uses), written by py-rattler: one
lock environment per request, named `<name>-<key>` (the key includes the platform, so each
platform's request has its own environment). `install --locked` and `sync --locked` install
exactly these records, with no solve.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TypedDict

from conda_pixi_backends.commands import SUMMARIES, common


class LockedRow(TypedDict):
    """One locked environment, as `lock --json` prints it in `environments`."""

    environment: str
    name: str
    spec: str
    platform: str
    key: str
    channels: list[str]
    version: str | None
    #: name, version, build, channel, subdir, url, sha256 of each package
    packages: list[dict[str, str]]


class LockResult(TypedDict):
    """What `lock --json` prints."""

    lock_file: str
    platforms: list[str]
    environments: list[LockedRow]


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "lock",
        parents=[parent],
        help=SUMMARIES["lock"],
        description=(
            "Solve every backend request of the manifests (default: the one found from here "
            "upward) and of the 'backends' setting, for each --platform, and write the exact "
            "packages in rattler's lock-file format, for `install --locked`."
        ),
    )
    common.add_manifest_flag(parser)
    parser.add_argument(
        "--platform", action="append", default=[], metavar="P", dest="platforms",
        help="a platform to lock for (repeatable; default: setting 'platform')",
    )  # fmt: skip
    parser.add_argument(
        "-o", "--lock-file", type=Path, metavar="PATH",
        help="where to write (default: pixi-backends.lock beside the manifest, else here)",
    )  # fmt: skip
    common.add_offline_flag(parser)
    common.add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends import plan
    from conda_pixi_backends.configuration import load
    from conda_pixi_backends.store import stores_for

    workspace = common.workspace_root(args.manifest)
    loaded = load({"root": args.root, "offline": args.offline}, workspace=workspace)
    cfg = loaded.settings
    platforms = common.platforms(args.platforms, cfg.platform)
    requests = plan.lock_requests(args.manifest, platforms, loaded)
    path = plan.lock_file_for(args.manifest, args.lock_file, write=True)

    from conda_pixi_backends import installer, lock_files

    store = stores_for(cfg)[0]
    solved = installer.solve(store, requests, cfg.fetch()) if requests else []
    lock_files.write_lock(path, platforms, requests, solved)
    rows: list[LockedRow] = []
    for request, records in zip(requests, solved, strict=True):
        packages = installer.package_rows(records)
        own = next((p for p in packages if p["name"] == request.name), None)
        rows.append(
            {
                "environment": request.env_name,
                "name": request.name,
                "spec": request.spec,
                "platform": request.platform,
                "key": request.key,
                "channels": list(request.channels),
                "version": own["version"] if own else None,
                "packages": packages,
            }
        )
    if args.json:
        result: LockResult = {"lock_file": str(path), "platforms": platforms, "environments": rows}
        common.print_json(result)
        return 0
    print(f"Locked {len(rows)} backend environment(s) for {', '.join(platforms)} in {path}")
    width = max((len(r["name"]) for r in rows), default=0)
    for row in rows:
        print(
            f"  {row['name']:<{width}}  {row['version']}  {row['platform']}  "
            f"({len(row['packages'])} packages, {row['environment']})"
        )
    return 0
