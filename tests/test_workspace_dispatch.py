"""Pixi fidelity, end to end: what discovery finds is installed, and each workspace is served
the backend it pinned through the one override Pixi reads.

Real local channels, real installs with py-rattler, launchers run as Pixi runs an override:
a plain executable started in the folder Pixi builds in.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import BACKEND, Run, as_json, by_name, negotiate

from conda_pixi_backends import demo

HEADER = '[workspace]\nchannels = ["{channel}"]\npreview = ["pixi-build"]\n'


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def pinned_workspace(folder: Path, channel: Path, version: str, extra: str = "") -> Path:
    return write(
        folder / "pixi.toml",
        HEADER.format(channel=channel.as_uri())
        + f'[package]\nname = "{folder.name}"\nversion = "0.1.0"\n[package.build]\n'
        f'backend = {{ name = "{BACKEND}", version = "{version}" }}\n' + extra,
    )


def version_from(launcher: Path, cwd: Path) -> str:
    """What the launcher runs when started in `cwd`, as Pixi starts an override there."""
    proc = subprocess.run(
        [str(launcher), "--version"], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()[-1]


def test_each_workspace_gets_the_version_it_pinned(
    cli: Run, channel: Path, root: Path, tmp_path: Path
) -> None:
    a = pinned_workspace(tmp_path / "a", channel, "0.1.*").parent
    b = pinned_workspace(tmp_path / "b", channel, "0.2.*").parent
    assert by_name(as_json(cli("install", "--json", cwd=a)))[BACKEND]["status"] == "installed"
    assert by_name(as_json(cli("install", "--json", cwd=b)))[BACKEND]["status"] == "installed"

    launcher = root / "bin" / BACKEND
    (a / "src" / "deep").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert version_from(launcher, a) == "0.1.0"
    assert version_from(launcher, a / "src" / "deep") == "0.1.0"
    assert version_from(launcher, b) == "0.2.0"
    assert version_from(launcher, elsewhere) == "0.2.0"  # the last installed, elsewhere
    # A folder whose name merely starts like a workspace's is not inside it.
    sibling = tmp_path / "a-sibling"
    sibling.mkdir()
    assert version_from(launcher, sibling) == "0.2.0"
    # Pixi talks JSON-RPC to it with no arguments, from the workspace.
    assert negotiate(launcher)["result"]["capabilities"]["providesCondaOutputs"] is True

    listing = {row["version"]: row for row in as_json(cli("list", "--json"))["environments"]}
    assert listing["0.1.0"]["workspaces"] == [str(a)]
    assert listing["0.2.0"]["workspaces"] == [str(b)]
    assert listing["0.2.0"]["exposed"] is True
    plain = cli("list").stdout
    assert f"serves Pixi in workspace {a}" in plain

    # Pixi caches metadata by the override's contents: they change with any workspace's pin.
    before = launcher.read_bytes()
    pinned_workspace(a, channel, "0.2.*")
    assert by_name(as_json(cli("install", "--json", cwd=a)))[BACKEND]["status"] == (
        "already-installed"
    )
    after = launcher.read_bytes()
    assert after != before
    assert version_from(launcher, a) == "0.2.0"
    assert str(a).encode() not in after  # nothing left to tell apart: one environment for all


def test_list_says_served_only_where_a_launcher_serves(
    cli: Run, channel: Path, root: Path, tmp_path: Path
) -> None:
    """Once the exposed environment of a name is removed, no launcher of that name is left:
    `list` no longer says the other one serves its workspace."""
    a = pinned_workspace(tmp_path / "a", channel, "0.1.*").parent
    b = pinned_workspace(tmp_path / "b", channel, "0.2.*").parent
    old = by_name(as_json(cli("install", "--json", cwd=a)))[BACKEND]
    new = by_name(as_json(cli("install", "--json", cwd=b)))[BACKEND]
    assert cli("remove", new["key"]).returncode == 0
    assert not (root / "bin" / BACKEND).exists()
    (row,) = as_json(cli("list", "--json"))["environments"]
    assert (row["key"], row["workspaces"], row["executables"]) == (old["key"], [], [])
    assert "serves Pixi" not in cli("list").stdout


def test_a_second_workspace_on_the_same_request_shares_it(
    cli: Run, channel: Path, root: Path, tmp_path: Path
) -> None:
    a = pinned_workspace(tmp_path / "a", channel, "0.1.*").parent
    b = pinned_workspace(tmp_path / "b", channel, "0.1.*").parent
    first = by_name(as_json(cli("install", "--json", cwd=a)))[BACKEND]
    second = by_name(as_json(cli("install", "--json", cwd=b)))[BACKEND]
    assert second["status"] == "already-installed"
    assert first["key"] == second["key"]
    (row,) = as_json(cli("list", "--json"))["environments"]
    assert row["workspaces"] == sorted([str(a), str(b)])


def test_everything_the_workspace_reaches_is_installed(
    cli: Run, channel: Path, root: Path, tmp_path: Path
) -> None:
    """A root package, a path dependency outside the workspace, a git source that names its
    backend inline, and one that does not (reported, not guessed)."""
    ws = tmp_path / "ws"
    write(
        ws / "pixi.toml",
        HEADER.format(channel=channel.as_uri())
        + "[dependencies]\n"
        + 'app = { path = "." }\n'
        + 'tool = { git = "https://example.org/tool.git", package.build.backend = '
        + '{ name = "pixi-build-demo-cmake", version = "0.1.*" } }\n'
        + 'mystery = { git = "https://example.org/mystery.git", rev = "abc" }\n'
        + '[package]\nname = "app"\nversion = "1.0"\n[package.build]\n'
        + f'backend = {{ name = "{BACKEND}", version = "0.2.*" }}\n'
        + '[package.run-dependencies]\nlib = { path = "../lib" }\n',
    )
    pinned_workspace(tmp_path / "lib", channel, "0.1.*")
    result = as_json(cli("install", "--json", cwd=ws))
    found = {(b["name"], b["version"]) for b in result["backends"]}
    assert found == {(BACKEND, "0.2.0"), (BACKEND, "0.1.0"), ("pixi-build-demo-cmake", "0.1.0")}
    assert result["unresolved"] == [
        {
            "name": "mystery",
            "kind": "git",
            "location": "https://example.org/mystery.git",
            "declared_in": f"{ws / 'pixi.toml'}: dependencies.mystery",
        }
    ]
    assert as_json(cli("sync", "--json", "-m", str(ws)))["unresolved"] == result["unresolved"]
    proc = cli("install", cwd=ws)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert any("mystery is built from git https://example.org/mystery.git" in w for w in warnings)
    # app and lib both serve the workspace being run: one override cannot; said, and chosen.
    assert any(f"workspace {ws} asks for {BACKEND} in 2 different ways" in w for w in warnings), (
        warnings
    )


def test_recipe_folder_gets_the_rattler_build_backend(cli: Run, tmp_path: Path, root: Path) -> None:
    channel = tmp_path / "channel"
    demo.build_runtime(channel)
    demo.build_package(channel, "pixi-build-api-version", "7")
    demo.build_backend(channel, "pixi-build-rattler-build", "0.3.0")
    demo.index(channel)
    ws = tmp_path / "ws"
    write(
        ws / "pixi.toml",
        HEADER.format(channel=channel.as_uri()) + '[dependencies]\nzlib = { path = "zlib" }\n',
    )
    write(ws / "zlib" / "recipe" / "recipe.yaml", "package:\n  name: zlib\n  version: 1.3\n")
    (entry,) = as_json(cli("install", "--json", cwd=ws))["backends"]
    assert (entry["name"], entry["version"], entry["status"]) == (
        "pixi-build-rattler-build",
        "0.3.0",
        "installed",
    )
    assert entry["manifests"] == [str(ws / "zlib" / "recipe" / "recipe.yaml")]
    assert version_from(root / "bin" / "pixi-build-rattler-build", ws) == "0.3.0"


def test_binary_archive_backend(cli: Run, channel: Path, tmp_path: Path) -> None:
    archive = channel / "noarch" / f"{BACKEND}-0.1.0-0.tar.bz2"
    ws = tmp_path / "ws"
    write(
        ws / "pixi.toml",
        HEADER.format(channel=channel.as_uri())
        + '[package]\nname = "x"\n[package.build]\n'
        + f'backend = {{ name = "{BACKEND}", path = "{archive}" }}\n',
    )
    (entry,) = as_json(cli("install", "--json", cwd=ws))["backends"]
    assert entry["spec"] == f'{BACKEND}[url="{archive.as_uri()}"]'
    assert (entry["status"], entry["version"]) == ("installed", "0.1.0")


@pytest.mark.parametrize(
    ("cutoff", "expected"),
    [
        ("2020-01-01", None),
        ("1d", None),
        ("2099-12-31", "0.2.0"),
        ("2099-12-31T00:00:00Z", "0.2.0"),
    ],
)
def test_exclude_newer_limits_the_solve(
    cli: Run, channel: Path, tmp_path: Path, cutoff: str, expected: str | None
) -> None:
    """The test channel was indexed minutes ago (py-rattler prefers `indexed_timestamp`): a
    cutoff a day ago excludes every package, one in the future none."""
    ws = tmp_path / "ws"
    pinned_workspace(ws, channel, "*").write_text(
        (ws / "pixi.toml")
        .read_text()
        .replace("[workspace]\n", f'[workspace]\nexclude-newer = "{cutoff}"\n')
    )
    proc = cli("install", "--json", cwd=ws)
    if expected is None:
        assert proc.returncode == 1, proc.stdout
        assert "cutoff" in proc.stderr and "\n" not in proc.stderr.strip()
    else:
        (entry,) = as_json(proc)["backends"]
        assert entry["version"] == expected


def test_relative_channels_resolve_against_the_workspace_root(
    cli: Run, channel: Path, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    local = ws / "channels" / "local"
    local.parent.mkdir(parents=True)
    local.symlink_to(channel, target_is_directory=True)
    write(
        ws / "pixi.toml",
        HEADER.format(channel="./channels/local") + '[dependencies]\nm = { path = "pkgs/m" }\n',
    )
    write(
        ws / "pkgs" / "m" / "pixi.toml",
        '[package]\nname = "m"\n[package.build]\n'
        f'backend = {{ name = "{BACKEND}", channels = ["./channels/local"] }}\n',
    )
    (entry,) = as_json(cli("install", "--json", cwd=ws / "pkgs"))["backends"]
    assert entry["channels"] == [local.as_uri()]
    assert entry["status"] == "installed"


def test_typo_is_refused_before_anything_is_written(cli: Run, root: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    write(
        ws / "pixi.toml",
        HEADER.format(channel="conda-forge")
        + '[package]\nname = "x"\n[package.build]\nbackend = { name = "b", verison = "1" }\n',
    )
    proc = cli("install", cwd=ws)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"conda-pixi-backend: error: {ws / 'pixi.toml'}: package.build.backend.verison: unexpected key; did you mean "
        "'version'? expected only 'name', 'channels', 'additional-dependencies', 'workspace', "
        "'version', 'url', 'path', 'git', 'branch', 'rev', 'tag', 'lfs', 'subdirectory', "
        "'build', 'build-number', 'file-name', 'channel', 'subdir', 'license', "
        "'license-family', 'md5', 'sha256', 'extras', 'flags', 'when', 'track-features'"
    ]
    assert not root.exists()


def test_doctor_sees_each_workspace_served_and_flags_a_split_pin(
    cli: Run, channel: Path, root: Path, tmp_path: Path
) -> None:
    a = pinned_workspace(tmp_path / "a", channel, "0.1.*").parent
    b = pinned_workspace(tmp_path / "b", channel, "0.2.*").parent
    for ws in (a, b):
        assert cli("install", cwd=ws).returncode == 0
    for ws, version in ((a, "0.1.0"), (b, "0.2.0")):
        report = json.loads(cli("doctor", "--json", cwd=ws).stdout)
        checks = {c["check"]: c for c in report["checks"] if c.get("backend") == BACKEND}
        assert checks["resolves"]["status"] == "ok", checks["resolves"]
        assert f"the launcher serves it in {ws}" in checks["resolves"]["detail"]
        assert f"({BACKEND} {version})" in checks["environment"]["detail"]
        assert checks["executable"]["status"] == "ok", checks["executable"]
        assert checks["responds"]["status"] == "ok", checks["responds"]

    # One workspace whose two packages pin the backend differently: one override cannot.
    write(
        a / "pixi.toml",
        (a / "pixi.toml").read_text() + '[package.run-dependencies]\nlib = { path = "lib" }\n',
    )
    pinned_workspace(a / "lib", channel, "0.2.*")
    proc = cli("doctor", "--json", cwd=a)
    assert proc.returncode == 1
    (split,) = [c for c in json.loads(proc.stdout)["checks"] if c["check"] == "workspace"]
    assert split["status"] == "fail"
    assert f"workspace {a} asks for {BACKEND} in 2 different ways" in split["detail"]
    assert str(a / "lib" / "pixi.toml") in split["detail"]
