"""The project's extension points, so that other packages can teach it new manifest kinds.

A plugin is a module or object with `@hookimpl`-marked functions, announced through the
`conda_pixi_backends` entry-point group. Plugins loaded from entry points are called before the
built-in readers, so a plugin can take over a file kind.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from conda_pixi_backends.model import Declaration

PROJECT = "conda_pixi_backends"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def cpb_read_manifest(path: Path) -> list[Declaration] | None:
    """The backend declarations of one manifest file, or None when it is not this reader's kind.

    Returning None lets the next reader try; a file of this kind that is wrong raises
    `UserInputError` naming the file and key.
    """


@functools.cache
def plugin_manager() -> pluggy.PluginManager:
    """The one plugin manager, built on first use so that importing this module stays cheap."""
    from conda_pixi_backends import manifests

    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(sys.modules[__name__])
    pm.register(manifests)
    pm.load_setuptools_entrypoints(PROJECT)
    return pm
