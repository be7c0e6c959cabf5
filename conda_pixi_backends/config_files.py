"""The YAML settings files: where they are, and reading them safely with the line of every key
(`config_edit` changes them)."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conda_pixi_backends.errors import UserInputError, command
from conda_pixi_backends.setting_values import kind, split_list
from conda_pixi_backends.settings import KEYS, SYSTEM_CONFIG_VAR, USER_CONFIG_VAR, Layer


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


def cannot_read(path: Path | str, exc: Exception) -> UserInputError:
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
        raise cannot_read(path, exc) from None
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
        raise cannot_read(path, exc) from None
    if len(data) > MAX_CONFIG_BYTES:  # it grew since
        raise _too_large(path)
    return data


def config_text(data: bytes) -> str:
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

    class Bounded(yaml.Constructor):  # type: ignore[name-defined]
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


def normal_key(raw_key: object) -> str:
    """YAML keys may be written with '-' or '_'."""
    return str(raw_key).replace("-", "_")


def parse_final(value: Any) -> tuple[str, ...] | None:
    """The keys a `final:` value lists, or None when it is not a list of known keys."""
    final = split_list(value)
    if not isinstance(final, list) or not all(normal_key(k) in KEYS for k in final):
        return None
    return tuple(normal_key(k) for k in final)


def read_config_file(path: Path, admin: bool) -> Layer:
    """Read one YAML file; unknown keys, malformed YAML and bad values name the file and line.

    Each file's values are checked on their own, so a broken file is reported even when a
    higher layer (a variable, a flag) sets the same keys.
    """
    from ruamel.yaml.error import YAMLError

    raw = read_config_bytes(path)  # a FIFO, a device, a huge file: refused unread
    try:
        text = config_text(raw)
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


def _layer(path: Path, admin: bool, data: Any) -> Layer:
    """The settings in a loaded YAML document, with the line of each key."""
    layer = Layer(path, "admin" if admin else "user")
    if data is None:
        return layer
    if not isinstance(data, dict):
        raise UserInputError(f"{path}: expected a mapping of settings, found {kind(data)}")
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
            import shlex

            name = str(raw_key)
            fix = f"{command()} config unset --file {shlex.quote(str(path))} {shlex.quote(name)}"
            raise UserInputError(
                f"{at}: unknown key {name!r} (known: {', '.join(KEYS)})"
                + (f"; remove it with: {fix}" if name.isprintable() else "")
            )
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
