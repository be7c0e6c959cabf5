"""Recording what activating a backend environment does, once at install time.

Pixi runs an overridden backend without activating its environment, so every launcher applies
the recorded activation (PATH entries, variables set and unset) before it `exec`s the backend.
Imported only by the installer: it needs py-rattler. A Windows environment's activation
(py-rattler's cmd.exe script, with its `activate.d\\*.bat` scripts) runs in cmd.exe: natively
on Windows, through Wine elsewhere.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import cast

from rattler.shell import ActivationVariables, PathModificationBehavior, Shell, activate

from conda_pixi_backends import windows
from conda_pixi_backends.errors import OperationError
from conda_pixi_backends.store import Activation

#: Variables a shell sets for itself; never part of what an activation does.
_SHELL_OWN = {"PATH", "PWD", "OLDPWD", "SHLVL", "_", "CONDA_SHLVL"}
#: The same for cmd.exe, whose names are case-insensitive (compared upper-case).
_CMD_OWN = {"PATH", "CONDA_SHLVL", "PROMPT", "ERRORLEVEL", "CD", "=EXITCODE"}
#: Separates the two dumps of the environment in the recording's output.
_MARK = "__CPB_ACTIVATED__"


def capture_activation(prefix: Path) -> Activation:
    """What activating the environment at `prefix` does, for its launchers.

    An environment with nothing to run or read on activation (no `etc/conda/activate.d` or
    `env_vars.d` entries, no `conda-meta/state`) is activated by setting CONDA_PREFIX and
    prepending py-rattler's PATH entries: that is recorded without a shell (a test holds it to
    what bash records). Any other is recorded by running its activation (`recorded_by_bash`).
    """
    if os.name == "nt":  # pragma: no cover - a Windows host installs Windows environments
        return capture_cmd_activation(prefix)
    if not _runs_anything(prefix):
        base_path = _base_path()
        variables = ActivationVariables(None, base_path, PathModificationBehavior.Replace)
        paths = cast("list[Path]", activate(prefix, variables, Shell.bash).path)
        prepend = [str(p) for p in paths[: max(len(paths) - len(base_path), 0)]]
        return Activation(path_prepend=prepend, set={"CONDA_PREFIX": str(prefix)})
    return recorded_by_bash(prefix)


def _base_path() -> list[str]:
    """The PATH entries activation starts from (py-rattler prepends to them)."""
    return (os.environ.get("PATH") or os.defpath).split(os.pathsep)


def _runs_anything(prefix: Path) -> bool:
    """Whether activating `prefix` runs or reads anything of the environment's own."""
    etc = prefix / "etc" / "conda"
    folders = (etc / "activate.d", etc / "env_vars.d")
    return (prefix / "conda-meta" / "state").exists() or any(
        any(folder.iterdir()) for folder in folders if folder.is_dir()
    )


def recorded_by_bash(prefix: Path) -> Activation:
    """Run the environment's activation in a real shell and record what it changes.

    py-rattler writes the script (activate.d scripts, env_vars.d, state variables); bash runs
    it in a clean environment; the difference is what every launcher applies before `exec`.
    The script sees the prefix through a symlink with a plain name, so a store path with
    quotes, `$` or backticks is never parsed by a shell; recorded values get the real path back.
    """
    base_path = _base_path()
    base = {"PATH": os.pathsep.join(base_path), "HOME": os.environ.get("HOME", "/"), "LC_ALL": "C"}
    with tempfile.TemporaryDirectory(prefix="cpb-") as tmp:
        alias = Path(tmp) / "prefix"
        # py-rattler's bash script puts the prefix in double quotes, where `$(...)` and
        # backticks would run (seen with py-rattler 0.28): the alias must be plain.
        if not windows.plain(str(alias)):
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


def capture_cmd_activation(prefix: Path) -> Activation:
    """Record a Windows environment's activation as cmd.exe runs it.

    py-rattler writes the cmd.exe script for `win-64` (activate.d `.bat` scripts, env_vars.d);
    one cmd.exe run dumps its variables (`SET`), calls the script and dumps them again, and
    the difference is recorded, with paths as cmd.exe sees them. As for bash, the script sees
    the prefix through a link with a plain name (a symlink that Wine follows; a junction on
    Windows), so a store path with `%`, `^`, `&` or `!` is never parsed by cmd.exe. PATH's
    new entries are py-rattler's, with `%PATH%` standing for the PATH cmd.exe started with.
    """
    if windows.cmd_command() is None:
        raise OperationError(
            "recording a Windows environment's activation needs cmd.exe: install Wine"
        )
    with tempfile.TemporaryDirectory(prefix="cpb-") as tmp:
        alias = Path(tmp) / "prefix"
        if not windows.plain(str(alias)) and not windows.native():
            raise OperationError(f"the temporary folder {tmp!r} is not a plain path; set TMPDIR")
        _link(alias, prefix)
        variables = ActivationVariables(None, ["%PATH%"], PathModificationBehavior.Replace)
        result = activate(alias, variables, Shell.cmd_exe, "win-64")
        alias_text, seen = str(alias), windows.cmd_path(alias)

        def as_seen(match: re.Match[str]) -> str:
            """A path under the alias as cmd.exe sees it: Z:\\tmp\\cpb-x\\prefix\\a\\b."""
            return seen + match[1].replace("/", "\\")

        in_alias = re.compile(re.escape(alias_text) + r'([^;"\r\n]*)')
        (Path(tmp) / "activate.bat").write_text(
            in_alias.sub(as_seen, result.script), encoding="utf-8", newline="\r\n"
        )
        wrapper = Path(tmp) / "record.bat"
        wrapper.write_text(
            f'@SET\n@ECHO {_MARK}\n@CALL "{windows.cmd_path(Path(tmp) / "activate.bat")}"\n'
            f"@ECHO {_MARK}\n@SET\n",
            encoding="ascii",
            newline="\r\n",
        )
        try:
            proc = windows.run_batch(wrapper)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise OperationError(f"activating {prefix} in cmd.exe failed: {exc}") from None
    output = proc.stdout.decode("utf-16-le", errors="replace").replace("\r\n", "\n")
    parts = output.split(f"{_MARK}\n")
    if len(parts) != 3:
        detail = proc.stderr.decode(errors="replace").strip()[-300:] or output.strip()[-300:]
        raise OperationError(
            f"activating {prefix} in cmd.exe failed (exit {proc.returncode}): {detail}"
        )
    before, after = _cmd_variables(parts[0]), _cmd_variables(parts[2])
    real = windows.cmd_path(prefix)

    def restore(value: str) -> str:
        return value.replace(seen, real)

    paths = [str(p) for p in cast("list[Path]", result.path)][:-1]  # without "%PATH%"
    prepend = [restore(in_alias.sub(as_seen, p)) for p in paths]
    changed = {
        name: restore(value)
        for upper, (name, value) in after.items()
        if upper not in _CMD_OWN
        and before.get(upper, ("", None))[1] != value
        and name.isidentifier()
    }
    removed = [
        name for upper, (name, _) in before.items() if upper not in after and upper not in _CMD_OWN
    ]
    return Activation(path_prepend=prepend, set=changed, unset=removed)


def _cmd_variables(dump: str) -> dict[str, tuple[str, str]]:
    """cmd.exe's `SET` output: upper-cased name -> (name, value)."""
    found = {}
    for line in dump.split("\n"):
        name, equals, value = line.partition("=")
        if equals and name and not name.startswith(" "):
            found[name.upper()] = (name, value)
    return found


def _link(alias: Path, prefix: Path) -> None:
    """A plain-named link to the prefix: a symlink, or on Windows a junction (no privilege)."""
    if windows.native():  # pragma: no cover - run on Windows only
        import _winapi

        _winapi.CreateJunction(str(prefix), str(alias))  # type: ignore[attr-defined]
    else:
        alias.symlink_to(prefix, target_is_directory=True)
