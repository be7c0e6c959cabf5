"""Discovery: every backend Pixi will need for a workspace, found as Pixi finds it.

Pixi builds every *source package* its workspace reaches, each with the backend that package
names: the workspace's own `[package]`, and every path, git or URL dependency of the
workspace's dependency tables and of the packages' host, build and run dependencies,
recursively (also outside the workspace's folder). `discover` walks that graph. Each source is
described by the readers of `hooks.cpb_discover_source` (`readers.py`); git and URL sources
cannot be read without fetching them and are reported as unresolved, unless they name their
backend inline.

Relative channel paths resolve against the root of the workspace being run, as Pixi resolves
them; that root is also the workspace each declaration is recorded for (see `exposure`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from conda_pixi_backends.discovery.readers import (
    describe,
    describe_required,
    nothing_here,
    plugin_manager,
)
from conda_pixi_backends.discovery.sources import (
    DiscoveryContext,
    SourceDependency,
    SourcePackage,
    Unresolved,
)
from conda_pixi_backends.discovery.workspaces import (
    find_manifest,
    find_workspace,
    workspace_manifest,
)
from conda_pixi_backends.errors import UserInputError

if TYPE_CHECKING:
    from conda_pixi_backends.model import Declaration

__all__ = [
    "Discovery",
    "DiscoveryContext",
    "SourceDependency",
    "SourcePackage",
    "Unresolved",
    "discover",
    "find_manifest",
    "find_workspace",
    "plugin_manager",
]


@dataclass
class Discovery:
    """What a set of workspaces needs: backend declarations, in the order found, without
    repeats, and the source dependencies that could not be read."""

    declarations: list[Declaration] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)


def discover(paths: Sequence[Path], context: DiscoveryContext | None = None) -> Discovery:
    """The backends Pixi needs to build what each path's workspace reaches.

    A path is a manifest, a folder, a recipe or a `package.xml`. Its workspace (the manifest
    with `[workspace]` at or above it) is what Pixi would run there: its package, its source
    dependencies and theirs. A path inside a workspace is planned as well, even when nothing
    in the workspace depends on it, because it was named.
    """
    context = context or DiscoveryContext()
    found = Discovery()
    for given in paths:
        path = Path(os.path.abspath(given))
        if not os.path.lexists(path):
            raise UserInputError(f"{path}: no such file or folder")
        package = describe(path, context)
        if package is None:
            raise UserInputError(f"{path}: {nothing_here(path)}")
        workspace = workspace_manifest(package.manifest)
        root = (workspace or package.manifest).parent
        starts = [package]
        if workspace is not None and workspace != package.manifest:
            starts.insert(0, describe_required(workspace, context, str(workspace)))
        before = len(found.declarations)
        _walk(starts, _Workspace(root, _cutoff_of(workspace)), context, found)
        if len(found.declarations) == before and not found.unresolved:
            raise UserInputError(
                f"{starts[0].manifest}: no [package.build] section and no source dependencies: "
                "nothing names a build backend"
            )
    found.declarations = list(dict.fromkeys(found.declarations))
    found.unresolved = list(dict.fromkeys(found.unresolved))
    return found


class _Workspace(NamedTuple):
    """The workspace being run: its root, and its `exclude-newer` cutoff."""

    root: Path
    exclude_newer: str | None


def _cutoff_of(workspace: Path | None) -> str | None:
    """The `exclude-newer` of the workspace being run, which Pixi applies to backend solves."""
    from conda_pixi_backends.discovery.manifest import exclude_newer, load

    manifest = load(workspace) if workspace is not None else None
    return exclude_newer(manifest) if manifest is not None else None


def _walk(
    starts: list[SourcePackage], workspace: _Workspace, context: DiscoveryContext, found: Discovery
) -> None:
    """Follow source dependencies from `starts`, the first being the workspace's manifest."""
    seen: set[str] = set()
    queue = list(starts)
    first = True
    while queue:
        package = queue.pop(0)
        key = os.path.realpath(package.manifest)
        if key in seen:
            continue
        seen.add(key)
        if package.backend is not None:
            found.declarations.append(_for_workspace(package.backend, workspace))
        dependencies = [*(package.workspace_dependencies if first else ()), *package.dependencies]
        first = False
        for dependency in dependencies:
            if dependency.backend is not None:
                found.declarations.append(_for_workspace(dependency.backend, workspace))
            elif dependency.kind == "path":
                queue.append(_describe_dependency(dependency, context))
            else:
                found.unresolved.append(
                    Unresolved(
                        dependency.name, dependency.kind, dependency.location, dependency.where
                    )
                )


def _for_workspace(declaration: Declaration, workspace: _Workspace) -> Declaration:
    """A declaration as the workspace being run needs it: relative channels resolve at its
    root, and its `exclude-newer` limits the solve."""
    return declaration._replace(
        base=workspace.root,
        workspace=workspace.root,
        exclude_newer=workspace.exclude_newer,
    )


def _describe_dependency(dependency: SourceDependency, context: DiscoveryContext) -> SourcePackage:
    path = Path(dependency.location)
    if not os.path.exists(path):
        raise UserInputError(f"{dependency.where}: {path}: no such file or folder")
    package = describe_required(path, context, dependency.where)
    if package.backend is None:
        raise UserInputError(
            f"{dependency.where}: the {package.manifest.name} at {path} does not describe a "
            "package (it has no [package] table)"
        )
    return package
