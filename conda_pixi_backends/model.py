"""The vocabulary shared by every module: declarations, requests and their keys.

A *declaration* is what one manifest (or the command line) asks for. A *request* is a
declaration with settings applied; its *key* names the backend environment that serves it.

Immutable records that commands load on every run are NamedTuples (here, and in `overrides`,
`shells`, `plan`, `discovery`, `installer`): defining one costs a fifth of a frozen dataclass, for which
Python 3.11 compiles six methods at import. Dataclasses remain where a record is changed, or
compares on some fields only (`Request`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, unquote, urlsplit

from conda_pixi_backends.errors import UserInputError

#: The sources of a request that are not manifest files.
COMMAND_LINE = "command line"
CONFIG = "config"
#: Bumped when the meaning of a key changes, so old environments are never reused by mistake.
KEY_VERSION = 1
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_SPEC_SPLIT = re.compile(r"[\s=<>!~\[]")


class Declaration(NamedTuple):
    """What one manifest, config entry or command-line SPEC asks for."""

    name: str
    spec: str
    channels: tuple[str, ...] = ()
    additional_dependencies: tuple[str, ...] = ()
    source: str = COMMAND_LINE
    #: The folder that relative channel paths are resolved against: the root of the workspace
    #: being run, as Pixi resolves them.
    base: Path | None = None
    #: The root of the workspace whose build needs this backend: its launcher serves this
    #: request to Pixi when Pixi runs there.
    workspace: Path | None = None
    #: The workspace's `exclude-newer` cutoff (an RFC 3339 date or datetime), if any.
    exclude_newer: str | None = None


@dataclass(frozen=True)
class Request:
    """A declaration with settings applied. Equal requests share one backend environment."""

    name: str
    spec: str
    channels: tuple[str, ...]
    platform: str
    additional_dependencies: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    exclude_newer: str | None = None
    sources: tuple[str, ...] = field(default=(), compare=False)
    #: The workspace roots that asked for it (see `Declaration.workspace`).
    workspaces: tuple[str, ...] = field(default=(), compare=False)

    def canonical(self) -> dict[str, object]:
        """The fields that decide what gets installed, in a stable form. A field added since
        `KEY_VERSION` 1 appears only when set, so the keys of existing environments hold."""
        data: dict[str, object] = {
            "v": KEY_VERSION,
            "name": self.name,
            "spec": self.spec,
            "channels": list(self.channels),
            "platform": self.platform,
            "additional_dependencies": sorted(self.additional_dependencies),
            "constraints": sorted(self.constraints),
        }
        if self.exclude_newer is not None:
            data["exclude_newer"] = self.exclude_newer
        return data

    @property
    def key(self) -> str:
        """A short hash of the canonical JSON: stable across runs, machines and Pythons."""
        import hashlib  # not at import: settings import this module on every command

        blob = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    @property
    def env_name(self) -> str:
        return f"{self.name}-{self.key}"

    @property
    def specs(self) -> list[str]:
        """Everything the solver must install."""
        return [self.spec, *self.additional_dependencies]


def normalize_spec(text: str, what: str) -> tuple[str, str]:
    """Split a MatchSpec string into its package name and a whitespace-normalized spec.

    This is deliberately light (no py-rattler): the full check happens when a solve needs it,
    and the no-op path must not pay for importing py-rattler.
    """
    spec = " ".join(text.split())
    name = _SPEC_SPLIT.split(spec, maxsplit=1)[0]
    if "::" in name:
        raise UserInputError(
            f"{what}: {text!r}: channel-qualified specs are not supported; use --channel"
        )
    if not spec or not _NAME.fullmatch(name):
        raise UserInputError(
            f"{what}: {text!r} is not a valid package spec (expected e.g. 'pixi-build-python 0.8.*')"
        )
    return name.lower(), spec


def spec_from_parts(name: str, version: str | None, fields: dict[str, str] | None = None) -> str:
    """The MatchSpec for a manifest's `{ name = ..., version = ..., build = ..., ... }`.

    `fields` are MatchSpec bracket keys (`build`, `build_number`, `sha256`, `url`, ...) with
    their values; they follow the name and version as `[key="value", ...]`, which py-rattler
    parses like conda. A spec of only a name and a version keeps the plain `name version` form.
    """
    version = (version or "").strip()
    spec = name if not version or version == "*" else f"{name} {version}"
    if fields:
        spec += "[" + ", ".join(f'{key}="{value}"' for key, value in fields.items()) + "]"
    return spec


#: Where Pixi sends a bare channel name such as `conda-forge` (not configurable in Pixi).
CHANNEL_ALIAS = "https://conda.anaconda.org"


def normalize_channel(
    channel: str,
    base: Path | None = None,
    alias: str = CHANNEL_ALIAS,
    what: str = "channel",
) -> str:
    """Turn a channel as written (URL, path or name) into the URL that identifies it.

    A relative path is taken relative to `base` (the workspace root), as Pixi does; a bare
    name is joined to the channel alias. py-rattler would read a bare relative path as a name.
    `what` names where the channel was written (a flag, a manifest key, a setting's origin).
    """
    text = channel.strip()
    if not text:
        raise UserInputError(f"{what}: an empty channel name")
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # e.g. "Invalid IPv6 URL"
        raise UserInputError(f"{what}: {channel!r} is not a valid URL ({exc})") from None
    if parts.scheme == "file":
        # `file:relative` and `file://./x` mean a path, as a user means them.
        local = Path(
            unquote(parts.netloc + parts.path)
            if parts.netloc in (".", "..")
            else unquote(parts.path)
        )
        if not local.is_absolute():
            local = (base or Path.cwd()) / local
        return path_to_url(Path(os.path.normpath(local)))
    if parts.scheme in ("http", "https", "s3", "gcs", "oci") and "://" in text:
        if not parts.netloc:
            raise UserInputError(f"{what}: {channel!r} is not a valid URL (no host)")
        return text.rstrip("/")
    if text.startswith(("/", "./", "../", "~", ".\\", "..\\")) or re.match(r"[A-Za-z]:[\\/]", text):
        try:
            path = Path(text).expanduser()
        except RuntimeError:  # ~user of an unknown user, or no home folder
            raise UserInputError(
                f"{what}: {channel!r}: cannot expand '~' (no such user or home)"
            ) from None
        if not path.is_absolute():
            path = (base or Path.cwd()) / path
        return path_to_url(Path(os.path.normpath(path)))
    if not all(_NAME.fullmatch(part) for part in text.split("/")):
        raise UserInputError(f"{what}: {channel!r} is neither a URL, a path nor a channel name")
    return f"{alias.rstrip('/')}/{text}"


def path_to_url(path: Path) -> str:
    """A file:// URL for an absolute path, quoting what URLs cannot carry."""
    return "file://" + quote(path.as_posix().rstrip("/") or "/", safe="/:~")


def url_to_path(url: str) -> Path | None:
    """The path a file:// URL names (`path_to_url` undone); None for any other URL."""
    parts = urlsplit(url)
    return Path(unquote(parts.path)) if parts.scheme == "file" else None


@dataclass(frozen=True)
class Fetch:
    """How channels are reached; handed to py-rattler's own configuration by the installer."""

    offline: bool = False
    #: Channel URL -> mirror URLs, tried in order instead of the channel.
    mirrors: Mapping[str, Sequence[str]] = field(default_factory=dict)
    #: S3 bucket -> py-rattler's options for it (endpoint_url, region, force_path_style).
    s3: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def manifest_sources(sources: Iterable[str]) -> list[str]:
    """The manifest files among a request's sources (not the command line, not the config)."""
    return [s for s in sources if s not in (COMMAND_LINE, CONFIG)]


def same_packages(a: Iterable[Mapping[str, str]], b: Iterable[Mapping[str, str]]) -> bool:
    """Equal package sets: name, version, build, and sha256 (or the URL when there is none)."""

    def identity(rows: Iterable[Mapping[str, str]]) -> set[tuple[str, ...]]:
        return {
            (p["name"], p["version"], p["build"], p.get("sha256") or p.get("url", "")) for p in rows
        }

    return identity(a) == identity(b)
