"""Shell text: quoting, the static activation scripts and the backend launchers.

Pure text generation with the standard library only: it is imported on hot paths. The
activation scripts are filled in from `templates/`; a launcher is written line by line, as
nearly every line of it carries a value. Every value is quoted for its shell, so a path with
spaces, quotes, `$`, backticks or a newline arrives literally and runs nothing. A value a shell cannot carry is never written into a script that
would do something else: quoting and launchers raise ValueError, and an activation script
becomes one that only says why it cannot work (so the other shells' scripts still do).

cmd.exe is best effort: its values cannot hold `"`, a line break or NUL; the activation
script's bin directory cannot hold `%` either; and a user's own PATH or
PIXI_BUILD_BACKEND_OVERRIDE holding `"` (or `!` with delayed expansion enabled by default)
is not carried through.

Scripts are written as each shell reads them best (`encode`): UTF-8, with CRLF line ends for
cmd.exe and a BOM for PowerShell, whose 5.1 reads a `.ps1` without one in the ANSI code page.
cmd.exe still reads a `.bat` in the console's code page (a non-ASCII store path in
`activate.bat` needs `chcp 65001`); the `.bat` launchers of Windows environments are ASCII
with CRLF line ends: they name the store only through their own folder (`%~dp0`).
"""

from __future__ import annotations

import codecs
import os
import re
import sys
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

from conda_pixi_backends import templates
from conda_pixi_backends.overrides import OVERRIDE

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence


SHELLS: dict[str, str] = {
    "bash": "activate.bash",
    "zsh": "activate.zsh",
    "posix": "activate.sh",
    "fish": "activate.fish",
    "xonsh": "activate.xsh",
    "powershell": "activate.ps1",
    "cmd": "activate.bat",
}
"""Shell name -> file name of its static activation script in the store's `activate/`."""

#: How to hand the backends to Pixi in each shell: in this session (`{command}` is how the user
#: runs us), and for good (the startup file, and the line for it; `{script}` is the store's
#: static activation script for that shell, already quoted).
_HINTS = {
    "bash": ('eval "$({command} shell-hook --shell bash)"', "~/.bashrc", ". {script}"),
    "zsh": ('eval "$({command} shell-hook --shell zsh)"', "~/.zshrc", ". {script}"),
    "posix": ('eval "$({command} shell-hook --shell sh)"', "~/.profile", ". {script}"),
    "fish": ("{command} shell-hook --shell fish | source", "~/.config/fish/config.fish",
             "source {script}"),
    "xonsh": ("execx($({command} shell-hook --shell xonsh))", "~/.xonshrc", "source {script}"),
    "powershell": ("{command} shell-hook --shell powershell | Out-String | Invoke-Expression",
                   "$PROFILE", ". {script}"),
    "cmd": ("call {script}", "an AutoRun script", "call {script}"),
}  # fmt: skip


def encode(shell: str, text: str) -> bytes:
    """A script's bytes for `shell`: UTF-8; CRLF line ends for cmd.exe (which can miss a GOTO
    label in a file with bare LF ones) and a BOM for PowerShell. Read back as UTF-8 with a BOM
    (`utf-8-sig`) and universal newlines, it is `text` again."""
    if shell == "cmd":
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    data = text.encode("utf-8")
    return codecs.BOM_UTF8 + data if shell == "powershell" else data


def detect(environ: Mapping[str, str] | None = None) -> str:
    """The shell this command runs in: the nearest shell among its parent processes (as
    `shellingham` finds it), else the login shell ($SHELL), else the platform's own. One of
    SHELLS' keys; `sh`, `dash` and `ksh` are `posix`."""
    env = os.environ if environ is None else environ
    name = ""
    try:
        import shellingham

        name = shellingham.detect_shell()[0]
    except (ImportError, OSError, RuntimeError):  # ShellDetectionFailure: OSError in 1.5
        name = os.path.basename(env.get("SHELL", ""))
    name = name.lower().removesuffix(".exe")
    if name in ("pwsh", "powershell"):
        return "powershell"
    if name in ("sh", "dash", "ksh", "mksh", "ash", "busybox"):
        return "posix"
    if name in SHELLS:
        return name
    return "cmd" if os.name == "nt" else "bash"


def hint(shell: str, command: str, script: str) -> str:
    """How to hand the store's backends to Pixi in `shell`, now and in every new session."""
    now, startup, line = _HINTS[shell]
    script = quote("posix" if shell in _POSIX else shell, script)
    return (
        f"To hand these backends to Pixi in this shell:\n    {now.format(command=command, script=script)}\n"
        f"or in every new shell, add to {startup}:\n    {line.format(script=script)}"
    )


LAUNCHER_SHELL = "cmd" if sys.platform == "win32" else "sh"
LAUNCHER_SUFFIX = ".bat" if sys.platform == "win32" else ""

_POSIX = {"bash", "zsh", "posix", "sh"}
_HEADER = "Generated by conda-pixi-backends; do not edit: it is rewritten on every install."
# PowerShell treats the typographic single quotes as quotes too.
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"


def quote(shell: str, value: str) -> str:
    """`value` as one literal token for `shell`: nothing in it is expanded or run.

    For cmd the result is `"value"` with `%` doubled, which is literal in a batch file (not at
    an interactive prompt) as long as delayed expansion is off; inside `set "NAME=..."` use it
    without its outer quotes.
    """
    if "\0" in value:
        raise ValueError(f"a NUL character cannot be passed through a shell: {value!r}")
    if shell in _POSIX:
        return "'" + value.replace("'", "'\\''") + "'"
    if shell == "fish":
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if shell == "xonsh":
        return repr(value)
    if shell == "powershell":
        return "'" + "".join(c * 2 if c in _PS_QUOTES else c for c in value) + "'"
    if shell == "cmd":
        if any(c in value for c in '"\r\n'):
            raise ValueError(f"cmd.exe cannot carry '\"' or a line break in a value: {value!r}")
        return '"' + value.replace("%", "%%") + '"'
    raise ValueError(f"unknown shell {shell!r}; expected one of {', '.join(SHELLS)}, sh")


def activation_script(shell: str, bin_dir: str, overrides: Sequence[tuple[str, str]]) -> str:
    """The static script that exposes the store's launchers to Pixi in an interactive shell.

    Unless PIXI_BUILD_BACKEND_OVERRIDE_ALL is set (even empty; then it does nothing), it
    prepends `bin_dir` to PATH when PATH lacks it, and appends `name=launcher` to
    PIXI_BUILD_BACKEND_OVERRIDE for each override whose name the user has no entry for
    (`name=...` or bare `name`): the user's entries win. Sourcing it twice changes nothing more,
    and it leaves no helper variable or function behind.

    Raises ValueError for what Pixi cannot take (a bad name, a launcher path with `,` or `=`).
    When only this shell cannot carry a path (cmd.exe and `"`, or a PATH separator in the bin
    directory), the script is one that says so when sourced, and the other shells' still work.
    """
    if shell not in SHELLS:
        raise ValueError(f"unknown shell {shell!r}; expected one of {', '.join(SHELLS)}")
    if "\0" in bin_dir:
        raise ValueError(f"no shell can carry a NUL character: {bin_dir!r}")
    for name, path in overrides:
        if not name or not all(c.isascii() and (c.isalnum() or c in "_.+-") for c in name):
            raise ValueError(f"not a backend name: {name!r}")
        if any(c in path for c in ",=\0"):
            raise ValueError(
                f"{OVERRIDE} cannot carry ',', '=' or NUL in a launcher path: {path!r}"
            )
    items = [(name, f"{name}={path}") for name, path in overrides]
    flavour = "posix" if shell in _POSIX else shell
    problem = _cannot_carry(flavour, bin_dir, [path for _, path in overrides])
    if problem:
        return refusal(shell, problem, _HEADER)
    values, each = _activation_values(flavour, bin_dir, items)
    return f"{_comment(shell)} {_HEADER}\n" + templates.render(_TEMPLATES[flavour], values, each)


def _cannot_carry(flavour: str, bin_dir: str, paths: list[str]) -> str:
    """Why this shell cannot carry these values, or "" when it can."""
    if flavour in ("posix", "fish") and ":" in bin_dir:
        return "its bin directory holds a colon, the PATH separator"
    # A Windows path (`C:\...`, Wine's `Z:\...` written on Unix) is for PowerShell on Windows.
    windows_path = flavour == "powershell" and re.match(r"[A-Za-z]:\\", bin_dir)
    if flavour in ("xonsh", "powershell") and (";" if windows_path else os.pathsep) in bin_dir:
        return "its bin directory holds the PATH separator"
    if flavour == "xonsh" and ("$" in bin_dir or "=" in bin_dir):
        return "its bin directory holds a dollar or equals sign, which xonsh expands in PATH"
    if flavour == "cmd":
        if any(c in value for value in (bin_dir, *paths) for c in '"\r\n'):
            return "a path holds a double quote or a line break"
        if "%" in bin_dir or ";" in bin_dir:
            return "its bin directory holds a percent sign or a semicolon"
    return ""


def refusal(shell: str, problem: str, header: str) -> str:
    """A script that only says, on stderr, why `shell` cannot use this store; `problem` is our
    own text, holding no value from outside, so it needs no quoting."""
    message = f"conda-pixi-backends: {shell} cannot use this store: {problem}"
    flavour = "posix" if shell in _POSIX else shell
    body = {
        "posix": f"echo '{message}' >&2",
        "fish": f"echo '{message}' >&2",
        "xonsh": f"print('{message}', file=__import__('sys').stderr)",
        "powershell": f"[Console]::Error.WriteLine('{message}')",
        "cmd": f"@ECHO {message} 1>&2",
    }[flavour]
    return f"{_comment(shell)} {header}\n{body}\n"


def _comment(shell: str) -> str:
    return "@REM" if shell == "cmd" else "#"


# The activation template of each flavour, in templates/.
_TEMPLATES = {
    "posix": "activate.sh",
    "fish": "activate.fish",
    "xonsh": "activate.xsh",
    "powershell": "activate.ps1",
    "cmd": "activate.bat",
}


def _activation_values(
    flavour: str, bin_dir: str, items: list[tuple[str, str]]
) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The placeholders of `flavour`'s activation template: for the script, for each override."""
    if flavour == "cmd":
        bin_q = quote("cmd", bin_dir)
        each = [{"NAME": name, "ITEM": quote("cmd", item)[1:-1]} for name, item in items]
        return {"BIN": bin_q, "BIN_TEXT": bin_q[1:-1]}, each
    q = partial(quote, flavour)
    if flavour == "fish":
        each = [
            {"BARE": q(f"*,{name},*"), "NAMED": q(f"*,{name}=*"), "ITEM": q(item)}
            for name, item in items
        ]
    else:
        each = [{"NAME": q(name), "ITEM": q(item)} for name, item in items]
    return {"BIN": q(bin_dir)}, each


class Target(NamedTuple):
    """What a launcher runs: an executable, with the activation recorded for its environment."""

    executable: str
    env_set: Mapping[str, str] = {}  # only read: one shared empty default is safe
    env_unset: Sequence[str] = ()
    path_prepend: Sequence[str] = ()


def launcher_script(
    shell: str,
    executable: str,
    env_set: Mapping[str, str],
    env_unset: Sequence[str],
    path_prepend: Sequence[str],
) -> str:
    """A launcher that runs `executable` with its environment activated, for Pixi to start.

    Pixi does not activate overridden backends, so the launcher applies the activation recorded
    at install time: it sets `env_set`, unsets `env_unset`, prepends `path_prepend` (first entry
    leftmost) to PATH, then runs `executable` with every argument, stdin and stdout passed
    through and its exit code returned. `shell` is "sh" (POSIX, Unix) or "cmd" (a .bat).
    """
    return dispatch_launcher(shell, Target(executable, env_set, env_unset, path_prepend), [])


def dispatch_launcher(
    shell: str,
    default: Target,
    branches: Sequence[tuple[Sequence[str], Target]],
    *,
    home: str | None = None,
) -> str:
    """A launcher that picks what to run by the folder it is started in.

    Pixi starts an overridden backend in its own working directory, the workspace it builds,
    so each branch names the workspace roots (`folders`, as absolute paths) that get its target,
    nearest first: the first branch whose folder is the current directory or one above it wins,
    and `default` serves everywhere else. The table is written into the launcher itself, so its
    bytes change whenever what it runs changes for any workspace: Pixi caches a backend's
    metadata under a hash of the override executable's contents. A cmd.exe launcher compares
    folders case-insensitively and leaves non-ASCII ones out (see `_cmd_home_launcher`); given
    `home`, the folder above the launcher's own, it writes every path under it relative to its
    own folder (`%~dp0`).
    """
    if shell not in ("sh", "cmd"):
        raise ValueError(f"launchers are written for 'sh' or 'cmd', not {shell!r}")
    for target in (default, *(t for _, t in branches)):
        _check_target(shell, target)
    if shell == "cmd":
        if home is not None or branches:
            return _cmd_home_launcher(default, branches, home)
        return _cmd_launcher(
            default.executable, default.env_set, default.env_unset, default.path_prepend
        )
    lines = ["#!/bin/sh", f"# {_HEADER}"]
    if branches:
        lines.append('case "${PWD-}/" in')
        for folders, target in branches:
            patterns = " | ".join(f"{quote('sh', f.rstrip('/') or '/')}/*" for f in folders)
            body = _sh_run(target)
            lines += [f"    {patterns})", *(f"        {line}" for line in body), "        ;;"]
        lines.append("esac")
    lines += _sh_run(default)
    return "\n".join([*lines, ""])


def _check_target(shell: str, target: Target) -> None:
    for name in (*target.env_set, *target.env_unset):
        if name.upper() == "PATH":
            raise ValueError("PATH is changed through path_prepend, not set or unset")
        if (
            not name
            or name[0].isdigit()
            or not all(c.isascii() and (c.isalnum() or c == "_") for c in name)
        ):
            raise ValueError(f"not an environment variable name a shell can set: {name!r}")
    separator = ";" if shell == "cmd" else ":"
    for entry in target.path_prepend:
        if separator in entry:
            raise ValueError(f"a PATH entry cannot hold {separator!r}: {entry!r}")


def _sh_run(target: Target) -> list[str]:
    """Apply a target's activation, then `exec` it with every argument."""
    lines = [f"export {name}={quote('sh', value)}" for name, value in target.env_set.items()]
    lines += [f"unset {name}" for name in target.env_unset]
    if target.path_prepend:
        joined = quote("sh", ":".join(target.path_prepend))
        lines.append(f'export PATH={joined}"${{PATH:+:$PATH}}"')
    lines.append(f'exec {quote("sh", target.executable)} "$@"')
    return lines


def _cmd_launcher(
    executable: str,
    env_set: Mapping[str, str],
    env_unset: Sequence[str],
    path_prepend: Sequence[str],
) -> str:
    lines = [f"@REM {_HEADER}", "@SETLOCAL DisableDelayedExpansion"]
    lines += [f'@SET "{name}={quote("cmd", value)[1:-1]}"' for name, value in env_set.items()]
    lines += [f'@SET "{name}="' for name in env_unset]
    if path_prepend:
        prefix = quote("cmd", ";".join(path_prepend))[1:-1]
        lines.append(f'@IF DEFINED PATH (SET "PATH={prefix};%PATH%") ELSE SET "PATH={prefix}"')
    lines += [f"@{quote('cmd', executable)} %*", "@EXIT /B %ERRORLEVEL%"]
    return "\n".join([*lines, ""])


def _cmd_home_launcher(
    default: Target, branches: Sequence[tuple[Sequence[str], Target]], home: str | None
) -> str:
    """A `.bat` launcher that picks its target by the folder it is started in; given `home`,
    the paths under it are written relative to the launcher's own folder.

    cmd.exe reads a batch file in the console's code page and expands `%` in it, so a store
    path with non-ASCII letters or `%` cannot be written into it reliably. It can be computed:
    `%~dp0` is the launcher's folder, and text that percent expansion produced is not parsed
    for `%` again, nor for `&`, `^`, `(` or `)` inside quotes (`!` is literal with delayed
    expansion off). The executable is started with the arguments exactly as the launcher got
    them (`%*`); its exit code is the launcher's.

    The table walks up from the current folder (`.`, `.\\..`, ...; `%%~fI` makes each one a
    full path) and, at each level, compares it with every branch's folders with `IF /I`, so
    the nearest root wins, a whole folder name must match (`C:\\ws` is not `C:\\ws2`) and case
    does not matter, as on Windows. Only FOR variables carry the current folder: percent or
    delayed expansion of it would go wrong in Wine's cmd.exe, which parses expanded text for
    `%` and `!` again (and has no substrings in delayed expansion). A folder is written into
    the file, so one it cannot carry is left out of the table, with a comment saying so, and
    that workspace gets `default`: not ASCII (cmd.exe reads the file in the console's code
    page), or holding `%` (`%` followed by `I` would read as the FOR variable). `&`, `^`, `!`,
    parentheses and spaces are literal inside the quotes.
    """
    if home is None:

        def value(text: str) -> str:
            return quote("cmd", text)[1:-1]

    else:
        within = re.compile(re.escape(home) + r"(?=[\\;]|$)")

        def value(text: str) -> str:
            return "%_CPB_HOME%".join(quote("cmd", part)[1:-1] for part in within.split(text))

    lines = [f"@REM {_HEADER}", "@SETLOCAL DisableDelayedExpansion"]
    if home is not None:
        lines.append('@FOR %%I IN ("%~dp0..") DO @SET "_CPB_HOME=%%~fI"')
    tests: list[str] = []
    bodies: list[str] = []
    left_out = 0
    for number, (folders, target) in enumerate(branches, 1):
        kept = [f for f in folders if f.isascii() and f.isprintable() and not set(f) & set('%"')]
        left_out += len(folders) - len(kept)
        for folder in kept:
            folder = folder.rstrip("\\")
            folder += "\\" if folder.endswith(":") else ""  # a drive root keeps its backslash
            tests.append(f'{_CMD_LEVEL} @IF /I "%%~fI"=="{folder}" GOTO _cpb_{number}')
        if kept:
            bodies += [f":_cpb_{number}", '@SET "_CPB_UP="', *_cmd_run(target, value, home)]
    if left_out:
        lines.append(
            f"@REM {left_out} workspace folder(s) left out of the table, served the default: "
            "not ASCII (cmd.exe reads this file in the console's code page) or holding '%'."
        )
    if tests:
        # Falling through into a label echoes it in Wine's cmd.exe: each one is jumped to.
        lines += ['@SET "_CPB_UP=."', "@GOTO _cpb_up", ":_cpb_up", *tests]
        lines += [f'{_CMD_LEVEL} @IF "%%~nxI"=="" GOTO _cpb_0', '@SET "_CPB_UP=%_CPB_UP%\\.."']
        lines += ["@GOTO _cpb_up", ":_cpb_0", '@SET "_CPB_UP="']
    lines += _cmd_run(default, value, home) + bodies
    return "\r\n".join([*lines, ""])


#: The folder being compared, `%%I`: the current one or `_CPB_UP` levels above it.
_CMD_LEVEL = '@FOR %%I IN ("%_CPB_UP%") DO'


def _cmd_run(target: Target, value: Callable[[str], str], home: str | None) -> list[str]:
    """Apply a target's activation, then run it with every argument and return its code."""
    lines = [f'@SET "{name}={value(v)}"' for name, v in target.env_set.items()]
    lines += [f'@SET "{name}="' for name in target.env_unset]
    if target.path_prepend:
        prefix = value(";".join(target.path_prepend))
        lines.append(f'@IF DEFINED PATH (SET "PATH={prefix};%PATH%") ELSE SET "PATH={prefix}"')
    clear = '@SET "_CPB_HOME=" & ' if home is not None else "@"
    lines.append(f'{clear}"{value(target.executable)}" %*')
    lines.append("@EXIT /B %ERRORLEVEL%")
    return lines
