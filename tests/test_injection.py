"""Hostile paths: store roots, manifest folders, channel folders and override values holding
everything a shell, a URL or a batch file might interpret. Every activation script and
launcher must still work in each real shell and run nothing: a `touch PWNED` hidden in the
paths must never create a file anywhere under the test's folders.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BACKEND, CLI, NEGOTIATE, snapshot

from conda_pixi_backends import shells

SENTINEL = "PWNED"
#: One folder name holding what shells, URLs and cmd.exe treat specially (no '/', and none of
#: the ',', '=', ':' that a store path cannot hold).
NASTY = (
    "sp ace 'sq' \"dq\" $(touch PWNED) `touch PWNED` ;touch PWNED; &touch PWNED& "
    "|touch PWNED| (touch PWNED) @(touch PWNED) !(touch PWNED) \ttab * ? [a] ~ $HOME ${HOME} "
    "%PATH% !x! #hash \\back ünï 🐍 中文 \nnew line"
)
#: xonsh expands '$' in PATH entries: its script refuses such a store (tested below).
NASTY_NO_DOLLAR = NASTY.replace("$", "")
XONSH = shutil.which("xonsh") or shutil.which("xonsh", path=str(Path(sys.executable).parent))

# shell -> (executable, activation script, argv that sources $script then evals $command)
SHELLS = {
    "bash": (
        "bash",
        "activate.bash",
        ["--noprofile", "--norc", "-c", '. "$1" && eval "$2"', "bash"],
    ),
    "zsh": ("zsh", "activate.zsh", ["-f", "-c", '. "$1" && eval "$2"', "zsh"]),
    "dash": ("dash", "activate.sh", ["-c", '. "$1" && eval "$2"', "dash"]),
    "fish": ("fish", "activate.fish", ["--no-config", "-c", "source $argv[1]; and eval $argv[2]"]),
    "xonsh": ("xonsh", "activate.xsh", []),
}


def executable(shell: str) -> str | None:
    return XONSH if shell == "xonsh" else shutil.which(SHELLS[shell][0])


def need(shell: str) -> None:
    if executable(shell) is None:
        pytest.skip(f"{shell} is not installed (sh dev.sh test installs zsh and fish as root)")


def in_shell(
    shell: str, script: Path, command: str, base: Path, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Source `script` in a real `shell`, then run `command`; stdin is a JSON-RPC request."""
    exe = executable(shell)
    assert exe is not None
    if shell == "xonsh":  # @(...) hands xonsh a Python string: the path is not expanded
        argv = [exe, "--no-rc", "-c", f"source @({str(script)!r})\n{command}\n"]
    else:
        argv = [exe, *SHELLS[shell][2], str(script), command]
    home = base / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LC_ALL": "C.UTF-8", **(extra or {})}
    proc = subprocess.run(
        argv, env=env, cwd=home, input=NEGOTIATE, capture_output=True, text=True, timeout=60
    )
    assert_nothing_ran(base)
    return proc


def assert_nothing_ran(*folders: Path) -> None:
    for folder in folders:
        found = [p for p in folder.rglob(SENTINEL) if p.name == SENTINEL]
        assert found == [], f"a path was run as a command: {found}"


def exported(output: str) -> dict[str, str]:
    """The environment printed by `env -0`."""
    return dict(item.split("=", 1) for item in output.split("\0") if "=" in item)


def clean_env(channel: Path, base: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIXI_BUILD_BACKEND_OVERRIDE", "CONDA_PIXI_BACKENDS_"))
    }
    env.update(
        CONDA_PIXI_BACKENDS_CHANNELS=channel.as_uri(),
        CONDA_PIXI_BACKENDS_SYSTEM_CONFIG="",
        CONDA_PIXI_BACKENDS_CONFIG=str(base / "no-user-config.yml"),
    )
    return env


def cli(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, channel: Path) -> dict[str, Path]:
    """Two stores with the backend installed: below a folder with '$' and one without."""
    base = tmp_path_factory.mktemp("inject")
    env = clean_env(channel, base)
    found = {}
    for kind, name in (("dollar", NASTY), ("no-dollar", NASTY_NO_DOLLAR)):
        root = base / kind / "~tilde" / name / "store"
        proc = cli(env, "install", BACKEND, "--json", "--root", str(root), cwd=base)
        assert proc.returncode == 0, proc.stderr
        row = json.loads(proc.stdout)["backends"][0]
        assert row["executables"] == [str(root / "bin" / BACKEND)]
        assert row["prefix"].startswith(str(root))
        found[kind] = root
    assert_nothing_ran(base)
    return found


def base_of(root: Path) -> Path:
    return root.parents[3]


@pytest.mark.parametrize("shell", list(SHELLS))
@pytest.mark.parametrize("kind", ["dollar", "no-dollar"])
def test_activation_and_launcher_in_each_shell(
    stores: dict[str, Path], kind: str, shell: str
) -> None:
    need(shell)
    root = stores[kind]
    base = base_of(root)
    script = root / "activate" / SHELLS[shell][1]
    launcher = root / "bin" / BACKEND
    if shell == "xonsh" and kind == "dollar":
        # xonsh expands '$' in PATH entries: the script only says so, and changes nothing.
        body = script.read_text(encoding="utf-8").splitlines()[1:]
        assert (
            len(body) == 1 and body[0].startswith("print(") and "cannot use this store" in body[0]
        )
        assert str(root) not in script.read_text(encoding="utf-8")
        proc = in_shell(shell, script, "env -0", base)
        assert proc.returncode == 0 and "cannot use this store" in proc.stderr
        env = exported(proc.stdout)
        assert "PIXI_BUILD_BACKEND_OVERRIDE" not in env
        assert str(root) not in env["PATH"]
        return
    env = exported(in_shell(shell, script, "env -0", base).stdout)
    assert env["PIXI_BUILD_BACKEND_OVERRIDE"] == f"{BACKEND}={launcher}"
    assert env["PATH"].split(":")[0] == str(root / "bin")
    assert env["PATH"].split(":")[1:] == ["/usr/bin", "/bin"]
    # The backend by name, found on PATH, through its launcher: what Pixi would run.
    proc = in_shell(shell, script, BACKEND, base)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout.splitlines()[-1])
    assert answer["result"]["capabilities"]["providesCondaOutputs"] is True
    # The user's own entries, however odd, are kept literally, and theirs win.
    mine = f"other={base / NASTY_NO_DOLLAR.replace(chr(10), '')}/x"
    theirs = f"{BACKEND}={base / 'mine'}"
    for user, expected in ((mine, f"{mine},{BACKEND}={launcher}"), (theirs, theirs)):
        proc = in_shell(shell, script, "env -0", base, {"PIXI_BUILD_BACKEND_OVERRIDE": user})
        assert exported(proc.stdout)["PIXI_BUILD_BACKEND_OVERRIDE"] == expected


@pytest.mark.parametrize("kind", ["dollar", "no-dollar"])
def test_launcher_runs_directly_and_shell_hook_matches(
    stores: dict[str, Path], kind: str, channel: Path
) -> None:
    root = stores[kind]
    base = base_of(root)
    proc = subprocess.run(
        [str(root / "bin" / BACKEND)],
        input=NEGOTIATE,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["id"] == 7
    env = clean_env(channel, base)
    for shell in ("bash", "zsh", "fish", "xonsh", "powershell", "cmd"):
        hook = cli(env, "shell-hook", "--shell", shell, "--root", str(root), cwd=base)
        assert hook.returncode == 0, hook.stderr
        assert hook.stdout == (root / "activate" / shells.SHELLS[shell]).read_text(
            encoding="utf-8-sig"
        )  # no BOM printed
    which = cli(env, "which", BACKEND, "--root", str(root), cwd=base)
    assert which.stdout == f"{root / 'bin' / BACKEND}\n"
    assert_nothing_ran(base)


@pytest.mark.parametrize("char", [",", "=", ":"])
@pytest.mark.parametrize("source", ["flag", "variable", "yaml"])
def test_store_root_that_pixi_cannot_carry_is_refused(
    tmp_path: Path, channel: Path, char: str, source: str
) -> None:
    root = tmp_path / NASTY / f"a{char}b" / "store"
    env = clean_env(channel, tmp_path)
    args = ["install", BACKEND, "--json"]
    where = {"flag": "--root", "variable": "CONDA_PIXI_BACKENDS_ROOT"}.get(source)
    if source == "flag":
        args += ["--root", str(root)]
    elif source == "variable":
        env["CONDA_PIXI_BACKENDS_ROOT"] = str(root)
    else:
        config = tmp_path / "user.yml"
        config.write_text(f"root: {json.dumps(str(root))}\n", encoding="utf-8")
        env["CONDA_PIXI_BACKENDS_CONFIG"] = where = str(config)
    proc = cli(env, *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and where in proc.stderr and repr(char) in proc.stderr
    error = json.loads(proc.stdout)["error"]  # --json: the same error, as one JSON object
    assert error["input"].startswith(where) and repr(char) in error["message"]
    assert not (tmp_path / NASTY).exists(), "nothing is created for a refused root"


@pytest.fixture(scope="module")
def nasty_workspace(tmp_path_factory: pytest.TempPathFactory, channel: Path) -> Path:
    """A workspace in a hostile folder, its channel in another (named relatively, as Pixi
    allows), and two packages: a pixi.toml and a pyproject.toml."""
    base = tmp_path_factory.mktemp("inject-ws")
    workspace = base / NASTY / "work space"
    channel_name = f"chan {NASTY} %41 #frag ?q=1"
    shutil.copytree(channel, workspace / channel_name)
    (workspace / "pixi.toml").write_text(
        "[workspace]\nname = 'w'\nplatforms = ['linux-64']\npreview = ['pixi-build']\n"
        f"channels = [{json.dumps('./' + channel_name, ensure_ascii=False)}]\n"
        "[dependencies]\n"
        f"p = {{ path = {json.dumps('pkg ' + NASTY, ensure_ascii=False)} }}\n"
        f"q = {{ path = {json.dumps('py ' + NASTY, ensure_ascii=False)} }}\n",
        encoding="utf-8",
    )
    package = workspace / f"pkg {NASTY}"
    package.mkdir()
    (package / "pixi.toml").write_text(
        "[package]\nname = 'p'\nversion = '1.0'\n\n[package.build]\n"
        f"backend = {{ name = '{BACKEND}', version = '0.1.*' }}\n",
        encoding="utf-8",
    )
    other = workspace / f"py {NASTY}"
    other.mkdir()
    (other / "pyproject.toml").write_text(
        "[project]\nname = 'q'\n\n[tool.pixi.package]\nname = 'q'\nversion = '1.0'\n\n"
        "[tool.pixi.package.build]\nbackend = { name = 'pixi-build-demo-cmake' }\n",
        encoding="utf-8",
    )
    return workspace


def test_manifests_and_channels_in_hostile_folders(
    nasty_workspace: Path, channel: Path, tmp_path: Path
) -> None:
    root = tmp_path / "store"
    env = {
        **clean_env(channel, tmp_path),
        "CONDA_PIXI_BACKENDS_ROOT": str(root),
        "CONDA_PIXI_BACKENDS_CHANNELS": "https://example.invalid/unused",
    }
    package = nasty_workspace / f"pkg {NASTY}"
    pyproject = nasty_workspace / f"py {NASTY}" / "pyproject.toml"
    # Found from the package's folder upward, and named with -m: the same request.
    found = cli(env, "install", "--json", cwd=package)
    assert found.returncode == 0, found.stderr
    named = cli(env, "install", "--json", "-m", str(nasty_workspace), cwd=tmp_path)
    assert named.returncode == 0, named.stderr
    rows = {b["name"]: b for b in json.loads(named.stdout)["backends"]}
    first = json.loads(found.stdout)["backends"][0]
    assert rows[BACKEND]["key"] == first["key"]
    assert rows[BACKEND]["manifests"] == [str(package / "pixi.toml")]
    assert rows["pixi-build-demo-cmake"]["manifests"] == [str(pyproject)]
    channel_url = rows[BACKEND]["channels"][0]
    assert channel_url.startswith("file://") and " " not in channel_url and "#" not in channel_url
    for row in rows.values():
        assert row["status"] in ("installed", "already-installed")
        launcher = Path(row["executables"][0])
        proc = subprocess.run(
            [str(launcher)], input=NEGOTIATE, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
    metadata = json.loads((root / "envs" / f"{BACKEND}-{first['key']}.json").read_text("utf-8"))
    assert metadata["manifests"] == [str(package / "pixi.toml")]
    assert_nothing_ran(nasty_workspace.parents[1], tmp_path)


@pytest.mark.parametrize(
    "value", [NASTY, NASTY_NO_DOLLAR.replace("\n", "")], ids=["all", "one-line"]
)
def test_override_path_is_reported_literally(
    stores: dict[str, Path], channel: Path, tmp_path: Path, value: str
) -> None:
    """An override's path is never run or expanded: `which` prints it, `install` reports it."""
    root = stores["no-dollar"]
    path = str(tmp_path / value / "my backend")
    env = {
        **clean_env(channel, tmp_path),
        "CONDA_PIXI_BACKENDS_ROOT": str(root),
        "PIXI_BUILD_BACKEND_OVERRIDE": f"{BACKEND}={path}",
    }
    before = snapshot(root)
    which = cli(env, "which", BACKEND, cwd=tmp_path)
    assert (which.returncode, which.stdout, which.stderr) == (0, f"{path}\n", "")
    proc = cli(env, "install", BACKEND, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)["backends"][0]
    assert row["status"] == "overridden"
    assert row["executables"] == [path]
    assert row["override"] == {"variable": "PIXI_BUILD_BACKEND_OVERRIDE", "value": path}
    human = cli(env, "install", BACKEND, cwd=tmp_path)
    assert human.returncode == 0 and path in human.stdout
    assert snapshot(root) == before, "an overridden backend changes nothing in the store"
    assert_nothing_ran(tmp_path, base_of(root))
