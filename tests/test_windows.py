"""Windows: a `win-64` backend installed on this machine and run through its `.bat` launcher in
Wine's cmd.exe, for real.

A tiny backend (`tests/windows/backend.c`, built with MinGW-w64) is packaged into a local
`win-64` channel with an `activate.d` `.bat` script and an `env_vars.d` file, installed with
`--platform win-64` into stores under hostile paths (recording its activation in Wine's
cmd.exe), and started as Pixi starts an override: Rust's `Command` runs a `.bat` as
`cmd.exe /e:ON /v:OFF /d /c "..."` with its own quoting (`spawn.c` starts each such command line
verbatim). Each `wine` call costs seconds, so the checks share as few runs as they can.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conda_pixi_backends import shells, windows
from conda_pixi_backends.demo import build_windows_channel

HERE = Path(__file__).parent / "windows"
GCC = "x86_64-w64-mingw32-gcc"
BACKEND = "pixi-build-windemo"
NEGOTIATE = (
    '{"jsonrpc":"2.0","id":7,"method":"negotiateCapabilities","params":{"capabilities":{}}}\n'
)
#: Store paths: what the launcher must survive, and what activate.bat can carry (no non-ASCII:
#: cmd.exe reads it in the console's code page). `%` is left out of both, and out of ARGS: Wine's
#: cmd.exe drops a lone `%` from its `/c` line and expands `%%cd:~,%` unlike Windows, so the
#: launcher would not even be reached as Pixi names it (checked as text in test_shells).
HOSTILE = "st \u00fc a&b ^c (x) !y"
CARRIED = "st a&b ^c (x) !y"
#: Arguments a backend must get unchanged.
ARGS = ["plain", "two words", 'say "hi"', "a^b", "x&y", "!z!", "(p)", "caf\u00e9", "", "tail\\"]

pytestmark = [
    pytest.mark.skipif(os.name == "nt", reason="runs cmd.exe through Wine, on Unix"),
    pytest.mark.skipif(
        windows.cmd_command() is None, reason="no wine (Debian: apt-get install wine64)"
    ),
    pytest.mark.skipif(
        shutil.which(GCC) is None, reason=f"no {GCC} (Debian: apt-get install gcc-mingw-w64-x86-64)"
    ),
]


def bat_command_line(script: str, args: list[str]) -> str:
    """The command line Rust's `Command` (1.77.2 and later) gives a `.bat`: cmd.exe running the
    quoted script; an argument quoted when it is empty, ends with a backslash or holds any
    ASCII character but letters, digits and `#$*+-./:?@\\_`; `"` doubled, backslashes before a
    closing quote doubled; and `%` written as
    `%%cd:~,%`, which cmd.exe's expansion turns back into `%` without expanding a variable."""
    parts = [f'"{script}"']
    for arg in args:
        quoted = (
            not arg
            or arg.endswith("\\")
            or any(c.isascii() and not (c.isalnum() or c in "#$*+-./:?@\\_") for c in arg)
        )
        text = arg.replace('"', '""').replace("%", "%%cd:~,%")
        if quoted:  # backslashes before the closing quote doubled, as before any `"`
            trailing = len(text) - len(text.rstrip("\\"))
            text = '"' + text + "\\" * trailing + '"'
        parts.append(text)
    return f'cmd.exe /e:ON /v:OFF /d /c "{" ".join(parts)}"'


def _clean_env(tmp: Path) -> dict[str, str]:
    """No configuration, overrides or Pixi settings from the developer's machine."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIXI_BUILD_BACKEND_OVERRIDE", "CONDA_PIXI_BACKENDS_"))
    }
    clean.update(
        CONDA_PIXI_BACKENDS_SYSTEM_CONFIG="",
        CONDA_PIXI_BACKENDS_CONFIG=str(tmp / "no-user-config.yml"),
        PIXI_HOME=str(tmp / "pixi-home"),
        XDG_CONFIG_HOME=str(tmp / "xdg-config"),
    )
    return clean


def _install(
    tmp: Path, root: Path, channel: Path, workspace: Path | None = None
) -> dict[str, object]:
    """Install the backend, or (in `workspace`) what that workspace's manifest asks for."""
    what = [] if workspace else [BACKEND, "--override-channels", "-c", channel.as_uri()]
    proc = subprocess.run(
        [sys.executable, "-m", "conda_pixi_backends", "install", *what, "--json",
         "--platform", "win-64", "--root", str(root)],
        capture_output=True, text=True, timeout=300, cwd=workspace or tmp,
        env=_clean_env(tmp),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The two programs, the channel, and two stores (one hostile, one activate.bat can carry)."""
    tmp = tmp_path_factory.mktemp("windows")
    for name, flags in (("backend", []), ("spawn", ["-municode"])):
        subprocess.run(
            [GCC, "-O2", "-s", *flags, "-o", str(tmp / f"{name}.exe"), str(HERE / f"{name}.c")],
            check=True, timeout=120,
        )  # fmt: skip
    for version in ("0.1.0", "0.2.0"):  # the stores get the latest; workspaces pin each
        channel = build_windows_channel(
            tmp / "channel", BACKEND, version, (tmp / "backend.exe").read_bytes()
        )
    stores = {"hostile": tmp / HOSTILE / "store", "carried": tmp / CARRIED / "store"}
    for root in stores.values():
        _install(tmp, root, channel)
    return {"tmp": tmp, "spawn": tmp / "spawn.exe", **stores}


def test_install_records_the_activation_and_exposes_a_bat(built: dict[str, Path]) -> None:
    root = built["hostile"]
    assert sorted(p.name for p in (root / "bin").iterdir()) == [f"{BACKEND}.bat"]
    again = _install(built["tmp"], root, built["tmp"] / "channel")  # already there: no Wine
    (row,) = again["backends"]  # type: ignore[misc]
    assert row["status"] == "already-installed"
    assert row["executables"] == [str(root / "bin" / f"{BACKEND}.bat")]
    (meta,) = (root / "envs").glob(f"{BACKEND}-*.json")
    record = json.loads(meta.read_text(encoding="utf-8"))
    prefix = windows.cmd_path(record["prefix"])
    activation = record["activation"]
    assert activation["set"] == {
        "CONDA_PREFIX": prefix,
        "DEMO_RUNTIME_ACTIVE": "1",  # from activate.d\demo-runtime.bat, run by cmd.exe
        "DEMO_RUNTIME_FLAVOR": "vanilla",  # from env_vars.d
    }
    assert f"{prefix}\\Library\\bin" in activation["path_prepend"]
    launcher = (root / "bin" / f"{BACKEND}.bat").read_bytes()
    assert launcher.isascii(), "the store path is computed from %~dp0, never written"
    assert b"\r\n" in launcher and b"\n" not in launcher.replace(b"\r\n", b"")


def _run_in_wine(built: dict[str, Path], lines: list[str]) -> list[tuple[str, int]]:
    """Start each command line verbatim (one wine call); each one's output and exit code. A
    line `FOLDER<TAB>COMMAND` starts it in FOLDER, as Pixi starts a backend in a workspace."""
    listing = built["tmp"] / "lines.txt"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    command = windows.cmd_command()
    assert command is not None
    proc = subprocess.run(
        [command[0], windows.cmd_path(built["spawn"]), windows.cmd_path(listing)],
        input=NEGOTIATE.encode(), capture_output=True, timeout=300,
        env=windows.cmd_environment(), cwd=built["tmp"],
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    results: list[tuple[str, int]] = []
    output: list[str] = []
    for line in proc.stdout.decode("utf-8", errors="replace").splitlines():
        if line.startswith("EXIT="):
            results.append(("\n".join(output), int(line[5:])))
            output = []
        else:
            output.append(line.rstrip("\r"))
    assert len(results) == len(lines), proc.stdout
    return results


ACTIVATE_CHECK = """\
@ECHO OFF
SET "PATH=C:\\windows\\system32;C:\\user tools"
SET "PIXI_BUILD_BACKEND_OVERRIDE=users-own=C:\\mine.exe"
CALL "{script}"
CALL "{script}"
SET PATH
SET PIXI_BUILD_BACKEND_OVERRIDE
SET "PIXI_BUILD_BACKEND_OVERRIDE={name}=C:\\theirs.exe"
CALL "{script}"
SET PIXI_BUILD_BACKEND_OVERRIDE
SET "PIXI_BUILD_BACKEND_OVERRIDE="
SET "PIXI_BUILD_BACKEND_OVERRIDE_ALL=1"
CALL "{script}"
SET PIXI_BUILD_BACKEND_OVERRIDE
"""


def test_launchers_and_activation_in_wine(built: dict[str, Path]) -> None:
    """In one wine run: each store's launcher with hostile arguments, an exit code and the
    JSON-RPC handshake; activate.bat sourced (`call`) with the user's own entries."""
    launchers = {
        kind: windows.cmd_path(built[kind] / "bin" / f"{BACKEND}.bat")
        for kind in ("hostile", "carried")
    }
    check = built["tmp"] / "check-activate.bat"
    script = windows.cmd_path(built["carried"] / "activate" / "activate.bat")
    check.write_text(ACTIVATE_CHECK.format(script=script, name=BACKEND), newline="\r\n")
    lines = [
        *(bat_command_line(launcher, ["--report", *ARGS]) for launcher in launchers.values()),
        bat_command_line(launchers["hostile"], ["--exit=7", "x y"]),
        bat_command_line(launchers["hostile"], []),  # as Pixi starts it: the handshake
        f'cmd.exe /d /c "{windows.cmd_path(check)}"',
    ]
    results = _run_in_wine(built, lines)
    for (output, code), kind in zip(results[:2], launchers, strict=True):
        assert code == 0, output
        report = json.loads(output)
        assert report["argv"] == ["--report", *ARGS], kind
        prefix = windows.cmd_path(next((built[kind] / "envs").glob(f"{BACKEND}-*[!n]")))
        env = report["env"]
        assert env["DEMO_RUNTIME_ACTIVE"] == "1" and env["DEMO_RUNTIME_FLAVOR"] == "vanilla"
        assert env["CONDA_PREFIX"] == prefix, kind
        assert env["PATH"].split(";")[:2] == [prefix, f"{prefix}\\Library\\mingw-w64\\bin"]
    output, code = results[2]
    assert code == 7 and json.loads(output)["argv"] == ["--exit=7", "x y"]
    output, code = results[3]
    assert code == 0, output
    reply = json.loads(output)
    assert reply["id"] == 7 and reply["result"]["capabilities"]["providesCondaOutputs"] is True
    output, code = results[4]
    bin_dir = windows.cmd_path(built["carried"] / "bin")
    ours = f"{BACKEND}={bin_dir}\\{BACKEND}.bat"
    shown = [line for line in output.splitlines() if not line.startswith("PATHEXT=")]
    override = "PIXI_BUILD_BACKEND_OVERRIDE"
    assert shown == [
        f"PATH={bin_dir};C:\\windows\\system32;C:\\user tools",  # once, though called twice
        f"{override}=users-own=C:\\mine.exe,{ours}",
        f"{override}={BACKEND}=C:\\theirs.exe",  # the user's entry wins
        f"{override}_ALL=1",  # _ALL: nothing set
    ], output


def test_activation_scripts_of_a_windows_store(built: dict[str, Path]) -> None:
    """As text: a store holding Windows environments hands their .bat launchers to the cmd.exe
    and PowerShell scripts, as Wine sees them, and nothing to the POSIX shells' scripts."""
    root = built["carried"]
    launcher = windows.cmd_path(root / "bin" / f"{BACKEND}.bat")
    for shell in ("cmd", "powershell"):
        text = (root / "activate" / shells.SHELLS[shell]).read_text(encoding="utf-8")
        assert f"{BACKEND}={launcher}" in text, shell
    for shell in ("bash", "posix", "fish", "xonsh"):
        text = (root / "activate" / shells.SHELLS[shell]).read_text(encoding="utf-8")
        assert BACKEND not in text, shell
    hostile = (built["hostile"] / "activate" / "activate.bat").read_text(encoding="utf-8")
    assert "\u00fc" in hostile, "written as is (a non-ASCII store needs chcp 65001 first)"


def test_each_workspace_gets_the_version_it_pinned(built: dict[str, Path]) -> None:
    """In one wine run: the .bat launcher started from inside each workspace (and a subfolder),
    from a sibling whose name extends one, in another case, and from elsewhere, answers with
    the version that workspace pinned; a workspace the .bat cannot name gets the default."""
    tmp = built["tmp"]
    root, parent = tmp / "dispatch store", tmp / "ws a&b ^c (x) !y =,;"
    pins = {"caf\u00e9": "0.1.*", "a": "0.1.*", "b": "0.2.*"}  # the last one is the default
    for name, pin in pins.items():
        folder = parent / name
        folder.mkdir(parents=True)
        (folder / "pixi.toml").write_text(
            f'[workspace]\nchannels = ["{(tmp / "channel").as_uri()}"]\n'
            f'preview = ["pixi-build"]\nplatforms = ["win-64"]\n'
            f'[package]\nname = "p-{len(name)}"\nversion = "0.1.0"\n[package.build]\n'
            f'backend = {{ name = "{BACKEND}", version = "{pin}" }}\n',
            encoding="utf-8",
        )
        _install(tmp, root, tmp / "channel", folder)
    versions = {}
    for meta in (root / "envs").glob(f"{BACKEND}-*.json"):
        prefix = Path(json.loads(meta.read_text(encoding="utf-8"))["prefix"])
        (record,) = (prefix / "conda-meta").glob(f"{BACKEND}-*.json")
        versions[windows.cmd_path(prefix)] = json.loads(record.read_text())["version"]
    launcher_file = root / "bin" / f"{BACKEND}.bat"
    text = launcher_file.read_bytes()
    assert text.isascii() and b"left out of the table" in text  # the non-ASCII workspace
    launcher = windows.cmd_path(launcher_file)
    for folder in ("a/src/deep", "a/w%PATH%x !y", "a2", "elsewhere"):
        (parent / folder).mkdir(parents=True)
    expected = {
        "a": "0.1.0",
        "a/src/deep": "0.1.0",
        "a/w%PATH%x !y": "0.1.0",  # '%' and '!' in the current folder are never expanded
        "b": "0.2.0",
        "a2": "0.2.0",  # not inside 'a'
        "elsewhere": "0.2.0",
        "caf\u00e9": "0.2.0",  # not ASCII: left out of the .bat, served the default
    }
    starts = {
        **{where: windows.cmd_path(parent / where) for where in expected},
        "A in capitals": windows.cmd_path(parent / "a").upper(),
    }
    expected["A in capitals"] = "0.1.0"
    lines = [f"{cwd}\t{bat_command_line(launcher, ['--report'])}" for cwd in starts.values()]
    results = _run_in_wine(built, lines)
    answered = {}
    for where, (output, code) in zip(starts, results, strict=True):
        assert code == 0, (where, output)
        answered[where] = versions[json.loads(output)["env"]["CONDA_PREFIX"]]
    assert answered == expected


#: conda's cmd.exe activation as it runs activate-in's scripts (conda.activate `_yield_commands`):
#: PATH and CONDA_SHLVL set first, then `@CALL "activate.d script"`; on deactivation PATH is
#: set first (its own entries out), then `@CALL "deactivate.d script"`, then CONDA_SHLVL.
#: `SET` lists every variable, so the check sees helper variables left behind too.
ROUNDTRIP_CHECK = """\
@ECHO OFF
SET "PATH=C:\\windows\\system32;C:\\user tools"
{override}
SET "CONDA_SHLVL=0"
ECHO ---before
SET
SET "PATH=C:\\env;C:\\env\\Library\\bin;%PATH%"
SET "CONDA_SHLVL=1"
@CALL "{activate}"
ECHO ---active
SET
SET "PATH={bin_dir};C:\\windows\\system32;C:\\user tools"
@CALL "{deactivate}"
SET "CONDA_SHLVL=0"
ECHO ---deactivated
SET
SET "CONDA_SHLVL=1"
@CALL "{activate}"
@CALL "{deactivate}"
SET "CONDA_SHLVL=0"
ECHO ---unchanged-path
SET
SET "PATH=C:\\env;C:\\env\\Library\\bin;%PATH%"
SET "CONDA_SHLVL=1"
@CALL "{activate}"
SET "PATH=C:\\later;{bin_dir};C:\\windows\\system32;C:\\user tools"
@CALL "{deactivate}"
SET "CONDA_SHLVL=0"
ECHO ---user-added
SET
SET "PATH=C:\\env;C:\\env\\Library\\bin;C:\\windows\\system32;C:\\user tools"
SET "CONDA_SHLVL=1"
@CALL "{activate}"
SET "PATH=C:\\env2;%PATH%"
SET "CONDA_SHLVL=2"
@CALL "{activate}"
ECHO ---stacked
SET
SET "PATH={bin_dir};C:\\env;C:\\env\\Library\\bin;C:\\windows\\system32;C:\\user tools"
@CALL "{deactivate}"
SET "CONDA_SHLVL=1"
ECHO ---unstacked
SET
SET "PATH={bin_dir};C:\\windows\\system32;C:\\user tools"
@CALL "{deactivate}"
SET "CONDA_SHLVL=0"
ECHO ---stack-deactivated
SET
"""


def test_activate_in_scripts_restore_exactly_in_wine(built: dict[str, Path]) -> None:
    """In one wine run: activate-in's activate.d and deactivate.d `.bat` scripts, called as
    conda's cmd.exe activation calls them, set PATH and the override (the user's entries kept)
    and put back exactly what was there, whether the override was unset or held an entry."""
    from conda_pixi_backends import conda_envs
    from conda_pixi_backends.store import Store

    tmp, store = built["tmp"], Store(built["carried"])
    prefix = tmp / "env"
    (prefix / "conda-meta").mkdir(parents=True, exist_ok=True)
    written = conda_envs.write(store, prefix)  # what activate-in writes: CRLF in a .bat
    assert written and conda_envs.write(store, prefix) == []
    for path in written:  # CRLF in a .bat, a BOM in a .ps1 (PowerShell 5.1), else plain
        data = path.read_bytes()
        assert (b"\n" not in data.replace(b"\r\n", b"")) == (path.suffix == ".bat"), path
        assert data.startswith(b"\xef\xbb\xbf") == (path.suffix == ".ps1"), path
    # The same scripts with the store as cmd.exe sees it (Z:\...), as on Windows.
    bin_dir = windows.cmd_path(store.bin)
    static = windows.cmd_path(store.activate / "activate.bat")
    scripts = {}
    for folder, text in (
        ("activate.d", conda_envs.activate_script("cmd", static)),
        ("deactivate.d", conda_envs.deactivate_script("cmd", bin_dir)),
    ):
        path = prefix / "etc" / "conda" / folder / f"{conda_envs.SCRIPT_NAME}.bat"
        path.write_bytes(conda_envs.encoded(path, text))
        scripts[folder] = windows.cmd_path(path)
    cases = {
        "unset": 'SET "PIXI_BUILD_BACKEND_OVERRIDE="',
        "users": 'SET "PIXI_BUILD_BACKEND_OVERRIDE=users-own=C:\\mine.exe"',
    }
    lines = []
    for name, override in cases.items():
        check = tmp / f"check-activate-in-{name}.bat"
        check.write_text(
            ROUNDTRIP_CHECK.format(
                override=override,
                bin_dir=bin_dir,
                activate=scripts["activate.d"],
                deactivate=scripts["deactivate.d"],
            ),
            newline="\r\n",
        )
        lines.append(f'cmd.exe /d /c "{windows.cmd_path(check)}"')
    results = _run_in_wine(built, lines)
    ours = f"{BACKEND}={bin_dir}\\{BACKEND}.bat"
    for (output, code), name in zip(results, cases, strict=True):
        assert code == 0, output
        sections: dict[str, dict[str, str]] = {}
        for line in output.splitlines():
            if line.startswith("---"):
                current = sections.setdefault(line[3:], {})
            elif "=" in line:
                key, _, value = line.partition("=")
                current[key.upper()] = value
        before, active = sections["before"], sections["active"]
        assert ("PIXI_BUILD_BACKEND_OVERRIDE" in before) == (name == "users")
        assert active["PATH"] == f"{bin_dir};C:\\env;C:\\env\\Library\\bin;" + before["PATH"]
        users = "users-own=C:\\mine.exe," if name == "users" else ""
        assert active["PIXI_BUILD_BACKEND_OVERRIDE"] == users + ours
        assert sections["deactivated"] == before, name
        assert sections["unchanged-path"] == before, name  # an environment adding no PATH
        assert sections["user-added"] == {**before, "PATH": "C:\\later;" + before["PATH"]}
        stacked = sections["stacked"]  # `conda activate --stack`: nothing added twice
        assert stacked["PATH"] == "C:\\env2;" + active["PATH"]
        assert stacked["PIXI_BUILD_BACKEND_OVERRIDE"] == active["PIXI_BUILD_BACKEND_OVERRIDE"]
        assert sections["unstacked"] == active, name
        assert sections["stack-deactivated"] == before, name


def test_doctor_and_run_start_a_windows_launcher_through_cmd(built: dict[str, Path]) -> None:
    """Off Windows, `doctor` probes a `.bat` launcher through Wine's cmd.exe (it answers
    negotiateCapabilities), checks its bytes (CRLF) against its metadata, and knows this shell
    is not the one that hands it to Pixi; `run` starts it the same way, its exit code kept."""
    tmp, root = built["tmp"], built["hostile"]
    doctor = subprocess.run(
        [sys.executable, "-m", "conda_pixi_backends", "doctor", "--json", "--root", str(root)],
        capture_output=True, text=True, timeout=300, cwd=tmp, env=_clean_env(tmp),
    )  # fmt: skip
    rows = json.loads(doctor.stdout)["checks"]
    checks = {c["check"]: c for c in rows if c["backend"] == BACKEND}
    for check in ("environment", "executable", "responds", "active"):
        assert checks[check]["status"] == "ok", checks[check]["detail"]
    assert "negotiateCapabilities" in checks["responds"]["detail"]
    run = subprocess.run(
        [sys.executable, "-m", "conda_pixi_backends", "run", BACKEND, "--root", str(root),
         "--", "--exit=3", "plain"],
        capture_output=True, text=True, timeout=300, cwd=tmp, env=_clean_env(tmp),
    )  # fmt: skip
    assert run.returncode == 3, run.stderr
    report = json.loads(run.stdout.splitlines()[-1])
    assert report["argv"] == ["--exit=3", "plain"]
    assert report["env"]["DEMO_RUNTIME_ACTIVE"] == "1", "the launcher applied the activation"
    again = subprocess.run(
        [sys.executable, "-m", "conda_pixi_backends", "install", BACKEND, "--platform", "win-64",
         "--override-channels", "-c", (tmp / "channel").as_uri(), "--root", str(root)],
        capture_output=True, text=True, timeout=300, cwd=tmp, env=_clean_env(tmp),
    )  # fmt: skip
    assert f"{BACKEND}.bat" in again.stdout, again.stdout
    assert "To hand these backends" not in again.stdout, "no POSIX shell's script carries it"
