"""A command that fails leaves the store as it was: what may stay is exactly the package cache
(what was downloaded, as conda keeps it) and, in a store that existed, the failed
environment's lock file. Everything only py-rattler can reject is refused before the store is
created or touched."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import BACKEND, CLI, Run, as_json, snapshot

from conda_pixi_backends import demo

#: What a failed install may leave behind in a store that existed before it.
MAY_STAY = ("pkgs", "locks")


def broken_channel(tmp_path: Path) -> Path:
    """A channel whose "backend" installs no executable: it fails after the solve."""
    channel = tmp_path / "broken-channel"
    demo.build_package(channel, "pixi-build-api-version", "7")
    demo.build_package(
        channel, "pixi-build-broken", "1.0", {"share/broken.txt": "x"}, ["pixi-build-api-version 7"]
    )
    demo.index(channel)
    return channel


def kept(state: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in state.items() if k.split(os.sep)[0] not in MAY_STAY}


def one_error(proc: subprocess.CompletedProcess[str], code: int) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("conda-pixi-backend: error: "), lines
    return lines[0]


def test_failure_after_the_solve_in_a_new_store(cli: Run, root: Path, tmp_path: Path) -> None:
    channel = broken_channel(tmp_path)
    line = one_error(
        cli("install", "pixi-build-broken", "-c", channel.as_uri(), "--override-channels"), 1
    )
    assert "installs no executable named pixi-build-broken" in line
    # Only the package cache (and py-rattler's repodata cache) is left of the new store.
    assert sorted(p.name for p in root.iterdir()) == ["cache", "pkgs"]


def test_failure_after_the_solve_in_an_existing_store(cli: Run, root: Path, tmp_path: Path) -> None:
    as_json(cli("install", "--json", f"{BACKEND} 0.1.*"))
    before = snapshot(root)
    channel = broken_channel(tmp_path)
    one_error(cli("install", "pixi-build-broken", "-c", channel.as_uri(), "--override-channels"), 1)
    assert kept(snapshot(root)) == kept(before)
    assert not [p for p in (root / "envs").iterdir() if p.name.startswith("pixi-build-broken")]


@pytest.mark.parametrize(
    ("args", "extra_env", "needle"),
    [
        (["-c", "http://[::1", "--override-channels"], {}, "http://[::1"),
        ([], {"CONDA_PIXI_BACKENDS_MIRRORS": '{"https://a.example": ["http://[::1"]}'}, "mirrors"),
        ([], {"CONDA_PIXI_BACKENDS_CONSTRAINTS": "demo-runtime >>>1"}, "constraint"),
    ],
    ids=["channel", "mirror", "constraint"],
)
def test_what_only_py_rattler_rejects_is_refused_first(
    cli: Run, root: Path, args: list[str], extra_env: dict[str, str], needle: str
) -> None:
    line = one_error(cli("install", f"{BACKEND} 0.1.*", *args, extra_env=extra_env), 2)
    assert needle in line
    assert not root.exists(), "nothing created"


@pytest.mark.parametrize(
    "bad", [b"/tmp/st\xffre", b"/tmp/a,b", b"/tmp/a=b"], ids=["utf8", "comma", "equals"]
)
def test_store_roots_pixi_cannot_carry_are_refused_up_front(
    env: dict[str, str], tmp_path: Path, bad: bytes
) -> None:
    environ = {k.encode(): v.encode() for k, v in env.items()}
    environ[b"CONDA_PIXI_BACKENDS_ROOT"] = bad
    proc = subprocess.run(
        [*CLI, "install", f"{BACKEND} 0.1.*"],
        env=environ,  # type: ignore[arg-type]
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    assert len(lines) == 1 and "CONDA_PIXI_BACKENDS_ROOT" in lines[0], lines
    assert not Path(os.fsdecode(bad)).exists()


def test_file_relative_channel_means_a_path(cli: Run, channel: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "chan").symlink_to(channel, target_is_directory=True)
    result = as_json(
        cli(
            "install",
            "--json",
            f"{BACKEND} 0.1.*",
            "-c",
            "file:chan",
            "--override-channels",
            cwd=work,
        )
    )
    (entry,) = result["backends"]
    assert entry["channels"] == [(work / "chan").as_uri()]
    assert entry["status"] == "installed"
