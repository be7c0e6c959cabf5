"""`shell-hook`: print the activation script, for `eval "$(conda pixi-backend shell-hook)"`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from conda_pixi_backends.commands import SUMMARIES, common


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "shell-hook",
        parents=[parent],
        help=SUMMARIES["shell_hook"],
        description='Print the activation script, for `eval "$(conda pixi-backend shell-hook)"`: '
        "the same text as the static file in the store's activate/ folder.",
    )
    parser.add_argument(
        "-s", "--shell", choices=common.SHELL_CHOICES,
        help="default: the shell this runs in (else $SHELL)",
    )  # fmt: skip
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends import exposure, shells

    shell = "posix" if args.shell == "sh" else args.shell or shells.detect()
    sys.stdout.write(exposure.hook_text(common.store(args), shell))
    return 0
