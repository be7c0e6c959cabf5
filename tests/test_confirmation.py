"""Destructive commands on a terminal show what goes and ask first; scripts are not asked.

A real pseudo-terminal stands for the user's: the CLI sees a TTY on stdin and stdout.
"""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path

from conftest import BACKEND, CLI, Run, as_json


def on_terminal(args: list[str], env: dict[str, str], answer: str, cwd: Path) -> tuple[int, str]:
    """Run the CLI with a terminal as stdin and stdout; type `answer` at the prompt."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [*CLI, *args], stdin=slave, stdout=slave, stderr=subprocess.PIPE, env=env, cwd=cwd
    )
    os.close(slave)
    seen = b""
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if not answered and b"Proceed ([y]/n)? " in seen:
                os.write(master, answer.encode() + b"\n")
                answered = True
        elif proc.poll() is not None:
            break
    code = proc.wait(timeout=60)
    os.close(master)
    assert proc.stderr is not None
    assert proc.stderr.read() == b""
    return code, seen.decode().replace("\r\n", "\n")


def test_remove_asks_on_a_terminal(
    cli: Run, env: dict[str, str], root: Path, tmp_path: Path
) -> None:
    (entry,) = as_json(cli("install", "--json", f"{BACKEND} 0.1.*"))["backends"]
    prefix = Path(entry["prefix"])
    code, shown = on_terminal(["remove", BACKEND], env, "n", tmp_path)
    assert code == 0
    assert f"{BACKEND}-{entry['key']}  {prefix}" in shown
    assert "This frees " in shown and "Nothing removed." in shown
    assert prefix.is_dir()
    code, shown = on_terminal(["remove", BACKEND], env, "y", tmp_path)
    assert code == 0 and "removed: " in shown
    assert not prefix.exists()


def test_scripts_and_yes_are_not_asked(cli: Run, env: dict[str, str], tmp_path: Path) -> None:
    (entry,) = as_json(cli("install", "--json", f"{BACKEND} 0.1.*"))["backends"]
    code, shown = on_terminal(["remove", "--yes", BACKEND], env, "n", tmp_path)
    assert code == 0 and "Proceed" not in shown and not Path(entry["prefix"]).exists()
    (entry,) = as_json(cli("install", "--json", f"{BACKEND} 0.1.*"))["backends"]
    proc = cli("remove", BACKEND)  # no terminal: a script
    assert proc.returncode == 0 and "Proceed" not in proc.stdout
    assert not Path(entry["prefix"]).exists()


def test_gc_asks_on_a_terminal(cli: Run, env: dict[str, str], tmp_path: Path) -> None:
    as_json(cli("install", "--json", f"{BACKEND} 0.1.*"))
    assert cli("remove", BACKEND).returncode == 0  # the package cache entries stay: gc's to take
    code, shown = on_terminal(["gc"], env, "n", tmp_path)
    assert code == 0 and "package: " in shown and "Nothing removed." in shown
    code, shown = on_terminal(["gc"], env, "", tmp_path)  # Enter takes the default: yes
    assert code == 0 and "removed package: " in shown
    assert "Freed " in shown
