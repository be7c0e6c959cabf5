"""The store: one folder tree of backend environments, shared by workspaces and users.

    <root>/store.json               layout version
    <root>/envs/<name>-<key>/       one backend environment (a conda prefix)
    <root>/envs/<name>-<key>.<n>/   a later generation of it: a reinstall or update installs
                                    beside the prefix in use; the metadata names the live one
    <root>/envs/<prefix>.retired    a replaced prefix, kept for running launchers until swept
    <root>/envs/<name>-<key>.json   its metadata, written last: no metadata, no environment;
                                    its modification time is the environment's last use
    <root>/pkgs/                    the package cache all environments hardlink from
    <root>/cache/                   cached repodata
    <root>/bin/                     one launcher per exposed backend
    <root>/activate/                static activation scripts, one per shell
    <root>/exposed.json             which environment serves each backend name
    <root>/locks/                   one lock per environment, one for the shared files

Everything here is plain file work: the no-op path reads metadata and never imports py-rattler.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conda_pixi_backends.atomic import atomic_write
from conda_pixi_backends.errors import OperationError, UserInputError

if TYPE_CHECKING:
    from conda_pixi_backends.model import Request
    from conda_pixi_backends.settings import Settings

LAYOUT = 1


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Activation:
    """What activating an environment does, recorded once at install time for the launchers."""

    path_prepend: list[str] = field(default_factory=list)
    set: dict[str, str] = field(default_factory=dict)
    unset: list[str] = field(default_factory=list)


@dataclass
class EnvRecord:
    """The metadata of one complete backend environment."""

    name: str
    key: str
    request: dict[str, Any]
    prefix: str
    executable: str | None
    packages: list[dict[str, str]]
    activation: Activation
    created: str
    last_used: str
    manifests: list[str] = field(default_factory=list)
    #: The roots of the workspaces that asked for it, each with the time it last did: the
    #: launcher of its name serves each workspace the environment it asked for last.
    workspaces: dict[str, str] = field(default_factory=dict)
    #: The metadata file this was read from or written to (device, inode): not data, but how
    #: `Store.touch` knows the file still describes this install.
    file_id: tuple[int, int] | None = field(default=None, compare=False, repr=False)

    @property
    def env_name(self) -> str:
        return f"{self.name}-{self.key}"

    def package(self, name: str) -> dict[str, str] | None:
        return next((p for p in self.packages if p["name"] == name), None)

    @property
    def version(self) -> str | None:
        """The version of the environment's own backend package (None if it lacks one)."""
        own = self.package(self.name)
        return own["version"] if own else None

    def to_json(self) -> str:
        data = {"layout": LAYOUT, **self.__dict__, "activation": self.activation.__dict__}
        del data["file_id"]
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> EnvRecord:
        data = json.loads(text)
        if data.pop("layout", None) != LAYOUT:
            raise ValueError("unknown metadata layout")
        data["activation"] = Activation(**data["activation"])
        return cls(**data)


def read_record(path: Path) -> EnvRecord | None:
    """The metadata at `path` if it describes a complete environment of the store it lies in,
    else None.

    The recorded prefix is trusted only where the layout puts it: beside the metadata,
    `envs/<env_name>` or `envs/<env_name>.<n>` (symlinks resolved). Metadata copied from another
    store (`cp -a`), or edited to point elsewhere, describes no environment here, so nothing
    is ever run or deleted through it.

    Its `last_used` is the later of the time written in it and the file's modification time:
    a use that changes nothing else only sets that time (`Store.touch`).
    """
    try:
        with path.open("rb") as file:
            stat = os.fstat(file.fileno())
            record = EnvRecord.from_json(file.read().decode("utf-8"))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    if path.name != f"{record.env_name}.json" or not in_layout(path.parent, record):
        return None
    if not Path(record.prefix, "conda-meta").is_dir():
        return None
    _noted(record, stat)
    return record


def _noted(record: EnvRecord, stat: os.stat_result) -> None:
    """Give `record` the identity and the last use of the metadata file `stat` describes."""
    record.file_id = (stat.st_dev, stat.st_ino)
    touched = datetime.fromtimestamp(stat.st_mtime, timezone.utc)
    try:
        if datetime.fromisoformat(record.last_used) >= touched:
            return
    except (TypeError, ValueError):
        pass
    record.last_used = touched.isoformat()


def workspace_choices(records: Sequence[EnvRecord]) -> dict[str, EnvRecord]:
    """Workspace root -> the environment (of one name) that it asked for last."""
    chosen: dict[str, tuple[str, EnvRecord]] = {}
    for record in records:
        for root, when in record.workspaces.items():
            if root not in chosen or when > chosen[root][0]:
                chosen[root] = (when, record)
    return {root: record for root, (_, record) in chosen.items()}


def in_layout(envs: Path, record: EnvRecord) -> bool:
    """Whether `record`'s prefix is one the layout of `envs` allows for its environment:
    `<envs>/<env_name>` or `<envs>/<env_name>.<n>`."""
    prefix = Path(record.prefix)
    generation = prefix.name.removeprefix(f"{record.env_name}.")
    if prefix.name != record.env_name and (generation == prefix.name or not generation.isdigit()):
        return False
    return prefix.parent == envs or os.path.realpath(prefix.parent) == os.path.realpath(envs)


def why_incomplete(path: Path) -> str:
    """Why the metadata at `path` describes no complete environment, for messages."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return "it has no metadata (being installed, or an install did not finish)"
    except (OSError, UnicodeDecodeError) as exc:
        return f"its metadata {path} cannot be read ({getattr(exc, 'strerror', None) or exc})"
    try:
        record = EnvRecord.from_json(text)
    except (ValueError, TypeError, KeyError, AttributeError):
        return f"its metadata {path} is corrupt (not the JSON this tool writes)"
    if path.name != f"{record.env_name}.json" or not in_layout(path.parent, record):
        return f"its metadata {path} names a prefix outside this store's layout ({record.prefix})"
    return f"its prefix {record.prefix} has no conda-meta"


def metadata_of(record: EnvRecord) -> Path:
    """Where `record` is kept: beside its prefix, in its own store's envs/."""
    return Path(record.prefix).parent / f"{record.env_name}.json"


class Store:
    """Paths, locks and metadata of one store root."""

    def __init__(self, root: Path, setting: str = "root") -> None:
        self.root = root
        #: The setting that names this root, for messages: `root`, or `user_root` for the
        #: writable store beside a read-only shared one.
        self.setting = setting
        self.envs = root / "envs"
        self.pkgs = root / "pkgs"
        self.cache = root / "cache"
        self.bin = root / "bin"
        self.activate = root / "activate"
        self.locks = root / "locks"
        self.exposed_file = root / "exposed.json"
        self.marker = root / "store.json"

    def prefix(self, request: Request) -> Path:
        return self.envs / request.env_name

    def metadata_path(self, env_name: str) -> Path:
        return self.envs / f"{env_name}.json"

    def ensure(self) -> None:
        """Create the tree, or fail with one line when the root cannot be written or is not
        ours (`check`)."""
        self.check()
        try:
            for folder in (self.envs, self.pkgs, self.cache, self.bin, self.activate, self.locks):
                folder.mkdir(parents=True, exist_ok=True)
            if not self.marker.exists():
                atomic_write(self.marker, json.dumps({"layout": LAYOUT}) + "\n")
        except OSError as exc:
            how = (
                "--root or CONDA_PIXI_BACKENDS_ROOT"
                if self.setting == "root"
                else "the setting 'user_root' (CONDA_PIXI_BACKENDS_USER_ROOT)"
            )
            raise OperationError(
                f"store {self.root}: cannot write ({exc.strerror}); choose another with {how}"
            ) from None

    def check(self, *, cleaning: bool = False) -> None:
        """Fail with one line unless the root is a store of this layout, or holds none yet:
        what writes or deletes goes through the layout it knows, never through another's (a
        conda installation also has envs/, pkgs/ and bin/). A package cache and repodata put
        in place before the first install (an offline site's) are fine, but nothing is
        `cleaning` from a root without a marker. Reading needs no marker."""
        try:
            data = json.loads(self.marker.read_text(encoding="utf-8"))
        except (FileNotFoundError, NotADirectoryError):  # no store here, or no folder at all
            kept = [self.envs, self.bin, self.activate, *([self.pkgs] if cleaning else [])]
            if (self.root / "conda-meta").is_dir() or any(_has_entries(f) for f in kept):
                raise UserInputError(
                    f"store {self.root}: not a conda-pixi-backends store (no store.json), and "
                    "not empty; use another --root"
                ) from None
            return
        except (OSError, ValueError) as exc:
            raise OperationError(
                f"store {self.root}: {self.marker} is corrupt "
                f"({getattr(exc, 'strerror', None) or exc}); if this is a store, rewrite it: "
                f"echo '{{\"layout\": {LAYOUT}}}' > {self.marker}"
            ) from None
        layout = data.get("layout") if isinstance(data, dict) else None
        if layout != LAYOUT:
            raise UserInputError(
                f"store {self.root}: {self.marker} says layout {layout!r}, not {LAYOUT}; use "
                "another --root"
            )

    def discard_skeleton(self, env_names: Sequence[str]) -> None:
        """Undo `ensure` after a failed first command in a new store: the folders it made
        while they are empty, the locks of `env_names`, then `store.json`. The package cache
        and repodata cache keep what was downloaded, as conda's do. A folder another process
        has put something in since is left, and then so is `store.json`."""
        with contextlib.suppress(OSError):  # best effort: the failure itself is what matters
            for env_name in env_names:
                (self.locks / f"{env_name}.lock").unlink(missing_ok=True)
            (self.locks / "exposure.lock").unlink(missing_ok=True)
        for folder in (self.envs, self.bin, self.activate, self.locks):
            with contextlib.suppress(OSError):
                folder.rmdir()
        if not any(f.exists() for f in (self.envs, self.bin, self.activate, self.locks)):
            with contextlib.suppress(OSError):
                self.marker.unlink(missing_ok=True)
                self.exposed_file.unlink(missing_ok=True)

    @contextmanager
    def lock(self, name: str, timeout: float = -1) -> Iterator[None]:
        """An inter-process lock: one per environment, and `exposure` for bin/ and activate/.

        With a `timeout` (0: do not wait), a lock held elsewhere raises `locks.Timeout`.
        """
        from conda_pixi_backends import locks

        self.locks.mkdir(parents=True, exist_ok=True)
        with locks.hold(self.locks / f"{name}.lock", timeout):
            yield

    def record(self, env_name: str) -> EnvRecord | None:
        """The metadata of a complete environment, or None (absent, unreadable or incomplete)."""
        return read_record(self.metadata_path(env_name))

    def writable(self) -> bool:
        """Whether this user can install here: a shared store an admin owns may be read-only."""
        place = self.root
        while not place.exists() and place.parent != place:
            place = place.parent
        folders = [place] if place != self.root else [self.root, self.envs, self.bin, self.locks]
        return all(os.access(f, os.W_OK | os.X_OK) for f in folders if f.exists())

    def scan(self) -> tuple[dict[str, EnvRecord], list[str]]:
        """Complete environments by metadata name, and the names of incomplete ones: folders in
        envs/ and metadata files that no complete environment accounts for (being installed,
        or left by an install that died). Both sorted by name. A folder named like a complete
        environment that its metadata no longer names is not among them: see `orphans`."""
        complete, unclaimed = self._scan()
        rest = {p.name for p in unclaimed} | {
            m.name[: -len(".json")] for m in self.envs.glob("*.json")
        }
        return complete, sorted(rest - complete.keys())

    def orphans(self) -> list[Path]:
        """Prefixes named like a complete environment, `envs/<name>-<key>`, that its metadata no
        longer names and that are not retired: left by a reinstall killed between its switch of
        the metadata to a new prefix and the retirement of the old one (before the switch came
        to retire first), or being installed into right now (the environment's lock is held)."""
        complete, unclaimed = self._scan()
        return [p for p in unclaimed if p.name in complete]

    def _scan(self) -> tuple[dict[str, EnvRecord], list[Path]]:
        """Complete environments by metadata name, and the folders of envs/ that none of them
        names as its prefix and that are not retired, sorted."""
        complete: dict[str, EnvRecord] = {}
        for meta in sorted(self.envs.glob("*.json")):
            env_name = meta.name[: -len(".json")]
            record = self.record(env_name)
            if record is not None:
                complete[env_name] = record
        # Retired prefixes are neither: `sweep_retired` removes them after their grace period.
        kept = {Path(r.prefix) for r in complete.values()}
        kept |= {m.with_name(m.name[: -len(".retired")]) for m in self.envs.glob("*.retired")}
        unclaimed = []
        with contextlib.suppress(OSError):
            for entry in sorted(self.envs.iterdir()):
                if entry.is_dir() and not entry.name.startswith(".") and entry not in kept:
                    unclaimed.append(entry)
        return complete, unclaimed

    def records(self, name: str | None = None) -> list[EnvRecord]:
        """The complete environments, or those of the backend `name`."""
        pattern = "*.json" if name is None else f"{glob.escape(name)}-*.json"
        found = (self.record(p.name[: -len(".json")]) for p in sorted(self.envs.glob(pattern)))
        return [r for r in found if r is not None and name in (None, r.name)]

    def write_record(self, record: EnvRecord) -> None:
        path = self.metadata_path(record.env_name)
        atomic_write(path, record.to_json())
        with contextlib.suppress(OSError):
            _noted(record, os.stat(path))

    def touch(
        self, record: EnvRecord, manifests: list[str], workspaces: Sequence[str] = ()
    ) -> EnvRecord:
        """Note a use of the environment `record` (read while planning) describes; returns its
        current metadata.

        A use that changes nothing else (no new manifest, and each workspace already served by
        this environment) only sets the modification time of the metadata, while that file is
        still the one `record` was read from: no lock, no rewrite, and nothing to undo should a
        reinstall switch the metadata a moment later.

        Otherwise the metadata is rewritten under the environment's lock, and only while it
        still describes that install (same prefix and creation time): an `install --force` or
        `update` since then switched it to a new prefix, and writing `record` back would bring
        the retired one back. The use is not noted when the lock is busy (an install is at work,
        or another process notes a use right now) or the metadata cannot be written (a read-only
        shared store).
        """
        if not self._rewrites(record, manifests, workspaces):
            path = self.metadata_path(record.env_name)
            with contextlib.suppress(OSError):
                stat = os.stat(path)
                if (stat.st_dev, stat.st_ino) == record.file_id:
                    os.utime(path)
                    _noted(record, os.stat(path))
                    return record
        try:
            with self.lock(record.env_name, timeout=0):
                current = self.record(record.env_name)
                if current is None:
                    return record
                if (current.prefix, current.created) == (record.prefix, record.created):
                    current.last_used = now()
                    current.manifests = sorted({*current.manifests, *manifests})
                    current.workspaces.update(dict.fromkeys(workspaces, current.last_used))
                    self.write_record(current)
                return current
        except OSError:  # held (locks.Timeout), or not ours to write
            return record

    def _rewrites(self, record: EnvRecord, manifests: list[str], workspaces: Sequence[str]) -> bool:
        """Whether noting this use changes the metadata beyond its last-used time."""
        if not set(manifests) <= set(record.manifests):
            return True
        if any(w not in record.workspaces for w in workspaces):
            return True
        if not workspaces:
            return False
        choices = workspace_choices(self.records(record.name))
        return any(choices.get(w, record).env_name != record.env_name for w in workspaces)

    def forget(self, env_name: str) -> None:
        """Mark an environment incomplete (metadata goes first), then remove its files: the
        prefix its metadata names and `envs/<env_name>`, unless that one is retired (a
        launcher started before an update may still use it; `sweep_retired` removes it)."""
        meta = self.metadata_path(env_name)
        try:
            record: EnvRecord | None = EnvRecord.from_json(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            record = None
        prefix = Path(record.prefix) if record and in_layout(self.envs, record) else None
        meta.unlink(missing_ok=True)
        for path in {prefix, self.envs / env_name}:
            if path is not None and not self.retired_marker(path).exists():
                self.remove_tree(path)

    def owns(self, path: Path) -> bool:
        """Whether `path` lies inside this store's root, the only places the store ever
        deletes: its folder with symlinks resolved, then its own name. A symlink is judged where
        it lies, never by what it points at: deleting it deletes the link alone."""
        root = os.path.realpath(self.root)
        where = os.path.normpath(os.path.join(os.path.realpath(path.parent), path.name))
        return where.startswith(root.rstrip(os.sep) + os.sep)

    def remove_tree(self, path: Path) -> bool:
        """Delete a folder (or file) of this store. Anything outside the root is left alone
        with a warning, whatever a file claimed; returns whether it was deleted."""
        if not self.owns(path):
            import sys

            print(f"warning: {path} is outside the store {self.root}; left alone", file=sys.stderr)
            return False
        if path.is_dir() and not path.is_symlink():
            import shutil

            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        return True

    def new_prefix(self, env_name: str) -> Path:
        """A prefix no environment uses, live or retired: `envs/<env_name>`, else the first free
        `envs/<env_name>.<n>`. An update installs there, beside the prefix still in use."""
        candidate, n = self.envs / env_name, 0
        while candidate.exists() or self.retired_marker(candidate).exists():
            n += 1
            candidate = self.envs / f"{env_name}.{n}"
        return candidate

    def retired_marker(self, prefix: Path) -> Path:
        return prefix.with_name(f"{prefix.name}.retired")

    def retire(self, prefix: Path) -> None:
        """Note that no metadata points at `prefix` any more; its marker's time starts the grace
        period during which launchers started earlier may still run from it."""
        atomic_write(self.retired_marker(prefix), now() + "\n")

    def sweep_retired(self, grace: float) -> list[Path]:
        """Remove the retired prefixes retired more than `grace` seconds ago that no metadata
        points at. Callers refresh the exposure first, so no launcher names them either."""
        import time

        live = {Path(r.prefix): r.env_name for r in self.records()}
        removed = []
        for marker in sorted(self.envs.glob("*.retired")):
            prefix = marker.with_name(marker.name[: -len(".retired")])
            try:
                age = time.time() - marker.stat().st_mtime
            except OSError:
                continue
            if prefix in live:
                # Still live: a reinstall retires the prefix it replaces just before switching the
                # metadata. Under the lock (free: no reinstall at work) the switch did not happen
                # (it failed or was killed), so the prefix is not retired after all.
                env_name = live[prefix]
                with (
                    contextlib.suppress(OSError),
                    self.lock(env_name, timeout=0),
                ):  # or locks.Timeout
                    record = self.record(env_name)
                    if record is not None and Path(record.prefix) == prefix:
                        marker.unlink(missing_ok=True)
                continue
            if age < grace:
                continue
            self.remove_tree(prefix)
            marker.unlink(missing_ok=True)
            removed.append(prefix)
        return removed

    def exposed(self) -> dict[str, str]:
        """Backend name -> environment name, for the backends bin/ and activate/ expose."""
        try:
            data = json.loads(self.exposed_file.read_text(encoding="utf-8"))
        except (FileNotFoundError, NotADirectoryError):
            return {}
        except (OSError, ValueError) as exc:
            data, problem = None, getattr(exc, "strerror", None) or str(exc)
        else:
            problem = "not a mapping of backend names to environments"
        if isinstance(data, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            return data
        # Read as empty, it would make every launcher look unused: doctor --fix would delete
        # them, and gc the environments they run.
        raise OperationError(
            f"{self.exposed_file} is unreadable ({problem}); it names the environment each launcher "
            f"runs: restore it, or remove it and install again the backends you use"
        )


def _has_entries(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is not None
    except OSError:  # absent, or not a folder
        return False


def stores_for(settings: Settings) -> tuple[Store, Store | None]:
    """The store to work in, and the read-only shared store to reuse environments from.

    An admin's shared `root` may be read-only for users: then what it holds is used from
    there, and what it lacks goes to the user's own `user_root`.
    """
    shared = Store(settings.root)
    existing = shared.marker.is_file()  # else: create it, or say why not
    if settings.user_root != settings.root and existing and not shared.writable():
        return Store(settings.user_root, "user_root"), shared
    return shared, None
