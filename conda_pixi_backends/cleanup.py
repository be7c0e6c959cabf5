"""What may be deleted, and deleting it: what `remove`, `gc`, `sync --prune` and `update`
select, and the order that keeps every moment consistent.

An environment goes when nothing keeps it (the rules are in `keepers`). A prefix that a
reinstall or an `update` replaced is kept for a grace period, for launchers started before the
switch. Deleting goes under the store's locks, `exposure` first, then each environment's: the
environments leave exposed.json, bin/ and activate/ first; then each metadata file goes (the
environment is now incomplete, so nothing exposes or reuses it) and last its folder. Nothing
ever points at a missing environment.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypedDict

from conda_pixi_backends import package_cache
from conda_pixi_backends.errors import command
from conda_pixi_backends.keepers import Keepers, Kept, recent_cutoff
from conda_pixi_backends.sizes import freed_bytes

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from conda_pixi_backends.model import Request
    from conda_pixi_backends.settings import Settings
    from conda_pixi_backends.store import EnvRecord, Store

#: The status of what `remove` and `gc` delete, in their `--json` rows.
Removal = Literal["would-remove", "removed"]
#: How long a replaced prefix is kept for launchers still running from it.
GRACE_PERIOD = 24 * 3600.0
BUSY = "being installed (its lock is held)"
#: An environment folder: `<name>-<key>`, or `<name>-<key>.<n>` beside a prefix still in use.
_FOLDER = re.compile(r"(?P<name>.+)-(?P<key>[0-9a-f]{12})(\.\d+)?")


def lock_name(env: str) -> str:
    """The lock an install of this folder holds: its environment's, also for `<env>.<n>`."""
    match = _FOLDER.fullmatch(env)
    return f"{match['name']}-{match['key']}" if match else env


class RetiredRow(TypedDict):
    """A retired prefix in `list --json` and `gc --json` (`retired`)."""

    env: str
    path: str
    size: int
    #: When it was retired, and when its grace period ends (ISO 8601).
    retired: str
    until: str


@dataclass(frozen=True)
class Retired:
    """A replaced prefix still on disk: when it was retired and when its grace period ends."""

    prefix: Path
    retired_at: datetime
    due: datetime

    def row(self, size: int) -> RetiredRow:
        """As `list --json` and `gc --json` show it."""
        return {
            "env": self.prefix.name,
            "path": str(self.prefix),
            "size": size,
            "retired": self.retired_at.isoformat(timespec="seconds"),
            "until": self.due.isoformat(timespec="seconds"),
        }


def retired(store: Store, grace: float = GRACE_PERIOD) -> list[Retired]:
    """Every retired prefix that no metadata names, with when it may go."""
    markers = sorted(store.envs.glob("*.retired"))
    live = {Path(r.prefix) for r in store.records()} if markers else set()
    found = []
    for marker in markers:
        prefix = marker.with_name(marker.name[: -len(".retired")])
        try:
            at = datetime.fromtimestamp(marker.stat().st_mtime, timezone.utc)
        except OSError:
            continue
        if prefix not in live and prefix.exists():
            found.append(Retired(prefix, at, at + timedelta(seconds=grace)))
    return found


def waiting(store: Store, grace: float = GRACE_PERIOD) -> list[Retired]:
    """The retired prefixes still within their grace period."""
    now = datetime.now(timezone.utc)
    return [r for r in retired(store, grace) if r.due > now]


def retired_prefixes(store: Store, grace: float = GRACE_PERIOD) -> list[Path]:
    """The retired prefixes `store.sweep_retired(grace)` would remove: past their grace."""
    now = datetime.now(timezone.utc)
    return [r.prefix for r in retired(store, grace) if r.due <= now]


@dataclass
class Target:
    """One environment to remove: complete (with its record) or incomplete (a bare folder)."""

    env: str
    path: Path
    record: EnvRecord | None = None


def _matches(arg: str, env: str, record: EnvRecord | None) -> bool:
    if arg == env:
        return True
    if record is not None:
        return arg in (record.name, record.key)
    # An incomplete folder has only its name to go by.
    match = _FOLDER.fullmatch(env)
    return match is not None and arg in (match["name"], match["key"])


def select(store: Store, args: Sequence[str], shared: Store | None = None) -> list[Target]:
    """What `remove` removes: the environments the arguments name (backend name, key or
    environment name), in store order. An unknown one is bad input, and one of the read-only
    `shared` store is refused, saying so."""
    from conda_pixi_backends.errors import OperationError, UserInputError

    complete, incomplete = store.scan()
    candidates = [Target(env, Path(r.prefix), r) for env, r in complete.items()]
    candidates += [Target(env, store.envs / env) for env in incomplete]
    chosen: dict[str, Target] = {}
    unknown = []
    for arg in args:
        hits = [t for t in candidates if _matches(arg, t.env, t.record)]
        if not hits and shared is not None:
            theirs = [e for e, r in shared.scan()[0].items() if _matches(arg, e, r)]
            if theirs:
                raise OperationError(
                    f"{arg}: {', '.join(theirs)} is in the shared store {shared.root}, which "
                    "you cannot change; nothing removed (ask its admin, or install your own: "
                    f"{command()} install --force {arg})"
                )
        if not hits:
            unknown.append(arg)
        chosen.update((t.env, t) for t in hits)
    if unknown:
        raise UserInputError(
            f"{', '.join(unknown)}: no backend environment of that name or key in "
            f"{store.root}; nothing removed (see: {command()} list)"
        )
    return [t for t in candidates if t.env in chosen]


def prunable(
    store: Store, requests: Sequence[Request], settings: Settings, *, older_than: float
) -> tuple[list[Target], list[Kept]]:
    """What `sync --prune` removes: the settings' platform's complete environments that no
    request asks for and nothing else keeps; and those kept, with why. Exposure is no reason
    to keep here: making the store what is asked for is the point."""
    keepers = Keepers(settings)
    cutoff = recent_cutoff(older_than)
    exposed = store.exposed()
    keys = {r.key for r in requests}
    targets: list[Target] = []
    kept: list[Kept] = []
    for record in store.records():
        if record.request.get("platform") != settings.platform or record.key in keys:
            continue
        reasons = [
            r for r in keepers.reasons(record.env_name, record, exposed, cutoff)
            if r["kind"] != "exposed"
        ]  # fmt: skip
        if reasons:
            kept.append(Kept(record.env_name, record, reasons))
        else:
            targets.append(Target(record.env_name, Path(record.prefix), record))
    return targets, kept


def delete(
    store: Store,
    targets: list[Target],
    keep: Callable[[EnvRecord, EnvRecord], bool] | None = None,
) -> tuple[list[Target], int]:
    """Remove the targets in the safe order; returns those removed and the bytes freed.

    Under the locks the store is read again: a complete target is removed at the prefix its
    metadata names now (an `update` may have moved it), one already gone is dropped, and an
    incomplete one that an install completed meanwhile is spared. With `keep(seen, fresh)`
    (gc), exposed targets and those for which it returns True are spared too.
    """
    from conda_pixi_backends import exposure
    from conda_pixi_backends.errors import OperationError

    store.check(cleaning=True)
    try:
        with store.lock("exposure"), contextlib.ExitStack() as held:
            exposed = store.exposed()
            if keep is not None:  # an install may have exposed one since the caller looked
                live = exposure.live_exposure(store, exposed)
                serving = {where for name, where in exposed.items() if name in live}
                targets = [t for t in targets if t.env not in serving]
            for name in sorted({lock_name(t.env) for t in targets}):
                held.enter_context(store.lock(name))
            complete, incomplete = store.scan()
            fresh_targets = []
            for target in targets:
                if target.record is None:
                    if target.env in incomplete:
                        fresh_targets.append(target)
                    continue
                fresh = complete.get(target.env)
                if fresh is not None and not (keep is not None and keep(target.record, fresh)):
                    fresh_targets.append(Target(target.env, Path(fresh.prefix), fresh))
            targets = fresh_targets
            names = {t.env for t in targets}
            remaining = {name: env for name, env in exposed.items() if env not in names}
            if remaining != exposed:
                exposure.refresh(store, remaining)
            freed = freed_bytes([t.path for t in targets])
            for target in targets:
                store.metadata_path(target.env).unlink(missing_ok=True)
                if target.path.is_dir() or target.path.is_symlink():  # a link goes alone
                    store.remove_tree(target.path)
    except OSError as exc:
        where = exc.filename or store.root
        raise OperationError(
            f"cannot remove from {store.root}: {where}: {exc.strerror or exc}; what was removed "
            "stays removed, the rest is unchanged or incomplete (`gc` clears it)"
        ) from None
    return targets, freed


def sweep_retired(store: Store, grace: float) -> list[Path]:
    """What `update` removes first: the launchers are rewritten from the metadata (healing a
    switch that died before its rewrite), then the retired prefixes past `grace` go."""
    from conda_pixi_backends import exposure

    store.ensure()
    exposure.refresh_locked(store)
    return store.sweep_retired(grace)


@dataclass
class Collection:
    """What `gc` removed (in a dry run: would remove), kept and skipped."""

    #: Environments nothing keeps and incomplete folders, in store order.
    removed: list[Target] = field(default_factory=list)
    retired: list[Path] = field(default_factory=list)
    orphans: list[Path] = field(default_factory=list)
    packages: package_cache.Sweep = field(default_factory=package_cache.Sweep)
    kept: list[Kept] = field(default_factory=list)
    #: (environment, why it was left) in the order met.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: Retired prefixes still within their grace period.
    waiting: list[Retired] = field(default_factory=list)
    freed: int = 0


def collect_garbage(
    store: Store, settings: Settings, *, older_than: float, dry_run: bool
) -> Collection:
    """What `gc` removes, in this order: the environments nothing keeps and the incomplete
    folders no install holds the lock of; then the retired prefixes past their grace period
    and the orphaned ones; last the package-cache entries no remaining environment uses."""
    store.check(cleaning=True)  # a dry run too: nothing would go from a folder of no store
    found = Collection()
    targets = _unkept(store, settings, found, older_than=older_than, dry_run=dry_run)
    freed = 0
    if dry_run:
        found.removed = targets
    elif targets:

        def changed(seen: EnvRecord, fresh: EnvRecord) -> bool:
            """Spare what was used (or reinstalled) since we looked."""
            return (fresh.last_used, fresh.created) != (seen.last_used, seen.created)

        found.removed, freed = delete(store, targets, keep=changed)
        spared = {t.env for t in targets} - {t.env for t in found.removed}
        found.skipped += [(env, "used or exposed while gc ran") for env in sorted(spared)]
    if store.envs.is_dir():
        freed += _sweep_prefixes(store, found, dry_run=dry_run)
    leaving = {t.env for t in found.removed}
    found.packages = package_cache.sweep(store, leaving=leaving, dry_run=dry_run)
    if dry_run:  # one count, so files linked from both an environment and the cache count once
        paths = [t.path for t in found.removed]
        found.freed = freed_bytes([*paths, *found.retired, *found.orphans, *found.packages.paths])
    else:
        found.freed = freed + found.packages.freed
    found.waiting = waiting(store) if store.envs.is_dir() else []
    return found


def _unkept(
    store: Store, settings: Settings, found: Collection, *, older_than: float, dry_run: bool
) -> list[Target]:
    """The complete environments nothing keeps, then the incomplete folders no install holds
    the lock of; what is kept or busy is noted in `found`."""
    from conda_pixi_backends.errors import OperationError

    keepers = Keepers(settings)
    cutoff = recent_cutoff(older_than)
    complete, incomplete = store.scan() if store.envs.is_dir() else ({}, [])
    exposed = store.exposed()
    targets: list[Target] = []
    for env, record in complete.items():
        reasons = keepers.reasons(env, record, exposed, cutoff)
        if reasons:
            found.kept.append(Kept(env, record, reasons))
        else:
            targets.append(Target(env, Path(record.prefix), record))
    for env in incomplete:
        try:
            free = _unlocked(store, env, dry_run=dry_run)
        except OSError as exc:
            raise OperationError(f"cannot lock {env} in {store.root}: {exc.strerror}") from None
        if free:
            targets.append(Target(env, store.envs / env))
        else:
            found.skipped.append((env, BUSY))
    return targets


def _unlocked(store: Store, env: str, *, dry_run: bool) -> bool:
    """No install holds the lock of the environment folder `env` belongs to. A dry run writes
    nothing, not even a lock file: no lock file, no install holding it."""
    from conda_pixi_backends.locks import Timeout

    name = lock_name(env)
    if dry_run and not (store.locks / f"{name}.lock").exists():
        return True
    try:
        with store.lock(name, timeout=0):
            return True
    except Timeout:
        return False


def _sweep_prefixes(store: Store, found: Collection, *, dry_run: bool) -> int:
    """Remove (dry: find) the retired prefixes past their grace period and the orphaned ones
    no install is working on; returns the bytes freed. Under the `exposure` lock, after the
    launchers are rewritten from the metadata (healing a switch that died before its rewrite),
    so that no launcher names what goes."""
    from conda_pixi_backends import exposure
    from conda_pixi_backends.errors import OperationError
    from conda_pixi_backends.locks import Timeout

    if dry_run:
        found.retired = retired_prefixes(store, GRACE_PERIOD)
        for prefix in store.orphans():
            try:
                free = _unlocked(store, prefix.name, dry_run=True)
            except OSError:
                free = False
            if free:
                found.orphans.append(prefix)
            else:
                found.skipped.append((prefix.name, BUSY))
        return 0
    try:
        with store.lock("exposure"):
            if store.bin.is_dir():
                exposure.refresh(store, store.exposed())
            freed = freed_bytes(retired_prefixes(store, GRACE_PERIOD))
            found.retired = store.sweep_retired(GRACE_PERIOD)
            for prefix in store.orphans():
                try:
                    with store.lock(lock_name(prefix.name), timeout=0):
                        if prefix in store.orphans():  # still: no install claimed it
                            freed += freed_bytes([prefix])
                            store.remove_tree(prefix)
                            found.orphans.append(prefix)
                except Timeout:
                    found.skipped.append((prefix.name, BUSY))
    except OSError as exc:
        raise OperationError(
            f"cannot clean {exc.filename or store.envs}: {exc.strerror or exc}"
        ) from None
    return freed
