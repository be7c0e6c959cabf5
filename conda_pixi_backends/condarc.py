"""Our keys in conda's own configuration: declared to conda as settings (`plugins:
pixi_backends_KEY` in any .condarc, or CONDA_PLUGINS_PIXI_BACKENDS_KEY), and read back, with
conda's merging and `#!final`, as one settings layer. conda is imported only inside functions:
the plugin module, imported on every conda command, stays light."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conda_pixi_backends.config_files import plain_value
from conda_pixi_backends.errors import UserInputError
from conda_pixi_backends.settings import KEYS, Layer

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


def read_condarc() -> Layer | None:
    """Our keys from conda's configuration (`plugins: pixi_backends_KEY` in any .condarc, or
    CONDA_PLUGINS_PIXI_BACKENDS_KEY), with conda's merging and `#!final`, as one layer.

    Only keys someone set count; conda's defaults for our parameters do not. None when our
    parameters are not registered with conda.
    """
    from conda.base.context import context
    from conda.common.configuration import ConfigurationError, EnvRawParameter, ParameterFlag

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

    layer = Layer(Path(".condarc"), "condarc")
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
