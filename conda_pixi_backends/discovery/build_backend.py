"""The backend a build section (`[package.build]`, or an inline package's) names, read into
the `Declaration` Pixi would build with.

The rules follow Pixi's `pixi_manifest` crate: `backend.channels` wins over the build
section's `channels`, which wins over the workspace's channels (highest `priority` first);
`backend.additional-dependencies` wins over the build section's; `workspace = true` takes the
spec from `[workspace.dependencies]`, and the member may add fields but not `version` or a
location; every MatchSpec field of the backend table is kept; unknown keys are errors, as are
backends from source.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conda_pixi_backends.discovery.manifest import (
    check_keys,
    subkey,
    workspace_channels,
    workspace_of,
)
from conda_pixi_backends.model import (
    Declaration,
    normalize_channel,
    normalize_spec,
    spec_from_parts,
)

if TYPE_CHECKING:
    from conda_pixi_backends.discovery.manifest import Manifest

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
#: The file names of conda packages: a `path` or `url` naming one is a binary, not a source.
ARCHIVES = (".conda", ".tar.bz2")


def declaration(manifest: Manifest, key: str, build: dict[str, Any]) -> Declaration:
    """The backend of a build section at `key` (`package.build`, or an inline package's)."""
    check_keys(manifest, key, build, (*BUILD_KEYS, "configuration"))
    backend_key = f"{key}.backend"
    backend = manifest.check(backend_key, build.get("backend"), dict)
    if backend is None:
        raise manifest.error(backend_key, 'missing: name one, e.g. { name = "pixi-build-python" }')
    check_keys(manifest, backend_key, backend, (*BACKEND_KEYS, *SPEC_KEYS))
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


def is_archive(location: str) -> bool:
    """Whether a `path` or `url` names a conda package file (a binary) rather than a source."""
    return location.split("?")[0].split("#")[0].rstrip("/").endswith(ARCHIVES)


def _package_name(manifest: Manifest, key: str, raw: str) -> str:
    text = " ".join(raw.split())  # so that every message stays on one line
    name, _ = normalize_spec(text, manifest.where(key))
    if name != text.lower():
        raise manifest.error(
            key, f"{json.dumps(raw)} is not a package name (put versions in 'version')"
        )
    return name


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
            subkey("workspace.dependencies", name), f"missing, but {manifest.path} asks for it"
        )
    entry_key, entry = subkey("workspace.dependencies", found[0][0]), found[0][1]
    if isinstance(entry, str):
        return workspace, entry_key, {"version": entry}
    workspace.check(entry_key, entry, dict)
    if "workspace" in entry:
        raise workspace.error(f"{entry_key}.workspace", "a workspace entry cannot inherit itself")
    check_keys(workspace, entry_key, entry, tuple(SPEC_KEYS))
    return workspace, entry_key, entry


def _fields(manifest: Manifest, key: str, table: dict[str, Any], name: str) -> dict[str, Any]:
    """A spec table's fields, type-checked; a source location is refused, a binary archive's
    `path` becomes its `url`."""
    fields: dict[str, Any] = {}
    for field, value in table.items():
        if field not in SPEC_KEYS:
            continue
        kind: type = list if field in ("extras", "flags", "track-features") else str
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
        entry_key = subkey(key, raw_name)
        name = _package_name(manifest, entry_key, raw_name)
        if isinstance(value, str):
            value = {"version": value}
        manifest.check(entry_key, value, dict)
        if value.get("workspace") is True:
            entry_manifest, inherited_key, entry = _workspace_entry(manifest, entry_key, name)
            fields = _fields(entry_manifest, inherited_key, entry, name)
        else:
            check_keys(manifest, entry_key, value, tuple(SPEC_KEYS))
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
