"""The conda plugin through a real conda, where conda is importable."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BACKEND, negotiate

HEAVY = ("rattler", "pydantic", "pydantic_settings", "ruamel", "tomli", "filelock", "platformdirs")


def _has_conda() -> bool:
    return (
        importlib.util.find_spec("conda") is not None
        and importlib.util.find_spec("conda.plugins") is not None
    )


needs_conda = pytest.mark.skipif(
    not _has_conda(),
    reason="conda is not importable here (it is not on PyPI); install it from source to run these",
)


def imported_by(statement: str) -> set[str]:
    """Top-level modules that a fresh interpreter imports to run `statement`."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    names = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line]
    assert names, "no import times reported"
    return {name.split(".")[0] for name in names}


def test_cli_module_imports_nothing_heavy() -> None:
    assert imported_by("import conda_pixi_backends.cli").isdisjoint(HEAVY)


@needs_conda
def test_plugin_module_imports_nothing_heavy() -> None:
    """conda imports the plugin on every command: it may add nothing heavy to conda's own imports."""
    conda_alone = imported_by("import conda.plugins.types")
    with_plugin = imported_by("import conda.plugins.types, conda_pixi_backends.plugin")
    assert (with_plugin - conda_alone).isdisjoint(HEAVY), with_plugin - conda_alone
    # conda also calls our conda_settings hook on every command, to learn the condarc keys.
    with_settings = imported_by(
        "import conda.plugins.types; from conda_pixi_backends import plugin; list(plugin.conda_settings())"
    )
    assert (with_settings - conda_alone).isdisjoint(HEAVY), with_settings - conda_alone


def conda(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conda", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@needs_conda
def test_install_through_conda(env: dict[str, str], workspace: Path, root: Path) -> None:
    proc = conda("pixi-backend", "install", "--json", env=env, cwd=workspace)
    assert proc.returncode == 0, proc.stderr
    backends = {b["name"]: b for b in json.loads(proc.stdout)["backends"]}
    assert backends[BACKEND]["status"] == "installed"
    negotiate(backends[BACKEND]["executables"][0])
    which = conda("pixi-backend", "which", BACKEND, env=env, cwd=workspace)
    assert which.returncode == 0 and which.stdout.strip() == str(root / "bin" / BACKEND)


@needs_conda
def test_bad_input_through_conda(env: dict[str, str], tmp_path: Path) -> None:
    proc = conda(
        "pixi-backend",
        "install",
        "x",
        env={**env, "PIXI_BUILD_BACKEND_OVERRIDE": "x=a=b"},
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "PIXI_BUILD_BACKEND_OVERRIDE" in proc.stderr and "Traceback" not in proc.stderr
    flag = conda("pixi-backend", "install", "--bogus", env=env, cwd=tmp_path)
    assert flag.returncode == 2 and "--bogus" in flag.stderr


def test_console_script_and_module_share_one_parser(env: dict[str, str], tmp_path: Path) -> None:
    script = shutil.which("conda-pixi-backend", path=str(Path(sys.executable).parent))
    assert script, "the package's console script is installed beside its Python"
    module = [sys.executable, "-m", "conda_pixi_backends"]
    for args in (["--help"], ["install", "--help"], ["--version"]):
        a = subprocess.run([script, *args], env=env, capture_output=True, text=True)
        b = subprocess.run([*module, *args], env=env, capture_output=True, text=True)
        assert a.returncode == b.returncode == 0
        assert a.stdout == b.stdout and a.stdout


@needs_conda
def test_conda_help_lists_the_same_commands(env: dict[str, str], tmp_path: Path) -> None:
    ours = subprocess.run([sys.executable, "-m", "conda_pixi_backends", "install", "--help"],
                          env=env, capture_output=True, text=True)  # fmt: skip
    theirs = conda("pixi-backend", "install", "--help", env=env, cwd=tmp_path)
    assert theirs.returncode == 0, theirs.stderr
    assert (
        theirs.stdout.replace("conda pixi-backend", "conda-pixi-backend").split()
        == ours.stdout.split()
    )
