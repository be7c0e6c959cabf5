"""The store: one folder tree of backend environments, shared by workspaces and users.

    <root>/store.json               layout version
    <root>/envs/<name>-<key>/       one backend environment (a conda prefix)
    <root>/envs/<name>-<key>.json   its metadata, written last: no metadata, no environment
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
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from conda_pixi_backends.errors import OperationError, UserInputError
from conda_pixi_backends.model import Request

LAYOUT = 1


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def atomic_write(path: Path, text: str, mode: int | None = None) -> None:
    """Write through a temporary file and a rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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

    @property
    def env_name(self) -> str:
        return f"{self.name}-{self.key}"

    def package(self, name: str) -> dict[str, str] | None:
        return next((p for p in self.packages if p["name"] == name), None)

    def to_json(self) -> str:
        data = {"layout": LAYOUT, **self.__dict__, "activation": self.activation.__dict__}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> EnvRecord:
        data = json.loads(text)
        if data.pop("layout", None) != LAYOUT:
            raise ValueError("unknown metadata layout")
        data["activation"] = Activation(**data["activation"])
        return cls(**data)


class Store:
    """Paths, locks and metadata of one store root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.envs = root / "envs"
        self.pkgs = root / "pkgs"
        self.cache = root / "cache"
        self.bin = root / "bin"
        self.activate = root / "activate"
        self.locks = root / "locks"
        self.exposed_file = root / "exposed.json"

    def prefix(self, request: Request) -> Path:
        return self.envs / request.env_name

    def metadata_path(self, env_name: str) -> Path:
        return self.envs / f"{env_name}.json"

    def ensure(self) -> None:
        """Create the tree, or fail with one line when the root cannot be written."""
        marker = self.root / "store.json"
        try:
            for folder in (self.envs, self.pkgs, self.cache, self.bin, self.activate, self.locks):
                folder.mkdir(parents=True, exist_ok=True)
            if not marker.exists():
                atomic_write(marker, json.dumps({"layout": LAYOUT}) + "\n")
        except OSError as exc:
            raise OperationError(
                f"store {self.root}: cannot write ({exc.strerror}); choose another with --root "
                "or CONDA_PIXI_BACKENDS_ROOT"
            ) from None
        layout = json.loads(marker.read_text()).get("layout")
        if layout != LAYOUT:
            raise UserInputError(
                f"store {self.root}: layout {layout} is not {LAYOUT}; use another --root"
            )

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """An inter-process lock: one per environment, and `exposure` for bin/ and activate/."""
        from filelock import FileLock

        self.locks.mkdir(parents=True, exist_ok=True)
        # Not thread-local: the installer takes a lock in a worker thread and frees it in another.
        with FileLock(self.locks / f"{name}.lock", thread_local=False):
            yield

    def record(self, env_name: str) -> EnvRecord | None:
        """The metadata of a complete environment, or None (absent, unreadable or incomplete)."""
        try:
            record = EnvRecord.from_json(self.metadata_path(env_name).read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError, KeyError):
            return None
        if not Path(record.prefix, "conda-meta").is_dir():
            return None
        return record

    def records(self) -> list[EnvRecord]:
        found = (self.record(p.name[: -len(".json")]) for p in sorted(self.envs.glob("*.json")))
        return [r for r in found if r is not None]

    def write_record(self, record: EnvRecord) -> None:
        atomic_write(self.metadata_path(record.env_name), record.to_json())

    def touch(self, record: EnvRecord, manifests: list[str]) -> None:
        """Note a use; a read-only shared store simply keeps its old times."""
        record.last_used = now()
        record.manifests = sorted({*record.manifests, *manifests})
        with contextlib.suppress(OSError):
            self.write_record(record)

    def forget(self, env_name: str) -> None:
        """Mark an environment incomplete (metadata goes first), then remove its files."""
        self.metadata_path(env_name).unlink(missing_ok=True)
        shutil.rmtree(self.envs / env_name, ignore_errors=True)

    def exposed(self) -> dict[str, str]:
        """Backend name -> environment name, for the backends bin/ and activate/ expose."""
        try:
            data = json.loads(self.exposed_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
