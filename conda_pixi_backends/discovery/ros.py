"""ROS packages: a path that names a `package.xml` is built with `pixi-build-ros`.

Pixi takes a `package.xml` only when the path names the file itself (a folder holding one is
not enough), with the channels of the workspace found at or above it, else its
`default-channels`.
"""

from __future__ import annotations

import os
from pathlib import Path

from conda_pixi_backends.discovery.sources import DiscoveryContext, SourcePackage
from conda_pixi_backends.discovery.workspaces import default_backend
from conda_pixi_backends.hooks import hookimpl

BACKEND = "pixi-build-ros"
FILE_NAME = "package.xml"


@hookimpl(specname="cpb_discover_source")
def discover_ros_package(path: Path, context: DiscoveryContext) -> SourcePackage | None:
    if path.name != FILE_NAME or not os.path.isfile(path):
        return None
    return SourcePackage(path, default_backend(BACKEND, path, path.parent, context))
