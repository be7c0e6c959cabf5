"""The readers of `hooks.cpb_discover_source`, asked in turn what a path is.

The plugin manager is built on first use, so that importing discovery stays cheap: it registers
the built-in readers and then loads those that sites announce through the `conda_pixi_backends`
entry-point group.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

from conda_pixi_backends.errors import UserInputError

if TYPE_CHECKING:
    from pathlib import Path

    import pluggy

    from conda_pixi_backends.discovery.sources import DiscoveryContext, SourcePackage


@functools.cache
def plugin_manager() -> pluggy.PluginManager:
    """The one plugin manager. Register a reader at run time with
    `plugin_manager().register(module_or_object)`."""
    import pluggy

    from conda_pixi_backends import hooks
    from conda_pixi_backends.discovery import pixi_manifest, recipe, ros

    pm = pluggy.PluginManager(hooks.PROJECT)
    pm.add_hookspecs(hooks)
    # pluggy asks the last registered first: Pixi manifests, then recipes, then ROS packages.
    for module in (ros, recipe, pixi_manifest):
        pm.register(module)
    pm.load_setuptools_entrypoints(hooks.PROJECT)
    return pm


def describe(path: Path, context: DiscoveryContext) -> SourcePackage | None:
    """What the readers make of one path (None: no reader knows it)."""
    result: SourcePackage | None = plugin_manager().hook.cpb_discover_source(
        path=path, context=context
    )
    return result


def describe_required(path: Path, context: DiscoveryContext, where: str) -> SourcePackage:
    package = describe(path, context)
    if package is None:
        raise UserInputError(f"{where}: {path}: {nothing_here(path)}")
    return package


def nothing_here(path: Path) -> str:
    """Why no reader took `path`, naming what would have been read."""
    from conda_pixi_backends.discovery.manifest import MANIFEST_NAMES

    known = ", ".join((*MANIFEST_NAMES, "recipe.yaml", "recipe.yml"))
    if os.path.isdir(path) and os.path.isfile(path / "package.xml"):
        return (
            f"a ROS package must be named by its package.xml file itself, or hold one of: {known}"
        )
    if os.path.isdir(path):
        return f"no supported manifest here (expected one of: {known}, or a package.xml file)"
    return f"not a supported manifest (expected one of: {known}, or package.xml)"
