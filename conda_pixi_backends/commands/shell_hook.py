"""`shell-hook`: print the activation script, for `eval "$(conda pixi-backend shell-hook)"`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
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
        "-s", "--shell", choices=common.SHELL_CHOICES, help="default: detected from $SHELL"
    )
    parser.set_defaults(func=run)


def detect_shell(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    name = Path(env.get("SHELL", "")).name.lower().removesuffix(".exe")
    if name in ("pwsh", "powershell"):
        return "powershell"
    if name in common.SHELL_CHOICES:
        return name
    return "cmd" if os.name == "nt" else "bash"


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends import exposure

    sys.stdout.write(exposure.hook_text(common.store(args), args.shell or detect_shell()))
    return 0
