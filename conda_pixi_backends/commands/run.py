"""`run NAME [-- ARGS ...]`: run a backend as Pixi would: its override, else its launcher.

The process is replaced (`os.execv`), so stdin, stdout, stderr and the exit code are the
backend's own, and nothing of ours stays in between.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from conda_pixi_backends.commands import SUMMARIES, common


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "run",
        parents=[parent],
        help=SUMMARIES["run"],
        description=(
            "Run the executable Pixi would run for NAME (its PIXI_BUILD_BACKEND_OVERRIDE entry, "
            "else its launcher) with ARGS; standard streams and the exit code are the backend's."
        ),
    )
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("args", nargs=argparse.REMAINDER, metavar="-- ARGS", help="for the backend")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends.errors import OperationError

    path = common.executable(common.store(args), args.name)
    argv = list(args.args)
    if argv[:1] == ["--"]:
        argv = argv[1:]
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    try:
        if os.name == "nt":  # no exec on Windows: wait for the child and pass its code on
            import subprocess

            return subprocess.call([path, *argv])
        os.execv(path, [path, *argv])
    except OSError as exc:
        raise OperationError(f"{args.name}: cannot run {path}: {exc.strerror or exc}") from None
    return 0  # pragma: no cover - execv does not return
