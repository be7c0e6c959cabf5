"""`lock`, `install --locked` and `sync --locked`: exact packages from a rattler lock file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import BACKEND, Run, as_json, by_name, snapshot
from ruamel.yaml import YAML

from conda_pixi_backends import demo
from conda_pixi_backends.settings import current_platform

CMAKE = "pixi-build-demo-cmake"
MANIFEST = """\
[package]
name = "app"
version = "0.1.0"

[package.build]
backend = {{ name = "{name}", version = "*" }}
channels = ["{channel}"]
"""


@pytest.fixture
def own_channel(channel: Path, tmp_path: Path) -> Path:
    """A copy of the session channel that a test may add packages to."""
    return Path(shutil.copytree(channel, tmp_path / "own-channel"))


@pytest.fixture
def app(tmp_path: Path, own_channel: Path) -> Path:
    """A package whose backend spec allows any version, from the channel copy."""
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "pixi.toml").write_text(MANIFEST.format(name=BACKEND, channel=own_channel.as_uri()))
    return folder


def identities(packages: list[dict]) -> set[tuple[str, str, str, str, str]]:
    return {(p["name"], p["version"], p["build"], p["sha256"], p["url"]) for p in packages}


def installed_packages(root: Path, backend: dict) -> list[dict]:
    return json.loads((root / "envs" / f"{backend['name']}-{backend['key']}.json").read_text())[
        "packages"
    ]


def test_locked_install_ignores_newer_versions(
    cli: Run, app: Path, own_channel: Path, tmp_path: Path
) -> None:
    locked = as_json(cli("lock", "--json", cwd=app))
    lock_file = app / "pixi-backends.lock"
    assert locked["lock_file"] == str(lock_file), "beside the manifest found from here"
    (environment,) = locked["environments"]
    assert environment["version"] == "0.2.0" and environment["platform"] == current_platform()
    assert environment["environment"] == f"{BACKEND}-{environment['key']}"
    data = YAML(typ="safe").load(lock_file.read_text())
    assert list(data["environments"]) == [environment["environment"]], "rattler's format"
    assert [p["name"] for p in data["platforms"]] == [current_platform()]

    demo.build_backend(own_channel, BACKEND, "0.3.0")
    demo.index(own_channel)
    first, second = tmp_path / "first", tmp_path / "second"
    exact = as_json(
        cli("install", "--locked", "--json", cwd=app,
            extra_env={"CONDA_PIXI_BACKENDS_ROOT": str(first)})
    )["backends"][0]  # fmt: skip
    assert exact["status"] == "installed" and exact["version"] == "0.2.0"
    assert exact["key"] == environment["key"]
    assert identities(installed_packages(first, exact)) == identities(environment["packages"])
    again = as_json(
        cli("install", "--locked", "--json", cwd=app,
            extra_env={"CONDA_PIXI_BACKENDS_ROOT": str(first)})
    )["backends"][0]  # fmt: skip
    assert again["status"] == "already-installed"

    newest = as_json(
        cli("install", "--json", cwd=app, extra_env={"CONDA_PIXI_BACKENDS_ROOT": str(second)})
    )["backends"][0]
    assert newest["version"] == "0.3.0", "without --locked the solver takes the newest"
    # An environment that differs from the lock file is replaced by exactly the locked one.
    back = as_json(
        cli("install", "--locked", "--json", cwd=app,
            extra_env={"CONDA_PIXI_BACKENDS_ROOT": str(second)})
    )["backends"][0]  # fmt: skip
    assert back["status"] == "installed" and back["version"] == "0.2.0"
    assert back["prefix"] != newest["prefix"]
    assert identities(installed_packages(second, back)) == identities(environment["packages"])


def test_lock_is_found_from_a_subfolder_and_by_flag(cli: Run, app: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "locks" / "backends.lock"
    as_json(cli("lock", "-m", str(app), "-o", str(elsewhere), "--json"))
    assert elsewhere.is_file() and not (app / "pixi-backends.lock").exists()
    by_flag = as_json(cli("install", "-m", str(app), "--lock-file", str(elsewhere), "--json"))
    assert by_flag["backends"][0]["version"] == "0.2.0"
    text = cli("lock", cwd=app)
    assert text.returncode == 0 and f"in {app / 'pixi-backends.lock'}" in text.stdout
    nested = app / "src"
    nested.mkdir()
    # A manifest-less subfolder: the manifest and its lock file are found upward.
    assert as_json(cli("install", "--locked", "--json", cwd=nested))["backends"][0]["status"] == (
        "already-installed"
    )


def test_locked_install_fails_when_the_lock_lacks_a_request(
    cli: Run, app: Path, workspace: Path, root: Path, tmp_path: Path
) -> None:
    lock_file = tmp_path / "app.lock"
    as_json(cli("lock", "-m", str(app), "-o", str(lock_file), "--json"))
    before = snapshot(root)
    proc = cli("install", "--locked", "--lock-file", str(lock_file), "--json", cwd=workspace)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert str(lock_file) in proc.stderr and "does not lock" in proc.stderr
    assert "pixi-build-demo-" in proc.stderr, "names the request"
    assert snapshot(root) == before, "nothing installed"
    missing = cli("install", "--locked", "--json", cwd=workspace)
    assert missing.returncode == 2 and "no such lock file" in missing.stderr
    garbage = tmp_path / "garbage.lock"
    garbage.write_text("version: [\n")
    bad = cli("install", "--lock-file", str(garbage), cwd=workspace)
    assert bad.returncode == 2 and str(garbage) in bad.stderr
    assert bad.stderr.count("\n") == 1


def test_lock_for_several_platforms_and_the_config(
    cli: Run, workspace: Path, channel: Path, tmp_path: Path, root: Path
) -> None:
    config = tmp_path / "no-user-config.yml"  # the user config file the `env` fixture names
    config.write_text(f"backends:\n  - {CMAKE} 0.1.*\n")
    other = "osx-arm64" if current_platform() != "osx-arm64" else "linux-64"
    out = tmp_path / "multi.lock"
    locked = as_json(
        cli("lock", "-m", str(workspace / "greeter"), "--platform", current_platform(),
            "--platform", other, "-o", str(out), "--json")
    )  # fmt: skip
    assert locked["platforms"] == [current_platform(), other]
    found = {(e["name"], e["platform"]): e for e in locked["environments"]}
    assert set(found) == {
        (name, platform) for name in (BACKEND, CMAKE) for platform in (current_platform(), other)
    }
    assert found[(BACKEND, other)]["key"] != found[(BACKEND, current_platform())]["key"]
    data = YAML(typ="safe").load(out.read_text())
    assert sorted(data["environments"]) == sorted(e["environment"] for e in locked["environments"])
    for entry in locked["environments"]:
        packages = data["environments"][entry["environment"]]["packages"]
        assert list(packages) == [entry["platform"]], "each request locks its own platform"

    # sync --locked installs the config's backends from the lock file, with no solve.
    synced = by_name(as_json(cli("sync", "--locked", "--lock-file", str(out), "--json")))
    assert synced[CMAKE]["status"] == "installed" and synced[CMAKE]["version"] == "0.1.0"
    # install --locked of the greeter finds its request for this platform.
    greeter = as_json(
        cli("install", "-m", str(workspace / "greeter"), "--lock-file", str(out), "--json")
    )
    assert greeter["backends"][0]["version"] == "0.2.0"
    bad = cli("lock", "--platform", "amiga-68k", "-m", str(workspace))
    assert bad.returncode == 2 and "amiga-68k" in bad.stderr
