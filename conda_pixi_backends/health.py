"""Health: does every backend Pixi is to get from here really work, and how to fix what would
not. `doctor` prints these findings; the conda plugin adapts them for `conda doctor`.

For each backend that the manifest, the `backends` setting or the store's exposure names: it
resolves (an override, or the environment of that exact request), its environment is complete,
its executable is there, it answers `negotiateCapabilities` in time, its `pixi-build-api-version`
satisfies the configured constraint, and this shell hands it to Pixi (`health_backends`).
Besides: the override variables, dangling override entries, the store's activation scripts
(`health_checks`), the version of the `pixi` on PATH (`health_pixi`) and, given a prefix, the
scripts `activate-in` wrote into a conda environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Mapping

    from conda_pixi_backends.health_checks import Finding, Status
    from conda_pixi_backends.health_pixi import ApiFact, PixiFact
    from conda_pixi_backends.settings import Settings
    from conda_pixi_backends.store import Store

# `doctor` builds its parser from this on every start: the checks (and their dataclasses, which
# cost milliseconds to create) load only when they run.
DEFAULT_TIMEOUT = 10.0


class Report(NamedTuple):
    """Every finding, in report order, and what `doctor --json` shows beside them: the `pixi` on
    PATH (None without one) and the API constraints against each exposed backend's version."""

    findings: list[Finding]
    pixi: PixiFact | None
    api: ApiFact

    @property
    def failed(self) -> bool:
        from conda_pixi_backends.health_checks import FAIL

        return any(f.status == FAIL for f in self.findings)


def collect(
    cfg: Settings,
    manifests: list[Path],
    timeout: float = DEFAULT_TIMEOUT,
    environ: Mapping[str, str] | None = None,
    prefix: Path | None = None,
    cwd: Path | None = None,
) -> Report:
    """Every check, in report order: the general ones, then one group per backend request, then
    override entries for backends not checked, then the probes, all at once."""
    from conda_pixi_backends import health_backends, health_checks, health_pixi, plan
    from conda_pixi_backends.errors import UserInputError
    from conda_pixi_backends.health_checks import FAIL, Finding
    from conda_pixi_backends.store import stores_for

    env = dict(os.environ if environ is None else environ)
    store = stores_for(cfg)[0]
    exposed = store.exposed()
    findings = [health_checks.store_finding(store, exposed)]
    declarations, found = health_checks.declarations(manifests, cwd or Path.cwd())
    findings += found
    try:
        declarations += plan.config_backends(cfg)
    except UserInputError as exc:
        fix = "correct the 'backends' setting where it is set"
        findings.append(Finding("config", FAIL, str(exc), fix))
    requests = plan.requests_for(declarations, cfg)
    for conflict in plan.conflicts(requests):
        fix = f"pin one version of {conflict.name} in every package of {conflict.workspace}"
        findings.append(Finding("workspace", FAIL, conflict.describe(), fix, conflict.name))
    overrides, found_override = health_checks.override_variable(env)
    findings.append(found_override)
    findings.append(health_checks.activation_scripts(store, exposed))
    pixi = health_pixi.pixi_version(env)
    if pixi is not None:
        findings.append(health_pixi.pixi_finding(cfg, pixi))
    api: ApiFact = {
        "constraints": health_pixi.api_wanted(cfg),
        "backends": {
            name: health_pixi.api_of(health_backends.served(store, where))
            for name, where in exposed.items()
        },
    }
    if prefix is not None:
        findings.append(health_checks.conda_env(store, prefix))
    ctx = health_backends.Context(cfg, store, overrides, exposed, env, probes=[])
    for request in requests:
        findings += health_backends.check(ctx, request.name, request)
    asked = {r.name for r in requests}
    for name in sorted(set(exposed) - asked):
        findings += health_backends.check(ctx, name, None)
    findings += health_checks.override_targets(overrides, asked | set(exposed), env)
    health_pixi.run_probes(ctx.probes, timeout, env)
    return Report(findings, pixi, api)


def summary(findings: list[Finding]) -> dict[Status, int]:
    """How many findings have each status, in the order ok, warn, fail."""
    from conda_pixi_backends.health_checks import STATUSES

    return {status: sum(f.status == status for f in findings) for status in STATUSES}


def fixable(findings: list[Finding]) -> list[Finding]:
    """What `repair` can fix: stale exposure, and a conda environment's stale activate-in scripts."""
    from conda_pixi_backends.health_checks import fix_command

    return [f for f in findings if f.fix == fix_command() or _stale_conda_env(f)]


def _stale_conda_env(finding: Finding) -> bool:
    from conda_pixi_backends.health_checks import WARN

    return finding.check == "conda-env" and finding.status == WARN


def repair(store: Store, findings: list[Finding], prefix: Path | None) -> list[str]:
    """Do what `--fix` can: rewrite the store's exposure from its metadata, and a conda
    environment's activate-in scripts. Returns what was done."""
    from conda_pixi_backends import conda_envs, exposure
    from conda_pixi_backends.errors import OperationError
    from conda_pixi_backends.health_checks import fix_command

    done = []
    if any(f.fix == fix_command() for f in findings):
        store.ensure()
        try:
            exposure.refresh_locked(store)
        except OSError as exc:
            raise OperationError(f"{store.root}: cannot rewrite ({exc.strerror or exc})") from None
        done.append(f"rewrote the launchers and activation scripts in {store.root}")
    if prefix is not None and any(_stale_conda_env(f) for f in findings):
        conda_envs.write(store, prefix)
        done.append(f"rewrote the activate-in scripts of {prefix}")
    return done
