"""`install` end to end: real channel, real solve and install, real launchers."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import time
from pathlib import Path

from conftest import BACKEND, CLI, Run, as_json, by_name, negotiate

CMAKE = "pixi-build-demo-cmake"


def test_install_from_workspace_manifest(
    cli: Run, workspace: Path, channel: Path, root: Path
) -> None:
    result = as_json(cli("install", "--json", cwd=workspace))
    backends = by_name(result)
    assert set(backends) == {BACKEND, CMAKE}, "the workspace's every package is read"
    python, cmake = backends[BACKEND], backends[CMAKE]
    assert python["status"] == cmake["status"] == "installed"
    assert python["spec"] == f"{BACKEND} 0.2.*" and python["version"] == "0.2.0"
    assert cmake["spec"] == f"{CMAKE} 0.1.*", "workspace = true takes the workspace's spec"
    assert python["channels"] == [channel.as_uri()], "the workspace's channels"
    assert python["manifests"] == [str(workspace / "greeter" / "pixi.toml")]
    assert cmake["manifests"] == [str(workspace / "engine" / "pixi.toml")]
    for backend in (python, cmake):
        prefix = Path(backend["prefix"])
        assert prefix.name == f"{backend['name']}-{backend['key']}"
        assert (prefix / "conda-meta").is_dir()
        assert (root / "envs" / f"{prefix.name}.json").is_file()
        assert backend["executables"] == [str(root / "bin" / backend["name"])]
        answer = negotiate(backend["executables"][0], env={"PATH": "/usr/bin:/bin"})
        assert answer["id"] == 7
        assert answer["result"]["capabilities"] == {
            "providesCondaOutputs": True,
            "providesCondaBuildV1": False,
        }


def test_manifest_found_upward_from_a_package_folder(cli: Run, workspace: Path) -> None:
    nested = workspace / "greeter" / "src"
    nested.mkdir()
    result = as_json(cli("install", "--dry-run", "--json", cwd=nested))
    # As Pixi: upward past the package's own manifest to its workspace, and all it reaches.
    assert [b["name"] for b in result["backends"]] == [BACKEND, "pixi-build-demo-cmake"]


def test_second_install_is_a_no_op_without_py_rattler(
    cli: Run, workspace: Path, root: Path
) -> None:
    first = as_json(cli("install", "--json", cwd=workspace))
    envs = sorted(p.name for p in (root / "envs").iterdir())
    second = cli("install", "--json", cwd=workspace, extra_env={"PYTHONPROFILEIMPORTTIME": "1"})
    result = as_json(second)
    assert {b["status"] for b in result["backends"]} == {"already-installed"}
    assert [b["key"] for b in result["backends"]] == [b["key"] for b in first["backends"]]
    imported = [line.split("|")[-1].strip() for line in second.stderr.splitlines() if "|" in line]
    assert imported, "import times were not reported"
    assert not any(name == "rattler" or name.startswith("rattler.") for name in imported)
    assert sorted(p.name for p in (root / "envs").iterdir()) == envs


def test_a_no_op_writes_only_the_last_used_time(
    cli: Run, env: dict[str, str], workspace: Path, root: Path
) -> None:
    """Nothing that did not change is rewritten: a no-op install sets the modification time
    of each environment's metadata (its last use, as `list` shows) and writes nothing else,
    and it takes no lock, so it waits for no one (here: locks held by another process)."""
    from conda_pixi_backends.store import Store

    as_json(cli("install", "--json", cwd=workspace))
    before = files(root)
    used = {r["env"]: r["last_used"] for r in as_json(cli("list", "--json"))["environments"]}
    store = Store(root)
    time.sleep(0.05)
    with store.lock("exposure"), contextlib.ExitStack() as held:
        for env_name in used:
            held.enter_context(store.lock(env_name))
        proc = subprocess.run(
            [*CLI, "install", "--json"], env=env, cwd=workspace, capture_output=True,
            text=True, timeout=60,
        )  # fmt: skip
    assert {b["status"] for b in as_json(proc)["backends"]} == {"already-installed"}
    after = files(root)
    metadata = {f"envs/{env_name}.json" for env_name in used}
    assert after.keys() == before.keys()
    for path, (inode, mtime, digest) in after.items():
        assert (inode, digest) == before[path][::2], f"{path} was rewritten"
        if path in metadata:
            assert mtime > before[path][1], f"{path}: the use was not noted"
        else:
            assert mtime == before[path][1], f"{path} was touched"
    listed = as_json(cli("list", "--json"))["environments"]
    assert all(r["last_used"] > used[r["env"]] for r in listed), "list shows the later use"


def files(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every file of the store but its caches and locks: inode, mtime and content hash."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel.split("/")[0] not in ("cache", "locks", "pkgs"):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[rel] = (path.stat().st_ino, path.stat().st_mtime_ns, digest)
    return found


def test_dry_run_writes_nothing(cli: Run, workspace: Path, root: Path) -> None:
    result = as_json(cli("install", "--dry-run", "--json", cwd=workspace))
    assert {b["status"] for b in result["backends"]} == {"would-install"}
    assert not root.exists()


def test_spec_with_channel_and_version(cli: Run, channel: Path, root: Path) -> None:
    result = as_json(
        cli("install", f"{BACKEND} 0.1.*", "-c", str(channel), "--override-channels", "--json")
    )
    (backend,) = result["backends"]
    assert backend["version"] == "0.1.0"
    assert backend["channels"] == [channel.as_uri()]
    record = json.loads((root / "envs" / f"{BACKEND}-{backend['key']}.json").read_text())
    assert {p["name"] for p in record["packages"]} == {
        BACKEND,
        "demo-runtime",
        "pixi-build-api-version",
    }


def test_same_request_from_two_manifests_shares_one_environment(
    cli: Run, workspace: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "pixi.toml").write_text(
        (workspace / "greeter" / "pixi.toml").read_text()
        + f'channels = ["{(workspace / "pixi.toml").read_text().split(chr(34))[3]}"]\n'
    )
    first = by_name(as_json(cli("install", "--json", "-m", str(workspace / "greeter"))))
    second = by_name(as_json(cli("install", "--json", "-m", str(other))))
    assert first[BACKEND]["key"] == second[BACKEND]["key"]
    assert second[BACKEND]["status"] == "already-installed"


def test_incomplete_environment_is_reinstalled(cli: Run, workspace: Path, root: Path) -> None:
    (backend,) = [
        b
        for b in as_json(cli("install", "--json", cwd=workspace))["backends"]
        if b["name"] == BACKEND
    ]
    (
        root / "envs" / f"{BACKEND}-{backend['key']}.json"
    ).unlink()  # as if killed before the metadata
    again = by_name(as_json(cli("install", "--json", cwd=workspace)))
    assert again[BACKEND]["status"] == "installed"
    assert again[CMAKE]["status"] == "already-installed"
    negotiate(again[BACKEND]["executables"][0])


def test_force_reinstalls(cli: Run, workspace: Path) -> None:
    as_json(cli("install", "--json", cwd=workspace))
    forced = as_json(cli("install", "--force", "--json", cwd=workspace))
    assert {b["status"] for b in forced["backends"]} == {"installed"}


def test_constraints_setting_reaches_the_solver(cli: Run, channel: Path) -> None:
    spec = [BACKEND, "-c", str(channel), "--json"]
    ok = as_json(
        cli(
            "install",
            *spec,
            extra_env={"CONDA_PIXI_BACKENDS_CONSTRAINTS": "pixi-build-api-version >=7,<8"},
        )
    )
    assert ok["backends"][0]["status"] == "installed"
    bad = cli(
        "install",
        *spec,
        extra_env={"CONDA_PIXI_BACKENDS_CONSTRAINTS": "pixi-build-api-version >=8"},
    )
    assert bad.returncode == 1
    # Solvable without it: the error says which API the backend speaks instead.
    assert bad.stderr == (
        f"conda-pixi-backend: error: {BACKEND} (from command line) speaks Pixi build API 7 "
        "(pixi-build-api-version 7), but setting 'constraints' asks for "
        f"pixi-build-api-version >=8: its channels have no {BACKEND} version that speaks it; "
        "use a channel with a newer one\n"
    )
    other = cli("install", *spec, extra_env={"CONDA_PIXI_BACKENDS_CONSTRAINTS": "demo-runtime >=2"})
    assert other.returncode == 1
    assert "cannot solve" in other.stderr and "Traceback" not in other.stderr


def test_concurrent_installs_of_one_request(
    cli: Run, channel: Path, env: dict, root: Path, tmp_path: Path
) -> None:
    argv = [
        *CLI,
        "install",
        BACKEND,
        "-c",
        str(channel),
        "--json",
    ]
    procs = [subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]  # fmt: skip
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    statuses = sorted(json.loads(out)["backends"][0]["status"] for out, _ in outputs)
    assert (
        statuses in (["already-installed", "installed"], ["installed", "installed"])
        and "installed" in statuses
    )
    envs = [p for p in (root / "envs").iterdir() if p.is_dir()]
    assert len(envs) == 1
    negotiate(root / "bin" / BACKEND)


def test_launcher_needs_no_activation_from_the_caller(cli: Run, channel: Path, root: Path) -> None:
    as_json(cli("install", BACKEND, "-c", str(channel), "--json"))
    env_prefix = next(p for p in (root / "envs").iterdir() if p.is_dir())
    direct = subprocess.run([str(env_prefix / "bin" / BACKEND)], input="", capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin"})  # fmt: skip
    assert direct.returncode == 3, "the demo backend refuses to run unactivated"
    launched = subprocess.run([str(root / "bin" / BACKEND), "--version"], capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin"})  # fmt: skip
    assert launched.returncode == 0 and launched.stdout.strip() == f"{BACKEND} 0.2.0"


def test_human_output(cli: Run, workspace: Path) -> None:
    proc = cli("install", cwd=workspace)
    assert proc.returncode == 0, proc.stderr
    assert re.search(rf"^{BACKEND}\s+installed\s", proc.stdout, re.M), proc.stdout
    assert "shell-hook" in proc.stdout
    assert cli("install", cwd=workspace).stdout.count("already installed") == 2


def test_platform_flag_changes_the_key(cli: Run, channel: Path) -> None:
    native = as_json(cli("install", BACKEND, "-c", str(channel), "--dry-run", "--json"))[
        "backends"
    ][0]
    other = "osx-arm64" if native["platform"] != "osx-arm64" else "linux-64"
    cross = as_json(
        cli("install", BACKEND, "-c", str(channel), "--dry-run", "--json", "--platform", other)
    )
    assert cross["backends"][0]["platform"] == other
    assert cross["backends"][0]["key"] != native["key"]
    # Installed for another platform: not exposed, and said so; no hint to activate nothing.
    out = cli("install", BACKEND, "-c", str(channel), "--platform", other).stdout
    assert "installed" in out and "(not exposed: no launcher runs it on this machine)" in out
    assert "To hand these backends to Pixi" not in out


def read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def test_progress_on_a_terminal_only(cli: Run, env: dict, tmp_path: Path) -> None:
    import pty

    quiet = cli("install", BACKEND, "--root", str(tmp_path / "a"))
    assert quiet.returncode == 0 and quiet.stderr == "", "no progress when output is not a terminal"
    controller, terminal = pty.openpty()
    argv = [
        *CLI,
        "install",
        BACKEND,
        "--root",
        str(tmp_path / "b"),
    ]
    proc = subprocess.Popen(
        argv, env=env, stdin=terminal, stdout=terminal, stderr=terminal, cwd=tmp_path
    )
    os.close(terminal)
    screen = read_all(controller)
    os.close(controller)
    assert proc.wait(timeout=120) == 0, screen
    assert "Solving and installing 1 backend environment(s)" in screen
    assert "installing packages" in screen, "py-rattler's progress bars"
    json_run = cli("install", BACKEND, "--root", str(tmp_path / "c"), "--json")
    assert json_run.stderr == ""


PLAIN_BACKEND = """#!/bin/sh
printf '%s\\n' "$CONDA_PREFIX" "${PATH%%:*}"
"""


def test_an_environment_with_nothing_to_activate_is_recorded_without_a_shell(
    env: dict[str, str], tmp_path: Path
) -> None:
    """No activate.d, env_vars.d or state: the activation is CONDA_PREFIX and py-rattler's PATH
    entries, recorded without bash, and exactly what bash records (should py-rattler's
    activation ever do more, this fails); the launcher applies it, under a hostile store path."""
    from conda_pixi_backends import activation, demo
    from conda_pixi_backends.store import Store

    channel = tmp_path / "plain-channel"
    demo.build_package(channel, "pixi-build-api-version", demo.API_VERSION)
    demo.build_package(channel, "pixi-build-plain", "1.0", {"bin/pixi-build-plain": PLAIN_BACKEND},
                       ["pixi-build-api-version"], executables=["bin/pixi-build-plain"])  # fmt: skip
    demo.index(channel)
    root = tmp_path / "st ore 'q' $x"
    proc = subprocess.run(
        [*CLI, "install", "pixi-build-plain", "-c", channel.as_uri(), "--override-channels",
         "--json"], env={**env, "CONDA_PIXI_BACKENDS_ROOT": str(root)}, cwd=tmp_path,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    (row,) = as_json(proc)["backends"]
    record = Store(root).record(f"pixi-build-plain-{row['key']}")
    assert record is not None
    prefix = Path(record.prefix)
    assert record.activation == activation.recorded_by_bash(prefix)
    assert record.activation.set == {"CONDA_PREFIX": str(prefix)}
    ran = subprocess.run([str(root / "bin" / "pixi-build-plain")], env={"PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert ran.stdout.splitlines() == [str(prefix), str(prefix / "bin")]
