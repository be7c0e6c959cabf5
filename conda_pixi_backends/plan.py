"""From declarations, settings and overrides to a plan: what to install, reuse or leave alone.

Planning reads files only; it never imports py-rattler, so a plan of already installed
backends (the common case) costs milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from conda_pixi_backends.model import Declaration, Request, normalize_channel
from conda_pixi_backends.overrides import Override, Overrides
from conda_pixi_backends.settings import Settings
from conda_pixi_backends.store import EnvRecord, Store

OVERRIDDEN = "overridden"
ALREADY = "already-installed"
INSTALLED = "installed"
WOULD_INSTALL = "would-install"


@dataclass
class Entry:
    """One backend of the plan, and then of the result."""

    request: Request
    status: str
    override: Override | None = None
    record: EnvRecord | None = None


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def requests_for(
    declarations: Sequence[Declaration],
    settings: Settings,
    channels: Sequence[str] = (),
    override_channels: bool = False,
) -> list[Request]:
    """Apply settings to declarations; equal requests merge and remember every source.

    Channels, highest priority first: `--channel`s, then the declaration's own (a manifest's),
    else the configured ones; `--override-channels` keeps only the `--channel`s.
    """
    merged: dict[Request, list[str]] = {}
    for declaration in declarations:
        own = [] if override_channels else list(declaration.channels or settings.channels)
        cli = [normalize_channel(c, Path.cwd(), settings.channel_alias) for c in channels]
        urls = cli + [normalize_channel(c, declaration.base, settings.channel_alias) for c in own]
        request = Request(
            name=declaration.name,
            spec=declaration.spec,
            channels=_dedupe(urls),
            platform=settings.platform,
            additional_dependencies=_dedupe(sorted(declaration.additional_dependencies)),
            constraints=_dedupe(sorted(settings.constraints)),
        )
        merged.setdefault(request, []).append(declaration.source)
    return [replace(r, sources=_dedupe(sources)) for r, sources in merged.items()]


def own_launcher(store: Store, override: Override) -> bool:
    """True for an override that our own activation script set: it points into our bin/."""
    return override.path is not None and Path(override.path).parent == store.bin


def make_plan(
    store: Store, requests: Sequence[Request], overrides: Overrides, force: bool = False
) -> list[Entry]:
    plan = []
    for request in requests:
        override = overrides.get(request.name)
        if override is not None and not own_launcher(store, override):
            plan.append(Entry(request, OVERRIDDEN, override=override))
            continue
        record = None if force else store.record(request.env_name)
        plan.append(Entry(request, ALREADY if record else WOULD_INSTALL, record=record))
    return plan


def provision(
    store: Store,
    requests: Sequence[Request],
    overrides: Overrides,
    force: bool = False,
    dry_run: bool = False,
    progress: bool = False,
) -> list[Entry]:
    """Plan, install what is missing, note what is reused, and expose the result.

    With `dry_run` nothing is solved, downloaded or written. py-rattler is imported only
    when something must be installed.
    """
    import sys

    entries = make_plan(store, requests, overrides, force=force)
    if dry_run:
        return entries
    store.ensure()
    todo = [e for e in entries if e.status == WOULD_INSTALL]
    if todo:
        from conda_pixi_backends import installer

        if progress:
            print(f"Solving and installing {len(todo)} backend environment(s)...", file=sys.stderr)
        results = installer.install(store, [e.request for e in todo], force, progress)
        for entry, (record, fresh) in zip(todo, results, strict=True):
            entry.record, entry.status = record, INSTALLED if fresh else ALREADY
    for entry in entries:
        if entry.status == ALREADY and entry.record is not None:
            store.touch(entry.record, [s for s in entry.request.sources if s != "command line"])
    from conda_pixi_backends import exposure

    exposure.expose(store, [e.record for e in entries if e.record is not None])
    return entries
