"""Pixi's own configuration (`config.toml`): the keys that shape how Pixi installs backends
(default channels, mirrors, the tool platform), read where Pixi reads them, as settings layers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from conda_pixi_backends.config_files import cannot_read, config_text, read_config_bytes
from conda_pixi_backends.errors import UserInputError
from conda_pixi_backends.settings import Layer

#: Pixi's `config.toml` keys that shape backend installs, and the settings they become.
PIXI_CONFIG_KEYS = {
    "default-channels": "default_channels",
    "mirrors": "mirrors",
    "tool-platform": "platform",
}


def paths(environ: Mapping[str, str], workspace: Path | None = None) -> list[Path]:
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


def read(path: Path) -> Layer:
    """The keys of one Pixi `config.toml` that apply to backends; Pixi's other keys are its own.
    Bad TOML or a bad value names the file and the key."""
    import tomli

    try:
        data = tomli.loads(config_text(read_config_bytes(path)))
    except UnicodeDecodeError as exc:
        raise cannot_read(path, exc) from None
    except tomli.TOMLDecodeError as exc:
        raise UserInputError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:  # tomli's own limit on nested arrays and tables
        raise UserInputError(f"{path}: invalid TOML: nested too deeply") from None
    layer = Layer(path, "pixi")
    for raw, key in PIXI_CONFIG_KEYS.items():
        value = data.get(raw, data.get(raw.replace("-", "_")))
        if value is None:
            continue
        if key == "mirrors" and isinstance(value, dict):
            value = {url.rstrip("/"): mirrors for url, mirrors in value.items()}
        layer.values[key] = value
        layer.origins[key] = f"{path}: {raw}"
    return layer
