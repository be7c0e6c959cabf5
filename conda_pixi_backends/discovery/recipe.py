"""rattler-build recipes: a folder holding only a recipe is built with `pixi-build-rattler-build`.

Pixi looks for `recipe.yaml`, `recipe.yml`, `recipe/recipe.yaml`, `recipe/recipe.yml` in that
order, or takes a recipe file named directly. The backend is solved with the channels of the
workspace found at or above the recipe's folder, else with Pixi's `default-channels`.
"""

from __future__ import annotations

import os
from pathlib import Path

from conda_pixi_backends.discovery.sources import DiscoveryContext, SourcePackage
from conda_pixi_backends.discovery.workspaces import default_backend
from conda_pixi_backends.hooks import hookimpl

BACKEND = "pixi-build-rattler-build"
FILE_NAMES = ("recipe.yaml", "recipe.yml")
FOLDERS = ("", "recipe")


@hookimpl(specname="cpb_discover_source")
def discover_recipe(path: Path, context: DiscoveryContext) -> SourcePackage | None:
    recipe: Path | None = None
    if path.name in FILE_NAMES and os.path.isfile(path):
        recipe = path
    elif os.path.isdir(path):
        found = (path / f / n for f in FOLDERS for n in FILE_NAMES)
        recipe = next((p for p in found if os.path.isfile(p)), None)
    if recipe is None:
        return None
    folder = path if os.path.isdir(path) else path.parent
    return SourcePackage(recipe, default_backend(BACKEND, recipe, folder, context))
