"""`doctor`: check that every backend Pixi is to get from here would really work, and say how to
fix what would not. The same report serves `conda doctor` through the `pixi-backends` health
check.

For each backend that the manifest, the `backends` setting or the store's exposure names: it
resolves (an override, or the environment of that exact request), its environment is complete,
its executable is there, it answers `negotiateCapabilities` in time, its `pixi-build-api-version`
satisfies the configured constraint, and this shell hands it to Pixi. Besides: the override
variables, dangling override entries, the store's activation scripts, the version of the `pixi`
on PATH and, with --prefix, the scripts `activate-in` wrote into a conda environment.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conda_pixi_backends.commands import common

if TYPE_CHECKING:
    from conda_pixi_backends.model import Declaration, Request
    from conda_pixi_backends.overrides import Overrides
    from conda_pixi_backends.settings import Settings
    from conda_pixi_backends.store import EnvRecord, Store

OK, WARN, FAIL = "ok", "warn", "fail"
API_PACKAGE = "pixi-build-api-version"
DEFAULT_TIMEOUT = 10.0
#: The one Pixi release whose build API the design notes record (read from its source): Pixi
#: 0.77 speaks API 7 (`pixi-build-api-version >=7,<8`). Other releases are only reported.
PIXI_KNOWN = ("0.77", "7")
#: What rewrites the store's launchers and activation scripts from its metadata.
FIX_COMMAND = "conda pixi-backend doctor --fix"
HOOK_COMMAND = 'eval "$(conda pixi-backend shell-hook)"'


@dataclass
class Finding:
    """One check's outcome. `fix` is a command to run (or, where no command can help, what to
    change); it is None when the status is ok."""

    check: str
    status: str
    detail: str
    fix: str | None = None
    backend: str | None = None
    key: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "backend": self.backend,
            "key": self.key,
            "status": self.status,
            "detail": self.detail,
            "fix": self.fix,
        }


# A `responds` finding to fill in, the command to start, and the fix when it fails.
Probe = tuple[Finding, str, str]


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "doctor",
        parents=[parent],
        help="check that the backends Pixi gets from here work, and say how to fix what does not",
        description=(
            "Check every backend the manifest (found from here upward, or --manifest), the "
            "'backends' setting or the store's exposure names: it resolves, its environment is "
            "complete, it starts and answers negotiateCapabilities, its pixi-build-api-version "
            "fits the configured constraint. Also checks the override variables, the "
            "activation scripts and the version of pixi on PATH. Exit 1 when a check fails."
        ),
    )
    common.add_manifest_flag(
        parser,
        "a pixi.toml, pyproject.toml or folder (repeatable; default: found from here upward)",
    )
    parser.add_argument(
        "--timeout", type=common.number("seconds", 0, 86400, exclusive=True),
        default=DEFAULT_TIMEOUT, metavar="S",
        help=f"seconds a backend has to answer, at most a day (default: {DEFAULT_TIMEOUT:g})",
    )  # fmt: skip
    parser.add_argument(
        "-p", "--prefix", type=Path, metavar="PREFIX",
        help="also check the activate-in scripts of this conda environment",
    )  # fmt: skip
    parser.add_argument(
        "--fix", action="store_true",
        help="rewrite stale launchers and activation scripts (and --prefix's scripts), then check",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends.plan import stores_for

    cfg = common.settings(args)
    prefix = args.prefix.expanduser().absolute() if args.prefix else None
    facts: dict[str, Any] = {}
    findings = collect(cfg, args.manifest, args.timeout, prefix=prefix, facts=facts)
    fixed: list[str] = []
    if args.fix:
        fixed = repair(stores_for(cfg)[0], findings, prefix)
        if fixed:
            findings = collect(cfg, args.manifest, args.timeout, prefix=prefix, facts=facts)
    failed = any(f.status == FAIL for f in findings)
    if args.json:
        data = {"root": str(cfg.root), "ok": not failed, "summary": summary(findings)}
        data.update(fixed=fixed, checks=[f.to_json() for f in findings], **facts)
        json.dump(data, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for line in fixed:
            print(f"fixed: {line}")
        print_report(findings, cfg.root)
    return 1 if failed else 0


# --- The checks ---------------------------------------------------------------------------------


def collect(
    cfg: Settings,
    manifests: list[Path],
    timeout: float = DEFAULT_TIMEOUT,
    environ: Mapping[str, str] | None = None,
    prefix: Path | None = None,
    cwd: Path | None = None,
    facts: dict[str, Any] | None = None,
) -> list[Finding]:
    """Every check, in report order: the general ones, then one group per backend. `facts`
    receives what `--json` adds beside the checks: `pixi` (its path and version, or None) and
    `api` (the configured API constraints, each exposed backend's pixi-build-api-version)."""
    from conda_pixi_backends import plan
    from conda_pixi_backends.errors import UserInputError
    from conda_pixi_backends.plan import stores_for

    env = dict(os.environ if environ is None else environ)
    store = stores_for(cfg)[0]
    exposed = store.exposed()
    findings = [_store_finding(store, exposed)]
    declarations, found = _declarations(manifests, cwd or Path.cwd())
    findings += found
    try:
        declarations += plan.config_backends(cfg)
    except UserInputError as exc:
        findings.append(
            Finding("config", FAIL, str(exc), "correct the 'backends' setting where it is set")
        )
    requests = plan.requests_for(declarations, cfg)
    for conflict in plan.conflicts(requests):
        fix = f"pin one version of {conflict.name} in every package of {conflict.workspace}"
        findings.append(Finding("workspace", FAIL, conflict.describe(), fix, conflict.name))
    overrides, found_override = _override_variable(env)
    findings.append(found_override)
    findings.append(_activation_scripts(store, exposed))
    pixi = _pixi_version(env)
    if pixi is not None:
        findings.append(_pixi_finding(cfg, *pixi))
    if facts is not None:
        facts["pixi"] = {"path": pixi[0], "version": pixi[1]} if pixi is not None else None
        facts["api"] = {
            "constraints": _api_wanted(cfg),
            "backends": {name: _api_of(_served(store, where)) for name, where in exposed.items()},
        }
    if prefix is not None:
        findings.append(_conda_env(store, prefix))
    probes: list[Probe] = []
    for request in requests:
        findings += _backend(cfg, store, request.name, request, overrides, exposed, env, probes)
    asked = {r.name for r in requests}
    for name in sorted(set(exposed) - asked):
        findings += _backend(cfg, store, name, None, overrides, exposed, env, probes)
    findings += _override_targets(overrides, asked | set(exposed), env)
    _run_probes(probes, timeout, env)
    return findings


def _cmd(*args: str) -> str:
    return " ".join(["conda pixi-backend", *(shlex.quote(a) for a in args)])


def _store_finding(store: Store, exposed: dict[str, str]) -> Finding:
    if not store.root.is_dir():
        return Finding("store", OK, f"{store.root}: no store yet (nothing installed)")
    count = len(store.records())
    return Finding(
        "store", OK, f"{store.root}: {count} complete environment(s), {len(exposed)} exposed"
    )


def _declarations(manifests: list[Path], cwd: Path) -> tuple[list[Declaration], list[Finding]]:
    """What the manifests ask for. A manifest named with --manifest must read (exit 2 if not,
    as with `install`); one merely found from here upward only earns a warning."""
    from conda_pixi_backends import discovery as readers
    from conda_pixi_backends.errors import UserInputError

    if manifests:
        found = readers.discover(manifests).declarations
        shown = ", ".join(str(m) for m in manifests)
        return found, [Finding("manifest", OK, f"{shown}: {len(found)} backend declaration(s)")]
    try:
        path = readers.find_manifest(cwd)
    except UserInputError:
        detail = f"none in {cwd} or its parents; checking the configured and exposed backends"
        return [], [Finding("manifest", OK, detail)]
    try:
        found = readers.discover([path]).declarations
    except UserInputError as exc:
        return [], [
            Finding("manifest", WARN, str(exc), "correct the manifest, or name one with -m PATH")
        ]
    return found, [Finding("manifest", OK, f"{path}: {len(found)} backend declaration(s)")]


def _override_command(env: Mapping[str, str], keep: Callable[[str], bool]) -> str:
    """The command that leaves PIXI_BUILD_BACKEND_OVERRIDE with only the items `keep` accepts."""
    from conda_pixi_backends.overrides import OVERRIDE

    items = [i for i in env.get(OVERRIDE, "").split(",") if i and keep(i)]
    if not items:
        return f"unset {OVERRIDE}"
    return f"export {OVERRIDE}={shlex.quote(','.join(items))}"


def _well_formed(item: str) -> bool:
    parts = item.split("=")
    return len(parts) == 1 or (len(parts) == 2 and bool(parts[1]))


def _without(env: Mapping[str, str], name: str) -> str:
    return _override_command(env, lambda item: item.split("=")[0] != name)


def _override_variable(env: Mapping[str, str]) -> tuple[Overrides, Finding]:
    from conda_pixi_backends import overrides
    from conda_pixi_backends.errors import UserInputError

    check = "override-variable"
    try:
        found = overrides.from_environ(env)
    except UserInputError as exc:
        detail = f"{exc} (until it is corrected, Pixi ignores all of it, the store's entries too)"
        return overrides.Overrides(), Finding(
            check, FAIL, detail, _override_command(env, _well_formed)
        )
    if found.everything:
        detail = f"{overrides.OVERRIDE_ALL} is set: Pixi takes every backend from PATH"
    elif found.named:
        detail = f"{overrides.OVERRIDE} names {', '.join(o.name for o in found.named)}"
    else:
        detail = f"neither {overrides.OVERRIDE} nor {overrides.OVERRIDE_ALL} is set"
    return found, Finding(check, OK, detail)


def _activation_scripts(store: Store, exposed: dict[str, str]) -> Finding:
    """The static scripts match what exposure would write now and name only existing launchers."""
    from conda_pixi_backends import exposure, shells

    check = "activation-scripts"
    if not store.activate.is_dir():
        if exposed:
            return Finding(check, FAIL, f"{store.activate}: missing", FIX_COMMAND)
        return Finding(check, OK, f"{store.activate}: none yet (nothing exposed)")
    live = exposure.live_exposure(store, exposed)
    pattern = re.compile(re.escape(str(store.bin) + os.sep) + r"([A-Za-z0-9_.+\-]+)")
    missing, stale, dangling = [], [], set()
    for shell, filename in shells.SHELLS.items():
        try:
            text = (store.activate / filename).read_text(encoding="utf-8")
        except OSError:
            missing.append(filename)
            continue
        try:
            wanted: str | None = exposure.activation_text(store, shell, live)
        except ValueError:
            wanted = None
        if text != wanted:
            stale.append(filename)
        dangling.update(m[1] for m in pattern.finditer(text) if not (store.bin / m[1]).is_file())
    if dangling:
        detail = f"{store.activate}: they hand Pixi launchers that do not exist: "
        return Finding(check, FAIL, detail + ", ".join(sorted(dangling)), FIX_COMMAND)
    if missing or stale:
        parts = [f"missing: {', '.join(missing)}"] * bool(missing)
        parts += [f"out of date: {', '.join(stale)}"] * bool(stale)
        return Finding(check, WARN, f"{store.activate}: {'; '.join(parts)}", FIX_COMMAND)
    return Finding(check, OK, f"{store.activate}: up to date ({len(live)} backend(s))")


def _conda_env(store: Store, prefix: Path) -> Finding:
    """The activate-in scripts of a conda environment, if it has any, are what it would write."""
    from conda_pixi_backends.commands import activate_in

    check = "conda-env"
    fix = _cmd("activate-in", str(prefix))
    try:
        wanted = activate_in.scripts(store, prefix)
    except ValueError as exc:
        return Finding(check, WARN, f"{prefix}: {exc}")

    def read(path: Path) -> str | None:
        try:
            return path.read_text(encoding="utf-8")
        except OSError:
            return None

    present = {path: read(path) for path in wanted}
    if not any(text is not None for text in present.values()):
        detail = f"{prefix}: conda activate does not hand the backends to Pixi ({fix} would)"
        return Finding(check, OK, detail)
    differ = [path.name for path, text in wanted.items() if present[path] != text]
    if differ:
        detail = f"{prefix}: {len(differ)} activate.d/deactivate.d script(s) missing or out of date"
        return Finding(check, WARN, detail, fix)
    return Finding(check, OK, f"{prefix}: conda activate hands the backends to Pixi")


def _commands(request: Request | None, record: EnvRecord | None) -> tuple[str, str]:
    """The commands that install this backend, and that install it again from scratch."""
    from conda_pixi_backends import plan

    if request is None and record is not None:
        request = plan.request_from_record(record)
    if request is None:
        return FIX_COMMAND, FIX_COMMAND  # nothing to reinstall from: drop it from the exposure
    manifests = plan.manifest_sources(request.sources)
    if manifests:
        return _cmd("install", "-m", manifests[0]), _cmd("install", "--force", "-m", manifests[0])
    if plan.CONFIG in request.sources:
        return _cmd("sync"), _cmd("install", "--force", request.spec)
    if record is not None:  # exposed only: its own request, channels included
        channels = [a for c in request.channels for a in ("-c", c)]
        args = ["install", "--override-channels", *channels, request.spec]
        return _cmd(*args), _cmd("install", "--force", *args[1:])
    return _cmd("install", request.spec), _cmd("install", "--force", request.spec)


def _backend(
    cfg: Settings,
    store: Store,
    name: str,
    request: Request | None,
    overrides: Overrides,
    exposed: dict[str, str],
    env: dict[str, str],
    probes: list[Probe],
) -> list[Finding]:
    """One backend's checks. `request` is None for one the store exposes but nothing here asks for."""
    from conda_pixi_backends import exposure, plan
    from conda_pixi_backends.settings import current_platform

    served_name = exposed.get(name)
    served = _served(store, served_name)
    others = exposure.candidates(store).get(name, []) if served is not None else []
    if served is not None and request is not None and request.workspaces:
        # The launcher runs, in the workspace that asks, what that workspace asked for last.
        served = exposure.serving(served, others, request.workspaces[0])
        served_name = served.env_name
    key = request.key if request else (served.key if served else None)
    out: list[Finding] = []

    def add(check: str, status: str, detail: str, fix: str | None = None) -> Finding:
        out.append(Finding(check, status, detail, fix if status != OK else None, name, key))
        return out[-1]

    override = overrides.get(name)
    if override is not None and not plan.own_launcher(store, override):
        _overridden(add, name, override, env, probes)
        return out
    install, reinstall = _commands(request, served)
    if request is not None:
        exact = store.record(request.env_name)
        if request.platform != current_platform():  # installed, never exposed or run here
            if exact is not None:
                add("resolves", OK, f"installed for {request.platform}: {exact.prefix}")
            else:
                add("resolves", FAIL, f"not installed for {request.platform}", install)
            return out
        if exact is not None and (served_name == exact.env_name or _same_env(served, exact)):
            where = (
                f"; the launcher serves it in {request.workspaces[0]}" if request.workspaces else ""
            )
            add("resolves", OK, f"installed for this request: {exact.prefix}{where}")
        elif exact is not None:
            runs = served_name or "nothing"
            add(
                "resolves",
                WARN,
                f"installed as {exact.env_name}, but the launcher runs {runs}",
                install,
            )
        else:
            partial = (
                store.metadata_path(request.env_name).exists() or store.prefix(request).exists()
            )
            what = "incomplete" if partial else "not installed"
            detail = f"{what} for this request ({request.spec}, key {request.key})"
            if served_name:
                detail += f"; the launcher runs {served_name} instead"
            add("resolves", FAIL, detail, install)
    else:
        add(
            "resolves",
            OK,
            f"exposed by the store ({served_name}); nothing checked here asks for it",
        )
    if served_name is None:
        return out
    if served is None:
        add(
            "environment",
            FAIL,
            f"{served_name} is incomplete: {_why(store, served_name)}",
            reinstall,
        )
    else:
        package = served.package(name)
        version = f" ({name} {package['version']})" if package else ""
        add("environment", OK, f"{served.prefix}: complete{version}")
    launcher = exposure.launcher_path(store, name)
    if not launcher.is_file():
        add("executable", FAIL, f"{launcher}: missing", FIX_COMMAND)
        return out
    if not os.access(launcher, os.X_OK):
        add("executable", FAIL, f"{launcher}: not executable", FIX_COMMAND)
        return out
    if served is not None and served.executable:
        current = launcher.read_text(encoding="utf-8", errors="replace")
        default = _served(store, exposed.get(name))
        if default is not None and current != exposure.launcher_text(default, others):
            add(
                "executable", WARN, f"{launcher}: differs from what its metadata gives", FIX_COMMAND
            )
    if not out or out[-1].check != "executable":
        add("executable", OK, str(launcher))
    probes.append((add("responds", FAIL, "not probed"), str(launcher), reinstall))
    if served is not None:
        out.append(_api_version(cfg, served, install, name, key))
    if override is not None and _same_file(override.resolve(env), launcher):
        add("active", OK, f"{override.variable} hands Pixi this launcher in this shell")
    else:
        detail = "this shell does not hand it to Pixi (Pixi would install its own)"
        add("active", WARN, detail, HOOK_COMMAND)
    return out


def _served(store: Store, where: str | None) -> EnvRecord | None:
    """The complete environment an exposure entry names, read as the launchers are written
    (`exposure.live_exposure`): an environment of this store, or the absolute metadata path of
    one elsewhere (a read-only shared store, or this store's root spelled another way)."""
    from conda_pixi_backends.store import read_record

    if not where:
        return None
    return read_record(Path(where)) if Path(where).is_absolute() else store.record(where)


def _same_env(a: EnvRecord | None, b: EnvRecord) -> bool:
    return a is not None and os.path.realpath(a.prefix) == os.path.realpath(b.prefix)


def _why(store: Store, env_name: str) -> str:
    """Why `_served` finds no complete environment of that name (or metadata path)."""
    from conda_pixi_backends.store import why_incomplete

    path = Path(env_name) if Path(env_name).is_absolute() else store.metadata_path(env_name)
    return why_incomplete(path)


def _overridden(
    add: Callable[..., Finding], name: str, override: Any, env: dict[str, str], probes: list[Probe]
) -> None:
    from conda_pixi_backends.overrides import OVERRIDE_ALL

    everything = override.variable == OVERRIDE_ALL
    undo = f"unset {OVERRIDE_ALL}" if everything else _without(env, name)
    exe = override.resolve(env)
    if exe is None:
        fix = f"put {override.on_path()} on PATH, or: {undo}"
        add("resolves", FAIL, override.missing(), fix)
        return
    add("resolves", OK, f"overridden by {override.variable}: {exe}")
    if not os.path.isfile(exe) or not os.access(exe, os.X_OK):
        what = "not an executable file" if os.path.exists(exe) else "missing"
        add("executable", FAIL, f"{exe}: {what}", undo)
        return
    add("executable", OK, exe)
    probes.append((add("responds", FAIL, "not probed"), exe, f"repair {exe}, or: {undo}"))


def _api_version(
    cfg: Settings, record: EnvRecord, install: str, name: str, key: str | None
) -> Finding:
    """The environment's pixi-build-api-version fits the configured constraint; with none
    configured, it is at least there."""
    from conda_pixi_backends.model import normalize_spec

    def finding(status: str, detail: str, fix: str | None = None) -> Finding:
        return Finding("api-version", status, detail, fix, name, key)

    wanted = _api_wanted(cfg)
    package = record.package(API_PACKAGE)
    if package is None:
        detail = f"the environment has no {API_PACKAGE}: Pixi cannot know which protocol it speaks"
        if wanted:
            detail += f" (configured: {'; '.join(wanted)})"
        return finding(
            FAIL, detail, "ask the manifest for a newer backend version, then: " + install
        )
    version = package["version"]
    if not wanted:
        return finding(OK, f"{API_PACKAGE} {version} (no constraint configured)")
    import rattler

    for text in wanted:
        spec = rattler.MatchSpec(normalize_spec(text, "setting 'constraints'")[1])
        candidate = rattler.PackageRecord(
            name=API_PACKAGE,
            version=version,
            build=rattler.BuildString(package.get("build", "0")),
            build_number=0,
            subdir=package.get("subdir", "noarch"),
        )
        if not spec.matches(candidate):
            detail = f"{API_PACKAGE} {version} does not satisfy the configured constraint '{text}'"
            return finding(
                FAIL, detail, f"reinstall with a newer version that speaks it: {install}"
            )
    return finding(OK, f"{API_PACKAGE} {version} satisfies {'; '.join(wanted)}")


def _api_wanted(cfg: Settings) -> list[str]:
    """The configured constraints on pixi-build-api-version (by default Pixi 0.77's range)."""
    return [c for c in cfg.constraints if _spec_name(c) == API_PACKAGE]


def _api_of(record: EnvRecord | None) -> str | None:
    package = record.package(API_PACKAGE) if record is not None else None
    return package["version"] if package else None


def _same_file(path: str | None, target: Path) -> bool:
    """`path` names `target`, perhaps through a symlinked or `..`-holding folder."""
    return path is not None and os.path.realpath(path) == os.path.realpath(target)


def _pixi_version(env: Mapping[str, str]) -> tuple[str, str | None] | None:
    """The `pixi` on PATH and the version `pixi --version` prints (None if it says none), or
    None when PATH has no pixi."""
    import shutil
    import subprocess

    exe = shutil.which("pixi", path=env.get("PATH", os.defpath))
    if exe is None:
        return None
    try:
        proc = subprocess.run(
            [exe, "--version"], env=dict(env), capture_output=True, text=True, timeout=10,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return exe, None
    found = re.search(r"\b(\d+\.\d+(?:\.\d+)*)\b", proc.stdout)
    return exe, found.group(1) if proc.returncode == 0 and found else None


def _pixi_finding(cfg: Settings, exe: str, version: str | None) -> Finding:
    """Which Pixi runs the backends here, and whether the API constraint fits it, for the one
    release whose API is known (Pixi 0.77: API 7)."""
    known, api = PIXI_KNOWN
    if version is None:
        return Finding("pixi", WARN, f"{exe}: `pixi --version` printed no version", f"check {exe}")
    note = f"Pixi {known} speaks Pixi build API {api} ({API_PACKAGE} >={api},<{int(api) + 1})"
    detail = f"pixi {version} ({exe}); {note}"
    wanted = _api_wanted(cfg)
    if version.split(".")[:2] != known.split(".") or not wanted:
        return Finding("pixi", OK, detail)
    import rattler

    candidate = rattler.PackageRecord(
        name=API_PACKAGE, version=api, build=rattler.BuildString("0"), build_number=0,
        subdir="noarch",
    )  # fmt: skip
    bad = [c for c in wanted if not rattler.MatchSpec(c).matches(candidate)]
    if not bad:
        return Finding("pixi", OK, detail)
    detail += f", but setting 'constraints' asks for {'; '.join(bad)}"
    fix = f"set 'constraints' to {API_PACKAGE} >={api},<{int(api) + 1} where it is set"
    return Finding("pixi", WARN, detail, fix)


def _spec_name(text: str) -> str:
    from conda_pixi_backends.errors import UserInputError
    from conda_pixi_backends.model import normalize_spec

    try:
        return normalize_spec(text, "setting 'constraints'")[0]
    except UserInputError:
        return ""


def _override_targets(
    overrides: Overrides, checked: set[str], env: dict[str, str]
) -> list[Finding]:
    """Override entries for backends not checked above: each must name something that runs."""
    found = []
    for override in overrides.named:
        if override.name in checked:
            continue
        exe = override.resolve(env)
        fix = _without(env, override.name)
        if exe is None:
            detail, status = override.missing(), FAIL
        elif not os.path.isfile(exe) or not os.access(exe, os.X_OK):
            what = "not an executable file" if os.path.exists(exe) else "missing"
            detail, status = f"{override.variable} names {exe}: {what}", FAIL
        else:
            detail, status = f"{override.variable} names {exe}", OK
        found.append(
            Finding("override-target", status, detail, fix if status != OK else None, override.name)
        )
    return found


def _run_probes(probes: list[Probe], timeout: float, env: dict[str, str]) -> None:
    """Start every backend at once: a report of several silent ones takes one timeout."""
    if not probes:
        return
    from concurrent.futures import ThreadPoolExecutor

    from conda_pixi_backends import probe

    with ThreadPoolExecutor(max_workers=min(8, len(probes))) as pool:
        results = list(pool.map(lambda p: probe.negotiate(p[1], timeout, env), probes))
    for (finding, _, fix), result in zip(probes, results, strict=True):
        if result.ok:
            finding.status, finding.fix = OK, None
            finding.detail = f"{result.detail} ({result.seconds:.2f} s)"
        else:
            finding.status, finding.fix = FAIL, fix
            finding.detail = f"{result.status}: {result.detail}"


# --- Fixing and reporting -----------------------------------------------------------------------


def repair(store: Store, findings: list[Finding], prefix: Path | None) -> list[str]:
    """Do what `--fix` can: rewrite the store's exposure from its metadata, and a conda
    environment's activate-in scripts. Returns what was done."""
    from conda_pixi_backends import plan
    from conda_pixi_backends.commands import activate_in
    from conda_pixi_backends.errors import OperationError

    done = []
    if any(f.fix == FIX_COMMAND for f in findings):
        store.ensure()
        try:
            plan.refresh_exposure(store)
        except OSError as exc:
            raise OperationError(f"{store.root}: cannot rewrite ({exc.strerror or exc})") from None
        done.append(f"rewrote the launchers and activation scripts in {store.root}")
    if prefix is not None and any(f.check == "conda-env" and f.status == WARN for f in findings):
        activate_in.write(store, prefix)
        done.append(f"rewrote the activate-in scripts of {prefix}")
    return done


def summary(findings: list[Finding]) -> dict[str, int]:
    return {status: sum(f.status == status for f in findings) for status in (OK, WARN, FAIL)}


LABELS = {OK: "ok", WARN: "WARN", FAIL: "FAIL"}


def print_report(findings: list[Finding], root: Path, file: Any = None) -> None:
    out = file or sys.stdout
    width = max((len(f.check) for f in findings), default=0)
    # One group per backend request: two requests may name one backend (a manifest, the config).
    groups: dict[tuple[str | None, str | None], list[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.backend, finding.key), []).append(finding)
    for (backend, key), rows in groups.items():
        if backend is not None:
            print(f"\n{backend}" + (f"  (key {key})" if key else ""), file=out)
        for f in rows:
            print(f"  {LABELS[f.status]:<4}  {f.check:<{width}}  {f.detail}", file=out)
            if f.fix:
                print(f"  {'':<4}  {'':<{width}}  fix: {f.fix}", file=out)
    counts = summary(findings)
    print(f"\n{counts[FAIL]} failed, {counts[WARN]} warning(s), {counts[OK]} ok ({root})", file=out)


# --- conda doctor -------------------------------------------------------------------------------


def _conda_marks() -> tuple[str, str]:
    try:
        from conda.base.constants import OK_MARK, X_MARK
    except ImportError:
        return "ok", "X"
    return OK_MARK, X_MARK


def conda_health_check(prefix: str, verbose: bool) -> None:
    """`conda doctor`'s `pixi-backends` check: a summary line, then what is not ok (everything
    with --verbose), each with its fix."""
    from conda_pixi_backends.errors import CPBError

    ok_mark, x_mark = _conda_marks()
    try:
        cfg = common.settings(argparse.Namespace())
        findings = collect(cfg, [], prefix=Path(prefix))
    except CPBError as exc:
        print(f"{x_mark} Pixi build backends: {exc}")
        return
    counts = summary(findings)
    mark = x_mark if counts[FAIL] else ok_mark
    print(
        f"{mark} Pixi build backends ({cfg.root}): {counts[FAIL]} failed, "
        f"{counts[WARN]} warning(s), {counts[OK]} ok"
    )
    for f in findings:
        if verbose or f.status != OK:
            subject = f"{f.backend}: " if f.backend else ""
            print(f"    {LABELS[f.status]:<4} {subject}{f.check}: {f.detail}")
            if f.fix:
                print(f"         fix: {f.fix}")


def conda_health_fix(prefix: str, args: argparse.Namespace, confirm: Callable[[str], Any]) -> int:
    """`conda doctor --fix pixi-backends`: what `doctor --fix` does, after confirmation."""
    from conda_pixi_backends.errors import CPBError
    from conda_pixi_backends.plan import stores_for

    try:
        cfg = common.settings(argparse.Namespace())
        findings = collect(cfg, [], prefix=Path(prefix))
        fixable = [
            f
            for f in findings
            if f.fix == FIX_COMMAND or (f.check == "conda-env" and f.status == WARN)
        ]
        if not fixable:
            print("Pixi build backends: nothing that --fix can repair.")
            return 0
        for f in fixable:
            print(f"{f.backend + ': ' if f.backend else ''}{f.check}: {f.detail}")
        confirm("Rewrite the store's launchers and activation scripts (and this environment's)?")
        for line in repair(stores_for(cfg)[0], findings, Path(prefix)):
            print(line)
    except CPBError as exc:
        print(f"Pixi build backends: {exc}")
        return exc.exit_code
    return 0
