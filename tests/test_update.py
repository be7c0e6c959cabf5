"""`update`: a newer match goes into a new prefix, the switch is atomic, running launchers survive."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import NEGOTIATE, Run, as_json, by_name, snapshot

from conda_pixi_backends import demo

CMAKE = "pixi-build-demo-cmake"
PYTHON = "pixi-build-demo-python"


@pytest.fixture
def own_channel(channel: Path, tmp_path: Path) -> Path:
    """A copy of the session channel that a test may add packages to."""
    return Path(shutil.copytree(channel, tmp_path / "own-channel"))


def publish(channel: Path, name: str, version: str) -> None:
    demo.build_backend(channel, name, version)
    demo.index(channel)


def launcher_version(root: Path, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(root / "bin" / name), "--version"],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, timeout=60,
    )  # fmt: skip


def test_update_installs_a_newer_match_beside_the_old_prefix(
    cli: Run, own_channel: Path, root: Path
) -> None:
    channels = {"CONDA_PIXI_BACKENDS_CHANNELS": own_channel.as_uri()}
    installed = by_name(
        as_json(cli("install", CMAKE, f"{PYTHON} 0.1.*", "--json", extra_env=channels))
    )
    old_prefix = Path(installed[CMAKE]["prefix"])
    meta = root / "envs" / f"{CMAKE}-{installed[CMAKE]['key']}.json"

    fresh = by_name(as_json(cli("update", "--json", extra_env=channels)))
    assert {b["status"] for b in fresh.values()} == {"up-to-date"}

    publish(own_channel, CMAKE, "0.2.0")
    publish(own_channel, PYTHON, "0.1.5")
    before = snapshot(root)
    dry = by_name(as_json(cli("update", "--dry-run", "--json", extra_env=channels)))
    assert dry[CMAKE]["status"] == "would-update" and dry[CMAKE]["version"] == "0.2.0"
    assert dry[PYTHON]["status"] == "would-update" and dry[PYTHON]["version"] == "0.1.5"
    assert snapshot(root) == before, "a dry run writes nothing"

    only = by_name(as_json(cli("update", CMAKE, "--json", extra_env=channels)))
    assert set(only) == {CMAKE}, "NAME limits the update to that backend"
    row = only[CMAKE]
    assert row["status"] == "updated"
    assert (row["old_version"], row["version"]) == ("0.1.0", "0.2.0")
    assert row["changes"] == [{"name": CMAKE, "old": "0.1.0=0", "new": "0.2.0=0"}]
    assert row["previous_prefix"] == str(old_prefix)
    new_prefix = Path(row["prefix"])
    assert new_prefix != old_prefix and new_prefix.parent == old_prefix.parent
    record = json.loads(meta.read_text())
    assert record["prefix"] == str(new_prefix), "same metadata file, pointing at the new prefix"
    assert {p["name"]: p["version"] for p in record["packages"]}[CMAKE] == "0.2.0"
    assert launcher_version(root, CMAKE).stdout.strip() == f"{CMAKE} 0.2.0"
    assert f"{old_prefix}/bin" not in (root / "bin" / CMAKE).read_text()
    assert (old_prefix / "conda-meta").is_dir(), "kept for launchers started before the switch"
    assert cli("gc", "--older-than", "0").returncode == 0
    assert (old_prefix / "conda-meta").is_dir(), "gc leaves a retired prefix to its grace period"
    assert launcher_version(root, PYTHON).stdout.strip() == f"{PYTHON} 0.1.0", "not named"

    # The next update removes retired prefixes past the grace period, and nothing else.
    again = by_name(as_json(cli("update", "--grace-period", "0", "--json", extra_env=channels)))
    assert again[CMAKE]["status"] == "up-to-date"
    assert again[PYTHON]["status"] == "updated" and again[PYTHON]["version"] == "0.1.5"
    assert not old_prefix.exists()
    assert (new_prefix / "conda-meta").is_dir()
    assert launcher_version(root, CMAKE).returncode == 0
    result = as_json(cli("update", "--grace-period", "0", "--json", extra_env=channels))
    assert result["removed_retired"] == [again[PYTHON]["previous_prefix"]]
    assert launcher_version(root, PYTHON).stdout.strip() == f"{PYTHON} 0.1.5"

    # A plain install of the same request now finds the updated environment.
    reused = by_name(as_json(cli("install", CMAKE, "--json", extra_env=channels)))
    assert reused[CMAKE]["status"] == "already-installed"
    assert reused[CMAKE]["prefix"] == str(new_prefix) and reused[CMAKE]["version"] == "0.2.0"


def test_launchers_keep_working_while_update_runs(
    cli: Run, own_channel: Path, root: Path, env: dict[str, str], tmp_path: Path
) -> None:
    channels = {"CONDA_PIXI_BACKENDS_CHANNELS": own_channel.as_uri()}
    as_json(cli("install", CMAKE, "--json", extra_env=channels))
    publish(own_channel, CMAKE, "0.2.0")
    # A backend started before the update: it must still answer after the switch.
    early = subprocess.Popen(
        [str(root / "bin" / CMAKE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    results: list[subprocess.CompletedProcess[str]] = []
    done = threading.Event()

    def hammer() -> None:
        while not done.is_set():
            results.append(launcher_version(root, CMAKE))

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        update = subprocess.run(
            [sys.executable, "-m", "conda_pixi_backends", "update", "--json"],
            env={**env, **channels}, cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        done.set()
        for thread in threads:
            thread.join()
    assert update.returncode == 0, update.stderr
    assert json.loads(update.stdout)["backends"][0]["status"] == "updated"
    assert results, "the launcher ran during the update"
    failed = [r for r in results if r.returncode != 0]
    assert not failed, failed[0].stderr
    assert {r.stdout.strip() for r in results} <= {f"{CMAKE} 0.1.0", f"{CMAKE} 0.2.0"}
    out, err = early.communicate(NEGOTIATE, timeout=60)
    assert early.returncode == 0, err
    assert json.loads(out.splitlines()[0])["result"]["capabilities"]["providesCondaOutputs"]
    assert launcher_version(root, CMAKE).stdout.strip() == f"{CMAKE} 0.2.0"


def test_force_reinstall_keeps_the_old_prefix_for_running_launchers(
    cli: Run, channel: Path, root: Path
) -> None:
    first = as_json(cli("install", CMAKE, "--json"))["backends"][0]
    forced = as_json(cli("install", CMAKE, "--force", "--json"))["backends"][0]
    assert forced["status"] == "installed" and forced["key"] == first["key"]
    assert forced["prefix"] != first["prefix"]
    assert (Path(first["prefix"]) / "conda-meta").is_dir()
    assert Path(f"{first['prefix']}.retired").is_file(), "retired, for gc after its grace period"
    assert launcher_version(root, CMAKE).returncode == 0


def test_gc_sweeps_what_an_update_retired(cli: Run, own_channel: Path, root: Path) -> None:
    """gc, like update, removes a prefix an update replaced once its grace period is over."""
    channels = {"CONDA_PIXI_BACKENDS_CHANNELS": own_channel.as_uri()}
    as_json(cli("install", CMAKE, "--json", extra_env=channels))
    publish(own_channel, CMAKE, "0.2.0")
    row = by_name(as_json(cli("update", "--json", extra_env=channels)))[CMAKE]
    old, new = Path(row["previous_prefix"]), Path(row["prefix"])
    marker = Path(f"{old}.retired")
    assert marker.is_file() and (old / "conda-meta").is_dir()
    early = as_json(cli("gc", "--json"))["removed"]
    assert [r for r in early if r["kind"] != "package"] == [], "within its grace period"
    assert (old / "conda-meta").is_dir(), "a retired prefix keeps its files, cache or not"
    then = marker.stat().st_mtime - 2 * 86400
    os.utime(marker, (then, then))
    removed = as_json(cli("gc", "--json"))["removed"]
    assert [(r["kind"], r["path"]) for r in removed if r["kind"] != "package"] == [
        ("retired", str(old))
    ]
    assert not old.exists() and not marker.exists() and (new / "conda-meta").is_dir()
    assert launcher_version(root, CMAKE).stdout.strip() == f"{CMAKE} 0.2.0"


def test_update_errors(cli: Run, channel: Path, root: Path) -> None:
    empty = as_json(cli("update", "--json"))
    assert empty["backends"] == []
    as_json(cli("install", CMAKE, "--json"))
    unknown = cli("update", "pixi-build-nothing")
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1 and "pixi-build-nothing" in unknown.stderr
    bad = cli("update", "--grace-period", "-1")
    assert bad.returncode == 2 and "--grace-period" in bad.stderr
    text = cli("update")
    assert text.returncode == 0 and "up to date" in text.stdout
