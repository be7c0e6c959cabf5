"""An override value resolved as Pixi runs it (Rust's `Command::new(value)`, in Pixi's own
working directory): a bare word is looked up on PATH, a relative path is taken from the current
folder. `which`, `install`, `run` and `doctor` agree on it. And our own launcher is recognised
in the variable through a symlinked or '..'-holding store root."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import BACKEND, NEGOTIATE, Run, as_json, by_name, negotiate

OVERRIDE = "PIXI_BUILD_BACKEND_OVERRIDE"
PREFIX = "conda-pixi-backend: error: "


def script(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{text}\n")
    path.chmod(0o755)
    return path


def doctor_checks(cli: Run, code: int, cwd: Path, extra: dict[str, str]) -> dict[str, dict]:
    proc = cli("doctor", "--json", cwd=cwd, extra_env=extra)
    assert proc.returncode == code, proc.stdout + proc.stderr
    return {c["check"]: c for c in json.loads(proc.stdout)["checks"] if c["backend"] == BACKEND}


def test_a_bare_word_is_looked_up_on_path(
    cli: Run, env: dict[str, str], root: Path, tmp_path: Path
) -> None:
    tools = tmp_path / "tools"
    mine = script(tools / "my-backend", 'echo "my-backend $*"; exit 4')
    # PATH also has an executable named after the backend: Pixi runs the value's, not this one.
    script(tools / BACKEND, 'echo "the backend name"; exit 9')
    extra = {OVERRIDE: f"{BACKEND}=my-backend", "PATH": f"{tools}{os.pathsep}{env['PATH']}"}
    which = cli("which", BACKEND, extra_env=extra)
    assert (which.returncode, which.stdout, which.stderr) == (0, f"{mine}\n", "")
    proc = cli("install", BACKEND, "--json", extra_env=extra)
    row = by_name(as_json(proc))[BACKEND]
    assert row["status"] == "overridden" and row["executables"] == [str(mine)]
    assert row["override"] == {"variable": OVERRIDE, "value": "my-backend"}
    assert not list(root.glob("envs/*")), "an overridden backend is not installed"
    ran = cli("run", BACKEND, "--", "a", extra_env=extra)
    assert (ran.returncode, ran.stdout) == (4, "my-backend a\n")
    checks = doctor_checks(cli, 1, tmp_path, {**extra, "CONDA_PIXI_BACKENDS_BACKENDS": BACKEND})
    assert checks["resolves"]["detail"] == f"overridden by {OVERRIDE}: {mine}"
    assert checks["executable"] == {**checks["executable"], "status": "ok", "detail": str(mine)}
    assert checks["responds"]["status"] == "fail"  # it is no backend: it answers nothing

    # The word on no PATH: all three say so, naming the word.
    gone = {**extra, "PATH": f"{tmp_path / 'empty'}{os.pathsep}/usr/bin{os.pathsep}/bin"}
    message = f"{BACKEND}: {OVERRIDE} sends it to PATH, and PATH has no my-backend"
    for command in (("which", BACKEND), ("run", BACKEND)):
        proc = cli(*command, extra_env=gone)
        assert (proc.returncode, proc.stderr) == (1, f"{PREFIX}{message}\n"), command
    checks = doctor_checks(cli, 1, tmp_path, {**gone, "CONDA_PIXI_BACKENDS_BACKENDS": BACKEND})
    resolves = checks["resolves"]
    assert resolves["detail"] == message.removeprefix(f"{BACKEND}: ")
    assert resolves["fix"] == f"put my-backend on PATH, or: unset {OVERRIDE}"


def test_a_relative_path_is_taken_from_the_current_folder(
    cli: Run, root: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    mine = script(work / "tools" / "my-backend", 'echo "relative $*"')
    (work / "sub").mkdir()
    for value, cwd, shown in (
        ("tools/my-backend", work, work / "tools" / "my-backend"),
        ("./tools/my-backend", work, work / "tools" / "my-backend"),
        # '..' is left to the OS, as Pixi leaves it (a symlinked folder would change its meaning).
        ("../tools/my-backend", work / "sub", f"{work / 'sub'}/../tools/my-backend"),
    ):
        extra = {OVERRIDE: f"{BACKEND}={value}"}
        which = cli("which", BACKEND, cwd=cwd, extra_env=extra)
        assert (which.returncode, which.stdout) == (0, f"{shown}\n"), value
        assert os.path.samefile(which.stdout.strip(), mine)
        row = by_name(as_json(cli("install", BACKEND, "--json", cwd=cwd, extra_env=extra)))
        assert row[BACKEND]["executables"] == [str(shown)]
        assert row[BACKEND]["override"]["value"] == value
        ran = cli("run", BACKEND, "--", "x", cwd=cwd, extra_env=extra)
        assert (ran.returncode, ran.stdout) == (0, "relative x\n"), value
        checks = doctor_checks(cli, 1, cwd, {**extra, "CONDA_PIXI_BACKENDS_BACKENDS": BACKEND})
        assert checks["executable"]["status"] == "ok"
        assert checks["executable"]["detail"] == str(shown)
    assert not list(root.glob("envs/*")), "an overridden backend is not installed"

    # From another folder the same value names another file, which is not there.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    extra = {OVERRIDE: f"{BACKEND}=tools/my-backend"}
    missing = elsewhere / "tools" / "my-backend"
    which = cli("which", BACKEND, cwd=elsewhere, extra_env=extra)
    assert (which.returncode, which.stdout) == (0, f"{missing}\n")  # what Pixi would run
    ran = cli("run", BACKEND, cwd=elsewhere, extra_env=extra)
    assert (ran.returncode, ran.stderr) == (
        1,
        f"{PREFIX}{BACKEND}: cannot run {missing}: No such file or directory\n",
    )
    checks = doctor_checks(cli, 1, elsewhere, {**extra, "CONDA_PIXI_BACKENDS_BACKENDS": BACKEND})
    assert checks["executable"]["status"] == "fail"
    assert checks["executable"]["detail"] == f"{missing}: missing"


@pytest.mark.parametrize("through", ["variable", "root"])
@pytest.mark.parametrize("kind", ["symlink", "dotdot"])
def test_our_launcher_through_another_spelling_of_the_root(
    cli: Run, tmp_path: Path, kind: str, through: str
) -> None:
    """The store's root as settings give it, and its launcher in the variable, spelled
    differently: through a symlink or '..', in the variable or in the root setting."""
    real = tmp_path / "real-store"
    real.mkdir()
    if kind == "symlink":
        spelled = tmp_path / "link-store"
        spelled.symlink_to(real, target_is_directory=True)
    else:
        (tmp_path / "other").mkdir()
        spelled = tmp_path / "other" / ".." / "real-store"
    store_root, in_variable = (real, spelled) if through == "variable" else (spelled, real)
    extra = {"CONDA_PIXI_BACKENDS_ROOT": str(store_root)}
    first = by_name(as_json(cli("install", BACKEND, "--json", extra_env=extra)))[BACKEND]
    assert first["status"] == "installed"
    launcher = in_variable / "bin" / BACKEND
    hooked = {**extra, OVERRIDE: f"{BACKEND}={launcher}"}
    again = by_name(as_json(cli("install", BACKEND, "--json", extra_env=hooked)))[BACKEND]
    assert again["status"] == "already-installed", "our own launcher is no override"
    assert again["override"] is None
    assert again["executables"] == [str(store_root / "bin" / BACKEND)]
    which = cli("which", BACKEND, extra_env=hooked)
    assert (which.returncode, which.stdout) == (0, f"{store_root / 'bin' / BACKEND}\n")
    answer = cli("run", BACKEND, input=NEGOTIATE, extra_env=hooked)
    direct = subprocess.run(
        [str(store_root / "bin" / BACKEND)], input=NEGOTIATE, capture_output=True, text=True
    )
    assert (answer.returncode, answer.stdout, answer.stderr) == (
        direct.returncode, direct.stdout, direct.stderr,
    )  # fmt: skip
    # The demo backend compares its `cd`-ed folder with the prefix it was installed to, which
    # keeps a root's '..': then it refuses to start (a real backend would not look).
    starts = "/../" not in str(store_root)
    config = {**hooked, "CONDA_PIXI_BACKENDS_BACKENDS": BACKEND}
    checks = doctor_checks(cli, 0 if starts else 1, tmp_path, config)
    assert checks["resolves"]["detail"].startswith("installed for this request")
    assert checks["active"]["status"] == "ok", checks["active"]
    if not starts:
        assert "prefix placeholder not replaced" in answer.stderr
        return
    assert json.loads(answer.stdout.splitlines()[0])["id"] == 7
    negotiate(launcher)
