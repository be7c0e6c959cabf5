"""`doctor`: check that every backend Pixi is to get from here would really work, and say how to
fix what would not. The checks are `health.collect`'s; this prints them as rows or one JSON
object, after `--fix` has done what it can.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypedDict

from conda_pixi_backends import health
from conda_pixi_backends.commands import SUMMARIES, common

if TYPE_CHECKING:
    import argparse

    from conda_pixi_backends.health_checks import Finding, FindingRow, Status
    from conda_pixi_backends.health_pixi import ApiFact, PixiFact


class DoctorResult(TypedDict):
    """What `doctor --json` prints."""

    root: str
    #: No check failed (the exit code is 0).
    ok: bool
    #: How many checks have each status: ok, warn, fail.
    summary: dict[Status, int]
    #: What `--fix` did, one line each.
    fixed: list[str]
    checks: list[FindingRow]
    pixi: PixiFact | None
    api: ApiFact


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "doctor",
        parents=[parent],
        help=SUMMARIES["doctor"],
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
    timeout = health.DEFAULT_TIMEOUT
    parser.add_argument(
        "--timeout", type=common.number("seconds", 0, 86400, exclusive=True),
        default=timeout, metavar="S",
        help=f"seconds a backend has to answer, at most a day (default: {timeout:g})",
    )  # fmt: skip
    parser.add_argument(
        "-p", "--prefix", type=Path, metavar="PREFIX", dest="env_prefix",  # see commands/__init__
        help="also check the activate-in scripts of this conda environment",
    )  # fmt: skip
    parser.add_argument(
        "--fix", action="store_true",
        help="rewrite stale launchers and activation scripts (and --prefix's scripts), then check",
    )  # fmt: skip
    common.add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends.store import stores_for

    cfg = common.settings(args)
    prefix = args.env_prefix.expanduser().absolute() if args.env_prefix else None
    if prefix is not None and not (prefix / "conda-meta").is_dir():
        from conda_pixi_backends.errors import UserInputError

        raise UserInputError(f"-p {prefix}: not a conda environment (it has no conda-meta)")
    report = health.collect(cfg, args.manifest, args.timeout, prefix=prefix)
    fixed: list[str] = []
    if args.fix:
        fixed = health.repair(stores_for(cfg)[0], report.findings, prefix)
        if fixed:
            report = health.collect(cfg, args.manifest, args.timeout, prefix=prefix)
    if args.json:
        data: DoctorResult = {
            "root": str(cfg.root),
            "ok": not report.failed,
            "summary": health.summary(report.findings),
            "fixed": fixed,
            "checks": [f.to_json() for f in report.findings],
            "pixi": report.pixi,
            "api": report.api,
        }
        common.print_json(data)
    else:
        for line in fixed:
            print(f"fixed: {line}")
        print_report(report.findings, cfg.root)
    return 1 if report.failed else 0


def print_report(findings: list[Finding], root: Path, file: TextIO | None = None) -> None:
    """One row per check (and its fix), grouped by backend request, then the counts."""
    from conda_pixi_backends.health_checks import FAIL, LABELS, OK, WARN

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
    counts = health.summary(findings)
    print(f"\n{counts[FAIL]} failed, {counts[WARN]} warning(s), {counts[OK]} ok ({root})", file=out)
