"""Layered settings: defaults < admin YAML < Pixi's config.toml < user YAML < .condarc
`plugins:` < CONDA_PIXI_BACKENDS_* < flags.

Every effective value remembers where it came from, so errors and `config show` can name the
file and line, the variable or the flag. An admin file can mark keys `final`: nothing above it
may change them, as with `#!final` in conda's .condarc (which this honours for its own keys).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform as _platform
import stat
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
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
from conda_pixi_backends.model import CHANNEL_ALIAS

ENV_PREFIX = "CONDA_PIXI_BACKENDS_"
#: Replaces the admin files: an os.pathsep-separated list of files and folders of *.yml files.
SYSTEM_CONFIG_VAR = f"{ENV_PREFIX}SYSTEM_CONFIG"
#: Replaces the user's file.
USER_CONFIG_VAR = f"{ENV_PREFIX}CONFIG"
DEFAULT_CHANNELS = ["https://prefix.dev/pixi-build-backends", "https://prefix.dev/conda-forge"]
#: The Pixi build API range Pixi 0.77 speaks: it solves its own backends with this constraint
#: and talks API 7 to an overridden backend without checking. The default of `constraints`, so
#: that a backend that speaks another API is refused at install rather than failing in Pixi.
PIXI_API_CONSTRAINT = "pixi-build-api-version >=7,<8"
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


class _SubKeyError(ValueError):
    """A bad entry inside a mapping-valued key: `sub` lets the error name that entry's line."""

    def __init__(self, sub: str, message: str) -> None:
        super().__init__(message)
        self.sub = sub


def _split_list(value: Any, separator: str = ",") -> Any:
    """Lists come as YAML sequences, or as text from variables and flags: JSON (a list, or an
    object where a mapping is allowed), or items split on `separator` (';' for MatchSpecs,
    whose version ranges hold commas)."""
    if isinstance(value, str):
        if value.lstrip().startswith(("[", "{")):
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError("not valid JSON") from None
            except RecursionError:
                raise ValueError("not valid JSON: nested too deeply") from None
        return [item.strip() for item in value.split(separator) if item.strip()]
    return value


def _specs(value: Any, entry: str | None = None) -> list[str]:
    """A list of MatchSpecs, whitespace-normalized; checked as lightly as the manifests' ones.
    `entry`: the mapping entry (a platform of `backends`) that holds the list."""
    from conda_pixi_backends.model import normalize_spec

    def error(message: str) -> ValueError:
        return _SubKeyError(entry, message) if entry is not None else ValueError(message)

    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise error("expected a list of MatchSpecs")
    specs = []
    for text in value:
        try:
            specs.append(normalize_spec(text, "spec")[1])
        except UserInputError as exc:
            raise error(str(exc).removeprefix("spec: ")) from None
    return specs


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
        default_factory=lambda: [PIXI_API_CONSTRAINT],
        description=(
            "MatchSpecs every backend environment must satisfy; by default the Pixi build API "
            f"Pixi 0.77 speaks, '{PIXI_API_CONSTRAINT}'."
        ),
    )
    default_channels: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["conda-forge"],
        description=(
            "The channels Pixi solves the backend of a recipe or package.xml outside any "
            "workspace with (Pixi's `default-channels`)."
        ),
    )
    channel_alias: str = Field(
        CHANNEL_ALIAS,
        description="The URL a bare channel name is joined to (Pixi's: https://conda.anaconda.org).",
    )
    backends: Annotated[list[str] | dict[str, list[str]], NoDecode] = Field(
        default_factory=list,
        description="MatchSpecs `sync` provisions: a list, or a mapping of platform to list.",
    )
    mirrors: Annotated[dict[str, list[str]], NoDecode] = Field(
        default_factory=dict, description="Channel URL to mirror URLs, handed to py-rattler."
    )
    offline: bool = Field(
        False, description="Install from the package cache and cached repodata only."
    )
    user_root: Path = Field(
        default_factory=default_root,
        description="A writable store for what a read-only shared `root` lacks.",
    )

    def backend_specs(self, platform: str | None = None) -> list[str]:
        """The `backends` for `platform` (default: the `platform` setting): the mapping's list
        for it (none when it is not listed), or the plain list, which serves every platform."""
        if isinstance(self.backends, dict):
            return list(self.backends.get(platform or self.platform, []))
        return list(self.backends)

    @field_validator("channels", "default_channels", mode="before")
    @classmethod
    def _split_channels(cls, value: Any) -> Any:
        return _split_list(value, ",")

    @field_validator("channels", "default_channels", mode="after")
    @classmethod
    def _check_channels(cls, value: list[str]) -> list[str]:
        """Every channel must be one that requests can name; kept as written, since the
        alias and the folder of relative paths apply when a request is made."""
        from conda_pixi_backends.model import normalize_channel

        if not value:
            raise ValueError("an empty list: name at least one channel")
        for channel in value:
            try:
                normalize_channel(channel, Path("/"), what="channels")
            except UserInputError as exc:
                raise ValueError(str(exc).removeprefix("channels: ")) from None
        return value

    @field_validator("constraints", mode="before")
    @classmethod
    def _check_constraints(cls, value: Any) -> Any:
        return _specs(_split_list(value, ";"))

    @field_validator("backends", mode="before")
    @classmethod
    def _check_backends(cls, value: Any) -> Any:
        value = _split_list(value, ";")
        if not isinstance(value, Mapping):
            if not isinstance(value, list):
                raise ValueError("expected a list of MatchSpecs, or a mapping of platform to list")
            return _specs(value)
        for platform in value:
            if platform not in KNOWN_PLATFORMS:
                raise _SubKeyError(
                    str(platform),
                    f"unknown platform {platform!r} (known: {', '.join(KNOWN_PLATFORMS)})",
                )
        return {str(p): _specs(specs, str(p)) for p, specs in value.items()}

    @field_validator("mirrors", mode="before")
    @classmethod
    def _check_mirrors(cls, value: Any) -> Any:
        value = _split_list(value) if isinstance(value, str) else value
        if not isinstance(value, Mapping):
            raise ValueError("expected a mapping of channel URL to a list of mirror URLs")
        for channel, urls in value.items():
            if not isinstance(channel, str) or "://" not in channel:
                raise _SubKeyError(str(channel), "a key must be a channel URL (scheme://...)")
            if (
                not isinstance(urls, list)
                or not urls
                or not all(isinstance(u, str) and "://" in u for u in urls)
            ):
                raise _SubKeyError(channel, "expected a non-empty list of mirror URLs")
        return dict(value)

    @field_validator("root", "user_root", mode="before")
    @classmethod
    def _refuse_empty_root(cls, value: Any) -> Any:
        # Path("") is the current folder: a store wherever the command happens to run.
        if isinstance(value, str) and not value.strip():
            raise ValueError("an empty path: name the store's folder")
        return value

    @field_validator("root", "user_root", mode="after")
    @classmethod
    def _check_root(cls, root: Path) -> Path:
        try:
            root = root.expanduser()
        except RuntimeError:  # `~user` of an unknown user, or no home folder
            raise ValueError(f"cannot expand '~' in {str(root)!r}: no such user or home") from None
        bad = [c for c in _ROOT_FORBIDDEN if c in str(root)]
        if bad:
            raise ValueError(
                f"a store path cannot contain {bad[0]!r}: PIXI_BUILD_BACKEND_OVERRIDE and PATH could not carry it"
            )
        try:
            str(root).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(
                f"{str(root)!r} is not valid UTF-8: launchers and activation scripts could not "
                "name it"
            ) from None
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
        # Highest first: flags (init), variables, then the layers (condarc, user, admin files)
        # from the last read to the first.
        layers, environ = _SOURCES.get()
        files = [_FileSource(settings_cls, layer) for layer in reversed(layers)]
        return (init_settings, _EnvSource(settings_cls, environ), *files)


KEYS = tuple(Settings.model_fields)


@dataclass
class ConfigFile:
    """One layer of settings below the variables: a YAML file, or conda's .condarc keys.

    `lines` holds the line of each key (and of `final`, and `key.entry` for mapping entries);
    `origins` replaces `path:line` for layers whose keys come from several places (.condarc).
    """

    path: Path
    admin: bool
    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    final: tuple[str, ...] = ()
    kind: str = ""
    origins: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.kind = self.kind or ("admin" if self.admin else "user")

    def where(self, key: str) -> str:
        if key in self.origins:
            return self.origins[key]
        line = self.lines.get(key)
        return f"{self.path}:{line}" if line else str(self.path)

    def final_by(self, key: str) -> str:
        """Where `key` was made final: the `final:` line, or the .condarc entry with #!final."""
        return self.where(key) if self.kind == "condarc" else self.where("final")


#: The layers and variables `load` hands to `Settings.settings_customise_sources`.
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
    """The effective settings and where each value came from.

    `origins[key]` names the file:line, variable or flag (or "default"); `kinds[key]` is one of
    default, admin, user, condarc, variable, flag; `finals[key]` names where the key was made
    final, for final keys only. `files` are the layers read, lowest first.
    """

    settings: Settings
    origins: dict[str, str]
    files: list[ConfigFile]
    kinds: dict[str, str] = field(default_factory=dict)
    finals: dict[str, str] = field(default_factory=dict)


def system_config_places(environ: Mapping[str, str]) -> list[Path]:
    """Where the admin's files are looked for (files and folders), lowest precedence first."""
    if SYSTEM_CONFIG_VAR in environ:
        return [Path(p) for p in environ[SYSTEM_CONFIG_VAR].split(os.pathsep) if p]
    conda_root = Path(environ.get("CONDA_ROOT", sys.prefix))
    return [
        Path("/etc/conda/pixi-backends.yml"),
        Path("/etc/conda/pixi-backends.d"),
        conda_root / "etc" / "conda" / "pixi-backends.yml",
    ]


def system_config_paths(environ: Mapping[str, str]) -> list[Path]:
    """The admin's files, lowest precedence first (folders expanded to their *.yml in name order)."""
    files: list[Path] = []
    for place in system_config_places(environ):
        files.extend(
            sorted(place.glob("*.yml")) + sorted(place.glob("*.yaml"))
            if place.is_dir()
            else [place]
        )
    return files


def user_config_path(environ: Mapping[str, str]) -> Path:
    if USER_CONFIG_VAR in environ:
        try:
            return Path(environ[USER_CONFIG_VAR]).expanduser()
        except RuntimeError:  # `~user` of an unknown user, or no home folder
            raise UserInputError(
                f"{USER_CONFIG_VAR}: cannot expand '~' in {environ[USER_CONFIG_VAR]!r}: "
                "no such user or home"
            ) from None
    config_home = environ.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(config_home) / "conda" / "pixi-backends.yml"


def read_config_files(
    environ: Mapping[str, str], workspace: Path | None = None
) -> list[ConfigFile]:
    """The admin files that exist, then Pixi's configuration (see `pixi_config_paths`), then
    the user's file if it exists. Pixi's sits below the user's own file for this tool, which is
    the more specific of the two, and above the admin's, whose `final` keys it cannot change."""
    files = [
        read_config_file(p, admin=True)
        for p in system_config_paths(environ)
        if config_file_present(p)
    ]
    files += [
        read_pixi_config(p) for p in pixi_config_paths(environ, workspace) if config_file_present(p)
    ]
    user = user_config_path(environ)
    if config_file_present(user):
        files.append(read_config_file(user, admin=False))
    return files


#: The largest settings file read: real ones are a few hundred bytes; a bigger one is refused
#: unread rather than loaded into memory.
MAX_CONFIG_BYTES = 1 << 20
#: The most values (scalars, lists, mappings), and characters of scalars, a YAML settings
#: document may hold once its aliases and merge keys are expanded: a few hundred bytes of
#: nested aliases ("billion laughs") expand to billions of values, and a long string aliased
#: often to gigabytes, which neither ruamel's merge keys nor our conversions survive.
MAX_YAML_VALUES = 100_000
MAX_YAML_CHARS = 4 * MAX_CONFIG_BYTES
_FILE_TYPES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _check_regular(path: Path | str, info: os.stat_result) -> None:
    """A UserInputError naming `path` unless `info` is a regular file of a sane size."""
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _FILE_TYPES if test(info.st_mode)), "a special file")
        raise UserInputError(f"{path}: not a regular file ({kind})")
    if info.st_size > MAX_CONFIG_BYTES:
        raise _too_large(path)


def _too_large(path: Path | str) -> UserInputError:
    return UserInputError(
        f"{path}: too large: a settings file may hold at most {MAX_CONFIG_BYTES} bytes"
    )


def _cannot_read(path: Path | str, exc: Exception) -> UserInputError:
    return UserInputError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}")


def config_file_present(path: Path) -> bool:
    """Whether there is a settings file at `path` to read (through symlinks): False when there
    is nothing (or a link to nothing); a UserInputError when what is there is not a regular
    file (a FIFO, a device, a socket, a folder), is too large, or cannot be looked at."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except (OSError, ValueError) as exc:  # ELOOP, EACCES; ValueError: a NUL in the path
        raise _cannot_read(path, exc) from None
    _check_regular(path, info)
    return True


def read_config_bytes(path: Path) -> bytes:
    """The bytes of a settings file, or a UserInputError naming it. What is not a regular file
    is refused before it is opened (a FIFO would block, /dev/zero never ends), as is a file
    larger than MAX_CONFIG_BYTES; what was opened is checked again, and read up to the bound."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        _check_regular(path, os.stat(path))
        with os.fdopen(os.open(path, flags | getattr(os, "O_BINARY", 0)), "rb") as stream:
            _check_regular(path, os.fstat(stream.fileno()))  # should it have been swapped
            data = stream.read(MAX_CONFIG_BYTES + 1)
    except (OSError, ValueError) as exc:
        raise _cannot_read(path, exc) from None
    if len(data) > MAX_CONFIG_BYTES:  # it grew since
        raise _too_large(path)
    return data


def _text(data: bytes) -> str:
    """UTF-8 text with its line ends made LF, as Path.read_text makes them."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def load_yaml(text: str, where: Path | str, typ: str = "rt") -> Any:
    """The YAML document in `text`, loaded with ruamel.yaml (`typ`), quietly: ruamel warns
    about valid YAML (a reused anchor, YAML 1.1 floats). The document is refused, before a
    value is made, when it holds more than MAX_YAML_VALUES values (or MAX_YAML_CHARS characters)
    with its aliases and merge keys expanded: a UserInputError naming `where`. ruamel's errors
    pass through."""
    from ruamel.yaml import YAML

    yaml = YAML(typ=typ)

    class Bounded(yaml.Constructor):  # type: ignore[name-defined,misc]
        def construct_document(self, node: Any) -> Any:
            _count_values(node, where)
            return super().construct_document(node)

    yaml.Constructor = Bounded
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return yaml.load(text)


def _count_values(root: Any, where: Path | str) -> None:
    """Walk a composed YAML document as its values will be walked, an alias as often as it is
    used, and stop at MAX_YAML_VALUES values or MAX_YAML_CHARS characters of scalars."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    count, chars, seen, shared = 0, 0, set(), False
    stack = [root]
    while stack:
        node = stack.pop()
        count += 1
        shared = shared or id(node) in seen
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            chars += len(node.value)
        if count > MAX_YAML_VALUES or chars > MAX_YAML_CHARS:
            what = "too many nested aliases" if shared else "too many values"
            raise UserInputError(
                f"{where}: {what} (over {MAX_YAML_VALUES} values or {MAX_YAML_CHARS} characters "
                "once aliases and merge keys are expanded)"
            )
        if isinstance(node, MappingNode):
            for key, value in node.value:
                stack += (key, value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


#: Pixi's `config.toml` keys that shape backend installs, and the settings they become.
PIXI_CONFIG_KEYS = {
    "default-channels": "default_channels",
    "mirrors": "mirrors",
    "tool-platform": "platform",
}


def pixi_config_paths(environ: Mapping[str, str], workspace: Path | None = None) -> list[Path]:
    """Pixi's configuration files, lowest precedence first, as Pixi reads them: the system's,
    the user's, `$PIXI_HOME`'s (unless `PIXI_NO_CONFIG`; `PIXI_CONFIG_FILE` replaces these
    three), then the workspace's `.pixi/config.toml`."""
    if "PIXI_NO_CONFIG" in environ:
        paths: list[Path] = []
    elif environ.get("PIXI_CONFIG_FILE"):
        paths = [Path(environ["PIXI_CONFIG_FILE"])]
    else:
        home = Path(environ.get("HOME") or Path.home())
        config_home = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
        pixi_home = Path(environ.get("PIXI_HOME") or home / ".pixi")
        system = Path(os.path.expandvars(r"%PROGRAMDATA%\pixi") if os.name == "nt" else "/etc/pixi")
        paths = [system / "config.toml", config_home / "pixi" / "config.toml"]
        paths.append(pixi_home / "config.toml")
    if workspace is not None:
        paths.append(workspace / ".pixi" / "config.toml")
    return paths


def read_pixi_config(path: Path) -> ConfigFile:
    """The keys of one Pixi `config.toml` that apply to backends; Pixi's other keys are its own.
    Bad TOML or a bad value names the file and the key."""
    import tomli

    raw = read_config_bytes(path)
    try:
        data = tomli.loads(_text(raw))
    except UnicodeDecodeError as exc:
        raise _cannot_read(path, exc) from None
    except tomli.TOMLDecodeError as exc:
        raise UserInputError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:  # tomli's own limit on nested arrays and tables
        raise UserInputError(f"{path}: invalid TOML: nested too deeply") from None
    layer = ConfigFile(path, admin=False, kind="pixi")
    for raw, key in PIXI_CONFIG_KEYS.items():
        value = data.get(raw, data.get(raw.replace("-", "_")))
        if value is None:
            continue
        if key == "mirrors" and isinstance(value, dict):
            value = {url.rstrip("/"): mirrors for url, mirrors in value.items()}
        layer.values[key] = value
        layer.origins[key] = f"{path}: {raw}"

    def where(key: str, entry: str | None) -> str:
        return layer.where(key)

    if layer.values:
        _build([], {}, layer.values, where)
    return layer


def normal_key(raw_key: object) -> str:
    """YAML keys may be written with '-' or '_'."""
    return str(raw_key).replace("-", "_")


def parse_final(value: Any) -> tuple[str, ...] | None:
    """The keys a `final:` value lists, or None when it is not a list of known keys."""
    final = _split_list(value)
    if not isinstance(final, list) or not all(normal_key(k) in KEYS for k in final):
        return None
    return tuple(normal_key(k) for k in final)


def read_config_file(path: Path, admin: bool) -> ConfigFile:
    """Read one YAML file; unknown keys, malformed YAML and bad values name the file and line.

    Each file's values are checked on their own, so a broken file is reported even when a
    higher layer (a variable, a flag) sets the same keys.
    """
    from ruamel.yaml.error import YAMLError

    raw = read_config_bytes(path)  # a FIFO, a device, a huge file: refused unread
    try:
        text = _text(raw)
    except UnicodeDecodeError:
        raise UserInputError(f"{path}: not UTF-8 text") from None
    try:
        data = load_yaml(text, path)  # nested aliases that expand too far: refused
        layer = _layer(path, admin, data)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserInputError(f"{where}: invalid YAML: {problem}") from None
    except RecursionError:
        raise UserInputError(f"{path}: invalid YAML: nested too deeply") from None
    except UserInputError:
        raise
    except Exception as exc:  # ruamel's constructors: `!!float x`, `<<: !!set {}`, ...
        problem = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise UserInputError(f"{path}: invalid YAML: {problem}") from None

    def where(key: str, entry: str | None) -> str:
        sub = f"{key}.{entry}"
        return layer.where(sub if entry is not None and sub in layer.lines else key)

    if layer.values:
        _build([], {}, layer.values, where)
    return layer


def _key_line(mapping: Any, key: Any) -> int | None:
    """The line of `key` in a ruamel mapping (for a key a merge `<<` brought in, in the mapping
    merged), or None where ruamel does not know it (e.g. `!!omap`)."""
    merged = [m[-1] if isinstance(m, tuple) else m for m in getattr(mapping, "merge", ())]
    for source in (mapping, *merged):
        with contextlib.suppress(AttributeError, KeyError, TypeError, IndexError):
            position = source.lc.key(key)
            if position is not None:
                return int(position[0]) + 1
    return None


def _layer(path: Path, admin: bool, data: Any) -> ConfigFile:
    """The settings in a loaded YAML document, with the line of each key."""
    layer = ConfigFile(path, admin)
    if data is None:
        return layer
    if not isinstance(data, dict):
        raise UserInputError(f"{path}: expected a mapping of settings, found {type(data).__name__}")
    for raw_key, value in data.items():
        key = normal_key(raw_key)
        line = _key_line(data, raw_key)
        at = f"{path}:{line}" if line else str(path)
        if key == "final":
            if not admin:
                raise UserInputError(f"{at}: final: only an admin file can mark keys final")
            final = parse_final(value)
            if final is None:
                raise UserInputError(
                    f"{at}: final: expected a list of settings keys ({', '.join(KEYS)})"
                )
            layer.final = final
            if line:
                layer.lines["final"] = line
            continue
        if key not in KEYS:
            raise UserInputError(f"{at}: unknown key {str(raw_key)!r} (known: {', '.join(KEYS)})")
        layer.values[key] = plain_value(value)
        if line:
            layer.lines[key] = line
        if isinstance(value, dict):  # entries of mappings (backends, mirrors) get their lines
            for entry in value:
                entry_line = _key_line(value, entry)
                if entry_line:
                    layer.lines[f"{key}.{entry}"] = entry_line
    return layer


def plain_value(value: Any) -> Any:
    """ruamel's round-trip types (and conda's tuples and frozendicts), as plain Python values."""
    if isinstance(value, Mapping):
        return {str(k): plain_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_value(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def inside_conda() -> bool:
    """True when this runs as the conda plugin: conda is loaded, its context set up, and it
    loaded our plugin. The console script never imports conda (it would cost ~0.2 s)."""
    return "conda_pixi_backends.plugin" in sys.modules and "conda.base.context" in sys.modules


def read_condarc() -> ConfigFile | None:
    """Our keys from conda's configuration (`plugins: pixi_backends_KEY` in any .condarc, or
    CONDA_PLUGINS_PIXI_BACKENDS_KEY), with conda's merging and `#!final`, as one layer.

    Only keys someone set count; conda's defaults for our parameters do not. None when our
    parameters are not registered with conda.
    """
    from conda.base.context import context
    from conda.common.configuration import ConfigurationError, EnvRawParameter, ParameterFlag

    from conda_pixi_backends.commands.config import CONDARC_MERGED, CONDARC_PREFIX

    plugins = context.plugins
    raw_data = plugins.raw_data  # a property that rebuilds its dict: read it once

    def where(source: object, name: str) -> str:
        if source == EnvRawParameter.source:
            return f"CONDA_PLUGINS_{name.upper()}"
        line = None
        with contextlib.suppress(AttributeError, KeyError, TypeError):
            # conda keeps each file's ruamel mapping, which knows its lines
            line = context.raw_data[source]["plugins"]._raw_value.lc.key(name)[0] + 1
        if isinstance(source, (str, Path)):
            return f"{source}:{line} (plugins.{name})" if line else f"{source} (plugins.{name})"
        return f".condarc plugins.{name}"

    layer = ConfigFile(Path(".condarc"), admin=False, kind="condarc")
    for key in KEYS:
        name = CONDARC_PREFIX + key
        matches = []
        for source, params in raw_data.items():
            param = params.get(name)
            if param is None or param.value(None) is None:
                continue
            matches.append(where(source, name))
            if param.keyflag() is ParameterFlag.final:  # conda ignores every later source
                layer.final += (key,)
                break
        if not matches:
            continue
        # Lists and mappings merge across conda's files; a plain value comes from the last.
        layer.origins[key] = " + ".join(matches) if key in CONDARC_MERGED else matches[-1]
        try:
            value = getattr(plugins, name)
        except AttributeError:
            return None
        except ConfigurationError as exc:
            message = " ".join(str(exc).split())
            raise UserInputError(f"{layer.origins[key]}: {key}: {message}") from None
        layer.values[key] = plain_value(value)
    return layer


def load(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_files: Iterable[ConfigFile] | None = None,
    condarc: bool | None = None,
    workspace: Path | None = None,
) -> Loaded:
    """Effective settings from every source. Bad values raise UserInputError naming the source.

    `condarc`: read conda's configuration (default: only when running as the conda plugin).
    `workspace`: the root of the workspace at hand, whose `.pixi/config.toml` counts too.
    """
    env = dict(os.environ if environ is None else environ)
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    files = read_config_files(env, workspace) if config_files is None else list(config_files)
    if condarc if condarc is not None else inside_conda():
        layer = read_condarc()
        if layer is not None:
            files.append(layer)
    origins, kinds, winners = _origins(files, env, flags)
    finals = check_final(files, env, flags)

    def where(key: str, entry: str | None) -> str:
        layer = winners.get(key)
        if entry is not None and layer is not None and f"{key}.{entry}" in layer.lines:
            return layer.where(f"{key}.{entry}")
        return origins.get(key, key)

    settings = _build(files, env, flags, where)
    return Loaded(settings, origins, files, kinds, finals)


def _build(
    layers: list[ConfigFile],
    env: Mapping[str, str],
    flags: Mapping[str, Any],
    where: Callable[[str, str | None], str],
) -> Settings:
    """Settings from these sources; a validation error names `where(key, entry)`."""
    token = _SOURCES.set((layers, env))
    try:
        return Settings(**flags)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else "?"
        entry = getattr((error.get("ctx") or {}).get("error"), "sub", None)
        message = error["msg"].removeprefix("Value error, ")
        label = f"{key}.{entry}" if entry is not None else key
        raise UserInputError(f"{where(key, entry)}: {label}: {message}") from None
    finally:
        _SOURCES.reset(token)


def validate_value(key: str, value: Any, where: str, *, variable: bool = False) -> Any:
    """One key's value as the model makes it (e.g. an absolute Path), or a UserInputError
    naming `where`. `variable`: `value` is a variable's text."""
    env = {env_var(key): value} if variable else {}
    flags = {} if variable else {key: value}
    return getattr(_build([], env, flags, lambda _k, _e: where), key)


def env_var(key: str) -> str:
    return f"{ENV_PREFIX}{key.upper()}"


def flag(key: str) -> str:
    return f"--{key.replace('_', '-')}"


def _origins(
    layers: list[ConfigFile], env: Mapping[str, str], flags: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, str], dict[str, ConfigFile]]:
    origins, kinds, winners = {}, {}, {}
    for key in KEYS:
        origins[key], kinds[key] = "default", "default"
        for layer in layers:
            if key in layer.values:
                origins[key], kinds[key], winners[key] = layer.where(key), layer.kind, layer
        if env_var(key) in env:
            origins[key], kinds[key] = env_var(key), "variable"
            winners.pop(key, None)
        if key in flags:
            origins[key], kinds[key] = flag(key), "flag"
            winners.pop(key, None)
    return origins, kinds, winners


def check_final(
    layers: list[ConfigFile], env: Mapping[str, str], flags: Mapping[str, Any]
) -> dict[str, str]:
    """Refuse a value above a final key that differs from the final one (compared as the model
    makes them, so '/a/' equals '/a' and 'a,b' equals [a, b]). Returns key -> who made it final."""
    finals: dict[str, str] = {}
    for i, layer in enumerate(layers):
        for key in layer.final:
            if key in finals:  # the lowest final one has checked everything above it
                continue
            finals[key] = marker = layer.final_by(key)
            below = [lower for lower in layers[: i + 1] if key in lower.values]
            fixed = (
                validate_value(key, below[-1].values[key], below[-1].where(key))
                if below
                else _default(key)
            )
            above: list[tuple[str, Any, bool]] = [
                (upper.where(key), upper.values[key], False)
                for upper in layers[i + 1 :]
                if key in upper.values
            ]
            if env_var(key) in env:
                above.append((env_var(key), env[env_var(key)], True))
            if key in flags:
                above.append((flag(key), flags[key], False))
            for where, value, variable in above:
                if validate_value(key, value, where, variable=variable) != fixed:
                    advice = (
                        "change it there (#!final)"
                        if layer.kind == "condarc"
                        else "ask your admin to change it there"
                    )
                    raise UserInputError(f"{where}: {key}: {marker} marks '{key}' final; {advice}")
    return finals


def _default(key: str) -> Any:
    return getattr(_build([], {}, {}, lambda _k, _e: "default"), key)
