"""What discovery finds: source packages, their backends and the source dependencies between them.

These are the types a discovery plugin returns (see `conda_pixi_backends.hooks`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from conda_pixi_backends.model import Declaration


class SourceDependency(NamedTuple):
    """A dependency that Pixi builds from source: a path, git or URL location.

    `where` names the file and key that declared it, for messages. `location` is an absolute
    path for `path`, the URL as written for `git` and `url`. An inline package definition
    (`dep = { git = "...", package.build.backend.name = "..." }`) carries its `backend`.
    """

    name: str
    kind: str  # "path", "git" or "url"
    location: str
    where: str
    backend: Declaration | None = None


class SourcePackage(NamedTuple):
    """One source folder (or file) as a reader understands it.

    `backend` is what Pixi would run to build it: None for a workspace manifest without a
    package. `dependencies` are the package's own source dependencies (host, build and run),
    which Pixi builds too; `workspace_dependencies` those of the workspace's dependency tables
    (features and targets included), which count only where Pixi is run.
    """

    manifest: Path
    backend: Declaration | None
    dependencies: tuple[SourceDependency, ...] = ()
    workspace_dependencies: tuple[SourceDependency, ...] = ()


class DiscoveryContext(NamedTuple):
    """What readers need besides the path: Pixi's `default-channels`, which a recipe or a
    `package.xml` outside any workspace is solved with."""

    default_channels: tuple[str, ...] = ("conda-forge",)


class Unresolved(NamedTuple):
    """A source dependency that cannot be read without fetching it (git, URL): Pixi will
    build it, with a backend only its own manifest names."""

    name: str
    kind: str
    location: str
    where: str
