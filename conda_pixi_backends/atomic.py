"""Writing files atomically: each goes to a temporary file beside it, which is renamed over it.

A reader never sees half a file, and a failure (a full disk, a quota, permissions, Ctrl-C)
leaves every file with its old content and no temporary file behind. The store's files, the
YAML settings files `config set` edits and lock files are all written here.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from conda_pixi_backends.errors import OperationError

if TYPE_CHECKING:
    from collections.abc import Sequence

#: What a file gets: text (written as UTF-8, line ends as given), bytes, or a function that
#: writes the temporary file at the path it is given (for a library that writes only to a path).
Content = str | bytes | Callable[[Path], object]

#: The default message of a failed write; `path` is the file as the caller named it.
CANNOT_WRITE = "cannot write {path}: {reason}"


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Read once, at import: os.umask can only be read by setting it, which threads would race.
_UMASK = _read_umask()


def atomic_write(
    path: Path,
    content: Content,
    mode: int | None = None,
    *,
    follow_symlinks: bool = False,
    keep_mode: bool = False,
    fsync: bool = False,
    error: str = CANNOT_WRITE,
) -> None:
    """Write one file through a temporary file and a rename (see `write_all`)."""
    write_all(
        [(path, content, mode)],
        follow_symlinks=follow_symlinks,
        keep_mode=keep_mode,
        fsync=fsync,
        error=error,
    )


def write_all(
    files: Sequence[tuple[Path, Content, int | None]],
    *,
    follow_symlinks: bool = False,
    keep_mode: bool = False,
    fsync: bool = False,
    error: str = CANNOT_WRITE,
) -> None:
    """Write files so that readers never see half a file, and all or none of them change.

    Every file is written to a temporary file beside it first; only when all are written (the
    disk had room for all) are they renamed into place, which needs no room. A failed write
    removes the temporary files and is an OperationError naming the file (`error`, formatted
    with `path` and `reason`): every file keeps its old content.

    A file gets `mode` (default 0o666) less the umask, like any file created with open():
    mkstemp's private 0o600 would hide a shared store's scripts and metadata from its users.
    With `keep_mode`, an existing file keeps its permission bits, and its owner where allowed
    (root editing another user's file). With `follow_symlinks`, a symlink is written through:
    the file it names changes (or is created), the link stays. With `fsync`, each file's
    content is on disk before the renames.
    """
    staged: list[tuple[str, Path]] = []
    current = files[0][0] if files else None
    try:
        for path, content, mode in files:
            current = path
            # A link to nothing resolves to the file it names, which is then created.
            target = Path(os.path.realpath(path)) if follow_symlinks else path
            existing = _existing(target) if keep_mode else None
            target.parent.mkdir(parents=True, exist_ok=True)
            import tempfile  # here: a command that writes nothing need not load it

            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            staged.append((tmp, target))
            if callable(content):
                os.close(fd)
                content(Path(tmp))
            else:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(content.encode("utf-8") if isinstance(content, str) else content)
                    if fsync:
                        handle.flush()
                        os.fsync(handle.fileno())
            _set_mode(tmp, existing, mode)
        for (tmp, target), (path, _, _) in zip(staged, files, strict=True):
            current = path
            os.replace(tmp, target)
    except BaseException as exc:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OperationError(error.format(path=current, reason=exc.strerror or exc)) from None
        raise


def _existing(target: Path) -> os.stat_result | None:
    try:
        return os.stat(target)
    except FileNotFoundError:
        return None


def _set_mode(tmp: str, existing: os.stat_result | None, mode: int | None) -> None:
    if existing is None:
        os.chmod(tmp, (0o666 if mode is None else mode) & ~_UMASK)
        return
    os.chmod(tmp, stat.S_IMODE(existing.st_mode))
    owner = (existing.st_uid, existing.st_gid)
    if hasattr(os, "getuid") and owner != (os.getuid(), os.getgid()):
        with contextlib.suppress(OSError):  # root editing another's file keeps its owner
            os.chown(tmp, *owner)
