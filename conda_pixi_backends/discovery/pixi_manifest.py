"""The built-in reader of Pixi manifests (pixi.toml, pyproject.toml's `[tool.pixi]`,
mojoproject.toml): the package's build backend and the source dependencies Pixi builds with it.

A package's host, build and run dependencies (plain, `"if(...)"`, per target, extra groups)
are followed wherever Pixi is run; a workspace's own dependency tables (features and targets
included) count only where it is the workspace being run, and only they may define a package
inline. Parsing and key checks are in `manifest.py`, the backend tables in `build_backend.py`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conda_pixi_backends.discovery.build_backend import declaration, is_archive
from conda_pixi_backends.discovery.manifest import (
    MANIFEST_NAMES,
    Manifest,
    check_keys,
    load,
    manifest_in,
    subkey,
    workspace_of,
)
from conda_pixi_backends.discovery.sources import (
    DiscoveryContext,
    SourceDependency,
    SourcePackage,
)
from conda_pixi_backends.errors import UserInputError
from conda_pixi_backends.hooks import hookimpl

#: The keys of `[package]` (Pixi's `TomlPackage`).
PACKAGE_KEYS = (
    "name", "version", "description", "authors", "license", "license-file", "readme",
    "homepage", "repository", "documentation", "host-dependencies", "build-dependencies",
    "run-dependencies", "extra-dependencies", "run-constraints", "run-exports", "publish",
    "build", "target",
)  # fmt: skip
#: Where a workspace declares source dependencies (Pixi refuses them in its host and build
#: tables once `pixi-build` is on); `dev` packages are not built, but Pixi asks their backend
#: for their dependencies.
WORKSPACE_TABLES = ("dependencies", "dev")
#: Where a package declares them; each may hold `"if(...)"` tables of conditional ones.
PACKAGE_TABLES = ("build-dependencies", "host-dependencies", "run-dependencies")
PREVIEW = "pixi-build"


@hookimpl(specname="cpb_discover_source")
def discover_pixi_manifest(path: Path, context: DiscoveryContext) -> SourcePackage | None:
    """The built-in reader for Pixi manifests: a folder holding one, or the file itself."""
    if os.path.isdir(path):
        manifest = manifest_in(path)
    elif path.name in MANIFEST_NAMES:
        manifest = load(path)
        if manifest is None:
            raise UserInputError(f"{path}: no [tool.pixi] table: not a Pixi manifest")
    else:
        return None
    if manifest is None:
        return None
    return describe(manifest)


def describe(manifest: Manifest) -> SourcePackage:
    """The package a manifest describes, and the source dependencies of its tables."""
    backend = None
    workspace = workspace_of(manifest)
    if manifest.has_package():
        check_keys(manifest, "package", manifest.get("package", dict), PACKAGE_KEYS)
        if workspace is not None and not preview_enabled(workspace):
            raise manifest.error(
                "package",
                f"a [package] is only allowed when the '{PREVIEW}' preview is enabled in "
                f"{workspace.path} (as Pixi says: run `pixi workspace preview add {PREVIEW}`)",
            )
        if manifest.get("package.build", dict) is None:
            raise manifest.error(
                "package.build",
                f"missing: a [{manifest.prefix}package] needs a [{manifest.prefix}package.build] "
                "section naming its backend",
            )
        backend = declaration(manifest, "package.build", manifest.get("package.build", dict))
    dependencies = tuple(_source_dependencies(manifest, _package_tables(manifest), inline=False))
    own = tuple(_source_dependencies(manifest, _workspace_tables(manifest), inline=True))
    if own and not preview_enabled(manifest):
        raise UserInputError(
            f"{own[0].where}: source dependencies are only allowed when the '{PREVIEW}' preview "
            f"is enabled (as Pixi says: run `pixi workspace preview add {PREVIEW}`)"
        )
    return SourcePackage(manifest.path, backend, dependencies, own)


def preview_enabled(workspace: Manifest) -> bool:
    """Whether a workspace enables Pixi's `pixi-build` preview: `preview = ["pixi-build"]`, or
    a boolean (Pixi takes `true`, and also `false`, as "all previews")."""
    for key in ("workspace.preview", "project.preview"):
        value = workspace.lookup(workspace.root, key)
        if isinstance(value, bool):
            return True
        if isinstance(value, list):
            return PREVIEW in value
    return False


def _workspace_tables(manifest: Manifest) -> Iterator[str]:
    """The dependency tables of a workspace: its own, its targets', its features' (and their
    targets'). A manifest that is not a workspace's root has none."""
    if not manifest.has_workspace():
        return
    yield from _with_targets(manifest, "", WORKSPACE_TABLES)
    for feature in manifest.get("feature", dict) or {}:
        yield from _with_targets(manifest, f"{subkey('feature', feature)}.", WORKSPACE_TABLES)


def _package_tables(manifest: Manifest) -> Iterator[str]:
    """A package's host, build and run dependencies: plain, conditional (`"if(...)"`), per
    target (the legacy form), and the extra groups."""
    if not manifest.has_package():
        return
    for key in _with_targets(manifest, "package.", PACKAGE_TABLES):
        yield key
        for name, value in _table_at(manifest, key).items():
            if name.startswith("if(") and isinstance(value, dict):
                yield subkey(key, name)
    for group in _table_at(manifest, "package.extra-dependencies"):
        yield subkey("package.extra-dependencies", group)


def _with_targets(manifest: Manifest, prefix: str, tables: tuple[str, ...]) -> Iterator[str]:
    for table in tables:
        yield f"{prefix}{table}"
    for selector in _table_at(manifest, f"{prefix}target"):
        for table in tables:
            yield f"{prefix}{subkey('target', selector)}.{table}"


def _source_dependencies(
    manifest: Manifest, keys: Iterator[str], *, inline: bool
) -> Iterator[SourceDependency]:
    """The entries of these dependency tables that Pixi builds from source. Inline package
    definitions are allowed only where `inline` is (a workspace's tables, as in Pixi)."""
    for key in keys:
        table = _table_at(manifest, key)
        for raw_name, spec in table.items():
            if not isinstance(spec, dict) or raw_name.startswith("if("):
                continue
            entry_key = subkey(key, raw_name)
            if not inline and "package" in spec:
                raise manifest.error(
                    f"{entry_key}.package",
                    "inline package definitions are allowed only in a workspace's dependencies",
                )
            dependency = _source_dependency(manifest, entry_key, raw_name, spec)
            if dependency is not None:
                yield dependency


def _table_at(manifest: Manifest, key: str) -> dict[str, Any]:
    """The table at a key whose parts may be quoted (`feature."a.b".dependencies`)."""
    value: Any = manifest.root
    for part in _split_key(key):
        if not isinstance(value, dict):
            return {}
        value = value.get(part)
        if value is None:
            return {}
    return manifest.check(key, value, dict) or {}


def _split_key(key: str) -> list[str]:
    return [
        json.loads(p) if p.startswith('"') else p
        for p in re.findall(r'"(?:[^"\\]|\\.)*"|[^.]+', key)
    ]


def _source_dependency(
    manifest: Manifest, key: str, name: str, spec: dict[str, Any]
) -> SourceDependency | None:
    """A source dependency, or None for a binary one. An inline `package` names its backend."""
    location = next((k for k in ("path", "git", "url") if k in spec), None)
    if location is None:
        return None
    where = manifest.check(f"{key}.{location}", spec[location], str)
    if location != "git" and is_archive(where):
        return None
    if location == "path":
        where = str(Path(os.path.normpath(manifest.path.parent / os.path.expanduser(where))))
    backend = None
    inline = manifest.check(f"{key}.package", spec.get("package"), dict)
    if inline is not None:
        check_keys(manifest, f"{key}.package", inline, PACKAGE_KEYS)
        for owned in ("name", "build.source"):
            if manifest.lookup(inline, owned) is not None:
                raise manifest.error(
                    f"{key}.package.{owned}",
                    f"an inline package definition cannot set '{owned}'; it is taken from the "
                    "dependency",
                )
        build = manifest.check(f"{key}.package.build", inline.get("build"), dict)
        if build is None:
            raise manifest.error(
                f"{key}.package.build", "missing: an inline package names its backend"
            )
        backend = declaration(manifest, f"{key}.package.build", build)
    return SourceDependency(name, location, where, manifest.where(key), backend)
