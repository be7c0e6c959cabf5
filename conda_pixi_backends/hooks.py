"""The project's extension point: discovery of source packages, one reader per kind of source.

A reader is a function marked `@hookimpl` that implements `cpb_discover_source`. It is given a
path (a folder, or a file that someone pointed at) and returns a `SourcePackage` when the path
is of its kind, else None so that the next reader tries. The built-in readers are, in the
order Pixi tries them: Pixi manifests (`discovery/pixi_manifest.py`), rattler-build recipes
(`discovery/recipe.py`) and ROS `package.xml` files (`discovery/ros.py`).

A site adds its own kind of source with a module of such functions, announced through the
`conda_pixi_backends` entry-point group; readers from entry points are asked before the
built-in ones, so they can also take over a kind. Registering one at run time works too:
`conda_pixi_backends.discovery.plugin_manager().register(module_or_object)`.

This module holds only the specification and the markers, so that a plugin importing it
imports nothing else of the project; the plugin manager is built in `discovery/readers.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    from conda_pixi_backends.discovery.sources import DiscoveryContext, SourcePackage

PROJECT = "conda_pixi_backends"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def cpb_discover_source(path: Path, context: DiscoveryContext) -> SourcePackage | None:
    """The source package at `path`, or None when it is not this reader's kind.

    `path` is absolute. The package's `backend` is the `Declaration` Pixi would build it with
    (its `source` the file that says so); its `dependencies` are the source dependencies it
    declares, which discovery follows. A source of this kind that is wrong raises
    `UserInputError` naming the file and key.
    """
