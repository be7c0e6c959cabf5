"""The effective configuration: every settings layer read in order, then merged.

Lowest first: the admin's YAML files, Pixi's config.toml files, the user's YAML file, conda's
.condarc keys (as the conda plugin), the CONDA_PIXI_BACKENDS_* variables, the command's flags.
`settings.merge` decides; this module only finds and reads the layers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from conda_pixi_backends import config_files, pixi_config
from conda_pixi_backends.settings import Layer, Loaded, flags_layer, merge, variables_layer


def load(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_files: Iterable[Layer] | None = None,
    condarc: bool | None = None,
    workspace: Path | None = None,
) -> Loaded:
    """Effective settings from every source. Bad values raise UserInputError naming the source.

    `config_files`: the file layers to use instead of reading them (tests).
    `condarc`: read conda's configuration (default: only when running as the conda plugin).
    `workspace`: the root of the workspace at hand, whose `.pixi/config.toml` counts too.
    """
    env = os.environ if environ is None else environ
    files = read_files(env, workspace) if config_files is None else list(config_files)
    if condarc if condarc is not None else _inside_conda():
        from conda_pixi_backends import condarc as conda_config

        layer = conda_config.read_condarc()
        if layer is not None:
            files.append(layer)
    return merge([*files, variables_layer(env), flags_layer(flags or {})])


def read_files(environ: Mapping[str, str], workspace: Path | None = None) -> list[Layer]:
    """The admin files that exist, then Pixi's configuration (see `pixi_config.paths`), then
    the user's file if it exists. Pixi's sits below the user's own file for this tool, which is
    the more specific of the two, and above the admin's, whose `final` keys it cannot change."""
    present = config_files.config_file_present
    layers = [
        config_files.read_config_file(p, admin=True)
        for p in config_files.system_config_paths(environ)
        if present(p)
    ]
    layers += [pixi_config.read(p) for p in pixi_config.paths(environ, workspace) if present(p)]
    user = config_files.user_config_path(environ)
    if present(user):
        layers.append(config_files.read_config_file(user, admin=False))
    return layers


def _inside_conda() -> bool:
    """True when this runs as the conda plugin: conda is loaded, its context set up, and it
    loaded our plugin. The console script never imports conda (it would cost ~0.2 s)."""
    import sys

    return "conda_pixi_backends.plugin" in sys.modules and "conda.base.context" in sys.modules
