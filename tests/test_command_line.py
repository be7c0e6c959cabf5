"""The command line as a user meets it: help when a command is missing, the nearest command when
one is mistyped, global flags on either side of the command's name, JSON errors with --json,
and messages that name the program and the command the user actually ran."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BACKEND, CLI, Run, as_json

from conda_pixi_backends.settings import current_platform


def test_no_command_prints_the_help_and_what_is_missing(cli: Run) -> None:
    proc = cli()
    assert proc.returncode == 2 and proc.stdout == ""
    assert "usage: " in proc.stderr and "install" in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("conda-pixi-backend: error: the following arguments are required:")
    assert "install, sync, update" in last


def test_a_command_group_without_its_action_prints_its_help(cli: Run) -> None:
    proc = cli("config")
    assert proc.returncode == 2
    assert "show" in proc.stderr and "unset" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "conda-pixi-backend: error: config: the following arguments are required: ACTION"
    )


@pytest.mark.parametrize(
    ("typed", "suggested"), [("instal", "install"), ("lst", "list"), ("docter", "doctor")]
)
def test_a_mistyped_command_gets_the_nearest_one(cli: Run, typed: str, suggested: str) -> None:
    proc = cli(typed)
    assert proc.returncode == 2
    assert proc.stderr == (
        f"conda-pixi-backend: error: unknown command '{typed}'; did you mean '{suggested}'?\n"
    )


def test_an_unlike_command_lists_the_known_ones(cli: Run) -> None:
    proc = cli("zzzzzz")
    assert proc.returncode == 2
    assert proc.stderr.startswith("conda-pixi-backend: error: unknown command 'zzzzzz' (known: ")


def test_a_bad_flag_names_the_command_once(cli: Run) -> None:
    proc = cli("install", "--bogus")
    assert proc.returncode == 2
    assert proc.stderr == "conda-pixi-backend: error: install: unrecognized arguments: --bogus\n"


@pytest.mark.parametrize(
    "args",
    [
        ["--root", "{root}", "list", "--json"],
        ["list", "--root", "{root}", "--json"],
        ["--json", "--root", "{root}", "list"],
        ["-v", "--json", "list", "--root", "{root}"],
    ],
)
def test_global_flags_before_or_after_the_command(
    cli: Run, tmp_path: Path, channel: Path, args: list[str]
) -> None:
    other = tmp_path / "other-store"
    as_json(cli("install", BACKEND, "--root", str(other), "--json"))
    listed = as_json(cli(*[a.format(root=other) for a in args]))
    assert listed["root"] == str(other)
    assert [e["name"] for e in listed["environments"]] == [BACKEND]


def test_json_before_a_command_that_prints_none_is_refused(cli: Run) -> None:
    proc = cli("--json", "which", BACKEND)
    assert proc.returncode == 2
    assert proc.stderr == "conda-pixi-backend: error: --json: which prints no JSON\n"


def test_a_failure_with_json_is_one_json_object(cli: Run, root: Path) -> None:
    proc = cli("install", "pixi-build-demo-python >>>1", "--json")
    assert proc.returncode == 2
    error = json.loads(proc.stdout)["error"]
    assert error["type"] == "UserInputError" and error["exit_code"] == 2
    assert error["input"] == "pixi-build-demo-python >>>1"
    assert error["message"].startswith("pixi-build-demo-python >>>1: invalid spec")
    assert proc.stderr.strip() == f"conda-pixi-backend: error: {error['message']}"
    failed = cli("run", "pixi-build-nowhere", "--json")  # not a flag of run: the backend's
    assert failed.returncode == 1 and failed.stdout == ""
    missing = cli("list", "--json", extra_env={"CONDA_PIXI_BACKENDS_PLATFORM": "amiga"})
    assert missing.returncode == 2
    assert json.loads(missing.stdout)["error"]["input"] == "CONDA_PIXI_BACKENDS_PLATFORM"
    # A failed operation names no input: its message is not about what the user gave.
    unreachable = cli("install", BACKEND, "-c", "http://127.0.0.1:9/none", "--override-channels",
                      "--json")  # fmt: skip
    assert unreachable.returncode == 1
    error = json.loads(unreachable.stdout)["error"]
    assert error["type"] == "OperationError" and error["input"] is None
    assert error["message"].startswith("cannot read channels")
    # argparse's errors too, each naming what was given.
    for argv, named in ((["gc", "--json", "--older-than", "abc"], "--older-than"),
                        (["list", "--json", "--bogus"], "--bogus"),
                        (["remove", "--json"], "NAME|KEY"),
                        (["remove", "--json", "nosuch"], "nosuch")):  # fmt: skip
        proc = cli(*argv)
        assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
        error = json.loads(proc.stdout)["error"]
        assert (error["type"], error["input"], error["exit_code"]) == ("UserInputError", named, 2)


def test_hints_carry_the_root_that_was_given(cli: Run, tmp_path: Path) -> None:
    """A hint acts on the store the command worked on: run as shown, `remove` would otherwise
    remove from the default store."""
    other = tmp_path / "other store"
    said = [cli(*argv, "--root", str(other)).stderr for argv in (["which", "nosuch"],
                                                                  ["remove", "nosuch"])]  # fmt: skip
    assert f"python -m conda_pixi_backends --root '{other}' install nosuch" in said[0], said
    assert f"python -m conda_pixi_backends --root '{other}' list" in said[1], said


def test_hints_name_the_command_that_was_run(env: dict[str, str], tmp_path: Path) -> None:
    """`python -m conda_pixi_backends` is told to run `python -m conda_pixi_backends ...`, the
    console script `conda-pixi-backend ...`: on a machine without conda, `conda pixi-backend`
    would do nothing at all."""
    script = Path(sys.executable).with_name("conda-pixi-backend")
    if not script.exists():
        found = shutil.which("conda-pixi-backend")
        if found is None:
            pytest.skip("the console script conda-pixi-backend is not installed")
        script = Path(found)
    for argv, said in (
        ([sys.executable, "-m", "conda_pixi_backends"], "python -m conda_pixi_backends"),
        ([str(script)], "conda-pixi-backend"),
    ):
        proc = subprocess.run(
            [*argv, "which", "pixi-build-nowhere"],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 1
        assert proc.stderr.startswith("conda-pixi-backend: error: pixi-build-nowhere: ")
        assert f"install it with: {said} install pixi-build-nowhere" in proc.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "sh"])
def test_the_activation_hint_is_for_the_shell_in_use_and_works(
    env: dict[str, str], tmp_path: Path, channel: Path, root: Path, shell: str
) -> None:
    """Run in a real shell, install tells how to hand the backends to Pixi in *that* shell,
    and the line it prints, run in that shell, does it."""
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    scripts = Path(sys.executable).parent
    if not (scripts / "conda-pixi-backend").exists():
        pytest.skip("the console script conda-pixi-backend is not installed")
    shell_env = {**env, "PATH": f"{scripts}{os.pathsep}{env.get('PATH', os.defpath)}"}

    def run(script: str) -> str:
        proc = subprocess.run([shell, "-c", script], env=shell_env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    # `; :` as a user's interactive shell would: bash and zsh run a lone command by exec, and
    # their parent would not be the shell any more
    printed = run(f"conda-pixi-backend install {BACKEND} -c {channel.as_uri()}; :").splitlines()
    at = printed.index("To hand these backends to Pixi in this shell:")
    now, startup, line = printed[at + 1].strip(), printed[at + 2], printed[at + 3].strip()
    expected = {"bash": "~/.bashrc", "zsh": "~/.zshrc", "fish": "config.fish", "sh": "~/.profile"}
    assert expected[shell] in startup
    show = "echo $PIXI_BUILD_BACKEND_OVERRIDE"
    for hand_over in (now, line):
        assert f"{BACKEND}={root / 'bin' / BACKEND}" in run(f"{hand_over}\n{show}"), hand_over


DAEMON = """
import os, sys
read, write = os.pipe()
if os.fork() == 0:  # a daemon: its parent leaves, so no shell is among its ancestors
    os.setsid()
    if os.fork() == 0:
        os.dup2(write, 1)
        os.dup2(write, 2)
        os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
    os._exit(0)
os.close(write)
chunks = iter(lambda: os.read(read, 65536), b"")
sys.stdout.buffer.write(b"".join(chunks))
"""


def test_install_started_by_no_shell_hints_for_the_login_shell(
    env: dict[str, str], tmp_path: Path, channel: Path
) -> None:
    """Started by a daemon (cron, a service), no shell is among install's parent processes:
    its hint is then for the login shell ($SHELL), never an error."""
    argv = [sys.executable, "-c", DAEMON, "-m", "conda_pixi_backends", "install", BACKEND,
            "-c", channel.as_uri()]  # fmt: skip
    proc = subprocess.run(argv, env={**env, "SHELL": "/usr/bin/zsh"}, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert "installed" in proc.stdout and "error" not in proc.stdout, proc.stdout
    assert "~/.zshrc" in proc.stdout


def test_a_dry_run_says_nothing_about_activating(cli: Run, channel: Path) -> None:
    out = cli("install", BACKEND, "-c", str(channel), "--dry-run").stdout
    assert "would install" in out and "shell-hook" not in out and "activate" not in out


def test_list_has_headers_and_tells_environments_apart(cli: Run, channel: Path) -> None:
    as_json(cli("install", f"{BACKEND} 0.1.*", "-c", channel.as_uri(), "--json"))
    as_json(cli("install", f"{BACKEND} 0.2.*", "-c", channel.as_uri(), "--json"))
    lines = cli("list").stdout.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "KEY", "ON", "DISK", "(OF", "APPARENT)", "LAST", "USED"]  # fmt: skip
    asked = [line.strip() for line in lines if line.strip().startswith("spec ")]
    assert sorted(asked) == [
        f"spec '{BACKEND} {v}', {current_platform()}, from {channel.as_uri()}/" for v in ("0.1.*", "0.2.*")
    ]  # fmt: skip


def test_results_never_share_a_line_with_the_progress_display(
    env: dict[str, str], tmp_path: Path, channel: Path
) -> None:
    """On a terminal (here `script`'s pseudo-terminal), py-rattler draws its progress on
    stderr; the first line of results starts a line of its own."""
    if shutil.which("script") is None:
        pytest.skip("util-linux `script` (a pseudo-terminal) is not installed")
    log = tmp_path / "typescript"
    command = shlex.join([*CLI, "install", BACKEND, "-c", channel.as_uri()])
    subprocess.run(["script", "-qec", command, str(log)], env=env, cwd=tmp_path,
                   capture_output=True, timeout=120, check=True)  # fmt: skip
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "installing packages" in text, "no progress display: not a terminal?"
    at = text.index(f"{BACKEND}  installed")
    assert text[at - 1] == "\n", repr(text[at - 80 : at + 20])


def test_run_takes_our_flags_before_the_double_dash(cli: Run, tmp_path: Path) -> None:
    """`run NAME --root DIR -- ARGS`, as users write it: --root is ours, ARGS the backend's."""
    other = tmp_path / "other-store"
    as_json(cli("install", BACKEND, "--root", str(other), "--json"))
    ran = cli("run", BACKEND, "--root", str(other), "--", "--version")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith(f"{BACKEND} ")
    wrong = cli("run", BACKEND, "--bogus", "--", "--version")
    assert wrong.returncode == 2
    assert wrong.stderr == (
        "conda-pixi-backend: error: run: --bogus: not a flag of run; "
        "the backend's arguments go after '--'\n"
    )
