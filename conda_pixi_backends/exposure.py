"""Exposure: the launchers in bin/ and the activation scripts in activate/.

Both are regenerated from `exposed.json` and the environments' metadata under one lock, each
file written atomically, so concurrent installs leave them consistent and a shell start-up only
sources a static file.
"""

from __future__ import annotations

import json
from pathlib import Path

from conda_pixi_backends import shells
from conda_pixi_backends.store import EnvRecord, Store, atomic_write, metadata_of, read_record


def launcher_path(store: Store, name: str) -> Path:
    return store.bin / f"{name}{shells.LAUNCHER_SUFFIX}"


def launcher_text(record: EnvRecord) -> str:
    assert record.executable is not None
    return shells.launcher_script(
        shells.LAUNCHER_SHELL,
        record.executable,
        env_set=record.activation.set,
        env_unset=record.activation.unset,
        path_prepend=record.activation.path_prepend,
    )


def activation_text(store: Store, shell: str, exposed: dict[str, EnvRecord]) -> str:
    overrides = [(name, str(launcher_path(store, name))) for name in sorted(exposed)]
    return shells.activation_script(shell, str(store.bin), overrides)


def live_exposure(store: Store, exposed: dict[str, str]) -> dict[str, EnvRecord]:
    """The exposed backends whose environments are complete; the rest are dropped.

    A value is an environment of this store, or the metadata path of one in a read-only
    shared store that this (the user's) store exposes too.
    """
    live = {}
    for name, where in exposed.items():
        path = Path(where)
        record = read_record(path) if path.is_absolute() else store.record(where)
        if record is not None and record.executable:
            live[name] = record
    return live


def expose(store: Store, records: list[EnvRecord]) -> None:
    """Make these environments the ones serving their backend names, and rewrite the scripts."""

    def where(record: EnvRecord) -> str:
        own = Path(record.prefix).parent == store.envs
        return record.env_name if own else str(metadata_of(record))

    with store.lock("exposure"):
        exposed = store.exposed()
        exposed.update({r.name: where(r) for r in records if r.executable})
        refresh(store, exposed)


def refresh(store: Store, exposed: dict[str, str]) -> None:
    """Rewrite bin/, activate/ and exposed.json. The caller holds the `exposure` lock."""
    live = live_exposure(store, exposed)
    for name, record in live.items():
        text = launcher_text(record)
        path = launcher_path(store, name)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            atomic_write(path, text, 0o755)
    wanted = {launcher_path(store, name).name for name in live}
    for path in store.bin.iterdir():
        if path.name not in wanted and not path.name.startswith("."):
            path.unlink(missing_ok=True)
    for shell, filename in shells.SHELLS.items():
        atomic_write(store.activate / filename, activation_text(store, shell, live))
    mapping = {name: exposed[name] for name in sorted(live)}
    atomic_write(store.exposed_file, json.dumps(mapping, indent=2) + "\n")


def hook_text(store: Store, shell: str) -> str:
    """The activation script for a shell: the static file, or what it would hold."""
    path = store.activate / shells.SHELLS[shell]
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return activation_text(store, shell, live_exposure(store, store.exposed()))
