"""`install`: the backends that manifests or SPECs ask for, installed once and exposed to Pixi."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conda_pixi_backends.commands import common

if TYPE_CHECKING:
    from collections.abc import Sequence

    from conda_pixi_backends.discovery import Unresolved
    from conda_pixi_backends.plan import Entry
    from conda_pixi_backends.store import Store


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "install",
        parents=[parent],
        help="install the backends that manifests or SPECs ask for, and expose them to Pixi",
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
    add_lock_flags(parser)
    add_offline_flag(parser)
    parser.add_argument(
        "--dry-run", action="store_true", help="show the plan; solve, download and write nothing"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def add_lock_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--locked", action="store_true",
        help="install exactly the lock file's packages, no solve; exit 2 if it lacks a backend",
    )  # fmt: skip
    parser.add_argument(
        "--lock-file", type=Path, metavar="PATH",
        help="the lock file; implies --locked (default: the nearest pixi-backends.lock from the "
        "manifest's folder upward)",
    )  # fmt: skip


def add_offline_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--offline", action="store_true", default=None,
        help="use cached repodata and the package cache only (setting 'offline')",
    )  # fmt: skip


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
    from conda_pixi_backends import overrides, plan
    from conda_pixi_backends.errors import UserInputError

    if args.override_channels and not args.channel:
        raise UserInputError("--override-channels needs at least one --channel")
    overridden = overrides.from_environ()
    cfg = common.settings(args, offline=args.offline)
    store, shared = plan.stores_for(cfg)
    found = common.declarations(args.specs, args.manifest, cfg)
    requests = plan.requests_for(found.declarations, cfg, args.channel, args.override_channels)
    progress = sys.stderr.isatty() and not args.json
    locked = args.locked or args.lock_file is not None
    lock_file = plan.lock_file_for(args.manifest, args.lock_file) if locked else None
    entries = plan.provision(
        store, requests, overridden, args.force, args.dry_run, progress,
        plan.Fetch.from_settings(cfg), lock_file, shared,
    )  # fmt: skip
    for conflict in plan.conflicts(requests):
        print(f"warning: {conflict.describe()}; it gets the last one", file=sys.stderr)
    report(store, entries, args.json, found.unresolved)
    return 0


def entry_json(store: Store, entry: Entry) -> dict[str, Any]:
    """One backend of the result, as `--json` prints it."""
    from conda_pixi_backends import exposure, plan

    request, record, override = entry.request, entry.record, entry.override
    executables: list[str] = []
    if override is not None:
        resolved = override.resolve()
        executables = [resolved] if resolved else []
    elif record is not None and record.executable:
        executables = [str(exposure.launcher_path(store, request.name))]
    package = record.package(request.name) if record else None
    return {
        "name": request.name,
        "spec": request.spec,
        "channels": list(request.channels),
        "platform": request.platform,
        "status": entry.status,
        "key": request.key,
        "prefix": None if override else record.prefix if record else str(store.prefix(request)),
        "version": package["version"] if package else None,
        "executables": executables,
        "override": None
        if override is None
        else {"variable": override.variable, "value": override.path},
        "manifests": plan.manifest_sources(request.sources),
    }


def unresolved_json(unresolved: Sequence[Unresolved]) -> list[dict[str, str]]:
    """Source dependencies Pixi will build with a backend that only fetching them can tell."""
    return [
        {"name": u.name, "kind": u.kind, "location": u.location, "declared_in": u.where}
        for u in unresolved
    ]


def report(
    store: Store, entries: list[Entry], as_json: bool, unresolved: Sequence[Unresolved] = ()
) -> None:
    """A line per backend and how to activate them, or one JSON object. Unresolved source
    dependencies are warned about on stderr (in JSON: a top-level `unresolved` list)."""
    rows = [entry_json(store, e) for e in entries]
    if as_json:
        result = {
            "root": str(store.root),
            "backends": rows,
            "unresolved": unresolved_json(unresolved),
        }
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    for u in unresolved:
        print(
            f"warning: {u.where}: {u.name} is built from {u.kind} {u.location}; its backend is "
            "not known without fetching it: name it inline (package.build.backend) to install it",
            file=sys.stderr,
        )
    if not rows:
        print("No backends requested.")
        return
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        status = row["status"].replace("-", " ")
        where = row["executables"][0] if row["executables"] else "(not found on PATH)"
        if row["status"] == "would-install":
            where = row["prefix"]
        detail = f"{where}  [{row['override']['variable']}]" if row["override"] else where
        version = f"  ({row['version']})" if row["version"] else ""
        print(f"{row['name']:<{width}}  {status:<17} {detail}{version}")
    if any(r["status"] in ("installed", "already-installed") for r in rows):
        print(
            "\nTo hand these backends to Pixi in this shell:\n"
            '    eval "$(conda pixi-backend shell-hook)"\n'
            "or in every new shell, add to ~/.bashrc:\n"
            f"    . {shlex.quote(str(store.activate / 'activate.bash'))}"
        )
