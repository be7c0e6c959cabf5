"""The readers of `hooks.cpb_discover_source`, asked in turn what a path is.

The plugin manager is built on first use, so that importing discovery stays cheap: it registers
the built-in readers and then loads those that sites announce through the `conda_pixi_backends`
entry-point group.
"""

from __future__ import annotations

import functools
import os
import sys
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
    if "importlib.metadata" in sys.modules or _announced(hooks.PROJECT):
        pm.load_setuptools_entrypoints(hooks.PROJECT)
    return pm


def _announced(group: str) -> bool:
    """Whether an installed distribution may announce entry points in `group`: a look at the
    `entry_points.txt` files on sys.path. Usually none does, and then the console script need
    not import importlib.metadata (about 20 ms, every command). Anything else on sys.path (a
    zip file, a custom finder) answers True, so that importlib.metadata decides."""
    needle = f"[{group}]"
    for entry in sys.path:
        folder = entry or "."
        try:
            names = os.listdir(folder)
        except NotADirectoryError:
            return True
        except OSError:  # a folder that does not exist: nothing is installed there
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            try:
                with open(os.path.join(folder, name, "entry_points.txt"), encoding="utf-8") as f:
                    if needle in f.read():
                        return True
            except (OSError, UnicodeDecodeError):
                continue
    return False


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
