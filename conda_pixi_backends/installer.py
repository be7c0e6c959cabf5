"""Solving and installing backend environments with py-rattler.

All requests are solved concurrently against one gateway, then installed concurrently, each
under its own environment lock, into one shared package cache. How channels are reached
(offline, mirrors, authentication) is py-rattler's own configuration: a `SourceConfig` for the
gateway and a `Client` built from a `rattler.Config`. Imported lazily, only by the paths that
solve or install; recording activation is `activation.py`, lock files `lock_files.py`.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import os
import re
import shutil
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import NamedTuple

import rattler
from rattler import exceptions as rx

from conda_pixi_backends.activation import capture_activation, capture_cmd_activation
from conda_pixi_backends.build_api import api_constraints, check_api, why_unsolvable
from conda_pixi_backends.discovery.exclude_newer import cutoff
from conda_pixi_backends.errors import OperationError, UserInputError, command
from conda_pixi_backends.model import (
    CONFIG,
    Fetch,
    Request,
    manifest_sources,
    same_packages,
    url_to_path,
)
from conda_pixi_backends.settings import current_platform
from conda_pixi_backends.store import Activation, EnvRecord, Store, now
from conda_pixi_backends.windows import cmd_command, is_windows

#: What py-rattler says when `force-cache-only` finds nothing for a subdir.
_NO_CACHE = re.compile(r"no usable repodata cache for (\S+)")
#: What py-rattler raises for a spec it cannot parse.
_BAD_SPEC = (rx.InvalidMatchSpecError, rx.InvalidVersionSpecError, rx.InvalidPackageNameError)

Records = list[rattler.RepoDataRecord]


class Outcome(NamedTuple):
    """What installing one request did."""

    record: EnvRecord
    installed: bool
    #: The prefix the environment used before this install replaced it. It is retired already
    #: (just before the metadata switch); callers retire it again once the launchers point at
    #: `record.prefix`, so that its grace period starts when no new start can reach it.
    replaced: Path | None = None


def error_text(exc: BaseException) -> str:
    """A py-rattler error's message on one line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines) if lines else type(exc).__name__


def client(fetch: Fetch) -> rattler.Client:
    """py-rattler's standard client (retries, authentication from RATTLER_AUTH_FILE or the
    keyring, proxies) with the configured mirrors and S3 buckets (credentials from the
    standard AWS variables or the auth file). Made once per configuration: `validate` checks it,
    the install uses it."""
    return _client(json.dumps([fetch.mirrors, fetch.s3], sort_keys=True))


@functools.cache
def _client(configuration: str) -> rattler.Client:
    mirrors, s3 = json.loads(configuration)
    config = rattler.Config()
    for bucket, options in s3.items():
        # Config.set does not take `s3-options`: written as TOML, whose strings JSON's are.
        endpoint, region, name = (
            json.dumps(v, ensure_ascii=False)
            for v in (options["endpoint_url"], options["region"], bucket)
        )
        style = "path" if options["force_path_style"] else "virtual-host"
        toml = (
            f"[s3-options.{name}]\nendpoint-url = {endpoint}\nregion = {region}\n"
            f'addressing-style = "{style}"\n'
        )
        try:
            config = config.merge(rattler.Config.from_toml(toml))
        except ValueError as exc:
            raise UserInputError(f"s3: {bucket}: {error_text(exc)}") from None
    for url, urls in mirrors.items():
        try:
            config.set(f'mirrors."{url.rstrip("/")}"', json.dumps([m.rstrip("/") for m in urls]))
        except ValueError as exc:
            raise UserInputError(f"mirrors: {url}: {error_text(exc)}") from None
    return rattler.Client.from_config(config)


def gateway(store: Store, fetch: Fetch, http: rattler.Client) -> rattler.Gateway:
    """Offline, the gateway reads cached repodata only, however old; file:// channels are read
    directly either way."""
    source = rattler.SourceConfig(
        cache_action="force-cache-only" if fetch.offline else "cache-or-fetch"
    )
    return rattler.Gateway(cache_dir=store.cache, default_config=source, client=http)


def _origin(request: Request) -> str:
    """Where a request came from, for messages: its manifests, the command line, the config."""
    where = ", ".join("setting 'backends'" if s == CONFIG else s for s in request.sources)
    return f" (from {where})" if where else ""


def validate(requests: Sequence[Request], fetch: Fetch) -> None:
    """Everything only py-rattler can reject (specs, constraints, channel URLs, mirrors),
    checked before the store is created or touched, each named with where it was written."""
    check_specs(requests)
    for request in requests:
        for channel in request.channels:
            try:
                rattler.Channel(channel)
            except rx.InvalidChannelError as exc:
                raise UserInputError(
                    f"{channel}: invalid channel of {request.name}{_origin(request)}: "
                    f"{error_text(exc)}"
                ) from None
    client(fetch)


def check_specs(requests: Sequence[Request]) -> None:
    """Parse every spec the solve would get with py-rattler, so that a bad one is named with
    its role and origin (the manifest of an additional dependency, the `constraints` setting)
    rather than reported as the backend's spec; the lighter check of `model.normalize_spec`
    lets through what only py-rattler's full parse rejects, e.g. `foo >>>1`."""
    for request in requests:
        checks = [(request.spec, "invalid spec", _origin(request))]
        checks += [
            (dep, f"invalid additional dependency of {request.name}", _origin(request))
            for dep in request.additional_dependencies
        ]
        checks += [
            (c, "invalid constraint", " (from setting 'constraints')") for c in request.constraints
        ]
        for spec, what, origin in checks:
            try:
                rattler.MatchSpec(spec)
            except _BAD_SPEC as exc:
                raise UserInputError(f"{spec}: {what}{origin}: {error_text(exc)}") from None


async def _solve(request: Request, gateway: rattler.Gateway, offline: bool) -> Records:
    """The request's newest solution. With a constraint on `pixi-build-api-version` (the
    default), a solution without that package is refused, and an unsolvable request is solved
    again without it to say which API the backend speaks."""
    platform = rattler.Subdir(request.platform)
    virtual = rattler.VirtualPackage.detect() if request.platform == current_platform() else []
    wanted = api_constraints(request.constraints)

    async def attempt(constraints: Sequence[str]) -> Records:
        return await rattler.solve(
            sources=list(request.channels),
            specs=request.specs,
            gateway=gateway,
            platforms=[platform, rattler.Subdir("noarch")],
            virtual_packages=virtual,
            constraints=list(constraints),
            exclude_newer=cutoff(request.exclude_newer) if request.exclude_newer else None,
        )

    try:
        records = await attempt(request.constraints)
    except _BAD_SPEC as exc:
        raise UserInputError(
            f"{request.spec}: invalid spec{_origin(request)}: {error_text(exc)}"
        ) from None
    except rx.InvalidChannelError as exc:
        raise UserInputError(
            f"{', '.join(request.channels)}: invalid channel for {request.name}: {error_text(exc)}"
        ) from None
    except rx.SolverError as exc:
        message = (
            f"cannot solve {request.spec!r} for {request.platform} from "
            f"{', '.join(request.channels)}: {error_text(exc)}"
        )
        if wanted:  # does it solve without the API constraint? Then that is what fails.
            try:
                relaxed = await attempt([c for c in request.constraints if c not in wanted])
            except Exception:  # unsolvable either way: the first error stands
                relaxed = None
            if relaxed is not None:
                subject = f"{request.spec}{_origin(request)}"
                message = why_unsolvable(request, relaxed, wanted, subject) or message
        raise OperationError(message) from None
    except (rx.GatewayError, rx.FetchRepoDataError) as exc:
        missing = _NO_CACHE.search(str(exc))
        if offline and missing:
            raise OperationError(
                f"offline: no cached repodata for {missing.group(1)} (needed by {request.name}); "
                "run once online to cache it"
            ) from None
        raise OperationError(
            f"cannot read channels for {request.name} ({', '.join(request.channels)}): {error_text(exc)}"
        ) from None
    check_api(request, records, "pin a newer backend version")
    return records


async def _solve_all(
    store: Store, requests: Sequence[Request], fetch: Fetch, http: rattler.Client
) -> list[Records]:
    check_specs(requests)
    shared = gateway(store, fetch, http)
    return list(await asyncio.gather(*(_solve(r, shared, fetch.offline) for r in requests)))


def solve(store: Store, requests: Sequence[Request], fetch: Fetch | None = None) -> list[Records]:
    """The newest solution of each request, in order."""
    fetch = fetch or Fetch()
    return asyncio.run(_solve_all(store, requests, fetch, client(fetch)))


def _executable(prefix: Path, name: str, platform: str) -> str | None:
    candidates = (
        [f"Scripts/{name}.exe", f"Library/bin/{name}.exe", f"Scripts/{name}.bat", f"bin/{name}"]
        if platform.startswith("win")
        else [f"bin/{name}"]
    )
    for candidate in candidates:
        path = prefix / candidate
        if path.is_file():
            return str(path)
    return None


def _disk_full(path: Path) -> bool:
    """Whether the filesystem of `path` has (almost) no room left: py-rattler then fails
    reading back what it could not write, with a message that does not say why."""
    try:
        info = os.statvfs(path)
    except (OSError, AttributeError):  # no statvfs on Windows
        return False
    return info.f_bavail * info.f_frsize < 64 * 1024


def sha256_hex(value: object) -> str:
    """A record's sha256 as hex (py-rattler gives bytes), or "" when it has none."""
    return value.hex() if isinstance(value, bytes) else str(value or "")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def check_local_files(request: Request, records: Records, lock_file: Path) -> None:
    """Each locked package on a file:// channel (a bundle) is the file the lock file pins:
    py-rattler checks a download's sha256, not a local file's, which would be installed
    whatever it holds and recorded with the lock file's sha256."""
    for record in records:
        path, wanted = url_to_path(str(record.url)), sha256_hex(record.sha256)
        if path is None or not wanted:
            continue
        try:
            have = file_sha256(path)
        except OSError as exc:
            raise OperationError(
                f"{path}: cannot read it ({exc.strerror or exc}), which {lock_file} pins for "
                f"{request.name}"
            ) from None
        if have != wanted:
            raise OperationError(
                f"{path}: sha256 {have} is not the {wanted} that {lock_file} pins for "
                f"{request.name}; the channel changed since the lock file was written"
            )


def package_rows(records: Sequence[rattler.RepoDataRecord]) -> list[dict[str, str]]:
    """Records as the metadata keeps them: enough to compare, lock and report."""
    return [
        {
            "name": r.name.normalized,
            "version": str(r.version),
            "build": str(r.build),
            "channel": str(r.channel or ""),
            "url": str(r.url),
            "subdir": r.subdir,
            "sha256": sha256_hex(r.sha256),
        }
        for r in records
    ]


async def _check_cached(
    store: Store, requests: Sequence[Request], solved: Sequence[Records]
) -> None:
    """Offline, every package must be in the package cache (or on a local file:// channel)."""
    index = await rattler.PackageCache(store.pkgs).index()
    for request, records in zip(requests, solved, strict=True):
        for record in records:
            if not str(record.url).startswith("file:") and not index.contains_record(record):
                raise OperationError(
                    f"offline: {record.file_name} (needed by {request.name}, from {record.url}) "
                    f"is not in the package cache {store.pkgs}; run once online to fetch it"
                )


async def _link(
    request: Request,
    records: Records,
    prefix: Path,
    store: Store,
    http: rattler.Client,
    *,
    progress: bool,
) -> tuple[str | None, Activation]:
    """Install the records into `prefix`; return its executable and recorded activation. An
    environment for another platform has none (it is not exposed), unless it is a Windows one
    and Wine's cmd.exe can record its activation."""
    try:
        await rattler.install(
            records,
            target_prefix=prefix,
            cache_dir=store.pkgs,
            platform=rattler.Subdir(request.platform),
            show_progress=progress,
            client=http,
        )
    except (
        rx.InstallerError,
        rx.LinkError,
        rx.TransactionError,
        rx.IoError,
        rx.ExtractError,
    ) as exc:
        detail = error_text(exc)
        if "No space left on device" not in detail and _disk_full(store.root):
            detail += "; No space left on device"  # what py-rattler saw as a short file
        raise OperationError(f"installing {request.name} into {prefix} failed: {detail}") from None
    executable = _executable(prefix, request.name, request.platform)
    if executable is None:
        raise OperationError(
            f"{request.name}: the package installs no executable named {request.name}; "
            "is it a Pixi build backend?"
        )
    if request.platform == current_platform():
        return executable, await asyncio.to_thread(capture_activation, prefix)
    if is_windows(request.platform) and cmd_command() is not None:  # Wine's cmd.exe
        return executable, await asyncio.to_thread(capture_cmd_activation, prefix)
    return None, Activation()  # another platform's: installed, not exposed


async def _lock(store: Store, held: ExitStack, name: str, *, progress: bool) -> None:
    """Take the lock `name` into `held`. While another process holds it, wait in the event
    loop, trying again every `locks.POLL` seconds: Ctrl-C (which cancels the task) ends the wait
    at once, where a thread blocked on the lock would keep the process until its holder let go."""
    from conda_pixi_backends.locks import POLL, Timeout

    said = False
    while True:
        try:
            held.enter_context(store.lock(name, timeout=0))
            return
        except Timeout:
            if progress and not said:
                print(f"Waiting for another process working on {name}...", file=sys.stderr)
                said = True
            await asyncio.sleep(POLL)


async def _install(
    store: Store,
    request: Request,
    records: Records,
    http: rattler.Client,
    *,
    force: bool,
    exact: bool,
    progress: bool,
) -> Outcome:
    """Install one environment under its lock.

    A complete environment is kept when it appeared meanwhile (another process installed it),
    or, with `exact`, when it holds exactly `records`. Otherwise, if one exists, the new one
    goes into a fresh prefix beside it, and the metadata, written last, switches to it: the
    old prefix keeps serving launchers already started, and the caller retires it.
    """
    with ExitStack() as held:
        await _lock(store, held, request.env_name, progress=progress)
        existing = store.record(request.env_name)
        rows = package_rows(records)
        reuse = not exact or (existing is not None and same_packages(existing.packages, rows))
        if existing is not None and not force and reuse:
            return Outcome(existing, False)
        if existing is None:
            store.forget(request.env_name)  # incomplete: start from nothing
        prefix = store.new_prefix(request.env_name)
        if prefix.name != request.env_name:  # `gc` spares a folder of envs/ whose lock is held
            await _lock(store, held, prefix.name, progress=progress)
        replaced = Path(existing.prefix) if existing is not None else None
        try:
            executable, activation = await _link(
                request, records, prefix, store, http, progress=progress
            )
            stamp = now()
            manifests = {
                *manifest_sources(request.sources),
                *(existing.manifests if existing else []),
            }
            record = EnvRecord(
                name=request.name,
                key=request.key,
                request=request.canonical(),
                prefix=str(prefix),
                executable=executable,
                packages=rows,
                activation=activation,
                created=stamp,
                last_used=stamp,
                manifests=sorted(manifests),
                workspaces={
                    **(existing.workspaces if existing else {}),
                    **dict.fromkeys(request.workspaces, stamp),
                },
            )
            if replaced is not None:
                # Retired before the switch, so that a kill right after it leaks nothing; while
                # the metadata still names it, `sweep_retired` keeps it (and, once no reinstall
                # holds the lock, drops the marker).
                store.retire(replaced)
            store.write_record(record)  # last: from here on the environment is complete
        except BaseException:
            if replaced is not None:
                store.retired_marker(replaced).unlink(missing_ok=True)
            store.remove_tree(prefix)
            if existing is None:
                store.forget(request.env_name)
            raise
        return Outcome(record, True, replaced)


async def _install_all(
    store: Store,
    requests: Sequence[Request],
    fetch: Fetch,
    given: Sequence[Records] | None,
    *,
    force: bool,
    progress: bool,
) -> list[Outcome]:
    http = client(fetch)
    solved = list(given) if given is not None else await _solve_all(store, requests, fetch, http)
    if given is not None:  # not solved here: check their API as the solve would have
        for request, records in zip(requests, solved, strict=True):
            check_api(request, records, f"lock a newer backend version: {command()} lock")
    if fetch.offline:
        await _check_cached(store, requests, solved)
    exact = given is not None
    return list(
        await asyncio.gather(
            *(
                _install(store, r, recs, http, force=force, exact=exact, progress=progress)
                for r, recs in zip(requests, solved, strict=True)
            )
        )
    )


def install(
    store: Store,
    requests: Sequence[Request],
    *,
    force: bool = False,
    progress: bool = False,
    fetch: Fetch | None = None,
    records: Sequence[Records] | None = None,
) -> list[Outcome]:
    """Install the requests, in order: solved now, or exactly the given `records` (a lock
    file's, an update's solution), one list per request, with no solve."""
    if not shutil.which("bash") and os.name != "nt":
        raise OperationError("bash is needed to record backend activation; install it")
    run = _install_all(store, requests, fetch or Fetch(), records, force=force, progress=progress)
    return asyncio.run(run)
