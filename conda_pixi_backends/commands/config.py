"""`config show|set|unset`: the effective settings and where each comes from; edit a YAML file."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from conda_pixi_backends.commands import SUMMARIES, common

if TYPE_CHECKING:
    from conda_pixi_backends.settings import Loaded


class SettingRow(TypedDict):
    """One key in `config show --sources --json` (`settings`)."""

    #: The effective value, as JSON (paths as text).
    value: Any
    #: Where it comes from: file:line, variable, flag, or "default"; and that layer's kind
    #: (default, admin, pixi, user, condarc, variable, flag).
    source: str
    kind: str
    #: Where the key was made final; null when it is not.
    final: str | None


class FileRow(TypedDict):
    """A settings file read, lowest first (`files`)."""

    path: str
    kind: str


class SourcesResult(TypedDict):
    """What `config show --sources --json` prints. Without `--sources`, `--json` prints only
    each key's value."""

    settings: dict[str, SettingRow]
    files: list[FileRow]
    user_config: str
    #: The admin file `config set --system` writes; null when none is configured.
    system_config: str | None


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "config",
        help=SUMMARIES["config"],
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
    common.add_json_flag(show)
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

    from conda_pixi_backends.config_files import normal_key
    from conda_pixi_backends.configuration import load
    from conda_pixi_backends.errors import UserInputError
    from conda_pixi_backends.settings import KEYS

    keys = [normal_key(k) for k in args.keys] or list(KEYS)
    unknown = [k for k in keys if k not in KEYS]
    if unknown:
        raise UserInputError(f"KEY: unknown key '{unknown[0]}' (known: {', '.join(KEYS)})")
    env = dict(os.environ)
    loaded = load({"root": args.root}, environ=env, workspace=common.workspace_root([]))
    values = {key: _jsonable(getattr(loaded.settings, key)) for key in keys}
    if not args.sources:
        if args.json:
            print(json.dumps(values, indent=2))
        else:
            for key, value in values.items():
                print(f"{key}: {json.dumps(value, ensure_ascii=False)}")
        return 0
    entries: dict[str, SettingRow] = {
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


def _sources_json(
    loaded: Loaded, entries: dict[str, SettingRow], env: dict[str, str]
) -> SourcesResult:
    from conda_pixi_backends import config_edit, config_files

    places = config_files.system_config_places(env)
    return {
        "settings": entries,
        "files": [
            {"path": str(layer.path), "kind": layer.kind}
            for layer in loaded.files
            if layer.kind != "condarc"
        ],
        "user_config": str(config_files.user_config_path(env)),
        "system_config": str(config_edit.target_file(env, system=True, file=None))
        if places
        else None,
    }


# --- set and unset ------------------------------------------------------------------------


def edit(args: argparse.Namespace) -> int:
    from conda_pixi_backends import config_edit, config_files
    from conda_pixi_backends.errors import UserInputError
    from conda_pixi_backends.settings import KEYS

    env = dict(os.environ)
    key = config_files.normal_key(args.key)
    # An unknown key can be unset: one written by mistake stops every command until it goes.
    if key not in (*KEYS, "final") and args.action != "unset":
        raise UserInputError(f"KEY: unknown key '{args.key}' (known: {', '.join(KEYS)}, final)")
    path = config_edit.target_file(env, system=args.target == "system", file=args.file)
    if args.action == "unset":
        changed = config_edit.unset_key(path, key)
        print(f"{path}: {'removed' if changed else 'was not set:'} {key}")
        return 0
    config_edit.set_key(path, key, args.value, env)
    print(f"{path}: set {key}")
    return 0
