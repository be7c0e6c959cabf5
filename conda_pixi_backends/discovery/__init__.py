"""Discovery: every backend Pixi will need for a workspace, found as Pixi finds it.

Pixi builds every *source package* its workspace reaches, each with the backend that package
names: the workspace's own `[package]`, and every path, git or URL dependency of the
workspace's dependency tables and of the packages' host, build and run dependencies,
recursively (also outside the workspace's folder). `discover` walks that graph. Each source is
described by the readers of `hooks.cpb_discover_source`; git and URL sources cannot be read
without fetching them and are reported as unresolved, unless they name their backend inline.

Relative channel paths resolve against the root of the workspace being run, as Pixi resolves
them; that root is also the workspace each declaration is recorded for (see `exposure`).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from conda_pixi_backends.discovery.sources import (
    DiscoveryContext,
    SourceDependency,
    SourcePackage,
    Unresolved,
)
from conda_pixi_backends.errors import UserInputError
from conda_pixi_backends.model import Declaration

if TYPE_CHECKING:
    from conda_pixi_backends.discovery.pixi_manifest import Manifest

__all__ = [
    "Discovery",
    "DiscoveryContext",
    "SourceDependency",
    "SourcePackage",
    "Unresolved",
    "discover",
    "find_manifest",
]

#: Pixi's variable naming the manifest to use when none is found from the current folder.
PROJECT_MANIFEST = "PIXI_PROJECT_MANIFEST"
#: Manifests larger than this are refused rather than read: no real manifest comes near it.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024


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
            raise UserInputError(f"{path}: {_nothing_here(path)}")
        workspace = _workspace_manifest(package.manifest)
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


@dataclass(frozen=True)
class _Workspace:
    """The workspace being run: its root, and its `exclude-newer` cutoff."""

    root: Path
    exclude_newer: str | None


def _cutoff_of(workspace: Path | None) -> str | None:
    """The `exclude-newer` of the workspace being run, which Pixi applies to backend solves."""
    from conda_pixi_backends.discovery import pixi_manifest

    manifest = pixi_manifest.load(workspace) if workspace is not None else None
    return pixi_manifest.exclude_newer(manifest) if manifest is not None else None


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
    return replace(
        declaration,
        base=workspace.root,
        workspace=workspace.root,
        exclude_newer=workspace.exclude_newer,
    )


def describe(path: Path, context: DiscoveryContext) -> SourcePackage | None:
    """What the readers make of one path (None: no reader knows it)."""
    from conda_pixi_backends.hooks import plugin_manager

    result: SourcePackage | None = plugin_manager().hook.cpb_discover_source(
        path=path, context=context
    )
    return result


def describe_required(path: Path, context: DiscoveryContext, where: str) -> SourcePackage:
    package = describe(path, context)
    if package is None:
        raise UserInputError(f"{where}: {path}: {_nothing_here(path)}")
    return package


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


def _nothing_here(path: Path) -> str:
    from conda_pixi_backends.discovery.pixi_manifest import MANIFEST_NAMES

    known = ", ".join((*MANIFEST_NAMES, "recipe.yaml", "recipe.yml"))
    if os.path.isdir(path) and os.path.isfile(path / "package.xml"):
        return (
            f"a ROS package must be named by its package.xml file itself, or hold one of: {known}"
        )
    if os.path.isdir(path):
        return f"no supported manifest here (expected one of: {known}, or a package.xml file)"
    return f"not a supported manifest (expected one of: {known}, or package.xml)"


def _workspace_manifest(manifest: Path) -> Path | None:
    """The manifest of the workspace at or above `manifest`'s folder (itself, if it is one)."""
    from conda_pixi_backends.discovery import pixi_manifest

    start = manifest.parent
    if manifest.name in pixi_manifest.MANIFEST_NAMES:
        own = pixi_manifest.load(manifest)
        if own is not None and own.has_workspace():
            return manifest
        start = manifest.parent.parent
    found = find_workspace(start)
    return found.path if found is not None else None


def find_workspace(folder: Path) -> Manifest | None:
    """The nearest manifest with `[workspace]` at or above `folder`."""
    from conda_pixi_backends.discovery import pixi_manifest

    for candidate in (folder, *folder.parents):
        manifest = pixi_manifest.manifest_in(candidate)
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
    from conda_pixi_backends.discovery import pixi_manifest

    for candidate in (folder, *folder.parents):
        manifest = pixi_manifest.manifest_in(candidate)
        if manifest is not None:
            return manifest.path
    raise UserInputError(
        f"no pixi.toml, pyproject.toml with [tool.pixi] or mojoproject.toml in {start} or any "
        "parent folder"
    )


def default_backend(
    name: str, source: Path, folder: Path, context: DiscoveryContext
) -> Declaration:
    """The backend Pixi picks for a source without a Pixi manifest (a recipe, a package.xml):
    any version, with the channels of the workspace at or above `folder`, else Pixi's
    `default-channels`."""
    from conda_pixi_backends.discovery import pixi_manifest

    workspace = find_workspace(folder)
    if workspace is not None:
        channels = pixi_manifest.workspace_channels(workspace)
        base = workspace.path.parent
    else:
        channels, base = context.default_channels, folder
    return Declaration(name=name, spec=name, channels=channels, source=str(source), base=base)


def read_text(path: Path) -> str:
    """A manifest's text. Only regular files are read: a FIFO or a device given as a manifest
    is refused at once instead of being waited on or read without end."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise UserInputError(f"{path}: not a regular file")
        if info.st_size > MAX_MANIFEST_BYTES:
            raise UserInputError(f"{path}: {info.st_size} bytes: too large for a manifest")
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserInputError(f"{path}: no such file") from None
    except OSError as e:
        raise UserInputError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UserInputError(f"{path}: not valid UTF-8 (byte {e.start})") from None


#: humantime's units, as Pixi's `exclude-newer` durations take them, in seconds.
_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("w", "week", "weeks"), 7 * 86400),
    **dict.fromkeys(("M", "month", "months"), 2_630_016),
    **dict.fromkeys(("y", "year", "years"), 31_557_600),
}
_DURATION = re.compile(r"\s*(\d+)\s*([A-Za-z]+)")


def parse_cutoff(text: str) -> str:
    """Check an `exclude-newer` value as Pixi reads it, in Pixi's order: a duration (`7d`,
    `1h30m`: a cutoff that moves, kept as written), a date (the whole day counts: the cutoff is
    the next midnight, UTC), or an RFC 3339 timestamp; dates and timestamps become UTC ISO 8601."""
    value = text.strip()
    if duration_seconds(value) is not None:
        return value
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        return (day + timedelta(days=1)).isoformat()
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in value.upper():
        raise ValueError(
            f"{text!r} is neither a duration (e.g. 7d), a date (YYYY-MM-DD) nor an RFC 3339 "
            "timestamp"
        )
    return moment.astimezone(timezone.utc).isoformat()


def duration_seconds(text: str) -> int | None:
    """The seconds of a humantime duration such as `7d` or `1h 30m`; None if it is not one."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != "".join(text.split()):
        return None
    if any(unit not in _UNITS for _, unit in parts):
        return None
    return sum(int(n) * _UNITS[unit] for n, unit in parts)


def cutoff(text: str, now: datetime | None = None) -> datetime:
    """The moment an `exclude-newer` value (as `parse_cutoff` keeps it) stands for now."""
    seconds = duration_seconds(text)
    if seconds is not None:
        return (now or datetime.now(timezone.utc)) - timedelta(seconds=seconds)
    return datetime.fromisoformat(text)
