"""The store deletes only inside its own root, whatever its files claim.

Real stores, copied with `cp -a` as an admin would; metadata edited as a hostile user would.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import BACKEND, Run, as_json, negotiate, snapshot


def installed(cli: Run, store: Path) -> dict:
    result = as_json(cli("install", "--json", f"{BACKEND} 0.1.*", "--root", str(store)))
    (entry,) = result["backends"]
    assert entry["status"] == "installed"
    return entry


def test_cleaning_a_copied_store_leaves_the_original_alone(cli: Run, tmp_path: Path) -> None:
    original = tmp_path / "original"
    entry = installed(cli, original)
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-a", str(original), str(copy)], check=True)
    before = snapshot(original)

    # The copy's metadata names the original's prefix: it describes no environment of the copy.
    listing = as_json(cli("list", "--json", "--root", str(copy)))
    assert [row["status"] for row in listing["environments"]] == ["incomplete"]
    for args in (("remove", BACKEND), ("gc", "--older-than", "0")):
        proc = cli(*args, "--root", str(copy))
        assert proc.returncode in (0, 1), proc.stderr
    assert snapshot(original) == before
    negotiate(original / "bin" / BACKEND)
    assert Path(entry["prefix"], "conda-meta").is_dir()
    # The copy is cleaned of what is its own.
    assert not any(p.suffix == ".json" for p in (copy / "envs").iterdir())

    # And it installs its own environment again, leaving the original's in place.
    again = as_json(cli("install", "--json", f"{BACKEND} 0.1.*", "--root", str(copy)))
    (fresh,) = again["backends"]
    assert fresh["status"] == "installed"
    assert Path(fresh["prefix"]).parent == copy / "envs"
    assert snapshot(original) == before


def test_metadata_pointing_outside_is_never_followed(cli: Run, tmp_path: Path) -> None:
    store = tmp_path / "store"
    entry = installed(cli, store)
    victim = tmp_path / "victim"
    (victim / "conda-meta").mkdir(parents=True)
    (victim / "precious.txt").write_text("keep me")
    meta = store / "envs" / f"{BACKEND}-{entry['key']}.json"
    data = json.loads(meta.read_text())
    data["prefix"] = str(victim)
    meta.write_text(json.dumps(data))

    for args in (
        ("install", "--force", f"{BACKEND} 0.1.*"),
        ("remove", BACKEND),
        ("gc", "--older-than", "0"),
    ):
        proc = cli(*args, "--root", str(store))
        assert proc.returncode == 0, (args, proc.stderr)
        assert (victim / "precious.txt").read_text() == "keep me", args
    # A generation that merely sits beside the store is not its own either.
    outside = tmp_path / f"{BACKEND}-{entry['key']}"
    (outside / "conda-meta").mkdir(parents=True)
    data["prefix"] = str(outside)
    meta.write_text(json.dumps(data))
    assert cli("gc", "--older-than", "0", "--root", str(store)).returncode == 0
    assert outside.is_dir()


def test_symlinked_root_is_still_ours(cli: Run, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    entry = installed(cli, link)
    listing = as_json(cli("list", "--json", "--root", str(real)))
    assert [row["status"] for row in listing["environments"]] == ["complete"]
    proc = cli("remove", BACKEND, "--root", str(real), "--json")
    assert proc.returncode == 0, proc.stderr
    assert not Path(entry["prefix"]).exists()


def test_a_symlink_among_the_environments_goes_alone(cli: Run, tmp_path: Path) -> None:
    """A link in envs/ to a folder elsewhere is an incomplete environment: gc deletes the link,
    where it lies, and never what it points at."""
    store = tmp_path / "store"
    installed(cli, store)
    victim = tmp_path / "victim"
    (victim / "conda-meta").mkdir(parents=True)
    (victim / "precious").write_text("keep me")
    link = store / "envs" / f"{BACKEND}-aaaaaaaaaaaa"
    link.symlink_to(victim, target_is_directory=True)
    removed = as_json(cli("gc", "--json", "--root", str(store)))["removed"]
    assert link.name in [r["env"] for r in removed if r["kind"] == "incomplete"], removed
    assert not link.is_symlink() and not link.exists()
    assert (victim / "precious").read_text() == "keep me"
    again = as_json(cli("gc", "--json", "--root", str(store)))["removed"]
    assert link.name not in [r.get("env") for r in again], again
