"""Windows targets: paths as cmd.exe sees them, and running cmd.exe.

A `win-*` environment is exposed through `.bat` launchers that cmd.exe runs: natively on
Windows, and through Wine's cmd.exe on another system (`wine cmd`), where Wine's drive `Z:` is
the root of the file system. The values written for Windows (launcher paths, recorded
activation) are paths as cmd.exe sees them; the metadata's prefix and executable stay paths of
the system that installed them. Standard library only: exposure imports this.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Iterator
    from pathlib import Path

#: Wine's drive for the root of the Unix file system (its default configuration).
WINE_ROOT_DRIVE = "Z:"


def is_windows(platform: str | None) -> bool:
    """Whether `platform` (a conda subdir such as `win-64`) is a Windows one."""
    return bool(platform) and str(platform).startswith("win-")


def native() -> bool:
    return os.name == "nt"


def cmd_path(path: str | os.PathLike[str]) -> str:
    """`path` (absolute) as cmd.exe sees it: itself on Windows, under Wine's `Z:` elsewhere."""
    text = os.fspath(path)
    if native():
        return text
    return WINE_ROOT_DRIVE + text.replace("/", "\\")


def cmd_folders(root: str) -> list[str]:
    """A workspace root as a `.bat` launcher may see its current folder: as recorded and
    resolved, as cmd.exe sees them (`\\` separators); the same folder in another case once."""
    seen: dict[str, str] = {}
    for path in (root, os.path.realpath(root)):
        folder = cmd_path(path).replace("/", "\\")
        seen.setdefault(folder.casefold(), folder)
    return list(seen.values())


def cmd_command() -> list[str] | None:
    """How to start cmd.exe here: itself on Windows, `wine cmd` elsewhere; None without Wine."""
    if native():
        return [os.environ.get("COMSPEC") or "cmd.exe"]
    import shutil

    wine = shutil.which("wine") or shutil.which("wine64")
    return [wine, "cmd"] if wine else None


@contextmanager
def started(path: str) -> Iterator[list[str]]:
    """The command that starts the program at `path`, valid inside the `with`: a batch file
    off Windows through Wine's `cmd /D /C` (on Windows, CreateProcess runs it through cmd.exe
    itself), anything else as it is. OSError where no cmd.exe can run a batch file.

    `wine` quotes its arguments for Windows its own way (`\\"`, which cmd.exe does not read),
    so a batch file whose path is not plain is started through a plain-named link to the folder
    above its own: a launcher finds the store from its folder (`%~dp0..`), which stays right.
    """
    if native() or not path.lower().endswith((".bat", ".cmd")):
        yield [path]
        return
    command = cmd_command()
    if command is None:
        import errno

        raise OSError(errno.ENOEXEC, "a Windows batch file: install Wine to run it here")
    folder, name = os.path.split(os.path.abspath(path))
    if plain(path) or not plain(os.path.join(os.path.basename(folder), name)):
        yield [*command, "/D", "/C", cmd_path(path)]
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="cpb-") as tmp:
        link = os.path.join(tmp, "up")
        os.symlink(os.path.dirname(folder), link, target_is_directory=True)
        yield [*command, "/D", "/C", cmd_path(os.path.join(link, os.path.basename(folder), name))]


def plain(path: str) -> bool:
    """Whether `path` holds nothing a shell, cmd.exe or `wine`'s quoting could take for syntax."""
    return all(c.isascii() and (c.isalnum() or c in "_./+-") for c in path)


def cmd_environment() -> dict[str, str] | None:
    """The environment to start cmd.exe in: ours on Windows; elsewhere a small one for Wine
    (its prefix, a UTF-8 locale so that non-ASCII file names map to Windows names, no debug
    chatter, no display). Wine passes it on into the Windows processes."""
    if native():
        return None
    keep = ("PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "XDG_RUNTIME_DIR")
    env = {k: v for k, v in os.environ.items() if k in keep or k.startswith("WINE")}
    env.setdefault("PATH", os.defpath)
    env.update(LC_ALL="C.UTF-8", WINEDEBUG="-all", WINEDLLOVERRIDES="mscoree,mshtml=")
    return env


def run_batch(script: Path, timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
    """Run a batch file (whose path is plain ASCII) in cmd.exe, its output in UTF-16 (`/U`):
    exact whatever the console code page. Raises FileNotFoundError without a cmd.exe."""
    import subprocess

    command = cmd_command()
    if command is None:
        raise FileNotFoundError("wine")
    return subprocess.run(
        [*command, "/D", "/U", "/C", cmd_path(script)],
        env=cmd_environment(),
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
