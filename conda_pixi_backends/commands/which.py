"""`which NAME`: the one executable Pixi would run for a backend."""

from __future__ import annotations

import argparse
from typing import Any

from conda_pixi_backends.commands import common


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "which",
        parents=[parent],
        help="print the executable Pixi would run for a backend",
        description="Print the one path Pixi would run for NAME: its override, else its launcher.",
    )
    parser.add_argument("name", metavar="NAME")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends import exposure, overrides, plan
    from conda_pixi_backends.errors import OperationError

    store = common.store(args)
    override = overrides.from_environ().get(args.name)
    if override is not None and not plan.own_launcher(store, override):
        resolved = override.resolve()
        if resolved is None:
            raise OperationError(
                f"{args.name}: {override.variable} sends it to PATH, and PATH has no {args.name}"
            )
        print(resolved)
        return 0
    record = exposure.live_exposure(store, store.exposed()).get(args.name)
    launcher = exposure.launcher_path(store, args.name)
    if record is None or not launcher.is_file():
        raise OperationError(
            f"{args.name}: not installed in {store.root} and not overridden; "
            f"run: conda pixi-backend install {args.name}"
        )
    print(launcher)
    return 0
