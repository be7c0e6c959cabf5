"""`which NAME`: the one executable Pixi would run for a backend."""

from __future__ import annotations

import argparse
from typing import Any

from conda_pixi_backends.commands import SUMMARIES, common


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "which",
        parents=[parent],
        help=SUMMARIES["which"],
        description="Print the one path Pixi would run for NAME: its override, else its launcher.",
    )
    parser.add_argument("backend", metavar="NAME")  # not `name`: see commands/__init__
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(common.executable(common.store(args), args.backend))
    return 0
