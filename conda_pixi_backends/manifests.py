"""Reading Pixi manifests (pixi.toml, pyproject.toml) into backend declarations, as Pixi does.

The rules follow Pixi's: `[package.build]` (`[tool.pixi.package.build]` in a pyproject.toml)
names the backend; `backend.channels` wins over `[package.build].channels`, which wins over the
workspace's channels; `backend.additional-dependencies` wins over the build section's;
`workspace = true` takes a version from the workspace manifest's `[workspace.dependencies]`.
TOML is read with tomli, which accepts TOML 1.1 like Pixi's parser (multi-line inline tables).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli

from conda_pixi_backends.errors import UserInputError
from conda_pixi_backends.hooks import hookimpl, plugin_manager
from conda_pixi_backends.model import (
    Declaration,
    normalize_channel,
    normalize_spec,
    spec_from_parts,
)

PIXI_TOML = "pixi.toml"
PYPROJECT_TOML = "pyproject.toml"
#: Folders never searched for workspace members: tool caches and build output.
SKIP_FOLDERS = frozenset({".pixi", "node_modules", "build", "target"})
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_KINDS: dict[type, str] = {dict: "a table", str: "a string", bool: "a boolean", list: "an array"}


@dataclass(frozen=True)
class _Manifest:
    """One parsed manifest: its Pixi table and the prefix that error messages need for keys."""

    path: Path
    root: dict[str, Any]
    prefix: str  # "" in a pixi.toml, "tool.pixi." in a pyproject.toml

    def error(self, key: str, message: str) -> UserInputError:
        return UserInputError(f"{self.path}: {self.prefix}{key}: {message}")

    def get(self, key: str, kind: type) -> Any:
        """The value at a dotted key, or None when absent; a wrong type anywhere is an error."""
        value: Any = self.root
        parts = key.split(".")
        for i, part in enumerate(parts):
            value = value.get(part)
            if value is None:
                return None
            if i < len(parts) - 1 and not isinstance(value, dict):
                raise self.error(".".join(parts[: i + 1]), "expected a table")
        return self.check(key, value, kind)

    def check(self, key: str, value: Any, kind: type) -> Any:
        if not isinstance(value, kind):
            raise self.error(key, f"expected {_KINDS[kind]}")
        return value

    def channel(self, key: str, value: Any) -> str:
        """A channel as written, checked here so that a bad one names this file and key (its
        URL is made later, when the settings' channel alias is known)."""
        channel = self.check(key, value, str)
        normalize_channel(channel, self.path.parent, what=f"{self.path}: {self.prefix}{key}")
        return channel

    def has_workspace(self) -> bool:
        """`[workspace]`, or its legacy name `[project]`, makes a manifest a workspace's root."""
        return self.get("workspace", dict) is not None or self.get("project", dict) is not None

    def no_build_section(self, extra: str = "") -> UserInputError:
        return UserInputError(
            f"{self.path}: no [{self.prefix}package.build] section{extra}: "
            "nothing names a build backend"
        )


def find_manifest(start: Path) -> Path:
    """The manifest Pixi would use from `start`: the nearest one in it or any parent folder."""
    start = Path(os.path.abspath(start))
    folder = start if os.path.isdir(start) else start.parent
    for candidate in (folder, *folder.parents):
        manifest = _manifest_in(candidate)
        if manifest is not None:
            return manifest.path
    raise UserInputError(
        f"no pixi.toml or pyproject.toml with [tool.pixi] in {start} or any parent folder"
    )


def read_declarations(paths: Iterable[Path]) -> list[Declaration]:
    """What the given manifests (files or folders) ask for, without repeats, in order."""
    found: list[Declaration] = []
    for given in paths:
        path = Path(os.path.abspath(given))
        if os.path.isdir(path):
            manifest = _manifest_in(path)
            if manifest is None:
                raise UserInputError(
                    f"{path}: no pixi.toml or pyproject.toml with [tool.pixi] here"
                )
            path = manifest.path
        elif not os.path.lexists(path):
            raise UserInputError(f"{path}: no such file or folder")
        declarations = plugin_manager().hook.cpb_read_manifest(path=path)
        if declarations is None:
            raise UserInputError(
                f"{path}: not a Pixi manifest (expected pixi.toml or pyproject.toml)"
            )
        found.extend(declarations)
    return list(dict.fromkeys(found))


@hookimpl(specname="cpb_read_manifest")
def read_pixi_toml(path: Path) -> list[Declaration] | None:
    """The built-in reader for pixi.toml."""
    if path.name != PIXI_TOML:
        return None
    return _declarations(_load(path))


@hookimpl(specname="cpb_read_manifest")
def read_pyproject_toml(path: Path) -> list[Declaration] | None:
    """The built-in reader for pyproject.toml, where everything lives under `[tool.pixi]`."""
    if path.name != PYPROJECT_TOML:
        return None
    manifest = _load(path)
    if manifest is None:
        raise UserInputError(f"{path}: no [tool.pixi] table: not a Pixi manifest")
    return _declarations(manifest)


def _load(path: Path) -> _Manifest | None:
    """Parse one manifest; None for a pyproject.toml that has nothing for Pixi."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserInputError(f"{path}: no such file") from None
    except OSError as e:
        raise UserInputError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UserInputError(f"{path}: not valid UTF-8 (byte {e.start})") from None
    try:
        doc = tomli.loads(text)
    except tomli.TOMLDecodeError as e:
        raise UserInputError(f"{path}: invalid TOML: {e}") from None
    except RecursionError:
        raise UserInputError(f"{path}: invalid TOML: nested too deeply") from None
    if path.name != PYPROJECT_TOML:
        return _Manifest(path, doc, "")
    tool = _Manifest(path, doc, "").get("tool", dict) or {}
    pixi = _Manifest(path, tool, "tool.").get("pixi", dict)
    return None if pixi is None else _Manifest(path, pixi, "tool.pixi.")


def _manifest_in(folder: Path) -> _Manifest | None:
    """A folder's manifest, as Pixi picks it: pixi.toml, else a pyproject.toml with [tool.pixi]."""
    if os.path.isfile(folder / PIXI_TOML):
        return _load(folder / PIXI_TOML)
    if os.path.isfile(folder / PYPROJECT_TOML):
        return _load(folder / PYPROJECT_TOML)
    return None


def _declarations(manifest: _Manifest) -> list[Declaration]:
    """A package's declaration; for a workspace without a package, those of its members."""
    if manifest.get("package", dict) is not None:
        if manifest.get("package.build", dict) is None:
            raise manifest.no_build_section()
        return [_declaration(manifest)]
    members = [_declaration(member) for member in _members(manifest.path.parent)]
    if not members:
        raise manifest.no_build_section(" here or in any package below its folder")
    return members


def _members(folder: Path) -> Iterator[_Manifest]:
    """The package manifests with a build section below a workspace's folder, in a stable order."""
    for current, subfolders, _files in os.walk(folder):
        subfolders[:] = sorted(
            name for name in subfolders if not name.startswith(".") and name not in SKIP_FOLDERS
        )
        if Path(current) == folder:
            continue
        manifest = _manifest_in(Path(current))
        if manifest is not None and manifest.get("package.build", dict) is not None:
            yield manifest


def _declaration(manifest: _Manifest) -> Declaration:
    key = "package.build.backend"
    backend = manifest.get(key, dict)
    if backend is None:
        raise manifest.error(key, 'missing: name one, e.g. { name = "pixi-build-python" }')
    raw_name = manifest.get(f"{key}.name", str)
    if raw_name is None:
        raise manifest.error(f"{key}.name", "missing: name the build backend")
    name = _package_name(manifest, f"{key}.name", raw_name)
    version = _version(manifest, key, backend, name)
    spec = _spec(manifest, key, name, version)

    dependencies = _dependencies(manifest, f"{key}.additional-dependencies") or _dependencies(
        manifest, "package.build.additional-dependencies"
    )
    channels = _channels(manifest, f"{key}.channels") or _channels(
        manifest, "package.build.channels"
    )
    base = manifest.path.parent
    if channels is None:
        workspace = _workspace_of(manifest)
        if workspace is not None:
            channels = _workspace_channels(workspace)
            base = workspace.path.parent
    return Declaration(
        name=name,
        spec=spec,
        channels=channels or (),
        additional_dependencies=tuple(dependencies),
        source=str(manifest.path),
        base=base,
    )


def _package_name(manifest: _Manifest, key: str, raw: str) -> str:
    text = " ".join(raw.split())  # so that every message stays on one line
    name, _ = normalize_spec(text, f"{manifest.path}: {manifest.prefix}{key}")
    if name != text.lower():
        raise manifest.error(
            key, f"{json.dumps(raw)} is not a package name (put versions in 'version')"
        )
    return name


def _spec(manifest: _Manifest, key: str, name: str, version: str | None) -> str:
    """The MatchSpec for a validated name and a version as written."""
    text = spec_from_parts(name, " ".join((version or "").split()))
    return normalize_spec(text, f"{manifest.path}: {manifest.prefix}{key}")[1]


def _subkey(key: str, name: str) -> str:
    """`key.name`, with `name` quoted as TOML would need it (`"ruamel.yaml"`)."""
    return f"{key}.{name if _BARE_KEY.fullmatch(name) else json.dumps(name)}"


def _version(manifest: _Manifest, key: str, entry: dict[str, Any], name: str) -> str | None:
    """The version of a `{ version = ... }` table, following `workspace = true`."""
    for source in ("git", "path", "url"):
        if source in entry:
            raise manifest.error(
                f"{key}.{source}", "only packages from channels are supported, not source or URLs"
            )
    inherit = manifest.check(f"{key}.workspace", entry.get("workspace", False), bool)
    version = entry.get("version")
    if version is not None:
        manifest.check(f"{key}.version", version, str)
        if inherit:
            raise manifest.error(key, "'version' and 'workspace = true' exclude each other")
    return _workspace_version(manifest, key, name) if inherit else version


def _workspace_version(manifest: _Manifest, key: str, name: str) -> str | None:
    """The version that the workspace's `[workspace.dependencies]` gives a package."""
    workspace = _workspace_of(manifest)
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
        return entry
    workspace.check(entry_key, entry, dict)
    if entry.get("workspace") is True:
        raise workspace.error(f"{entry_key}.workspace", "a workspace entry cannot inherit itself")
    return _version(workspace, entry_key, entry, name)


def _workspace_of(manifest: _Manifest) -> _Manifest | None:
    """The manifest itself if it is a workspace's root, else the nearest one above it."""
    if manifest.has_workspace():
        return manifest
    for folder in manifest.path.parent.parents:
        candidate = _manifest_in(folder)
        if candidate is not None and candidate.has_workspace():
            return candidate
    return None


def _dependencies(manifest: _Manifest, key: str) -> list[str]:
    """`{ name = "spec" }` or `{ name = { version = "spec" } }` as MatchSpec strings."""
    specs = []
    for raw_name, value in (manifest.get(key, dict) or {}).items():
        entry_key = _subkey(key, raw_name)
        name = _package_name(manifest, entry_key, raw_name)
        if isinstance(value, str):
            version: str | None = value
        else:
            version = _version(manifest, entry_key, manifest.check(entry_key, value, dict), name)
        spec = _spec(manifest, entry_key, name, version)
        specs.append(spec)
    return specs


def _channels(manifest: _Manifest, key: str) -> tuple[str, ...] | None:
    """A build channel list as written; None when absent. Pixi rejects an empty one."""
    channels = manifest.get(key, list)
    if channels is None:
        return None
    if not channels:
        raise manifest.error(key, "no channels: name at least one, or remove the key")
    return tuple(manifest.channel(f"{key}[{i}]", c) for i, c in enumerate(channels))


def _workspace_channels(workspace: _Manifest) -> tuple[str, ...]:
    """The workspace's channels, highest `priority` first, as Pixi orders them."""
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
            channel = workspace.channel(f"{item_key}.channel", item.get("channel"))
            priority = item.get("priority", 0)
            if not isinstance(priority, int) or isinstance(priority, bool):
                raise workspace.error(f"{item_key}.priority", "expected an integer")
            ranked.append((priority, channel))
        return tuple(channel for _, channel in sorted(ranked, key=lambda r: -r[0]))
    return ()
