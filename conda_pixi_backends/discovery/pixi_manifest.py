"""Pixi manifests (pixi.toml, pyproject.toml's `[tool.pixi]`, mojoproject.toml), read as Pixi
reads them: the package's build backend and the source dependencies Pixi builds with it.

The rules follow Pixi's `pixi_manifest` crate: `backend.channels` wins over the build
section's `channels`, which wins over the workspace's channels (highest `priority` first);
`backend.additional-dependencies` wins over the build section's; `workspace = true` takes the
spec from `[workspace.dependencies]`, and the member may add fields but not `version` or a
location; every MatchSpec field of the backend table is kept; unknown keys are errors, as are
backends from source. TOML is read with tomli, which accepts TOML 1.1 like Pixi's parser.
"""

from __future__ import annotations

import functools
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli

from conda_pixi_backends.discovery.sources import (
    DiscoveryContext,
    SourceDependency,
    SourcePackage,
)
from conda_pixi_backends.errors import UserInputError
from conda_pixi_backends.hooks import hookimpl
from conda_pixi_backends.model import (
    Declaration,
    normalize_channel,
    normalize_spec,
    spec_from_parts,
)

PIXI_TOML = "pixi.toml"
PYPROJECT_TOML = "pyproject.toml"
MOJOPROJECT_TOML = "mojoproject.toml"
#: The manifest files of a folder, in the order Pixi prefers them.
MANIFEST_NAMES = (PIXI_TOML, PYPROJECT_TOML, MOJOPROJECT_TOML)

#: The keys of `[package]` (Pixi's `TomlPackage`).
PACKAGE_KEYS = (
    "name", "version", "description", "authors", "license", "license-file", "readme",
    "homepage", "repository", "documentation", "host-dependencies", "build-dependencies",
    "run-dependencies", "extra-dependencies", "run-constraints", "run-exports", "publish",
    "build", "target",
)  # fmt: skip
#: The keys of `[package.build]` (Pixi's `TomlPackageBuild`; `configuration` is the old name
#: of `config`, accepted and not listed).
BUILD_KEYS = (
    "backend", "channels", "additional-dependencies", "source", "flags", "config", "target",
    "build-string-prefix", "build-number", "secrets",
)  # fmt: skip
#: The keys of a spec table (Pixi's `TomlSpec`) mapped to MatchSpec bracket keys; None for
#: the keys handled apart (`version`, and the locations).
SPEC_KEYS: dict[str, str | None] = {
    "version": None, "url": None, "path": None, "git": None, "branch": None, "rev": None,
    "tag": None, "lfs": None, "subdirectory": None,
    "build": "build", "build-number": "build_number", "file-name": "fn", "channel": "channel",
    "subdir": "subdir", "license": "license", "license-family": "license_family",
    "md5": "md5", "sha256": "sha256", "extras": "extras", "flags": "flags", "when": "when",
    "track-features": "track_features",
}  # fmt: skip
#: The keys a backend table has besides the spec's.
BACKEND_KEYS = ("name", "channels", "additional-dependencies", "workspace")
#: Where a workspace declares source dependencies (Pixi refuses them in its host and build
#: tables once `pixi-build` is on); `dev` packages are not built, but Pixi asks their backend
#: for their dependencies.
WORKSPACE_TABLES = ("dependencies", "dev")
#: Where a package declares them; each may hold `"if(...)"` tables of conditional ones.
PACKAGE_TABLES = ("build-dependencies", "host-dependencies", "run-dependencies")
PREVIEW = "pixi-build"
#: The keys of a channel table in a workspace's `channels`.
CHANNEL_KEYS = ("channel", "priority", "exclude-newer")
#: The file names of conda packages: a `path` or `url` naming one is a binary, not a source.
ARCHIVES = (".conda", ".tar.bz2")

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_KINDS: dict[type, str] = {
    dict: "a table", str: "a string", bool: "a boolean", list: "an array", int: "an integer",
}  # fmt: skip


@dataclass(frozen=True)
class Manifest:
    """One parsed manifest: its Pixi table and the prefix that error messages need for keys."""

    path: Path
    root: dict[str, Any]
    prefix: str  # "" in a pixi.toml, "tool.pixi." in a pyproject.toml

    def error(self, key: str, message: str) -> UserInputError:
        return UserInputError(f"{self.path}: {self.prefix}{key}: {message}")

    def where(self, key: str) -> str:
        return f"{self.path}: {self.prefix}{key}"

    def get(self, key: str, kind: type) -> Any:
        """The value at a dotted key, or None when absent; a wrong type anywhere is an error."""
        return self.check(key, self.lookup(self.root, key), kind)

    def lookup(self, table: dict[str, Any], key: str) -> Any:
        value: Any = table
        parts = key.split(".")
        for i, part in enumerate(parts):
            value = value.get(part)
            if value is None:
                return None
            if i < len(parts) - 1 and not isinstance(value, dict):
                raise self.error(".".join(parts[: i + 1]), "expected a table")
        return value

    def check(self, key: str, value: Any, kind: type) -> Any:
        if value is not None and (
            not isinstance(value, kind) or (kind is int and isinstance(value, bool))
        ):
            raise self.error(key, f"expected {_KINDS[kind]}")
        return value

    def channel(self, key: str, value: Any) -> str:
        """A channel as written, checked here so that a bad one names this file and key (its
        URL is made later, when the workspace root and the settings are known)."""
        channel = self.check(key, value, str)
        if channel is None:
            raise self.error(key, "missing")
        normalize_channel(channel, self.path.parent, what=self.where(key))
        return channel

    def has_workspace(self) -> bool:
        """`[workspace]`, or its legacy name `[project]`, makes a manifest a workspace's root."""
        return self.get("workspace", dict) is not None or self.get("project", dict) is not None

    def has_package(self) -> bool:
        return self.get("package", dict) is not None


def load(path: Path) -> Manifest | None:
    """Parse one manifest; None for a pyproject.toml that has nothing for Pixi.

    A command reads the same manifests more than once (finding the workspace, walking it): the
    parse is kept per path while the file's size and modification time stay the same."""
    try:
        info = os.stat(path)
    except OSError:
        info = None
    if info is None or not stat.S_ISREG(info.st_mode):
        return _load(path, 0, -1)  # not cached: read_text says what is wrong with it
    return _load(path, info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=256)
def _load(path: Path, mtime_ns: int, size: int) -> Manifest | None:
    from conda_pixi_backends.discovery import read_text

    try:
        doc = tomli.loads(read_text(path))
    except tomli.TOMLDecodeError as e:
        raise UserInputError(f"{path}: invalid TOML: {e}") from None
    except RecursionError:
        raise UserInputError(f"{path}: invalid TOML: nested too deeply") from None
    if path.name != PYPROJECT_TOML:
        return Manifest(path, doc, "")
    tool = Manifest(path, doc, "").get("tool", dict) or {}
    pixi = Manifest(path, tool, "tool.").get("pixi", dict)
    return None if pixi is None else Manifest(path, pixi, "tool.pixi.")


def manifest_in(folder: Path) -> Manifest | None:
    """A folder's manifest, as Pixi picks it: pixi.toml, else a pyproject.toml with
    `[tool.pixi]`, else mojoproject.toml."""
    for name in MANIFEST_NAMES:
        if os.path.isfile(folder / name):
            manifest = load(folder / name)
            if manifest is not None:
                return manifest
    return None


def workspace_of(manifest: Manifest) -> Manifest | None:
    """The manifest itself if it is a workspace's root, else the nearest one above it."""
    if manifest.has_workspace():
        return manifest
    for folder in manifest.path.parent.parents:
        candidate = manifest_in(folder)
        if candidate is not None and candidate.has_workspace():
            return candidate
    return None


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
        _check_keys(manifest, "package", manifest.get("package", dict), PACKAGE_KEYS)
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


def declaration(manifest: Manifest, key: str, build: dict[str, Any]) -> Declaration:
    """The backend of a build section at `key` (`package.build`, or an inline package's)."""
    _check_keys(manifest, key, build, (*BUILD_KEYS, "configuration"))
    backend_key = f"{key}.backend"
    backend = manifest.check(backend_key, build.get("backend"), dict)
    if backend is None:
        raise manifest.error(backend_key, 'missing: name one, e.g. { name = "pixi-build-python" }')
    _check_keys(manifest, backend_key, backend, (*BACKEND_KEYS, *SPEC_KEYS))
    raw_name = manifest.check(f"{backend_key}.name", backend.get("name"), str)
    if raw_name is None:
        raise manifest.error(f"{backend_key}.name", "missing: name the build backend")
    name = _package_name(manifest, f"{backend_key}.name", raw_name)
    spec = _backend_spec(manifest, backend_key, backend, name)

    dependencies = _dependencies(manifest, backend_key, backend)
    if not dependencies:
        dependencies = _dependencies(manifest, key, build)
    channels = _channels(manifest, backend_key, backend)
    if channels is None:
        channels = _channels(manifest, key, build)
    workspace = workspace_of(manifest)
    if channels is None and workspace is not None:
        channels = workspace_channels(workspace)
    return Declaration(
        name=name,
        spec=spec,
        channels=channels or (),
        additional_dependencies=tuple(dependencies),
        source=str(manifest.path),
        base=(workspace or manifest).path.parent,
    )


def _check_keys(
    manifest: Manifest, key: str, table: dict[str, Any], known: tuple[str, ...]
) -> None:
    """Pixi refuses a manifest with an unknown key in these tables; so do we, as it says it."""
    for name in table:
        if name not in known:
            import difflib  # only to say what was meant

            listed = [k for k in known if k != "configuration"]
            close = difflib.get_close_matches(name, listed, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            expected = ", ".join(f"'{k}'" for k in listed)
            raise manifest.error(
                _subkey(key, name), f"unexpected key; {hint}expected only {expected}"
            )


def _package_name(manifest: Manifest, key: str, raw: str) -> str:
    text = " ".join(raw.split())  # so that every message stays on one line
    name, _ = normalize_spec(text, manifest.where(key))
    if name != text.lower():
        raise manifest.error(
            key, f"{json.dumps(raw)} is not a package name (put versions in 'version')"
        )
    return name


def _subkey(key: str, name: str) -> str:
    """`key.name`, with `name` quoted as TOML would need it (`"ruamel.yaml"`)."""
    return f"{key}.{name if _BARE_KEY.fullmatch(name) else json.dumps(name)}"


def is_archive(location: str) -> bool:
    """Whether a `path` or `url` names a conda package file (a binary) rather than a source."""
    return location.split("?")[0].split("#")[0].rstrip("/").endswith(ARCHIVES)


def _backend_spec(manifest: Manifest, key: str, backend: dict[str, Any], name: str) -> str:
    """The backend's MatchSpec, following `workspace = true` as Pixi does: the workspace entry
    owns the version and the location, and the member may add the other fields."""
    inherit = manifest.check(f"{key}.workspace", backend.get("workspace"), bool)
    fields = {k: v for k, v in backend.items() if k in SPEC_KEYS}
    if inherit is False:
        raise manifest.error(
            f"{key}.workspace", "cannot be false; inheritance from the workspace is opt-in"
        )
    if inherit:
        for owned in ("version", "path", "git", "url"):
            if owned in fields:
                raise manifest.error(key, f"'{owned}' is mutually exclusive with 'workspace'")
        entry_manifest, entry_key, entry = _workspace_entry(manifest, key, name)
        base = _fields(entry_manifest, entry_key, entry, name)
        fields = {**base, **_fields(manifest, key, fields, name)}
        return _spec(manifest, key, name, fields)
    return _spec(manifest, key, name, _fields(manifest, key, fields, name))


def _workspace_entry(manifest: Manifest, key: str, name: str) -> tuple[Manifest, str, Any]:
    """The `[workspace.dependencies]` entry a `workspace = true` backend inherits."""
    workspace = workspace_of(manifest)
    if workspace is None:
        raise manifest.error(
            key,
            f"workspace = true, but no workspace manifest in {manifest.path.parent} "
            "or any parent folder",
        )
    table = workspace.get("workspace.dependencies", dict) or {}
    found = [(k, v) for k, v in table.items() if k.lower() == name]
    if not found:
        raise workspace.error(
            _subkey("workspace.dependencies", name), f"missing, but {manifest.path} asks for it"
        )
    entry_key, entry = _subkey("workspace.dependencies", found[0][0]), found[0][1]
    if isinstance(entry, str):
        return workspace, entry_key, {"version": entry}
    workspace.check(entry_key, entry, dict)
    if "workspace" in entry:
        raise workspace.error(f"{entry_key}.workspace", "a workspace entry cannot inherit itself")
    _check_keys(workspace, entry_key, entry, tuple(SPEC_KEYS))
    return workspace, entry_key, entry


def _fields(manifest: Manifest, key: str, table: dict[str, Any], name: str) -> dict[str, Any]:
    """A spec table's fields, type-checked; a source location is refused, a binary archive's
    `path` becomes its `url`."""
    fields: dict[str, Any] = {}
    for field, value in table.items():
        if field not in SPEC_KEYS:
            continue
        kind = list if field in ("extras", "flags", "track-features") else str
        if field == "lfs":
            kind = bool
        fields[field] = manifest.check(f"{key}.{field}", value, kind)
    location = next((k for k in ("git", "path", "url") if k in fields), None)
    if location == "git" or (location and not is_archive(fields[location])):
        raise manifest.error(
            f"{key}.{location}", "build backends cannot be defined as source dependencies"
        )
    if location == "path":
        path = Path(os.path.expanduser(fields.pop("path")))
        fields["url"] = (manifest.path.parent / path).resolve().as_uri()
    return fields


def _spec(manifest: Manifest, key: str, name: str, fields: dict[str, Any]) -> str:
    """The MatchSpec of a name and its spec fields, checked lightly (py-rattler checks fully
    before anything is solved)."""
    version = fields.get("version")
    brackets: dict[str, str] = {}
    for field, value in fields.items():
        target = SPEC_KEYS.get(field) or ("url" if field == "url" else None)
        if target is None:
            continue
        text = "[" + ",".join(value) + "]" if isinstance(value, list) else str(value)
        if any(c in text for c in '"\n'):
            raise manifest.error(f"{key}.{field}", f"{json.dumps(text)} cannot hold '\"'")
        if target == "channel":
            normalize_channel(text, manifest.path.parent, what=manifest.where(f"{key}.{field}"))
        brackets[target] = text
    text = spec_from_parts(name, " ".join((version or "").split()), brackets)
    return normalize_spec(text, manifest.where(key))[1]


def _dependencies(manifest: Manifest, key: str, table: dict[str, Any]) -> list[str]:
    """The `additional-dependencies` of the table at `key`, `{ name = "spec" }` or
    `{ name = { version = "spec", ... } }`, as MatchSpec strings."""
    specs = []
    key = f"{key}.additional-dependencies"
    for raw_name, value in (
        manifest.check(key, table.get("additional-dependencies"), dict) or {}
    ).items():
        entry_key = _subkey(key, raw_name)
        name = _package_name(manifest, entry_key, raw_name)
        if isinstance(value, str):
            value = {"version": value}
        manifest.check(entry_key, value, dict)
        if value.get("workspace") is True:
            entry_manifest, inherited_key, entry = _workspace_entry(manifest, entry_key, name)
            fields = _fields(entry_manifest, inherited_key, entry, name)
        else:
            _check_keys(manifest, entry_key, value, tuple(SPEC_KEYS))
            fields = _fields(manifest, entry_key, value, name)
        specs.append(_spec(manifest, entry_key, name, fields))
    return specs


def _channels(manifest: Manifest, key: str, table: dict[str, Any]) -> tuple[str, ...] | None:
    """The `channels` of the table at `key` as written; None when absent. Pixi rejects an
    empty list."""
    key = f"{key}.channels"
    channels = manifest.check(key, table.get("channels"), list)
    if channels is None:
        return None
    if not channels:
        raise manifest.error(key, "no channels: name at least one, or remove the key")
    return tuple(manifest.channel(f"{key}[{i}]", c) for i, c in enumerate(channels))


def workspace_channels(workspace: Manifest) -> tuple[str, ...]:
    """The workspace's channels, highest `priority` first (a stable sort, as Pixi's)."""
    for key in ("workspace.channels", "project.channels"):
        channels = workspace.get(key, list)
        if channels is None:
            continue
        ranked: list[tuple[int, str]] = []
        for i, item in enumerate(channels):
            item_key = f"{key}[{i}]"
            if isinstance(item, str):
                ranked.append((0, workspace.channel(item_key, item)))
                continue
            workspace.check(item_key, item, dict)
            _check_keys(workspace, item_key, item, CHANNEL_KEYS)
            channel = workspace.channel(f"{item_key}.channel", item.get("channel"))
            priority = workspace.check(f"{item_key}.priority", item.get("priority", 0), int)
            # Checked, not applied: py-rattler's solve takes one cutoff for all channels.
            _cutoff(workspace, f"{item_key}.exclude-newer", item.get("exclude-newer"))
            ranked.append((priority, channel))
        return tuple(channel for _, channel in sorted(ranked, key=lambda r: -r[0]))
    return ()


def exclude_newer(workspace: Manifest) -> str | None:
    """The workspace's `exclude-newer` cutoff, checked: a duration, a date or a timestamp."""
    for key in ("workspace.exclude-newer", "project.exclude-newer"):
        value = _cutoff(workspace, key, workspace.get(key, str))
        if value is not None:
            return value
    return None


def _cutoff(manifest: Manifest, key: str, value: Any) -> str | None:
    from conda_pixi_backends.discovery import parse_cutoff

    if value is None:
        return None
    try:
        return parse_cutoff(manifest.check(key, value, str))
    except ValueError as exc:
        raise manifest.error(key, str(exc)) from None


def _workspace_tables(manifest: Manifest) -> Iterator[str]:
    """The dependency tables of a workspace: its own, its targets', its features' (and their
    targets'). A manifest that is not a workspace's root has none."""
    if not manifest.has_workspace():
        return
    yield from _with_targets(manifest, "", WORKSPACE_TABLES)
    for feature in manifest.get("feature", dict) or {}:
        yield from _with_targets(manifest, f"{_subkey('feature', feature)}.", WORKSPACE_TABLES)


def _package_tables(manifest: Manifest) -> Iterator[str]:
    """A package's host, build and run dependencies: plain, conditional (`"if(...)"`), per
    target (the legacy form), and the extra groups."""
    if not manifest.has_package():
        return
    for key in _with_targets(manifest, "package.", PACKAGE_TABLES):
        yield key
        for name, value in _table_at(manifest, key).items():
            if name.startswith("if(") and isinstance(value, dict):
                yield _subkey(key, name)
    for group in _table_at(manifest, "package.extra-dependencies"):
        yield _subkey("package.extra-dependencies", group)


def _with_targets(manifest: Manifest, prefix: str, tables: tuple[str, ...]) -> Iterator[str]:
    for table in tables:
        yield f"{prefix}{table}"
    for selector in _table_at(manifest, f"{prefix}target"):
        for table in tables:
            yield f"{prefix}{_subkey('target', selector)}.{table}"


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
            entry_key = _subkey(key, raw_name)
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
        _check_keys(manifest, f"{key}.package", inline, PACKAGE_KEYS)
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
