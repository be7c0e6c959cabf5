"""Solving and installing backend environments with py-rattler.

This is the only module that imports py-rattler, and only the install path imports it. All
requests are solved concurrently against one gateway, then installed concurrently, each under
its own environment lock, into one shared package cache.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import rattler
from rattler import exceptions as rx
from rattler.shell import ActivationVariables, PathModificationBehavior, Shell, activate

from conda_pixi_backends.errors import OperationError, UserInputError
from conda_pixi_backends.model import Request
from conda_pixi_backends.settings import current_platform
from conda_pixi_backends.store import Activation, EnvRecord, Store, now

#: Variables a shell sets for itself; never part of what an activation does.
_SHELL_OWN = {"PATH", "PWD", "OLDPWD", "SHLVL", "_", "CONDA_SHLVL"}


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines) if lines else type(exc).__name__


async def _solve(request: Request, gateway: rattler.Gateway) -> list[rattler.RepoDataRecord]:
    platform = rattler.Platform(request.platform)
    virtual = rattler.VirtualPackage.detect() if request.platform == current_platform() else []
    try:
        return await rattler.solve(
            sources=list(request.channels),
            specs=request.specs,
            gateway=gateway,
            platforms=[platform, rattler.Platform("noarch")],
            virtual_packages=virtual,
            constraints=list(request.constraints),
        )
    except (
        rx.InvalidMatchSpecError,
        rx.InvalidVersionSpecError,
        rx.InvalidPackageNameError,
    ) as exc:
        raise UserInputError(f"{request.spec}: invalid spec: {_one_line(exc)}") from None
    except rx.InvalidChannelError as exc:
        raise UserInputError(f"invalid channel for {request.name}: {_one_line(exc)}") from None
    except rx.SolverError as exc:
        raise OperationError(
            f"cannot solve {request.spec!r} for {request.platform} from "
            f"{', '.join(request.channels)}: {_one_line(exc)}"
        ) from None
    except (rx.GatewayError, rx.FetchRepoDataError) as exc:
        raise OperationError(
            f"cannot read channels for {request.name} ({', '.join(request.channels)}): {_one_line(exc)}"
        ) from None


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
    prepend = [real(str(p)) for p in result.path[: max(len(result.path) - len(base_path), 0)]]
    # Exported shell functions (BASH_FUNC_x%%) and other non-identifiers are not variables.
    changed = {
        k: real(v)
        for k, v in after.items()
        if base.get(k) != v and k not in _SHELL_OWN and k.isidentifier() and k.isascii()
    }
    removed = [k for k in base if k not in after and k not in _SHELL_OWN]
    return Activation(path_prepend=prepend, set=changed, unset=removed)


async def _install(
    store: Store,
    request: Request,
    records: list[rattler.RepoDataRecord],
    force: bool,
    progress: bool,
) -> tuple[EnvRecord, bool]:
    """Install one environment under its lock. Returns its record and whether it was installed."""
    lock = store.lock(request.env_name)
    await asyncio.to_thread(lock.__enter__)
    try:
        existing = store.record(request.env_name)
        if existing is not None and not force:
            return existing, False  # another process finished it while we solved
        store.forget(request.env_name)  # incomplete or forced: start from nothing
        prefix = store.prefix(request)
        try:
            await rattler.install(
                records,
                target_prefix=prefix,
                cache_dir=store.pkgs,
                platform=rattler.Platform(request.platform),
                show_progress=progress,
            )
            executable = _executable(prefix, request.name, request.platform)
            if executable is None:
                raise OperationError(
                    f"{request.name}: the package installs no executable named {request.name}; "
                    "is it a Pixi build backend?"
                )
            local = request.platform == current_platform()
            activation = (
                await asyncio.to_thread(capture_activation, prefix) if local else Activation()
            )
        except BaseException as exc:
            store.forget(request.env_name)
            if isinstance(
                exc,
                (rx.InstallerError, rx.LinkError, rx.TransactionError, rx.IoError, rx.ExtractError),
            ):
                raise OperationError(
                    f"installing {request.name} into {prefix} failed: {_one_line(exc)}"
                ) from None
            raise
        stamp = now()
        record = EnvRecord(
            name=request.name,
            key=request.key,
            request=request.canonical(),
            prefix=str(prefix),
            executable=executable if local else None,
            packages=[
                {
                    "name": r.name.normalized,
                    "version": str(r.version),
                    "build": str(r.build),
                    "channel": str(r.channel or ""),
                    "url": str(r.url),
                    "subdir": r.subdir,
                    "sha256": (
                        r.sha256.hex() if isinstance(r.sha256, bytes) else str(r.sha256 or "")
                    ),
                }
                for r in records
            ],
            activation=activation,
            created=stamp,
            last_used=stamp,
            manifests=sorted(s for s in request.sources if s != "command line"),
        )
        store.write_record(record)  # last: from here on the environment is complete
        return record, True
    finally:
        lock.__exit__(None, None, None)


async def _install_all(
    store: Store, requests: Sequence[Request], force: bool, progress: bool
) -> list[tuple[EnvRecord, bool]]:
    gateway = rattler.Gateway(cache_dir=store.cache)
    solved = await asyncio.gather(*(_solve(r, gateway) for r in requests))
    return list(
        await asyncio.gather(
            *(
                _install(store, r, recs, force, progress)
                for r, recs in zip(requests, solved, strict=True)
            )
        )
    )


def install(
    store: Store, requests: Sequence[Request], force: bool = False, progress: bool = False
) -> list[tuple[EnvRecord, bool]]:
    """Solve and install the requests; one (record, newly_installed) per request, in order."""
    if not shutil.which("bash") and os.name != "nt":
        raise OperationError("bash is needed to record backend activation; install it")
    return asyncio.run(_install_all(store, requests, force, progress))
