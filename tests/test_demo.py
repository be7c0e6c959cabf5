"""The README's quick start: the demo runs the whole flow offline and says it worked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import BACKEND


def test_quick_start_demo(env: dict[str, str], tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "conda_pixi_backends.demo", str(tmp_path / "demo")],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    statuses = re.findall(r"^(pixi-build-demo-\w+)\s+(installed|already installed)\s", out, re.M)
    assert sorted(statuses) == [
        ("pixi-build-demo-cmake", "already installed"),
        ("pixi-build-demo-cmake", "installed"),
        ("pixi-build-demo-python", "already installed"),
        ("pixi-build-demo-python", "installed"),
    ]
    assert f"{tmp_path / 'demo' / 'store' / 'bin' / BACKEND}\n" in out, "which"
    assert '"result":{"capabilities":{"providesCondaOutputs": true' in out, "JSON-RPC answer"
    assert "0 failed, 0 warning(s)" in out, "doctor"
    assert "doctor found it healthy: the demo works.\n" in out
    # the next steps, as they work when typed: the store's activation script and the command
    store = tmp_path / "demo" / "store"
    assert f"    . {store / 'activate' / 'activate.bash'}\n" in out
    assert f"export CONDA_PIXI_BACKENDS_ROOT={store}\n" in out
