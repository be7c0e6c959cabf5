"""Checking one setting's value: each key's parser, applied alike to YAML values, conda's
values and the text of variables and flags. A parser returns the value as the settings hold it
or raises ValueError (EntryError for an entry of a mapping) saying what is wrong; `settings`
adds where the value came from."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from conda_pixi_backends.errors import UserInputError
from conda_pixi_backends.model import normalize_channel, normalize_spec

KNOWN_PLATFORMS = (
    "noarch", "linux-64", "linux-aarch64", "linux-ppc64le", "linux-s390x", "linux-armv7l",
    "osx-64", "osx-arm64", "win-64", "win-arm64", "emscripten-wasm32", "wasi-wasm32",
)  # fmt: skip
#: Characters a store path cannot hold: PIXI_BUILD_BACKEND_OVERRIDE and PATH could not carry them.
_ROOT_FORBIDDEN = (",", "=", os.pathsep)
_TRUE = ("true", "yes", "on", "1", "y", "t")
_FALSE = ("false", "no", "off", "0", "n", "f")


class EntryError(ValueError):
    """A bad entry inside a mapping-valued key: `entry` lets the error name that entry's line."""

    def __init__(self, entry: str, message: str) -> None:
        super().__init__(message)
        self.entry = entry


def kind(value: Any) -> str:
    """What a value is, in YAML's words, for messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def split_list(value: Any, separator: str = ",") -> Any:
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


def _text(value: Any, what: str = "text") -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected {what}, found {kind(value)}")
    return value


def _texts(value: Any, what: str) -> list[str]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list of {what}, found {kind(value)}")
    odd = [v for v in value if not isinstance(v, str)]
    if odd:
        raise ValueError(f"expected a list of {what}, found {kind(odd[0])} in it")
    return list(value)


def _specs(value: Any, entry: str | None = None) -> list[str]:
    """MatchSpecs, whitespace-normalized; checked as lightly as the manifests' ones. `entry`:
    the mapping entry (a platform of `backends`) that holds the list."""
    try:
        texts = _texts(value, "MatchSpecs")
        return [normalize_spec(text, "spec")[1] for text in texts]
    except (ValueError, UserInputError) as exc:
        message = str(exc).removeprefix("spec: ")
        raise (EntryError(entry, message) if entry is not None else ValueError(message)) from None


def _channels(value: Any) -> list[str]:
    """Channels that requests can name; kept as written, since the alias and the folder of
    relative paths apply when a request is made."""
    channels = _texts(split_list(value, ","), "channels")
    if not channels:
        raise ValueError("an empty list: name at least one channel")
    for channel in channels:
        try:
            normalize_channel(channel, Path("/"), what="channels")
        except UserInputError as exc:
            raise ValueError(str(exc).removeprefix("channels: ")) from None
    return channels


def _platform_name(value: Any) -> str:
    value = _text(value, "a platform")
    if value not in KNOWN_PLATFORMS:
        raise ValueError(f"unknown platform {value!r} (known: {', '.join(KNOWN_PLATFORMS)})")
    return value


def _backends(value: Any) -> list[str] | dict[str, list[str]]:
    value = split_list(value, ";")
    if not isinstance(value, Mapping):
        if not isinstance(value, list):
            raise ValueError(
                f"expected a list of MatchSpecs, or a mapping of platform to list; found {kind(value)}"
            )
        return _specs(value)
    for platform in value:
        if platform not in KNOWN_PLATFORMS:
            raise EntryError(
                str(platform),
                f"unknown platform {platform!r} (known: {', '.join(KNOWN_PLATFORMS)})",
            )
    return {str(p): _specs(specs, str(p)) for p, specs in value.items()}


def _mirrors(value: Any) -> dict[str, list[str]]:
    value = split_list(value) if isinstance(value, str) else value
    if not isinstance(value, Mapping):
        raise ValueError(
            f"expected a mapping of channel URL to a list of mirror URLs, found {kind(value)}"
        )
    for channel, urls in value.items():
        if not isinstance(channel, str) or "://" not in channel:
            raise EntryError(str(channel), "a key must be a channel URL (scheme://...)")
        if (
            not isinstance(urls, list)
            or not urls
            or not all(isinstance(u, str) and "://" in u for u in urls)
        ):
            raise EntryError(channel, "expected a non-empty list of mirror URLs")
    return {channel: list(urls) for channel, urls in value.items()}


def _s3(value: Any) -> dict[str, dict[str, Any]]:
    """Per bucket, what py-rattler needs to reach it: both endpoint_url and region (it takes
    no partial options), and path-style addressing or not (Pixi's `force-path-style`)."""
    value = split_list(value) if isinstance(value, str) else value
    if not isinstance(value, Mapping):
        raise ValueError(
            "expected a mapping of bucket name to {endpoint_url, region, force_path_style}, "
            f"found {kind(value)}"
        )
    buckets = {}
    for bucket, options in value.items():
        if not isinstance(bucket, str) or not bucket or "/" in bucket:
            raise EntryError(str(bucket), "a key must be an S3 bucket name")
        if not isinstance(options, Mapping):
            raise EntryError(bucket, f"expected a mapping, found {kind(options)}")
        options = {str(k).replace("-", "_"): v for k, v in options.items()}
        unknown = sorted(set(options) - {"endpoint_url", "region", "force_path_style"})
        if unknown:
            raise EntryError(
                bucket,
                f"unknown key {unknown[0]!r} (known: endpoint_url, region, force_path_style)",
            )
        try:
            url = _text(options.get("endpoint_url"), "an endpoint_url")
            region = _text(options.get("region"), "a region")
            if "://" not in url:
                raise ValueError(f"endpoint_url {url!r} is not a URL (scheme://...)")
            path_style = _boolean(options.get("force_path_style", False))
        except ValueError as exc:
            raise EntryError(bucket, str(exc)) from None
        buckets[bucket] = {"endpoint_url": url, "region": region, "force_path_style": path_style}
    return buckets


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    shown = repr(value) if isinstance(value, str) else kind(value)
    raise ValueError(f"expected true or false (or yes/no, on/off, 1/0), found {shown}")


def _store_path(value: Any) -> Path:
    text = str(value) if isinstance(value, Path) else _text(value, "a path")
    if not text.strip():  # Path("") is the current folder: a store wherever the command runs
        raise ValueError("an empty path: name the store's folder")
    try:
        root = Path(text).expanduser()
    except RuntimeError:  # `~user` of an unknown user, or no home folder
        raise ValueError(f"cannot expand '~' in {text!r}: no such user or home") from None
    bad = [c for c in _ROOT_FORBIDDEN if c in str(root)]
    if bad:
        from conda_pixi_backends.overrides import OVERRIDE

        raise ValueError(
            f"a store path cannot contain {bad[0]!r}: {OVERRIDE} and PATH could not carry it"
        )
    try:
        str(root).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"{str(root)!r} is not valid UTF-8: launchers and activation scripts could not name it"
        ) from None
    return root.absolute()


#: How each key's value is checked and made: YAML values, conda's values and variables' text
#: all pass through the same function. It raises ValueError (or EntryError) with the problem.
PARSERS: dict[str, Callable[[Any], Any]] = {
    "root": _store_path,
    "channels": _channels,
    "platform": _platform_name,
    "constraints": lambda value: _specs(split_list(value, ";")),
    "default_channels": _channels,
    "channel_alias": _text,
    "backends": _backends,
    "mirrors": _mirrors,
    "s3": _s3,
    "offline": _boolean,
    "user_root": _store_path,
}
