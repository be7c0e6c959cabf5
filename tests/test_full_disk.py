"""A full disk at any point of an install: exit 1 naming the disk, and the store as it was.

The store lives on a real tmpfs, filled to leave less and less room, so the install runs out of
space at every step in turn: unpacking, linking, metadata, launcher, activation scripts.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BACKEND, CMAKE, Run, as_json, snapshot

#: What a failed install may leave: the package cache, py-rattler's cache and lock files.
MAY_CHANGE = ("pkgs", "cache", "locks")
PAGE = 4096


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs of its own."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Take all free space on `disk` but `leave` bytes."""
    filler = disk / "filler"
    filler.unlink(missing_ok=True)
    stat = os.statvfs(disk)
    free = stat.f_bavail * stat.f_frsize
    with open(filler, "wb") as handle:
        handle.write(b"\0" * max(free - leave, 0))
    return filler


def kept(state: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in state.items() if k.split(os.sep)[0] not in MAY_CHANGE}


def test_every_point_of_a_full_disk(cli: Run, disk: Path) -> None:
    store = disk / "store"
    as_json(cli("install", "--json", f"{BACKEND} 0.1.*", "--root", str(store)))
    before = kept(snapshot(store))
    outcomes: dict[str, int] = {}
    for leave in range(0, 40 * PAGE, PAGE):
        fill(disk, leave)
        proc = cli("install", f"{CMAKE} 0.1.*", "--root", str(store))
        if proc.returncode == 0:
            outcomes["installed"] = outcomes.get("installed", 0) + 1
            break
        assert proc.returncode == 1, proc.stderr
        (line,) = proc.stderr.strip().splitlines()
        assert "No space left on device" in line and "internal error" not in line, line
        where = line.split(": error: ", 1)[1].split(":", 1)[0]
        outcomes[where] = outcomes.get(where, 0) + 1
        assert kept(snapshot(store)) == before, f"changed with {leave} bytes left: {line}"
    # The sweep reached the point where the install fits, through several failing steps.
    assert outcomes.get("installed") == 1, outcomes
    assert len(outcomes) >= 3, outcomes
    (disk / "filler").unlink()
    result = as_json(cli("install", "--json", f"{CMAKE} 0.1.*", "--root", str(store)))
    assert result["backends"][0]["status"] in ("installed", "already-installed")


def test_failure_points_seen(cli: Run, disk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Print which step ran out of space at each size: the report the closing note quotes."""
    store = disk / "store"
    seen = []
    for leave in range(0, 48 * PAGE, 2 * PAGE):
        fill(disk, leave)
        proc = cli("install", f"{BACKEND} 0.1.*", "--root", str(store))
        line = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "installed"
        seen.append(
            (leave, proc.returncode, line.split(": error: ")[-1].replace(str(store), "STORE")[:90])
        )
        if proc.returncode == 0:
            break
        assert proc.returncode == 1 and "No space left on device" in line, line
        assert sorted(p.name for p in store.iterdir()) <= ["cache", "pkgs"], "no store created"
    with capsys.disabled():
        for leave, code, what in seen:
            print(f"\n  {leave // 1024:>4} KiB left: exit {code}: {what}", end="")
    assert seen[-1][1] == 0
