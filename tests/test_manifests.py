"""Pixi manifests read into declarations, with Pixi's precedence rules and one-line errors."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conda_pixi_backends.discovery import discover, find_manifest, plugin_manager
from conda_pixi_backends.errors import UserInputError
from conda_pixi_backends.hooks import hookimpl
from conda_pixi_backends.model import Declaration

PBB = "https://prefix.dev/pixi-build-backends"
CF = "https://prefix.dev/conda-forge"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def read_declarations(paths: list[Path]) -> list[Declaration]:
    return discover(paths).declarations


def read_one(path: Path) -> Declaration:
    (declaration,) = read_declarations([path])
    return declaration


def fails(path: Path, *needles: str) -> str:
    """Reading `path` fails with a bad-input error whose one line names the file and `needles`."""
    with pytest.raises(UserInputError) as info:
        read_declarations([path])
    message = str(info.value)
    assert info.value.exit_code == 2
    assert "\n" not in message
    for needle in (str(path), *needles):
        assert needle in message
    return message


# --- the backend itself ---------------------------------------------------------------------


def test_inline_backend(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pixi.toml",
        '[package.build]\nbackend = { name = "pixi-build-python", version = "0.8.*" }\n',
    )
    assert read_one(manifest) == Declaration(
        name="pixi-build-python",
        spec="pixi-build-python 0.8.*",
        source=str(manifest),
        base=tmp_path,
        workspace=tmp_path,
    )


def test_table_backend_without_version(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pixi.toml",
        '[package]\nname = "x"\n[package.build.backend]\nname = "pixi-build-cmake"\n',
    )
    declaration = read_one(manifest)
    assert (declaration.name, declaration.spec) == ("pixi-build-cmake", "pixi-build-cmake")


def test_star_version_is_just_the_name(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pixi.toml",
        '[package.build]\nbackend = { name = "pixi-build-rust", version = "*" }\n',
    )
    assert read_one(manifest).spec == "pixi-build-rust"


def test_toml_1_1_multiline_inline_table(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pixi.toml",
        "[package.build]\n"
        "backend = {\n"
        '  name = "pixi-build-python",\n'
        '  version = "0.8.*",\n'
        f'  channels = ["{PBB}"],\n'
        "}\n",
    )
    declaration = read_one(manifest)
    assert declaration.spec == "pixi-build-python 0.8.*"
    assert declaration.channels == (PBB,)


# --- channels: backend > build section > workspace --------------------------------------------


def test_channels_from_backend_win(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pixi.toml",
        f'[workspace]\npreview = ["pixi-build"]\nchannels = ["ws"]\n[package.build]\nchannels = ["build"]\n'
        f'[package.build.backend]\nname = "pixi-build-python"\nchannels = ["{PBB}", "./local"]\n',
    )
    declaration = read_one(manifest)
    assert declaration.channels == (PBB, "./local")  # raw, resolved later against base
    assert declaration.base == tmp_path


def test_channels_from_build_section_win_over_workspace(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pixi.toml",
        '[workspace]\npreview = ["pixi-build"]\nchannels = ["ws"]\n'
        f'[package.build]\nbackend = {{ name = "pixi-build-python" }}\nchannels = ["{CF}"]\n',
    )
    assert read_one(manifest).channels == (CF,)


def test_channels_from_workspace(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pixi.toml",
        '[workspace]\npreview = ["pixi-build"]\nchannels = ["conda-forge", { channel = "first", priority = 5 }]\n'
        '[package.build]\nbackend = { name = "pixi-build-python" }\n',
    )
    assert read_one(manifest).channels == ("first", "conda-forge")


def test_channels_from_legacy_project_table(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pixi.toml",
        '[project]\npreview = ["pixi-build"]\nchannels = ["conda-forge"]\n'
        '[package.build]\nbackend = { name = "pixi-build-python" }\n',
    )
    assert read_one(manifest).channels == ("conda-forge",)


def test_channels_from_parent_workspace_resolve_against_its_folder(tmp_path: Path) -> None:
    write(
        tmp_path / "pixi.toml", '[workspace]\npreview = ["pixi-build"]\nchannels = ["./channel"]\n'
    )
    member = write(
        tmp_path / "pkgs" / "a" / "pixi.toml",
        '[package]\nname = "a"\n[package.build]\nbackend = { name = "pixi-build-python" }\n',
    )
    declaration = read_one(member)
    assert declaration.channels == ("./channel",)
    assert declaration.base == tmp_path
    assert declaration.source == str(member)


def test_no_channels_anywhere(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pixi.toml", '[package.build]\nbackend = { name = "pixi-build-python" }\n'
    )
    assert read_one(manifest).channels == ()


# --- additional dependencies ----------------------------------------------------------------


def test_additional_dependencies_both_forms(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pixi.toml",
        '[package.build]\nbackend = { name = "pixi-build-python" }\n'
        '[package.build.additional-dependencies]\ngit = "*"\nuv = ">=0.5"\n'
        'cmake = { version = "3.*" }\nninja = {}\n',
    )
    assert read_one(manifest).additional_dependencies == ("git", "uv >=0.5", "cmake 3.*", "ninja")


def test_backend_additional_dependencies_win(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pixi.toml",
        "[package.build]\n"
        'backend = { name = "pixi-build-python", additional-dependencies = { uv = "0.5.*" } }\n'
        'additional-dependencies = { git = "*" }\n',
    )
    assert read_one(manifest).additional_dependencies == ("uv 0.5.*",)


# --- workspace = true -----------------------------------------------------------------------


def test_workspace_version_from_same_file(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pixi.toml",
        '[workspace]\npreview = ["pixi-build"]\nchannels = []\n[workspace.dependencies]\npixi-build-python = "0.8.*"\n'
        'uv = { version = ">=0.5" }\n'
        '[package.build]\nbackend = { name = "pixi-build-python", workspace = true }\n'
        "additional-dependencies = { uv = { workspace = true } }\n",
    )
    declaration = read_one(manifest)
    assert declaration.spec == "pixi-build-python 0.8.*"
    assert declaration.additional_dependencies == ("uv >=0.5",)


def test_workspace_version_from_parent_workspace(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[tool.pixi.workspace]\npreview = ["pixi-build"]\n'
        '[tool.pixi.workspace.dependencies]\npixi-build-cmake = { version = "0.3.*" }\n',
    )
    member = write(
        tmp_path / "libs" / "a" / "pixi.toml",
        '[package]\nname = "a"\n'
        '[package.build]\nbackend = { name = "pixi-build-cmake", workspace = true }\n',
    )
    assert read_one(member).spec == "pixi-build-cmake 0.3.*"


def test_workspace_entry_missing(tmp_path: Path) -> None:
    workspace = write(
        tmp_path / "pixi.toml", '[workspace]\npreview = ["pixi-build"]\n[workspace.dependencies]\n'
    )
    member = write(
        tmp_path / "a" / "pixi.toml",
        '[package]\n[package.build]\nbackend = { name = "pixi-build-cmake", workspace = true }\n',
    )
    message = fails(member, "workspace.dependencies.pixi-build-cmake")
    assert str(workspace) in message


def test_workspace_true_without_workspace(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pixi.toml",
        '[package]\n[package.build]\nbackend = { name = "pixi-build-cmake", workspace = true }\n',
    )
    fails(manifest, "package.build.backend", "no workspace manifest")


def test_workspace_true_and_version_exclude_each_other(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pixi.toml",
        '[workspace]\npreview = ["pixi-build"]\n[workspace.dependencies]\nb = "1"\n[package.build]\n'
        'backend = { name = "b", version = "1", workspace = true }\n',
    )
    fails(manifest, "package.build.backend", "'version' is mutually exclusive with 'workspace'")


# --- workspaces with several packages ---------------------------------------------------------


def test_workspace_members_reached_by_path_dependencies(tmp_path: Path) -> None:
    """Only what the workspace reaches is planned: no walk through folders, as Pixi builds."""
    workspace = write(
        tmp_path / "pixi.toml",
        f'[workspace]\npreview = ["pixi-build"]\nchannels = ["{CF}"]\n'
        '[dependencies]\na = { path = "a" }\nb = { path = "./b" }\nc = { path = "nested/c" }\n',
    )
    python = (
        '[package]\n[package.build]\nbackend = { name = "pixi-build-python", version = "0.8.*" }\n'
    )
    a = write(tmp_path / "a" / "pixi.toml", python)
    write(tmp_path / "b" / "pixi.toml", python)
    c = write(
        tmp_path / "nested" / "c" / "pyproject.toml",
        '[project]\nname = "c"\n'
        '[tool.pixi.package.build]\nbackend = { name = "pixi-build-rust" }\n',
    )
    write(tmp_path / "unreached" / "pixi.toml", '[package.build]\nbackend = { name = "never" }\n')

    found = read_declarations([workspace])
    # a and b differ only by source: both are kept; the same manifest given twice is not.
    assert [(d.name, Path(d.source)) for d in found] == [
        ("pixi-build-python", a),
        ("pixi-build-python", tmp_path / "b" / "pixi.toml"),
        ("pixi-build-rust", c),
    ]
    assert all(d.channels == (CF,) and d.base == tmp_path for d in found)
    # a and b are one request later (plan merges equal requests and keeps every source).
    assert found[0]._replace(source="") == found[1]._replace(source="")
    assert read_declarations([tmp_path, workspace, a]) == found


def test_identical_declarations_are_deduplicated(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pixi.toml", '[package.build]\nbackend = { name = "pixi-build-python" }\n'
    )
    assert len(read_declarations([manifest, tmp_path, tmp_path / "." / "pixi.toml"])) == 1


def test_workspace_without_packages(tmp_path: Path) -> None:
    manifest = write(tmp_path / "pixi.toml", '[workspace]\npreview = ["pixi-build"]\n')
    write(tmp_path / "a" / "pixi.toml", '[package]\nname = "a"\n')
    fails(manifest, "no [package.build] section and no source dependencies")


# --- pyproject.toml -------------------------------------------------------------------------


def test_pyproject_forms(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pyproject.toml",
        '[project]\npreview = ["pixi-build"]\nname = "x"\n'
        '[tool.pixi.workspace]\npreview = ["pixi-build"]\nchannels = ["conda-forge"]\n'
        '[tool.pixi.workspace.dependencies]\npixi-build-python = "0.8.*"\n'
        "[tool.pixi.package.build]\n"
        'backend = { name = "pixi-build-python", workspace = true, channels = ["a"] }\n'
        'additional-dependencies = { uv = { version = "0.5.*" } }\n',
    )
    assert read_one(manifest) == Declaration(
        name="pixi-build-python",
        spec="pixi-build-python 0.8.*",
        channels=("a",),
        additional_dependencies=("uv 0.5.*",),
        source=str(manifest),
        base=tmp_path,
        workspace=tmp_path,
    )
    assert read_one(tmp_path) == read_one(manifest)


def test_pyproject_channels_from_workspace(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pyproject.toml",
        '[tool.pixi.project]\npreview = ["pixi-build"]\nchannels = ["conda-forge"]\n'
        '[tool.pixi.package.build.backend]\nname = "pixi-build-python"\n',
    )
    assert read_one(manifest).channels == ("conda-forge",)


def test_pyproject_without_pixi_table(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pyproject.toml", '[project]\npreview = ["pixi-build"]\nname = "x"\n'
    )
    fails(manifest, "[tool.pixi]")
    fails(tmp_path, "pixi.toml")  # a folder with nothing for Pixi


def test_pyproject_without_build_section(tmp_path: Path) -> None:
    manifest = write(tmp_path / "pyproject.toml", '[tool.pixi.package]\nname = "x"\n')
    fails(manifest, "[tool.pixi.package.build]", "missing")


# --- find_manifest ------------------------------------------------------------------------


def test_find_manifest_searches_upward(tmp_path: Path) -> None:
    manifest = write(tmp_path / "pixi.toml", '[workspace]\npreview = ["pixi-build"]\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    write(
        tmp_path / "a" / "pyproject.toml",
        '[project]\npreview = ["pixi-build"]\nname = "not pixi"\n',
    )
    assert find_manifest(deep) == manifest


def test_find_manifest_prefers_pixi_toml(tmp_path: Path) -> None:
    pyproject = write(
        tmp_path / "pyproject.toml", '[tool.pixi.workspace]\npreview = ["pixi-build"]\n'
    )
    assert find_manifest(tmp_path) == pyproject
    pixi = write(tmp_path / "pixi.toml", '[workspace]\npreview = ["pixi-build"]\n')
    assert find_manifest(tmp_path) == pixi


def test_find_manifest_takes_pyproject_with_pixi_table(tmp_path: Path) -> None:
    pyproject = write(
        tmp_path / "pyproject.toml", '[tool.pixi.workspace]\npreview = ["pixi-build"]\n'
    )
    assert find_manifest(tmp_path / "sub") == pyproject


def test_find_manifest_finds_nothing(tmp_path: Path) -> None:
    with pytest.raises(UserInputError) as info:
        find_manifest(tmp_path)
    assert str(info.value) == (
        f"{tmp_path}: no pixi.toml, pyproject.toml with [tool.pixi] or mojoproject.toml here or "
        "in any parent folder"
    )
    assert info.value.exit_code == 2


# --- errors -------------------------------------------------------------------------------

BAD = [
    ("[package.build\n", "invalid TOML", "line 1"),
    ('[package.build]\nbackend = "pixi-build-python"\n', "package.build.backend", "table"),
    ('[package.build]\nbackend = { version = "1" }\n', "package.build.backend.name", "missing"),
    ("[package.build]\nbackend = { name = 3 }\n", "package.build.backend.name", "string"),
    ('[package.build]\nbackend = { name = "a b" }\n', "package.build.backend.name", "a b"),
    ('[package.build]\nbackend = { name = "c::x" }\n', "package.build.backend.name", "c::x"),
    ('[package.build]\nbackend = { name = "x", version = 1 }\n', "backend.version", "string"),
    ('[package.build]\nbackend = { name = "x", workspace = 1 }\n', "backend.workspace", "bool"),
    ('[package.build]\nbackend = { name = "x", path = "." }\n', "backend.path", "source dep"),
    ('[package.build]\nbackend = { name = "x", channels = [] }\n', "backend.channels", "no"),
    ('[package.build]\nbackend = { name = "x" }\nchannels = [1]\n', "channels[0]", "string"),
    ('[package.build]\nbackend = { name = "x" }\nchannels = "c"\n', "build.channels", "array"),
    ("[package]\nbuild = 3\n", "package.build", "table"),
    ("package = 3\n", "package", "table"),
    ("[package]\n", "[package.build]", "missing"),
    (
        '[package.build]\nbackend = { name = "x" }\nadditional-dependencies = { uv = 1 }\n',
        "package.build.additional-dependencies.uv",
        "table",
    ),
    (
        '[package.build]\nbackend = { name = "x" }\nadditional-dependencies = { "u v" = "*" }\n',
        'additional-dependencies."u v"',
        "package name",
    ),
    (
        '[workspace]\npreview = ["pixi-build"]\nchannels = [{ priority = 1 }]\n[package.build]\nbackend = { name = "x" }\n',
        "workspace.channels[0].channel",
        "missing",
    ),
    (
        '[workspace]\npreview = ["pixi-build"]\ndependencies = 1\n'
        '[package.build]\nbackend = { name = "x", workspace = true }\n',
        "workspace.dependencies",
        "table",
    ),
]


@pytest.mark.parametrize(("text", "key", "what"), BAD)
def test_bad_manifest(tmp_path: Path, text: str, key: str, what: str) -> None:
    fails(write(tmp_path / "pixi.toml", text), key, what)


def test_pyproject_errors_name_the_full_key(tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "pyproject.toml", "[tool.pixi.package.build]\nbackend = { name = 1 }\n"
    )
    fails(manifest, "tool.pixi.package.build.backend.name", "string")
    write(manifest, "tool = 1\n")
    fails(manifest, "tool: expected a table")
    write(manifest, "[tool]\npixi = 1\n")
    fails(manifest, "tool.pixi: expected a table")


def test_missing_file(tmp_path: Path) -> None:
    fails(tmp_path / "nope" / "pixi.toml", "no such file")


def test_not_a_manifest(tmp_path: Path) -> None:
    fails(write(tmp_path / "notes.txt", "x: 1\n"), "not a supported manifest")


def test_not_utf8(tmp_path: Path) -> None:
    manifest = tmp_path / "pixi.toml"
    manifest.write_bytes(b'[package.build]\nbackend = { name = "\xff" }\n')
    fails(manifest, "UTF-8")


def test_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = write(tmp_path / "pixi.toml", "")

    def deny(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", deny)
    fails(manifest, "cannot read", "Permission denied")


def test_invalid_toml_names_line_and_column(tmp_path: Path) -> None:
    manifest = write(tmp_path / "pixi.toml", '[package.build]\nbackend = { name = "x" = 1 }\n')
    fails(manifest, "invalid TOML", "line 2, column")


# --- plugins ------------------------------------------------------------------------------


def test_plugin_manager_has_the_built_in_readers() -> None:
    pm = plugin_manager()
    assert pm is plugin_manager()
    names = [impl.function.__name__ for impl in pm.hook.cpb_discover_source.get_hookimpls()]
    # pluggy calls the last one first: Pixi manifests, then recipes, then ROS packages.
    assert names[-3:] == ["discover_ros_package", "discover_recipe", "discover_pixi_manifest"]


def test_a_plugin_reader_takes_its_own_kind(tmp_path: Path) -> None:
    """A site's own kind of source: a `BUILD.site` file naming its backend."""
    from conda_pixi_backends.discovery import DiscoveryContext, SourcePackage

    source = write(tmp_path / "BUILD.site", "pixi-build-site 1.*\n")

    class SiteReader:
        @hookimpl
        def cpb_discover_source(
            self, path: Path, context: DiscoveryContext
        ) -> SourcePackage | None:
            if path.name != "BUILD.site":
                return None
            name, version = path.read_text().split()
            backend = Declaration(name, f"{name} {version}", source=str(path))
            return SourcePackage(path, backend)

    workspace = write(
        tmp_path / "ws" / "pixi.toml",
        '[workspace]\npreview = ["pixi-build"]\nchannels = ["conda-forge"]\n'
        '[dependencies]\nsite = { path = "../BUILD.site" }\n',
    )
    plugin = SiteReader()
    plugin_manager().register(plugin)
    try:
        (found,) = read_declarations([workspace])
        assert (found.name, found.spec, found.source) == (
            "pixi-build-site",
            "pixi-build-site 1.*",
            str(source),
        )
        assert found.workspace == tmp_path / "ws"
    finally:
        plugin_manager().unregister(plugin)
    fails(source, "not a supported manifest")


SITE_READER = """
from pathlib import Path

from conda_pixi_backends.discovery import SourcePackage
from conda_pixi_backends.hooks import hookimpl
from conda_pixi_backends.model import Declaration


@hookimpl
def cpb_discover_source(path, context):
    if path.name != "BUILD.site":
        return None
    name, version = path.read_text().split()
    return SourcePackage(path, Declaration(name, f"{name} {version}", source=str(path)))
"""


@pytest.mark.parametrize("announced", [True, False])
def test_a_site_reader_announced_by_entry_point(tmp_path: Path, announced: bool) -> None:
    """A site's reader installed as a distribution with a `conda_pixi_backends` entry point
    is loaded by the console script; without the entry point it is not."""
    import os
    import subprocess
    import sys

    site = tmp_path / "site-packages"
    write(site / "site_reader.py", SITE_READER)
    entry_points = "[conda_pixi_backends]\nsite = site_reader\n" if announced else "[x]\n"
    write(site / "site_reader-1.0.dist-info" / "METADATA", "Name: site-reader\nVersion: 1.0\n")
    write(site / "site_reader-1.0.dist-info" / "entry_points.txt", entry_points)
    source = write(tmp_path / "BUILD.site", "pixi-build-site 1.*\n")
    env = {**os.environ, "PYTHONPATH": str(site), "CONDA_PIXI_BACKENDS_ROOT": str(tmp_path / "s")}
    proc = subprocess.run(
        [sys.executable, "-m", "conda_pixi_backends", "install", "--dry-run", "--json",
         "-m", str(source)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    if announced:
        assert proc.returncode == 0, proc.stderr
        (row,) = json.loads(proc.stdout)["backends"]
        assert (row["name"], row["spec"], row["status"]) == (
            "pixi-build-site", "pixi-build-site 1.*", "would-install"
        )  # fmt: skip
    else:
        assert proc.returncode == 2 and "not a supported manifest" in proc.stderr


# --- property: nothing but UserInputError escapes ---------------------------------------------


def to_toml(value: object) -> str:
    """Any value as inline TOML (keys and strings quoted JSON-style, which TOML accepts)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{to_toml(k)} = {to_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(to_toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def optional(**fields: st.SearchStrategy[object]) -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries({}, optional=fields)


KEYS = st.sampled_from(["pixi-build-python", "uv", "version", "channel", "workspace"]) | st.text()
LEAF = st.one_of(
    st.sampled_from(["pixi-build-python", "0.8.*", "*", "a::b", "", "./c", " x y "]),
    st.text(max_size=8),
    st.integers(),
    st.booleans(),
)
ANY = st.recursive(
    LEAF, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3)
)
NAME = st.sampled_from(["pixi-build-python", "uv", "X.y_z"]) | LEAF
BACKEND = optional(
    name=NAME,
    version=LEAF,
    workspace=st.booleans() | LEAF,
    channels=ANY,
    path=LEAF,
    **{"additional-dependencies": ANY},
)
BUILD = optional(backend=BACKEND, channels=ANY, **{"additional-dependencies": ANY})
WORKSPACE = optional(
    channels=ANY, dependencies=st.dictionaries(NAME.filter(lambda n: isinstance(n, str)), ANY) | ANY
)
#: Valid TOML shaped like a manifest, with wrong types and odd values anywhere.
MANIFESTS = optional(
    package=optional(build=BUILD), workspace=WORKSPACE | LEAF, project=WORKSPACE
).map(lambda doc: "".join(f"{to_toml(k)} = {to_toml(v)}\n" for k, v in doc.items()))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), MANIFESTS))
def test_anything_reads_or_fails_cleanly(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        manifest = Path(folder) / "pixi.toml"
        manifest.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            found = read_declarations([manifest])
        except UserInputError as e:
            assert e.exit_code == 2
            assert "\n" not in str(e)
        else:
            assert all(isinstance(d, Declaration) for d in found)
