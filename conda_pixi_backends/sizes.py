"""Sizes on disk: what files take and what deleting them gives back, hardlinks counted once.

Environments hardlink their files from the package cache, so a file's bytes are freed only
when its last link goes: sizes are summed per inode, never per path.
"""

from __future__ import annotations

import contextlib
import os
import stat
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

#: One file, however many links it has: its device and inode in one int (`st_dev << 64 |
#: st_ino`), which hashes, compares and is read back from JSON faster than a pair.
Inode = int


def inode(st: os.stat_result) -> Inode:
    return st.st_dev << 64 | st.st_ino


def walk(top: Path | str) -> Iterable[tuple[Inode, int, int]]:
    """(inode, size, link count) of every file and symlink below `top` (or of `top` itself when
    it is no folder); symlinks are not followed."""
    try:
        st = os.lstat(top)
    except OSError:
        return
    if not stat.S_ISDIR(st.st_mode):
        yield inode(st), st.st_size, st.st_nlink
        return
    stack = [os.fspath(top)]
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                        continue
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                yield inode(st), st.st_size, st.st_nlink


def freed_bytes(paths: Iterable[Path]) -> int:
    """What deleting these files and folders gives back: a file's bytes count only when every
    one of its hardlinks is among them (a package file still linked from elsewhere stays)."""
    found: dict[Inode, list[int]] = {}
    for path in paths:
        for file, size, nlink in walk(path):
            seen = found.setdefault(file, [0, nlink, size])
            seen[0] += 1
    return sum(size for count, nlink, size in found.values() if count >= nlink)


def human(size: int) -> str:
    """`512 B`, `1.5 kB`, `2.0 GB`: decimal units, as `du --si` shows them."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"  # pragma: no cover - unreachable


#: The format of `WalkCache`'s file; a file of another is walked again and replaced.
WALKS_FORMAT = 2


class WalkCache:
    """Walks of folders whose files do not change once written (an environment's prefix, an
    extracted package), remembered in one file: `list` then reads one file instead of
    stat-ing every file of every environment and of the package cache each time.

    A walk is reused only while the folder's stamp (what identifies its content: for a prefix,
    the install that made it; for a package folder, its own inode and mtime) is unchanged, and
    the device it is on too (inode numbers only compare within one boot of one device). The file
    is rewritten only when something changed, and a store this user cannot write (a shared
    one) simply keeps walking.
    """

    def __init__(self, path: Path) -> None:
        import json

        self.path = path
        self.entries: dict[str, list[Any]] = {}
        self.used: set[str] = set()
        self.changed = False
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("version") == WALKS_FORMAT:
                self.entries = data["walks"]
        except (OSError, ValueError, KeyError, TypeError):
            pass  # no cache yet, or a broken one: walk, and write a new one

    def walk(self, top: Path, stamp: str) -> dict[Inode, int]:
        """The size of every file below `top` by inode: remembered, or walked now. Kept as
        one flat list, `[inode, size, inode, size, ...]`: a third of the time to read back."""
        key = str(top)
        self.used.add(key)
        try:
            info = os.lstat(top)
        except OSError:
            return {}
        stamp = f"{info.st_dev}:{info.st_ino}:{stamp}"
        entry = self.entries.get(key)
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == stamp:
            flat = entry[1]
            if isinstance(flat, list) and len(flat) % 2 == 0 and set(map(type, flat)) <= {int}:
                pairs = iter(flat)
                return dict(zip(pairs, pairs, strict=True))
        files = {file: size for file, size, _ in walk(top)}
        self.entries[key] = [stamp, [n for pair in files.items() for n in pair]]
        self.changed = True
        return files

    def save(self) -> None:
        """Write the walks used this time (others are of folders gone since), if any changed."""
        import json

        from conda_pixi_backends.atomic import atomic_write
        from conda_pixi_backends.errors import OperationError

        if not self.changed and self.used == set(self.entries):
            return
        self.entries = {k: v for k, v in self.entries.items() if k in self.used}
        self.changed = False
        text = json.dumps({"version": WALKS_FORMAT, "walks": self.entries}, separators=(",", ":"))
        with contextlib.suppress(OperationError, OSError):  # read-only: walk again next time
            if self.path.parent.is_dir():
                atomic_write(self.path, text)
