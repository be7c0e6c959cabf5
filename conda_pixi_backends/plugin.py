"""The conda plugin: `conda pixi-backend ...`.

conda imports this module on every command, so it imports nothing of its own at module level
beyond conda's plugin API; the CLI loads only when the subcommand runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import TYPE_CHECKING

from conda.plugins import hookimpl
from conda.plugins.types import CondaSubcommand

if TYPE_CHECKING:
    from collections.abc import Callable

    from conda_pixi_backends.settings import Settings


def _configure_parser(parser: argparse.ArgumentParser) -> None:
    from conda_pixi_backends.cli import configure_parser
    from conda_pixi_backends.errors import started_as

    started_as("conda pixi-backend", "conda pixi-backend")

    configure_parser(parser)


def _action(args: argparse.Namespace) -> int:
    # The exit code goes back to conda, never `process.finish`'s os._exit: conda still has its
    # post-command hooks to run, and its own exit to make.
    from conda_pixi_backends.cli import run

    return run(args)


@hookimpl
def conda_subcommands() -> Iterator[CondaSubcommand]:
    yield CondaSubcommand(
        name="pixi-backend",
        summary="Install shared Pixi build backends and hand them to Pixi.",
        action=_action,
        configure_parser=_configure_parser,
    )


@hookimpl
def conda_settings() -> Iterator[object]:
    """Our keys under `plugins:` in .condarc (pixi_backends_root, ...); see condarc.py."""
    from conda_pixi_backends.condarc import condarc_settings

    yield from condarc_settings()


# --- conda doctor: the findings of `health.collect`, as conda shows a health check ------------


def _settings() -> Settings:
    """The settings `conda pixi-backend` would use here, with no flags and no manifest."""
    from conda_pixi_backends.configuration import load

    return load().settings


def _conda_marks() -> tuple[str, str]:
    try:
        from conda.base.constants import OK_MARK, X_MARK
    except ImportError:
        return "ok", "X"
    return OK_MARK, X_MARK


def _health_check(prefix: str, verbose: bool) -> None:
    """`conda doctor`'s `pixi-backends` check: a summary line, then what is not ok (everything
    with --verbose), each with its fix."""
    from pathlib import Path

    from conda_pixi_backends import health
    from conda_pixi_backends.errors import CPBError
    from conda_pixi_backends.health_checks import FAIL, LABELS, OK, WARN

    ok_mark, x_mark = _conda_marks()
    try:
        cfg = _settings()
        findings = health.collect(cfg, [], prefix=Path(prefix)).findings
    except CPBError as exc:
        print(f"{x_mark} Pixi build backends: {exc}")
        return
    counts = health.summary(findings)
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


def _health_fix(prefix: str, args: argparse.Namespace, confirm: Callable[[str], object]) -> int:
    """`conda doctor --fix pixi-backends`: what `doctor --fix` does, after confirmation."""
    from pathlib import Path

    from conda_pixi_backends import health
    from conda_pixi_backends.errors import CPBError
    from conda_pixi_backends.store import stores_for

    try:
        cfg = _settings()
        findings = health.collect(cfg, [], prefix=Path(prefix)).findings
        fixable = health.fixable(findings)
        if not fixable:
            print("Pixi build backends: nothing that --fix can repair.")
            return 0
        for f in fixable:
            print(f"{f.backend + ': ' if f.backend else ''}{f.check}: {f.detail}")
        confirm("Rewrite the store's launchers and activation scripts (and this environment's)?")
        for line in health.repair(stores_for(cfg)[0], findings, Path(prefix)):
            print(line)
    except CPBError as exc:
        print(f"Pixi build backends: {exc}")
        return exc.exit_code
    return 0


@hookimpl
def conda_health_checks() -> Iterator[object]:
    """`conda doctor`'s `pixi-backends` check: the report of `conda pixi-backend doctor`."""
    import dataclasses

    from conda.plugins.types import CondaHealthCheck

    # Only a conda with `doctor --fix` knows fixers.
    if "fixer" not in {f.name for f in dataclasses.fields(CondaHealthCheck)}:
        yield CondaHealthCheck(name="pixi-backends", action=_health_check)
        return
    yield CondaHealthCheck(
        name="pixi-backends",
        action=_health_check,
        fixer=_health_fix,
        summary="Check the Pixi build backends handed to Pixi from here",
        fix="Rewrite stale launchers and activation scripts",
    )
