"""Which workspace a path belongs to, as Pixi finds it, and the backend of a source that names
none (a recipe, a `package.xml`): solved with that workspace's channels.

The manifest parser (and tomli) is imported when first needed, so importing the package stays
cheap for commands that never read a manifest.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from conda_pixi_backends.errors import UserInputError
from conda_pixi_backends.model import Declaration

if TYPE_CHECKING:
    from conda_pixi_backends.discovery.manifest import Manifest
    from conda_pixi_backends.discovery.sources import DiscoveryContext

#: Pixi's variable naming the manifest to use when none is found from the current folder.
PROJECT_MANIFEST = "PIXI_PROJECT_MANIFEST"


def workspace_manifest(manifest: Path) -> Path | None:
    """The manifest of the workspace at or above `manifest`'s folder (itself, if it is one)."""
    from conda_pixi_backends.discovery.manifest import MANIFEST_NAMES, load

    start = manifest.parent
    if manifest.name in MANIFEST_NAMES:
        own = load(manifest)
        if own is not None and own.has_workspace():
            return manifest
        start = manifest.parent.parent
    found = find_workspace(start)
    return found.path if found is not None else None


def find_workspace(folder: Path) -> Manifest | None:
    """The nearest manifest with `[workspace]` at or above `folder`."""
    from conda_pixi_backends.discovery.manifest import manifest_in

    for candidate in (folder, *folder.parents):
        manifest = manifest_in(candidate)
        if manifest is not None and manifest.has_workspace():
            return manifest
    return None


def find_manifest(start: Path, environ: dict[str, str] | None = None) -> Path:
    """The manifest Pixi would use from `start`: the workspace's.

    As Pixi: the nearest manifest with a workspace in `start` or a parent folder (per folder,
    pixi.toml, else a pyproject.toml with `[tool.pixi]`, else mojoproject.toml; a manifest of
    a package alone is passed over), else the one `PIXI_PROJECT_MANIFEST` names. Beyond Pixi,
    a package's manifest with no workspace anywhere above is taken on its own.
    """
    start = Path(os.path.abspath(start))
    folder = start if os.path.isdir(start) else start.parent
    workspace = find_workspace(folder)
    if workspace is not None:
        return workspace.path
    named = (os.environ if environ is None else environ).get(PROJECT_MANIFEST)
    if named:
        path = Path(os.path.abspath(named))
        if not os.path.isfile(path):
            raise UserInputError(f"{PROJECT_MANIFEST}: {named!r}: no such file")
        return path
    from conda_pixi_backends.discovery.manifest import manifest_in

    for candidate in (folder, *folder.parents):
        manifest = manifest_in(candidate)
        if manifest is not None:
            return manifest.path
    raise UserInputError(
        f"{start}: no pixi.toml, pyproject.toml with [tool.pixi] or mojoproject.toml here or in "
        "any parent folder"
    )


def default_backend(
    name: str, source: Path, folder: Path, context: DiscoveryContext
) -> Declaration:
    """The backend Pixi picks for a source without a Pixi manifest (a recipe, a package.xml):
    any version, with the channels of the workspace at or above `folder`, else Pixi's
    `default-channels`."""
    from conda_pixi_backends.discovery.manifest import workspace_channels

    workspace = find_workspace(folder)
    if workspace is not None:
        channels = workspace_channels(workspace)
        base = workspace.path.parent
    else:
        channels, base = context.default_channels, folder
    return Declaration(name=name, spec=name, channels=channels, source=str(source), base=base)
