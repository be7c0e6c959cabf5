"""`activate-in`: hand the store's backends to Pixi whenever a conda environment is activated.

What it writes and removes, and how it finds the environment, is `conda_envs`.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conda_pixi_backends import conda_envs
from conda_pixi_backends.commands import SUMMARIES, common
from conda_pixi_backends.errors import command

if TYPE_CHECKING:
    import argparse


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "activate-in",
        parents=[parent],
        help=SUMMARIES["activate_in"],
        description=(
            "Write activate.d/deactivate.d scripts into a conda environment, so that `conda "
            "activate` hands the store's backends to Pixi and `conda deactivate` restores PATH and "
            "PIXI_BUILD_BACKEND_OVERRIDE exactly. Default environment: $CONDA_PREFIX."
        ),
    )
    parser.add_argument(  # dests other than conda's own (see commands/__init__)
        "env_prefix", nargs="?", type=Path, metavar="PREFIX", help="the environment's folder"
    )
    parser.add_argument(
        "-n", "--name", metavar="NAME", dest="env_name", help="the environment's name"
    )
    parser.add_argument("--remove", action="store_true", help="take the scripts out again")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    prefix = conda_envs.target_prefix(args.env_prefix, args.env_name)
    store = common.store(args)
    active = os.environ.get("CONDA_PREFIX") == str(prefix)
    if args.remove:
        removed = conda_envs.remove(store, prefix)
        for path in removed:
            print(f"removed {path}")
        if not removed:
            print(f"{prefix}: no conda-pixi-backends scripts to remove")
        elif active:
            print("The environment is active: its variables change at the next `conda deactivate`.")
        return 0
    written = conda_envs.write(store, prefix)
    for path in written:
        print(f"wrote {path}")
    if not written:
        print(f"{prefix}: its scripts are up to date")
    print(
        f"\n`conda activate {shlex.quote(str(prefix))}` now hands the backends in {store.root} to "
        "Pixi;\n`conda deactivate` restores PATH and PIXI_BUILD_BACKEND_OVERRIDE."
    )
    if not conda_envs.has_backends(store):
        print(
            f"{store.root} has no backends yet: run `{command()} install`; "
            "the environment picks them up without another activate-in."
        )
    if active and written:
        print("The environment is active: activate it again to apply them in this shell.")
    return 0
