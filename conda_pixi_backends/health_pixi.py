"""The checks that ask Pixi's side of the contract: the `pixi` on PATH, the
`pixi-build-api-version` each environment carries against the configured constraint, and the
`negotiateCapabilities` probe of each backend, all started at once."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from conda_pixi_backends.build_api import API_PACKAGE, api_constraints
from conda_pixi_backends.health_checks import FAIL, OK, WARN, Finding, Rows

if TYPE_CHECKING:
    from collections.abc import Mapping

    from conda_pixi_backends.settings import Settings
    from conda_pixi_backends.store import EnvRecord

#: The one Pixi release whose build API the design notes record (read from its source): Pixi
#: 0.77 speaks API 7 (`pixi-build-api-version >=7,<8`). Other releases are only reported.
PIXI_KNOWN = ("0.77", "7")


class PixiFact(TypedDict):
    """The `pixi` on PATH, in `doctor --json`."""

    path: str
    version: str | None


class ApiFact(TypedDict):
    """The configured API constraints and each exposed backend's API version, in `doctor --json`."""

    constraints: list[str]
    backends: dict[str, str | None]


@dataclass
class Probe:
    """A `responds` finding to fill in, the command to start, and the fix when it fails."""

    finding: Finding
    executable: str
    fix: str


def run_probes(probes: list[Probe], timeout: float, env: dict[str, str]) -> None:
    """Start every backend at once: a report of several silent ones takes one timeout."""
    if not probes:
        return
    from concurrent.futures import ThreadPoolExecutor

    from conda_pixi_backends import probe

    with ThreadPoolExecutor(max_workers=min(8, len(probes))) as pool:
        results = list(pool.map(lambda p: probe.negotiate(p.executable, timeout, env), probes))
    for started, result in zip(probes, results, strict=True):
        finding = started.finding
        if result.ok:
            finding.status, finding.fix = OK, None
            finding.detail = f"{result.detail} ({result.seconds:.2f} s)"
        else:
            finding.status, finding.fix = FAIL, started.fix
            finding.detail = f"{result.status}: {result.detail}"


# --- pixi-build-api-version ---------------------------------------------------------------------


def api_wanted(cfg: Settings) -> list[str]:
    """The configured constraints on pixi-build-api-version (by default Pixi 0.77's range)."""
    return api_constraints(cfg.constraints)


def api_of(record: EnvRecord | None) -> str | None:
    """The pixi-build-api-version an environment carries, if any."""
    package = record.package(API_PACKAGE) if record is not None else None
    return package["version"] if package else None


def api_version(rows: Rows, cfg: Settings, record: EnvRecord, install: str) -> None:
    """The environment's pixi-build-api-version fits the configured constraint; with none
    configured, it is at least there."""
    from conda_pixi_backends.model import normalize_spec

    wanted = api_wanted(cfg)
    package = record.package(API_PACKAGE)
    if package is None:
        detail = f"the environment has no {API_PACKAGE}: Pixi cannot know which protocol it speaks"
        if wanted:
            detail += f" (configured: {'; '.join(wanted)})"
        fix = "ask the manifest for a newer backend version, then: " + install
        rows.add("api-version", FAIL, detail, fix)
        return
    version = package["version"]
    if not wanted:
        rows.add("api-version", OK, f"{API_PACKAGE} {version} (no constraint configured)")
        return
    import rattler

    candidate = rattler.PackageRecord(
        name=API_PACKAGE, version=version, build=rattler.BuildString(package.get("build", "0")),
        build_number=0, subdir=package.get("subdir", "noarch"),
    )  # fmt: skip
    for text in wanted:
        spec = rattler.MatchSpec(normalize_spec(text, "setting 'constraints'")[1])
        if not spec.matches(candidate):
            detail = f"{API_PACKAGE} {version} does not satisfy the configured constraint '{text}'"
            fix = f"reinstall with a newer version that speaks it: {install}"
            rows.add("api-version", FAIL, detail, fix)
            return
    rows.add("api-version", OK, f"{API_PACKAGE} {version} satisfies {'; '.join(wanted)}")


# --- The pixi on PATH ---------------------------------------------------------------------------


def pixi_version(env: Mapping[str, str]) -> PixiFact | None:
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
        return {"path": exe, "version": None}
    found = re.search(r"\b(\d+\.\d+(?:\.\d+)*)\b", proc.stdout)
    return {"path": exe, "version": found.group(1) if proc.returncode == 0 and found else None}


def pixi_finding(cfg: Settings, pixi: PixiFact) -> Finding:
    """Which Pixi runs the backends here, and whether the API constraint fits it, for the one
    release whose API is known (Pixi 0.77: API 7)."""
    known, api = PIXI_KNOWN
    exe, version = pixi["path"], pixi["version"]
    if version is None:
        return Finding("pixi", WARN, f"{exe}: `pixi --version` printed no version", f"check {exe}")
    note = f"Pixi {known} speaks Pixi build API {api} ({API_PACKAGE} >={api},<{int(api) + 1})"
    detail = f"pixi {version} ({exe}); {note}"
    wanted = api_wanted(cfg)
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
