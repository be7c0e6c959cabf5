"""`gc`: remove the backend environments and package-cache entries that nothing keeps.

An environment is kept when it is exposed, when a manifest recorded in its metadata still exists
and still asks for its request (read again with today's settings), when the settings'
`backends` ask for it, or when it was used within `--older-than` days. Incomplete folders go
unless an install holds their lock; so do orphaned prefixes (named like an environment whose
metadata now names another prefix, left by a reinstall that died at its switch). Prefixes a
reinstall or `update` retired go after their grace period, once the launchers are rewritten
from the metadata (so that none names them).
Package-cache entries go when no remaining environment's metadata names them, under
py-rattler's own cache lock so that no install is using the cache.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conda_pixi_backends import cleanup
from conda_pixi_backends.commands import common

if TYPE_CHECKING:
    from conda_pixi_backends.settings import Settings
    from conda_pixi_backends.store import EnvRecord, Store

BUSY = "being installed (its lock is held)"
#: How long gc waits for py-rattler's package-cache lock before leaving the cache alone.
CACHE_LOCK_WAIT = 10.0
_ARCHIVE = re.compile(r"(.+)\.(conda|tar\.bz2)")
#: py-rattler may add a hash of the origin to an entry's folder name.
_ORIGIN_HASH = re.compile(r"(.+)-[0-9a-f]{64}")


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "gc",
        parents=[parent],
        help="remove backend environments and cached packages that nothing keeps",
        description=(
            "Remove backend environments that are not exposed, not asked for by an existing "
            "manifest or by the 'backends' setting, and not used within --older-than days; "
            "incomplete environments no install is working on; and package-cache entries no "
            "remaining environment uses."
        ),
    )
    parser.add_argument(
        "--older-than", type=common.number("days", 0, common.MAX_DAYS), default=30.0,
        metavar="DAYS", help="keep environments used within this many days (default: 30)",
    )  # fmt: skip
    common.add_removal_flags(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def _free(store: Store, prefix: Path, dry_run: bool) -> bool:
    """No install holds the lock of the environment `prefix` belongs to. A dry run writes
    nothing, not even a lock file: no lock file, no install holding it."""
    from filelock import Timeout

    from conda_pixi_backends.commands.remove import lock_name

    name = lock_name(prefix.name)
    if dry_run and not (store.locks / f"{name}.lock").exists():
        return True
    try:
        with store.lock(name, timeout=0):
            return True
    except (Timeout, OSError):
        return False


def package_key(entry: str) -> str:
    """The `name-version-build` a package-cache entry stands for."""
    match = _ORIGIN_HASH.fullmatch(entry)
    return match.group(1) if match else entry


def used_packages(records: list[EnvRecord]) -> set[str]:
    """`name-version-build` of every package the environments were installed from."""
    used = set()
    for record in records:
        for package in record.packages:
            filename = package.get("url", "").rsplit("/", 1)[-1]
            match = _ARCHIVE.fullmatch(filename)
            if match:
                used.add(match.group(1))
            used.add(f"{package['name']}-{package['version']}-{package['build']}")
    return used


def unused_cache_entries(store: Store, used: set[str]) -> dict[str, list[Path]]:
    """Package-cache entries no environment uses: each with its folder, `.lock` file and any
    archive. Dot files (py-rattler's `.cache.lock`) and anything unrecognised stay."""
    entries: dict[str, list[Path]] = {}
    try:
        items = sorted(store.pkgs.iterdir())
    except OSError:
        return {}
    for item in items:
        name = item.name
        if name.startswith("."):
            continue
        archive = _ARCHIVE.fullmatch(name)
        if item.is_dir() and not item.is_symlink():
            base = name
        elif name.endswith(".lock") and item.is_file():
            base = name[: -len(".lock")]
        elif archive and item.is_file():
            base = archive.group(1)
        else:
            continue
        if package_key(base) not in used:
            entries.setdefault(base, []).append(item)
    return entries


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends.commands.list_ import human
    from conda_pixi_backends.plan import stores_for

    settings = common.settings(args)
    store = stores_for(settings)[0]
    if common.would_ask(args):
        preview = collect(argparse.Namespace(**{**vars(args), "dry_run": True}), settings, store)
        lines = [f"{row['kind']}: {row.get('env') or row['name']}" for row in preview["removed"]]
        if not common.ask(lines, human(preview["bytes_freed"])):
            return 0
    result = collect(args, settings, store)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    verb = "would remove" if args.dry_run else "removed"
    for row in result["removed"]:
        label = row.get("env") or row["name"]
        if row["kind"] == "environment":
            label = f"{row['name']} ({row['key']})"
        print(f"{verb} {row['kind']}: {label}  {row['path']}")
    for row in result["kept"]:
        why = ", ".join(cleanup.reason_text(r) for r in row["reasons"])
        print(f"kept {row['name']} ({row['key']}): {why}")
    for row in result["retired"]:
        print(
            f"kept retired {row['env']} ({human(row['size'])}) for launchers started before its "
            f"update, until {row['until']}"
        )
    for row in result["skipped"]:
        print(f"skipped {row['env']}: {row['reason']}")
    if result["package_cache"]:
        print(f"package cache: {result['package_cache']}")
    print(f"{'Would free' if args.dry_run else 'Freed'} {human(result['bytes_freed'])}.")
    return 0


def collect(args: argparse.Namespace, settings: Settings, store: Store) -> dict[str, Any]:
    """What gc removes (with `args.dry_run`: would remove), keeps and skips, and why."""
    from filelock import FileLock, Timeout

    from conda_pixi_backends.commands import remove
    from conda_pixi_backends.commands.list_ import freed_bytes
    from conda_pixi_backends.errors import OperationError

    keepers = cleanup.Keepers(settings)
    cutoff = cleanup.recent_cutoff(args.older_than)
    complete, incomplete = store.scan() if store.envs.is_dir() else ({}, [])
    exposed = store.exposed()
    status = "would-remove" if args.dry_run else "removed"
    kept: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    targets: list[remove.Target] = []
    for env, record in complete.items():
        reasons = keepers.reasons(env, record, exposed, cutoff)
        if reasons:
            kept.append({"env": env, "name": record.name, "key": record.key, "reasons": reasons})
        else:
            targets.append(remove.Target(env, Path(record.prefix), record))
    stale: list[remove.Target] = []
    for env in incomplete:
        try:
            # A dry run writes nothing, not even a lock file: no lock file, no install holding it.
            lock = remove.lock_name(env)
            if args.dry_run and not (store.locks / f"{lock}.lock").exists():
                stale.append(remove.Target(env, store.envs / env))
                continue
            with store.lock(lock, timeout=0):
                stale.append(remove.Target(env, store.envs / env))
        except Timeout:
            skipped.append({"env": env, "reason": BUSY})
        except OSError as exc:
            raise OperationError(f"cannot lock {env} in {store.root}: {exc.strerror}") from None

    def changed(seen: EnvRecord, fresh: EnvRecord) -> bool:
        """Spare what was used (or reinstalled) since we looked."""
        return (fresh.last_used, fresh.created) != (seen.last_used, seen.created)

    if args.dry_run:
        gone = [*targets, *stale]
    elif targets or stale:
        gone, freed_envs = remove.delete(store, [*targets, *stale], keep=changed)
        for env in sorted({t.env for t in [*targets, *stale]} - {t.env for t in gone}):
            skipped.append({"env": env, "reason": "used or exposed while gc ran"})
    else:
        gone, freed_envs = [], 0
    removed: list[dict[str, Any]] = [
        {
            "kind": "environment" if t.record else "incomplete",
            "status": status,
            "env": t.env,
            "name": t.record.name if t.record else None,
            "key": t.record.key if t.record else None,
            "path": str(t.path),
            "last_used": t.record.last_used if t.record else None,
        }
        for t in gone
    ]

    # Prefixes a reinstall or `update` replaced, once their grace period for running launchers
    # is over, and orphaned ones no install is working on. Under the `exposure` lock, after the
    # launchers are rewritten from the metadata (healing a switch that died before its rewrite),
    # so that no launcher names what goes.
    retired: list[Path] = []
    orphans: list[Path] = []
    freed_retired = 0
    if store.envs.is_dir():
        grace = cleanup.GRACE_PERIOD
        if args.dry_run:
            retired = cleanup.retired_prefixes(store, grace)
            for prefix in store.orphans():
                if _free(store, prefix, dry_run=True):
                    orphans.append(prefix)
                else:
                    skipped.append({"env": prefix.name, "reason": BUSY})
        else:
            try:
                with store.lock("exposure"):
                    from conda_pixi_backends import exposure

                    if store.bin.is_dir():
                        exposure.refresh(store, store.exposed())
                    freed_retired = freed_bytes(cleanup.retired_prefixes(store, grace))
                    retired = store.sweep_retired(grace)
                    for prefix in store.orphans():
                        try:
                            with store.lock(remove.lock_name(prefix.name), timeout=0):
                                if prefix in store.orphans():  # still: no install claimed it
                                    freed_retired += freed_bytes([prefix])
                                    store.remove_tree(prefix)
                                    orphans.append(prefix)
                        except Timeout:
                            skipped.append({"env": prefix.name, "reason": BUSY})
            except OSError as exc:
                raise OperationError(
                    f"cannot clean {exc.filename or store.envs}: {exc.strerror or exc}"
                ) from None
        removed += [
            {"kind": "retired", "status": status, "env": p.name, "path": str(p)} for p in retired
        ]
        removed += [
            {"kind": "orphaned", "status": status, "env": p.name, "path": str(p)} for p in orphans
        ]

    # The package cache, under py-rattler's own lock: entries that no environment left uses.
    cache_note = None
    entries: dict[str, list[Path]] = {}
    cache_paths: list[Path] = []
    freed_cache = 0
    if store.pkgs.is_dir():
        lock = FileLock(store.pkgs / ".cache.lock", timeout=CACHE_LOCK_WAIT, thread_local=False)
        try:
            with lock:
                gone_names = {t.env for t in gone}
                left = [r for env, r in store.scan()[0].items() if env not in gone_names]
                entries = unused_cache_entries(store, used_packages(left))
                cache_paths = [p for group in entries.values() for p in group]
                if not args.dry_run:
                    freed_cache = freed_bytes(cache_paths)
                    for path in cache_paths:
                        store.remove_tree(path)
        except Timeout:
            cache_note = "the package cache is in use by an install; left as it is"
        except OSError as exc:
            raise OperationError(
                f"cannot clean the package cache {store.pkgs}: {exc.strerror or exc}"
            ) from None
        for name, group in entries.items():
            folder = next((p for p in group if not p.name.endswith(".lock")), group[0])
            removed.append({"kind": "package", "status": status, "name": name, "path": str(folder)})
    if args.dry_run:  # one count, so files linked from both an environment and the cache count
        freed = freed_bytes([*(t.path for t in gone), *retired, *orphans, *cache_paths])
    else:
        freed = freed_envs + freed_retired + freed_cache

    waiting = cleanup.waiting(store) if store.envs.is_dir() else []
    return {
        "root": str(store.root),
        "dry_run": args.dry_run,
        "older_than_days": args.older_than,
        "removed": removed,
        "kept": kept,
        "retired": [r.row(freed_bytes([r.prefix])) for r in waiting],
        "skipped": skipped,
        "package_cache": cache_note,
        "bytes_freed": freed,
    }
