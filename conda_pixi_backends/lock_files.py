"""Lock files: rattler's format (as pixi.lock's), one lock environment per request key, so that
`install --locked` installs exactly the packages `lock` solved, with no solve.

Imported only by the commands that read or write a lock file: it needs py-rattler.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import rattler

from conda_pixi_backends.atomic import atomic_write
from conda_pixi_backends.errors import UserInputError, command
from conda_pixi_backends.installer import Records, error_text, package_rows

if TYPE_CHECKING:
    from collections.abc import Sequence

    from conda_pixi_backends.model import Request


def write_lock(
    path: Path, platforms: Sequence[str], requests: Sequence[Request], solved: Sequence[Records]
) -> None:
    """Write the solutions in rattler's lock-file format, atomically; a lock file that exists
    keeps its mode."""
    chosen = sorted({*platforms, *(r.platform for r in requests)})
    locks = {p: rattler.LockPlatform(p) for p in chosen}
    lock = rattler.LockFile(list(locks.values()))
    for request, records in zip(requests, solved, strict=True):
        name = request.env_name
        lock.set_channels(name, [rattler.LockChannel(c) for c in request.channels])
        for record in records:
            lock.add_conda_package(name, locks[request.platform], record)
    atomic_write(path, lock.to_path, keep_mode=True)


def read_lock(path: Path) -> dict[tuple[str, str], Records]:
    """(lock environment name, platform) -> its exact records."""
    try:
        lock = rattler.LockFile.from_path(path)
    except Exception as exc:  # py-rattler raises plain exceptions for unreadable files
        raise UserInputError(f"{path}: not a readable lock file: {error_text(exc)}") from None
    found: dict[tuple[str, str], Records] = {}
    for name, environment in lock.environments():
        for platform, records in environment.conda_repodata_records().items():
            found[(name, str(platform))] = records
    return found


def locked_records(
    path: Path, requests: Sequence[Request]
) -> tuple[list[Records], list[list[dict[str, str]]]]:
    """Each request's locked records (and their metadata rows). A request the lock file does
    not cover is bad input: the lock file is out of date."""
    if not path.is_file():
        raise UserInputError(f"{path}: no such lock file; write it with: {command()} lock")
    found = read_lock(path)
    chosen = []
    for request in requests:
        records = found.get((request.env_name, request.platform))
        if not records:
            raise UserInputError(
                f"{path}: does not lock {request.spec!r} for {request.platform} "
                f"(environment {request.env_name}); "
                f"update it with: {command()} lock"
            )
        chosen.append(records)
    return chosen, [package_rows(r) for r in chosen]
