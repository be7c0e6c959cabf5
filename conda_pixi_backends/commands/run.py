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
    parser.add_argument("backend", metavar="NAME")  # not `name`: see commands/__init__
    parser.add_argument(
        "args", nargs=argparse.REMAINDER, metavar="-- ARGS",
        help="for the backend; --root and -v may come before the --",
    )  # fmt: skip
    parser.set_defaults(func=run)


def _our_flags(args: argparse.Namespace, given: list[str]) -> None:
    """The global flags written between NAME and `--`, as users write them; anything else
    there is bad input (the backend's arguments go after `--`)."""
    from conda_pixi_backends.errors import UserInputError

    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    common.add_common(parser)
    try:
        parsed, rest = parser.parse_known_args(given)
    except argparse.ArgumentError as exc:
        raise UserInputError(f"run: {exc}") from None
    if rest:
        raise UserInputError(
            f"run: {' '.join(rest)}: not a flag of run; the backend's arguments go after '--'"
        )
    for name, value in vars(parsed).items():
        setattr(args, name, value)


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends.errors import OperationError

    argv = list(args.args)
    if "--" in argv:  # `run NAME [--root DIR] [-v] -- ARGS`: ours before `--`, the backend's after
        ours, argv = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
        _our_flags(args, ours)
    from conda_pixi_backends import windows

    path = common.executable(common.store(args), args.backend)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    try:
        with windows.started(path) as start:  # a Windows launcher off Windows: Wine's cmd.exe
            if os.name == "nt" or start[0] != path:  # wait, and pass the exit code on
                import subprocess

                return subprocess.call([*start, *argv])
            os.execv(path, [path, *argv])
    except OSError as exc:
        raise OperationError(f"{args.backend}: cannot run {path}: {exc.strerror or exc}") from None
    return 0  # pragma: no cover - execv does not return
