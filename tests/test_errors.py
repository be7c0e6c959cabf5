"""Bad input is exit 2 and one line naming it; failed operations exit 1; the store stays as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BACKEND, Run, as_json, snapshot


def one_line_error(proc, code: int) -> str:  # type: ignore[no-untyped-def]
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture
def installed(cli: Run, channel: Path, root: Path) -> dict[str, str]:
    """A store with one backend in it, and a snapshot of every file."""
    as_json(cli("install", BACKEND, "-c", str(channel), "--json"))
    return snapshot(root)


@pytest.mark.parametrize(
    ("variable", "value", "quoted"),
    [
        (
            "PIXI_BUILD_BACKEND_OVERRIDE",
            "pixi-build-demo-python=/a=b",
            "'pixi-build-demo-python=/a=b'",
        ),
        (
            "PIXI_BUILD_BACKEND_OVERRIDE",
            "x=/ok,pixi-build-demo-python=",
            "'pixi-build-demo-python='",
        ),
    ],
)
def test_malformed_override(cli: Run, channel: Path, root: Path, installed: dict, variable: str, value: str,
                            quoted: str) -> None:  # fmt: skip
    proc = cli("install", BACKEND, "-c", str(channel), extra_env={variable: value})
    line = one_line_error(proc, 2)
    assert variable in line and quoted in line
    assert snapshot(root) == installed


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["no-such-backend"], 1, "no-such-backend"),
        ([f"{BACKEND} >=99"], 1, "cannot solve"),
        (["pixi-build-demo-python[version=="], 2, "pixi-build-demo-python[version=="),
        (["!!!"], 2, "'!!!'"),
        (["--no-such-flag"], 2, "--no-such-flag"),
        (["--platform", "amiga-68k", BACKEND], 2, "--platform"),
    ],
)
def test_bad_spec_or_flag(cli: Run, channel: Path, root: Path, installed: dict, args: list, code: int,
                          needle: str) -> None:  # fmt: skip
    proc = cli("install", *args, "-c", str(channel))
    assert needle in one_line_error(proc, code)
    assert snapshot(root) == installed


def test_missing_channel(cli: Run, root: Path, installed: dict, tmp_path: Path) -> None:
    missing = tmp_path / "no-channel-here"
    proc = cli("install", "pixi-build-demo-cmake", "-c", str(missing), "--override-channels")
    line = one_line_error(proc, 1)
    assert "no-channel-here" in line
    assert snapshot(root) == installed


def test_bad_manifest_toml(cli: Run, root: Path, installed: dict, tmp_path: Path) -> None:
    manifest = tmp_path / "bad" / "pixi.toml"
    manifest.parent.mkdir()
    manifest.write_text("[package\nname = 'x'\n")
    line = one_line_error(cli("install", "-m", str(manifest)), 2)
    assert str(manifest) in line
    assert snapshot(root) == installed


def test_manifest_without_build_section(
    cli: Run, root: Path, installed: dict, tmp_path: Path
) -> None:
    folder = tmp_path / "nobuild"
    folder.mkdir()
    (folder / "pixi.toml").write_text(
        '[workspace]\nname = "x"\nchannels = []\npreview = ["pixi-build"]\n\n[package]\nname = "x"\n'
    )
    line = one_line_error(cli("install", cwd=folder), 2)
    assert "package.build" in line
    assert snapshot(root) == installed


def test_no_manifest_found(cli: Run, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    line = one_line_error(cli("install", cwd=empty), 2)
    assert "pixi.toml" in line


def test_bad_yaml_config(
    cli: Run, channel: Path, root: Path, installed: dict, tmp_path: Path
) -> None:
    config = tmp_path / "user.yml"
    config.write_text("channels:\n  - a\nplatfrom: linux-64\n")
    proc = cli(
        "install",
        BACKEND,
        "-c",
        str(channel),
        extra_env={"CONDA_PIXI_BACKENDS_CONFIG": str(config)},
    )
    line = one_line_error(proc, 2)
    assert f"{config}:3" in line and "platfrom" in line
    config.write_text("channels: [a\n")
    proc = cli(
        "install",
        BACKEND,
        "-c",
        str(channel),
        extra_env={"CONDA_PIXI_BACKENDS_CONFIG": str(config)},
    )
    assert str(config) in one_line_error(proc, 2)
    assert snapshot(root) == installed


def test_unwritable_store(cli: Run, channel: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = cli("install", BACKEND, "-c", str(channel), "--root", str(blocker / "store"))
    assert str(blocker / "store") in one_line_error(proc, 1)


def test_store_root_that_pixi_cannot_carry(cli: Run, channel: Path, tmp_path: Path) -> None:
    proc = cli("install", BACKEND, "-c", str(channel), "--root", str(tmp_path / "a,b"))
    assert "--root" in one_line_error(proc, 2)


def test_verbose_shows_the_traceback(cli: Run, tmp_path: Path) -> None:
    proc = cli("install", "no-such-backend", "-c", str(tmp_path / "nowhere"), "--verbose")
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr


def test_unreachable_channel(cli: Run, root: Path, installed: dict) -> None:
    """A closed port on loopback: the connection is refused at once."""
    proc = cli(
        "install", "pixi-build-demo-cmake", "-c", "http://127.0.0.1:9/chan", "--override-channels"
    )
    assert "http://127.0.0.1:9/chan" in one_line_error(proc, 1)
    assert snapshot(root) == installed
