"""The generated shell scripts, run in real shells with controlled environments (no mocks).

Every check reads what the shell finally exports (`env -0`), which is what Pixi sees.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conda_pixi_backends import shells
from conda_pixi_backends.overrides import OVERRIDE, OVERRIDE_ALL
from conda_pixi_backends.shells import activation_script, quote

#: xonsh from PATH, or from the test virtualenv (the test extra installs it there).
XONSH = shutil.which("xonsh") or shutil.which("xonsh", path=str(Path(sys.executable).parent))

BIN = "/store/bin"
PY, CMAKE = "pixi-build-python", "pixi-build-cmake"
OVERRIDES = [(PY, f"{BIN}/{PY}"), (CMAKE, f"{BIN}/{CMAKE}")]
OURS = f"{PY}={BIN}/{PY},{CMAKE}={BIN}/{CMAKE}"
# Everything a shell might expand or run; an injection would create PWNED in the cwd.
NASTY = (
    "sp ace 'sq' \"dq\" $(touch PWNED) `touch PWNED` (touch PWNED) ; touch PWNED & "
    "\\back %PWNED% !x * ? [a] ~ $HOME\nnew line ünï"
)


def _need(exe: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        shutil.which(exe) is None, reason=f"{exe} is not installed (apt-get install {exe})"
    )


# Shell under test -> (executable, activation script flavour, argv before the script path).
RUNNERS = {
    "bash": ("bash", "bash", ["bash", "--noprofile", "--norc", "-c"]),
    "zsh": ("zsh", "zsh", ["zsh", "-f", "-c"]),
    "dash": ("dash", "posix", ["dash", "-c"]),
    "fish": ("fish", "fish", ["fish", "--no-config", "-c"]),
}
ALL_SHELLS = [pytest.param(name, marks=_need(exe)) for name, (exe, _, _) in RUNNERS.items()]
SOURCING = ["bash", "zsh", "dash"]
POSIX_SHELLS = [p for p in ALL_SHELLS if p.values[0] in SOURCING]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LC_ALL": "C.UTF-8", **extra}


def _run(shell: str, argv_code: str, script: Path, env: dict[str, str], cwd: Path) -> str:
    exe, _, (_, *options) = RUNNERS[shell]
    argv = [shutil.which(exe) or exe, *options]  # PATH may be empty in the child's env
    # $1 (argv[1] in fish) is the script; after the `-c` code comes $0 for POSIX shells.
    extra = [script] if shell == "fish" else [shell, script]
    proc = subprocess.run(
        [*argv, argv_code, *map(str, extra)],
        env=env,
        cwd=cwd,
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert not (cwd / "PWNED").exists(), "a value was run as a command"
    return proc.stdout.decode()


def activate(
    shell: str,
    tmp_path: Path,
    env: dict[str, str],
    *,
    bin_dir: str = BIN,
    overrides: list[tuple[str, str]] = OVERRIDES,
    times: int = 1,
    prelude: str = "",
) -> dict[str, str]:
    """Source the activation script `times` times in a real shell; return what it exports."""
    flavour = RUNNERS[shell][1]
    script = tmp_path / shells.SHELLS[flavour]
    script.write_text(activation_script(flavour, bin_dir, overrides), encoding="utf-8")
    source = "source $argv[1]" if shell == "fish" else '. "$1"'
    code = "\n".join([prelude, *[source] * times, "exec /usr/bin/env -0", ""])
    out = _run(shell, code, script, env, tmp_path)
    return dict(item.partition("=")[::2] for item in out.split("\0") if item)


@pytest.mark.parametrize("shell", ALL_SHELLS)
def test_unset_override_gets_ours_and_bin_on_path(shell: str, tmp_path: Path) -> None:
    env = activate(shell, tmp_path, _env(tmp_path))
    assert env["PATH"] == f"{BIN}:/usr/bin:/bin"
    assert env[OVERRIDE] == OURS


@pytest.mark.parametrize("shell", ALL_SHELLS)
@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", OURS),
        ("foo=/x", f"foo=/x,{OURS}"),
        (PY, f"{PY},{CMAKE}={BIN}/{CMAKE}"),  # a bare name (from PATH) is the user's: it wins
        (f"{PY}=/mine", f"{PY}=/mine,{CMAKE}={BIN}/{CMAKE}"),
        (f"a=/x,{CMAKE}", f"a=/x,{CMAKE},{PY}={BIN}/{PY}"),
        (f"{PY}2=/x,x{PY},{CMAKE}-", f"{PY}2=/x,x{PY},{CMAKE}-,{OURS}"),  # not prefixes
        ("odd=/a b\n*,", f"odd=/a b\n*,,{OURS}"),  # kept byte for byte, no trimming
    ],
)
def test_user_entries_are_kept_and_win(shell: str, before: str, after: str, tmp_path: Path) -> None:
    env = activate(shell, tmp_path, _env(tmp_path, **{OVERRIDE: before}))
    assert env[OVERRIDE] == after


@pytest.mark.parametrize("shell", ALL_SHELLS)
@pytest.mark.parametrize("all_value", ["", "1"])
@pytest.mark.parametrize("user", [None, "foo=/x"])
def test_override_all_changes_nothing(
    shell: str, all_value: str, user: str | None, tmp_path: Path
) -> None:
    before = _env(tmp_path, **{OVERRIDE_ALL: all_value})
    if user is not None:
        before[OVERRIDE] = user
    env = activate(shell, tmp_path, before)
    assert env["PATH"] == "/usr/bin:/bin"
    assert env.get(OVERRIDE) == user
    assert env[OVERRIDE_ALL] == all_value


@pytest.mark.parametrize("shell", ALL_SHELLS)
def test_sourcing_twice_adds_nothing(shell: str, tmp_path: Path) -> None:
    env = activate(shell, tmp_path, _env(tmp_path, **{OVERRIDE: "foo=/x"}), times=2)
    assert env["PATH"] == f"{BIN}:/usr/bin:/bin"
    assert env[OVERRIDE] == f"foo=/x,{OURS}"


@pytest.mark.parametrize("shell", ALL_SHELLS)
def test_bin_already_on_path_is_not_moved(shell: str, tmp_path: Path) -> None:
    env = activate(shell, tmp_path, _env(tmp_path, PATH=f"/usr/bin:{BIN}:/bin"))
    assert env["PATH"] == f"/usr/bin:{BIN}:/bin"


@pytest.mark.parametrize("shell", ALL_SHELLS)
def test_path_entries_compare_literally(shell: str, tmp_path: Path) -> None:
    """A bin directory with glob characters is not "found" in an entry it merely matches."""
    env = activate(shell, tmp_path, _env(tmp_path), bin_dir="/usr/*")
    assert env["PATH"] == "/usr/*:/usr/bin:/bin"


@pytest.mark.parametrize("shell", ALL_SHELLS)
def test_empty_path_gets_no_stray_separator(shell: str, tmp_path: Path) -> None:
    # Emptied inside the shell: zsh and fish replace an empty PATH they start with.
    empty = "set -gx PATH" if shell == "fish" else "PATH="
    env = activate(shell, tmp_path, _env(tmp_path), prelude=empty)
    assert env["PATH"] == BIN


@pytest.mark.parametrize("shell", ALL_SHELLS)
def test_no_overrides_leaves_the_variable_alone(shell: str, tmp_path: Path) -> None:
    env = activate(shell, tmp_path, _env(tmp_path), overrides=[])
    assert env["PATH"] == f"{BIN}:/usr/bin:/bin"
    assert OVERRIDE not in env


@pytest.mark.parametrize("shell", POSIX_SHELLS)
@pytest.mark.parametrize("user", [None, f"{PY}=/mine"])
def test_works_under_set_eu(shell: str, user: str | None, tmp_path: Path) -> None:
    before = _env(tmp_path) if user is None else _env(tmp_path, **{OVERRIDE: user})
    env = activate(shell, tmp_path, before, prelude="set -eu", times=2)
    assert env["PATH"] == f"{BIN}:/usr/bin:/bin"
    expected = OURS if user is None else f"{user},{CMAKE}={BIN}/{CMAKE}"
    assert env[OVERRIDE] == expected


@pytest.mark.parametrize("shell", POSIX_SHELLS)
def test_override_all_under_set_eu(shell: str, tmp_path: Path) -> None:
    env = activate(shell, tmp_path, _env(tmp_path, **{OVERRIDE_ALL: ""}), prelude="set -eu")
    assert env["PATH"] == "/usr/bin:/bin"
    assert OVERRIDE not in env


# Lists every variable and function name, one a line.
NAME_LISTS = {
    "bash": "compgen -v; declare -F",
    "zsh": "print -rl -- ${(k)parameters} ${(k)functions}",
    "dash": "set | sed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p'",
    "fish": "set -n; functions -an",
}


@pytest.mark.parametrize("shell", ALL_SHELLS)
def test_leaves_no_helpers_behind(shell: str, tmp_path: Path) -> None:
    flavour = RUNNERS[shell][1]
    script = tmp_path / shells.SHELLS[flavour]
    script.write_text(activation_script(flavour, BIN, OVERRIDES), encoding="utf-8")
    source = "source $argv[1]" if shell == "fish" else '. "$1"'
    listing = NAME_LISTS[shell]  # after `true`: bash sets PIPESTATUS after a first command
    out = _run(
        shell,
        f"true\n{listing}\necho ----\n{source}\n{listing}\n",
        script,
        _env(tmp_path),
        tmp_path,
    )
    before, after = (set(part.split()) for part in out.split("----"))
    assert after - before <= {OVERRIDE}


@pytest.mark.parametrize("shell", ALL_SHELLS)
def test_nasty_values_arrive_literally(shell: str, tmp_path: Path) -> None:
    bin_dir = f"/{NASTY}/bin"
    launcher = f"{bin_dir}/{PY}"
    before = _env(tmp_path, **{OVERRIDE: "foo=/x"})
    env = activate(shell, tmp_path, before, bin_dir=bin_dir, overrides=[(PY, launcher)], times=2)
    assert env["PATH"] == f"{bin_dir}:/usr/bin:/bin"
    assert env[OVERRIDE] == f"foo=/x,{PY}={launcher}"


def test_script_header_and_file_names() -> None:
    assert set(shells.SHELLS) == {"bash", "zsh", "posix", "fish", "xonsh", "powershell", "cmd"}
    assert len(set(shells.SHELLS.values())) == len(shells.SHELLS)
    for shell in shells.SHELLS:
        first = activation_script(shell, BIN, OVERRIDES).splitlines()[0]
        assert "Generated by conda-pixi-backends" in first
        assert "do not edit" in first
        assert first.startswith(("#", "@REM"))


def test_what_pixi_cannot_carry_is_refused() -> None:
    for path in ("/a,b", "/a=b"):
        with pytest.raises(ValueError, match=OVERRIDE):
            activation_script("bash", BIN, [(PY, path)])
    for name in ("", "a,b", "a=b", "a b", "a*", "ünï"):
        with pytest.raises(ValueError, match="not a backend name"):
            activation_script("bash", BIN, [(name, "/x")])
    with pytest.raises(ValueError, match="unknown shell"):
        activation_script("tcsh", BIN, OVERRIDES)


# --- quoting, checked as text for every shell -------------------------------------------


@pytest.mark.parametrize(
    ("shell", "value", "quoted"),
    [
        ("posix", "it's $x", "'it'\\''s $x'"),
        ("bash", "a\nb", "'a\nb'"),
        ("fish", "it's \\ $x", "'it\\'s \\\\ $x'"),
        ("xonsh", 'it\'s "$x"\n', repr('it\'s "$x"\n')),
        ("powershell", "it's $x `y`", "'it''s $x `y`'"),
        ("powershell", "a\u2019b", "'a\u2019\u2019b'"),
        ("cmd", "C:\\100% sure & !x ^", '"C:\\100%% sure & !x ^"'),
    ],
)
def test_quote(shell: str, value: str, quoted: str) -> None:
    assert quote(shell, value) == quoted


def test_quote_refuses_what_cannot_be_carried() -> None:
    for bad in ('a"b', "a\nb", "a\rb"):
        with pytest.raises(ValueError, match=r"cmd\.exe"):
            quote("cmd", bad)
    with pytest.raises(ValueError, match="NUL"):
        quote("bash", "a\0b")
    with pytest.raises(ValueError, match="unknown shell"):
        quote("tcsh", "a")


@pytest.mark.parametrize("shell", ALL_SHELLS)
def test_quote_round_trips_in_the_real_shell(shell: str, tmp_path: Path) -> None:
    flavour = RUNNERS[shell][1]
    script = tmp_path / "echo"
    script.write_text(f"printf '%s' {quote(flavour, NASTY)}\n", encoding="utf-8")
    source = "source $argv[1]" if shell == "fish" else '. "$1"'
    assert _run(shell, source, script, _env(tmp_path), tmp_path) == NASTY


NASTY_XONSH = NASTY.replace("$", "")  # xonsh expands $ in PATH entries: refused, tested above


def test_xonsh_text() -> None:
    text = activation_script("xonsh", f"/{NASTY_XONSH}", OVERRIDES)
    assert f"if {OVERRIDE_ALL!r} not in ${{...}}:" in text
    assert f"$PATH.insert(0, {f'/{NASTY_XONSH}'!r})" in text
    assert repr(f"{PY}={BIN}/{PY}") in text
    compile(text.replace("${...}", "ENV").replace("$PATH", "PATH").replace("$", ""), "x", "exec")


def test_powershell_text() -> None:
    text = activation_script("powershell", f"/{NASTY}", OVERRIDES)
    assert f"GetEnvironmentVariable('{OVERRIDE_ALL}')" in text  # set-but-empty counts
    assert quote("powershell", f"/{NASTY}") in text
    assert f"-cnotcontains '{PY}'" in text
    assert text.count("{") == text.count("}")


def test_cmd_text() -> None:
    text = activation_script("cmd", "C:\\conda store\\bin", [(PY, "C:\\s\\bin\\x 100%.bat")])
    lines = text.splitlines()
    assert lines[1] == f"@IF DEFINED {OVERRIDE_ALL} GOTO :EOF"
    assert '"%%~P"=="C:\\conda store\\bin"' in text
    assert f"{PY}=C:\\s\\bin\\x 100%%.bat" in text
    assert lines[-1].startswith("@ENDLOCAL & SET ")


@pytest.mark.parametrize(
    ("shell", "bin_dir", "launcher", "says"),
    [
        ("cmd", 'C:\\a"b', "C:\\x.bat", "@ECHO conda-pixi-backends: cmd cannot use this store"),
        ("cmd", "C:\\100%\\bin", "C:\\x.bat", "@ECHO conda-pixi-backends: cmd cannot"),
        ("cmd", "C:\\a;b", "C:\\x.bat", "@ECHO conda-pixi-backends: cmd cannot"),
        ("cmd", "C:\\bin", "C:\\a\nb.bat", "@ECHO conda-pixi-backends: cmd cannot"),
        ("xonsh", "/a/$HOME/bin", "/x", "print('conda-pixi-backends: xonsh cannot"),
        ("fish", "/a:b", "/x", "echo 'conda-pixi-backends: fish cannot"),
        ("bash", "/a:b", "/x", "echo 'conda-pixi-backends: bash cannot"),
    ],
)
def test_a_shell_that_cannot_carry_a_path_gets_a_script_that_says_so(
    shell: str, bin_dir: str, launcher: str, says: str
) -> None:
    """The other shells' scripts must still be written, so this one is not an exception."""
    header, body = activation_script(shell, bin_dir, [(PY, launcher)]).split("\n", 1)
    assert "Generated by conda-pixi-backends" in header
    assert body.startswith(says)
    assert body.count("\n") == 1
    for value in (bin_dir, launcher):
        assert value not in body


@pytest.mark.skipif(XONSH is None, reason="xonsh is not installed (pip install xonsh)")
@pytest.mark.parametrize("user", [None, "foo=/x", PY])
def test_xonsh_real(user: str | None, tmp_path: Path) -> None:
    script = tmp_path / "activate.xsh"
    bin_dir = f"/{NASTY_XONSH}/bin"
    overrides = [(PY, f"/{NASTY}/{PY}"), (CMAKE, f"{BIN}/{CMAKE}")]
    script.write_text(activation_script("xonsh", bin_dir, overrides), encoding="utf-8")
    env = _env(tmp_path)
    if user is not None:
        env[OVERRIDE] = user
    code = f"source {script!s}\nsource {script!s}\n/usr/bin/env -0\n"
    proc = subprocess.run(
        [str(XONSH), "--no-rc", "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert not (tmp_path / "PWNED").exists()
    out = dict(i.partition("=")[::2] for i in proc.stdout.decode().split("\0") if i)
    assert out["PATH"].split(":")[0] == bin_dir
    ours = f"{PY}=/{NASTY}/{PY},{CMAKE}={BIN}/{CMAKE}"
    if user == PY:
        ours = f"{CMAKE}={BIN}/{CMAKE}"
    assert out[OVERRIDE] == (f"{user},{ours}" if user else ours)


@pytest.mark.skipif(XONSH is None, reason="xonsh is not installed (pip install xonsh)")
@pytest.mark.parametrize("all_value", ["", "1"])
def test_xonsh_real_override_all(all_value: str, tmp_path: Path) -> None:
    script = tmp_path / "activate.xsh"
    script.write_text(activation_script("xonsh", BIN, OVERRIDES), encoding="utf-8")
    env = _env(tmp_path, **{OVERRIDE_ALL: all_value, OVERRIDE: "foo=/x"})
    proc = subprocess.run(
        [str(XONSH), "--no-rc", "-c", f"source {script}\n/usr/bin/env -0\n"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    out = dict(i.partition("=")[::2] for i in proc.stdout.decode().split("\0") if i)
    assert (out["PATH"], out[OVERRIDE]) == ("/usr/bin:/bin", "foo=/x")


@pytest.mark.skipif(shutil.which("pwsh") is None, reason="PowerShell (pwsh) is not installed")
@pytest.mark.parametrize("all_value", [None, ""])
def test_powershell_real(all_value: str | None, tmp_path: Path) -> None:
    script = tmp_path / "activate.ps1"
    bin_dir = f"/{NASTY}/bin"
    script.write_text(activation_script("powershell", bin_dir, OVERRIDES), encoding="utf-8-sig")
    env = _env(tmp_path, **{OVERRIDE: "foo=/x"})
    if all_value is not None:
        env[OVERRIDE_ALL] = all_value
    source = f". {quote('powershell', str(script))}"
    code = f"{source}; {source}; /usr/bin/env -0"
    proc = subprocess.run(
        [shutil.which("pwsh") or "pwsh", "-NoProfile", "-NonInteractive", "-Command", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert not (tmp_path / "PWNED").exists()
    out = dict(i.partition("=")[::2] for i in proc.stdout.decode().split("\0") if i)
    if all_value is None:
        assert out["PATH"] == f"{bin_dir}:/usr/bin:/bin"
        assert out[OVERRIDE] == f"foo=/x,{OURS}"
    else:
        assert out["PATH"] == "/usr/bin:/bin"
        assert out[OVERRIDE] == "foo=/x"


# --- launchers ---------------------------------------------------------------------------

TARGET = """#!/bin/sh
printf '%s\\0' "$#" "$@"
printf 'ENV\\0'
/usr/bin/env -0
exit "${EXIT_CODE:-0}"
"""


def _launcher(tmp_path: Path, **kwargs: object) -> Path:
    """A real target script in a nastily named folder, and a launcher for it."""
    folder = tmp_path / NASTY
    folder.mkdir()
    target = folder / "backend"
    target.write_text(TARGET, encoding="utf-8")
    target.chmod(target.stat().st_mode | stat.S_IXUSR)
    defaults: dict[str, object] = {"env_set": {}, "env_unset": [], "path_prepend": []}
    text = shells.launcher_script("sh", str(target), **{**defaults, **kwargs})  # type: ignore[arg-type]
    launcher = tmp_path / "bin" / PY
    launcher.parent.mkdir()
    launcher.write_text(text, encoding="utf-8")
    launcher.chmod(0o755)
    return launcher


def _launch(launcher: Path, args: list[str], env: dict[str, str], cwd: Path):
    proc = subprocess.run([launcher, *args], env=env, cwd=cwd, capture_output=True, timeout=60)
    assert not (cwd / "PWNED").exists(), "a value was run as a command"
    head, _, tail = proc.stdout.decode().partition("ENV\0")
    argv = head.split("\0")[:-1]
    assert int(argv[0]) == len(argv) - 1
    env_out = dict(i.partition("=")[::2] for i in tail.split("\0") if i)
    return proc.returncode, argv[1:], env_out


@pytest.mark.skipif(os.name == "nt", reason="the sh launcher is for Unix")
def test_sh_launcher(tmp_path: Path) -> None:
    values = {"CONDA_PREFIX": f"/{NASTY}/env", "EMPTY": "", "PLAIN": "x"}
    launcher = _launcher(
        tmp_path,
        env_set=values,
        env_unset=["GONE", "NEVER_SET"],
        path_prepend=[f"/{NASTY}/env/bin", "/second"],
    )
    text = launcher.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/sh\n# Generated by conda-pixi-backends")
    args = ["a b", "it's", 'say "hi"', "$(touch PWNED)", "", "ünï\nx", "-"]
    env = _env(tmp_path, GONE="1", EXIT_CODE="7", CONDA_PREFIX="/old")
    code, argv, out = _launch(launcher, args, env, tmp_path)
    assert code == 7
    assert argv == args
    assert {k: out[k] for k in values} == values
    assert "GONE" not in out and "NEVER_SET" not in out
    assert out["PATH"] == f"/{NASTY}/env/bin:/second:/usr/bin:/bin"
    assert out["HOME"] == str(tmp_path)


@pytest.mark.skipif(os.name == "nt", reason="the sh launcher is for Unix")
@pytest.mark.parametrize("path", ["", None])
def test_sh_launcher_with_empty_or_unset_path(path: str | None, tmp_path: Path) -> None:
    launcher = _launcher(tmp_path, path_prepend=["/first", "/second"])
    env = {"HOME": str(tmp_path)} if path is None else {"HOME": str(tmp_path), "PATH": path}
    code, argv, out = _launch(launcher, [], env, tmp_path)
    assert (code, argv) == (0, [])
    entries = out["PATH"].split(":")
    assert entries[:2] == ["/first", "/second"]
    assert "" not in entries  # no stray separator; sh itself supplies a default for unset
    if path == "":
        assert out["PATH"] == "/first:/second"


@pytest.mark.skipif(os.name == "nt", reason="the sh launcher is for Unix")
def test_sh_launcher_without_changes_keeps_path(tmp_path: Path) -> None:
    launcher = _launcher(tmp_path)
    code, argv, out = _launch(launcher, ["x"], _env(tmp_path), tmp_path)
    assert (code, argv, out["PATH"]) == (0, ["x"], "/usr/bin:/bin")


def test_cmd_launcher_text() -> None:
    text = shells.launcher_script(
        "cmd",
        "C:\\env dir\\Scripts\\backend.exe",
        env_set={"CONDA_PREFIX": "C:\\env dir", "PCT": "100% & !x ^"},
        env_unset=["GONE"],
        path_prepend=["C:\\env dir\\Scripts", "C:\\env dir\\Library\\bin"],
    )
    lines = text.splitlines()
    assert lines[0].startswith("@REM Generated by conda-pixi-backends")
    assert lines[1] == "@SETLOCAL DisableDelayedExpansion"
    assert '@SET "CONDA_PREFIX=C:\\env dir"' in lines
    assert '@SET "PCT=100%% & !x ^"' in lines
    assert '@SET "GONE="' in lines
    prefix = "C:\\env dir\\Scripts;C:\\env dir\\Library\\bin"
    assert f'@IF DEFINED PATH (SET "PATH={prefix};%PATH%") ELSE SET "PATH={prefix}"' in lines
    assert lines[-2:] == ['@"C:\\env dir\\Scripts\\backend.exe" %*', "@EXIT /B %ERRORLEVEL%"]


def test_launcher_refuses_what_it_cannot_write() -> None:
    for kwargs in (
        {"env_set": {"PATH": "/x"}},
        {"env_unset": ["PATH"]},
        {"env_set": {"A-B": "x"}},
        {"env_set": {"1A": "x"}},
        {"env_unset": ["A B"]},
        {"path_prepend": ["/a:b"]},
    ):
        args = {"env_set": {}, "env_unset": [], "path_prepend": [], **kwargs}
        with pytest.raises(ValueError):
            shells.launcher_script("sh", "/x", **args)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="';'"):
        shells.launcher_script("cmd", "C:\\x", {}, [], ["C:\\a;b"])
    with pytest.raises(ValueError, match=r"cmd\.exe"):
        shells.launcher_script("cmd", "C:\\x", {"A": 'say "hi"'}, [], [])
    with pytest.raises(ValueError, match="'sh' or 'cmd'"):
        shells.launcher_script("bash", "/x", {}, [], [])
