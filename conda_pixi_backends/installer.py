"""Solving, installing and locking backend environments with py-rattler.

This is the only module that imports py-rattler, and only the paths that need it import it.
All requests are solved concurrently against one gateway, then installed concurrently, each
under its own environment lock, into one shared package cache. How channels are reached
(offline, mirrors, authentication) is py-rattler's own configuration: a `SourceConfig` for the
gateway and a `Client` built from a `rattler.Config`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import rattler
from rattler import exceptions as rx
from rattler.shell import ActivationVariables, PathModificationBehavior, Shell, activate

from conda_pixi_backends.discovery.exclude_newer import cutoff
from conda_pixi_backends.errors import OperationError, UserInputError
from conda_pixi_backends.model import (
    CONFIG,
    Fetch,
    Request,
    manifest_sources,
    normalize_spec,
    same_packages,
)
from conda_pixi_backends.settings import current_platform
from conda_pixi_backends.store import Activation, EnvRecord, Store, now

#: Variables a shell sets for itself; never part of what an activation does.
_SHELL_OWN = {"PATH", "PWD", "OLDPWD", "SHLVL", "_", "CONDA_SHLVL"}
#: The package whose version is the Pixi build API (JSON-RPC protocol) a backend speaks.
API_PACKAGE = "pixi-build-api-version"
#: What py-rattler says when `force-cache-only` finds nothing for a subdir.
_NO_CACHE = re.compile(r"no usable repodata cache for (\S+)")

Records = list[rattler.RepoDataRecord]


@dataclass
class Outcome:
    """What installing one request did."""

    record: EnvRecord
    installed: bool
    #: The prefix the environment used before this install replaced it. It is retired already
    #: (just before the metadata switch); callers retire it again once the launchers point at
    #: `record.prefix`, so that its grace period starts when no new start can reach it.
    replaced: Path | None = None


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines) if lines else type(exc).__name__


def client(fetch: Fetch) -> rattler.Client:
    """py-rattler's standard client (retries, authentication from RATTLER_AUTH_FILE or the
    keyring, proxies) with the configured mirrors."""
    config = rattler.Config()
    for url, mirrors in fetch.mirrors.items():
        try:
            config.set(f'mirrors."{url.rstrip("/")}"', json.dumps([m.rstrip("/") for m in mirrors]))
        except ValueError as exc:
            raise UserInputError(f"mirrors: {url}: {_one_line(exc)}") from None
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
                    f"{_one_line(exc)}"
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
            except (
                rx.InvalidMatchSpecError,
                rx.InvalidVersionSpecError,
                rx.InvalidPackageNameError,
            ) as exc:
                raise UserInputError(f"{spec}: {what}{origin}: {_one_line(exc)}") from None


def api_constraints(constraints: Sequence[str]) -> list[str]:
    """The constraints on `pixi-build-api-version`: the Pixi build API a backend must speak.
    None configured (an admin removed the default from `constraints`): no API check at all."""
    return [c for c in constraints if _spec_name(c) == API_PACKAGE]


def _spec_name(spec: str) -> str:
    try:
        return normalize_spec(spec, "constraints")[0]
    except UserInputError:
        return ""


def _api_problem(
    request: Request, records: Records, wanted: Sequence[str], subject: str | None, advice: str
) -> str | None:
    """Why `records` do not speak the Pixi build API that `wanted` asks for, or None when they
    do. `subject` names the backend (default: its solved name and version)."""
    asks = "; ".join(wanted)
    api = next((r for r in records if r.name.normalized == API_PACKAGE), None)
    backend = next((r for r in records if r.name.normalized == request.name), None)
    who = f"{request.name} {backend.version}" if backend is not None else request.spec
    if api is None:
        return (
            f"{who} does not depend on {API_PACKAGE}: it speaks no Pixi build API that Pixi "
            f"knows (setting 'constraints' asks for {asks})"
        )
    if all(rattler.MatchSpec(c).matches(api) for c in wanted):
        return None
    major = str(api.version).split(".")[0]
    return (
        f"{subject or who} speaks Pixi build API {major} ({API_PACKAGE} {api.version}), "
        f"but setting 'constraints' asks for {asks}: {advice}"
    )


async def _solve(request: Request, gateway: rattler.Gateway, offline: bool) -> Records:
    """The request's newest solution. With a constraint on `pixi-build-api-version` (the
    default), a solution without that package is refused, and an unsolvable request is solved
    again without it to say which API the backend speaks."""
    platform = rattler.Platform(request.platform)
    virtual = rattler.VirtualPackage.detect() if request.platform == current_platform() else []
    wanted = api_constraints(request.constraints)

    async def attempt(constraints: Sequence[str]) -> Records:
        return await rattler.solve(
            sources=list(request.channels),
            specs=request.specs,
            gateway=gateway,
            platforms=[platform, rattler.Platform("noarch")],
            virtual_packages=virtual,
            constraints=list(constraints),
            exclude_newer=cutoff(request.exclude_newer) if request.exclude_newer else None,
        )

    try:
        records = await attempt(request.constraints)
    except (
        rx.InvalidMatchSpecError,
        rx.InvalidVersionSpecError,
        rx.InvalidPackageNameError,
    ) as exc:
        raise UserInputError(
            f"{request.spec}: invalid spec{_origin(request)}: {_one_line(exc)}"
        ) from None
    except rx.InvalidChannelError as exc:
        raise UserInputError(f"invalid channel for {request.name}: {_one_line(exc)}") from None
    except rx.SolverError as exc:
        message = (
            f"cannot solve {request.spec!r} for {request.platform} from "
            f"{', '.join(request.channels)}: {_one_line(exc)}"
        )
        if wanted:  # does it solve without the API constraint? Then that is what fails.
            try:
                relaxed = await attempt([c for c in request.constraints if c not in wanted])
            except Exception:  # unsolvable either way: the first error stands
                relaxed = None
            if relaxed is not None:
                advice = (
                    "pin a newer backend version"
                    if request.spec != request.name
                    else f"its channels have no {request.name} version that speaks it; "
                    "use a channel with a newer one"
                )
                subject = f"{request.spec}{_origin(request)}"
                message = _api_problem(request, relaxed, wanted, subject, advice) or message
        raise OperationError(message) from None
    except (rx.GatewayError, rx.FetchRepoDataError) as exc:
        missing = _NO_CACHE.search(str(exc))
        if offline and missing:
            raise OperationError(
                f"offline: no cached repodata for {missing.group(1)} (needed by {request.name}); "
                "run once online to cache it"
            ) from None
        raise OperationError(
            f"cannot read channels for {request.name} ({', '.join(request.channels)}): {_one_line(exc)}"
        ) from None
    if wanted:
        problem = _api_problem(request, records, wanted, None, "pin a newer backend version")
        if problem:
            raise OperationError(problem)
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


#: What py-rattler's activation script can carry safely: its bash script puts the prefix in
#: double quotes, where `$(...)` and backticks would run (seen with py-rattler 0.28).
_SAFE_PATH = re.compile(r"[A-Za-z0-9_./+-]+")


def capture_activation(prefix: Path) -> Activation:
    """Run the environment's activation in a real shell and record what it changes.

    py-rattler writes the script (activate.d scripts, env_vars.d, state variables); bash runs
    it in a clean environment; the difference is what every launcher applies before `exec`.
    The script sees the prefix through a symlink with a plain name, so a store path with
    quotes, `$` or backticks is never parsed by a shell; recorded values get the real path back.
    """
    if os.name == "nt":  # pragma: no cover - launchers on Windows are not supported yet
        raise OperationError("activating backend environments on Windows is not supported yet")
    path_var = os.environ.get("PATH") or os.defpath
    base_path = path_var.split(os.pathsep)
    base = {"PATH": path_var, "HOME": os.environ.get("HOME", "/"), "LC_ALL": "C"}
    with tempfile.TemporaryDirectory(prefix="cpb-") as tmp:
        alias = Path(tmp) / "prefix"
        if not _SAFE_PATH.fullmatch(str(alias)):
            raise OperationError(f"the temporary folder {tmp!r} is not a plain path; set TMPDIR")
        alias.symlink_to(prefix, target_is_directory=True)
        variables = ActivationVariables(None, base_path, PathModificationBehavior.Replace)
        result = activate(alias, variables, Shell.bash)
        script = Path(tmp) / "activate.sh"
        script.write_text(result.script, encoding="utf-8")
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-c", '. "$1" >/dev/null </dev/null && exec env -0',
             "bash", str(script)],
            env=base, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    if proc.returncode != 0:
        raise OperationError(
            f"activating {prefix} failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}"
        )

    def real(value: str) -> str:
        return value.replace(str(alias), str(prefix))

    after = dict(item.partition("=")[::2] for item in proc.stdout.split("\0") if "=" in item)
    paths = cast("list[Path]", result.path)  # py-rattler types it as one Path: it is a list
    prepend = [real(str(p)) for p in paths[: max(len(paths) - len(base_path), 0)]]
    # Exported shell functions (BASH_FUNC_x%%) and other non-identifiers are not variables.
    changed = {
        k: real(v)
        for k, v in after.items()
        if base.get(k) != v and k not in _SHELL_OWN and k.isidentifier() and k.isascii()
    }
    removed = [k for k in base if k not in after and k not in _SHELL_OWN]
    return Activation(path_prepend=prepend, set=changed, unset=removed)


def _disk_full(path: Path) -> bool:
    """Whether the filesystem of `path` has (almost) no room left: py-rattler then fails
    reading back what it could not write, with a message that does not say why."""
    try:
        info = os.statvfs(path)
    except (OSError, AttributeError):  # no statvfs on Windows
        return False
    return info.f_bavail * info.f_frsize < 64 * 1024


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
            "sha256": r.sha256.hex() if isinstance(r.sha256, bytes) else str(r.sha256 or ""),
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
    progress: bool,
    http: rattler.Client,
) -> tuple[str, Activation]:
    """Install the records into `prefix`; return its executable and recorded activation."""
    try:
        await rattler.install(
            records,
            target_prefix=prefix,
            cache_dir=store.pkgs,
            platform=rattler.Platform(request.platform),
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
        detail = _one_line(exc)
        if "No space left on device" not in detail and _disk_full(store.root):
            detail += "; No space left on device"  # what py-rattler saw as a short file
        raise OperationError(f"installing {request.name} into {prefix} failed: {detail}") from None
    executable = _executable(prefix, request.name, request.platform)
    if executable is None:
        raise OperationError(
            f"{request.name}: the package installs no executable named {request.name}; "
            "is it a Pixi build backend?"
        )
    if request.platform != current_platform():
        return executable, Activation()
    return executable, await asyncio.to_thread(capture_activation, prefix)


async def _install(
    store: Store,
    request: Request,
    records: Records,
    force: bool,
    exact: bool,
    progress: bool,
    http: rattler.Client,
) -> Outcome:
    """Install one environment under its lock.

    A complete environment is kept when it appeared meanwhile (another process installed it),
    or, with `exact`, when it holds exactly `records`. Otherwise, if one exists, the new one
    goes into a fresh prefix beside it, and the metadata, written last, switches to it: the
    old prefix keeps serving launchers already started, and the caller retires it.
    """
    with ExitStack() as held:
        await asyncio.to_thread(held.enter_context, store.lock(request.env_name))
        existing = store.record(request.env_name)
        rows = package_rows(records)
        reuse = not exact or (existing is not None and same_packages(existing.packages, rows))
        if existing is not None and not force and reuse:
            return Outcome(existing, False)
        if existing is None:
            store.forget(request.env_name)  # incomplete: start from nothing
        prefix = store.new_prefix(request.env_name)
        if prefix.name != request.env_name:  # `gc` spares a folder of envs/ whose lock is held
            await asyncio.to_thread(held.enter_context, store.lock(prefix.name))
        replaced = Path(existing.prefix) if existing is not None else None
        try:
            executable, activation = await _link(request, records, prefix, store, progress, http)
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
                executable=executable if request.platform == current_platform() else None,
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
    force: bool,
    progress: bool,
    fetch: Fetch,
    given: Sequence[Records] | None,
) -> list[Outcome]:
    http = client(fetch)
    solved = list(given) if given is not None else await _solve_all(store, requests, fetch, http)
    if given is not None:  # not solved here: check their API as the solve would have
        for request, records in zip(requests, solved, strict=True):
            wanted = api_constraints(request.constraints)
            advice = "lock a newer backend version: conda pixi-backend lock"
            problem = _api_problem(request, records, wanted, None, advice) if wanted else None
            if problem:
                raise OperationError(problem)
    if fetch.offline:
        await _check_cached(store, requests, solved)
    exact = given is not None
    return list(
        await asyncio.gather(
            *(
                _install(store, r, recs, force, exact, progress, http)
                for r, recs in zip(requests, solved, strict=True)
            )
        )
    )


def install(
    store: Store,
    requests: Sequence[Request],
    force: bool = False,
    progress: bool = False,
    fetch: Fetch | None = None,
    records: Sequence[Records] | None = None,
) -> list[Outcome]:
    """Install the requests, in order: solved now, or exactly the given `records` (a lock
    file's, an update's solution), one list per request, with no solve."""
    if not shutil.which("bash") and os.name != "nt":
        raise OperationError("bash is needed to record backend activation; install it")
    return asyncio.run(_install_all(store, requests, force, progress, fetch or Fetch(), records))


# Lock files: rattler's format (as pixi.lock), one lock environment per request key.


def write_lock(
    path: Path, platforms: Sequence[str], requests: Sequence[Request], solved: Sequence[Records]
) -> None:
    """Write the solutions in rattler's lock-file format, atomically."""
    chosen = sorted({*platforms, *(r.platform for r in requests)})
    locks = {p: rattler.LockPlatform(p) for p in chosen}
    lock = rattler.LockFile(list(locks.values()))
    for request, records in zip(requests, solved, strict=True):
        name = request.env_name
        lock.set_channels(name, [rattler.LockChannel(c) for c in request.channels])
        for record in records:
            lock.add_conda_package(name, locks[request.platform], record)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        lock.to_path(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_lock(path: Path) -> dict[tuple[str, str], Records]:
    """(lock environment name, platform) -> its exact records."""
    try:
        lock = rattler.LockFile.from_path(path)
    except Exception as exc:  # py-rattler raises plain exceptions for unreadable files
        raise UserInputError(f"{path}: not a readable lock file: {_one_line(exc)}") from None
    found: dict[tuple[str, str], Records] = {}
    for name, environment in lock.environments():
        for platform, records in environment.conda_repodata_records().items():
            found[(name, str(platform))] = records
    return found


def locked_records(
    path: Path, requests: Sequence[Request]
) -> tuple[list[Records], list[list[dict[str, str]]]]:
    """Each request's locked records (and their metadata rows). A request the lock file does
    not cover is bad input: the lock file is out of date."""
    if not path.is_file():
        raise UserInputError(f"{path}: no such lock file; write it with: conda pixi-backend lock")
    found = read_lock(path)
    chosen = []
    for request in requests:
        records = found.get((request.env_name, request.platform))
        if not records:
            raise UserInputError(
                f"{path}: does not lock {request.spec!r} for {request.platform} "
                f"(environment {request.env_name}); "
                "update it with: conda pixi-backend lock"
            )
        chosen.append(records)
    return chosen, [package_rows(r) for r in chosen]
