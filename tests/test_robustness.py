"""Failures stay clean as a class, in real processes: numeric flags out of range, standard streams
that are closed, full or read by nobody, and Ctrl-C (a real SIGINT) at any moment."""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import BACKEND, CLI, Run, as_json, negotiate, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st

import conda_pixi_backends
from conda_pixi_backends.cli import build_parser
from conda_pixi_backends.commands import common

PROG = "conda-pixi-backend"
INTERRUPTED = f"{PROG}: interrupted\n"
PACKAGE = Path(conda_pixi_backends.__file__).parent
posix = pytest.mark.skipif(os.name != "posix", reason="POSIX descriptors and signals")


# --- Numeric flags ---------------------------------------------------------------------------

NOT_NUMBERS = ["nan", "NaN", "-nan", "soon", "", " ", "0x10", "1,5", "e5", "1e"]
TOO_SMALL = ["-1", "-0.5", "-inf", "-1e400", "-Infinity"]
TOO_LARGE = ["inf", "Infinity", "1e400", "1e12", "9" * 400]
#: The numeric flags there were when this was written, with their ranges.
KNOWN = {
    ("gc", "--older-than"): ("days", 0, 36500, False),
    ("sync", "--older-than"): ("days", 0, 36500, False),
    ("update", "--grace-period"): ("seconds", 0, 3153600000, False),
    ("doctor", "--timeout"): ("seconds", 0, 86400, True),
}


def numeric_flags() -> dict[tuple[str, str], common.Number]:
    """Every flag of every command whose type is the shared number type."""
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = {}
    for name, sub in commands.choices.items():
        for action in sub._actions:
            assert action.type not in (float, int), (name, action.option_strings)
            if isinstance(action.type, common.Number):
                found[name, action.option_strings[-1]] = action.type
    return found


def test_every_numeric_flag_has_the_shared_type() -> None:
    """No numeric flag with a bare float or int; the known ones with their ranges."""
    found = numeric_flags()
    for key, (unit, low, high, exclusive) in KNOWN.items():
        number = found[key]
        assert (number.unit, number.minimum, number.maximum, number.exclusive) == (
            unit, low, high, exclusive
        )  # fmt: skip
    for number in found.values():  # sane maxima: 100 years, a day for a timeout
        assert number.maximum * {"days": 86400, "seconds": 1}[number.unit] <= 100 * 365 * 86400


@pytest.mark.parametrize(("command", "flag"), sorted(numeric_flags()))
def test_numeric_flags_refuse_nonsense(cli: Run, root: Path, command: str, flag: str) -> None:
    number = numeric_flags()[command, flag]
    unit, low, high = number.unit, common._plain(number.minimum), common._plain(number.maximum)
    prefix = f"{PROG}: error: {command}: argument {flag}: "
    cases = {text: f"not a number: {text!r}" for text in NOT_NUMBERS}
    least = "more than" if number.exclusive else "at least"
    small = [t for t in TOO_SMALL if float(t) < number.minimum]
    cases |= {text: f"must be {least} {low} {unit}, not {text}" for text in small}
    over = [*TOO_LARGE, str(int(number.maximum) + 1), f"{high}.5"]
    span = number.span()
    cases |= {text: f"must be at most {high} {unit} (that is {span}), not {text}" for text in over}
    if number.exclusive:
        cases |= {f"{low}{tail}": f"must be more than {low} {unit}, not {low}{tail}"
                  for tail in ("", ".0", "e5")}  # fmt: skip
    with ThreadPoolExecutor(max_workers=8) as pool:  # `=`: `-1` is a value, not a flag
        procs = pool.map(lambda text: cli(command, f"{flag}={text}"), cases)
    for (text, message), proc in zip(cases.items(), procs, strict=True):
        assert (proc.returncode, proc.stdout) == (2, ""), (text, proc.stderr)
        assert proc.stderr == prefix + message + "\n", text
    # Without `=` too, where argparse takes the next word as the value.
    proc = cli(command, flag, "nan")
    assert (proc.returncode, proc.stderr) == (2, prefix + "not a number: 'nan'\n")
    assert not root.exists(), "a refused flag touches nothing"


def test_numeric_flag_messages(cli: Run) -> None:
    """The exact lines (docs/troubleshooting.md lists them)."""
    expected = {
        ("gc", "--older-than=1e9"): "gc: argument --older-than: must be at most 36500 days "
        "(that is 100 years), not 1e9",
        ("update", "--grace-period=nan"): "update: argument --grace-period: not a number: 'nan'",
        ("update", "--grace-period=-1"): "update: argument --grace-period: must be at least 0 "
        "seconds, not -1",
        ("doctor", "--timeout=0"): "doctor: argument --timeout: must be more than 0 seconds, not 0",
        ("doctor", "--timeout=1e6"): "doctor: argument --timeout: must be at most 86400 seconds "
        "(that is 1 day), not 1e6",
    }
    for args, line in expected.items():
        assert cli(*args).stderr == f"{PROG}: error: {line}\n"


def test_numeric_flags_take_their_whole_range(cli: Run, root: Path) -> None:
    for value, days in (("36500", 36500), ("0", 0), ("-0", 0), ("1e-300", 1e-300), (" 7 ", 7)):
        result = as_json(cli("gc", "--dry-run", "--json", f"--older-than={value}"))
        assert result["older_than_days"] == days and math.copysign(1, days) == 1
    for value in ("3153600000", "0", "1_000"):
        as_json(cli("update", "--json", f"--grace-period={value}"))


def test_nan_grace_period_sweeps_nothing(cli: Run, root: Path) -> None:
    """`update --grace-period nan` once removed every retired prefix at once (NaN compares
    false: no age was within it), under launchers that may still run from them."""
    from conda_pixi_backends.store import Store

    store = Store(root)
    store.ensure()
    retired = store.envs / "pixi-build-demo-python-0123456789ab"
    (retired / "conda-meta").mkdir(parents=True)
    store.retire(retired)
    before = snapshot(root)
    for value in ("nan", "-nan", "inf", "-1", "1e300"):
        proc = cli("update", f"--grace-period={value}")
        assert proc.returncode == 2 and "--grace-period" in proc.stderr, proc.stderr
        assert snapshot(root) == before
    as_json(cli("update", "--json"))  # the default: a day, so it stays
    assert retired.is_dir()
    as_json(cli("update", "--json", "--grace-period", "0"))  # and it would be swept
    assert not retired.exists()


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=12),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
    ),
    exclusive=st.booleans(),
)
def test_number_type_returns_a_value_in_range_or_one_clear_error(
    text: str, exclusive: bool
) -> None:
    parse = common.number("days", 0, common.MAX_DAYS, exclusive=exclusive)
    try:
        value = parse(text)
    except argparse.ArgumentTypeError as exc:
        message = str(exc)
        assert message.startswith(("not a number: ", "must be ")), message
        assert "\n" not in message.replace(repr(text), "")
        return
    assert math.isfinite(value) and 0 <= value <= common.MAX_DAYS
    assert value > 0 or not exclusive
    assert math.copysign(1, value) == 1  # -0 is 0


# --- Closed and broken standard streams ---------------------------------------------------------


def spawn(env: dict[str, str], args: list[str], cwd: Path, *, shell: str = "",
          stdout: object = subprocess.PIPE, unbuffered: str = "",
          launcher: list[str] = CLI) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run the CLI; `shell` is a redirection as a shell writes it (`>&-`, `2>/dev/full`)."""
    command = [*launcher, *args]
    if shell:
        command = ["sh", "-c", f'exec "$0" "$@" {shell}', *command]
    return subprocess.run(
        command, env={**env, "PYTHONUNBUFFERED": unbuffered}, cwd=cwd, stdout=stdout,
        stderr=subprocess.PIPE, text=True, timeout=120,
    )  # fmt: skip


def to_closed_pipe(
    env: dict[str, str], args: list[str], cwd: Path, **kw: object
) -> tuple[int, str]:
    """`... | head -0` without the race: the reader is gone before the CLI starts."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = spawn(env, args, cwd, stdout=write, **kw)  # type: ignore[arg-type]
    finally:
        os.close(write)
    return proc.returncode, proc.stderr


#: Commands that write to stdout. Unbuffered (PYTHONUNBUFFERED), their first write fails, in the
#: middle of the command; buffered, the flush at its end. `--help` and `--version` leave from
#: argparse, before any command.
WRITERS = [["list"], ["list", "--json"], ["config", "show", "--sources"], ["--help"], ["--version"],
           ["gc", "--dry-run", "--json"], ["shell-hook", "--shell", "bash"]]  # fmt: skip
#: A command that fails, with its message on stderr only.
FAILING = ["update", "pixi-build-nothing"]
FAILED = f"{PROG}: error: pixi-build-nothing: not installed in "
FULL = f"{PROG}: error: cannot write to standard output: No space left on device\n"
CLOSED = f"{PROG}: error: cannot write to standard output: Bad file descriptor\n"


@posix
@pytest.mark.parametrize("unbuffered", ["", "1"], ids=["buffered", "unbuffered"])
def test_reader_gone_is_quiet_141(env: dict[str, str], tmp_path: Path, unbuffered: str) -> None:
    for args in WRITERS:
        assert to_closed_pipe(env, args, tmp_path, unbuffered=unbuffered) == (141, ""), args
    code, stderr = to_closed_pipe(env, FAILING, tmp_path, unbuffered=unbuffered)
    assert code == 2 and stderr.startswith(FAILED) and stderr.count("\n") == 1


@posix
def test_head_in_a_real_pipeline(env: dict[str, str], tmp_path: Path) -> None:
    """`| head -0` and `| head -1` as typed: the reader may leave before or after the output
    (141 or 0); either way nothing on stderr."""
    for head in ("head -n0", "head -n1", "true"):
        for args in WRITERS[:4]:
            # The CLI's stderr is the shell's, and then its exit code: nothing else.
            proc = subprocess.run(
                ["sh", "-c", f'{{ "$@"; echo "rc=$?" >&3; }} 3>&2 | {head} >/dev/null', "sh",
                 *CLI, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert proc.stderr in ("rc=0\n", "rc=141\n"), (head, args, proc.stderr)


@posix
@pytest.mark.parametrize("unbuffered", ["", "1"], ids=["buffered", "unbuffered"])
def test_full_or_closed_stdout_is_one_line_exit_1(env: dict[str, str], tmp_path: Path,
                                                  unbuffered: str) -> None:  # fmt: skip
    for shell, message in ((">/dev/full", FULL), (">&-", CLOSED)):
        for args in WRITERS:
            proc = spawn(env, args, tmp_path, shell=shell, unbuffered=unbuffered)
            assert (proc.returncode, proc.stderr) == (1, message), (shell, args)
        # A command's own failure keeps its code and its message.
        proc = spawn(env, FAILING, tmp_path, shell=shell, unbuffered=unbuffered)
        assert proc.returncode == 2 and proc.stderr.startswith(FAILED), proc.stderr


@posix
@pytest.mark.parametrize("shell", ["2>&-", "2>/dev/full", ">&- 2>&-", ">/dev/full 2>&-"])
def test_broken_stderr_changes_no_result(env: dict[str, str], tmp_path: Path, shell: str) -> None:
    """Nothing to say it on: the exit code says it all, and an error never lands on stdout."""
    lost_stdout = shell.startswith(">")
    for args in WRITERS:
        normal = spawn(env, args, tmp_path)
        proc = spawn(env, args, tmp_path, shell=shell)
        assert proc.returncode == (1 if lost_stdout else normal.returncode), (args, proc)
        assert proc.stdout == ("" if lost_stdout else normal.stdout) and proc.stderr == ""
    proc = spawn(env, FAILING, tmp_path, shell=shell)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", "")
    proc = spawn(env, ["gc", "--older-than=nan"], tmp_path, shell=shell)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", "")


@posix
def test_closed_stdout_does_not_end_up_in_the_store(cli: Run, env: dict[str, str], channel: Path,
                                                    root: Path, tmp_path: Path) -> None:  # fmt: skip
    """With descriptor 1 closed, the first file opened would get its number, and whatever is
    written to stdout (by us, a native library, a child) would land in it."""
    proc = spawn(env, ["install", BACKEND, "-c", str(channel)], tmp_path, shell=">&-")
    assert (proc.returncode, proc.stderr) == (1, CLOSED)  # installed; its report is lost
    for path in root.rglob("*.json"):
        json.loads(path.read_text())
    listed = as_json(cli("list", "--json"))["environments"]
    assert [(e["name"], e["status"]) for e in listed] == [(BACKEND, "complete")], listed
    again = as_json(cli("install", BACKEND, "-c", str(channel), "--json"))["backends"]
    assert again[0]["status"] == "already-installed"
    negotiate(again[0]["executables"][0], env)  # the launcher is intact


@pytest.mark.skipif(
    os.name != "posix" or importlib.util.find_spec("conda") is None, reason="needs conda"
)
def test_conda_plugin_streams(env: dict[str, str], tmp_path: Path) -> None:
    """The same through `conda pixi-backend`, where conda owns the process and its exit."""
    conda = [sys.executable, "-m", "conda", "pixi-backend"]
    assert to_closed_pipe(env, ["list", "--json"], tmp_path, launcher=conda) == (141, "")
    for shell, message in ((">/dev/full", FULL), (">&-", CLOSED)):
        proc = spawn(env, ["list", "--json"], tmp_path, shell=shell, launcher=conda)
        # under conda, the program is `conda pixi-backend`
        said = message.replace(PROG, "conda pixi-backend", 1)
        assert (proc.returncode, proc.stderr) == (1, said), shell
    proc = spawn(env, FAILING, tmp_path, shell="2>&-", launcher=conda)
    assert (proc.returncode, proc.stdout) == (2, "")


# --- Ctrl-C -------------------------------------------------------------------------------------


@pytest.fixture
def sigint_default() -> Iterator[None]:
    """Children start with SIGINT's default action (a shell's background job would hand them an
    ignored one): Python's handler is reset on exec, an ignored signal is not."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def interrupt(
    command: list[str], delays: list[float], cwd: Path, env: dict[str, str]
) -> tuple[int, str]:
    """Start `command`, send SIGINT after each of `delays` (seconds from start), wait."""
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    start = time.monotonic()
    for delay in delays:
        time.sleep(max(0.0, start + delay - time.monotonic()))
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=300)
    return proc.returncode, stderr


_FRAME = re.compile(r'File "([^"]+)", line \d+, in (\S+)')


def outcome(code: int, stderr: str) -> str:
    """How a process met Ctrl-C.

    - "interrupted": exit 130 and nothing on stderr but "conda-pixi-backend: interrupted";
    - "finished": exit 0 (it was done first), stderr without a trace;
    - "before Python": killed by SIGINT with nothing said: the signal came before the
      interpreter had a handler (between fork and Python's start-up);
    - "Python start-up": a KeyboardInterrupt trace in which no code of ours is running, only
      modules being loaded: the interpreter's start-up, runpy, and the console script's
      `from conda_pixi_backends.cli import main`, all before our first statement;
    - "BAD": anything else, e.g. a trace through a function of ours.
    """
    traced = any(word in stderr for word in ("Traceback", "Exception ignored", "KeyboardInterrupt"))
    if not traced:
        if code == 130 and stderr in ("", INTERRUPTED):
            return "interrupted"
        if code == 0:
            return "finished"
        if code == -signal.SIGINT and stderr == "":
            return "before Python"
        return "BAD"
    ours = [name for path, name in _FRAME.findall(stderr) if Path(path).is_relative_to(PACKAGE)]
    loading = all(name == "<module>" for name in ours)
    if loading and code in (0, 1, 130, -signal.SIGINT):
        return "Python start-up"
    return "BAD"


#: Delays after start (seconds): interpreter start-up and imports (0-50 ms), argument parsing
#: and the command's own imports, then its work, and its end.
DELAYS = [0, 0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6]
REPEAT = 2


def sigint_table(env: dict[str, str], cwd: Path, launcher: list[str],
                 commands: list[list[str]], delays_for: object) -> collections.Counter:  # fmt: skip
    jobs = [
        (tuple(args), delays)
        for args in commands
        for delays in delays_for()  # type: ignore[operator]
        for _ in range(REPEAT)
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda job: interrupt([*launcher, *job[0]], job[1], cwd, env), jobs)
        )
    table: collections.Counter = collections.Counter()
    bad = []
    for (args, delays), (code, stderr) in zip(jobs, results, strict=True):
        kind = outcome(code, stderr)
        table[kind] += 1
        if kind == "BAD":
            bad.append((args, delays, code, stderr))
    print(f"\n{' '.join(launcher[-2:])}: {dict(table)}")
    assert not bad, bad[:3]
    assert table["interrupted"] >= 3, table  # it did interrupt our code
    return table


@posix
def test_ctrl_c_at_any_moment(env: dict[str, str], workspace: Path, sigint_default: None) -> None:
    """One SIGINT at many delays from start, on `list` and `install --dry-run`: exit 130 with
    one line, or 0 when the command finished first; never a trace from our code."""
    sigint_table(env, workspace, CLI, [["list"], ["install", "--dry-run"]],
                 lambda: [[d] for d in DELAYS])  # fmt: skip


@posix
def test_ctrl_c_twice(env: dict[str, str], workspace: Path, sigint_default: None) -> None:
    """A second Ctrl-C while the first is handled (or the command cleans up) leaves at once."""
    sigint_table(env, workspace, CLI, [["install", "--dry-run"]],
                 lambda: [[d, d + gap] for d in DELAYS[7:] for gap in (0, 0.001, 0.02)])  # fmt: skip


@posix
def test_ctrl_c_through_the_console_script(env: dict[str, str], workspace: Path,
                                           sigint_default: None) -> None:  # fmt: skip
    script = Path(sys.executable).with_name(PROG)
    if not script.is_file():
        pytest.skip(f"no {PROG} script beside {sys.executable}")
    sigint_table(env, workspace, [str(script)], [["list"]], lambda: [[d] for d in DELAYS])


@posix
def test_ctrl_c_mid_install_leaves_a_usable_store(env: dict[str, str], workspace: Path,
                                                  root: Path, sigint_default: None) -> None:  # fmt: skip
    """Real installs, interrupted at increasing delays: each exits 130 (or 0), without a trace,
    and the store stays one that the next install completes."""
    codes = []
    for delay in (0.05, 0.2, 0.4, 0.6, 0.8, 1.0, 1.3, 1.7):
        code, stderr = interrupt([*CLI, "install"], [delay], workspace, env)
        assert outcome(code, stderr) in ("interrupted", "finished", "before Python"), stderr
        codes.append(code)
        if code == 0:
            break
    assert 130 in codes, codes
    done = subprocess.run([*CLI, "install", "--json"], cwd=workspace, env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    for backend in as_json(done)["backends"]:
        negotiate(backend["executables"][0], env)


@posix
def test_ctrl_c_while_another_process_holds_the_lock(
    env: dict[str, str], workspace: Path, root: Path, sigint_default: None
) -> None:
    """An install waiting for environments that another process is installing leaves at
    Ctrl-C, at once (not when the other lets go), and changes nothing."""
    installed = as_json(subprocess.run([*CLI, "install", "--json"], cwd=workspace, env=env,
                                       capture_output=True, text=True, timeout=300))  # fmt: skip
    held = [str(root / "locks" / f"{b['name']}-{b['key']}.lock") for b in installed["backends"]]
    holder = subprocess.Popen(
        [sys.executable, "-c", "import contextlib, sys, time; from pathlib import Path; "
         "from conda_pixi_backends import locks\n"
         "with contextlib.ExitStack() as held:\n"
         "    for path in sys.argv[1:]: held.enter_context(locks.hold(Path(path)))\n"
         "    print('held', flush=True); time.sleep(120)", *held],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        before = snapshot(root)
        proc = subprocess.Popen([*CLI, "install", "--force"], cwd=workspace, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
        time.sleep(3)  # solved, and waiting for the lock
        assert proc.poll() is None, "it waits while the lock is held"
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        assert time.monotonic() - sent < 5, "it left only when the holder let go"
        assert (proc.returncode, stderr) == (130, "conda-pixi-backend: interrupted\n")
        assert snapshot(root) == before
    finally:
        holder.kill()
        holder.wait()


@posix
def test_ignored_sigint_stays_ignored(env: dict[str, str], workspace: Path) -> None:
    """Started with SIGINT ignored (`nohup`, `cmd &` in a script), the CLI does not take it."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited through exec
    try:
        code, stderr = interrupt([*CLI, "list"], [0.05, 0.1, 0.2], workspace, env)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert (code, stderr) == (0, "")
