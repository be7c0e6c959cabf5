"""The settings: every key with its type and default, the layers that set them, and the one merge.

Layers, lowest first: defaults < admin YAML files < Pixi's config.toml < the user's YAML file <
.condarc `plugins:` < CONDA_PIXI_BACKENDS_* variables < flags (`configuration.load` reads them).
The merge is one rule for every key: the last layer that sets a key wins, with its whole value
(a mapping such as `mirrors` is replaced, not merged entry by entry). Every value is checked in
the layer that sets it, so an error names that file and line, variable or flag, and every
effective value remembers its origin for `config show --sources`. An admin file can mark keys
`final`: no layer above it may change them, as with `#!final` in conda's .condarc.

This module is on every command's path: it imports nothing heavy (no pydantic, no YAML), and
checks values with the plain functions of `setting_values`, which also makes every message our
own.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from conda_pixi_backends.errors import UserInputError
from conda_pixi_backends.model import CHANNEL_ALIAS, Fetch
from conda_pixi_backends.setting_values import PARSERS, EntryError

ENV_PREFIX = "CONDA_PIXI_BACKENDS_"
#: Replaces the admin files: an os.pathsep-separated list of files and folders of *.yml files.
SYSTEM_CONFIG_VAR = f"{ENV_PREFIX}SYSTEM_CONFIG"
#: Replaces the user's file.
USER_CONFIG_VAR = f"{ENV_PREFIX}CONFIG"
DEFAULT_CHANNELS = ["https://prefix.dev/pixi-build-backends", "https://prefix.dev/conda-forge"]
#: The build API Pixi 0.77 speaks: it solves its own backend environments with this constraint,
#: so an overridden backend that does not satisfy it fails inside Pixi.
PIXI_API_CONSTRAINT = "pixi-build-api-version >=7,<8"


def current_platform() -> str:
    """The conda subdir of this machine, without importing py-rattler."""
    system = {"linux": "linux", "darwin": "osx", "win32": "win"}.get(sys.platform, sys.platform)
    if hasattr(os, "uname"):  # what platform.machine() reads on POSIX, without loading it
        machine = os.uname().machine.lower()
    else:
        import platform

        machine = platform.machine().lower()
    arch = {
        "x86_64": "64", "amd64": "64", "aarch64": "aarch64", "arm64": "arm64",
        "ppc64le": "ppc64le", "s390x": "s390x", "armv7l": "armv7l",
    }.get(machine, machine)  # fmt: skip
    if system == "linux" and arch == "arm64":
        arch = "aarch64"
    if system == "osx" and arch == "aarch64":
        arch = "arm64"
    return f"{system}-{arch}"


def default_root() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("conda-pixi-backends", appauthor=False)


@dataclass(frozen=True)
class Settings:
    """Every setting and its default; `docs/configuration.md` documents each key. Values are
    checked by `PARSERS` when they come from a layer; built directly (tests), they are trusted."""

    #: The store: backend environments, launchers, activation scripts.
    root: Path = field(default_factory=default_root)
    #: Channels for backends that do not name their own (SPECs, manifests without channels).
    channels: list[str] = field(default_factory=lambda: list(DEFAULT_CHANNELS))
    #: The conda subdir backends are installed for.
    platform: str = field(default_factory=current_platform)
    #: MatchSpecs every backend environment must satisfy: by default the API Pixi speaks.
    constraints: list[str] = field(default_factory=lambda: [PIXI_API_CONSTRAINT])
    #: The channels Pixi solves the backend of a recipe or package.xml outside any workspace
    #: with (Pixi's `default-channels`).
    default_channels: list[str] = field(default_factory=lambda: ["conda-forge"])
    #: The URL a bare channel name is joined to (Pixi's).
    channel_alias: str = CHANNEL_ALIAS
    #: MatchSpecs `sync` provisions: a list, or a mapping of platform to list.
    backends: list[str] | dict[str, list[str]] = field(default_factory=list)
    #: Channel URL to mirror URLs, handed to py-rattler.
    mirrors: dict[str, list[str]] = field(default_factory=dict)
    #: S3 bucket to its endpoint_url, region and force_path_style, handed to py-rattler.
    s3: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Install from the package cache and cached repodata only.
    offline: bool = False
    #: A writable store for what a read-only shared `root` lacks.
    user_root: Path = field(default_factory=default_root)

    def backend_specs(self, platform: str | None = None) -> list[str]:
        """The `backends` for `platform` (default: the `platform` setting): the mapping's list
        for it (none when it is not listed), or the plain list, which serves every platform."""
        if isinstance(self.backends, dict):
            return list(self.backends.get(platform or self.platform, []))
        return list(self.backends)

    def fetch(self) -> Fetch:
        """How the installer reaches channels, by these settings."""
        return Fetch(offline=self.offline, mirrors=dict(self.mirrors), s3=dict(self.s3))

    def for_platform(self, platform: str) -> Settings:
        """These settings with another `platform` (lock files and sync serve several)."""
        return self if platform == self.platform else replace(self, platform=platform)


KEYS = tuple(f.name for f in fields(Settings))


assert set(PARSERS) == set(KEYS), "every key has its parser in setting_values.py"


# --- layers and the merge ---------------------------------------------------------------------


@dataclass
class Layer:
    """One source of settings values: a YAML file, Pixi's config.toml, conda's .condarc keys,
    the variables or the flags.

    `kind` is one of admin, pixi, user, condarc, variable, flag. `lines` holds the line of each
    key in a file (and of `final`, and of `key.entry` for mapping entries); `origins` replaces
    `path:line` for values whose origin is not a line of `path` (.condarc, variables, flags).
    """

    path: Path
    kind: str
    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    final: tuple[str, ...] = ()
    origins: dict[str, str] = field(default_factory=dict)

    @property
    def admin(self) -> bool:
        return self.kind == "admin"

    def where(self, key: str, entry: str | None = None) -> str:
        """The origin of `key` (of its mapping entry `entry`, when that has a line)."""
        if entry is not None and f"{key}.{entry}" in self.lines:
            key = f"{key}.{entry}"
        if key in self.origins:
            return self.origins[key]
        line = self.lines.get(key)
        return f"{self.path}:{line}" if line else str(self.path)

    def final_by(self, key: str) -> str:
        """Where `key` was made final: the `final:` line, or the .condarc entry with #!final."""
        return self.where(key) if self.kind == "condarc" else self.where("final")


def env_var(key: str) -> str:
    return f"{ENV_PREFIX}{key.upper()}"


def flag(key: str) -> str:
    return f"--{key.replace('_', '-')}"


def variables_layer(environ: Mapping[str, str]) -> Layer:
    """The CONDA_PIXI_BACKENDS_* variables (the ones that name a key), as a layer."""
    layer = Layer(Path("environment"), "variable")
    for key in KEYS:
        if env_var(key) in environ:
            layer.values[key] = environ[env_var(key)]
            layer.origins[key] = env_var(key)
    return layer


def flags_layer(flags: Mapping[str, Any]) -> Layer:
    """The command's flags that were given (None: not given), as a layer."""
    layer = Layer(Path("command line"), "flag")
    for key, value in flags.items():
        if value is not None:
            layer.values[key] = value
            layer.origins[key] = flag(key)
    return layer


def validate_value(key: str, value: Any, where: str, *, variable: bool = False) -> Any:
    """One key's value as the settings hold it (e.g. an absolute Path), or a UserInputError
    naming `where`: `where: key: problem` (`where: key.entry: problem` for a mapping entry).
    `variable`: `value` is a variable's text (variables and YAML values parse alike)."""
    return _parse(Layer(Path(where), "variable" if variable else "flag", {key: value},
                        origins={key: where}), key)  # fmt: skip


def _parse(layer: Layer, key: str) -> Any:
    try:
        return PARSERS[key](layer.values[key])
    except EntryError as exc:
        raise UserInputError(f"{layer.where(key, exc.entry)}: {key}.{exc.entry}: {exc}") from None
    except ValueError as exc:
        raise UserInputError(f"{layer.where(key)}: {key}: {exc}") from None


@dataclass
class Loaded:
    """The effective settings and where each value came from.

    `origins[key]` names the file:line, variable or flag (or "default"); `kinds[key]` is one of
    default, admin, pixi, user, condarc, variable, flag; `finals[key]` names where the key was
    made final, for final keys only. `files` are the file layers read, lowest first.
    """

    settings: Settings
    origins: dict[str, str]
    files: list[Layer]
    kinds: dict[str, str] = field(default_factory=dict)
    finals: dict[str, str] = field(default_factory=dict)


def merge(layers: Iterable[Layer]) -> Loaded:
    """The settings that `layers` (lowest first) make: each value checked where it is set, the
    last layer that sets a key wins, and nothing above a layer that marks a key final may give
    it another value. A UserInputError names the file:line, variable or flag at fault."""
    layers = list(layers)
    values: dict[str, Any] = {}
    origins = dict.fromkeys(KEYS, "default")
    kinds = dict.fromkeys(KEYS, "default")
    finals: dict[str, str] = {}
    fixed: dict[str, tuple[Layer, Any]] = {}  # a final key: its layer, and the value it keeps
    for layer in layers:
        for key in layer.values:
            value = _parse(layer, key)
            if key in fixed and value != _kept(fixed[key][1], key):
                marker, by = finals[key], fixed[key][0]
                advice = (
                    "change it there (#!final)"
                    if by.kind == "condarc"
                    else "ask your admin to change it there"
                )
                raise UserInputError(
                    f"{layer.where(key)}: {key}: {marker} marks '{key}' final; {advice}"
                )
            values[key], origins[key], kinds[key] = value, layer.where(key), layer.kind
        for key in layer.final:
            if key not in fixed:  # the lowest layer that makes a key final decides its value
                finals[key] = layer.final_by(key)
                fixed[key] = (layer, values.get(key, _UNSET))
    settings = Settings(**values)
    files = [layer for layer in layers if layer.kind not in ("variable", "flag")]
    return Loaded(settings, origins, files, kinds, finals)


_UNSET = object()


def _kept(value: Any, key: str) -> Any:
    """The value a final key keeps: its value where it was made final, else its default."""
    return getattr(Settings(), key) if value is _UNSET else value
