"""What a health check finds, and the checks of the store and of this shell: the store itself,
the manifest, the override variables and what they name, the store's activation scripts and a
conda environment's activate-in scripts. `health.collect` runs them; the per-backend checks are
in `health_backends`, Pixi's own and the API version in `health_pixi`."""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal, TypedDict

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from conda_pixi_backends.model import Declaration
    from conda_pixi_backends.overrides import Overrides
    from conda_pixi_backends.store import Store

Status = Literal["ok", "warn", "fail"]
OK: Final = "ok"
WARN: Final = "warn"
FAIL: Final = "fail"
STATUSES: tuple[Status, ...] = (OK, WARN, FAIL)
#: How a report shows each status: what is not ok stands out.
LABELS: dict[Status, str] = {OK: "ok", WARN: "WARN", FAIL: "FAIL"}


class FindingRow(TypedDict):
    """One check in `doctor --json`."""

    check: str
    backend: str | None
    key: str | None
    status: Status
    detail: str
    fix: str | None


@dataclass
class Finding:
    """One check's outcome. `fix` is a command to run (or, where no command can help, what to
    change); it is None when the status is ok."""

    check: str
    status: Status
    detail: str
    fix: str | None = None
    backend: str | None = None
    key: str | None = None

    def to_json(self) -> FindingRow:
        return {
            "check": self.check,
            "backend": self.backend,
            "key": self.key,
            "status": self.status,
            "detail": self.detail,
            "fix": self.fix,
        }


@dataclass
class Rows:
    """The findings of one backend request, each marked with its name and key."""

    backend: str
    key: str | None
    found: list[Finding] = field(default_factory=list)

    def add(self, check: str, status: Status, detail: str, fix: str | None = None) -> Finding:
        """Record a finding (an ok one carries no fix) and return it."""
        self.found.append(
            Finding(check, status, detail, fix if status != OK else None, self.backend, self.key)
        )
        return self.found[-1]


def command(*args: str) -> str:
    """A command line of ours to show as a fix, as the user runs us, on the store doctor
    looked at (`errors.command`)."""
    from conda_pixi_backends.errors import command as ours

    return " ".join([ours(), *(shlex.quote(a) for a in args)])


def fix_command() -> str:
    """The fix `doctor --fix` (and `conda doctor --fix`) carries out itself."""
    return command("doctor", "--fix")


def hook_command() -> str:
    return f'eval "$({command("shell-hook")})"'


def store_finding(store: Store, exposed: dict[str, str]) -> Finding:
    from conda_pixi_backends.errors import CPBError

    try:
        store.check()
    except CPBError as exc:
        return Finding("store", FAIL, str(exc), f"use another --root, or restore {store.marker}")
    if not store.root.is_dir():
        return Finding("store", OK, f"{store.root}: no store yet (nothing installed)")
    count = len(store.records())
    return Finding(
        "store", OK, f"{store.root}: {count} complete environment(s), {len(exposed)} exposed"
    )


def declarations(manifests: list[Path], cwd: Path) -> tuple[list[Declaration], list[Finding]]:
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


# --- The override variables ---------------------------------------------------------------------


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


def without(env: Mapping[str, str], name: str) -> str:
    """The command that takes `name` out of PIXI_BUILD_BACKEND_OVERRIDE."""
    return _override_command(env, lambda item: item.split("=")[0] != name)


def not_executable(path: str) -> str | None:
    """Why Pixi could not start `path`, or None when it is an executable file."""
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return None
    return "not an executable file" if os.path.exists(path) else "missing"


def override_variable(env: Mapping[str, str]) -> tuple[Overrides, Finding]:
    """The override variables as Pixi reads them, and whether it can read them at all."""
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


def override_targets(overrides: Overrides, checked: set[str], env: dict[str, str]) -> list[Finding]:
    """Override entries for backends not checked above: each must name something that runs."""
    found = []
    for override in overrides.named:
        if override.name in checked:
            continue
        exe = override.resolve(env)
        status: Status
        if exe is None:
            detail, status = override.missing(), FAIL
        elif (what := not_executable(exe)) is not None:
            detail, status = f"{override.variable} names {exe}: {what}", FAIL
        else:
            detail, status = f"{override.variable} names {exe}", OK
        fix = without(env, override.name) if status != OK else None
        found.append(Finding("override-target", status, detail, fix, override.name))
    return found


# --- Activation scripts -------------------------------------------------------------------------


def activation_scripts(store: Store, exposed: dict[str, str]) -> Finding:
    """The static scripts match what exposure would write now and name only existing launchers."""
    from conda_pixi_backends import exposure, shells

    check = "activation-scripts"
    if not store.activate.is_dir():
        if exposed:
            return Finding(check, FAIL, f"{store.activate}: missing", fix_command())
        return Finding(check, OK, f"{store.activate}: none yet (nothing exposed)")
    live = exposure.live_exposure(store, exposed)
    pattern = re.compile(re.escape(str(store.bin) + os.sep) + r"([A-Za-z0-9_.+\-]+)")
    missing: list[str] = []
    stale: list[str] = []
    dangling: set[str] = set()
    for shell, filename in shells.SHELLS.items():
        try:
            text = (store.activate / filename).read_text(encoding="utf-8-sig")  # shells.encode
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
        return Finding(check, FAIL, detail + ", ".join(sorted(dangling)), fix_command())
    if missing or stale:
        parts = [f"missing: {', '.join(missing)}"] * bool(missing)
        parts += [f"out of date: {', '.join(stale)}"] * bool(stale)
        return Finding(check, WARN, f"{store.activate}: {'; '.join(parts)}", fix_command())
    return Finding(check, OK, f"{store.activate}: up to date ({len(live)} backend(s))")


def conda_env(store: Store, prefix: Path) -> Finding:
    """The activate-in scripts of a conda environment, if it has any, are what it would write."""
    from conda_pixi_backends import conda_envs

    check = "conda-env"
    fix = command("activate-in", str(prefix))
    try:
        wanted = conda_envs.scripts(store, prefix)
    except ValueError as exc:
        return Finding(check, WARN, f"{prefix}: {exc}")

    def read(path: Path) -> str | None:
        try:
            return path.read_text(encoding="utf-8-sig")  # as shells.encode wrote it
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
