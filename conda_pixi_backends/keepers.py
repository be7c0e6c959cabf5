"""What keeps a backend environment: the rules `gc` and `sync --prune` share.

An environment is kept while something still needs it: it is exposed, a manifest recorded in
its metadata still exists and still asks for its request (read again with today's settings),
the `backends` setting asks for it, or it was used recently. Reading manifests and settings
only: what goes, and how, is `cleanup`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypedDict

if TYPE_CHECKING:
    from conda_pixi_backends.settings import Settings
    from conda_pixi_backends.store import EnvRecord

#: Environments used within this many days are kept unless asked otherwise.
RECENT_DAYS = 30.0


class _ReasonKind(TypedDict):
    kind: Literal["exposed", "manifest", "manifest-unreadable", "config", "recent"]


class Reason(_ReasonKind, total=False):
    """Why an environment stays, in `gc --json` and `sync --json` (`kept[].reasons`): its
    `kind`, and what that kind names (manifest: `path`; manifest-unreadable: `path`, `error`;
    config: `key`; recent: `last_used`)."""

    path: str
    error: str
    key: str
    last_used: str


class Keepers:
    """What still asks for environments: manifests (read once each) and the settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._manifests: dict[tuple[str, str], set[str] | str] = {}
        self._config: dict[str, set[str]] = {}

    def manifest(self, path: str, platform: str) -> set[str] | str:
        """The keys a manifest asks for today, for one platform; an error text if unreadable."""
        from conda_pixi_backends import discovery, plan
        from conda_pixi_backends.errors import CPBError

        cached = self._manifests.get((path, platform))
        if cached is None:
            if not Path(path).is_file():
                cached = set()
            else:
                try:
                    declarations = discovery.discover([Path(path)]).declarations
                    requests = plan.requests_for(declarations, self.settings.for_platform(platform))
                    cached = {r.key for r in requests}
                except CPBError as exc:
                    cached = str(exc)
            self._manifests[(path, platform)] = cached
        return cached

    def config(self, platform: str) -> set[str]:
        """The keys the `backends` setting asks for on a platform (`plan.config_backends`)."""
        if platform not in self._config:
            from conda_pixi_backends import plan

            target = self.settings.for_platform(platform)
            declarations = plan.config_backends(target, f"setting 'backends' ({platform})")
            requests = plan.requests_for(declarations, target)
            self._config[platform] = {r.key for r in requests}
        return self._config[platform]

    def reasons(
        self, env: str, record: EnvRecord, exposed: dict[str, str], cutoff: datetime
    ) -> list[Reason]:
        """Why an environment stays; empty when nothing keeps it."""
        platform = str(record.request.get("platform", self.settings.platform))
        found: list[Reason] = []
        if exposed.get(record.name) == env:
            found.append({"kind": "exposed"})
        for path in record.manifests:
            keys = self.manifest(path, platform)
            if isinstance(keys, str):  # unreadable now: keep rather than guess
                found.append({"kind": "manifest-unreadable", "path": path, "error": keys})
            elif record.key in keys:
                found.append({"kind": "manifest", "path": path})
        if record.key in self.config(platform):
            found.append({"kind": "config", "key": "backends"})
        if used_since(record, cutoff):
            found.append({"kind": "recent", "last_used": record.last_used})
        return found


def used_since(record: EnvRecord, cutoff: datetime) -> bool:
    """Used at or after `cutoff`; a time that cannot be read counts as recent (keep)."""
    try:
        used = datetime.fromisoformat(record.last_used)
    except (TypeError, ValueError):
        return True
    if used.tzinfo is None:
        used = used.replace(tzinfo=timezone.utc)
    return used >= cutoff


def recent_cutoff(days: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=days)


@dataclass
class Kept:
    """An environment something still needs, and what."""

    env: str
    record: EnvRecord
    reasons: list[Reason]


def reason_text(reason: Reason) -> str:
    """Why an environment stays, in words."""
    kind = reason["kind"]
    if kind == "manifest":
        return f"asked for by {reason['path']}"
    if kind == "manifest-unreadable":
        return f"{reason['path']} cannot be read now ({reason['error']})"
    if kind == "config":
        return "asked for by the 'backends' setting"
    if kind == "recent":
        return f"used {reason['last_used'][:19].replace('T', ' ')} UTC"
    return "exposed"
