"""One backend's checks, in report order: it resolves (an override, or the environment of that
exact request), its environment is complete, its executable is there, it answers
`negotiateCapabilities` (probed later, all at once), its `pixi-build-api-version` fits, and this
shell hands it to Pixi."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from conda_pixi_backends import windows
from conda_pixi_backends.health_checks import (
    FAIL,
    OK,
    WARN,
    Finding,
    Rows,
    command,
    fix_command,
    hook_command,
    not_executable,
    without,
)
from conda_pixi_backends.health_pixi import Probe, api_version

if TYPE_CHECKING:
    from conda_pixi_backends.model import Request
    from conda_pixi_backends.overrides import Override, Overrides
    from conda_pixi_backends.settings import Settings
    from conda_pixi_backends.store import EnvRecord, Store


@dataclass
class Context:
    """What every backend's checks read, and the probes they leave to run."""

    cfg: Settings
    store: Store
    overrides: Overrides
    exposed: dict[str, str]
    env: dict[str, str]
    probes: list[Probe]


@dataclass
class Serving:
    """What the launcher of a name runs here. `env_name` is the exposure entry (or, in a
    workspace that asked for another environment, that one's name); `record` its complete
    environment, None when incomplete; `default` the one the exposure names; `others` every
    candidate the launcher's dispatch table is built from."""

    env_name: str | None
    record: EnvRecord | None
    default: EnvRecord | None
    others: list[EnvRecord]


def served(store: Store, where: str | None) -> EnvRecord | None:
    """The complete environment an exposure entry names, read as the launchers are written
    (`exposure.live_exposure`): an environment of this store, or the absolute metadata path of
    one elsewhere (a read-only shared store, or this store's root spelled another way)."""
    from conda_pixi_backends.store import read_record

    if not where:
        return None
    return read_record(Path(where)) if Path(where).is_absolute() else store.record(where)


def check(ctx: Context, name: str, request: Request | None) -> list[Finding]:
    """One backend's checks. `request` is None for one the store exposes but nothing here asks for."""
    from conda_pixi_backends import exposure

    serving = _serving(ctx, name, request)
    key = request.key if request else (serving.record.key if serving.record else None)
    rows = Rows(name, key)
    override = ctx.overrides.get(name)
    if override is not None and not exposure.own_launcher(ctx.store, override):
        _overridden(rows, override, ctx.env, ctx.probes)
        return rows.found
    install, reinstall = _commands(request, serving.record, ctx.cfg.platform)
    if request is not None:
        if not _resolves(rows, ctx.store, request, serving, install):
            return rows.found
    else:
        detail = f"exposed by the store ({serving.env_name}); nothing checked here asks for it"
        rows.add("resolves", OK, detail)
    if serving.env_name is None:
        return rows.found
    _environment(rows, ctx.store, serving.env_name, serving.record, reinstall)
    platform = exposure.platform_of(serving.record) if serving.record is not None else None
    launcher = exposure.launcher_path(ctx.store, name, platform)
    if not _executable(rows, launcher, serving):
        return rows.found
    ctx.probes.append(Probe(rows.add("responds", FAIL, "not probed"), str(launcher), reinstall))
    if serving.record is not None:
        api_version(rows, ctx.cfg, serving.record, install)
    if windows.native() or serving.record is None or not exposure.for_windows(serving.record):
        _active(rows, override, ctx.env, launcher)
    else:
        detail = "a Windows backend: activate.bat and activate.ps1 hand it to Pixi, not this shell"
        rows.add("active", OK, detail)
    return rows.found


def _serving(ctx: Context, name: str, request: Request | None) -> Serving:
    from conda_pixi_backends import exposure

    env_name = ctx.exposed.get(name)
    default = record = served(ctx.store, env_name)
    others = exposure.candidates(ctx.store).get(name, []) if default is not None else []
    if default is not None and request is not None and request.workspaces:
        # The launcher runs, in the workspace that asks, what that workspace asked for last.
        record = exposure.serving(default, others, request.workspaces[0])
        env_name = record.env_name
    return Serving(env_name, record, default, others)


def _commands(request: Request | None, record: EnvRecord | None, platform: str) -> tuple[str, str]:
    """The commands that install this backend, and that install it again from scratch (with
    `--platform` when it is not `platform`, the configured one)."""
    from conda_pixi_backends import plan

    if request is None and record is not None:
        request = plan.request_from_record(record)
    if request is None:
        return fix_command(), fix_command()  # nothing to reinstall from: drop it from the exposure
    install, reinstall = _install_commands(request, from_record=record is not None)
    if request.platform == platform:
        return install, reinstall
    return f"{install} --platform {request.platform}", f"{reinstall} --platform {request.platform}"


def _install_commands(request: Request, *, from_record: bool) -> tuple[str, str]:
    """By where the request came from: its manifest, the config, or (`from_record`) the
    environment's own metadata, whose channels it names."""
    from conda_pixi_backends import model

    manifests = model.manifest_sources(request.sources)
    if manifests:
        first = manifests[0]
        return command("install", "-m", first), command("install", "--force", "-m", first)
    if model.CONFIG in request.sources:
        return command("sync"), command("install", "--force", request.spec)
    if from_record:
        channels = [a for c in request.channels for a in ("-c", c)]
        args = ["install", "--override-channels", *channels, request.spec]
        return command(*args), command("install", "--force", *args[1:])
    return command("install", request.spec), command("install", "--force", request.spec)


def _overridden(rows: Rows, override: Override, env: dict[str, str], probes: list[Probe]) -> None:
    """A backend an override replaces: what it names must run (our launcher is not this case)."""
    from conda_pixi_backends.overrides import OVERRIDE_ALL

    everything = override.variable == OVERRIDE_ALL
    undo = f"unset {OVERRIDE_ALL}" if everything else without(env, rows.backend)
    exe = override.resolve(env)
    if exe is None:
        fix = f"put {override.on_path()} on PATH, or: {undo}"
        rows.add("resolves", FAIL, override.missing(), fix)
        return
    rows.add("resolves", OK, f"overridden by {override.variable}: {exe}")
    what = not_executable(exe)
    if what is not None:
        rows.add("executable", FAIL, f"{exe}: {what}", undo)
        return
    rows.add("executable", OK, exe)
    probes.append(Probe(rows.add("responds", FAIL, "not probed"), exe, f"repair {exe}, or: {undo}"))


def _same_env(a: EnvRecord | None, b: EnvRecord) -> bool:
    return a is not None and os.path.realpath(a.prefix) == os.path.realpath(b.prefix)


def _same_file(path: str, target: Path) -> bool:
    """`path` names `target`, perhaps through a symlinked or `..`-holding folder."""
    return os.path.realpath(path) == os.path.realpath(target)


def _resolves(rows: Rows, store: Store, request: Request, serving: Serving, install: str) -> bool:
    """The environment of this exact request is installed and the launcher runs it here. False
    when the request is for another platform: installed, never exposed or run here."""
    from conda_pixi_backends.settings import current_platform

    exact = store.record(request.env_name)
    if request.platform != current_platform():
        if exact is not None:
            rows.add("resolves", OK, f"installed for {request.platform}: {exact.prefix}")
        else:
            rows.add("resolves", FAIL, f"not installed for {request.platform}", install)
        return False
    if exact is not None and (
        serving.env_name == exact.env_name or _same_env(serving.record, exact)
    ):
        where = f"; the launcher serves it in {request.workspaces[0]}" if request.workspaces else ""
        rows.add("resolves", OK, f"installed for this request: {exact.prefix}{where}")
    elif exact is not None:
        runs = serving.env_name or "nothing"
        detail = f"installed as {exact.env_name}, but the launcher runs {runs}"
        rows.add("resolves", WARN, detail, install)
    else:
        partial = store.metadata_path(request.env_name).exists() or store.prefix(request).exists()
        what = "incomplete" if partial else "not installed"
        detail = f"{what} for this request ({request.spec}, key {request.key})"
        if serving.env_name:
            detail += f"; the launcher runs {serving.env_name} instead"
        rows.add("resolves", FAIL, detail, install)
    return True


def _environment(
    rows: Rows, store: Store, env_name: str, record: EnvRecord | None, reinstall: str
) -> None:
    """The environment the launcher runs is complete; if not, why (`record` is None)."""
    from conda_pixi_backends.store import why_incomplete

    if record is None:
        where = Path(env_name)
        path = where if where.is_absolute() else store.metadata_path(env_name)
        detail = f"{env_name} is incomplete: {why_incomplete(path)}"
        rows.add("environment", FAIL, detail, reinstall)
        return
    version = f" ({rows.backend} {record.version})" if record.version else ""
    rows.add("environment", OK, f"{record.prefix}: complete{version}")


def _executable(rows: Rows, launcher: Path, serving: Serving) -> bool:
    """The launcher is there and runs what the metadata gives. False when it cannot start."""
    from conda_pixi_backends import exposure

    if not launcher.is_file():
        rows.add("executable", FAIL, f"{launcher}: missing", fix_command())
        return False
    if not os.access(launcher, os.X_OK):
        rows.add("executable", FAIL, f"{launcher}: not executable", fix_command())
        return False
    if serving.record is not None and serving.record.executable and serving.default is not None:
        home = windows.cmd_path(launcher.parent.parent)  # the store's root (for a .bat)
        wanted = exposure.launcher_text(serving.default, serving.others, home)
        if launcher.read_bytes() != wanted.encode("utf-8"):  # as written: a .bat has CRLF
            detail = f"{launcher}: differs from what its metadata gives"
            rows.add("executable", WARN, detail, fix_command())
            return True
    rows.add("executable", OK, str(launcher))
    return True


def _active(rows: Rows, override: Override | None, env: dict[str, str], launcher: Path) -> None:
    """This shell's override hands Pixi the launcher: otherwise Pixi installs its own backend."""
    exe = override.resolve(env) if override is not None else None
    if override is not None and exe is not None and _same_file(exe, launcher):
        rows.add("active", OK, f"{override.variable} hands Pixi this launcher in this shell")
    else:
        detail = "this shell does not hand it to Pixi (Pixi would install its own)"
        rows.add("active", WARN, detail, hook_command())
