"""Recording what activating a backend environment does, once at install time.

Pixi runs an overridden backend without activating its environment, so every launcher applies
the recorded activation (PATH entries, variables set and unset) before it `exec`s the backend.
Imported only by the installer: it needs py-rattler.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import cast

from rattler.shell import ActivationVariables, PathModificationBehavior, Shell, activate

from conda_pixi_backends.errors import OperationError
from conda_pixi_backends.store import Activation

#: Variables a shell sets for itself; never part of what an activation does.
_SHELL_OWN = {"PATH", "PWD", "OLDPWD", "SHLVL", "_", "CONDA_SHLVL"}
#: What py-rattler's activation script can carry safely: its bash script puts the prefix in
#: double quotes, where `$(...)` and backticks would run (seen with py-rattler 0.28).
_SAFE_PATH = re.compile(r"[A-Za-z0-9_./+-]+")


def capture_activation(prefix: Path) -> Activation:
    """Run the environment's activation in a real shell and record what it changes.

    py-rattler writes the script (activate.d scripts, env_vars.d, state variables); bash runs
    it in a clean environment; the difference is what every launcher applies before `exec`.
    The script sees the prefix through a symlink with a plain name, so a store path with
    quotes, `$` or backticks is never parsed by a shell; recorded values get the real path back.
    """
    if os.name == "nt":  # pragma: no cover - launchers on Windows are not supported yet
        raise OperationError("activating backend environments on Windows is not supported yet")
    path_var = os.environ.get("PATH") or os.defpath
    base_path = path_var.split(os.pathsep)
    base = {"PATH": path_var, "HOME": os.environ.get("HOME", "/"), "LC_ALL": "C"}
    with tempfile.TemporaryDirectory(prefix="cpb-") as tmp:
        alias = Path(tmp) / "prefix"
        if not _SAFE_PATH.fullmatch(str(alias)):
            raise OperationError(f"the temporary folder {tmp!r} is not a plain path; set TMPDIR")
        alias.symlink_to(prefix, target_is_directory=True)
        variables = ActivationVariables(None, base_path, PathModificationBehavior.Replace)
        result = activate(alias, variables, Shell.bash)
        script = Path(tmp) / "activate.sh"
        script.write_text(result.script, encoding="utf-8")
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-c", '. "$1" >/dev/null </dev/null && exec env -0',
             "bash", str(script)],
            env=base, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    if proc.returncode != 0:
        raise OperationError(
            f"activating {prefix} failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}"
        )

    def real(value: str) -> str:
        return value.replace(str(alias), str(prefix))

    after = dict(item.partition("=")[::2] for item in proc.stdout.split("\0") if "=" in item)
    paths = cast("list[Path]", result.path)  # py-rattler types it as one Path: it is a list
    prepend = [real(str(p)) for p in paths[: max(len(paths) - len(base_path), 0)]]
    # Exported shell functions (BASH_FUNC_x%%) and other non-identifiers are not variables.
    changed = {
        k: real(v)
        for k, v in after.items()
        if base.get(k) != v and k not in _SHELL_OWN and k.isidentifier() and k.isascii()
    }
    removed = [k for k in base if k not in after and k not in _SHELL_OWN]
    return Activation(path_prepend=prepend, set=changed, unset=removed)
