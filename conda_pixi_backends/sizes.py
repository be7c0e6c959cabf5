"""Sizes on disk: what files take and what deleting them gives back, hardlinks counted once.

Environments hardlink their files from the package cache, so a file's bytes are freed only
when its last link goes: sizes are summed per inode, never per path.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

#: (device, inode): one file, however many links it has.
Inode = tuple[int, int]


def walk(top: Path | str) -> Iterable[tuple[Inode, int, int]]:
    """(inode, size, link count) of every file and symlink below `top` (or of `top` itself when
    it is no folder); symlinks are not followed."""
    try:
        st = os.lstat(top)
    except OSError:
        return
    if not stat.S_ISDIR(st.st_mode):
        yield (st.st_dev, st.st_ino), st.st_size, st.st_nlink
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
                yield (st.st_dev, st.st_ino), st.st_size, st.st_nlink


def freed_bytes(paths: Iterable[Path]) -> int:
    """What deleting these files and folders gives back: a file's bytes count only when every
    one of its hardlinks is among them (a package file still linked from elsewhere stays)."""
    found: dict[Inode, list[int]] = {}
    for path in paths:
        for inode, size, nlink in walk(path):
            seen = found.setdefault(inode, [0, nlink, size])
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
