"""Settings: every source, its precedence, `final`, and errors that name the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from conda_pixi_backends.errors import UserInputError
from conda_pixi_backends.settings import (
    DEFAULT_CHANNELS,
    SYSTEM_CONFIG_VAR,
    USER_CONFIG_VAR,
    load,
    read_config_file,
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """Variables pointing at an admin folder (two files) and a user file, all under tmp_path."""
    admin = tmp_path / "etc" / "pixi-backends.d"
    write(
        admin / "10-site.yml",
        "# the site\nchannels:\n  - https://mirror.example/backends\nplatform: linux-64\n",
    )
    write(admin / "20-root.yml", "root: /shared/store\nfinal: [root]\n")
    write(tmp_path / "user.yml", "platform: linux-aarch64\n")
    return {SYSTEM_CONFIG_VAR: str(admin), USER_CONFIG_VAR: str(tmp_path / "user.yml")}


def test_defaults_without_any_file(tmp_path: Path) -> None:
    loaded = load(environ={SYSTEM_CONFIG_VAR: "", USER_CONFIG_VAR: str(tmp_path / "none.yml")})
    assert loaded.settings.channels == DEFAULT_CHANNELS
    assert loaded.settings.constraints == []
    assert set(loaded.origins.values()) == {"default"}


def test_precedence_and_origins(files: dict[str, str], tmp_path: Path) -> None:
    loaded = load(environ=files)
    assert loaded.settings.channels == ["https://mirror.example/backends"]
    assert loaded.settings.root == Path("/shared/store")
    assert loaded.settings.platform == "linux-aarch64", "the user's file beats the admin's"
    assert loaded.origins["channels"] == f"{tmp_path}/etc/pixi-backends.d/10-site.yml:2"
    assert loaded.origins["platform"] == f"{tmp_path}/user.yml:1"
    env = {**files, "CONDA_PIXI_BACKENDS_PLATFORM": "osx-arm64"}
    assert load(environ=env).origins["platform"] == "CONDA_PIXI_BACKENDS_PLATFORM"
    flagged = load({"platform": "win-64"}, environ=env)
    assert flagged.settings.platform == "win-64" and flagged.origins["platform"] == "--platform"


@pytest.mark.parametrize(
    ("flags", "extra_env", "user", "where"),
    [
        ({"root": "/mine"}, {}, "", "--root"),
        ({}, {"CONDA_PIXI_BACKENDS_ROOT": "/mine"}, "", "CONDA_PIXI_BACKENDS_ROOT"),
        ({}, {}, "root: /mine\n", "user.yml:1"),
    ],
)
def test_final_keys_cannot_be_changed_above(
    files: dict[str, str], tmp_path: Path, flags: dict, extra_env: dict, user: str, where: str
) -> None:
    if user:
        write(tmp_path / "user.yml", user)
    with pytest.raises(UserInputError) as info:
        load(flags, environ={**files, **extra_env})
    message = str(info.value)
    assert where in message and "final" in message and "20-root.yml" in message


def test_final_allows_the_same_value(files: dict[str, str]) -> None:
    assert load({"root": "/shared/store"}, environ=files).settings.root == Path("/shared/store")


def test_only_admin_files_mark_keys_final(tmp_path: Path) -> None:
    path = write(tmp_path / "user.yml", "final: [root]\n")
    with pytest.raises(UserInputError, match=r"user.yml:1: final"):
        read_config_file(path, admin=False)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("channels: [a\n", "invalid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        ("platform: linux-64\nplatfrom: x\n", "user.yml:2: unknown key 'platfrom'"),
        ("platform: amiga\n", "user.yml:1: platform: unknown platform 'amiga'"),
        ("channels: 3\n", "user.yml:1: channels"),
        ("root: '/a,b'\n", "user.yml:1: root"),
    ],
)
def test_bad_user_file(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path / "user.yml", text)
    with pytest.raises(UserInputError) as info:
        load(environ={SYSTEM_CONFIG_VAR: "", USER_CONFIG_VAR: str(path)})
    assert needle in str(info.value) and str(path.parent) in str(info.value)
    assert info.value.exit_code == 2


def test_list_variables(tmp_path: Path) -> None:
    env = {
        SYSTEM_CONFIG_VAR: "",
        USER_CONFIG_VAR: str(tmp_path / "none.yml"),
        "CONDA_PIXI_BACKENDS_CHANNELS": "https://a.example/x, https://b.example/y",
        "CONDA_PIXI_BACKENDS_CONSTRAINTS": "pixi-build-api-version >=7,<8; python 3.12.*",
    }
    settings = load(environ=env).settings
    assert settings.channels == ["https://a.example/x", "https://b.example/y"]
    assert settings.constraints == ["pixi-build-api-version >=7,<8", "python 3.12.*"]
    env["CONDA_PIXI_BACKENDS_CONSTRAINTS"] = '["a >=1,<2", "b"]'
    assert load(environ=env).settings.constraints == ["a >=1,<2", "b"]
    env["CONDA_PIXI_BACKENDS_CONSTRAINTS"] = "[not json"
    with pytest.raises(UserInputError, match="CONDA_PIXI_BACKENDS_CONSTRAINTS: constraints"):
        load(environ=env)


def test_root_is_absolute_and_expanded(tmp_path: Path) -> None:
    env = {
        SYSTEM_CONFIG_VAR: "",
        USER_CONFIG_VAR: str(tmp_path / "none.yml"),
        "HOME": str(tmp_path),
    }
    assert (
        load({"root": "relative/store"}, environ=env).settings.root == Path.cwd() / "relative/store"
    )
