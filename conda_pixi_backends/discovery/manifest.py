"""One Pixi manifest file (pixi.toml, pyproject.toml's `[tool.pixi]`, mojoproject.toml): found
and parsed as Pixi does, its keys read with one-line errors that name the file and the key, and
the workspace settings the readers share (channels, `exclude-newer`).

TOML is read with tomli, which accepts TOML 1.1 like Pixi's parser.
"""

from __future__ import annotations

import functools
import json
import os
import re
import stat
from pathlib import Path
from typing import Any, NamedTuple

from conda_pixi_backends.discovery.exclude_newer import parse_cutoff
from conda_pixi_backends.discovery.files import read_text
from conda_pixi_backends.errors import UserInputError
from conda_pixi_backends.model import normalize_channel

PIXI_TOML = "pixi.toml"
PYPROJECT_TOML = "pyproject.toml"
MOJOPROJECT_TOML = "mojoproject.toml"
#: The manifest files of a folder, in the order Pixi prefers them.
MANIFEST_NAMES = (PIXI_TOML, PYPROJECT_TOML, MOJOPROJECT_TOML)
#: The keys of a channel table in a workspace's `channels`.
CHANNEL_KEYS = ("channel", "priority", "exclude-newer")

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_KINDS: dict[type, str] = {
    dict: "a table", str: "a string", bool: "a boolean", list: "an array", int: "an integer",
}  # fmt: skip


class Manifest(NamedTuple):
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
    import tomli  # here: finding no manifest, as most commands outside a workspace do, reads none

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


def check_keys(manifest: Manifest, key: str, table: dict[str, Any], known: tuple[str, ...]) -> None:
    """Pixi refuses a manifest with an unknown key in these tables; so do we, as it says it."""
    for name in table:
        if name not in known:
            import difflib  # only to say what was meant

            listed = [k for k in known if k != "configuration"]
            close = difflib.get_close_matches(name, listed, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            expected = ", ".join(f"'{k}'" for k in listed)
            raise manifest.error(
                subkey(key, name), f"unexpected key; {hint}expected only {expected}"
            )


def subkey(key: str, name: str) -> str:
    """`key.name`, with `name` quoted as TOML would need it (`"ruamel.yaml"`)."""
    return f"{key}.{name if _BARE_KEY.fullmatch(name) else json.dumps(name)}"


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
            check_keys(workspace, item_key, item, CHANNEL_KEYS)
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
    if value is None:
        return None
    try:
        return parse_cutoff(manifest.check(key, value, str))
    except ValueError as exc:
        raise manifest.error(key, str(exc)) from None
