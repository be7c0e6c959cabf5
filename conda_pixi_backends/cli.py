"""The command line: one parser and one code path for `conda pixi-backend`,
`conda-pixi-backend` and `python -m conda_pixi_backends`.

Imports stay light at module level: conda imports the plugin (and so, on use, this module) on
its own commands, and a no-op `install` must never pay for py-rattler.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import re
import signal
import sys
from collections.abc import Sequence
from typing import Any

from conda_pixi_backends import __version__, process
from conda_pixi_backends.commands import COMMANDS, SUMMARIES, cli_name, common
from conda_pixi_backends.errors import CPBError, one_line, prog, started_as, worked_in

MISSING_COMMAND = "the following arguments are required: COMMAND"


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line and exit 2 (no usage dump), like other bad input,
    naming the command it is about without repeating the program's name, and a mistyped
    command gets the nearest one suggested."""

    def error(self, message: str) -> Any:
        command = self.prog.split(" ", 1)[1] if " " in self.prog else ""
        if self.prog.startswith("conda "):  # conda's `conda pixi-backend`: our name is two words
            command = command.partition(" ")[2]
        if command and message == "the following arguments are required: ACTION":
            self.print_help(sys.stderr)  # a command group without its action: its help first
        choice = re.fullmatch(r"argument (\w+): invalid choice: '(.*)' \(choose from .*\)", message)
        if choice:
            names = [n for a in self._actions if a.choices for n in a.choices]
            import difflib

            near = difflib.get_close_matches(choice.group(2), names, n=1)
            message = f"unknown command '{choice.group(2)}'" + (
                f"; did you mean '{near[0]}'?" if near else f" (known: {', '.join(names)})"
            )
        where = f"{command}: " if command else ""
        if "--json" in sys.argv[1:]:  # one JSON object on stdout too, as for any failure
            from conda_pixi_backends.errors import UserInputError

            # argparse's own forms: `argument --flag: ...`, `unrecognized arguments: ARGS`,
            # `the following arguments are required: NAMES`.
            said = message.removeprefix("argument ")
            listed = re.fullmatch(r"(?:unrecognized|the following) arguments.*?: (.*)", said)
            _print_json_error(UserInputError(said), listed.group(1) if listed else None)
        self.exit(2, one_line(f"{prog()}: error: {where}{message}") + "\n")

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        # A subcommand reports its own unknown arguments: argparse would hand them up to the
        # top-level parser, which under `conda pixi-backend` is conda's (usage dump, no one line).
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


def configure_parser(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> None:
    """Add the subcommands; shared by the console script and the conda plugin. With `argv`
    (the arguments to be parsed), only the command they name is built in full and imported:
    the others are listed by name and summary, which is all `--help` and a mistyped name need,
    and which spares every run the import of thirteen command modules."""
    if not isinstance(parser, _Parser):  # conda's parser: our errors, our way
        parser.error = functools.partial(_Parser.error, parser)  # type: ignore[method-assign,arg-type]
    parser.add_argument(
        "-V", "--version", action="version", version=f"conda-pixi-backends {__version__}"
    )
    # The global flags are accepted before the command's name too.
    common.add_common(parser)
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="(for commands that print JSON) print one JSON object",
    )
    # Not `required`: argparse would report a missing COMMAND before an unknown flag given
    # in its place (`conda-pixi-backend --no-such-flag`); `run` reports a missing one.
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    parser.set_defaults(help_parser=parser)
    parent = _Parser(add_help=False)
    common.add_common(parent)
    wanted = _command_in(argv) if argv is not None else None
    for name in COMMANDS:
        if wanted is None or name == wanted:
            module = importlib.import_module(f"conda_pixi_backends.commands.{name}")
            module.add_parser(subparsers, parent)
        else:
            subparsers.add_parser(cli_name(name), help=SUMMARIES[name], add_help=False)


def _command_in(argv: Sequence[str]) -> str | None:
    """The module of the command `argv` names (its first word that is not a flag, after the
    value of a global `--root`); None when it names none that exists: then all are built."""
    words = iter(argv)
    for word in words:
        if word == "--root":
            next(words, None)
        elif not word.startswith("-"):
            return next((n for n in COMMANDS if cli_name(n) == word), None)
    return None


def run(args: argparse.Namespace) -> int:
    """Run a parsed command; errors become one line on stderr and an exit code.

    Shared by the console script and the conda plugin: it leaves the process, its signals and
    its exit to its caller, and guards the standard streams only while the command runs.
    """
    if getattr(args, "func", None) is None:  # no command: the help, then what is missing
        helper = getattr(args, "help_parser", None)
        if helper is not None:
            helper.print_help(sys.stderr)
        print(
            f"{prog()}: error: {MISSING_COMMAND} (one of: {', '.join(_names())})", file=sys.stderr
        )
        return 2
    problem = common.fill_globals(args)
    if problem is not None:
        print(one_line(f"{prog()}: error: {problem}"), file=sys.stderr)
        return 2
    worked_in(args.root)
    with process.guarded_streams():
        return _run(args)


def _names() -> list[str]:
    return [cli_name(name) for name in COMMANDS]


def _run(args: argparse.Namespace) -> int:
    try:
        code = int(args.func(args) or 0)
        # The last of the output: a reader that left shows here, not at interpreter exit.
        lost = process.flush(sys.stdout) or process.stdout_failure()
    except KeyboardInterrupt:
        return process.interrupted()
    except Exception as exc:
        if process.was_interrupted(exc):
            return process.interrupted()
        if isinstance(exc, BrokenPipeError) or exc is process.stdout_failure():
            return process.output_lost(exc)
        if isinstance(exc, CPBError):
            if getattr(args, "tracebacks", False):
                import traceback

                traceback.print_exc()
            print(one_line(f"{prog()}: error: {exc}"), file=sys.stderr)
            if getattr(args, "json", False):
                _print_json_error(exc)
            return exc.exit_code
        # A bug of ours: still one line, the traceback on request.
        if getattr(args, "tracebacks", False):
            raise
        print(
            one_line(f"{prog()}: internal error: {type(exc).__name__}: {exc}")
            + " (--verbose shows where)",
            file=sys.stderr,
        )
        return 1
    return process.output_lost(lost, code) if lost is not None else code


def _print_json_error(exc: CPBError, named: str | None = None) -> None:
    """With --json, a failure is one JSON object on stdout too, as conda prints its errors:
    the kind of error, its message, for bad input the input it names (`named`, else what comes
    before the message's first ': ': a file, key, flag, variable or spec), and the exit code."""
    from conda_pixi_backends.errors import UserInputError

    message = str(exc)
    first, sep, _ = message.partition(": ")
    error = {
        "type": type(exc).__name__,
        "message": message,
        "input": (named or first) if sep and isinstance(exc, UserInputError) else None,
        "exit_code": exc.exit_code,
    }
    common.print_json({"error": error})


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The top-level parser of `conda-pixi-backend` (for `argv`: see `configure_parser`); the
    docs' CLI reference is generated from the whole of it."""
    parser = _Parser(
        prog=prog(), description="Shared, pinned Pixi build backends for conda users and admins."
    )
    configure_parser(parser, argv)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The console script and `python -m conda_pixi_backends`: `run`, in a process of our own.

    Unlike the conda plugin (conda's process: its streams, its signals, its exit), this takes
    over Ctrl-C and the standard streams, and leaves by `finish`. Ctrl-C before the command
    runs, or after it returned, leaves at once (exit 130); while it runs, it is the command's
    KeyboardInterrupt (and asyncio's), for its cleanup, and `run` makes it exit 130.
    """
    if sys.argv and sys.argv[0].endswith("__main__.py"):
        started_as("conda-pixi-backend", "python -m conda_pixi_backends")
    # Only where SIGINT reaches Python code: started with it ignored (nohup, `cmd &`), it stays
    # so; and only from the main thread, where Python runs signal handlers.
    ours = callable(signal.getsignal(signal.SIGINT))
    if ours:
        try:
            signal.signal(signal.SIGINT, process.leave)
        except ValueError:
            ours = False
    if ours:
        sys.unraisablehook = process.unraisable
        process.watch_sigint()
    process.hold_closed_descriptors()
    process.guard_streams()  # for good: the interpreter's exit flushes them too
    try:
        words = sys.argv[1:] if argv is None else list(argv)
        args = build_parser(words).parse_args(words)
    except SystemExit as exc:  # --help, --version, a bad flag: argparse has written it
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        lost = process.flush(sys.stdout) or process.stdout_failure()
        if lost is not None:
            code = process.output_lost(lost, code)
    else:
        try:
            if ours:
                signal.signal(signal.SIGINT, signal.default_int_handler)
            code = run(args)
            if ours:
                signal.signal(signal.SIGINT, process.leave)
        except KeyboardInterrupt:  # while `run` reported an error (or a second Ctrl-C)
            if ours:
                signal.signal(signal.SIGINT, process.leave)
            code = process.interrupted()
    if ours:
        # The interpreter's exit restores SIGINT's default before its long teardown of modules,
        # where Ctrl-C would kill the process without its code: ignore it from the exit
        # handlers on (registered last: run first), after the threads are joined.
        import atexit

        atexit.register(signal.signal, signal.SIGINT, signal.SIG_IGN)
    # Called by the console script (no argv): leave at once. Called with argv (a program of
    # its own, a test), return the code to it.
    return process.finish(code, leave=argv is None)
