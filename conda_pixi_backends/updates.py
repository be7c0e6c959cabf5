"""`update`: solve installed requests again and move each whose solution changed to it.

An environment whose new solution differs is installed into a new prefix beside the old one;
its metadata, written last, switches to it; the launchers are rewritten; only then is the old
prefix retired. A retired prefix stays on disk for a grace period, because a launcher started
before the switch still runs from it, and is removed by a later `update` once the period is
over (the metadata file keeps its name, keyed by request; its `prefix` names the live one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypedDict

from conda_pixi_backends.errors import command

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from conda_pixi_backends.installer import Outcome
    from conda_pixi_backends.settings import Settings
    from conda_pixi_backends.store import EnvRecord, Store

Status = Literal["up-to-date", "would-update", "updated"]


class Change(TypedDict):
    """A package that differs in the new solution, in `update --json` (`changes`): its
    `version=build` before and after (null: absent)."""

    name: str
    old: str | None
    new: str | None


@dataclass
class Update:
    """One installed environment, solved again."""

    #: The metadata as it was before.
    old: EnvRecord
    #: The packages of the new solution.
    new: list[dict[str, str]]
    #: Whether the new solution differs from the installed one.
    stale: bool
    status: Status
    #: The metadata live now: the new one once updated.
    current: EnvRecord
    #: The prefix it replaced, now retired (only when updated).
    replaced: Path | None = None

    @property
    def version(self) -> str | None:
        """The backend's own version: in the new solution, else in the live environment."""
        if self.status == "would-update":
            own = next((p for p in self.new if p["name"] == self.old.name), None)
            return own["version"] if own else None
        return self.current.version

    def changes(self) -> list[Change]:
        """What differs in the new solution (nothing when it is the same)."""
        return changes(self.old.packages, self.new) if self.stale else []


def _label(row: dict[str, str] | None) -> str | None:
    return f"{row['version']}={row['build']}" if row else None


def changes(old: list[dict[str, str]], new: list[dict[str, str]]) -> list[Change]:
    """The packages that differ, as `version=build` before and after (None: absent)."""
    before = {p["name"]: p for p in old}
    after = {p["name"]: p for p in new}
    found: list[Change] = []
    for name in sorted(before.keys() | after.keys()):
        a, b = before.get(name), after.get(name)
        same = a and b and (a["version"], a["build"], a.get("sha256")) == (
            b["version"], b["build"], b.get("sha256")
        )  # fmt: skip
        if not same:
            found.append({"name": name, "old": _label(a), "new": _label(b)})
    return found


def installed(store: Store, names: Sequence[str]) -> list[EnvRecord]:
    """The environments to update: all, or those of the named backends; a name not installed
    is bad input."""
    from conda_pixi_backends.errors import UserInputError

    records = store.records()
    if names:
        unknown = sorted(set(names) - {r.name for r in records})
        if unknown:
            raise UserInputError(
                f"{', '.join(unknown)}: not installed in {store.root}; nothing updated "
                f"(see: {command()} list)"
            )
        records = [r for r in records if r.name in names]
    return records


@dataclass
class Updated:
    """What `update` did: each environment solved again, and the retired prefixes it removed."""

    backends: list[Update]
    swept: list[Path]


def update(
    store: Store, settings: Settings, names: Sequence[str], *, dry_run: bool, grace: float
) -> Updated:
    """Solve the request of each installed environment (all, or the named backends') again
    and, unless `dry_run`, install what changed beside the prefix in use, switch to it,
    rewrite the launchers, then retire the old prefix. Retired prefixes older than `grace`
    seconds go first."""
    from conda_pixi_backends import cleanup

    records = installed(store, names)
    swept = []
    if not dry_run and store.root.is_dir():
        swept = cleanup.sweep_retired(store, grace)
    return Updated(_solve_again(store, settings, records, dry_run=dry_run), swept)


def _solve_again(
    store: Store, settings: Settings, records: list[EnvRecord], *, dry_run: bool
) -> list[Update]:
    if not records:
        return []
    from conda_pixi_backends import exposure, installer, model, plan
    from conda_pixi_backends.errors import OperationError

    requests = [plan.request_from_record(r) for r in records]
    for record, request in zip(records, requests, strict=True):
        if request.key != record.key:
            raise OperationError(
                f"{store.metadata_path(record.env_name)}: its request no longer has key "
                f"{record.key}; reinstall it: {command()} install --force ..."
            )
    fetch = settings.fetch()
    solved = installer.solve(store, requests, fetch)
    new_rows = [installer.package_rows(s) for s in solved]
    stale = [
        i
        for i, (record, new) in enumerate(zip(records, new_rows, strict=True))
        if not model.same_packages(record.packages, new)
    ]
    outcomes: dict[int, Outcome] = {}
    if stale and not dry_run:
        results = installer.install(
            store, [requests[i] for i in stale], fetch=fetch, records=[solved[i] for i in stale]
        )
        outcomes = dict(zip(stale, results, strict=True))
        exposure.refresh_locked(store)
        for outcome in results:  # only now that no launcher names them
            if outcome.replaced is not None:
                store.retire(outcome.replaced)
    return [
        _result(record, new_rows[i], outcomes.get(i), stale=i in stale, dry_run=dry_run)
        for i, record in enumerate(records)
    ]


def _result(
    record: EnvRecord,
    new: list[dict[str, str]],
    outcome: Outcome | None,
    *,
    stale: bool,
    dry_run: bool,
) -> Update:
    if outcome is None:  # up to date, or a dry run
        status: Status = "would-update" if stale and dry_run else "up-to-date"
        return Update(record, new, stale, status, record)
    # Another update may have switched it meanwhile: compare with what is live now.
    if not outcome.installed:
        return Update(record, new, stale, "up-to-date", outcome.record)
    return Update(record, new, stale, "updated", outcome.record, outcome.replaced)
