"""Editing a YAML settings file in place (`config set|unset`): the entry's lines replaced in
the text, every other byte kept, the value checked and `final` honoured as loading would."""

from __future__ import annotations

import re
from collections.abc import Mapping
from io import StringIO
from pathlib import Path
from typing import Any

from conda_pixi_backends.config_files import (
    config_file_present,
    load_yaml,
    normal_key,
    parse_final,
    plain_value,
    read_config_bytes,
    read_config_file,
    system_config_paths,
    system_config_places,
    user_config_path,
)
from conda_pixi_backends.errors import UserInputError
from conda_pixi_backends.setting_values import kind
from conda_pixi_backends.settings import KEYS, SYSTEM_CONFIG_VAR, Layer, merge, validate_value


def _system_file(place: Path) -> Path:
    """`--system` writes the first admin place: a file, or `pixi-backends.yml` in a folder."""
    return place / "pixi-backends.yml" if place.is_dir() else place


def _rank(path: Path, places: list[Path]) -> tuple[int, int, str] | None:
    """Where `path` sits among the admin files, in the order settings reads them; None when it
    is not an admin file (the ranks of a folder's files follow its `*.yml`, then `*.yaml`)."""
    for i, place in enumerate(places):
        place = place.absolute()
        if path == place:
            return (i, 0, "")
        if path.parent == place and path.suffix in (".yml", ".yaml"):
            return (i, 1 + (path.suffix == ".yaml"), path.name)
    return None


def target_file(environ: Mapping[str, str], *, system: bool, file: Path | None) -> Path:
    """The file `config set|unset` edits: `file`, else the first admin place (`system`; a
    folder gets `pixi-backends.yml`), else the user's file."""
    if file is not None:
        return file.expanduser().absolute()
    if not system:
        return user_config_path(environ).absolute()
    places = system_config_places(environ)
    if not places:
        raise UserInputError(
            f"--system: {SYSTEM_CONFIG_VAR} is empty, so there is no admin file; use --file"
        )
    return _system_file(places[0]).expanduser().absolute()


def set_key(path: Path, key: str, text: str, environ: Mapping[str, str]) -> None:
    """Set `key` to the YAML value `text` in the file `path`, once the value is checked and no
    admin file below `path` marks the key final; `final` itself only in an admin file."""
    from ruamel.yaml.error import YAMLError

    try:
        value = load_yaml(text, f"config set {key}: VALUE", typ="safe")
    except YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserInputError(f"config set {key}: VALUE is not valid YAML: {problem}") from None
    places = system_config_places(environ)
    rank = _rank(path, places)
    if key == "final":
        if rank is None:
            raise UserInputError(
                f"config set final: {path} is not an admin file; only an admin file can mark "
                "keys final (use --system, or --file with an admin file)"
            )
        final = parse_final(value)
        if final is None:
            raise UserInputError(
                f"config set final: expected a list of settings keys ({', '.join(KEYS)})"
            )
        value = list(final)
    else:
        _refuse_final(path, rank, key, value, environ, places)
    _write(path, key, value)


def unset_key(path: Path, key: str) -> bool:
    """Remove `key` from the file `path`; whether it was there."""
    return _write(path, key, _UNSET)


def _refuse_final(
    path: Path,
    rank: tuple[int, int, str] | None,
    key: str,
    value: Any,
    environ: Mapping[str, str],
    places: list[Path],
) -> None:
    """Check `value` as the settings would, and refuse what they would refuse: a value for
    `key` above an admin file that marks it final (every admin file is below a user file)."""
    below: list[Layer] = []
    for admin in system_config_paths(environ):
        admin = admin.absolute()
        if not config_file_present(admin) or admin == path:
            continue
        admin_rank = _rank(admin, places)
        if rank is None or (admin_rank is not None and admin_rank < rank):
            layer = read_config_file(admin, admin=True)
            values = {key: layer.values[key]} if key in layer.values else {}
            final = (key,) if key in layer.final else ()
            below.append(Layer(layer.path, layer.kind, values, layer.lines, final))
    validate_value(key, value, f"config set {key}")
    merge([*below, Layer(path, "admin" if rank is not None else "user", {key: value})])


class _Unset:
    pass


_UNSET = _Unset()


def _write(path: Path, key: str, value: Any) -> bool:
    """Set (or, with _UNSET, remove) `key` in a YAML file, leaving every other byte as it was.

    The entry's lines are found with ruamel.yaml and replaced in the text, in the file's line
    ends (CRLF stays CRLF) and after its BOM; should the result not read back as intended (an
    unusual layout), the whole file is dumped round-trip instead. A symlink (or a chain of
    them) is followed: the file it points to is edited, the link left as it is. A FIFO, a
    device, a folder, a huge file are refused unread, as `settings` refuses them.
    Returns whether anything changed.
    """
    from ruamel.yaml import YAML

    existed = config_file_present(path)  # a FIFO, a device, a loop: refused here
    raw = read_config_bytes(path) if existed else b""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UserInputError(f"{path}: not UTF-8 text") from None
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    text = text[len(bom) :]
    first_end = re.search(r"\r\n|\r|\n", text)
    newline = first_end.group() if first_end else "\n"
    try:
        data = load_yaml(text, path)  # nested aliases that expand too far: refused
    except UserInputError:
        raise
    except Exception as exc:  # YAMLError; a constructor's (`!!float x`); RecursionError
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise UserInputError(f"{where}: invalid YAML; fix it before editing") from None
    if data is not None and not isinstance(data, dict):
        raise UserInputError(f"{path}: expected a mapping of settings, found {kind(data)}")
    expected = _as_plain(data or {})  # every key, a merge key's (`<<: *defaults`) too
    if value is _UNSET and key not in expected:
        return False
    if value is _UNSET:
        expected.pop(key)
    else:
        expected[key] = value
    # the file's own entries of `key`: what a merge key brings in has no line of its own
    present = [k for k in _own_keys(data) if normal_key(k) == key]

    new = _splice(text, data, key, present, value, newline)
    if new is None or not _reads_as(new, expected, path):  # fall back to ruamel's round trip
        data = data if data is not None else YAML(typ="rt").map()
        matching = [k for k in data if normal_key(k) == key]
        for k in matching if value is _UNSET else present[1:]:
            del data[k]
        if value is not _UNSET:
            data[present[0] if present else key] = value
        out = StringIO()
        YAML(typ="rt").dump(data, out)
        new = re.sub(r"\r\n|\r|\n", newline, out.getvalue())  # in the file's line ends
        if not _reads_as(new, expected, path):  # e.g. unset what a merge key brings in
            raise UserInputError(
                f"{path}: cannot {'unset' if value is _UNSET else 'set'} {key} here without "
                "changing other settings (a merge key '<<' or an unusual layout); edit it by hand"
            )
    _replace(path, (bom + new).encode("utf-8"))
    return True


def _replace(path: Path, content: bytes) -> None:
    """Write `content` to the file `path` names (through symlinks: the link stays), atomically,
    flushed to disk, with the target's permission bits (and owner, where allowed)."""
    from conda_pixi_backends.atomic import atomic_write

    error = "{path}: cannot write: {reason}"
    atomic_write(path, content, follow_symlinks=True, keep_mode=True, fsync=True, error=error)


def _reads_as(text: str | None, expected: dict[str, Any], path: Path) -> bool:
    """Whether `text` loads as the settings `expected`."""

    if text is None:
        return False
    try:
        data = load_yaml(text, path)
        return isinstance(data, (dict, type(None))) and _as_plain(data or {}) == expected
    except Exception:  # YAMLError, UserInputError, a constructor's, RecursionError
        return False


def _own_keys(data: Any) -> list[Any]:
    """The keys of a loaded mapping that are written in it, not brought in by a merge key."""
    if data is None:
        return []
    if hasattr(data, "non_merged_items"):
        return [k for k, _ in data.non_merged_items()]
    return list(data)


def _as_plain(data: Any) -> dict[str, Any]:

    return {normal_key(k): plain_value(v) for k, v in data.items()}


def _splice(
    text: str, data: Any, key: str, present: list[Any], value: Any, newline: str = "\n"
) -> str | None:
    """The text with the entries `present` replaced by `key: value` (or removed), or the entry
    added after the last one, in `newline` line ends; None when the file's layout is not a plain
    block mapping."""
    if value is _UNSET and not present:
        return None
    lines = text.splitlines(keepends=True)
    keys = _own_keys(data)
    if keys and (data.fa.flow_style() or any(data.lc.key(k)[1] != 0 for k in keys)):
        return None
    starts = [data.lc.key(k)[0] for k in keys]
    spans = {}
    for i, k in enumerate(keys):
        limit = starts[i + 1] if i + 1 < len(keys) else len(lines)
        end = starts[i] + 1
        for n in range(starts[i] + 1, limit):  # the value's lines: not trailing comments
            stripped = lines[n].strip()
            if re.match(r"""(<<|"<<"|'<<')[ \t]*:""", lines[n]):
                break  # a merge key: an entry with no line in `data`
            if stripped and not stripped.startswith("#") and stripped != "...":
                end = n + 1
        spans[k] = (starts[i], end)
    entry = "" if value is _UNSET else _render(present[0] if present else key, value)
    entry = entry.replace("\n", newline)
    for k in reversed(present[1:]):  # a key written twice ('channel-alias', 'channel_alias')
        del lines[spans[k][0] : spans[k][1]]
    if present:
        start, end = spans[present[0]]
        lines[start:end] = [entry]
    else:
        at = spans[keys[-1]][1] if keys else len(lines)
        if at and not lines[at - 1].endswith(("\n", "\r")):
            lines[at - 1] += newline
        lines.insert(at, entry)
    return "".join(lines)


def _render(key: str, value: Any) -> str:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = StringIO()
    yaml.dump({str(key): value}, out)
    return out.getvalue()
