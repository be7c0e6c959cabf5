"""Inter-process locks on files: `fcntl.flock` on POSIX, `msvcrt.locking` on Windows.

Our own rather than filelock's: importing filelock 4 takes about 15 ms, a tenth of what a new
environment from a warm package cache costs in all, for what is here three system calls. A
lock belongs to its open file, not to a thread: two holds in one process exclude each other,
and a lock ends when the process does, however it ends. Lock files stay in place, so that every
waiter locks the same file.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: How often a waiter tries again.
POLL = 0.05


class Timeout(TimeoutError):
    """The lock is held elsewhere, and the time given to wait for it ran out."""


@contextmanager
def hold(path: Path, timeout: float = -1) -> Iterator[None]:
    """Hold the lock of `path` (created if missing): wait for it without end (`timeout` < 0),
    for `timeout` seconds, or not at all (0), then raise `Timeout`."""
    # Never through a symlink: a link planted among the locks must not create a file elsewhere.
    flags = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | flags, 0o666)
    except PermissionError:
        # Another user's lock file in a shared store: locking needs no write access.
        fd = os.open(path, os.O_RDONLY | flags)
    try:
        deadline = time.monotonic() + timeout
        while not _try_lock(fd):
            if timeout >= 0 and deadline <= time.monotonic():
                raise Timeout(f"{path} is held by another process")
            time.sleep(POLL)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


if sys.platform == "win32":  # pragma: no cover - Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:  # held elsewhere
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # held elsewhere; any other error is the caller's
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
