"""Reliability: no run of the CLI may die by signal at interpreter shutdown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import BACKEND

RUNS = 200


def test_two_hundred_installs_exit_cleanly(env: dict[str, str], tmp_path: Path) -> None:
    """py-rattler's runtime can crash at interpreter shutdown after async calls (DESIGN.md):
    every run, real (--force) or no-op, must still exit 0 with its output whole."""
    base = [sys.executable, "-m", "conda_pixi_backends", "install", BACKEND, "--json"]
    failures = []
    for i in range(RUNS):
        argv = [*base, "--force"] if i % 2 == 0 else base
        proc = subprocess.run(
            argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        if proc.returncode != 0 or not proc.stdout.rstrip().endswith("}"):
            failures.append((i, proc.returncode, proc.stderr[-200:]))
    assert failures == [], f"{len(failures)} of {RUNS} runs failed: {failures[:5]}"
