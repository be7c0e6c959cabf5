"""Bad input of every kind: exit 2, one line on stderr that names the input (flag, SPEC,
variable, file and key), no traceback, nothing on stdout, and the store exactly as it was.

The corpus runs the real CLI against a store with one installed backend; property-based
fuzzing then drives the parsers in-process (override variable, manifests, YAML settings,
channels): each either returns or raises UserInputError, never another exception.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from conftest import BACKEND, snapshot
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conda_pixi_backends import config_files, configuration, overrides
from conda_pixi_backends import settings as layered
from conda_pixi_backends.discovery import discover
from conda_pixi_backends.errors import UserInputError, one_line
from conda_pixi_backends.model import Declaration, normalize_channel
from conda_pixi_backends.overrides import OVERRIDE, OVERRIDE_ALL

B = BACKEND
VAR = layered.ENV_PREFIX
USER = f"{VAR}CONFIG"
ADMIN = f"{VAR}SYSTEM_CONFIG"
NO_OP = ("install", B, "--json")  # a no-op for the installed store: any change would show

PKG = '[package]\nname = "p"\nversion = "0.1.0"\n\n[package.build]\n'
BACKEND_LINE = f'backend = {{ name = "{B}", version = "0.2.*" }}\n'
CHANNELS_LINE = 'channels = ["{channel}"]\n'


def case(
    id: str,
    *argv: str,
    names: tuple[str, ...],
    env: Mapping[str, str | None] | None = None,
    files: Mapping[str, str | bytes] | None = None,
    cwd: str = "",
) -> Any:
    """One bad input: `argv` and `env` values and `names` may hold {dir} (the case's folder)
    and {channel} (the demo channel's URL); `files` are written below {dir}; a None in `env`
    unsets the variable."""
    return pytest.param(argv, names, env or {}, files or {}, cwd, id=id)


def manifest(id: str, text: str | bytes, *names: str, name: str = "pixi.toml", **kw: Any) -> Any:
    path = f"{{dir}}/m/{name}"
    return case(id, "install", "-m", path, names=(path, *names), files={f"m/{name}": text}, **kw)


def user_yaml(
    id: str,
    text: str | bytes,
    *names: str,
    argv: tuple[str, ...] = NO_OP,
    env: Mapping[str, str | None] | None = None,
    **kw: Any,
) -> Any:
    return case(
        id,
        *argv,
        names=names or ("{dir}/user.yml",),
        files={"user.yml": text},
        env={USER: "{dir}/user.yml", **(env or {})},
        **kw,
    )


def admin_yaml(
    id: str, text: str, *names: str, env: Mapping[str, str | None] | None = None, **kw: Any
) -> Any:
    return case(
        id,
        *NO_OP,
        names=names or ("{dir}/admin.yml",),
        files={"admin.yml": text},
        env={ADMIN: "{dir}/admin.yml", **(env or {})},
        **kw,
    )


def variable(id: str, name: str, value: str, *names: str, **kw: Any) -> Any:
    return case(id, *NO_OP, names=(name, *names), env={name: value}, **kw)


CASES = [
    # --- flags and commands
    case("unknown-flag", "install", "--no-such-flag", names=("--no-such-flag",)),
    case("unknown-flag-before-command", "--no-such-flag", names=("--no-such-flag",)),
    case("unknown-command", "frobnicate", names=("frobnicate",)),
    case(
        "bundle-into-a-file",
        "bundle",
        "{dir}/afile",
        names=("{dir}/afile", "not a folder"),
        files={
            "afile": "x",
            "pixi.toml": "[workspace]\n"
            + CHANNELS_LINE
            + "platforms = ['linux-64']\npreview = ['pixi-build']\n\n"
            + PKG
            + BACKEND_LINE,
        },
    ),
    case("no-command", names=("COMMAND",)),
    case(
        "platform-unknown",
        "install",
        B,
        "--platform",
        "amiga-68k",
        names=("--platform", "amiga-68k"),
    ),
    case("platform-empty", "install", B, "--platform", "", names=("--platform",)),
    case("channel-flag-without-value", "install", B, "-c", names=("-c/--channel",)),
    case(
        "override-channels-alone",
        "install",
        B,
        "--override-channels",
        names=("--override-channels",),
    ),
    case("root-comma", "install", B, "--root", "{dir}/a,b", names=("--root",)),
    case("root-equals", "install", B, "--root", "{dir}/a=b", names=("--root",)),
    case("root-colon", "install", B, "--root", "{dir}/a:b", names=("--root",)),
    case("root-empty", "install", B, "--dry-run", "--root", "", names=("--root",)),
    case(
        "root-unknown-user",
        "install",
        B,
        "--dry-run",
        "--root",
        "~nosuchuser/store",
        names=("--root",),
    ),
    case("shell-unknown", "shell-hook", "--shell", "tcsh", names=("--shell", "tcsh")),
    case("which-without-name", "which", names=("NAME",)),
    case("channel-empty", "install", B, "-c", "", names=("--channel",)),
    case(
        "channel-not-a-name",
        "install",
        B,
        "-c",
        "not a channel!",
        names=("--channel", "not a channel!"),
    ),
    case("channel-broken-ipv6", "install", B, "-c", "http://[::1", names=("http://[::1",)),
    # a raw newline in a value reaches the message: the CLI shows it escaped
    case(
        "manifest-path-with-newline",
        "install",
        "-m",
        "{dir}/new\nline",
        names=("{dir}/new\\nline",),
    ),
    case(
        "manifest-missing",
        "install",
        "-m",
        "{dir}/nowhere/pixi.toml",
        names=("{dir}/nowhere/pixi.toml",),
    ),
    case(
        "manifest-folder-without-one",
        "install",
        "-m",
        "{dir}/empty",
        names=("{dir}/empty",),
        files={"empty/README": "nothing here"},
    ),
    case(
        "manifest-of-unknown-kind",
        "install",
        "-m",
        "{dir}/notes.txt",
        names=("{dir}/notes.txt",),
        files={"notes.txt": "[package]\n"},
    ),
    case(
        "no-manifest-found",
        "install",
        names=("{dir}/empty",),
        cwd="empty",
        files={"empty/README": "nothing here"},
    ),
    # --- SPECs
    case("spec-empty", "install", "", names=("SPEC",)),
    case("spec-punctuation", "install", "!!!", names=("'!!!'",)),
    case("spec-channel-qualified", "install", "conda-forge::x", names=("conda-forge::x",)),
    case("spec-bad-version", "install", f"{B} >=<1", names=(f"{B} >=<1",)),
    case("spec-open-bracket", "install", f"{B}[version==", names=(f"{B}[version==",)),
    case("spec-bad-build", "install", f"{B} 1.0 b c d", names=(f"{B} 1.0 b c d",)),
    case("spec-non-ascii", "install", "pixi-büild", names=("pixi-büild",)),
    case(
        "spec-bad-build-number",
        "install",
        f"{B}[build_number=abc]",
        names=(f"{B}[build_number=abc]",),
    ),
    case("spec-like-a-flag", "install", "--", "-x", names=("'-x'",)),
    # --- PIXI_BUILD_BACKEND_OVERRIDE
    variable("override-two-equals", OVERRIDE, f"{B}=/a=b", f"{B}=/a=b"),
    variable("override-empty-path", OVERRIDE, f"{B}=", f"'{B}='"),
    variable("override-bare-equals", OVERRIDE, "x=/ok,=", "'='"),
    variable("override-newline", OVERRIDE, f"{B}=/a\n=b"),
    case("override-for-which", "which", B, names=(OVERRIDE, "a==b"), env={OVERRIDE: "a==b"}),
    # --- CONDA_PIXI_BACKENDS_* variables
    variable("var-platform", f"{VAR}PLATFORM", "amiga-68k", "amiga-68k"),
    variable("var-offline", f"{VAR}OFFLINE", "maybe"),
    variable("var-channels-bad-json", f"{VAR}CHANNELS", "[not json"),
    variable("var-channels-not-strings", f"{VAR}CHANNELS", "[1, 2]"),
    variable("var-channels-bad-name", f"{VAR}CHANNELS", "not a channel!"),
    variable("var-channels-empty-list", f"{VAR}CHANNELS", "[]"),
    variable("var-channels-deep-json", f"{VAR}CHANNELS", "[" * 5000),
    variable("var-constraints-bad-spec", f"{VAR}CONSTRAINTS", "!!!", "!!!"),
    variable("var-constraints-bad-json", f"{VAR}CONSTRAINTS", "[x"),
    variable("var-mirrors-not-json", f"{VAR}MIRRORS", "notjson"),
    variable("var-mirrors-bad-shape", f"{VAR}MIRRORS", '{"a": 1}'),
    variable("var-root-comma", f"{VAR}ROOT", "{dir}/a,b"),
    variable("var-root-colon", f"{VAR}ROOT", "{dir}/a:b"),
    variable("var-root-unknown-user", f"{VAR}ROOT", "~nosuchuser/x"),
    case(
        "var-system-config-folder",
        *NO_OP,
        names=("{dir}/admin.d/10-bad.yml", "nope"),
        env={ADMIN: "{dir}/admin.d"},
        files={"admin.d/10-bad.yml": "nope: 1\n"},
    ),
    # --- the user's YAML file
    user_yaml(
        "yaml-unknown-key", "channels:\n  - a\nplatfrom: linux-64\n", "{dir}/user.yml:3", "platfrom"
    ),
    user_yaml("yaml-unclosed", "channels: [a\n"),
    user_yaml("yaml-a-list", "- a\n- b\n"),
    user_yaml("yaml-a-scalar", "just text\n"),
    user_yaml("yaml-final-in-user-file", "final: [root]\n", "{dir}/user.yml:1", "final"),
    user_yaml(
        "yaml-channels-int",
        "channels: 3\n",
        "{dir}/user.yml:1",
        "channels",
        env={f"{VAR}CHANNELS": None},
    ),
    user_yaml("yaml-platform-list", "platform: [linux-64]\n", "{dir}/user.yml:1", "platform"),
    user_yaml(
        "yaml-root-comma", "root: /x,y\n", "{dir}/user.yml:1", "root", env={f"{VAR}ROOT": None}
    ),
    user_yaml(
        "yaml-root-empty",
        "root: ''\n",
        "{dir}/user.yml:1",
        "root",
        argv=("install", B, "--dry-run"),
        env={f"{VAR}ROOT": None},
    ),
    user_yaml("yaml-duplicate-key", "platform: linux-64\nplatform: osx-64\n", "{dir}/user.yml:2"),
    user_yaml("yaml-not-utf8", b"platform: \xff\xfe\n"),
    user_yaml("yaml-tab-indent", "\tplatform: linux-64\n"),
    user_yaml("yaml-undefined-alias", "platform: *nowhere\n"),
    user_yaml("yaml-nul", "platform: linux-64\n\x00\n"),
    user_yaml("yaml-mirrors-list", "mirrors: [a]\n", "{dir}/user.yml:1", "mirrors"),
    user_yaml("yaml-offline-word", "offline: sometimes\n", "{dir}/user.yml:1", "offline"),
    user_yaml("yaml-constraints-bad-spec", "constraints: ['!!!']\n", "{dir}/user.yml:1"),
    user_yaml("yaml-bad-float", "platform: !!float x\n"),
    user_yaml("yaml-bad-int", "platform: !!int x\n"),
    user_yaml("yaml-omap", "mirrors: !!omap [a: 1]\n"),
    user_yaml("yaml-deep", "platform: " + "[" * 3000 + "\n"),
    user_yaml("yaml-key-with-newline", '"a\\nb": 1\n'),
    # --- the admin's YAML files
    admin_yaml("admin-final-unknown-key", "final: [rooot]\n", "{dir}/admin.yml:1", "final"),
    admin_yaml("admin-final-not-a-list", "final: 3\n", "{dir}/admin.yml:1", "final"),
    admin_yaml(
        "admin-final-vs-variable",
        "platform: linux-64\nfinal: [platform]\n",
        f"{VAR}PLATFORM",
        "platform",
        env={f"{VAR}PLATFORM": "osx-64"},
    ),
    case(
        "admin-final-vs-user-file",
        *NO_OP,
        names=("{dir}/user.yml", "channels"),
        env={ADMIN: "{dir}/admin.yml", USER: "{dir}/user.yml", f"{VAR}CHANNELS": None},
        files={
            "admin.yml": "channels: ['{channel}']\nfinal: [channels]\n",
            "user.yml": "channels: [https://example.org/other]\n",
        },
    ),
    admin_yaml("admin-unknown-key", "platfrom: linux-64\n", "{dir}/admin.yml:1", "platfrom"),
    admin_yaml("admin-wrong-type", "offline: [yes]\n", "{dir}/admin.yml:1", "offline"),
    # --- manifests
    manifest("toml-invalid", "[package\nname = 'x'\n"),
    manifest("toml-not-utf8", b'[package]\nname = "\xff"\n'),
    manifest("toml-deep", "a = " + "[" * 5000 + "\n"),
    manifest("toml-no-build-section", '[package]\nname = "p"\n', "package.build"),
    manifest("toml-backend-a-string", PKG + f'backend = "{B}"\n', "package.build.backend"),
    manifest(
        "toml-backend-without-name",
        PKG + 'backend = { version = "1" }\n',
        "package.build.backend.name",
    ),
    manifest(
        "toml-backend-name-with-version",
        PKG + f'backend = {{ name = "{B} 1.0" }}\n',
        "package.build.backend.name",
    ),
    manifest("toml-version-int", PKG + f'backend = {{ name = "{B}", version = 3 }}\n', "version"),
    manifest("toml-channels-empty", PKG + BACKEND_LINE + "channels = []\n", "channels"),
    manifest("toml-channels-a-string", PKG + BACKEND_LINE + 'channels = "x"\n', "channels"),
    manifest(
        "toml-dependency-int",
        PKG + BACKEND_LINE + "[package.build.additional-dependencies]\nfoo = 3\n",
        "foo",
    ),
    manifest(
        "toml-workspace-true-alone",
        PKG + f'backend = {{ name = "{B}", workspace = true }}\n',
        "workspace",
    ),
    manifest("toml-git-backend", PKG + f'backend = {{ name = "{B}", git = "https://x" }}\n', "git"),
    manifest(
        "pyproject-without-pixi", '[project]\nname = "x"\n', "tool.pixi", name="pyproject.toml"
    ),
    manifest(
        "pyproject-backend-int",
        '[tool.pixi.package]\nname = "p"\n[tool.pixi.package.build]\nbackend = 3\n',
        "tool.pixi.package.build.backend",
        name="pyproject.toml",
    ),
    manifest(
        "toml-channel-not-a-name",
        PKG + BACKEND_LINE + 'channels = ["not a channel!"]\n',
        "package.build.channels[0]",
        "'not a channel!'",
    ),
    manifest(
        "toml-channel-broken-ipv6",
        PKG + BACKEND_LINE + 'channels = ["{channel}", "http://[::1"]\n',
        "package.build.channels[1]",
        "'http://[::1'",
    ),
    case(
        "workspace-channel-not-a-name",
        "install",
        "-m",
        "{dir}/ws/a",
        names=("{dir}/ws/pixi.toml", "workspace.channels[1].channel", "'a b'"),
        files={
            "ws/pixi.toml": '[workspace]\npreview = ["pixi-build"]\n'
            'channels = ["{channel}", { channel = "a b" }]\n',
            "ws/a/pixi.toml": PKG + BACKEND_LINE,
        },
    ),
    manifest(
        "toml-version-only-the-solver-rejects",
        PKG + f'backend = {{ name = "{B}", version = ">>>1" }}\n' + CHANNELS_LINE,
        ">>>1",
    ),
    manifest(
        "toml-dependency-only-the-solver-rejects",
        PKG
        + BACKEND_LINE
        + CHANNELS_LINE
        + "[package.build.additional-dependencies]\nfoo = '>>>'\n",
        "foo >>>",
        "additional dependency",
    ),
    case(
        "workspace-member-invalid",
        "install",
        "-m",
        "{dir}/ws",
        names=("{dir}/ws/a/pixi.toml",),
        files={
            "ws/pixi.toml": '[workspace]\nname = "w"\nchannels = ["{channel}"]\n'
            'platforms = ["linux-64"]\npreview = ["pixi-build"]\n'
            '[dependencies]\na = { path = "a" }\n',
            "ws/a/pixi.toml": "[package\n",
        },
    ),
    case(
        "found-manifest-invalid",
        "install",
        names=("{dir}/found/pixi.toml",),
        cwd="found",
        files={"found/pixi.toml": "[package\n"},
    ),
]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, channel: Path) -> tuple[Path, dict]:
    """One store with one installed backend, shared by every case (each checks it is intact)."""
    root = tmp_path_factory.mktemp("bad-input") / "store"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIXI_BUILD_BACKEND_OVERRIDE", VAR))
    }
    env.update(
        {
            f"{VAR}ROOT": str(root),
            f"{VAR}CHANNELS": channel.as_uri(),
            ADMIN: "",
            USER: str(root.parent / "no-user-config.yml"),
        }
    )
    proc = subprocess.run(
        [sys.executable, "-m", "conda_pixi_backends", *NO_OP],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return root, env


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize(("argv", "names", "env", "files", "cwd"), CASES)
def test_bad_input(
    installed: tuple[Path, dict],
    channel: Path,
    tmp_path: Path,
    argv: tuple[str, ...],
    names: tuple[str, ...],
    env: Mapping[str, str | None],
    files: Mapping[str, str | bytes],
    cwd: str,
) -> None:
    root, base_env = installed

    def fill(text: str) -> str:
        return text.replace("{dir}", str(tmp_path)).replace("{channel}", channel.as_uri())

    for rel, content in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(fill(content).encode() if isinstance(content, str) else content)
    run_env = dict(base_env)
    for name, value in env.items():
        if value is None:
            run_env.pop(name, None)
        else:
            run_env[name] = fill(value)
    before, folder = snapshot(root), snapshot(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "conda_pixi_backends", *map(fill, argv)],
        env=run_env,
        cwd=tmp_path / cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.rstrip("\n").split("\n")
    if len(lines) > 1 and re.search(r"required: (COMMAND|ACTION)", lines[-1]):
        assert lines[0].startswith("usage: "), proc.stderr  # the help comes first
        lines = lines[-1:]
    assert len(lines) == 1, f"not one line: {proc.stderr!r}"
    for needle in map(fill, names):
        assert needle in lines[0], f"{needle!r} is not named in: {lines[0]}"
    if proc.stdout:  # with --json, the same error as one JSON object
        assert "--json" in argv, proc.stdout
        error = json.loads(proc.stdout)["error"]
        assert (error["exit_code"], f"conda-pixi-backend: error: {error['message']}") == (
            2, one_line(lines[0])
        )  # fmt: skip
    assert snapshot(root) == before, "a failed command changed the store"
    assert snapshot(tmp_path) == folder, "a failed command wrote beside its input"


def test_valid_yaml_gives_no_warnings(installed: tuple[Path, dict], tmp_path: Path) -> None:
    """YAML 1.2 lets an anchor be defined again; such a file is valid and the run is quiet."""
    _root, base_env = installed
    config = tmp_path / "user.yml"
    config.write_text("channel_alias: &a https://prefix.dev\nconstraints: &a []\n")
    proc = subprocess.run(
        [sys.executable, "-m", "conda_pixi_backends", *NO_OP],
        env={**base_env, USER: str(config)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (proc.returncode, proc.stderr) == (0, "")


def test_one_line_escapes_control_characters() -> None:
    """What the CLI prints: any value in a message stays on its line, visibly."""
    assert one_line("a\nb\r\tc\x1b[31m\x85\u2028é") == "a\\nb\\r\\tc\\x1b[31m\\x85\\u2028é"
    for text in ["\n", "x\r\ny", "\x00", "\u2029"]:
        assert len(f"error: {one_line(text)}".splitlines()) == 1


# --- property-based fuzzing, in-process -------------------------------------------------------

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

NAMES = st.sampled_from(["pixi-build-python", "pixi-build-cmake", "a", "", " x", "é"])
PATHS = st.sampled_from(["/usr/bin/x", "/a b/c", "relative", "", "/x=y", "/$(x)`y`"])
ITEMS = st.one_of(
    st.builds(lambda n, p: f"{n}={p}", NAMES, PATHS),
    NAMES,
    st.text(alphabet=st.sampled_from("ab=,/ \n\t\\é"), max_size=6),
)


@FUZZ
@given(st.one_of(st.text(), st.lists(ITEMS, max_size=5).map(",".join)))
def test_override_parser(value: str) -> None:
    try:
        found = overrides.parse_override(value)
    except UserInputError as exc:
        assert exc.exit_code == 2 and OVERRIDE in str(exc)
        return
    for item in found:
        assert item.name and not any(c in item.name for c in ",=")
        assert item.path is None or (item.path and not any(c in item.path for c in ",="))
    # Pixi's rules: split on ',', then '='; empty names match nothing.
    assert [o.name for o in found] == [i.split("=")[0] for i in value.split(",") if i.split("=")[0]]


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from([OVERRIDE, OVERRIDE_ALL, "PATH", "OTHER"]), st.text(), max_size=3
    ),
    NAMES,
)
def test_overrides_from_environ(environ: dict[str, str], name: str) -> None:
    try:
        found = overrides.from_environ(environ)
    except UserInputError as exc:
        assert OVERRIDE_ALL not in environ and OVERRIDE in str(exc)
        return
    override = found.get(name)
    if OVERRIDE_ALL in environ:
        assert override is not None and override.path is None
    elif override is not None:
        assert override.name == name and override.variable == OVERRIDE


def to_toml(value: Any) -> str:
    """TOML for plain values (inline tables, arrays), enough to write manifest shapes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(map(to_toml, value)) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {to_toml(v)}" for k, v in value.items()) + "}"


def document(tables: dict[str, dict[str, Any]]) -> str:
    return "".join(
        f"[{table}]\n" + "".join(f"{json.dumps(k)} = {to_toml(v)}\n" for k, v in body.items())
        for table, body in tables.items()
    )


SCALAR = st.one_of(
    st.sampled_from(
        [
            B,
            "pixi-build-cmake",
            "0.1.*",
            ">=1,<2",
            "*",
            "",
            "a::b",
            "./chan",
            "https://x.org/c",
            "file://",
            "http://[::1",
            "~",
            "x y",
            "1.0\n2",
        ]
    ),
    st.text(max_size=10),
    st.integers(-3, 3),
    st.booleans(),
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["name", "version", "workspace", "channels", "x"]), inner, max_size=3
        )
    ),
    max_leaves=8,
)
BACKEND_TABLE = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from([B, "uv", "X.y_z"]) | SCALAR,
        "version": SCALAR,
        "workspace": st.booleans() | SCALAR,
        "channels": VALUE,
        "additional-dependencies": VALUE,
        "git": SCALAR,
    },
)
BUILD = st.fixed_dictionaries(
    {},
    optional={
        "backend": BACKEND_TABLE | VALUE,
        "channels": VALUE,
        "additional-dependencies": VALUE,
    },
)
PACKAGE_DOC = st.fixed_dictionaries(
    {"package": st.fixed_dictionaries({"name": SCALAR}), "package.build": BUILD},
    optional={
        "workspace": st.fixed_dictionaries({}, optional={"channels": VALUE}),
        "workspace.dependencies": st.dictionaries(
            st.sampled_from([B, "uv"]), VALUE | SCALAR, max_size=2
        ),
    },
)
#: Text that looks like TOML: headers and key lines in any order, some of them broken.
TOMLISH = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "[package]",
                "[package.build]",
                "[package.build.backend]",
                "[workspace]",
                "[workspace.dependencies]",
                "[tool.pixi.package.build]",
                "[package.build.additional-dependencies]",
                "[[package]]",
                "[",
                "]",
            ]
        ),
        st.builds(
            lambda k, v: f"{k} = {v}",
            st.sampled_from(
                ["name", "version", "backend", "channels", "workspace", f'"{B}"', "a.b", "'x y'"]
            ),
            st.sampled_from(
                [
                    '"x"',
                    "1",
                    "true",
                    "[",
                    '{ name = "x" }',
                    '"""',
                    "[1, 'a']",
                    '{ name = "x",\n  version = "1" }',
                    f'"{B}"',
                ]
            ),
        ),
        st.text(max_size=12),
    ),
    max_size=10,
).map("\n".join)


@FUZZ
@given(
    st.one_of(st.text(), TOMLISH, PACKAGE_DOC.map(document)),
    st.sampled_from(["pixi.toml", "pyproject.toml"]),
    st.one_of(st.none(), PACKAGE_DOC.map(document), TOMLISH),
)
def test_manifest_reader(text: str, name: str, parent: str | None) -> None:
    """A manifest (and maybe a workspace manifest above it): declarations or UserInputError."""
    with tempfile.TemporaryDirectory() as folder:
        top = Path(folder)
        if parent is not None:
            (top / "pixi.toml").write_text(parent, encoding="utf-8", errors="surrogatepass")
        path = top / "pkg" / name
        path.parent.mkdir()
        if name == "pyproject.toml":
            text = text.replace("[package", "[tool.pixi.package").replace(
                "[workspace", "[tool.pixi.workspace"
            )
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            found = discover([path]).declarations
        except UserInputError as exc:
            assert exc.exit_code == 2
            assert folder in str(exc), f"the message names no manifest: {exc}"
            return
        assert found and all(isinstance(d, Declaration) for d in found)
        for declaration in found:
            assert declaration.spec.split()[0] == declaration.name


@FUZZ
@example("http://[::1")
@given(
    st.one_of(
        st.text(),
        SCALAR.filter(lambda v: isinstance(v, str)),
        st.builds(
            "".join,
            st.lists(
                st.sampled_from(
                    [
                        "http",
                        "https",
                        "file",
                        "s3",
                        ":",
                        "//",
                        "/",
                        "[",
                        "]",
                        "~",
                        ".",
                        "a",
                        " ",
                        "%",
                        "@",
                        "\\",
                        "C:",
                    ]
                ),
                max_size=8,
            ),
        ),
    )
)
def test_channel_normalization(text: str) -> None:
    """Manifests, variables and flags hand any text to the channel normalization."""
    try:
        url = normalize_channel(text, Path("/base"))
    except UserInputError:
        return
    assert "://" in url


#: YAML fragments: every key, and values of every YAML kind (tags, anchors, flow, blocks).
YAML_KEYS = st.sampled_from([*layered.KEYS, "final", "unknown", "<<", "? [a]", '"a b"', "1"])
YAML_VALUES = st.sampled_from(
    [
        "linux-64",
        "''",
        "~",
        "3",
        "-1.5",
        "yes",
        "[a, b]",
        "[]",
        "{}",
        "{a: [b]}",
        "[1, [2]]",
        "/x,y",
        "'a=b'",
        "'!!!'",
        "https://x.org/c",
        "!!binary aGk=",
        "!!str 3",
        "!!int x",
        "!!float x",
        "!!timestamp 2001-12-14",
        "!!set {a}",
        "!!omap [a: 1]",
        "&a x",
        "*a",
        "!custom x",
        "|\n  block\n",
        "\n  - a\n  - b\n",
        "\n  a: b\n",
        "'un\n  closed",
        "[",
        "{linux-64: [x]}",
        "{linux-64: 3}",
        "{'https://x.org/c': ['https://m.org/c']}",
    ]
)
YAMLISH = st.lists(
    st.one_of(st.builds(lambda k, v: f"{k}: {v}", YAML_KEYS, YAML_VALUES), st.text(max_size=10)),
    max_size=6,
).map("\n".join)


@FUZZ
@example("<<: {platform: linux-64}\n", True)
@example("platform: !!float x\n", False)
@given(st.one_of(st.text(), YAMLISH), st.booleans())
def test_yaml_loader(text: str, admin: bool) -> None:
    """Any YAML text as a settings file, then settings built from it: settings or an error
    naming the file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "settings.yml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            layer = config_files.read_config_file(path, admin=admin)
            loaded = configuration.load(environ={}, config_files=[layer])
        except UserInputError as exc:
            assert exc.exit_code == 2
            assert str(path) in str(exc), f"the message names no file: {exc}"
            return
        assert isinstance(loaded.settings, layered.Settings)


@FUZZ
@example({f"{VAR}CHANNELS": "[" * 5000})
@example({f"{VAR}USER_ROOT": "~nosuchuser"})
@given(
    st.dictionaries(
        st.sampled_from([layered.env_var(k) for k in layered.KEYS]),
        st.one_of(st.text(max_size=20), YAML_VALUES),
        max_size=3,
    )
)
def test_settings_variables(environ: dict[str, str]) -> None:
    """Any text in the CONDA_PIXI_BACKENDS_* variables: settings or an error naming one."""
    try:
        loaded = configuration.load(environ=environ, config_files=[])
    except UserInputError as exc:
        assert any(name in str(exc) for name in environ), f"names no variable: {exc}"
        return
    assert isinstance(loaded.settings, layered.Settings)
