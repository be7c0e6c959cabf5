"""Corrupt metadata and a corrupt store.json are named with their path and a fix, and never
brick `list`, `remove` or `gc`, which can clean them up. What is not a store of this layout,
and a store whose exposed.json cannot be read, are never cleaned."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import BACKEND, Run, as_json, snapshot

CORRUPT = {
    "not-json": "garbage\n",
    "empty": "",
    "a-list": "[1, 2]\n",
    "wrong-types": '{"layout": 1, "name": 3}\n',
    "other-layout": '{"layout": 99}\n',
}


@pytest.fixture
def installed(cli: Run, root: Path) -> tuple[Path, str]:
    (entry,) = as_json(cli("install", "--json", f"{BACKEND} 0.1.*"))["backends"]
    env_name = f"{BACKEND}-{entry['key']}"
    return root / "envs" / f"{env_name}.json", env_name


@pytest.mark.parametrize("text", CORRUPT.values(), ids=CORRUPT.keys())
def test_corrupt_metadata_is_named_and_cleaned(
    cli: Run, root: Path, installed: tuple[Path, str], text: str
) -> None:
    meta, env_name = installed
    meta.write_text(text)
    listing = cli("list")
    assert listing.returncode == 0, listing.stderr
    assert (
        f"incomplete: {root / 'envs' / env_name}: its metadata {meta} is corrupt" in listing.stdout
    )
    rows = as_json(cli("list", "--json"))["environments"]
    assert [(r["env"], r["status"]) for r in rows] == [(env_name, "incomplete")]
    doctor = json.loads(cli("doctor", "--json").stdout)
    assert any(str(meta) in c["detail"] for c in doctor["checks"]), doctor["checks"]
    removed = cli("remove", env_name)
    assert removed.returncode == 0, removed.stderr
    assert not meta.exists() and not (root / "envs" / env_name).exists()
    assert as_json(cli("install", "--json", f"{BACKEND} 0.1.*"))["backends"][0]["status"] == (
        "installed"
    )


@pytest.mark.parametrize("text", CORRUPT.values(), ids=CORRUPT.keys())
def test_gc_cleans_corrupt_metadata(
    cli: Run, root: Path, installed: tuple[Path, str], text: str
) -> None:
    meta, env_name = installed
    meta.write_text(text)
    proc = cli("gc", "--json")
    assert proc.returncode == 0, proc.stderr
    assert not meta.exists() and not (root / "envs" / env_name).exists()


MARKERS = {k: v for k, v in CORRUPT.items() if k != "wrong-types"}


@pytest.mark.parametrize("text", MARKERS.values(), ids=MARKERS.keys())
def test_corrupt_store_json_is_named_with_a_fix(
    cli: Run, root: Path, installed: tuple[Path, str], text: str
) -> None:
    marker = root / "store.json"
    marker.write_text(text)
    proc = cli("install", f"{BACKEND} 0.2.*")
    assert proc.returncode in (1, 2), proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert str(marker) in line and "internal error" not in line
    assert marker.read_text() == text, "left for the user to look at"
    # Reading the store never needs it.
    assert cli("list").returncode == 0


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The only line a failed command printed, which must not be a crash."""
    assert proc.returncode in (1, 2), proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "internal error" not in line and "Traceback" not in line
    return line


def test_a_folder_that_is_no_store_is_never_cleaned(cli: Run, tmp_path: Path) -> None:
    """A mistyped --root at a folder with envs/ and pkgs/ of its own (a conda installation)
    is refused by whatever writes or deletes, which changes nothing there."""
    other = tmp_path / "miniconda"
    (other / "envs" / "myenv" / "conda-meta").mkdir(parents=True)
    (other / "pkgs" / "numpy-1.0-0").mkdir(parents=True)
    (other / "pkgs" / "numpy-1.0-0.lock").write_text("")
    before = snapshot(other)
    for args in (["gc"], ["gc", "--dry-run"], ["remove", "myenv"], ["install", BACKEND],
                 ["sync", "--prune"]):  # fmt: skip
        line = one_line(cli(*args, "--root", str(other)))
        assert f"store {other}: not a conda-pixi-backends store" in line, (args, line)
        assert snapshot(other) == before, args
    # A package cache put in place before a store's first install may be filled from, never
    # cleaned: gc would find every entry unused.
    seeded = tmp_path / "seeded"
    shutil.copytree(other / "pkgs", seeded / "pkgs")
    line = one_line(cli("gc", "--root", str(seeded)))
    assert f"store {seeded}: not a conda-pixi-backends store" in line
    assert (seeded / "pkgs" / "numpy-1.0-0").is_dir()
    # A conda environment (or installation) is no store even while its envs/ is empty.
    (other / "envs" / "myenv").rename(tmp_path / "moved")
    (other / "conda-meta").mkdir()
    line = one_line(cli("install", BACKEND, "--root", str(other)))
    assert f"store {other}: not a conda-pixi-backends store" in line


@pytest.mark.parametrize("text", MARKERS.values(), ids=MARKERS.keys())
def test_a_store_of_another_layout_is_never_cleaned(
    cli: Run, root: Path, installed: tuple[Path, str], text: str
) -> None:
    _, env_name = installed
    (root / "store.json").write_text(text)
    before = snapshot(root)
    for args in (["gc", "--older-than", "0"], ["remove", env_name]):
        line = one_line(cli(*args))
        assert str(root / "store.json") in line, (args, line)
        assert snapshot(root) == before, args
    doctor = cli("doctor", "--fix")
    assert doctor.returncode == 1 and "FAIL  store" in doctor.stdout, doctor.stdout
    assert str(root / "store.json") in doctor.stdout
    assert snapshot(root) == before


@pytest.mark.parametrize("text", ['{"pixi-build-demo-py', "[]", '{"a": 1}', ""])
def test_an_unreadable_exposed_json_deletes_nothing(
    cli: Run, root: Path, installed: tuple[Path, str], text: str
) -> None:
    """exposed.json names the environment each launcher runs: read as empty, doctor --fix
    would delete the launchers and gc the environments they run."""
    exposed = root / "exposed.json"
    exposed.write_text(text)
    before = snapshot(root)
    for args in (["doctor", "--fix"], ["gc", "--older-than", "0"], ["install", f"{BACKEND} 0.1.*"],
                 ["list"]):  # fmt: skip
        line = one_line(cli(*args))
        assert f"{exposed} is unreadable" in line, (args, line)
        assert snapshot(root) == before, args
    exposed.unlink()  # the way out the message gives
    assert cli("install", f"{BACKEND} 0.1.*").returncode == 0
    assert json.loads(exposed.read_text()) == {BACKEND: installed[1]}
