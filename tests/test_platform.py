"""The platform: detected without py-rattler on every command's path, so it must agree with
py-rattler's own detection, and py-rattler is used through `Subdir`, not the deprecated
`Platform`."""

from __future__ import annotations

import types

import pytest
import rattler
from conftest import BACKEND, Run, as_json

from conda_pixi_backends import settings
from conda_pixi_backends.settings import current_platform


def test_current_platform_agrees_with_py_rattler() -> None:
    assert current_platform() == str(rattler.Subdir.current())


@pytest.mark.parametrize(
    ("system", "machine", "subdir"),
    [
        ("linux", "x86_64", "linux-64"),
        ("linux", "aarch64", "linux-aarch64"),
        ("linux", "arm64", "linux-aarch64"),
        ("linux", "ppc64le", "linux-ppc64le"),
        ("linux", "s390x", "linux-s390x"),
        ("linux", "armv7l", "linux-armv7l"),
        ("darwin", "x86_64", "osx-64"),
        ("darwin", "arm64", "osx-arm64"),
        ("win32", "AMD64", "win-64"),
        ("win32", "ARM64", "win-arm64"),
    ],
)
def test_every_machine_maps_to_a_subdir_py_rattler_knows(
    monkeypatch: pytest.MonkeyPatch, system: str, machine: str, subdir: str
) -> None:
    monkeypatch.setattr(settings, "sys", types.SimpleNamespace(platform=system))
    uname = types.SimpleNamespace(machine=machine)
    monkeypatch.setattr(settings, "os", types.SimpleNamespace(uname=lambda: uname))
    assert current_platform() == subdir
    assert str(rattler.Subdir(subdir)) == subdir  # py-rattler raises for a subdir it does not know


def test_solving_and_installing_use_no_deprecated_platform(cli: Run) -> None:
    """py-rattler 0.28 deprecates `Platform` for `Subdir`: made an error here, an install (solve,
    install, activation) still succeeds."""
    deprecated = "error:`Platform` is deprecated:DeprecationWarning"
    result = as_json(
        cli("install", "--json", f"{BACKEND} 0.1.*", extra_env={"PYTHONWARNINGS": deprecated})
    )
    assert result["backends"][0]["status"] == "installed"
