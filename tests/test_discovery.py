"""Discovery as Pixi does it: every source package a workspace reaches, and the backend of each.

The fixtures are real folders of manifests, recipes and package.xml files, modelled on Pixi's
own docs workspaces and its discovery tests (crates/pixi_build_discovery).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conda_pixi_backends.discovery import DiscoveryContext, discover, find_manifest
from conda_pixi_backends.discovery.exclude_newer import cutoff, parse_cutoff
from conda_pixi_backends.errors import UserInputError
from conda_pixi_backends.plan import requests_for
from conda_pixi_backends.settings import Settings

WORKSPACE = '[workspace]\nname = "ws"\nchannels = {channels}\nplatforms = ["linux-64"]\npreview = ["pixi-build"]\n'
PBB = "https://prefix.dev/pixi-build-backends"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def workspace(folder: Path, extra: str = "", channels: str = f'["{PBB}"]') -> Path:
    return write(folder / "pixi.toml", WORKSPACE.format(channels=channels) + extra)


def package(folder: Path, backend: str, extra: str = "", name: str = "pkg") -> Path:
    return write(
        folder / "pixi.toml",
        f'[package]\nname = "{name}"\nversion = "0.1.0"\n[package.build]\nbackend = {backend}\n'
        + extra,
    )


def names(path: Path, **kwargs: object) -> list[tuple[str, str]]:
    return [(d.name, d.spec) for d in discover([path], **kwargs).declarations]  # type: ignore[arg-type]


def fails(path: Path, *needles: str) -> str:
    with pytest.raises(UserInputError) as info:
        discover([path])
    message = str(info.value)
    assert info.value.exit_code == 2 and "\n" not in message
    for needle in needles:
        assert needle in message, message
    return message


def test_pixi_docs_workspace_needs_both_backends(tmp_path: Path) -> None:
    """Pixi's docs workspace (pixi_build/workspace): a root package with a path dependency."""
    root = write(
        tmp_path / "pixi.toml",
        WORKSPACE.format(channels=f'["{PBB}", "https://prefix.dev/conda-forge"]')
        + '[dependencies]\npython_rich = { path = "." }\n'
        + '[package]\nname = "python_rich"\nversion = "0.1.0"\n'
        + '[package.build]\nbackend = { name = "pixi-build-python", version = "0.4.*" }\n'
        + '[package.host-dependencies]\nhatchling = "==1.26.3"\n'
        + '[package.run-dependencies]\ncpp_math = { path = "packages/cpp_math" }\nrich = "13.9.*"\n',
    )
    package(
        tmp_path / "packages" / "cpp_math",
        '{ name = "pixi-build-cmake", version = "0.3.*" }',
        name="cpp_math",
    )
    found = discover([root])
    assert [(d.name, d.spec) for d in found.declarations] == [
        ("pixi-build-python", "pixi-build-python 0.4.*"),
        ("pixi-build-cmake", "pixi-build-cmake 0.3.*"),
    ]
    assert {d.workspace for d in found.declarations} == {tmp_path}
    assert found.unresolved == []
    # From a subfolder, as Pixi finds its workspace: upward, past the package-only manifest.
    assert find_manifest(tmp_path / "packages" / "cpp_math") == root


def test_path_dependency_outside_the_workspace_and_recursion(tmp_path: Path) -> None:
    ws = workspace(tmp_path / "ws", '[dependencies]\napp = { path = "app" }\n')
    package(
        tmp_path / "ws" / "app",
        '{ name = "pixi-build-python" }',
        '[package.host-dependencies]\nlib = { path = "../../shared/lib" }\n',
    )
    # A separate workspace outside, whose own package depends back on the app: no endless walk.
    write(
        tmp_path / "shared" / "lib" / "pixi.toml",
        WORKSPACE.format(channels='["conda-forge"]')
        + '[package]\nname = "lib"\n[package.build]\nbackend = { name = "pixi-build-cmake" }\n'
        + '[package.run-dependencies]\napp = { path = "../../ws/app" }\n'
        + 'tool = { path = "../tool" }\n',
    )
    write(tmp_path / "shared" / "tool" / "recipe" / "recipe.yml", "package: {name: tool}\n")
    found = discover([ws]).declarations
    assert [d.name for d in found] == [
        "pixi-build-python",
        "pixi-build-cmake",
        "pixi-build-rattler-build",
    ]
    # lib's channels are its own workspace's; relative channels resolve against the root run.
    assert found[1].channels == ("conda-forge",)
    assert found[2].channels == ("conda-forge",)  # the recipe takes the workspace above it
    assert all(d.base == tmp_path / "ws" == d.workspace for d in found)


@pytest.mark.parametrize(
    "where", ["recipe.yaml", "recipe.yml", "recipe/recipe.yaml", "recipe/recipe.yml"]
)
def test_recipe_only_folder(tmp_path: Path, where: str) -> None:
    ws = workspace(tmp_path, '[dependencies]\ntool = { path = "tool" }\n')
    recipe = write(tmp_path / "tool" / where, "package: {name: tool}\n")
    (declaration,) = discover([ws]).declarations
    assert (declaration.name, declaration.spec) == (
        "pixi-build-rattler-build",
        "pixi-build-rattler-build",
    )
    assert declaration.source == str(recipe)
    assert declaration.channels == (PBB,)


def test_recipe_outside_any_workspace_takes_pixis_default_channels(tmp_path: Path) -> None:
    recipe = write(tmp_path / "recipe.yaml", "package: {name: tool}\n")
    (declaration,) = discover([recipe]).declarations  # a recipe file named directly
    assert declaration.channels == ("conda-forge",)
    context = DiscoveryContext(default_channels=("https://example.org/site",))
    (declaration,) = discover([recipe], context).declarations
    assert declaration.channels == ("https://example.org/site",)


def test_package_xml_named_directly_and_as_a_folder(tmp_path: Path) -> None:
    ws = workspace(tmp_path, '[dependencies]\nnav = { path = "ros/nav/package.xml" }\n')
    write(
        tmp_path / "ros" / "nav" / "package.xml", "<package format='3'><name>nav</name></package>"
    )
    assert names(ws) == [("pixi-build-ros", "pixi-build-ros")]
    write(ws, WORKSPACE.format(channels='["x"]') + '[dependencies]\nnav = { path = "ros/nav" }\n')
    fails(ws, "dependencies.nav", "ROS package must be named by its package.xml")
    # A folder with both: the recipe wins, as in Pixi's ros_discovery_priority test.
    write(tmp_path / "ros" / "nav" / "recipe.yaml", "package: {name: nav}\n")
    assert names(ws) == [("pixi-build-rattler-build", "pixi-build-rattler-build")]


def test_inline_packages_and_git_sources(tmp_path: Path) -> None:
    ws = workspace(
        tmp_path,
        "[dependencies]\n"
        'typst = { git = "https://example.org/typst.git", package.build.backend = '
        '{ name = "pixi-build-rust", version = "0.2.*" } }\n'
        'local = { path = "local", package.build.backend.name = "pixi-build-python" }\n'
        'other = { git = "https://example.org/other.git", branch = "main" }\n'
        'archive = { url = "https://example.org/src.tar.gz" }\n'
        'binary = { url = "https://example.org/noarch/binary-1.0-0.conda" }\n',
    )
    found = discover([ws])
    assert [(d.name, d.spec) for d in found.declarations] == [
        ("pixi-build-rust", "pixi-build-rust 0.2.*"),
        ("pixi-build-python", "pixi-build-python"),
    ]
    # The inline definition wins: the folder `local` is not even read.
    assert [(u.name, u.kind, u.location) for u in found.unresolved] == [
        ("other", "git", "https://example.org/other.git"),
        ("archive", "url", "https://example.org/src.tar.gz"),
    ]
    assert found.unresolved[0].where == f"{ws}: dependencies.other"


def test_inline_package_rules(tmp_path: Path) -> None:
    ws = workspace(
        tmp_path,
        '[dependencies]\nx = { git = "g", package = { name = "y", build.backend.name = "b" } }\n',
    )
    fails(ws, "dependencies.x.package.name", "cannot set 'name'")


def test_dependency_tables_of_features_targets_and_packages(tmp_path: Path) -> None:
    ws = workspace(
        tmp_path,
        '[feature.dev.dependencies]\na = { path = "a" }\n'
        '[target.linux-64.dependencies]\nb = { path = "b" }\n'
        '[feature.gpu.target.linux-64.dependencies]\nc = { path = "c" }\n'
        '[dev]\nd = { path = "d" }\n',
    )
    for letter in "abcd":
        package(tmp_path / letter, f'{{ name = "backend-{letter}" }}')
    package(
        tmp_path / "a",
        '{ name = "backend-a" }',
        '[package.build-dependencies."if(host_platform == \'linux-64\')"]\ne = { path = "../e" }\n'
        '[package.target.linux-64.run-dependencies]\nf = { path = "../f" }\n'
        '[package.extra-dependencies.docs]\ng = { path = "../g" }\n',
    )
    for letter in "efg":
        package(tmp_path / letter, f'{{ name = "backend-{letter}" }}')
    assert sorted(n for n, _ in names(ws)) == [f"backend-{c}" for c in "abcdefg"]


def test_source_backends_are_refused(tmp_path: Path) -> None:
    for backend in (
        '{ name = "b", git = "https://example.org/b.git" }',
        '{ name = "b", path = "../b" }',
        '{ name = "b", url = "https://example.org/b.tar.gz" }',
    ):
        manifest = package(tmp_path, backend)
        fails(manifest, "package.build.backend.", "build backends cannot be defined as source")


def test_binary_archive_backends_and_spec_fields_are_kept(tmp_path: Path) -> None:
    manifest = package(
        tmp_path,
        '{ name = "pixi-build-python", version = "0.4.*", build = "py_0", build-number = ">=1", '
        'subdir = "noarch", sha256 = "' + "ab" * 32 + '", license = "BSD-3-Clause" }',
    )
    ((_, spec),) = names(manifest)
    assert spec == (
        'pixi-build-python 0.4.*[build="py_0", build_number=">=1", subdir="noarch", '
        f'sha256="{"ab" * 32}", license="BSD-3-Clause"]'
    )
    archive = tmp_path / "dist" / "pixi-build-python-0.4.0-py_0.conda"
    package(
        tmp_path, '{ name = "pixi-build-python", path = "dist/pixi-build-python-0.4.0-py_0.conda" }'
    )
    assert names(manifest) == [
        ("pixi-build-python", f'pixi-build-python[url="{archive.as_uri()}"]')
    ]


def test_workspace_true_layers_member_fields(tmp_path: Path) -> None:
    workspace(
        tmp_path,
        '[dependencies]\nm = { path = "m" }\n'
        '[workspace.dependencies]\npixi-build-python = { version = "0.4.*", channel = "x" }\n',
    )
    member = package(
        tmp_path / "m", '{ name = "pixi-build-python", workspace = true, build = "h1*" }'
    )
    assert names(tmp_path) == [
        (
            "pixi-build-python",
            'pixi-build-python 0.4.*[channel="x", build="h1*"]',
        )
    ]
    package(tmp_path / "m", '{ name = "pixi-build-python", workspace = true, version = "1" }')
    fails(member, "package.build.backend", "'version' is mutually exclusive with 'workspace'")
    package(tmp_path / "m", '{ name = "pixi-build-python", workspace = false }')
    fails(member, "opt-in")


def test_typos_and_unknown_keys_are_refused_as_pixi_does(tmp_path: Path) -> None:
    manifest = package(tmp_path, '{ name = "pixi-build-python", verison = "0.1.*" }')
    fails(manifest, "package.build.backend.verison", "did you mean 'version'?")
    manifest = package(tmp_path, '{ name = "b" }', 'chanels = ["x"]\n')
    fails(manifest, "package.build.chanels", "did you mean 'channels'?")
    manifest = write(
        tmp_path / "pixi.toml",
        '[package]\nname = "x"\nhost-dependencies = {}\nbuld = 1\n[package.build]\n'
        'backend = { name = "b" }\nconfig = { any = "thing" }\nconfiguration = {}\n',
    )
    fails(manifest, "package.buld", "did you mean 'build'?")


def test_a_package_needs_the_pixi_build_preview(tmp_path: Path) -> None:
    write(tmp_path / "pixi.toml", '[workspace]\nchannels = []\npreview = ["other"]\n')
    member = package(tmp_path / "m", '{ name = "b" }')
    fails(member, f"{member}: package:", "'pixi-build' preview")
    write(
        tmp_path / "pixi.toml", '[workspace]\nchannels = []\n[dependencies]\nm = { path = "m" }\n'
    )
    fails(tmp_path / "pixi.toml", "dependencies.m", "'pixi-build' preview")


def test_a_workspace_without_package_is_not_a_path_dependency(tmp_path: Path) -> None:
    ws = workspace(tmp_path, '[dependencies]\nother = { path = "other" }\n')
    workspace(tmp_path / "other")
    fails(ws, "dependencies.other", "does not describe a package")
    write(tmp_path / "other" / "pixi.toml", "")
    (tmp_path / "other" / "pixi.toml").unlink()
    fails(ws, "dependencies.other", "no supported manifest here")


def test_channels_resolve_as_pixi_resolves_them(tmp_path: Path) -> None:
    """Relative paths against the root of the workspace being run (also for a member's
    backend channels); bare names against conda.anaconda.org; `priority` first."""
    ws = workspace(
        tmp_path,
        '[dependencies]\nm = { path = "pkgs/m" }\n',
        channels='["conda-forge", { channel = "./local", priority = 2 }]',
    )
    package(tmp_path / "pkgs" / "m", '{ name = "b", channels = ["./member-local", "bioconda"] }')
    package(tmp_path / "pkgs" / "n", '{ name = "c" }')
    write(ws, ws.read_text() + 'n = { path = "pkgs/n" }\n')
    requests = requests_for(discover([ws]).declarations, Settings(channels=["unused"]))
    assert [r.channels for r in requests] == [
        ((tmp_path / "member-local").as_uri(), "https://conda.anaconda.org/bioconda"),
        ((tmp_path / "local").as_uri(), "https://conda.anaconda.org/conda-forge"),
    ]
    assert [r.workspaces for r in requests] == [(str(tmp_path),), (str(tmp_path),)]


def test_exclude_newer_of_the_workspace_run(tmp_path: Path) -> None:
    ws = workspace(tmp_path, 'exclude-newer = "2024-05-01"\n[dependencies]\nm = { path = "m" }\n')
    package(tmp_path / "m", '{ name = "b" }')
    (declaration,) = discover([ws]).declarations
    assert declaration.exclude_newer == "2024-05-02T00:00:00+00:00"  # the whole day counts
    (request,) = requests_for([declaration], Settings())
    assert request.canonical()["exclude_newer"] == "2024-05-02T00:00:00+00:00"
    write(ws, ws.read_text().replace("2024-05-01", "14d"))
    assert discover([ws]).declarations[0].exclude_newer == "14d"
    write(ws, ws.read_text().replace('"14d"', '"last tuesday"'))
    fails(ws, "workspace.exclude-newer", "neither a duration")


def test_cutoffs() -> None:
    assert parse_cutoff("2024-01-31T10:00:00+02:00") == "2024-01-31T08:00:00+00:00"
    assert parse_cutoff("1h30m") == "1h30m"
    moment = cutoff("1h30m")
    assert moment.tzinfo is not None
    for bad in ("2024-13-01", "7 parsecs", "2024-01-31T10:00:00", ""):
        with pytest.raises(ValueError):
            parse_cutoff(bad)


def test_pixi_project_manifest_is_a_fallback(tmp_path: Path) -> None:
    elsewhere = workspace(tmp_path / "elsewhere")
    here = tmp_path / "here"
    here.mkdir()
    env = {"PIXI_PROJECT_MANIFEST": str(elsewhere)}
    assert find_manifest(here, env) == elsewhere
    local = workspace(here)
    assert find_manifest(here, env) == local
    with pytest.raises(UserInputError, match="PIXI_PROJECT_MANIFEST"):
        find_manifest(tmp_path, {"PIXI_PROJECT_MANIFEST": str(tmp_path / "nope.toml")})


def test_mojoproject_and_pyproject_manifests(tmp_path: Path) -> None:
    write(
        tmp_path / "mojoproject.toml",
        WORKSPACE.format(channels='["c"]')
        + '[package]\nname = "m"\n[package.build]\nbackend = { name = "pixi-build-mojo" }\n',
    )
    assert names(tmp_path) == [("pixi-build-mojo", "pixi-build-mojo")]
    # A pyproject.toml without [tool.pixi] is passed over, as Pixi passes it over.
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    assert find_manifest(tmp_path) == tmp_path / "mojoproject.toml"


def test_special_files_are_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pixi.toml"
    os.mkfifo(fifo)
    fails(fifo, "not a regular file")


def test_channel_tables_are_checked(tmp_path: Path) -> None:
    ws = workspace(
        tmp_path,
        '[dependencies]\nm = { path = "m" }\n',
        channels='[{ channel = "a", priority = 1, exclude-newer = "7d" }]',
    )
    package(tmp_path / "m", '{ name = "b" }')
    assert discover([ws]).declarations[0].channels == ("a",)
    write(ws, ws.read_text().replace('"7d"', '"soon"'))
    fails(ws, "workspace.channels[0].exclude-newer", "neither a duration")
    write(ws, ws.read_text().replace('exclude-newer = "soon"', "prio = 2"))
    fails(ws, "workspace.channels[0].prio", "did you mean 'priority'?")
