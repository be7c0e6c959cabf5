"""`config show|set|unset` as a real process, and conda's .condarc as a settings source through
a real conda (where conda is importable)."""

from __future__ import annotations

import importlib.util
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BACKEND, Run, as_json, negotiate

needs_conda = pytest.mark.skipif(
    importlib.util.find_spec("conda") is None or importlib.util.find_spec("conda.plugins") is None,
    reason="conda is not importable here (it is not on PyPI); install it from source to run these",
)

SITE = "# the site\nchannels:\n  - https://mirror.example/backends\nplatform: linux-64\n"
ROOT = "root: /shared/store\nfinal: [root]\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def admin(tmp_path: Path) -> Path:
    """An admin folder of two files: the site's channels and platform, then a final root."""
    folder = tmp_path / "admin.d"
    write(folder / "10-site.yml", SITE)
    write(folder / "20-root.yml", ROOT)
    return folder


@pytest.fixture
def layered(env: dict[str, str], admin: Path, tmp_path: Path) -> dict[str, str]:
    """`env` (changed in place, so `cli` runs with it) with the admin folder and a user file,
    and the store root and channels left to them."""
    del env["CONDA_PIXI_BACKENDS_ROOT"], env["CONDA_PIXI_BACKENDS_CHANNELS"]
    env["CONDA_PIXI_BACKENDS_SYSTEM_CONFIG"] = str(admin)
    env["CONDA_PIXI_BACKENDS_CONFIG"] = str(tmp_path / "user" / "pixi-backends.yml")
    return env


def test_show_sources_json(cli: Run, layered: dict[str, str], admin: Path, tmp_path: Path) -> None:
    user = write(tmp_path / "user" / "pixi-backends.yml", "platform: osx-arm64\noffline: true\n")
    proc = cli(
        "config", "show", "--sources", "--json", "--root", "/shared/store/",
        extra_env={"CONDA_PIXI_BACKENDS_CONSTRAINTS": "pixi-build-api-version >=7,<8"},
    )  # fmt: skip
    shown = as_json(proc)
    assert set(shown) == {"settings", "files", "user_config", "system_config"}
    settings = shown["settings"]
    assert list(settings) == [
        "root", "channels", "platform", "constraints", "default_channels", "channel_alias",
        "backends", "mirrors", "s3",
        "offline", "user_root",
    ]  # fmt: skip
    for entry in settings.values():
        assert set(entry) == {"value", "source", "kind", "final"}
    assert settings["channels"] == {
        "value": ["https://mirror.example/backends"],
        "source": f"{admin}/10-site.yml:2",
        "kind": "admin",
        "final": None,
    }
    assert settings["platform"]["value"] == "osx-arm64"
    assert settings["platform"]["source"] == f"{user}:1"
    assert settings["platform"]["kind"] == "user"
    assert settings["offline"]["value"] is True
    assert settings["constraints"] == {
        "value": ["pixi-build-api-version >=7,<8"],
        "source": "CONDA_PIXI_BACKENDS_CONSTRAINTS",
        "kind": "variable",
        "final": None,
    }
    # A flag may repeat a final value (compared as paths: the trailing '/' does not matter).
    assert settings["root"] == {
        "value": "/shared/store",
        "source": "--root",
        "kind": "flag",
        "final": f"{admin}/20-root.yml:2",
    }
    assert settings["mirrors"] == {
        "value": {},
        "source": "default",
        "kind": "default",
        "final": None,
    }
    assert shown["files"] == [
        {"path": f"{admin}/10-site.yml", "kind": "admin"},
        {"path": f"{admin}/20-root.yml", "kind": "admin"},
        {"path": str(user), "kind": "user"},
    ]
    assert shown["user_config"] == str(user)
    assert shown["system_config"] == f"{admin}/pixi-backends.yml"

    plain = as_json(cli("config", "show", "--json"))
    assert plain["root"] == "/shared/store" and plain["platform"] == "osx-arm64"
    text = cli("config", "show", "--sources", "root", "channels")
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == [
        f'root: "/shared/store"  # {admin}/20-root.yml:1; final by {admin}/20-root.yml:2',
        f'channels: ["https://mirror.example/backends"]  # {admin}/10-site.yml:2',
    ]
    bad = cli("config", "show", "platfrom")
    assert bad.returncode == 2 and "unknown key 'platfrom'" in bad.stderr


# The file `config set` edits: odd spacing, comments, quoting and a list in the "other" style.
USER = """\
# My settings: this header stays.
platform:   linux-64    # odd spacing stays
channels:
- https://a.example/x   # first
# between
- https://b.example/y

# offline is for the train
offline: false
channel-alias: 'https://prefix.dev'
"""


def test_set_replaces_one_entry_and_leaves_every_other_byte(
    cli: Run, layered: dict[str, str], tmp_path: Path
) -> None:
    user = write(tmp_path / "user" / "pixi-backends.yml", USER)
    proc = cli("config", "set", "channels", "[https://c.example/z, https://d.example/w]")
    assert proc.returncode == 0, proc.stderr
    assert user.read_text() == USER.replace(
        "channels:\n- https://a.example/x   # first\n# between\n- https://b.example/y\n",
        "channels:\n  - https://c.example/z\n  - https://d.example/w\n",
    )
    before = user.read_text()
    # `channel_alias` finds the entry spelled `channel-alias` and keeps its spelling.
    assert cli("config", "set", "channel_alias", "https://mirror.example").returncode == 0
    assert user.read_text() == before.replace(
        "channel-alias: 'https://prefix.dev'\n", "channel-alias: https://mirror.example\n"
    )
    before = user.read_text()
    assert cli("config", "set", "offline", "true").returncode == 0
    assert user.read_text() == before.replace("offline: false\n", "offline: true\n")
    # A new key goes after the last entry; values are YAML (a string, a mapping).
    before = user.read_text()
    assert cli("config", "set", "constraints", '["pixi-build-api-version >=7,<8"]').returncode == 0
    assert cli("config", "set", "backends", "{linux-64: [pixi-build-python 0.8.*]}").returncode == 0
    assert user.read_text() == before + (
        "constraints:\n  - pixi-build-api-version >=7,<8\n"
        "backends:\n  linux-64:\n    - pixi-build-python 0.8.*\n"
    )
    shown = as_json(cli("config", "show", "--json"))
    assert shown["channels"] == ["https://c.example/z", "https://d.example/w"]
    assert shown["channel_alias"] == "https://mirror.example" and shown["offline"] is True
    assert shown["backends"] == {"linux-64": ["pixi-build-python 0.8.*"]}


def test_unset_removes_only_that_entry(cli: Run, env: dict[str, str], tmp_path: Path) -> None:
    user = write(tmp_path / "no-user-config.yml", USER)
    proc = cli("config", "unset", "offline")
    assert proc.returncode == 0, proc.stderr
    assert user.read_text() == USER.replace("offline: false\n", "")
    proc = cli("config", "unset", "channels")
    assert user.read_text() == USER.replace("offline: false\n", "").replace(
        "channels:\n- https://a.example/x   # first\n# between\n- https://b.example/y\n", ""
    )
    again = cli("config", "unset", "channels")
    assert again.returncode == 0 and "was not set" in again.stdout
    unknown = cli("config", "unset", "nosuch")
    assert unknown.returncode == 0 and "was not set: nosuch" in unknown.stdout
    # A key written by mistake stops every command, which says how to remove it; that works.
    user.write_text(user.read_text() + "platfrom: linux-64\n")
    stopped = cli("list")
    assert stopped.returncode == 2
    hint = stopped.stderr.split("remove it with: ")[1].strip()
    assert hint == f"python -m conda_pixi_backends config unset --file {user} platfrom"
    assert cli(*shlex.split(hint)[3:]).returncode == 0
    assert cli("list").returncode == 0


def test_set_creates_the_file_and_its_folders(
    cli: Run, env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "a" / "b" / "settings.yml"
    proc = cli("config", "set", "--file", str(target), "mirrors",
               "{https://prefix.dev/conda-forge: [https://mirror.example/cf]}")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert target.read_text() == (
        "mirrors:\n  https://prefix.dev/conda-forge:\n    - https://mirror.example/cf\n"
    )
    # A flow-style file cannot be edited line by line: it is rewritten round-trip, still valid.
    flow = write(tmp_path / "flow.yml", "{platform: linux-64, offline: true}\n")
    assert cli("config", "set", "--file", str(flow), "offline", "false").returncode == 0
    shown = as_json(cli("config", "show", "--json",
                        extra_env={"CONDA_PIXI_BACKENDS_CONFIG": str(flow)}))  # fmt: skip
    assert shown["offline"] is False and shown["platform"] == "linux-64"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["platform", "amiga"], "config set platform: platform: unknown platform 'amiga'"),
        (["channels", "[a"], "config set channels: VALUE is not valid YAML"),
        (["offline", "maybe"], "config set offline: offline"),
        (["root", "/a,b"], "config set root: root: a store path cannot contain ','"),
        (["backends", "{amiga: [x]}"], "config set backends: backends.amiga: unknown platform"),
        (["mirrors", "{https://a.example: b}"], "mirrors.https://a.example: expected a non-empty"),
        (["platfrom", "linux-64"], "KEY: unknown key 'platfrom'"),
        (["final", "[root]"], "is not an admin file"),
    ],
)
def test_set_refuses_bad_values_and_leaves_the_file(
    cli: Run, env: dict[str, str], tmp_path: Path, args: list[str], needle: str
) -> None:
    user = write(tmp_path / "no-user-config.yml", USER)
    proc = cli("config", "set", *args)
    assert proc.returncode == 2 and needle in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert user.read_text() == USER
    assert not list(tmp_path.glob(".no-user-config.yml.*")), "no temporary file left behind"


def test_final_keys_refuse_set_from_above(
    cli: Run, layered: dict[str, str], admin: Path, tmp_path: Path
) -> None:
    user = tmp_path / "user" / "pixi-backends.yml"
    proc = cli("config", "set", "root", "/mine")
    assert proc.returncode == 2
    assert f"{admin}/20-root.yml:2 marks 'root' final" in proc.stderr and str(user) in proc.stderr
    assert not user.exists()
    # The same value is no change; a later admin file may not change it either.
    assert cli("config", "set", "root", "/shared/store").returncode == 0
    later = cli("config", "set", "--system", "root", "/other")
    assert later.returncode == 2 and "20-root.yml:2 marks 'root' final" in later.stderr
    assert not (admin / "pixi-backends.yml").exists()


def test_set_system_writes_the_first_admin_place(
    cli: Run, layered: dict[str, str], admin: Path, tmp_path: Path
) -> None:
    site = tmp_path / "etc" / "site.yml"
    extra = {"CONDA_PIXI_BACKENDS_SYSTEM_CONFIG": f"{site}:{admin}"}
    proc = cli("config", "set", "--system", "final", "[channels, offline]", extra_env=extra)
    assert proc.returncode == 0, proc.stderr
    assert cli("config", "set", "--system", "offline", "true", extra_env=extra).returncode == 0
    assert site.read_text() == "final:\n  - channels\n  - offline\noffline: true\n"
    # 10-site.yml (above site.yml) sets channels: the admin made a conflict, and load says so.
    shown = cli("config", "show", extra_env=extra)
    assert shown.returncode == 2 and f"{admin}/10-site.yml:2: channels" in shown.stderr
    refused = cli("config", "set", "offline", "false", extra_env=extra)
    assert refused.returncode == 2 and f"{site}:1 marks 'offline' final" in refused.stderr
    empty = cli("config", "set", "--system", "offline", "true",
                extra_env={"CONDA_PIXI_BACKENDS_SYSTEM_CONFIG": ""})  # fmt: skip
    assert empty.returncode == 2 and "--system" in empty.stderr


# --- conda's .condarc ---------------------------------------------------------------------

CONDARC = """\
plugins:
  pixi_backends_channels:
    - https://condarc.example/channel
  pixi_backends_offline: true
  pixi_backends_platform: osx-arm64
  pixi_backends_root: {root}
"""


@pytest.fixture
def conda_env(layered: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """`layered`, for conda: its .condarc in tmp (CONDARC) and no user's ~/.condarc."""
    env = {k: v for k, v in layered.items() if not k.startswith(("CONDA_PLUGINS_", "XDG_"))}
    env.pop("CONDA_PREFIX", None)
    return {**env, "HOME": str(tmp_path / "home"), "CONDARC": str(tmp_path / ".condarc")}


def conda(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conda", "pixi-backend", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@needs_conda
def test_condarc_between_user_file_and_variables(
    conda_env: dict[str, str], admin: Path, tmp_path: Path
) -> None:
    write(admin / "20-root.yml", "root: /shared/store\n")  # no final here
    user = write(tmp_path / "user" / "pixi-backends.yml", "channels: [https://user.example/c]\n")
    condarc = write(tmp_path / ".condarc", CONDARC.format(root="/condarc/store"))
    env = {
        **conda_env,
        "CONDA_PIXI_BACKENDS_PLATFORM": "linux-aarch64",
        "CONDA_PLUGINS_PIXI_BACKENDS_CONSTRAINTS": "a >=1,<2;b",
    }
    proc = conda("config", "show", "--sources", "--json", env=env, cwd=tmp_path)
    settings = as_json(proc)["settings"]
    assert settings["channels"] == {
        "value": ["https://condarc.example/channel"],
        "source": f"{condarc}:2 (plugins.pixi_backends_channels)",
        "kind": "condarc",
        "final": None,
    }, f"the condarc beats the user's file {user}"
    assert settings["offline"]["value"] is True
    assert settings["offline"]["source"] == f"{condarc}:4 (plugins.pixi_backends_offline)"
    assert settings["root"]["value"] == "/condarc/store", "the condarc beats the admin's file"
    assert settings["platform"]["value"] == "linux-aarch64", "a variable beats the condarc"
    assert settings["platform"]["kind"] == "variable"
    assert settings["constraints"]["value"] == ["a >=1,<2", "b"]
    assert settings["constraints"]["source"] == "CONDA_PLUGINS_PIXI_BACKENDS_CONSTRAINTS"
    # conda's own defaults for our parameters never count.
    assert settings["mirrors"]["kind"] == settings["channel_alias"]["kind"] == "default"
    flagged = as_json(conda("config", "show", "--json", "--root", "/flag", env=env, cwd=tmp_path))
    assert flagged["root"] == "/flag"
    # conda itself knows the keys (`conda config --show` validates them).
    known = subprocess.run([sys.executable, "-m", "conda", "config", "--show", "--json"],
                           env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert known.returncode == 0, known.stderr
    assert json.loads(known.stdout)["plugins"]["pixi_backends_offline"] is True

    # The console script never reads the condarc, nor imports conda.
    alone = subprocess.run(
        [sys.executable, "-c", "import sys; from conda_pixi_backends.cli import main; "
         "code = main(['config', 'show', '--json']); assert 'conda' not in sys.modules; "
         "sys.exit(code)"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert json.loads(alone.stdout)["channels"] == ["https://user.example/c"], alone.stderr


@needs_conda
def test_final_applies_to_the_condarc(
    conda_env: dict[str, str], admin: Path, tmp_path: Path
) -> None:
    condarc = write(tmp_path / ".condarc", CONDARC.format(root="/condarc/store"))
    proc = conda("config", "show", env=conda_env, cwd=tmp_path)
    assert proc.returncode == 2
    assert f"{condarc}:6 (plugins.pixi_backends_root): root: {admin}/20-root.yml:2 marks" in (
        proc.stderr
    )
    # conda's own `#!final` holds against our variables and flags.
    write(tmp_path / ".condarc", "plugins:\n  pixi_backends_platform: osx-64  #!final\n")
    env = {**conda_env, "CONDA_PIXI_BACKENDS_PLATFORM": "win-64"}
    proc = conda("config", "show", env=env, cwd=tmp_path)
    assert proc.returncode == 2
    assert f"CONDA_PIXI_BACKENDS_PLATFORM: platform: {condarc}:2" in proc.stderr
    shown = as_json(conda("config", "show", "--sources", "--json", env=conda_env, cwd=tmp_path))
    assert shown["settings"]["platform"]["final"] == f"{condarc}:2 (plugins.pixi_backends_platform)"
    write(tmp_path / ".condarc", "plugins:\n  pixi_backends_offline: maybe\n")
    proc = conda("config", "show", env=conda_env, cwd=tmp_path)
    assert proc.returncode == 2 and f"{condarc}:2 (plugins.pixi_backends_offline): offline" in (
        proc.stderr
    )


@needs_conda
def test_install_takes_channels_from_the_condarc(
    env: dict[str, str], channel: Path, workspace: Path, tmp_path: Path, root: Path
) -> None:
    env = {k: v for k, v in env.items() if k != "CONDA_PIXI_BACKENDS_CHANNELS"}
    condarc = write(
        tmp_path / ".condarc", f"plugins:\n  pixi_backends_channels: [{channel.as_uri()}]\n"
    )
    env.update(CONDARC=str(condarc), HOME=str(tmp_path / "home"))
    proc = conda("install", "--json", BACKEND, env=env, cwd=tmp_path)
    backend = as_json(proc)["backends"][0]
    assert backend["status"] == "installed" and backend["channels"] == [channel.as_uri()]
    negotiate(root / "bin" / BACKEND)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("- a\n- b\n", "{path}: expected a mapping of settings, found a list"),
        ("channels: [file:///x, 5]\n", "{path}:1: channels: expected a list of channels, found the number 5 in it"),
    ],
)  # fmt: skip
def test_a_wrong_shape_is_said_in_yaml_words(
    cli: Run, tmp_path: Path, text: str, said: str
) -> None:
    """Not Python's class names (`CommentedSeq`), nor a list "found" where a list is wanted."""
    path = write(tmp_path / "user.yml", text)
    proc = cli("config", "show", extra_env={"CONDA_PIXI_BACKENDS_CONFIG": str(path)})
    assert proc.returncode == 2
    assert proc.stderr == f"conda-pixi-backend: error: {said.format(path=path)}\n"
