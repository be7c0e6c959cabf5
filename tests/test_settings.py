"""Settings: every source, its precedence, `final`, and errors that name the file and key."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from conda_pixi_backends.config_files import read_config_file
from conda_pixi_backends.configuration import load
from conda_pixi_backends.errors import UserInputError
from conda_pixi_backends.settings import (
    DEFAULT_CHANNELS,
    PIXI_API_CONSTRAINT,
    SYSTEM_CONFIG_VAR,
    USER_CONFIG_VAR,
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
    assert loaded.settings.constraints == [PIXI_API_CONSTRAINT]  # the API Pixi 0.77 speaks
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


def only_user(tmp_path: Path, text: str) -> dict[str, str]:
    """Variables for no admin file and a user file holding `text`."""
    write(tmp_path / "user.yml", text)
    return {SYSTEM_CONFIG_VAR: "", USER_CONFIG_VAR: str(tmp_path / "user.yml")}


def test_admin_vocabulary(tmp_path: Path) -> None:
    env = only_user(
        tmp_path,
        "backends:\n  linux-64: ['pixi-build-python   0.8.*']\n  osx-arm64: [pixi-build-cmake]\n"
        "mirrors:\n  https://prefix.dev/conda-forge: [https://mirror.example/cf]\n"
        "offline: true\nuser_root: ~/own-store\n",
    )
    settings = load(environ={**env, "HOME": str(tmp_path)}).settings
    assert settings.backends == {
        "linux-64": ["pixi-build-python 0.8.*"],
        "osx-arm64": ["pixi-build-cmake"],
    }
    assert settings.backend_specs("linux-64") == ["pixi-build-python 0.8.*"]
    assert settings.backend_specs("win-64") == [], "a platform the mapping does not list"
    assert settings.mirrors == {"https://prefix.dev/conda-forge": ["https://mirror.example/cf"]}
    assert settings.offline is True
    assert settings.user_root == Path("~/own-store").expanduser()
    plain = load(environ=only_user(tmp_path, "backends: [pixi-build-python, pixi-build-cmake]\n"))
    assert plain.settings.backend_specs("osx-64") == ["pixi-build-python", "pixi-build-cmake"]
    assert plain.settings.backend_specs() == ["pixi-build-python", "pixi-build-cmake"]


def test_admin_vocabulary_from_variables(tmp_path: Path) -> None:
    env = {
        **only_user(tmp_path, ""),
        "CONDA_PIXI_BACKENDS_BACKENDS": '{"linux-64": ["a >=1,<2"]}',
        "CONDA_PIXI_BACKENDS_MIRRORS": '{"https://a.example/c": ["https://m.example/c"]}',
        "CONDA_PIXI_BACKENDS_OFFLINE": "1",
    }
    loaded = load(environ=env)
    assert loaded.settings.backends == {"linux-64": ["a >=1,<2"]}
    assert loaded.settings.mirrors == {"https://a.example/c": ["https://m.example/c"]}
    assert loaded.settings.offline is True
    assert loaded.kinds["offline"] == "variable" and loaded.kinds["root"] == "default"
    env["CONDA_PIXI_BACKENDS_BACKENDS"] = "a >=1,<2; b"
    assert load(environ=env).settings.backends == ["a >=1,<2", "b"]
    env["CONDA_PIXI_BACKENDS_MIRRORS"] = "https://a.example/c"
    with pytest.raises(UserInputError, match="CONDA_PIXI_BACKENDS_MIRRORS: mirrors: expected"):
        load(environ=env)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        # an entry of a mapping is named, on its own line
        ("backends:\n  linux-64: [a]\n  amiga: [b]\n", "user.yml:3: backends.amiga: unknown platform 'amiga'"),
        ("backends:\n  linux-64: ['::x']\n", "user.yml:2: backends.linux-64: '::x': channel-qualified"),
        ("backends: 3\n", "user.yml:1: backends: expected a list of MatchSpecs, or a mapping"),
        ("backends: [[a]]\n", "user.yml:1: backends: expected a list of MatchSpecs"),
        ("mirrors: [https://a.example]\n", "user.yml:1: mirrors: expected a mapping"),
        ("mirrors:\n  https://a.example: [https://b.example]\n  https://c.example: https://d.example\n",
         "user.yml:3: mirrors.https://c.example: expected a non-empty list of mirror URLs"),
        ("mirrors:\n  conda-forge: [https://b.example]\n", "user.yml:2: mirrors.conda-forge: a key must be a channel URL"),
        ("mirrors:\n  https://a.example: []\n", "user.yml:2: mirrors.https://a.example: expected a non-empty"),
        ("offline: perhaps\n", "user.yml:1: offline: expected true or false (or yes/no, on/off, 1/0), found 'perhaps'"),
        ("user_root: /a=b\n", "user.yml:1: user_root: a store path cannot contain '='"),
        ("constraints: ['bad::name']\n", "user.yml:1: constraints: 'bad::name': channel-qualified"),
    ],
)  # fmt: skip
def test_bad_admin_vocabulary(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(UserInputError) as info:
        load(environ=only_user(tmp_path, text))
    assert needle in str(info.value) and str(tmp_path) in str(info.value)


def test_folder_files_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "admin.d"
    write(folder / "20-b.yml", "platform: osx-64\n")
    write(folder / "10-a.yml", "platform: win-64\noffline: true\n")
    write(folder / "05-c.yaml", "platform: osx-arm64\n")  # *.yaml after every *.yml
    write(folder / "notes.txt", "platform: amiga\n")  # not a settings file
    loaded = load(environ={SYSTEM_CONFIG_VAR: str(folder), USER_CONFIG_VAR: str(tmp_path / "x")})
    assert loaded.settings.platform == "osx-arm64"
    assert loaded.origins["platform"] == f"{folder}/05-c.yaml:1"
    assert loaded.origins["offline"] == f"{folder}/10-a.yml:2"
    assert [f.path.name for f in loaded.files] == ["10-a.yml", "20-b.yml", "05-c.yaml"]


def test_final_compares_values_as_the_model_reads_them(tmp_path: Path) -> None:
    site = write(tmp_path / "site.yml", "channels: [https://a.example/x, https://b.example/y]\n"
                 "final: [channels, offline]\n")  # fmt: skip
    env = {SYSTEM_CONFIG_VAR: str(site), USER_CONFIG_VAR: str(tmp_path / "user.yml")}
    same = {**env, "CONDA_PIXI_BACKENDS_CHANNELS": "https://a.example/x,https://b.example/y"}
    loaded = load(environ=same)
    assert loaded.finals == {"channels": f"{site}:2", "offline": f"{site}:2"}
    with pytest.raises(
        UserInputError, match=r"CONDA_PIXI_BACKENDS_CHANNELS: channels: .*site.yml:2"
    ):
        load(environ={**env, "CONDA_PIXI_BACKENDS_CHANNELS": "https://a.example/x"})
    # `offline` is final without a value in that file: its default is what stays.
    write(tmp_path / "user.yml", "offline: false\n")
    assert load(environ=env).settings.offline is False
    write(tmp_path / "user.yml", "offline: true\n")
    with pytest.raises(UserInputError, match=r"user.yml:1: offline: .*site.yml:2 marks 'offline'"):
        load(environ=env)


def test_final_by_a_lower_file_holds_for_later_admin_files(tmp_path: Path) -> None:
    folder = tmp_path / "admin.d"
    write(folder / "10-a.yml", "root: /shared/store\nfinal: [root]\n")
    write(folder / "20-b.yml", "root: /elsewhere\n")
    env = {SYSTEM_CONFIG_VAR: str(folder), USER_CONFIG_VAR: str(tmp_path / "x")}
    with pytest.raises(UserInputError, match=r"20-b.yml:1: root: .*10-a.yml:2 marks 'root' final"):
        load(environ=env)


def test_validate_value_names_where(tmp_path: Path) -> None:
    from conda_pixi_backends.settings import validate_value

    assert validate_value("channels", "a,b", "X") == ["a", "b"]
    assert validate_value("offline", "yes", "VAR", variable=True) is True
    with pytest.raises(UserInputError, match=r"^somewhere: platform: unknown platform"):
        validate_value("platform", "amiga", "somewhere")


def test_valid_yaml_loads_quietly_with_lines(tmp_path: Path) -> None:
    """Merge keys, `!!omap` and reused anchors are valid YAML: no error, no warning."""
    path = write(
        tmp_path / "user.yml",
        "platform: &p osx-arm64\n<<: {offline: true}\n"
        "mirrors: !!omap [https://a.example/c: [https://m.example/c]]\n"
        "channel_alias: &p https://alias.example\n",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load(environ={SYSTEM_CONFIG_VAR: "", USER_CONFIG_VAR: str(path)})
    assert caught == []
    settings = loaded.settings
    assert (settings.platform, settings.offline) == ("osx-arm64", True)
    assert settings.mirrors == {"https://a.example/c": ["https://m.example/c"]}
    assert settings.channel_alias == "https://alias.example"
    assert loaded.origins["offline"] == f"{path}:2", "a merged key: the line it is written on"
    assert loaded.origins["mirrors"] == f"{path}:3"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("platform: !!float x\n", "invalid YAML: could not convert string to float"),
        ("platform: !!int x\n", "invalid YAML"),
        ("platform: " + "[" * 3000 + "\n", "invalid YAML"),
        ("mirrors: !!omap [a: 1]\n", "user.yml:1: mirrors.a: a key must be a channel URL"),
        ("<<: {platfrom: x}\n", "unknown key 'platfrom'"),
        ('"a\\nb": 1\n', "user.yml:1: unknown key 'a\\nb'"),
    ],
)
def test_yaml_that_ruamel_constructs_badly(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path / "user.yml", text)
    with pytest.raises(UserInputError) as info:  # the file is read, then its values checked
        load(environ={}, config_files=[read_config_file(path, admin=False)])
    assert needle in str(info.value) and str(path) in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("flags", "env", "text", "needle"),
    [
        ({"root": ""}, {}, "", "--root: root: an empty path"),
        ({}, {"CONDA_PIXI_BACKENDS_ROOT": " "}, "", "CONDA_PIXI_BACKENDS_ROOT: root: an empty"),
        ({}, {}, "root: ''\n", "user.yml:1: root: an empty path"),
        ({}, {}, "user_root: ''\n", "user.yml:1: user_root: an empty path"),
        ({"root": "~nosuchuser/s"}, {}, "", "--root: root: cannot expand '~'"),
        ({}, {"CONDA_PIXI_BACKENDS_USER_ROOT": "~nosuchuser"}, "", "USER_ROOT: user_root: cannot"),
        ({}, {}, "root: ~nosuchuser/s\n", "user.yml:1: root: cannot expand '~'"),
        ({}, {"CONDA_PIXI_BACKENDS_CHANNELS": "[]"}, "", "CHANNELS: channels: an empty list"),
        ({}, {"CONDA_PIXI_BACKENDS_CHANNELS": ","}, "", "CHANNELS: channels: an empty list"),
        ({}, {}, "channels: []\n", "user.yml:1: channels: an empty list"),
        ({}, {"CONDA_PIXI_BACKENDS_CHANNELS": "a b"}, "", "CHANNELS: channels: 'a b' is neither"),
        ({}, {}, "channels: ['http://[::1']\n", "user.yml:1: channels: 'http://[::1' is not a valid URL"),
        ({}, {}, "channels: [a, '~nosuchuser/c']\n", "user.yml:1: channels: '~nosuchuser/c': cannot"),
        ({}, {"CONDA_PIXI_BACKENDS_CHANNELS": "[" * 5000}, "", "CHANNELS: channels: not valid JSON"),
        ({}, {"CONDA_PIXI_BACKENDS_MIRRORS": "{" * 5000}, "", "MIRRORS: mirrors: not valid JSON"),
    ],
)  # fmt: skip
def test_bad_values_name_their_source(
    tmp_path: Path, flags: dict, env: dict, text: str, needle: str
) -> None:
    with pytest.raises(UserInputError) as info:
        load(flags, environ={**only_user(tmp_path, text), **env})
    assert needle in str(info.value)


def test_user_config_variable_with_unknown_user(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match=f"^{USER_CONFIG_VAR}: cannot expand '~'"):
        load(environ={SYSTEM_CONFIG_VAR: "", USER_CONFIG_VAR: "~nosuchuser/x.yml"})


@pytest.mark.parametrize(
    ("admin", "user", "env", "needle"),
    [
        ("platform: amiga\n", "", {"CONDA_PIXI_BACKENDS_PLATFORM": "linux-64"}, "admin.yml:1: platform"),
        ("", "offline: [x]\n", {"CONDA_PIXI_BACKENDS_OFFLINE": "1"}, "user.yml:1: offline"),
        ("root: /a,b\n", "root: /mine\n", {}, "admin.yml:1: root"),
        ("channels: []\n", "channels: [https://a.example/c]\n", {}, "admin.yml:1: channels"),
    ],
)  # fmt: skip
def test_a_broken_layer_is_reported_when_overridden(
    tmp_path: Path, admin: str, user: str, env: dict, needle: str
) -> None:
    """Each file's values are checked on their own: a broken admin or user file is found now,
    not when someone unsets the variable that hides it."""
    write(tmp_path / "admin.yml", admin)
    write(tmp_path / "user.yml", user)
    files = {SYSTEM_CONFIG_VAR: str(tmp_path / "admin.yml"), USER_CONFIG_VAR: str(tmp_path / "user.yml")}  # fmt: skip
    with pytest.raises(UserInputError) as info:
        load(environ={**files, **env})
    assert str(info.value).startswith(str(tmp_path)) and needle in str(info.value)


def test_the_last_source_wins_with_its_whole_value(tmp_path: Path) -> None:
    """One rule for every key: a mapping or list from a higher source replaces the lower one
    (no entry-by-entry merge), and the origin shown is that one source."""
    site = write(
        tmp_path / "site.yml",
        "mirrors:\n  https://a.example/c: [https://m.example/a]\n"
        "backends:\n  linux-64: [pixi-build-python]\n  win-64: [pixi-build-cmake]\n",
    )
    user = write(
        tmp_path / "user.yml",
        "mirrors:\n  https://b.example/c: [https://m.example/b]\nbackends:\n  osx-arm64: [x]\n",
    )
    env = {SYSTEM_CONFIG_VAR: str(site), USER_CONFIG_VAR: str(user)}
    loaded = load(environ=env, condarc=False)
    assert loaded.settings.mirrors == {"https://b.example/c": ["https://m.example/b"]}
    assert loaded.settings.backends == {"osx-arm64": ["x"]}
    assert loaded.origins["mirrors"] == f"{user}:1" and loaded.kinds["mirrors"] == "user"
    # a variable replaces the files' mapping too
    env["CONDA_PIXI_BACKENDS_MIRRORS"] = '{"https://c.example/c": ["https://m.example/c"]}'
    loaded = load(environ=env, condarc=False)
    assert loaded.settings.mirrors == {"https://c.example/c": ["https://m.example/c"]}
    assert loaded.origins["mirrors"] == "CONDA_PIXI_BACKENDS_MIRRORS"
    assert loaded.origins["backends"] == f"{user}:3"
