"""The conda plugin through a real conda, where conda is importable."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BACKEND, negotiate

HEAVY = ("rattler", "pydantic", "pydantic_settings", "ruamel", "tomli", "platformdirs")


def _has_conda() -> bool:
    return (
        importlib.util.find_spec("conda") is not None
        and importlib.util.find_spec("conda.plugins") is not None
    )


needs_conda = pytest.mark.skipif(
    not _has_conda(),
    reason="conda is not importable here (it is not on PyPI): `sh dev.sh test` installs it into "
    ".venv with ../shared/conda/install.sh when that exists beside the repository",
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
def test_commands_that_take_an_environment_or_a_name_through_conda(
    env: dict[str, str], workspace: Path, root: Path, tmp_path: Path
) -> None:
    """conda reads `name` and `prefix` from the parsed arguments as its own -n/-p before a
    plugin's command runs: activate-in's PREFIX and -n, doctor's -p, and which/run's NAME must
    reach our command, not conda (a Path there crashed conda with a traceback)."""
    assert conda("pixi-backend", "install", "--json", env=env, cwd=workspace).returncode == 0
    prefix = tmp_path / "an env"
    (prefix / "conda-meta").mkdir(parents=True)
    written = conda("pixi-backend", "activate-in", str(prefix), env=env, cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    assert list((prefix / "etc" / "conda" / "activate.d").iterdir())
    doctor = conda("pixi-backend", "doctor", "-p", str(prefix), "--json", env=env, cwd=workspace)
    checks = {c["check"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["conda-env"]["status"] == "ok", checks["conda-env"]
    missing = conda("pixi-backend", "activate-in", "-n", "no-such-env", env=env, cwd=tmp_path)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "no-such-env" in missing.stderr.strip().splitlines()[-1]
    which = conda("pixi-backend", "which", BACKEND, env=env, cwd=workspace)
    assert which.stdout.strip() == str(root / "bin" / BACKEND)
    ran = conda("pixi-backend", "run", BACKEND, "--", "--version", env=env, cwd=workspace)
    assert ran.returncode == 0 and ran.stdout.startswith(BACKEND), ran.stderr


@needs_conda
def test_our_flags_that_conda_also_has_through_conda(
    env: dict[str, str], tmp_path: Path, channel: Path
) -> None:
    """Our -v (conda has its own -v: `verbose` beside its `verbosity` crashed it), and the
    flags conda takes as settings of its own (--json, --dry-run, --offline, -c,
    --override-channels, --platform, -y) reach our command and work."""
    listed = conda("pixi-backend", "list", "-v", env=env, cwd=tmp_path)
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    args = ["install", BACKEND, "-c", channel.as_uri(), "--override-channels", "--platform",
            "linux-64", "--json", "--dry-run", "-v"]  # fmt: skip
    dry = conda("pixi-backend", *args, env=env, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["backends"][0]["status"] == "would-install"
    bad = conda("pixi-backend", "install", "bad >>>1", "-v", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" in bad.stderr, "-v shows the traceback"
    assert bad.stderr.strip().splitlines()[-1].startswith("conda pixi-backend: error: bad >>>1")
    removed = conda("pixi-backend", "gc", "-y", "--dry-run", env=env, cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr


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


# A second, real conda plugin (found, as every plugin, through its entry point): it notes each
# command that conda's post-command hooks run for.
PROBE_PLUGIN = """\
import os
from conda.plugins import hookimpl
from conda.plugins.types import CondaPostCommand

def note(command):
    with open(os.environ["CPB_POST_COMMANDS"], "a") as out:
        out.write(command + "\\n")

@hookimpl
def conda_post_commands():
    yield CondaPostCommand(name="cpb-probe", action=note, run_for={"pixi-backend"})
"""


@needs_conda
def test_exit_codes_reach_conda(env: dict[str, str], workspace: Path, tmp_path: Path) -> None:
    """conda gets the exit code back and runs its post-command hooks, py-rattler loaded or not;
    a bad flag stops at parsing: exit 2, one line."""
    plugins = tmp_path / "plugins"
    (plugins / "cpb_probe-0.dist-info").mkdir(parents=True)
    (plugins / "cpb_probe.py").write_text(PROBE_PLUGIN)
    (plugins / "cpb_probe-0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: cpb-probe\nVersion: 0\n"
    )
    (plugins / "cpb_probe-0.dist-info" / "entry_points.txt").write_text(
        "[conda]\ncpb-probe = cpb_probe\n"
    )
    noted = tmp_path / "post-commands.txt"
    path = os.pathsep.join(p for p in (str(plugins), env.get("PYTHONPATH")) if p)
    env = {**env, "PYTHONPATH": path, "CPB_POST_COMMANDS": str(noted)}

    def post_commands() -> list[str]:
        runs = noted.read_text().splitlines() if noted.exists() else []
        noted.unlink(missing_ok=True)
        return runs

    failing = conda("pixi-backend", "doctor", env=env, cwd=workspace)  # nothing installed yet
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "not installed" in failing.stdout
    assert post_commands() == ["pixi-backend"]
    installed = conda("pixi-backend", "install", env=env, cwd=workspace)  # loads py-rattler
    assert installed.returncode == 0, installed.stderr
    assert post_commands() == ["pixi-backend"]
    healthy = conda("pixi-backend", "doctor", env=env, cwd=workspace)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "0 failed," in healthy.stdout
    assert post_commands() == ["pixi-backend"]
    for args in (["install", "--bogus"], ["doctor", "--timeout", "soon"]):
        bad = conda("pixi-backend", *args, env=env, cwd=workspace)
        assert bad.returncode == 2, bad.stderr
        assert len(bad.stderr.splitlines()) == 1, bad.stderr
        assert bad.stderr.startswith(f"conda pixi-backend: error: {args[0]}: ")
        assert args[-1] in bad.stderr and bad.stdout == ""
        assert post_commands() == []


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
