"""Reading a manifest file: only a regular file of sane size, as UTF-8, with one-line errors."""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from conda_pixi_backends.errors import UserInputError

if TYPE_CHECKING:
    from pathlib import Path

#: Manifests larger than this are refused rather than read: no real manifest comes near it.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024


def read_text(path: Path) -> str:
    """A manifest's text. Only regular files are read: a FIFO or a device given as a manifest
    is refused at once instead of being waited on or read without end."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise UserInputError(f"{path}: not a regular file")
        if info.st_size > MAX_MANIFEST_BYTES:
            raise UserInputError(f"{path}: {info.st_size} bytes: too large for a manifest")
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserInputError(f"{path}: no such file") from None
    except OSError as e:
        raise UserInputError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UserInputError(f"{path}: not valid UTF-8 (byte {e.start})") from None
