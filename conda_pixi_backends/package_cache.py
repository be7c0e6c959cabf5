"""The package cache (`<root>/pkgs`): which entries no environment uses, and `gc`'s sweep.

Environments hardlink their files from the cache, so an entry is needed only while some
environment's metadata names its package. The sweep runs under py-rattler's own cache lock
(`pkgs/.cache.lock`), so that no install is reading or filling the cache meanwhile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from conda_pixi_backends.sizes import freed_bytes

if TYPE_CHECKING:
    from collections.abc import Iterable

    from conda_pixi_backends.store import EnvRecord, Store

#: How long the sweep waits for py-rattler's package-cache lock before leaving the cache alone.
LOCK_WAIT = 10.0
BUSY = "the package cache is in use by an install; left as it is"
_ARCHIVE = re.compile(r"(.+)\.(conda|tar\.bz2)")
#: py-rattler may add a hash of the origin to an entry's folder name.
_ORIGIN_HASH = re.compile(r"(.+)-[0-9a-f]{64}")


def package_key(entry: str) -> str:
    """The `name-version-build` a package-cache entry stands for."""
    match = _ORIGIN_HASH.fullmatch(entry)
    return match.group(1) if match else entry


def used_packages(records: Iterable[EnvRecord]) -> set[str]:
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


def unused_entries(store: Store, used: set[str]) -> dict[str, list[Path]]:
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


@dataclass
class Sweep:
    """What a sweep removed (or, dry, would remove): entries by name, each with its paths."""

    entries: dict[str, list[Path]] = field(default_factory=dict)
    #: Bytes freed; 0 in a dry run, where the caller counts once over everything it removes.
    freed: int = 0
    #: Why the cache was left alone (an install held its lock), else None.
    note: str | None = None

    @property
    def paths(self) -> list[Path]:
        return [p for group in self.entries.values() for p in group]

    def folders(self) -> list[tuple[str, Path]]:
        """Each entry with the path that stands for it: its folder, else what there is."""
        return [
            (name, next((p for p in group if not p.name.endswith(".lock")), group[0]))
            for name, group in self.entries.items()
        ]


def sweep(store: Store, *, leaving: set[str], dry_run: bool) -> Sweep:
    """Remove (or, dry, find) the entries that no environment uses once those named in
    `leaving` are gone. The store is read under the cache lock; if an install holds it longer
    than `LOCK_WAIT`, nothing is touched and the result says so."""
    from conda_pixi_backends.errors import OperationError
    from conda_pixi_backends.locks import Timeout, hold

    result = Sweep()
    if not store.pkgs.is_dir():
        return result
    try:
        with hold(store.pkgs / ".cache.lock", LOCK_WAIT):
            left = [r for env, r in store.scan()[0].items() if env not in leaving]
            result.entries = unused_entries(store, used_packages(left))
            if not dry_run:
                result.freed = freed_bytes(result.paths)
                for path in result.paths:
                    store.remove_tree(path)
    except Timeout:
        result.note = BUSY
    except OSError as exc:
        raise OperationError(
            f"cannot clean the package cache {store.pkgs}: {exc.strerror or exc}"
        ) from None
    return result
