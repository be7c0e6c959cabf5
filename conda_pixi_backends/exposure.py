"""Exposure: the launchers in bin/ and the activation scripts in activate/.

Both are regenerated from `exposed.json` and the environments' metadata under one lock, each
file written atomically, so concurrent installs leave them consistent and a shell start-up only
sources a static file.

`exposed.json` names the environment each backend name serves by default: the one installed
last. A workspace that asked for another environment of that name (its metadata's
`workspaces` say when it last did) gets it when Pixi runs there: the launcher holds that
dispatch table, so its bytes change whenever what it runs changes for any workspace.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from conda_pixi_backends import shells, windows
from conda_pixi_backends.atomic import write_all
from conda_pixi_backends.store import (
    EnvRecord,
    Store,
    in_layout,
    metadata_of,
    read_record,
    workspace_choices,
)

if TYPE_CHECKING:
    from conda_pixi_backends.overrides import Override


def launcher_path(store: Store, name: str, platform: str | None = None) -> Path:
    """The launcher of `name`: `bin/<name>.bat` for a Windows environment (`platform`; this
    machine's when None), else `bin/<name>`."""
    if platform is None:
        return store.bin / f"{name}{shells.LAUNCHER_SUFFIX}"
    return store.bin / f"{name}.bat" if windows.is_windows(platform) else store.bin / name


def platform_of(record: EnvRecord) -> str | None:
    return record.request.get("platform")


def for_windows(record: EnvRecord) -> bool:
    """Whether `record` is exposed through a `.bat` launcher that cmd.exe runs."""
    return windows.is_windows(platform_of(record))


def _target(record: EnvRecord) -> shells.Target:
    assert record.executable is not None
    activation = record.activation
    executable = record.executable
    if for_windows(record):  # recorded as installed; the activation as cmd.exe saw it
        executable = windows.cmd_path(executable)
    return shells.Target(executable, activation.set, activation.unset, activation.path_prepend)


def launcher_text(
    record: EnvRecord, candidates: Sequence[EnvRecord] = (), home: str | None = None
) -> str:
    """The launcher of `record`'s name: `record` by default, and for each workspace root that
    one of `candidates` (environments of the same name) served last, that one.

    For a Windows environment it is a `.bat`; `home` (the store's root as cmd.exe sees it)
    lets it name paths in the store relative to its own folder, so that they never pass
    through cmd.exe's parsing or code page.
    """
    windows_launcher = for_windows(record)
    candidates = [c for c in candidates if for_windows(c) == windows_launcher]
    folders = windows.cmd_folders if windows_launcher else _folders
    branches = [
        (folders(root), _target(chosen))
        for root, chosen in sorted(
            workspace_choices([record, *candidates]).items(), key=lambda rc: -len(rc[0])
        )
        if chosen.env_name != record.env_name or chosen.prefix != record.prefix
    ]
    if windows_launcher:
        return shells.dispatch_launcher("cmd", _target(record), branches, home=home)
    return shells.dispatch_launcher(shells.LAUNCHER_SHELL, _target(record), branches)


def candidates(store: Store) -> dict[str, list[EnvRecord]]:
    """The complete environments of this store that could serve each backend name."""
    by_name: dict[str, list[EnvRecord]] = {}
    for record in store.records():
        if record.executable:
            by_name.setdefault(record.name, []).append(record)
    return by_name


def serving(record: EnvRecord, others: Sequence[EnvRecord], workspace: str) -> EnvRecord:
    """What the launcher of `record`'s name (with `others` of that name) runs in `workspace`."""
    return workspace_choices([record, *others]).get(workspace, record)


def _folders(root: str) -> list[str]:
    """A workspace root as the launcher may see it in $PWD: as recorded, and resolved."""
    return list(dict.fromkeys([root, os.path.realpath(root)]))


def activation_text(store: Store, shell: str, exposed: dict[str, EnvRecord]) -> str:
    """The static activation script for `shell`. Off Windows, a store that exposes Windows
    environments hands those (through their `.bat` launchers, as Wine's cmd.exe sees them) to
    the cmd.exe and PowerShell scripts, and the others to the POSIX shells' scripts."""
    wine = not windows.native() and any(for_windows(r) for r in exposed.values())
    if wine and shell in ("cmd", "powershell"):
        overrides = [
            (name, windows.cmd_path(launcher_path(store, name, platform_of(record))))
            for name, record in sorted(exposed.items())
            if for_windows(record)
        ]
        return shells.activation_script(shell, windows.cmd_path(store.bin), overrides)
    overrides = [
        (name, str(launcher_path(store, name)))
        for name, record in sorted(exposed.items())
        if not (wine and for_windows(record))
    ]
    return shells.activation_script(shell, str(store.bin), overrides)


def live_exposure(
    store: Store, exposed: dict[str, str], known: dict[str, EnvRecord] | None = None
) -> dict[str, EnvRecord]:
    """The exposed backends whose environments are complete; the rest are dropped.

    A value is an environment of this store, or the metadata path of one in a read-only
    shared store that this (the user's) store exposes too. `known`: this store's complete
    environments by name, when the caller has just read them all.
    """
    live = {}
    for name, where in exposed.items():
        path = Path(where)
        if path.is_absolute():
            record = read_record(path)
        else:
            record = known.get(where) if known is not None else store.record(where)
        if record is not None and record.executable:
            live[name] = record
    return live


def expose(store: Store, records: list[EnvRecord], *, installed: bool = True) -> None:
    """Make these environments the ones serving their backend names, and rewrite the scripts.

    Without `installed` (all of `records` were there already), look first without the lock.
    """

    def where(record: EnvRecord) -> str:
        own = in_layout(store.envs, record)
        return record.env_name if own else str(metadata_of(record))

    def wanted() -> dict[str, str]:
        return {**store.exposed(), **{r.name: where(r) for r in records if r.executable}}

    # Each file is replaced whole, so what is there can be read without the lock; only a change
    # takes it (and looks again under it): a no-op install writes nothing and waits for no one.
    if not installed and _changes(store, wanted()) == ([], []):
        return
    with store.lock("exposure"):
        refresh(store, wanted())


def refresh(store: Store, exposed: dict[str, str]) -> None:
    """Rewrite bin/, activate/ and exposed.json. The caller holds the `exposure` lock."""
    files, stale = _changes(store, exposed)
    write_all(files)  # all or nothing
    for path in stale:
        path.unlink(missing_ok=True)


def _changes(
    store: Store, exposed: dict[str, str]
) -> tuple[list[tuple[Path, bytes, int | None]], list[Path]]:
    """What exposing `exposed` changes: the files of bin/, activate/ and exposed.json that do
    not hold what they should, and the launchers in bin/ that nothing exposes any more."""
    by_name = candidates(store)
    live = live_exposure(store, exposed, {r.env_name: r for rs in by_name.values() for r in rs})
    home = windows.cmd_path(store.root)
    files: list[tuple[Path, bytes, int | None]] = [
        (
            launcher_path(store, name, platform_of(record)),
            launcher_text(record, by_name.get(name, ()), home).encode("utf-8"),
            0o755,
        )
        for name, record in live.items()
    ]
    files += [
        (store.activate / filename, shells.encode(shell, activation_text(store, shell, live)), None)
        for shell, filename in shells.SHELLS.items()
    ]
    mapping = {name: exposed[name] for name in sorted(live)}
    files.append((store.exposed_file, (json.dumps(mapping, indent=2) + "\n").encode(), None))
    wanted = {launcher_path(store, name, platform_of(r)).name for name, r in live.items()}
    stale = [p for p in store.bin.iterdir() if p.name not in wanted and not p.name.startswith(".")]
    return [f for f in files if not _holds(*f)], stale


def refresh_locked(store: Store) -> None:
    """Rewrite launchers and activation scripts from the current metadata, under the lock."""
    with store.lock("exposure"):
        refresh(store, store.exposed())


def own_launcher(store: Store, override: Override) -> bool:
    """True for an override that our own activation script set: it points into our bin/.
    Compared as real paths, so a store root reached through a symlink or '..' is still ours."""
    if override.path is None:
        return False
    path = override.resolve()
    return path is not None and Path(os.path.realpath(path)).parent == Path(
        os.path.realpath(store.bin)
    )


def _holds(path: Path, data: bytes, mode: int | None) -> bool:
    """Whether `path` already is what would be written (an executable, for a launcher)."""
    try:
        same = path.read_bytes() == data
    except OSError:
        return False
    return same and (mode is None or os.access(path, os.X_OK))


def hook_text(store: Store, shell: str) -> str:
    """The activation script for a shell: the static file, or what it would hold."""
    path = store.activate / shells.SHELLS[shell]
    try:
        return path.read_text(encoding="utf-8-sig")  # as `shells.encode` wrote it
    except OSError:
        return activation_text(store, shell, live_exposure(store, store.exposed()))
