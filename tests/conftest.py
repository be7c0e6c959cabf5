"""Fixtures: a real local channel built once per session, and the CLI run as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conda_pixi_backends import demo

BACKEND = "pixi-build-demo-python"
CMAKE = "pixi-build-demo-cmake"
#: The CLI as a real process.
CLI = [sys.executable, "-m", "conda_pixi_backends"]
NEGOTIATE = (
    '{"jsonrpc":"2.0","id":7,"method":"negotiateCapabilities","params":{"capabilities":{}}}\n'
)


@pytest.fixture(scope="session")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo channel: backends that need activation, their runtime, pixi-build-api-version."""
    return demo.build_demo_channel(tmp_path_factory.mktemp("channel"))


@pytest.fixture
def workspace(tmp_path: Path, channel: Path) -> Path:
    from conda_pixi_backends.settings import current_platform

    return demo.write_demo_workspace(tmp_path / "workspace", channel, current_platform())


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def env(tmp_path: Path, root: Path, channel: Path) -> dict[str, str]:
    """A clean environment: our store, the local channel as default, no config, no overrides."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIXI_BUILD_BACKEND_OVERRIDE", "CONDA_PIXI_BACKENDS_"))
    }
    clean.update(
        CONDA_PIXI_BACKENDS_ROOT=str(root),
        CONDA_PIXI_BACKENDS_USER_ROOT=str(tmp_path / "user-store"),
        CONDA_PIXI_BACKENDS_CHANNELS=channel.as_uri(),
        CONDA_PIXI_BACKENDS_SYSTEM_CONFIG="",
        CONDA_PIXI_BACKENDS_CONFIG=str(tmp_path / "no-user-config.yml"),
        # Pixi's own configuration is a settings layer: keep the developer's out of the tests.
        PIXI_HOME=str(tmp_path / "pixi-home"),
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
    )
    return clean


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(env: dict[str, str], tmp_path: Path) -> Run:
    """Run `python -m conda_pixi_backends ARGS` as a real process; `extra_env` adds variables."""

    def run(*args: str, cwd: Path | None = None, extra_env: dict[str, str] | None = None,
            input: str | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
        return subprocess.run(
            [*CLI, *args],
            env={**env, **(extra_env or {})},
            cwd=cwd or tmp_path,
            capture_output=True,
            text=True,
            input=input,
            timeout=300,
        )

    return run


def as_json(proc: subprocess.CompletedProcess[str]) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def by_name(result: dict) -> dict[str, dict]:
    return {b["name"]: b for b in result["backends"]}


def snapshot(root: Path) -> dict[str, str]:
    """Every path under the store with its content hash (or 'dir'): to prove nothing changed.

    `cache/` is left out: py-rattler's repodata cache may note a failed fetch, which changes no
    environment, metadata, launcher or script.
    """
    import hashlib

    if not root.exists():
        return {}
    state = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if rel.split(os.sep)[0] == "cache":
            continue
        if path.is_symlink() or path.is_dir():
            state[rel] = "dir" if path.is_dir() else os.readlink(path)
        else:
            state[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def negotiate(executable: str | Path, env: dict[str, str] | None = None) -> dict:
    """Ask a backend for its capabilities over JSON-RPC, as Pixi does first."""
    proc = subprocess.run(
        [str(executable)], input=NEGOTIATE, capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[0])
