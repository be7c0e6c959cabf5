"""`activate-in`: the activate.d/deactivate.d scripts, sourced by real shells and by a real
`conda activate`/`conda deactivate`, expose the backends and then leave PATH and
PIXI_BUILD_BACKEND_OVERRIDE byte for byte as they were."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BACKEND, Run

from conda_pixi_backends import conda_envs, demo
from conda_pixi_backends.settings import current_platform

CMAKE = "pixi-build-demo-cmake"
OVERRIDE = "PIXI_BUILD_BACKEND_OVERRIDE"
NAME = conda_envs.SCRIPT_NAME
XONSH = shutil.which("xonsh") or shutil.which("xonsh", path=str(Path(sys.executable).parent))
HAS_CONDA = (
    importlib.util.find_spec("conda") is not None
    and importlib.util.find_spec("conda.plugins") is not None
)
needs_conda = pytest.mark.skipif(
    not HAS_CONDA,
    reason="conda is not importable here (it is not on PyPI): `sh dev.sh test` installs it into "
    ".venv with ../shared/conda/install.sh when that exists beside the repository",
)
# What a child process of the shell sees: the two variables (None: unset) and what PATH finds.
DUMP = (
    "import json, os, shutil; names = ('PATH', 'PIXI_BUILD_BACKEND_OVERRIDE'); "
    "found = {k: os.environ.get(k) for k in names}; "
    f"found['which'] = shutil.which({BACKEND!r}); print(json.dumps(found))"
)


def clean_env(root: Path, home: Path) -> dict[str, str]:
    """This process's environment without conda's activation state, overrides or our settings."""
    drop = ("PIXI_BUILD_BACKEND_OVERRIDE", "CONDA_PIXI_BACKENDS_", "CONDA_", "_CE_", "_CONDA_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        CONDA_PIXI_BACKENDS_ROOT=str(root),
        CONDA_PIXI_BACKENDS_SYSTEM_CONFIG="",
        CONDA_PIXI_BACKENDS_CONFIG=str(home / "no-user-config.yml"),
        HOME=str(home),  # conda notes environments under ~/.conda
        PATH=f"/opt/with space/bin:{os.environ.get('PATH', '/usr/bin:/bin')}",
    )
    return env


def cpb(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conda_pixi_backends", *args], env=env, cwd=cwd,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, channel: Path) -> tuple[Path, Path]:
    """A store with both demo backends, and a conda-like environment (a folder with conda-meta)
    that `activate-in` wrote into."""
    base = tmp_path_factory.mktemp("activate-in")
    root, prefix = base / "store", base / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    workspace = demo.write_demo_workspace(base / "workspace", channel, current_platform())
    env = clean_env(root, base)
    proc = cpb("install", env=env, cwd=workspace)
    assert proc.returncode == 0, proc.stderr
    proc = cpb("activate-in", str(prefix), env=env, cwd=base)
    assert proc.returncode == 0, proc.stderr
    return root, prefix


def scripts(prefix: Path, ext: str) -> tuple[Path, Path]:
    conda = prefix / "etc" / "conda"
    return conda / "activate.d" / f"{NAME}{ext}", conda / "deactivate.d" / f"{NAME}{ext}"


# Each shell runs: dump, source activate.d, dump, source deactivate.d, dump. Paths come in
# variables: A, D (the scripts), PY, DUMP, OUT (the folder the dumps go to).
POSIX = """\
"$PY" -c "$DUMP" > "$OUT/before.json"
. "$A"
"$PY" -c "$DUMP" > "$OUT/during.json"
. "$D"
"$PY" -c "$DUMP" > "$OUT/after.json"
"""
FISH = POSIX.replace('. "$A"', 'source "$A"').replace('. "$D"', 'source "$D"')
XONSH_NATIVE = """\
@($PY) -c @($DUMP) > @($OUT + '/before.json')
source @($A)
@($PY) -c @($DUMP) > @($OUT + '/during.json')
source @($D)
@($PY) -c @($DUMP) > @($OUT + '/after.json')
"""
# How conda's xonsh activation runs activate.d scripts on Unix: the .sh ones, through bash.
XONSH_SOURCE_BASH = XONSH_NATIVE.replace(
    "source @($A)", "source-bash --suppress-skip-message -n @($A)"
).replace("source @($D)", "source-bash --suppress-skip-message -n @($D)")

SHELLS = {
    # name: (argv, script, extension)
    "bash": (["bash", "--norc", "--noprofile", "-c"], POSIX, ".sh"),
    "zsh": (["zsh", "-f", "-c"], POSIX, ".sh"),
    "dash": (["dash", "-c"], POSIX, ".sh"),
    "fish": (["fish", "-N", "-c"], FISH, ".fish"),
    "xonsh": ([XONSH or "xonsh", "--no-rc", "-c"], XONSH_NATIVE, ".xsh"),
    "xonsh-source-bash": ([XONSH or "xonsh", "--no-rc", "-c"], XONSH_SOURCE_BASH, ".sh"),
}


def available(shell: str) -> pytest.MarkDecorator:
    exe = SHELLS[shell][0][0]
    found = shutil.which(exe) if not os.path.isabs(exe) else os.path.exists(exe)
    return pytest.mark.skipif(not found, reason=f"{exe} is not installed here")


def roundtrip(shell: str, prefix: Path, env: dict[str, str], out: Path) -> list[dict]:
    argv, script, ext = SHELLS[shell]
    activate, deactivate = scripts(prefix, ext)
    out.mkdir(exist_ok=True)
    variables = dict(A=str(activate), D=str(deactivate), PY=sys.executable, DUMP=DUMP, OUT=str(out))
    proc = subprocess.run(
        [shutil.which(argv[0]) or argv[0], *argv[1:], script], env={**env, **variables},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "cannot use this store" not in proc.stderr
    return [
        json.loads((out / f"{step}.json").read_text()) for step in ("before", "during", "after")
    ]


CASES = {
    "unset": None,
    "empty": "",
    "user entries": f"{BACKEND}=/opt/mine/{BACKEND},my-other=/opt/other",
}


@pytest.mark.parametrize(
    "shell", [pytest.param(s, marks=available(s)) for s in SHELLS], ids=list(SHELLS)
)
@pytest.mark.parametrize("case", list(CASES))
def test_activate_then_deactivate_restores_exactly(
    shell: str, case: str, installed: tuple[Path, Path], tmp_path: Path
) -> None:
    root, prefix = installed
    env = clean_env(root, tmp_path)
    user = CASES[case]
    if user is not None:
        env[OVERRIDE] = user
    before, during, after = roundtrip(shell, prefix, env, tmp_path / "out")
    assert before[OVERRIDE] == CASES[case]
    assert after == before  # byte for byte, and unset stays unset
    ours = f"{CMAKE}={root / 'bin' / CMAKE}"
    if case == "user entries":  # theirs win; ours is added for the other backend only
        assert during[OVERRIDE] == f"{CASES[case]},{ours}"
    else:
        assert during[OVERRIDE] == f"{ours},{BACKEND}={root / 'bin' / BACKEND}"
    assert during["PATH"] == f"{root / 'bin'}:{before['PATH']}"
    assert during["which"] == str(root / "bin" / BACKEND)


@pytest.mark.parametrize("shell", [pytest.param(s, marks=available(s)) for s in ("bash", "fish")])
def test_override_all_leaves_everything_alone(
    shell: str, installed: tuple[Path, Path], tmp_path: Path
) -> None:
    root, prefix = installed
    env = {**clean_env(root, tmp_path), "PIXI_BUILD_BACKEND_OVERRIDE_ALL": ""}
    before, during, after = roundtrip(shell, prefix, env, tmp_path / "out")
    assert before == during == after


def test_writes_every_shell_and_removes(cli: Run, env: dict[str, str], tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    proc = cli("activate-in", str(prefix))
    assert proc.returncode == 0, proc.stderr
    written = sorted(p.relative_to(prefix) for p in prefix.rglob(f"{NAME}.*"))
    assert written == sorted(
        Path("etc", "conda", folder, f"{NAME}{ext}")
        for folder in ("activate.d", "deactivate.d")
        for ext in (".sh", ".fish", ".xsh", ".ps1", ".bat")
    )
    assert all((prefix / p).stat().st_mode & 0o777 == 0o644 for p in written)
    assert "has no backends yet" in proc.stdout  # an empty store: later installs still arrive
    again = cli("activate-in", extra_env={"CONDA_PREFIX": str(prefix)})
    assert again.returncode == 0 and "up to date" in again.stdout
    # doctor -p notices a script that is not what activate-in writes, and --fix rewrites it.
    (prefix / written[0]).write_text("# edited\n")
    checked = json.loads(cli("doctor", "--json", "-p", str(prefix)).stdout)
    conda_env = next(c for c in checked["checks"] if c["check"] == "conda-env")
    assert conda_env["status"] == "warn"
    assert conda_env["fix"] == f"python -m conda_pixi_backends activate-in {prefix}"
    fixed = json.loads(cli("doctor", "--json", "--fix", "-p", str(prefix)).stdout)
    assert fixed["fixed"] == [f"rewrote the activate-in scripts of {prefix}"]
    assert next(c for c in fixed["checks"] if c["check"] == "conda-env")["status"] == "ok"
    gone = cli("activate-in", "--remove", str(prefix))
    assert gone.returncode == 0 and gone.stdout.count("removed ") == 10
    assert not list(prefix.rglob(f"{NAME}.*"))
    assert "no conda-pixi-backends scripts" in cli("activate-in", "--remove", str(prefix)).stdout


def test_bad_targets_exit_2(cli: Run, tmp_path: Path) -> None:
    (tmp_path / "env" / "conda-meta").mkdir(parents=True)
    cases = {
        (): "none active (CONDA_PREFIX is not set)",
        (str(tmp_path),): "is not a conda environment",
        (str(tmp_path / "env"), "-n", "x"): "give PREFIX or -n NAME, not both",
        ("-n", "no-such-env-here"): "-n no-such-env-here: no conda environment of that name",
    }
    for args, message in cases.items():
        proc = cli("activate-in", *args, extra_env={"CONDA_ENVS_PATH": str(tmp_path / "envs")})
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_name_without_conda(env: dict[str, str], tmp_path: Path) -> None:
    """-n NAME when conda cannot be imported: the envs folders conda's variables name."""
    prefix = tmp_path / "envs" / "work"
    (prefix / "conda-meta").mkdir(parents=True)
    code = (
        "import sys; sys.modules['conda'] = None\n"  # as if conda were not installed
        "from conda_pixi_backends.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "activate-in", "-n", "work"],
        env={**env, "CONDA_ENVS_PATH": str(tmp_path / "envs")}, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (prefix / "etc" / "conda" / "activate.d" / f"{NAME}.sh").is_file()


@available("bash")
def test_later_installs_reach_the_environment(
    cli: Run, env: dict[str, str], workspace: Path, root: Path, tmp_path: Path
) -> None:
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    assert cli("activate-in", str(prefix)).returncode == 0  # before anything is installed
    assert cli("install", cwd=workspace).returncode == 0
    _, during, _ = roundtrip("bash", prefix, clean_env(root, tmp_path), tmp_path / "out")
    assert during["which"] == str(root / "bin" / BACKEND)


@pytest.mark.skipif(shutil.which("pwsh") is None, reason="PowerShell (pwsh) is not installed")
def test_powershell_roundtrip(installed: tuple[Path, Path], tmp_path: Path) -> None:
    root, prefix = installed
    activate, deactivate = scripts(prefix, ".ps1")
    code = (
        f"$b = $env:PATH + '|' + $env:{OVERRIDE}; . '{activate}'; $d = $env:{OVERRIDE}; "
        f". '{deactivate}'; $a = $env:PATH + '|' + $env:{OVERRIDE}; "
        "Write-Output ($b -ceq $a); Write-Output $d"
    )
    env = {**clean_env(root, tmp_path), OVERRIDE: "mine=/x"}
    proc = subprocess.run(
        [shutil.which("pwsh") or "pwsh", "-NoProfile", "-NonInteractive", "-Command", code],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    same, during = proc.stdout.split("\n")[:2]
    assert same == "True" and during.startswith("mine=/x,")


# --- Through a real conda -------------------------------------------------------------------

CONDA_POSIX = """\
eval "$("$PY" -m conda shell.@SHELL@ hook)"
"$PY" -c "$DUMP" > "$OUT/before.json"
conda activate "$ENV"
"$PY" -c "$DUMP" > "$OUT/during.json"
conda deactivate
"$PY" -c "$DUMP" > "$OUT/after.json"
"""
CONDA_FISH = (
    CONDA_POSIX.replace('eval "$("$PY" -m conda shell.@SHELL@ hook)"', '"$PY" -m conda shell.fish hook | source')
)  # fmt: skip
CONDA_SHELLS = {
    "bash": (["bash", "--norc", "--noprofile", "-c"], CONDA_POSIX.replace("@SHELL@", "bash")),
    "zsh": (["zsh", "-f", "-c"], CONDA_POSIX.replace("@SHELL@", "zsh")),
    "fish": (["fish", "-N", "-c"], CONDA_FISH),
}


@pytest.fixture(scope="module")
def conda_env(installed: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real conda environment (no packages), with the activate-in scripts."""
    root, _ = installed
    base = tmp_path_factory.mktemp("conda")
    env = clean_env(root, base)
    prefix = base / "env"
    made = subprocess.run(
        [sys.executable, "-m", "conda", "create", "--offline", "-y", "-p", str(prefix)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    proc = cpb("activate-in", str(prefix), env=env, cwd=base)
    assert proc.returncode == 0, proc.stderr
    return prefix


@needs_conda
@pytest.mark.parametrize(
    "shell",
    [
        pytest.param(s, marks=pytest.mark.skipif(not shutil.which(s), reason=f"no {s} here"))
        for s in CONDA_SHELLS
    ],
)
@pytest.mark.parametrize("user", [None, f"my-backend=/opt/mine,{CMAKE}=/opt/cmake"])
def test_conda_activate_and_deactivate(
    shell: str, user: str | None, installed: tuple[Path, Path], conda_env: Path, tmp_path: Path
) -> None:
    root, _ = installed
    argv, script = CONDA_SHELLS[shell]
    env = clean_env(root, tmp_path)
    if user is not None:
        env[OVERRIDE] = user
    out = tmp_path / "out"
    out.mkdir()
    variables = dict(PY=sys.executable, DUMP=DUMP, OUT=str(out), ENV=str(conda_env))
    proc = subprocess.run(
        [shutil.which(argv[0]) or argv[0], *argv[1:], script], env={**env, **variables},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    before, during, after = (
        json.loads((out / f"{step}.json").read_text()) for step in ("before", "during", "after")
    )
    assert during["which"] == str(root / "bin" / BACKEND)
    assert during["PATH"].startswith(f"{root / 'bin'}:{conda_env / 'bin'}:")
    ours = f"{BACKEND}={root / 'bin' / BACKEND}"
    expected = f"{user},{ours}" if user else f"{CMAKE}={root / 'bin' / CMAKE},{ours}"
    assert during[OVERRIDE] == expected
    assert after == before
