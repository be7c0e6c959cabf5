"""Layered settings: defaults < admin YAML < user YAML < CONDA_PIXI_BACKENDS_* < flags.

Every effective value remembers where it came from, so errors and `config show` can name the
file and line, the variable or the flag. An admin file can mark keys `final`: nothing above it
may change them, as with `#!final` in conda's .condarc.
"""

from __future__ import annotations

import os
import platform as _platform
import sys
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from conda_pixi_backends.errors import UserInputError

ENV_PREFIX = "CONDA_PIXI_BACKENDS_"
#: Replaces the admin files: an os.pathsep-separated list of files and folders of *.yml files.
SYSTEM_CONFIG_VAR = f"{ENV_PREFIX}SYSTEM_CONFIG"
#: Replaces the user's file.
USER_CONFIG_VAR = f"{ENV_PREFIX}CONFIG"
DEFAULT_CHANNELS = ["https://prefix.dev/pixi-build-backends", "https://prefix.dev/conda-forge"]
KNOWN_PLATFORMS = (
    "noarch", "linux-64", "linux-aarch64", "linux-ppc64le", "linux-s390x", "linux-armv7l",
    "osx-64", "osx-arm64", "win-64", "win-arm64",
)  # fmt: skip
#: Characters a store root cannot hold: PIXI_BUILD_BACKEND_OVERRIDE splits on ',' and '=',
#: and PATH on os.pathsep, so a launcher below such a root could not be handed to Pixi.
_ROOT_FORBIDDEN = (",", "=", os.pathsep)


def current_platform() -> str:
    """The conda subdir of this machine, without importing py-rattler."""
    system = {"linux": "linux", "darwin": "osx", "win32": "win"}.get(sys.platform, sys.platform)
    machine = _platform.machine().lower()
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


def _split_list(value: Any, separator: str = ",") -> Any:
    """Lists come as YAML sequences, or as text from variables and flags: a JSON list, or items
    split on `separator` (';' for MatchSpecs, whose version ranges hold commas)."""
    if isinstance(value, str):
        if value.lstrip().startswith("["):
            import json

            try:
                return json.loads(value)
            except ValueError:
                raise ValueError("not a valid JSON list") from None
        return [item.strip() for item in value.split(separator) if item.strip()]
    return value


class Settings(BaseSettings):
    """Every setting, its type and its default. `docs/configuration.md` documents each key."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_default=True)

    root: Path = Field(
        default_factory=default_root,
        description="The store: backend environments, launchers, activation scripts.",
    )
    channels: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_CHANNELS),
        description="Channels for backends that do not name their own (SPECs, manifests without channels).",
    )
    platform: str = Field(
        default_factory=current_platform, description="The conda subdir backends are installed for."
    )
    constraints: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Extra MatchSpecs every backend environment must satisfy, e.g. 'pixi-build-api-version >=7,<8'.",
    )
    channel_alias: str = Field(
        "https://prefix.dev", description="The URL a bare channel name is joined to."
    )
    backends: Annotated[list[str] | dict[str, list[str]], NoDecode] = Field(
        default_factory=list,
        description="MatchSpecs `sync` provisions: a list, or a mapping of platform to list.",
    )
    mirrors: dict[str, list[str]] = Field(
        default_factory=dict, description="Channel URL to mirror URLs, handed to py-rattler."
    )
    offline: bool = Field(
        False, description="Install from the package cache and cached repodata only."
    )
    user_root: Path = Field(
        default_factory=default_root,
        description="A writable store for what a read-only shared `root` lacks.",
    )

    @field_validator("channels", mode="before")
    @classmethod
    def _split_channels(cls, value: Any) -> Any:
        return _split_list(value, ",")

    @field_validator("constraints", "backends", mode="before")
    @classmethod
    def _split_specs(cls, value: Any) -> Any:
        return _split_list(value, ";")

    @field_validator("root", "user_root", mode="after")
    @classmethod
    def _check_root(cls, root: Path) -> Path:
        root = root.expanduser()
        bad = [c for c in _ROOT_FORBIDDEN if c in str(root)]
        if bad:
            raise ValueError(
                f"a store path cannot contain {bad[0]!r}: PIXI_BUILD_BACKEND_OVERRIDE and PATH could not carry it"
            )
        return root.absolute()

    @field_validator("platform", mode="after")
    @classmethod
    def _check_platform(cls, value: str) -> str:
        if value not in KNOWN_PLATFORMS:
            raise ValueError(f"unknown platform {value!r} (known: {', '.join(KNOWN_PLATFORMS)})")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest first: flags (init), variables, then YAML files from the last read to the first.
        files, environ = _SOURCES.get()
        yaml = [_FileSource(settings_cls, layer) for layer in reversed(files)]
        return (init_settings, _EnvSource(settings_cls, environ), *yaml)


KEYS = tuple(Settings.model_fields)


@dataclass
class ConfigFile:
    """One YAML file's settings, with the line of each key and the keys it marks final."""

    path: Path
    admin: bool
    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    final: tuple[str, ...] = ()

    def where(self, key: str) -> str:
        line = self.lines.get(key)
        return f"{self.path}:{line}" if line else str(self.path)


#: The files and variables `load` hands to `Settings.settings_customise_sources`.
_SOURCES: ContextVar[tuple[list[ConfigFile], Mapping[str, str]]] = ContextVar(
    "_SOURCES", default=([], os.environ)
)


class _EnvSource(EnvSettingsSource):
    """Variables from a given mapping rather than os.environ, so callers and tests can pass one."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v for k, v in self._environ.items() if k.startswith(ENV_PREFIX)}


class _FileSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], layer: ConfigFile) -> None:
        super().__init__(settings_cls)
        self.layer = layer

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.layer.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.layer.values)


@dataclass
class Loaded:
    """The effective settings and where each value came from."""

    settings: Settings
    origins: dict[str, str]
    files: list[ConfigFile]


def system_config_paths(environ: Mapping[str, str]) -> list[Path]:
    """The admin's files, lowest precedence first."""
    if SYSTEM_CONFIG_VAR in environ:
        places = [Path(p) for p in environ[SYSTEM_CONFIG_VAR].split(os.pathsep) if p]
    else:
        conda_root = Path(environ.get("CONDA_ROOT", sys.prefix))
        places = [
            Path("/etc/conda/pixi-backends.yml"),
            Path("/etc/conda/pixi-backends.d"),
            conda_root / "etc" / "conda" / "pixi-backends.yml",
        ]
    files: list[Path] = []
    for place in places:
        files.extend(
            sorted(place.glob("*.yml")) + sorted(place.glob("*.yaml"))
            if place.is_dir()
            else [place]
        )
    return files


def user_config_path(environ: Mapping[str, str]) -> Path:
    if USER_CONFIG_VAR in environ:
        return Path(environ[USER_CONFIG_VAR]).expanduser()
    config_home = environ.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(config_home) / "conda" / "pixi-backends.yml"


def read_config_file(path: Path, admin: bool) -> ConfigFile:
    """Read one YAML file; unknown keys and malformed YAML name the file and line."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserInputError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise UserInputError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserInputError(f"{where}: invalid YAML: {problem}") from None
    layer = ConfigFile(path, admin)
    if data is None:
        return layer
    if not isinstance(data, dict):
        raise UserInputError(f"{path}: expected a mapping of settings, found {type(data).__name__}")
    for raw_key, value in data.items():
        key = str(raw_key).replace("-", "_")
        line = data.lc.key(raw_key)[0] + 1
        if key == "final":
            if not admin:
                raise UserInputError(
                    f"{path}:{line}: final: only an admin file can mark keys final"
                )
            final = _split_list(value)
            if not isinstance(final, list) or not all(
                str(k).replace("-", "_") in KEYS for k in final
            ):
                raise UserInputError(
                    f"{path}:{line}: final: expected a list of settings keys ({', '.join(KEYS)})"
                )
            layer.final = tuple(str(k).replace("-", "_") for k in final)
            continue
        if key not in KEYS:
            raise UserInputError(
                f"{path}:{line}: unknown key '{raw_key}' (known: {', '.join(KEYS)})"
            )
        layer.values[key] = _plain(value)
        layer.lines[key] = line
    return layer


def _plain(value: Any) -> Any:
    """ruamel's round-trip types, as plain Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def load(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_files: Iterable[ConfigFile] | None = None,
) -> Loaded:
    """Effective settings from every source. Bad values raise UserInputError naming the source."""
    env = dict(os.environ if environ is None else environ)
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    if config_files is None:
        files = [read_config_file(p, admin=True) for p in system_config_paths(env) if p.is_file()]
        user = user_config_path(env)
        if user.is_file():
            files.append(read_config_file(user, admin=False))
    else:
        files = list(config_files)
    origins = _origins(files, env, flags)
    _check_final(files, env, flags)
    token = _SOURCES.set((files, env))
    try:
        settings = Settings(**flags)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else "?"
        message = error["msg"].removeprefix("Value error, ")
        raise UserInputError(f"{origins.get(key, key)}: {key}: {message}") from None
    finally:
        _SOURCES.reset(token)
    return Loaded(settings, origins, files)


def env_var(key: str) -> str:
    return f"{ENV_PREFIX}{key.upper()}"


def _origins(
    files: list[ConfigFile], env: Mapping[str, str], flags: Mapping[str, Any]
) -> dict[str, str]:
    origins = {}
    for key in KEYS:
        origin = "default"
        for layer in files:
            if key in layer.values:
                origin = layer.where(key)
        if env_var(key) in env:
            origin = env_var(key)
        if key in flags:
            origin = f"--{key.replace('_', '-')}"
        origins[key] = origin
    return origins


def _check_final(files: list[ConfigFile], env: Mapping[str, str], flags: Mapping[str, Any]) -> None:
    for i, admin in enumerate(files):
        for key in admin.final:
            above = [
                (layer.where(key), layer.values[key])
                for layer in files[i + 1 :]
                if key in layer.values
            ]
            if env_var(key) in env:
                above.append((env_var(key), env[env_var(key)]))
            if key in flags:
                above.append((f"--{key.replace('_', '-')}", flags[key]))
            for where, value in above:
                if value != admin.values.get(key):
                    raise UserInputError(
                        f"{where}: {key}: {admin.where('final')} marks '{key}' final; "
                        "ask your admin to change it there"
                    )
