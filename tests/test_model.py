"""Requests and keys, spec and channel normalization, and Pixi's override variables."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conda_pixi_backends.errors import UserInputError
from conda_pixi_backends.model import Request, normalize_channel, normalize_spec, spec_from_parts
from conda_pixi_backends.overrides import OVERRIDE, OVERRIDE_ALL, from_environ, parse_override

REQUEST = Request(
    name="pixi-build-python",
    spec="pixi-build-python 0.8.*",
    channels=("https://prefix.dev/pixi-build-backends", "https://prefix.dev/conda-forge"),
    platform="linux-64",
    additional_dependencies=("uv", "hatchling >=1"),
    constraints=("pixi-build-api-version >=7,<8",),
)


def test_key_is_stable_across_processes_and_releases() -> None:
    """Environments in a shared store are found by key: it must never drift silently."""
    canonical = (
        '{"additional_dependencies":["hatchling >=1","uv"],'
        '"channels":["https://prefix.dev/pixi-build-backends","https://prefix.dev/conda-forge"],'
        '"constraints":["pixi-build-api-version >=7,<8"],"name":"pixi-build-python",'
        '"platform":"linux-64","spec":"pixi-build-python 0.8.*","v":1}'
    )
    assert REQUEST.key == hashlib.sha256(canonical.encode()).hexdigest()[:12] == "1a15b5ff9814"
    code = (
        "from conda_pixi_backends.model import Request;"
        "print(Request('pixi-build-python', 'pixi-build-python 0.8.*',"
        "('https://prefix.dev/pixi-build-backends', 'https://prefix.dev/conda-forge'), 'linux-64',"
        "('hatchling >=1', 'uv'), ('pixi-build-api-version >=7,<8',)).key)"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONHASHSEED": "123"}
    )
    assert other.stdout.strip() == REQUEST.key, "order of additional dependencies does not matter"


def test_key_changes_with_what_is_installed() -> None:
    changes = [
        {"spec": "pixi-build-python 0.9.*"},
        {"channels": ("https://prefix.dev/conda-forge",)},
        {"platform": "osx-arm64"},
        {"additional_dependencies": ()},
        {"constraints": ()},
    ]
    keys = {Request(**{**REQUEST.__dict__, **change}).key for change in changes}
    assert len(keys | {REQUEST.key}) == len(changes) + 1
    assert Request(**{**REQUEST.__dict__, "sources": ("a/pixi.toml",)}).key == REQUEST.key


@pytest.mark.parametrize(
    ("text", "name", "spec"),
    [
        ("pixi-build-python", "pixi-build-python", "pixi-build-python"),
        ("  pixi-build-cmake   0.4.* ", "pixi-build-cmake", "pixi-build-cmake 0.4.*"),
        ("pixi-build-rust>=0.3,<0.4", "pixi-build-rust", "pixi-build-rust>=0.3,<0.4"),
        ("Pixi-Build-R==0.1", "pixi-build-r", "Pixi-Build-R==0.1"),
        ("pixi-build-ros[version='>=0.1']", "pixi-build-ros", "pixi-build-ros[version='>=0.1']"),
    ],
)
def test_normalize_spec(text: str, name: str, spec: str) -> None:
    assert normalize_spec(text, "SPEC") == (name, spec)


@pytest.mark.parametrize("text", ["", "   ", ">=1", "!!!", "conda-forge::pixi-build-python"])
def test_normalize_spec_rejects(text: str) -> None:
    with pytest.raises(UserInputError, match="SPEC"):
        normalize_spec(text, "SPEC")


def test_spec_from_parts() -> None:
    assert spec_from_parts("x", None) == "x"
    assert spec_from_parts("x", "*") == "x"
    assert spec_from_parts("x", " 0.8.* ") == "x 0.8.*"


@pytest.mark.parametrize(
    ("channel", "url"),
    [
        ("https://prefix.dev/conda-forge/", "https://prefix.dev/conda-forge"),
        ("conda-forge", "https://conda.anaconda.org/conda-forge"),
        ("conda-forge/label/dev", "https://conda.anaconda.org/conda-forge/label/dev"),
        ("./local", "file:///work/ws/local"),
        ("../up/chan", "file:///work/up/chan"),
        ("/abs/with space", "file:///abs/with%20space"),
        ("file:///abs/chan/", "file:///abs/chan"),
    ],
)
def test_normalize_channel(channel: str, url: str) -> None:
    assert normalize_channel(channel, base=Path("/work/ws")) == url


@pytest.mark.parametrize("channel", ["", "a b", "ftp:/x", "chan!"])
def test_normalize_channel_rejects(channel: str) -> None:
    with pytest.raises(UserInputError, match="channel"):
        normalize_channel(channel)


def test_override_parsing_follows_pixi() -> None:
    parsed = parse_override("pixi-build-cmake=/opt/cmake,pixi-build-python,,=/x")
    assert [(o.name, o.path) for o in parsed] == [
        ("pixi-build-cmake", "/opt/cmake"),
        ("pixi-build-python", None),
    ]
    assert parse_override("") == ()
    assert parse_override(" a = /b")[0].name == " a ", "Pixi does not trim"
    assert from_environ({OVERRIDE: "a=/x"}).get("a").path == "/x"
    assert from_environ({OVERRIDE: "a=/x"}).get("b") is None


def test_override_all_wins_even_when_empty() -> None:
    overrides = from_environ({OVERRIDE_ALL: "", OVERRIDE: "not=a=valid=value"})
    assert overrides.everything
    assert overrides.get("anything").variable == OVERRIDE_ALL


def test_bare_override_resolves_on_path(tmp_path: Path) -> None:
    tool = tmp_path / "pixi-build-x"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    override = from_environ({OVERRIDE: "pixi-build-x"}).get("pixi-build-x")
    assert override.resolve({"PATH": str(tmp_path)}) == str(tool)
    assert override.resolve({"PATH": "/nonexistent"}) is None


@given(st.text(alphabet=st.sampled_from("ab=,/ -"), max_size=30))
def test_override_parser_is_total(value: str) -> None:
    """Any value parses the way Pixi splits it, or is refused with the bad item quoted."""
    try:
        parsed = parse_override(value)
    except UserInputError as exc:
        assert OVERRIDE in str(exc) and exc.exit_code == 2
        bad = [
            item
            for item in value.split(",")
            if item.count("=") > 1 or (item.endswith("=") and "=" in item)
        ]
        assert bad and f"'{bad[0]}'" in str(exc)
        return
    expected = [item.split("=") for item in value.split(",")] if value else []
    assert [(o.name, o.path) for o in parsed] == [
        (parts[0], parts[1] if len(parts) == 2 else None) for parts in expected if parts[0]
    ]


@pytest.mark.parametrize(
    ("channel", "needle"),
    [
        ("", "--channel: an empty channel name"),
        ("http://[::1", "--channel: 'http://[::1' is not a valid URL (Invalid IPv6 URL)"),
        ("~nosuchuser/chan", "--channel: '~nosuchuser/chan': cannot expand '~'"),
        ("a\nb c", "--channel: 'a\\nb c' is neither a URL"),
    ],
)
def test_normalize_channel_names_where(channel: str, needle: str) -> None:
    """The message names where the channel was written and shows the text escaped."""
    with pytest.raises(UserInputError) as info:
        normalize_channel(channel, Path("/base"), what="--channel")
    assert str(info.value).startswith(needle) and "\n" not in str(info.value)


def test_bad_values_are_quoted_visibly() -> None:
    with pytest.raises(UserInputError) as info:
        normalize_spec("!\n!", "SPEC")
    assert str(info.value).startswith("SPEC: '!\\n!' is not a valid package spec")
    with pytest.raises(UserInputError) as info:
        parse_override("a=/x\n=b")
    assert f"{OVERRIDE}: malformed item 'a=/x\\n=b'" in str(info.value)
    with pytest.raises(UserInputError) as info:
        parse_override("a=/x,b\r=")
    assert "item 'b\\r=' has an empty path" in str(info.value)
