"""The Pixi build API guard: by default (setting `constraints`) every backend environment must
hold a `pixi-build-api-version` that Pixi 0.77 speaks (>=7,<8). A backend that speaks another
API, or none, is refused at install with one line that says which; a loose spec gets the newest
version that speaks it, because the constraint is part of the solve; an admin who removes the
constraint opts out. All against a real local channel built here."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import Run, as_json, by_name, snapshot

from conda_pixi_backends import demo
from conda_pixi_backends.settings import PIXI_API_CONSTRAINT, current_platform

OLD = "pixi-build-old"  # every version speaks API 6
NOAPI = "pixi-build-noapi"  # no pixi-build-api-version at all
LOOSE = "pixi-build-loose"  # 0.1.0 speaks API 7, 0.2.0 speaks API 8
GOOD = "pixi-build-good"  # speaks API 7
NO_CONSTRAINTS = {"CONDA_PIXI_BACKENDS_CONSTRAINTS": ""}
PREFIX = "conda-pixi-backend: error: "


def backend(channel: Path, name: str, version: str, depends: list[str]) -> None:
    """A working demo backend whose dependencies are exactly `depends` (no API added)."""
    script = demo.BACKEND_SCRIPT.replace("@NAME@", name).replace("@VERSION@", version)
    demo.build_package(
        channel, name, version, {f"bin/{name}": script}, depends, executables=[f"bin/{name}"]
    )


@pytest.fixture(scope="module")
def api_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    channel = tmp_path_factory.mktemp("api-channel")
    demo.build_runtime(channel)
    for api in ("6", "7", "8"):
        demo.build_package(channel, "pixi-build-api-version", api)
    for version in ("0.1.0", "0.1.1"):
        backend(channel, OLD, version, ["demo-runtime", "pixi-build-api-version 6"])
    backend(channel, NOAPI, "0.1.0", ["demo-runtime"])
    backend(channel, LOOSE, "0.1.0", ["demo-runtime", "pixi-build-api-version >=7,<8"])
    backend(channel, LOOSE, "0.2.0", ["demo-runtime", "pixi-build-api-version >=8,<9"])
    demo.build_backend(channel, GOOD, "1.0.0")  # the demo's own: pixi-build-api-version >=7,<8
    demo.index(channel)
    return channel


@pytest.fixture
def api_cli(cli: Run, api_channel: Path) -> Run:
    """The CLI with the API channel as the default channel."""

    def run(*args: str, extra_env: dict[str, str] | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
        env = {"CONDA_PIXI_BACKENDS_CHANNELS": api_channel.as_uri(), **(extra_env or {})}
        return cli(*args, extra_env=env, **kwargs)

    return run


def old_message(spec: str, origin: str = "command line", advice: str = "pin a newer backend version") -> str:  # fmt: skip
    return (
        f"{spec} (from {origin}) speaks Pixi build API 6 (pixi-build-api-version 6), but "
        f"setting 'constraints' asks for {PIXI_API_CONSTRAINT}: {advice}"
    )


NOAPI_MESSAGE = (
    f"{NOAPI} 0.1.0 does not depend on pixi-build-api-version: it speaks no Pixi build API that "
    f"Pixi knows (setting 'constraints' asks for {PIXI_API_CONSTRAINT})"
)


def refused(proc, message: str) -> None:  # type: ignore[no-untyped-def]
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", f"{PREFIX}{message}\n")


def test_default_refuses_other_apis_and_changes_nothing(api_cli: Run, root: Path) -> None:
    assert api_cli("install", GOOD).returncode == 0  # a store with something in it
    before = snapshot(root)
    refused(api_cli("install", f"{OLD} 0.1.*"), old_message(f"{OLD} 0.1.*"))
    # A bare name: the newest version speaks API 6 too, so pinning cannot help.
    advice = f"its channels have no {OLD} version that speaks it; use a channel with a newer one"
    refused(api_cli("install", OLD), old_message(OLD, advice=advice))
    refused(api_cli("install", NOAPI), NOAPI_MESSAGE)
    # One refused request stops the whole install: the good one beside it is not reinstalled.
    refused(api_cli("install", "--force", GOOD, NOAPI), NOAPI_MESSAGE)
    assert snapshot(root) == before


def test_a_manifest_is_named_as_the_origin(api_cli: Run, api_channel: Path, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "ws", api_channel, f"{OLD} 0.1.*")
    refused(api_cli("install", cwd=manifest.parent), old_message(f"{OLD} 0.1.*", str(manifest)))


def test_a_loose_spec_gets_the_newest_version_that_speaks_api_7(api_cli: Run) -> None:
    chosen = by_name(as_json(api_cli("install", LOOSE, "--json")))[LOOSE]
    assert (chosen["status"], chosen["version"]) == ("installed", "0.1.0")
    # Without the constraint the solver takes the newest, which speaks API 8.
    free = as_json(api_cli("install", LOOSE, "--json", extra_env=NO_CONSTRAINTS))
    assert by_name(free)[LOOSE]["version"] == "0.2.0"
    assert by_name(free)[LOOSE]["key"] != chosen["key"]  # the constraint is part of the key


def test_config_show_has_the_default_constraint(cli: Run) -> None:
    shown = as_json(cli("config", "show", "constraints", "--sources", "--json"))
    assert shown["settings"]["constraints"] == {
        "value": [PIXI_API_CONSTRAINT],
        "source": "default",
        "kind": "default",
        "final": None,
    }
    assert PIXI_API_CONSTRAINT == "pixi-build-api-version >=7,<8"
    text = cli("config", "show", "constraints")
    assert text.stdout == f'constraints: ["{PIXI_API_CONSTRAINT}"]\n'


def test_removing_the_constraint_opts_out(
    api_cli: Run, env: dict[str, str], tmp_path: Path
) -> None:
    ok = as_json(api_cli("install", f"{OLD} 0.1.*", NOAPI, "--json", extra_env=NO_CONSTRAINTS))
    assert {b["name"]: b["status"] for b in ok["backends"]} == {
        OLD: "installed",
        NOAPI: "installed",
    }
    assert by_name(ok)[OLD]["version"] == "0.1.1"
    # The same through the user's YAML file.
    user = tmp_path / "user.yml"
    user.write_text("constraints: []\n")
    again = api_cli("install", f"{OLD} 0.1.*", "--json", extra_env={"CONDA_PIXI_BACKENDS_CONFIG": str(user)})  # fmt: skip
    assert by_name(as_json(again))[OLD]["status"] == "already-installed"
    # Other constraints alone do not check the API.
    other = {"CONDA_PIXI_BACKENDS_CONSTRAINTS": "demo-runtime >=1"}
    assert api_cli("install", NOAPI, extra_env=other).returncode == 0


def doctor_json(api_cli: Run, code: int, **extra: str) -> dict:
    proc = api_cli("doctor", "--json", extra_env=extra)
    assert proc.returncode == code, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def checks(result: dict, backend: str | None) -> dict[str, dict]:
    return {c["check"]: c for c in result["checks"] if c["backend"] == backend}


def test_doctor_reports_the_api_version(api_cli: Run) -> None:
    assert api_cli("install", GOOD).returncode == 0
    assert api_cli("install", f"{OLD} 0.1.*", extra_env=NO_CONSTRAINTS).returncode == 0
    result = doctor_json(api_cli, 1)
    assert result["api"] == {
        "constraints": [PIXI_API_CONSTRAINT],
        "backends": {GOOD: "7", OLD: "6"},
    }
    good = checks(result, GOOD)["api-version"]
    assert (good["status"], good["detail"]) == ("ok", f"pixi-build-api-version 7 satisfies {PIXI_API_CONSTRAINT}")  # fmt: skip
    old = checks(result, OLD)["api-version"]
    assert old["status"] == "fail"
    assert old["detail"] == (
        f"pixi-build-api-version 6 does not satisfy the configured constraint '{PIXI_API_CONSTRAINT}'"
    )
    assert old["fix"].startswith("reinstall with a newer version that speaks it: python -m conda_pixi_backends install")  # fmt: skip
    # The text report says the same, in its usual format.
    text = api_cli("doctor")
    assert text.returncode == 1
    assert (
        "  FAIL  api-version" in text.stdout
        and "fix: reinstall with a newer version" in text.stdout
    )
    # Opted out: reported, not a failure.
    free = doctor_json(api_cli, 0, **NO_CONSTRAINTS)
    assert checks(free, OLD)["api-version"]["detail"] == (
        "pixi-build-api-version 6 (no constraint configured)"
    )
    assert free["api"]["constraints"] == []


def fake_pixi(folder: Path, version: str) -> Path:
    """An executable named pixi that answers `--version` as Pixi does."""
    folder.mkdir(parents=True, exist_ok=True)
    pixi = folder / "pixi"
    pixi.write_text(f'#!/bin/sh\n[ "$1" = --version ] && echo "pixi {version}"\n')
    pixi.chmod(0o755)
    return pixi


def test_doctor_reports_the_pixi_on_path(api_cli: Run, env: dict[str, str], tmp_path: Path) -> None:
    result = doctor_json(api_cli, 0, PATH=env["PATH"])
    if result["pixi"] is None:  # no pixi here: no finding either
        assert "pixi" not in checks(result, None)
    pixi = fake_pixi(tmp_path / "pixi-bin", "0.77.0")
    path = f"{pixi.parent}{os.pathsep}{env['PATH']}"
    result = doctor_json(api_cli, 0, PATH=path)
    assert result["pixi"] == {"path": str(pixi), "version": "0.77.0"}
    finding = checks(result, None)["pixi"]
    assert (finding["status"], finding["detail"]) == (
        "ok",
        f"pixi 0.77.0 ({pixi}); Pixi 0.77 speaks Pixi build API 7 (pixi-build-api-version >=7,<8)",
    )
    # A constraint that Pixi 0.77 does not speak: a warning with the way back.
    result = doctor_json(api_cli, 0, PATH=path, CONDA_PIXI_BACKENDS_CONSTRAINTS="pixi-build-api-version >=8,<9")  # fmt: skip
    finding = checks(result, None)["pixi"]
    assert finding["status"] == "warn"
    assert finding["detail"].endswith(", but setting 'constraints' asks for pixi-build-api-version >=8,<9")  # fmt: skip
    assert finding["fix"] == f"set 'constraints' to {PIXI_API_CONSTRAINT} where it is set"
    # Another release: only its version is reported.
    other = fake_pixi(tmp_path / "other-bin", "0.80.1")
    result = doctor_json(api_cli, 0, PATH=f"{other.parent}{os.pathsep}{env['PATH']}")
    assert checks(result, None)["pixi"]["detail"].startswith(
        f"pixi 0.80.1 ({other}); Pixi 0.77 speaks"
    )


def write_manifest(folder: Path, channel: Path, spec: str) -> Path:
    name, _, version = spec.partition(" ")
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "pixi.toml"
    manifest.write_text(
        "[workspace]\n"
        'name = "ws"\n'
        f'channels = ["{channel.as_uri()}"]\n'
        f'platforms = ["{current_platform()}"]\n'
        'preview = ["pixi-build"]\n\n'
        "[package]\n"
        'name = "ws"\n'
        'version = "0.1.0"\n\n'
        "[package.build]\n"
        f'backend = {{ name = "{name}", version = "{version or "*"}" }}\n'
    )
    return manifest


def test_locked_records_are_checked_too(api_cli: Run, api_channel: Path, root: Path, tmp_path: Path) -> None:  # fmt: skip
    workspace = write_manifest(tmp_path / "ws", api_channel, f"{OLD} 0.1.*").parent
    # `lock` solves: with the default constraint it refuses to lock an API-6 backend.
    manifest = workspace / "pixi.toml"
    refused(api_cli("lock", cwd=workspace), old_message(f"{OLD} 0.1.*", str(manifest)))
    assert not (workspace / "pixi-backends.lock").exists()
    # A lock file written without the constraint, its environment renamed to the key of the
    # constrained request (as an old or hand-edited lock file could hold it).
    locked = as_json(api_cli("lock", "--json", cwd=workspace, extra_env=NO_CONSTRAINTS))
    free_env = locked["environments"][0]["environment"]
    plan = as_json(api_cli("install", "--dry-run", "--json", cwd=workspace))
    wanted_env = f"{OLD}-{by_name(plan)[OLD]['key']}"
    lock = workspace / "pixi-backends.lock"
    lock.write_text(lock.read_text().replace(free_env, wanted_env))
    assert api_cli("install", GOOD).returncode == 0  # a store with something in it
    before = snapshot(root)
    refused(
        api_cli("install", "--locked", cwd=workspace),
        f"{OLD} 0.1.1 speaks Pixi build API 6 (pixi-build-api-version 6), but setting "
        f"'constraints' asks for {PIXI_API_CONSTRAINT}: lock a newer backend version: "
        "python -m conda_pixi_backends lock",
    )
    assert snapshot(root) == before
    # Opted out, the lock file as written installs.
    lock.write_text(lock.read_text().replace(wanted_env, free_env))
    done = api_cli("install", "--locked", "--json", cwd=workspace, extra_env=NO_CONSTRAINTS)
    assert by_name(as_json(done))[OLD]["version"] == "0.1.1"
