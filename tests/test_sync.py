"""`sync`: the `backends` setting (and manifests) installed; `--prune` removes the rest safely."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import BACKEND, Run, as_json, by_name, negotiate, snapshot

from conda_pixi_backends.settings import current_platform

CMAKE = "pixi-build-demo-cmake"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The user config file the `env` fixture points at."""
    return tmp_path / "no-user-config.yml"


def test_sync_installs_the_configured_backends(
    cli: Run, config: Path, workspace: Path, root: Path
) -> None:
    config.write_text(f"backends:\n  - {CMAKE} 0.1.*\n")
    result = as_json(cli("sync", "--json", "-m", str(workspace / "greeter")))
    assert result["root"] == str(root) and result["pruned"] == []
    backends = by_name(result)
    assert set(backends) == {CMAKE, BACKEND}
    assert {b["status"] for b in backends.values()} == {"installed"}
    cmake = backends[CMAKE]
    # -m names the member's workspace, whose engine asks for what the config asks: one request.
    assert cmake["spec"] == f"{CMAKE} 0.1.*"
    assert cmake["manifests"] == [str(workspace / "engine" / "pixi.toml")]
    assert backends[BACKEND]["manifests"] == [str(workspace / "greeter" / "pixi.toml")]
    assert set(cmake) == set(as_json(cli("install", CMAKE, "--dry-run", "--json"))["backends"][0])
    negotiate(cmake["executables"][0], env={"PATH": "/usr/bin:/bin"})
    again = as_json(cli("sync", "--json"))
    assert [(b["name"], b["status"]) for b in again["backends"]] == [(CMAKE, "already-installed")]
    text = cli("sync")
    assert text.returncode == 0 and "already installed" in text.stdout


def test_backends_by_platform(cli: Run, config: Path) -> None:
    config.write_text(
        f"backends:\n  {current_platform()}: [{CMAKE}]\n  win-64: ['{BACKEND} 0.1.*']\n"
    )
    result = as_json(cli("sync", "--dry-run", "--json"))
    assert [(b["name"], b["status"]) for b in result["backends"]] == [(CMAKE, "would-install")]
    windows = as_json(cli("sync", "--dry-run", "--json", "--platform", "win-64"))
    assert [b["spec"] for b in windows["backends"]] == [f"{BACKEND} 0.1.*"]


def test_bad_backend_spec_names_the_file(cli: Run, config: Path, root: Path) -> None:
    config.write_text("# a comment\nbackends:\n  - '!bad'\n")
    proc = cli("sync")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert f"{config}:2" in proc.stderr and "backends" in proc.stderr
    config.write_text("backends:\n  - 'pixi-build-demo-cmake >=1 =='\n")
    solved = cli("sync")
    assert solved.returncode == 2 and solved.stderr.count("\n") == 1
    assert "invalid spec (from setting 'backends')" in solved.stderr
    assert not (root / "envs").exists() or not any((root / "envs").iterdir())


def test_prune_removes_what_nothing_asks_for(
    cli: Run, config: Path, root: Path, channel: Path
) -> None:
    config.write_text(f"backends:\n  - {CMAKE}\n")
    extra = as_json(cli("install", f"{BACKEND} 0.1.*", "--json"))["backends"][0]
    other = "osx-arm64" if current_platform() != "osx-arm64" else "linux-64"
    foreign = as_json(cli("install", BACKEND, "--platform", other, "--json"))["backends"][0]
    assert (root / "bin" / BACKEND).is_file()

    before = snapshot(root)
    # Used just now: kept unless asked explicitly.
    kept = as_json(cli("sync", "--prune", "--dry-run", "--json"))
    assert kept["pruned"] == [] and [k["key"] for k in kept["kept"]] == [extra["key"]]
    dry = as_json(cli("sync", "--prune", "--older-than", "0", "--dry-run", "--json"))
    assert [(p["name"], p["key"], p["status"]) for p in dry["pruned"]] == [
        (BACKEND, extra["key"], "would-prune")
    ], "another platform's environment is not this sync's to prune"
    assert snapshot(root) == before

    result = as_json(cli("sync", "--prune", "--older-than", "0", "--json"))
    assert [(p["name"], p["status"], p["version"]) for p in result["pruned"]] == [
        (BACKEND, "pruned", "0.1.0")
    ]
    assert not Path(extra["prefix"]).exists()
    assert not (root / "envs" / f"{BACKEND}-{extra['key']}.json").exists()
    assert not (root / "bin" / BACKEND).exists(), "its launcher went too"
    exposed = json.loads((root / "exposed.json").read_text())
    assert set(exposed) == {CMAKE}
    for script in (root / "activate").iterdir():
        assert f"{BACKEND}=" not in script.read_text(), script.name
    assert (root / "envs" / f"{BACKEND}-{foreign['key']}.json").is_file()
    hook = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c",
         f'. "{root}/activate/activate.bash" && echo "$PIXI_BUILD_BACKEND_OVERRIDE"'],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert hook.stdout.strip() == f"{CMAKE}={root / 'bin' / CMAKE}"
    negotiate(root / "bin" / CMAKE, env={"PATH": "/usr/bin:/bin"})
    text = cli("sync", "--prune")
    assert text.returncode == 0 and "pruned" not in text.stdout
