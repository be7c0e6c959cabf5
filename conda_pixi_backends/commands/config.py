"""`config show|set|unset`: the effective settings and where each comes from; edit a YAML file.

Also the `.condarc` side: `condarc_settings()` declares our keys to conda (the plugin's
`conda_settings` hook), so this module imports nothing heavy at module level.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conda_pixi_backends.settings import ConfigFile, Loaded

#: conda's name for KEY is `plugins: pixi_backends_KEY` (variable CONDA_PLUGINS_PIXI_BACKENDS_KEY).
CONDARC_PREFIX = "pixi_backends_"
#: Keys whose conda parameter is a list or a mapping: conda merges them across its files.
CONDARC_MERGED = ("channels", "constraints", "backends", "mirrors")
_CONDARC_HELP = {
    "root": "conda-pixi-backends: the store of shared backend environments.",
    "channels": "conda-pixi-backends: channels for backends that name none.",
    "platform": "conda-pixi-backends: the platform backends are installed for.",
    "constraints": "conda-pixi-backends: MatchSpecs every backend environment must satisfy.",
    "channel_alias": "conda-pixi-backends: the URL a bare channel name is joined to.",
    "backends": "conda-pixi-backends: MatchSpecs of the backends to provision.",
    "mirrors": "conda-pixi-backends: channel URL to a list of mirror URLs.",
    "default_channels": "conda-pixi-backends: channels for recipes outside any workspace.",
    "offline": "conda-pixi-backends: install from caches only.",
    "user_root": "conda-pixi-backends: a writable store beside a read-only shared root.",
}


def condarc_settings() -> Iterator[Any]:
    """Each key as a conda setting (`CondaSetting`). Defaults here are never used: only values
    someone set in a .condarc or CONDA_PLUGINS_* variable override the other layers."""
    from conda.common.configuration import MapParameter, PrimitiveParameter, SequenceParameter
    from conda.plugins.types import CondaSetting

    def text() -> PrimitiveParameter:
        return PrimitiveParameter("", element_type=str)

    parameters = {
        "root": text(),
        "channels": SequenceParameter(text()),
        "default_channels": SequenceParameter(text()),
        "platform": text(),
        # MatchSpecs hold commas: a CONDA_PLUGINS_* variable separates them with ';'
        "constraints": SequenceParameter(text(), string_delimiter=";"),
        "channel_alias": text(),
        # a conda parameter has one type: the plain list here; per platform in YAML files
        "backends": SequenceParameter(text(), string_delimiter=";"),
        "mirrors": MapParameter(SequenceParameter(text())),
        "offline": PrimitiveParameter(False),
        "user_root": text(),
    }
    for key, parameter in parameters.items():
        yield CondaSetting(
            name=CONDARC_PREFIX + key, description=_CONDARC_HELP[key], parameter=parameter
        )


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "config",
        help="show the effective settings and their sources; edit a settings file",
        description=(
            "Show every effective setting and where it comes from, or set and unset a key in "
            "a YAML settings file (the user's by default), keeping the rest of the file as it is."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True

    show = actions.add_parser(
        "show", parents=[parent], help="print the effective settings (all, or the KEYs given)"
    )
    show.add_argument("keys", nargs="*", metavar="KEY")
    show.add_argument(
        "--sources", action="store_true", help="also where each value comes from, and final keys"
    )
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(func=run)

    edit = argparse.ArgumentParser(add_help=False)
    target = edit.add_mutually_exclusive_group()
    target.add_argument(
        "--user", dest="target", action="store_const", const="user",
        help="the user's settings file (the default)",
    )  # fmt: skip
    target.add_argument(
        "--system", dest="target", action="store_const", const="system",
        help="the first admin file (/etc/conda/pixi-backends.yml, or the first entry of "
        "CONDA_PIXI_BACKENDS_SYSTEM_CONFIG)",
    )  # fmt: skip
    target.add_argument("--file", type=Path, metavar="F", help="this YAML file")
    put = actions.add_parser(
        "set",
        parents=[parent, edit],
        help="set KEY to VALUE in a settings file",
        description="VALUE is YAML: `channels '[a, b]'`, `offline true`, `final '[root]'`.",
    )
    put.add_argument("key", metavar="KEY")
    put.add_argument("value", metavar="VALUE")
    put.set_defaults(func=run)
    drop = actions.add_parser(
        "unset", parents=[parent, edit], help="remove KEY from a settings file"
    )
    drop.add_argument("key", metavar="KEY")
    drop.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "show":
        return show(args)
    return edit(args)


# --- show ---------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def show(args: argparse.Namespace) -> int:
    from conda_pixi_backends import settings as layered
    from conda_pixi_backends.errors import UserInputError

    keys = [layered.normal_key(k) for k in args.keys] or list(layered.KEYS)
    unknown = [k for k in keys if k not in layered.KEYS]
    if unknown:
        raise UserInputError(f"KEY: unknown key '{unknown[0]}' (known: {', '.join(layered.KEYS)})")
    env = dict(os.environ)
    from conda_pixi_backends.commands.common import workspace_root

    loaded = layered.load({"root": args.root}, environ=env, workspace=workspace_root([]))
    values = {key: _jsonable(getattr(loaded.settings, key)) for key in keys}
    if not args.sources:
        if args.json:
            print(json.dumps(values, indent=2))
        else:
            for key, value in values.items():
                print(f"{key}: {json.dumps(value, ensure_ascii=False)}")
        return 0
    entries = {
        key: {
            "value": values[key],
            "source": loaded.origins[key],
            "kind": loaded.kinds[key],
            "final": loaded.finals.get(key),
        }
        for key in keys
    }
    if args.json:
        print(json.dumps(_sources_json(loaded, entries, env), indent=2))
        return 0
    for key, entry in entries.items():
        final = f"; final by {entry['final']}" if entry["final"] else ""
        print(
            f"{key}: {json.dumps(entry['value'], ensure_ascii=False)}  # {entry['source']}{final}"
        )
    return 0


def _sources_json(loaded: Loaded, entries: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    from conda_pixi_backends import settings as layered

    places = layered.system_config_places(env)
    return {
        "settings": entries,
        "files": [
            {"path": str(layer.path), "kind": layer.kind}
            for layer in loaded.files
            if layer.kind != "condarc"
        ],
        "user_config": str(layered.user_config_path(env)),
        "system_config": str(_system_file(places[0])) if places else None,
    }


# --- set and unset ------------------------------------------------------------------------


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


def edit(args: argparse.Namespace) -> int:
    from ruamel.yaml.error import YAMLError

    from conda_pixi_backends import settings as layered
    from conda_pixi_backends.errors import UserInputError

    env = dict(os.environ)
    places = layered.system_config_places(env)
    key = layered.normal_key(args.key)
    if key not in (*layered.KEYS, "final"):
        raise UserInputError(
            f"KEY: unknown key '{args.key}' (known: {', '.join(layered.KEYS)}, final)"
        )
    if args.file is not None:
        path = args.file.expanduser().absolute()
    elif args.target == "system":
        if not places:
            raise UserInputError(
                f"--system: {layered.SYSTEM_CONFIG_VAR} is empty, so there is no admin file; "
                "use --file"
            )
        path = _system_file(places[0]).expanduser().absolute()
    else:
        path = layered.user_config_path(env).absolute()
    rank = _rank(path, places)

    if args.action == "unset":
        changed = _write(path, key, _UNSET)
        print(f"{path}: {'removed' if changed else 'was not set:'} {key}")
        return 0

    try:
        value = layered.load_yaml(args.value, f"config set {key}: VALUE", typ="safe")
    except YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserInputError(f"config set {key}: VALUE is not valid YAML: {problem}") from None
    if key == "final":
        if rank is None:
            raise UserInputError(
                f"config set final: {path} is not an admin file; only an admin file can mark "
                "keys final (use --system, or --file with an admin file)"
            )
        final = layered.parse_final(value)
        if final is None:
            raise UserInputError(
                f"config set final: expected a list of settings keys ({', '.join(layered.KEYS)})"
            )
        value = list(final)
    else:
        layered.validate_value(key, value, f"config set {key}")
        _refuse_final(path, rank, key, value, env, places)
    _write(path, key, value)
    print(f"{path}: set {key}")
    return 0


def _refuse_final(
    path: Path,
    rank: tuple[int, int, str] | None,
    key: str,
    value: Any,
    env: dict[str, str],
    places: list[Path],
) -> None:
    """Refuse what `load` would refuse: a value for `key` above an admin file that marks it
    final (every admin file is below a user file)."""
    import dataclasses

    from conda_pixi_backends import settings as layered

    below: list[ConfigFile] = []
    for admin in layered.system_config_paths(env):
        admin = admin.absolute()
        if not layered.config_file_present(admin) or admin == path:
            continue
        admin_rank = _rank(admin, places)
        if rank is None or (admin_rank is not None and admin_rank < rank):
            layer = layered.read_config_file(admin, admin=True)
            below.append(
                dataclasses.replace(layer, final=tuple(k for k in layer.final if k == key))
            )
    target = layered.ConfigFile(path, admin=rank is not None, values={key: value})
    layered.check_final([*below, target], {}, {})


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

    from conda_pixi_backends import settings as layered
    from conda_pixi_backends.errors import UserInputError

    existed = layered.config_file_present(path)  # a FIFO, a device, a loop: refused here
    raw = layered.read_config_bytes(path) if existed else b""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UserInputError(f"{path}: not UTF-8 text") from None
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    text = text[len(bom) :]
    first_end = re.search(r"\r\n|\r|\n", text)
    newline = first_end.group() if first_end else "\n"
    try:
        data = layered.load_yaml(text, path)  # nested aliases that expand too far: refused
    except UserInputError:
        raise
    except Exception as exc:  # YAMLError; a constructor's (`!!float x`); RecursionError
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise UserInputError(f"{where}: invalid YAML; fix it before editing") from None
    if data is not None and not isinstance(data, dict):
        raise UserInputError(f"{path}: expected a mapping of settings, found {type(data).__name__}")
    expected = _as_plain(data or {})  # every key, a merge key's (`<<: *defaults`) too
    if value is _UNSET and key not in expected:
        return False
    if value is _UNSET:
        expected.pop(key)
    else:
        expected[key] = value
    # the file's own entries of `key`: what a merge key brings in has no line of its own
    present = [k for k in _own_keys(data) if layered.normal_key(k) == key]

    new = _splice(text, data, key, present, value, newline)
    if not _reads_as(new, expected, path):  # fall back to ruamel's own round trip
        data = data if data is not None else YAML(typ="rt").map()
        matching = [k for k in data if layered.normal_key(k) == key]
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
    """Write `content` to the file `path` names (through symlinks: the link stays), atomically:
    a temporary file in the target's folder renamed over it, with the target's permission bits
    (and owner, where allowed), so a reader never sees half a file."""
    import stat
    import tempfile

    from conda_pixi_backends.errors import OperationError

    target = Path(os.path.realpath(path))  # a link to nothing: the file it names is created
    try:
        info: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OperationError(f"{path}: cannot write: {exc.strerror or exc}") from None
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        if info is not None:
            os.chmod(tmp, stat.S_IMODE(info.st_mode))
            owner = (info.st_uid, info.st_gid)
            if hasattr(os, "getuid") and owner != (os.getuid(), os.getgid()):
                with contextlib.suppress(OSError):  # root editing another's file keeps its owner
                    os.chown(tmp, info.st_uid, info.st_gid)
        else:  # mkstemp's 0600: a new file gets the usual mode instead
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise OperationError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _reads_as(text: str | None, expected: dict[str, Any], path: Path) -> bool:
    """Whether `text` loads as the settings `expected`."""

    from conda_pixi_backends import settings as layered

    if text is None:
        return False
    try:
        data = layered.load_yaml(text, path)
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
    from conda_pixi_backends import settings as layered

    return {layered.normal_key(k): layered.plain_value(v) for k, v in data.items()}


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
