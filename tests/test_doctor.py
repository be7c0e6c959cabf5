"""`doctor` and `conda doctor`'s `pixi-backends` check, against real backends installed from
local channels: a healthy one, one that crashes, one that never answers, one that speaks the
wrong API version, one without the API package; and the override variables."""

from __future__ import annotations

import importlib.util
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import BACKEND, Run

from conda_pixi_backends import demo, probe

CMAKE = "pixi-build-demo-cmake"
API_OK = "pixi-build-api-version >=7,<8"

needs_conda = pytest.mark.skipif(
    importlib.util.find_spec("conda") is None or importlib.util.find_spec("conda.plugins") is None,
    reason="conda is not importable here (it is not on PyPI); install it from source to run these",
)

CRASH = "#!/bin/sh\necho 'crash: the backend cannot start' >&2\nexit 7\n"
# Never answers; notes its pid and its child's, so the test can see both are gone afterwards.
SILENT = '#!/bin/sh\nsleep 60 &\necho "$$ $!" > "$SILENT_PIDS"\nwait\n'
GARBAGE = "#!/bin/sh\necho 'INFO starting up'\nsleep 60\n"


@pytest.fixture(scope="module")
def bad_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Backends that install fine but do not work, and API-version oddities."""
    channel = tmp_path_factory.mktemp("bad-channel")
    demo.build_runtime(channel)
    for api in ("7", "8"):
        demo.build_package(channel, "pixi-build-api-version", api)
    demo.build_backend(channel, "pixi-build-crash", "1.0", script=CRASH)
    demo.build_backend(channel, "pixi-build-silent", "1.0", script=SILENT)
    demo.build_backend(channel, "pixi-build-garbage", "1.0", script=GARBAGE)
    for name, depends in (
        ("pixi-build-api8", ["demo-runtime", "pixi-build-api-version 8.*"]),
        ("pixi-build-noapi", ["demo-runtime"]),
    ):
        script = demo.BACKEND_SCRIPT.replace("@NAME@", name).replace("@VERSION@", "1.0")
        demo.build_package(
            channel, name, "1.0", {f"bin/{name}": script}, depends, executables=[f"bin/{name}"]
        )
    demo.index(channel)
    return channel


def doctor(cli: Run, *args: str, code: int, cwd: Path | None = None, **extra: str) -> dict:
    proc = cli("doctor", "--json", *args, cwd=cwd, extra_env=extra)
    assert proc.returncode == code, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert result["ok"] is (code == 0)
    assert result["summary"]["fail"] == sum(c["status"] == "fail" for c in result["checks"])
    for check in result["checks"]:
        assert set(check) == {"check", "backend", "key", "status", "detail", "fix"}
        assert check["status"] in ("ok", "warn", "fail")
        assert (check["fix"] is None) is (check["status"] == "ok"), check
    return result


def of(result: dict, backend: str | None) -> dict[str, dict]:
    return {c["check"]: c for c in result["checks"] if c["backend"] == backend}


def launcher(root: Path, name: str) -> str:
    return str(root / "bin" / name)


def test_healthy_backends_from_the_manifest(cli: Run, workspace: Path, root: Path) -> None:
    assert cli("install", cwd=workspace).returncode == 0
    result = doctor(cli, code=0, cwd=workspace)
    assert result["root"] == str(root)
    general = of(result, None)
    assert general["manifest"]["detail"].startswith(str(workspace / "pixi.toml"))
    assert general["activation-scripts"]["status"] == "ok"
    checks = of(result, BACKEND)
    assert [c for c in checks if checks[c]["status"] != "ok"] == ["active"]
    assert checks["resolves"]["detail"].startswith("installed for this request")
    assert '"providesCondaOutputs": true' in checks["responds"]["detail"]
    assert checks["api-version"]["detail"].startswith("pixi-build-api-version 7")
    assert checks["active"] == {**checks["active"], "status": "warn", "fix": 'eval "$(python -m conda_pixi_backends shell-hook)"'}  # fmt: skip
    assert checks["resolves"]["key"] == checks["responds"]["key"]
    # With the store's activation in force, this shell hands both to Pixi: nothing to warn about.
    hooked = f"{BACKEND}={launcher(root, BACKEND)},{CMAKE}={launcher(root, CMAKE)}"
    result = doctor(cli, code=0, cwd=workspace, PIXI_BUILD_BACKEND_OVERRIDE=hooked)
    assert result["summary"] == {"ok": len(result["checks"]), "warn": 0, "fail": 0}
    text = cli("doctor", cwd=workspace, extra_env={"PIXI_BUILD_BACKEND_OVERRIDE": hooked})
    assert text.returncode == 0 and "0 failed, 0 warning(s)" in text.stdout
    assert f"\n{BACKEND}  (key " in text.stdout


def test_nothing_installed_fails_with_the_install_command(cli: Run, workspace: Path) -> None:
    result = doctor(cli, code=1, cwd=workspace)
    resolves = of(result, BACKEND)["resolves"]
    assert resolves["status"] == "fail" and resolves["detail"].startswith("not installed")
    assert (
        resolves["fix"]
        == f"python -m conda_pixi_backends install -m {workspace / 'greeter' / 'pixi.toml'}"
    )
    assert set(of(result, BACKEND)) == {"resolves"}  # nothing else to check: nothing runs


def test_broken_backends(cli: Run, bad_channel: Path, tmp_path: Path) -> None:
    names = ["pixi-build-crash", "pixi-build-silent", "pixi-build-garbage"]
    channels = {"CONDA_PIXI_BACKENDS_CHANNELS": bad_channel.as_uri()}
    assert cli("install", *names, extra_env=channels).returncode == 0
    pids = tmp_path / "silent.pids"
    start = time.monotonic()
    result = doctor(
        cli, "--timeout", "1", code=1, SILENT_PIDS=str(pids),
        CONDA_PIXI_BACKENDS_BACKENDS=";".join(names), **channels,
    )  # fmt: skip
    assert time.monotonic() - start < 10  # probes run at once; a silent one costs one timeout
    crash = of(result, "pixi-build-crash")["responds"]
    assert crash["status"] == "fail"
    assert crash["detail"] == (
        "crashed: exited with code 7 before answering: crash: the backend cannot start"
    )
    assert crash["fix"] == "python -m conda_pixi_backends install --force pixi-build-crash"
    assert of(result, "pixi-build-crash")["resolves"]["status"] == "ok"  # installed: just broken
    silent = of(result, "pixi-build-silent")["responds"]
    assert silent["status"] == "fail" and silent["detail"].startswith("silent: did not answer")
    garbage = of(result, "pixi-build-garbage")["responds"]
    assert (
        garbage["detail"] == "garbage: answered with something that is not JSON: 'INFO starting up'"
    )
    # The silent backend and the child it started are gone, and no zombie of ours is left.
    backend, child = map(int, pids.read_text().split())
    assert not Path(f"/proc/{backend}").exists()  # killed and reaped by the probe
    try:  # killed with its group; reparented, so init reaps it (or not: then it is not ours)
        state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        state = "gone"
    assert state in ("gone", "Z"), state
    # The configured backends are checked through `sync`'s eyes when missing.
    result = doctor(
        cli, "--timeout", "1", code=1, CONDA_PIXI_BACKENDS_BACKENDS="pixi-build-api8", **channels
    )
    assert of(result, "pixi-build-api8")["resolves"]["fix"] == "python -m conda_pixi_backends sync"


def test_api_version_against_the_configured_constraint(cli: Run, bad_channel: Path) -> None:
    channels = {"CONDA_PIXI_BACKENDS_CHANNELS": bad_channel.as_uri()}
    # Installed without the constraint (by default `constraints` holds it, and the install
    # refuses both; test_api_guard.py shows how).
    unconstrained = {**channels, "CONDA_PIXI_BACKENDS_CONSTRAINTS": ""}
    proc = cli("install", "pixi-build-api8", "pixi-build-noapi", extra_env=unconstrained)
    assert proc.returncode == 0, proc.stderr
    result = doctor(cli, code=1, **unconstrained)  # exposed only; no constraint configured
    assert of(result, "pixi-build-api8")["api-version"]["detail"] == (
        "pixi-build-api-version 8 (no constraint configured)"
    )
    noapi = of(result, "pixi-build-noapi")["api-version"]
    assert noapi["status"] == "fail" and "has no pixi-build-api-version" in noapi["detail"]
    result = doctor(
        cli, code=1, CONDA_PIXI_BACKENDS_CONSTRAINTS=API_OK,
        CONDA_PIXI_BACKENDS_BACKENDS="pixi-build-api8", **channels,
    )  # fmt: skip
    checks = of(result, "pixi-build-api8")
    assert checks["api-version"]["status"] == "fail"
    assert checks["api-version"]["detail"] == (
        f"pixi-build-api-version 8 does not satisfy the configured constraint '{API_OK}'"
    )
    # The constraint is part of the request: the environment serving it is another one.
    assert checks["resolves"]["status"] == "fail"
    assert "the launcher runs pixi-build-api8-" in checks["resolves"]["detail"]
    assert checks["responds"]["status"] == "ok"  # it works; Pixi would just not speak to it


def test_constraint_satisfied(cli: Run, workspace: Path) -> None:
    extra = {"CONDA_PIXI_BACKENDS_CONSTRAINTS": API_OK}
    assert cli("install", cwd=workspace, extra_env=extra).returncode == 0
    result = doctor(cli, code=0, cwd=workspace, **extra)
    assert (
        of(result, BACKEND)["api-version"]["detail"]
        == f"pixi-build-api-version 7 satisfies {API_OK}"
    )


def test_malformed_override(cli: Run, env: dict[str, str], tmp_path: Path) -> None:
    value = "a=b=c,pixi-build-x=/nonexistent,ghost-backend"
    result = doctor(cli, code=1, PIXI_BUILD_BACKEND_OVERRIDE=value)
    variable = of(result, None)["override-variable"]
    assert variable["status"] == "fail" and "malformed item 'a=b=c'" in variable["detail"]
    fix = variable["fix"]
    assert fix == "export PIXI_BUILD_BACKEND_OVERRIDE=pixi-build-x=/nonexistent,ghost-backend"
    # Pixi ignores a malformed variable whole: its entries are not checked as overrides.
    assert not [c for c in result["checks"] if c["check"] == "override-target"]
    # Its fix, run in a real shell, makes the variable well formed; what is left dangles.
    script = f'{fix}\nexec "$@" doctor --json'
    proc = subprocess.run(
        ["bash", "-c", script, "bash", sys.executable, "-m", "conda_pixi_backends"],
        env=env, cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    after = json.loads(proc.stdout)
    assert of(after, None)["override-variable"]["status"] == "ok"
    dangling = of(after, "pixi-build-x")["override-target"]
    assert dangling["detail"] == "PIXI_BUILD_BACKEND_OVERRIDE names /nonexistent: missing"
    assert dangling["fix"] == "export PIXI_BUILD_BACKEND_OVERRIDE=ghost-backend"
    ghost = of(after, "ghost-backend")["override-target"]
    assert ghost["status"] == "fail" and "PATH has no ghost-backend" in ghost["detail"]
    assert ghost["fix"] == "export PIXI_BUILD_BACKEND_OVERRIDE=pixi-build-x=/nonexistent"


def test_override_of_a_requested_backend(cli: Run, workspace: Path, tmp_path: Path) -> None:
    fake = tmp_path / "my-backend"
    fake.write_text(demo.BACKEND_SCRIPT.replace("@NAME@", "x").replace("@VERSION@", "1"))
    fake.chmod(0o755)
    value = f"{BACKEND}={fake},{CMAKE}={tmp_path / 'gone'}"
    result = doctor(cli, code=1, cwd=workspace, PIXI_BUILD_BACKEND_OVERRIDE=value)
    mine = of(result, BACKEND)
    assert mine["resolves"]["detail"] == f"overridden by PIXI_BUILD_BACKEND_OVERRIDE: {fake}"
    # The demo backend refuses to start unactivated, as Pixi would run an override.
    assert (
        mine["responds"]["status"] == "fail" and "exited with code 3" in mine["responds"]["detail"]
    )
    assert mine["responds"]["fix"] == (
        f"repair {fake}, or: export PIXI_BUILD_BACKEND_OVERRIDE={CMAKE}={tmp_path / 'gone'}"
    )
    gone = of(result, CMAKE)
    assert gone["executable"]["detail"] == f"{tmp_path / 'gone'}: missing"
    assert "responds" not in gone


def test_stale_activation_scripts_and_fix(cli: Run, workspace: Path, root: Path) -> None:
    assert cli("install", cwd=workspace).returncode == 0
    with (root / "activate" / "activate.bash").open("a") as handle:
        handle.write("# edited\n")
    result = doctor(cli, code=0, cwd=workspace)
    scripts = of(result, None)["activation-scripts"]
    assert scripts["status"] == "warn" and "out of date: activate.bash" in scripts["detail"]
    assert scripts["fix"] == "python -m conda_pixi_backends doctor --fix"
    (root / "bin" / CMAKE).unlink()
    result = doctor(cli, code=1, cwd=workspace)
    scripts = of(result, None)["activation-scripts"]
    assert scripts["status"] == "fail" and scripts["detail"].endswith(f"do not exist: {CMAKE}")
    assert of(result, CMAKE)["executable"]["fix"] == "python -m conda_pixi_backends doctor --fix"
    fixed = doctor(cli, "--fix", code=0, cwd=workspace)
    assert fixed["fixed"] == [f"rewrote the launchers and activation scripts in {root}"]
    assert of(fixed, CMAKE)["responds"]["status"] == "ok"
    assert of(fixed, None)["activation-scripts"]["status"] == "ok"


def test_incomplete_environment(cli: Run, workspace: Path, root: Path) -> None:
    assert cli("install", cwd=workspace).returncode == 0
    record = json.loads(next((root / "envs").glob(f"{BACKEND}-*.json")).read_text())
    (Path(record["prefix"]) / "conda-meta").rename(Path(record["prefix"]) / "conda-meta.gone")
    result = doctor(cli, code=1, cwd=workspace)
    checks = of(result, BACKEND)
    assert checks["resolves"]["detail"].startswith("incomplete for this request")
    assert checks["environment"]["detail"].endswith(f"{record['prefix']} has no conda-meta")
    greeter = workspace / "greeter" / "pixi.toml"
    assert (
        checks["environment"]["fix"]
        == f"python -m conda_pixi_backends install --force -m {greeter}"
    )
    assert "api-version" not in checks  # no metadata to read it from


def test_fixes_act_on_the_store_that_was_checked(cli: Run, workspace: Path, tmp_path: Path) -> None:
    """`doctor --root OTHER` suggests fixes for OTHER, and running the fix as shown heals it."""
    other = tmp_path / "other-store"
    assert cli("install", "--root", str(other), cwd=workspace).returncode == 0
    record = json.loads(next((other / "envs").glob(f"{BACKEND}-*.json")).read_text())
    (Path(record["prefix"]) / "conda-meta").rename(Path(record["prefix"]) / "conda-meta.gone")
    checks = of(doctor(cli, "--root", str(other), code=1, cwd=workspace), BACKEND)
    fix = checks["environment"]["fix"]
    words = shlex.split(fix)
    assert words[:5] == ["python", "-m", "conda_pixi_backends", "--root", str(other)], fix
    assert cli(*words[3:], cwd=workspace).returncode == 0
    assert of(doctor(cli, "--root", str(other), code=0, cwd=workspace), BACKEND)


def test_bad_flags_exit_2(cli: Run, tmp_path: Path) -> None:
    for args in (["--timeout", "0"], ["-m", str(tmp_path / "missing")], ["--bogus"],
                 ["-p", str(tmp_path / "missing")], ["-p", str(tmp_path)]):  # fmt: skip
        proc = cli("doctor", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr


def test_probe_classifies_and_never_hangs(tmp_path: Path) -> None:
    """The probe alone, on the cases no installed backend above covers."""
    cases = {
        "rpc-error": 'read l; echo \'{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}}\'',
        "no-newline": 'printf \'{"jsonrpc":"2.0","id":1,"result":{"capabilities":{"a":1}}}\'',
        "wrong-id": 'read l; echo \'{"jsonrpc":"2.0","id":2,"result":{"capabilities":{}}}\'; sleep 60',
        "signal": "kill -SEGV $$",
        "closes-stdout": "exec >&-; sleep 60",
    }
    found = {}
    for name, body in cases.items():
        path = tmp_path / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
        found[name] = probe.negotiate(path, timeout=2)
    assert found["rpc-error"].status == "rpc-error" and "-32601: no" in found["rpc-error"].detail
    assert found["no-newline"].ok and found["no-newline"].capabilities == {"a": 1}
    assert found["wrong-id"].status == "garbage" and "id 2" in found["wrong-id"].detail
    assert found["signal"].detail == "was killed by SIGSEGV before answering"
    assert found["closes-stdout"].status == "crashed"
    assert all(r.seconds < 4 for r in found.values())
    assert probe.negotiate(tmp_path / "absent").status == "not-started"


@needs_conda
def test_conda_doctor(cli: Run, env: dict[str, str], workspace: Path, tmp_path: Path) -> None:
    assert cli("install", cwd=workspace).returncode == 0
    home = {**env, "HOME": str(tmp_path / "home")}  # conda notes environments under ~/.conda
    prefix = tmp_path / "conda-env"

    def conda(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "conda", *args], env={**home, **extra}, cwd=workspace,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    made = conda("create", "--offline", "-y", "-p", str(prefix))
    assert made.returncode == 0, made.stderr
    assert "pixi-backends" in conda("doctor", "--list").stdout
    proc = conda("doctor", "-p", str(prefix), "pixi-backends")
    assert proc.returncode == 0, proc.stderr
    assert f"Pixi build backends ({env['CONDA_PIXI_BACKENDS_ROOT']}): 0 failed" in proc.stdout
    assert "✅" in proc.stdout and "Error running health check" not in proc.stderr
    broken = conda(
        "doctor", "-p", str(prefix), "pixi-backends", PIXI_BUILD_BACKEND_OVERRIDE="a=b=c"
    )
    assert "❌ Pixi build backends" in broken.stdout
    assert "override-variable: PIXI_BUILD_BACKEND_OVERRIDE: malformed item 'a=b=c'" in broken.stdout
    assert "fix: unset PIXI_BUILD_BACKEND_OVERRIDE" in broken.stdout
    verbose = conda("doctor", "-v", "-p", str(prefix), "pixi-backends")
    assert f"conda-env: {prefix}: conda activate does not hand" in verbose.stdout
    script = Path(env["CONDA_PIXI_BACKENDS_ROOT"], "activate", "activate.fish")
    good = script.read_text()
    script.write_text(good + "# edited\n")
    fixed = conda("doctor", "--fix", "-y", "-p", str(prefix), "pixi-backends")
    assert fixed.returncode == 0, fixed.stderr
    assert "rewrote the launchers and activation scripts" in fixed.stdout
    assert script.read_text() == good
