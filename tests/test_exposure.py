"""Exposure end to end: installed backends reach Pixi through real shells, whatever the path."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BACKEND, CLI, NEGOTIATE, Run, as_json, by_name

from conda_pixi_backends import shells

#: A store path that every quoting mistake would trip over, and a sentinel an injection creates.
NASTY = 'na sty/it\'s "$(touch PWNED)" `touch PWNED` ünï\nline;& $HOME'
XONSH = shutil.which("xonsh") or shutil.which("xonsh", path=str(Path(sys.executable).parent))

SOURCE = {
    "bash": ["bash", "--noprofile", "--norc", "-c", '. "$1" && eval "$2"', "bash"],
    "zsh": ["zsh", "-f", "-c", '. "$1" && eval "$2"', "zsh"],
    "posix": ["sh", "-c", '. "$1" && eval "$2"', "sh"],
    "fish": ["fish", "--no-config", "-c", "source $argv[1]; and eval $argv[2]"],
}


def in_shell(shell: str, script: Path, command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    if shell == "xonsh":  # @(...) hands xonsh a Python string: no $-expansion of the path
        argv = [str(XONSH), "--no-rc", "-c", f"source @({json.dumps(str(script))})\n{command}\n"]
    else:
        argv = [*SOURCE[shell], str(script), command]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run(
        argv, env=env, cwd=cwd, input=NEGOTIATE, capture_output=True, text=True, timeout=60
    )


def available(shell: str) -> bool:
    return XONSH is not None if shell == "xonsh" else shutil.which(SOURCE[shell][0]) is not None


@pytest.mark.parametrize("shell", ["bash", "zsh", "posix", "fish", "xonsh"])
def test_activation_with_a_hostile_store_path(cli: Run, tmp_path: Path, shell: str) -> None:
    if not available(shell):
        pytest.skip(f"{shell} is not installed (sh dev.sh test installs zsh and fish as root)")
    # xonsh expands $ in PATH entries, so its script refuses such a path: test it without.
    root = tmp_path / (NASTY.replace("$", "") if shell == "xonsh" else NASTY) / "store"
    result = as_json(cli("install", BACKEND, "--json", "--root", str(root)))
    launcher = root / "bin" / BACKEND
    assert result["backends"][0]["executables"] == [str(launcher)]
    script = root / "activate" / shells.SHELLS[shell]
    proc = in_shell(shell, script, f"{BACKEND}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"]["capabilities"]["providesCondaOutputs"] is True
    env = in_shell(shell, script, "env", cwd=tmp_path).stdout
    assert f"PIXI_BUILD_BACKEND_OVERRIDE={BACKEND}={launcher}" in env
    assert not list(tmp_path.rglob("PWNED")), "a quoting mistake ran a command"


def test_shell_hook_prints_the_static_script(
    cli: Run, workspace: Path, root: Path, env: dict[str, str]
) -> None:
    as_json(cli("install", "--json", cwd=workspace))
    for shell in ("bash", "zsh", "fish", "xonsh", "powershell", "cmd"):
        hook = cli("shell-hook", "--shell", shell)
        assert hook.returncode == 0, hook.stderr
        data = (root / "activate" / shells.SHELLS[shell]).read_bytes()
        # As each shell reads best: a BOM for PowerShell 5.1, CRLF for cmd.exe, else plain.
        assert data.startswith(b"\xef\xbb\xbf") == (shell == "powershell")
        lines = data.split(b"\n")[:-1]
        assert lines and all(line.endswith(b"\r") == (shell == "cmd") for line in lines)
        # shell-hook prints the script's text: without the BOM, in text mode's line ends.
        assert hook.stdout == data.decode("utf-8-sig").replace("\r\n", "\n")
        assert str(root / "bin") in hook.stdout
    sh = cli("shell-hook", "--shell", "sh")  # POSIX sh
    assert sh.stdout == (root / "activate" / "activate.sh").read_text(encoding="utf-8")
    if shutil.which("fish"):  # without --shell: the shell it runs in, whatever $SHELL says
        detected = subprocess.run(
            ["fish", "-c", f"{shlex.join(CLI)} shell-hook; true"],
            env={**env, "SHELL": "/bin/bash"}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert detected.stdout == (root / "activate" / "activate.fish").read_text()


def test_eval_shell_hook_in_bash(cli: Run, workspace: Path, env: dict, root: Path) -> None:
    as_json(cli("install", "--json", cwd=workspace))
    command = 'eval "$("$@" shell-hook --shell bash)" && command -v pixi-build-demo-cmake && pixi-build-demo-cmake'
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", command, "bash", sys.executable, "-m", "conda_pixi_backends"],
        env=env, input=NEGOTIATE, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    first, answer = proc.stdout.splitlines()
    assert first == str(root / "bin" / "pixi-build-demo-cmake")
    assert json.loads(answer)["id"] == 7


def test_shell_hook_before_any_install(cli: Run) -> None:
    hook = cli("shell-hook", "--shell", "bash")
    assert hook.returncode == 0 and "PIXI_BUILD_BACKEND_OVERRIDE_ALL" in hook.stdout
    proc = subprocess.run(["bash", "-c", hook.stdout + "\necho ${PIXI_BUILD_BACKEND_OVERRIDE-unset}"],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})  # fmt: skip
    assert proc.stdout.strip() == "unset"


def test_which(cli: Run, workspace: Path, root: Path, tmp_path: Path) -> None:
    missing = cli("which", BACKEND)
    assert missing.returncode == 1 and f"install {BACKEND}" in missing.stderr
    as_json(cli("install", "--json", cwd=workspace))
    assert cli("which", BACKEND).stdout == f"{root / 'bin' / BACKEND}\n"
    mine = tmp_path / "mine" / BACKEND
    mine.parent.mkdir()
    mine.write_text("#!/bin/sh\n")
    mine.chmod(0o755)
    overridden = cli(
        "which", BACKEND, extra_env={"PIXI_BUILD_BACKEND_OVERRIDE": f"{BACKEND}={mine}"}
    )
    assert overridden.stdout == f"{mine}\n"
    on_path = cli(
        "which",
        BACKEND,
        extra_env={"PIXI_BUILD_BACKEND_OVERRIDE_ALL": "", "PATH": f"{mine.parent}:/usr/bin:/bin"},
    )
    assert on_path.stdout == f"{mine}\n"
    nowhere = cli(
        "which",
        BACKEND,
        extra_env={"PIXI_BUILD_BACKEND_OVERRIDE": BACKEND, "PATH": "/usr/bin:/bin"},
    )
    assert nowhere.returncode == 1 and "PATH" in nowhere.stderr


def test_overridden_backends_are_not_installed(
    cli: Run, workspace: Path, root: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "my-backend"
    result = by_name(as_json(cli("install", "--json", cwd=workspace,
                                 extra_env={"PIXI_BUILD_BACKEND_OVERRIDE": f"{BACKEND}={mine}"})))  # fmt: skip
    assert result[BACKEND]["status"] == "overridden"
    assert result[BACKEND]["override"] == {
        "variable": "PIXI_BUILD_BACKEND_OVERRIDE",
        "value": str(mine),
    }
    assert result[BACKEND]["prefix"] is None and result[BACKEND]["executables"] == [str(mine)]
    assert result["pixi-build-demo-cmake"]["status"] == "installed"
    assert [p.name for p in (root / "envs").glob(f"{BACKEND}-*")] == []
    everything = as_json(
        cli("install", "--json", cwd=workspace, extra_env={"PIXI_BUILD_BACKEND_OVERRIDE_ALL": ""})
    )
    assert {b["status"] for b in everything["backends"]} == {"overridden"}


def test_our_own_activation_is_not_an_override(cli: Run, workspace: Path, root: Path) -> None:
    """After `eval "$(... shell-hook)"`, installing again must still install, not 'override'."""
    first = as_json(cli("install", "--json", cwd=workspace))
    ours = ",".join(f"{b['name']}={b['executables'][0]}" for b in first["backends"])
    again = as_json(
        cli("install", "--json", cwd=workspace, extra_env={"PIXI_BUILD_BACKEND_OVERRIDE": ours})
    )
    assert {b["status"] for b in again["backends"]} == {"already-installed"}


def test_latest_install_of_a_name_is_the_exposed_one(cli: Run, root: Path) -> None:
    old = as_json(cli("install", f"{BACKEND} 0.1.*", "--json"))["backends"][0]
    new = as_json(cli("install", f"{BACKEND} 0.2.*", "--json"))["backends"][0]
    assert old["key"] != new["key"]
    version = subprocess.run(
        [str(root / "bin" / BACKEND), "--version"], capture_output=True, text=True
    )
    assert version.stdout.strip() == f"{BACKEND} 0.2.0"
    assert json.loads((root / "exposed.json").read_text()) == {BACKEND: f"{BACKEND}-{new['key']}"}
    as_json(cli("install", f"{BACKEND} 0.1.*", "--json"))
    version = subprocess.run(
        [str(root / "bin" / BACKEND), "--version"], capture_output=True, text=True
    )
    assert version.stdout.strip() == f"{BACKEND} 0.1.0", (
        "a no-op install still selects its environment"
    )
