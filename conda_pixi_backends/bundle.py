"""`bundle`: what a lock file pins, carried as a conda channel folder to a site with no network.

OUTDIR becomes a channel: `<subdir>/` folders holding each locked package once (its sha256
checked against the lock), repodata indexed by py-rattler (with `.zst`), and three files:

- `pixi-backends.lock`: the lock, as it names the upstream channels (for a site whose
  `mirrors` setting maps them to the bundle served over HTTP);
- `bundle.lock`: the same packages, each environment keyed for the bundle as its only channel,
  for `install --locked --lock-file OUTDIR/bundle.lock -c file://OUTDIR --override-channels`;
- `bundle.json`: what is inside: each package's file, size, sha256 and source, and the backend
  environments it serves.

Running again into the same OUTDIR adds what is missing and rewrites nothing that holds what
it should; a package already there with another sha256 is an error, never overwritten. Each
file is written through a temporary file and a rename (`atomic.py`), so a failed run leaves
whole files; runs into one OUTDIR take turns (`OUTDIR/.bundle.lock`), so that each one's
environments are merged into the locks and bundle.json. Imported only by `bundle`: it needs
py-rattler.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import rattler
from rattler.index import index_fs
from rattler.package_streaming import download_to_path

from conda_pixi_backends.atomic import atomic_write, write_all
from conda_pixi_backends.errors import OperationError, UserInputError
from conda_pixi_backends.installer import Records, client, error_text, file_sha256, sha256_hex
from conda_pixi_backends.lock_files import locked_records
from conda_pixi_backends.locks import hold
from conda_pixi_backends.model import normalize_channel, url_to_path
from conda_pixi_backends.sizes import human

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from conda_pixi_backends.model import Fetch, Request
    from conda_pixi_backends.settings import Settings

#: The files a bundle holds besides its packages and repodata.
UPSTREAM_LOCK = "pixi-backends.lock"
BUNDLE_LOCK = "bundle.lock"
CONTENTS = "bundle.json"
#: Taken by a run for its whole length: runs into one OUTDIR take turns.
LOCK = ".bundle.lock"
#: Downloads at once: enough to hide latency, few enough for a shared mirror.
PARALLEL = 4


class PackageRow(TypedDict):
    """One package file of a bundle, in `bundle --json` (`added`, `reused`) and bundle.json."""

    #: `<subdir>/<file name>` in OUTDIR.
    file: str
    size: int
    sha256: str
    #: Where it was downloaded from.
    url: str
    #: The backend environments (`<name>-<key>`) it serves.
    environments: list[str]


@dataclass
class Package:
    """One package file of the bundle."""

    file: str  # <subdir>/<file name>
    size: int
    sha256: str
    url: str  # where it was downloaded from
    environments: list[str] = field(default_factory=list)
    added: bool = False

    def row(self) -> PackageRow:
        return {
            "file": self.file,
            "size": self.size,
            "sha256": self.sha256,
            "url": self.url,
            "environments": sorted(self.environments),
        }


@dataclass
class Bundled:
    """What one run did."""

    outdir: Path
    channel: str
    lock_file: Path
    packages: list[Package]
    environments: list[str]

    @property
    def added(self) -> list[Package]:
        return [p for p in self.packages if p.added]

    @property
    def reused(self) -> list[Package]:
        return [p for p in self.packages if not p.added]


def lock_file_for(
    manifests: Sequence[Path],
    given: Path | None,
    requests: Sequence[Request],
    platforms: Sequence[str],
    settings: Settings,
) -> tuple[Path, bool]:
    """The lock file to bundle from, and whether it was written now: with none yet, the
    requests are solved and locked first, where `lock` would write them."""
    from conda_pixi_backends import lock_files, plan
    from conda_pixi_backends.installer import solve
    from conda_pixi_backends.store import stores_for

    path = plan.lock_file_for(manifests, given)
    if path.is_file():
        return path, False
    path = plan.lock_file_for(manifests, given, write=True)
    store = stores_for(settings)[0]
    solved = solve(store, requests, settings.fetch()) if requests else []
    lock_files.write_lock(path, platforms, requests, solved)
    return path, True


def bundle(
    outdir: Path, requests: Sequence[Request], lock_file: Path, fetch: Fetch, *, progress: bool
) -> Bundled:
    """Bundle exactly what `lock_file` pins for `requests` into `outdir` (see the module)."""
    outdir = checked_outdir(outdir)
    channel = normalize_channel(str(outdir))
    solved, _ = locked_records(lock_file, requests)
    packages = _packages(requests, solved, lock_file)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        turn = contextlib.ExitStack()  # held from here to the end
        turn.enter_context(hold(outdir / LOCK))
    except OSError as exc:
        raise OperationError(f"{outdir}: cannot write ({exc.strerror or exc})") from None
    with turn:
        # Before anything is written, what is there already must be a bundle's: a conflict or
        # an unrelated file changes nothing.
        earlier = _read_contents(outdir / CONTENTS)
        locked = {name: _read_lock(outdir / name) for name in (UPSTREAM_LOCK, BUNDLE_LOCK)}
        for package in packages.values():
            _check_existing(outdir, package)
        missing = [p for p in packages.values() if not (outdir / p.file).is_file()]
        _download(outdir, missing, fetch, progress=progress)
        _index(outdir, force=bool(missing))
        _write_locks(outdir, channel, requests, solved, locked)
        _write_contents(outdir, packages.values(), requests, earlier)
    return Bundled(outdir, channel, lock_file, list(packages.values()), _names(requests))


def checked_outdir(outdir: Path) -> Path:
    """OUTDIR as an absolute, normalised path; a UserInputError when it is no folder."""
    outdir = Path(os.path.normpath(outdir.absolute()))
    if outdir.exists() and not outdir.is_dir():
        raise UserInputError(f"{outdir}: not a folder")
    return outdir


def _names(requests: Iterable[Request]) -> list[str]:
    return list(dict.fromkeys(r.env_name for r in requests))


def _packages(
    requests: Sequence[Request], solved: Sequence[Records], lock_file: Path
) -> dict[str, Package]:
    """Each locked package once, by its place in the bundle; one file name locked with two
    sha256s (two channels' builds) cannot share one channel folder."""
    found: dict[str, Package] = {}
    for request, records in zip(requests, solved, strict=True):
        for record in records:
            place = f"{record.subdir}/{record.file_name}"
            sha256 = sha256_hex(record.sha256)
            if not sha256:
                raise UserInputError(
                    f"{lock_file}: {record.file_name} has no sha256; lock it again to bundle it"
                )
            package = found.setdefault(
                place, Package(place, int(record.size or 0), sha256, str(record.url))
            )
            if package.sha256 != sha256:
                raise UserInputError(
                    f"{lock_file}: {place} is locked twice with different sha256s "
                    f"({package.url}, {record.url}); one bundle cannot hold both"
                )
            if request.env_name not in package.environments:
                package.environments.append(request.env_name)
    return found


def _check_existing(outdir: Path, package: Package) -> None:
    path = outdir / package.file
    if path.is_file():
        have = file_sha256(path)
        if have != package.sha256:
            raise UserInputError(
                f"{path}: already in the bundle with sha256 {have}, but the lock file pins "
                f"{package.sha256}; use another OUTDIR or remove that file"
            )
        package.size = path.stat().st_size


def _download(outdir: Path, missing: Sequence[Package], fetch: Fetch, *, progress: bool) -> None:
    """Each package through a temporary file, renamed into place once its sha256 matches.
    With `progress`, one line on stderr counts the packages and bytes that arrived."""
    if not missing:
        return
    http = client(fetch)

    def fetch_one(package: Package) -> None:
        def write(tmp: Path) -> None:
            source = url_to_path(package.url)
            if source is not None:  # py-rattler's client reads no file:// URLs
                try:  # an error opening it is the source's, not OUTDIR's
                    given = open(source, "rb")  # noqa: SIM115 - closed below
                except OSError as exc:
                    raise OperationError(
                        f"cannot read {package.url}: {exc.strerror or exc}"
                    ) from None
                with given, tmp.open("wb") as copy:
                    shutil.copyfileobj(given, copy)
            else:
                try:
                    asyncio.run(download_to_path(http, package.url, tmp))
                except Exception as exc:  # py-rattler raises plain exceptions here
                    raise OperationError(
                        f"cannot download {package.url}: {error_text(exc)}"
                    ) from None
            got = file_sha256(tmp)
            if got != package.sha256:
                raise OperationError(
                    f"{package.url}: sha256 {got} does not match the lock file's {package.sha256}"
                )

        atomic_write(outdir / package.file, write)
        package.size = (outdir / package.file).stat().st_size
        package.added = True

    total = sum(p.size for p in missing)
    arrived = [0, 0]  # packages, bytes

    def show() -> None:
        sys.stderr.write(
            f"\rDownloaded {arrived[0]}/{len(missing)} packages, "
            f"{human(arrived[1])} of {human(total)}"
        )
        sys.stderr.flush()

    try:
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            if progress:
                show()
            futures = {pool.submit(fetch_one, p): p for p in missing}
            for future in as_completed(futures):
                future.result()  # the first failure is raised; the others still finish whole
                arrived[0] += 1
                arrived[1] += futures[future].size
                if progress:
                    show()
    finally:
        if progress:  # the results (or the error) start a line of their own
            sys.stderr.write("\n")
            sys.stderr.flush()


def _index(outdir: Path, *, force: bool) -> None:
    """Repodata for every subdir, by py-rattler, indexed in a staging copy (hardlinks) and
    written all at once: a reader never sees repodata naming a package not yet there."""
    subdirs = [d for d in outdir.iterdir() if d.is_dir() and not d.name.startswith(".")]
    subdirs = [d for d in subdirs if any(_is_package(f) for f in d.iterdir())]
    names = {d.name for d in subdirs} | {"noarch"}
    if not force and all((outdir / n / "repodata.json").is_file() for n in names):
        return
    staging = Path(tempfile.mkdtemp(dir=outdir, prefix=".index-"))
    try:
        for name in names:
            (staging / name).mkdir()
            source = outdir / name
            for package in source.iterdir() if source.is_dir() else []:
                if _is_package(package):
                    _link_or_copy(package, staging / name / package.name)
        try:
            asyncio.run(index_fs(staging, write_zst=True, write_shards=False, force=True))
        except Exception as exc:  # py-rattler raises plain exceptions here
            raise OperationError(f"cannot index {outdir}: {error_text(exc)}") from None
        written: list[tuple[Path, bytes | str, int | None]] = []
        for name in sorted(names):
            for made in sorted((staging / name).iterdir()):
                if made.is_file() and not _is_package(made):
                    written.append((outdir / name / made.name, made.read_bytes(), None))
        write_all(written)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _is_package(path: Path) -> bool:
    return path.is_file() and path.name.endswith((".conda", ".tar.bz2"))


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _write_locks(
    outdir: Path,
    channel: str,
    requests: Sequence[Request],
    solved: Sequence[Records],
    locked: dict[str, Locked],
) -> None:
    """The lock's environments as they name the upstream channels, and the same keyed for the
    bundle as the only channel, each merged into what the bundle's locks hold already (another
    workspace's backends). py-rattler writes them: the lock is merged, not copied."""
    upstream: dict[str, tuple[list[str], str, Records]] = {}
    local: dict[str, tuple[list[str], str, Records]] = {}
    for request, records in zip(requests, solved, strict=True):
        upstream[request.env_name] = (list(request.channels), request.platform, records)
        moved = [
            rattler.RepoDataRecord(r, r.file_name, f"{channel}/{r.subdir}/{r.file_name}", channel)
            for r in records
        ]
        key = replace(request, channels=(channel,)).env_name
        local[key] = ([channel], request.platform, moved)
    _merge_lock(outdir / UPSTREAM_LOCK, upstream, locked[UPSTREAM_LOCK])
    _merge_lock(outdir / BUNDLE_LOCK, local, locked[BUNDLE_LOCK])


Locked = dict[str, tuple[list[str], dict[str, Records]]]


def _read_lock(path: Path) -> Locked:
    """The environments of the bundle's lock at `path` (none when it is absent): each one's
    channels and records by platform."""
    found: Locked = {}
    if path.is_file():
        try:
            old = rattler.LockFile.from_path(path)
        except Exception as exc:  # py-rattler raises plain exceptions for unreadable files
            raise UserInputError(f"{path}: not a readable lock file: {error_text(exc)}") from None
        for name, environment in old.environments():
            channels = [str(c) for c in environment.channels()]
            found[name] = (channels, dict(environment.conda_repodata_records()))
    return found


def _merge_lock(
    path: Path, environments: dict[str, tuple[list[str], str, Records]], earlier: Locked
) -> None:
    """Write `environments` into the lock at `path`, keeping the `earlier` ones it held; the
    file is rewritten only when its bytes change."""
    merged = dict(earlier)
    for name, (channels, platform, records) in environments.items():
        merged[name] = (channels, {platform: records})
    platforms = sorted({p for _, by_platform in merged.values() for p in by_platform})
    locks = {p: rattler.LockPlatform(p) for p in platforms}
    lock = rattler.LockFile(list(locks.values()))
    for name, (channels, by_platform) in sorted(merged.items()):
        lock.set_channels(name, [rattler.LockChannel(c) for c in channels])
        for platform, records in by_platform.items():
            for record in records:
                lock.add_conda_package(name, locks[str(platform)], record)
    with tempfile.TemporaryDirectory() as scratch:
        rendered = Path(scratch) / path.name
        lock.to_path(rendered)
        content = rendered.read_bytes()
    _write_if_changed(path, content)


Contents = tuple[dict[str, PackageRow], dict[str, dict[str, Any]]]


def _read_contents(path: Path) -> Contents:
    """bundle.json's package rows by file and its environments, as earlier runs wrote them
    (none when it is absent); a UserInputError naming it when it is anything else."""
    if not path.is_file():
        return {}, {}
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        rows: dict[str, PackageRow] = {str(row["file"]): row for row in old["packages"]}
        environments = {str(k): dict(v) for k, v in old["environments"].items()}
        for row in rows.values():
            int(row["size"])
            row["environments"] = [str(e) for e in row["environments"]]
    except KeyError as exc:
        raise UserInputError(f"{path}: not a bundle's contents (no {exc})") from None
    except (ValueError, TypeError, AttributeError) as exc:
        raise UserInputError(f"{path}: not a bundle's contents ({exc})") from None
    return rows, environments


def _write_contents(
    outdir: Path, packages: Iterable[Package], requests: Sequence[Request], earlier: Contents
) -> None:
    """bundle.json: every package of the bundle (this run's and `earlier` ones') and the
    environments each serves."""
    path = outdir / CONTENTS
    rows, environments = dict(earlier[0]), dict(earlier[1])
    for package in packages:
        row = package.row()
        before = rows[package.file]["environments"] if package.file in rows else []
        row["environments"] = sorted({*before, *row["environments"]})
        rows[package.file] = row
    for request in requests:
        environments[request.env_name] = {
            "name": request.name,
            "spec": request.spec,
            "platform": request.platform,
            "channels": list(request.channels),
        }
    data = {
        "version": 1,
        "packages": [rows[k] for k in sorted(rows)],
        "environments": {k: environments[k] for k in sorted(environments)},
        "size": sum(int(r["size"]) for r in rows.values()),
    }
    _write_if_changed(path, json.dumps(data, indent=2) + "\n")


def _write_if_changed(path: Path, content: str | bytes) -> None:
    data = content.encode("utf-8") if isinstance(content, str) else content
    if path.is_file() and path.read_bytes() == data:
        return
    atomic_write(path, data)
