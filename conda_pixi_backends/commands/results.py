"""What install and sync show of the backends they provisioned: a line per backend and how to
activate them, or one JSON object (`--json`)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TypedDict

from conda_pixi_backends import windows
from conda_pixi_backends.commands.common import print_json
from conda_pixi_backends.errors import command

if TYPE_CHECKING:
    from collections.abc import Sequence

    from conda_pixi_backends.discovery import Unresolved
    from conda_pixi_backends.overrides import OverrideRow
    from conda_pixi_backends.plan import Entry, Status
    from conda_pixi_backends.store import Store


class BackendRow(TypedDict):
    """One backend in `install --json` and `sync --json` (`backends`)."""

    name: str
    spec: str
    channels: list[str]
    platform: str
    status: Status
    key: str
    #: The environment's prefix (to be, in a dry run); None when an override replaces it.
    prefix: str | None
    version: str | None
    #: What Pixi runs: the launcher, or the override's executable (none when PATH lacks it).
    executables: list[str]
    override: OverrideRow | None
    manifests: list[str]


class UnresolvedRow(TypedDict):
    """A source dependency whose backend only fetching it could tell (`unresolved`)."""

    name: str
    kind: str
    location: str
    declared_in: str


class Result(TypedDict):
    """What `install --json` prints."""

    root: str
    backends: list[BackendRow]
    unresolved: list[UnresolvedRow]


def entry_json(store: Store, entry: Entry) -> BackendRow:
    """One backend of the result, as `--json` prints it."""
    from conda_pixi_backends import exposure, model

    request, record, override = entry.request, entry.record, entry.override
    executables: list[str] = []
    if override is not None:
        resolved = override.resolve()
        executables = [resolved] if resolved else []
    elif record is not None and record.executable:
        executables = [str(exposure.launcher_path(store, request.name, request.platform))]
    return {
        "name": request.name,
        "spec": request.spec,
        "channels": list(request.channels),
        "platform": request.platform,
        "status": entry.status,
        "key": request.key,
        "prefix": None if override else record.prefix if record else str(store.prefix(request)),
        "version": record.version if record else None,
        "executables": executables,
        "override": None if override is None else override.to_json(),
        "manifests": model.manifest_sources(request.sources),
    }


def unresolved_json(unresolved: Sequence[Unresolved]) -> list[UnresolvedRow]:
    """Source dependencies Pixi will build with a backend that only fetching them can tell."""
    return [
        {"name": u.name, "kind": u.kind, "location": u.location, "declared_in": u.where}
        for u in unresolved
    ]


def report(
    store: Store,
    entries: list[Entry],
    unresolved: Sequence[Unresolved] = (),
    *,
    as_json: bool,
    dry_run: bool = False,
) -> None:
    """A line per backend and how to activate them in the shell in use (not after a dry run),
    or one JSON object. Unresolved source dependencies are warned about on stderr (in JSON: a
    top-level `unresolved` list)."""
    rows = [entry_json(store, e) for e in entries]
    if as_json:
        result: Result = {
            "root": str(store.root),
            "backends": rows,
            "unresolved": unresolved_json(unresolved),
        }
        print_json(result)
        return
    for u in unresolved:
        print(
            f"warning: {u.where}: {u.name} is built from {u.kind} {u.location}; its backend is "
            "not known without fetching it: name it inline (package.build.backend) to install it",
            file=sys.stderr,
        )
    if not rows:
        print("No backends requested.")
        return
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        status = row["status"].replace("-", " ")
        if row["executables"]:
            where: str | None = row["executables"][0]
        elif row["override"]:
            where = "(not found on PATH)"
        else:  # another platform's (or no executable of its name): installed, no launcher
            where = f"{row['prefix']}  (not exposed: no launcher runs it on this machine)"
        if row["status"] == "would-install":
            where = row["prefix"]
        detail = f"{where}  [{row['override']['variable']}]" if row["override"] else where
        version = f"  ({row['version']})" if row["version"] else ""
        print(f"{row['name']:<{width}}  {status:<17} {detail}{version}")
    # The hint is for this shell's script, which carries no Windows backend off Windows (those
    # go to activate.bat and activate.ps1, as exposure.activation_text hands them out).
    exposed = [
        r for r in rows
        if r["executables"] and not r["override"]
        and (windows.native() or not windows.is_windows(r["platform"]))
    ]  # fmt: skip
    if not dry_run and any(r["status"] in ("installed", "already-installed") for r in exposed):
        from conda_pixi_backends import shells

        shell = shells.detect()
        script = str(store.activate / shells.SHELLS[shell])
        print("\n" + shells.hint(shell, command(), script))
