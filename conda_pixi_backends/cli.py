"""The command line: one parser and one code path for `conda pixi-backend`,
`conda-pixi-backend` and `python -m conda_pixi_backends`.

Imports stay light at module level: conda imports the plugin (and so, on use, this module) on
its own commands, and a no-op `install` must never pay for py-rattler.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from conda_pixi_backends import __version__
from conda_pixi_backends.commands import COMMANDS, common
from conda_pixi_backends.errors import CPBError

PROG = "conda-pixi-backend"
#: Characters that would break an error's one line (or move the cursor): shown escaped.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MISSING_COMMAND = "the following arguments are required: COMMAND"


def one_line(message: str) -> str:
    """`message` with control characters escaped as Python does (`\\n`), so that it stays
    one line however a value in it was written."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], message)


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line and exit 2 (no usage dump), like other bad input."""

    def error(self, message: str) -> Any:
        self.exit(2, one_line(f"{PROG}: error: {self.prog}: {message}") + "\n")


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add every subcommand; shared by the console script and the conda plugin."""
    parser.add_argument(
        "-V", "--version", action="version", version=f"conda-pixi-backends {__version__}"
    )
    # Not `required`: argparse would report a missing COMMAND before an unknown flag given
    # in its place (`conda-pixi-backend --no-such-flag`); `run` reports a missing one.
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    parent = _Parser(add_help=False)
    common.add_common(parent)
    for name in COMMANDS:
        importlib.import_module(f"conda_pixi_backends.commands.{name}").add_parser(
            subparsers, parent
        )


def run(args: argparse.Namespace) -> int:
    """Run a parsed command; errors become one line on stderr and an exit code."""
    if getattr(args, "func", None) is None:
        print(f"{PROG}: error: {MISSING_COMMAND}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except CPBError as exc:
        if getattr(args, "verbose", False):
            import traceback

            traceback.print_exc()
        print(one_line(f"{PROG}: error: {exc}"), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `... | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # a bug of ours: still one line, the traceback on request
        if getattr(args, "verbose", False):
            raise
        print(
            one_line(f"{PROG}: internal error: {type(exc).__name__}: {exc}")
            + " (--verbose shows where)",
            file=sys.stderr,
        )
        return 1


def finish(code: int) -> int:
    """Leave without the interpreter shutdown that py-rattler's runtime can crash in.

    After an async py-rattler call a few percent of interpreter shutdowns die by signal, though
    the work is done. Once py-rattler is loaded, flush and leave at once instead.
    """
    if "rattler" in sys.modules:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    return code


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser of `conda-pixi-backend`; the docs' CLI reference is generated from it."""
    parser = _Parser(
        prog=PROG, description="Shared, pinned Pixi build backends for conda users and admins."
    )
    configure_parser(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return finish(run(build_parser().parse_args(argv)))
