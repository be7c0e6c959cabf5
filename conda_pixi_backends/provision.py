"""Provisioning: carry out a plan. Install what is missing (py-rattler, only when something is),
note what is reused, expose the result, and leave the store as it was should any step fail."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conda_pixi_backends import exposure
from conda_pixi_backends.model import Fetch, manifest_sources
from conda_pixi_backends.plan import ALREADY, INSTALLED, WOULD_INSTALL, Entry, make_plan
from conda_pixi_backends.store import in_layout

if TYPE_CHECKING:
    from conda_pixi_backends.model import Request
    from conda_pixi_backends.overrides import Overrides
    from conda_pixi_backends.store import Store


def provision(
    store: Store,
    requests: Sequence[Request],
    overrides: Overrides,
    *,
    force: bool = False,
    dry_run: bool = False,
    progress: bool = False,
    fetch: Fetch | None = None,
    lock_file: Path | None = None,
    shared: Store | None = None,
) -> list[Entry]:
    """Plan, install what is missing, note what is reused, and expose the result.

    With `dry_run` nothing is solved, downloaded or written. py-rattler is imported only
    when something must be installed, or a `lock_file` read: then every request that is not
    overridden gets exactly its locked packages, with no solve.
    """
    locked_rows: dict[str, list[dict[str, str]]] | None = None
    locked: dict[str, Any] = {}
    if lock_file is not None:
        from conda_pixi_backends import lock_files

        wanted = [r for r in requests if not _overridden(store, overrides, r)]
        records, rows = lock_files.locked_records(lock_file, wanted)
        locked = {r.env_name: recs for r, recs in zip(wanted, records, strict=True)}
        locked_rows = {r.env_name: row for r, row in zip(wanted, rows, strict=True)}
    entries = make_plan(store, requests, overrides, force=force, locked=locked_rows, shared=shared)
    if dry_run:
        return entries
    todo = [e for e in entries if e.status == WOULD_INSTALL]
    if todo:
        from conda_pixi_backends import installer

        installer.validate([e.request for e in todo], fetch or Fetch())
    fresh = not store.marker.exists()
    try:
        return _provision(
            store, entries, todo, fetch, locked, lock_file, force=force, progress=progress
        )
    except BaseException:
        if fresh:
            store.discard_skeleton([e.request.env_name for e in todo])
        raise


def _provision(
    store: Store,
    entries: list[Entry],
    todo: list[Entry],
    fetch: Fetch | None,
    locked: dict[str, Any],
    lock_file: Path | None,
    *,
    force: bool,
    progress: bool,
) -> list[Entry]:
    store.ensure()
    replaced: list[Path] = []
    new: list[str] = []
    if todo:
        from conda_pixi_backends import installer

        if progress:
            print(f"Solving and installing {len(todo)} backend environment(s)...", file=sys.stderr)
        given = [locked[e.request.env_name] for e in todo] if lock_file is not None else None
        if lock_file is not None and given is not None:
            for entry, records in zip(todo, given, strict=True):
                installer.check_local_files(entry.request, records, lock_file)
        try:
            results = installer.install(
                store,
                [e.request for e in todo],
                force=force,
                progress=progress,
                fetch=fetch,
                records=given,
            )
        finally:
            if progress:  # py-rattler's display leaves its last line open: end it
                print(file=sys.stderr, flush=True)
        for entry, outcome in zip(todo, results, strict=True):
            entry.record = outcome.record
            entry.status = INSTALLED if outcome.installed else ALREADY
            if outcome.replaced is not None:
                replaced.append(outcome.replaced)
            elif outcome.installed:
                new.append(outcome.record.env_name)
    for entry in entries:
        ours = entry.record is not None and in_layout(store.envs, entry.record)
        if entry.status == ALREADY and entry.record is not None and ours:
            entry.record = store.touch(
                entry.record, manifest_sources(entry.request.sources), entry.request.workspaces
            )
    try:
        exposure.expose(
            store,
            [e.record for e in entries if e.record is not None],
            installed=any(e.status == INSTALLED for e in entries),
        )
    except BaseException:
        # Exposure is all or nothing (a full disk changes no script): take back what this
        # command added, so that the store is as it was.
        for env_name in new:
            with store.lock(env_name):
                store.forget(env_name)
        raise
    for prefix in replaced:  # only now that no launcher names them
        store.retire(prefix)
    return entries


def _overridden(store: Store, overrides: Overrides, request: Request) -> bool:
    override = overrides.get(request.name)
    return override is not None and not exposure.own_launcher(store, override)
