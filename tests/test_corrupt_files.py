"""Corrupt metadata and a corrupt store.json are named with their path and a fix, and never
brick `list`, `remove` or `gc`, which can clean them up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BACKEND, Run, as_json

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
