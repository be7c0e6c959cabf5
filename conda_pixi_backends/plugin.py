"""The conda plugin: `conda pixi-backend ...`.

conda imports this module on every command, so it imports nothing of its own at module level
beyond conda's plugin API; the CLI loads only when the subcommand runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from conda.plugins import hookimpl
from conda.plugins.types import CondaSubcommand


def _configure_parser(parser: argparse.ArgumentParser) -> None:
    from conda_pixi_backends.cli import configure_parser

    configure_parser(parser)


def _action(args: argparse.Namespace) -> int:
    # The exit code goes back to conda, never `cli.finish`'s os._exit: conda still has its
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


def _health_check(prefix: str, verbose: bool) -> None:
    from conda_pixi_backends.commands.doctor import conda_health_check

    conda_health_check(prefix, verbose)


def _health_fix(prefix: str, args: argparse.Namespace, confirm: object) -> int:
    from conda_pixi_backends.commands.doctor import conda_health_fix

    return conda_health_fix(prefix, args, confirm)  # type: ignore[arg-type]


@hookimpl
def conda_health_checks() -> Iterator[object]:
    """`conda doctor`'s `pixi-backends` check: the report of `conda pixi-backend doctor`."""
    import dataclasses

    from conda.plugins.types import CondaHealthCheck

    extra: dict[str, object] = {}
    # Only a conda with `doctor --fix` knows fixers.
    if "fixer" in {f.name for f in dataclasses.fields(CondaHealthCheck)}:
        extra.update(
            fixer=_health_fix,
            summary="Check the Pixi build backends handed to Pixi from here",
            fix="Rewrite stale launchers and activation scripts",
        )
    yield CondaHealthCheck(name="pixi-backends", action=_health_check, **extra)
