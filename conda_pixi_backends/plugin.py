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
    from conda_pixi_backends.cli import finish, run

    return finish(run(args))


@hookimpl
def conda_subcommands() -> Iterator[CondaSubcommand]:
    yield CondaSubcommand(
        name="pixi-backend",
        summary="Install shared Pixi build backends and hand them to Pixi.",
        action=_action,
        configure_parser=_configure_parser,
    )
