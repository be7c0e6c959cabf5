"""The command line: one parser and one code path for `conda pixi-backend`,
`conda-pixi-backend` and `python -m conda_pixi_backends`.

Imports stay light at module level: conda imports the plugin (and so, on use, this module) on
its own commands, and a no-op `install` must never pay for py-rattler.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import io
import os
import re
import signal
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from conda_pixi_backends import __version__
from conda_pixi_backends.commands import COMMANDS, common
from conda_pixi_backends.errors import CPBError

PROG = "conda-pixi-backend"
#: Characters that would break an error's one line (or move the cursor): shown escaped.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MISSING_COMMAND = "the following arguments are required: COMMAND"
#: Exit codes as a shell reports death by SIGINT and SIGPIPE: Ctrl-C, and a reader that left.
INTERRUPTED = 130
READER_LEFT = 141


def one_line(message: str) -> str:
    """`message` with control characters escaped as Python does (`\\n`), so that it stays
    one line however a value in it was written."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], message)


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line and exit 2 (no usage dump), like other bad input."""

    def error(self, message: str) -> Any:
        self.exit(2, one_line(f"{PROG}: error: {self.prog}: {message}") + "\n")

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        # A subcommand reports its own unknown arguments: argparse would hand them up to the
        # top-level parser, which under `conda pixi-backend` is conda's (usage dump, no one line).
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


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
    """Run a parsed command; errors become one line on stderr and an exit code.

    Shared by the console script and the conda plugin: it leaves the process, its signals and
    its exit to its caller, and guards the standard streams only while the command runs.
    """
    if getattr(args, "func", None) is None:
        print(f"{PROG}: error: {MISSING_COMMAND}", file=sys.stderr)
        return 2
    with _guarded_streams():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        code = int(args.func(args) or 0)
        # The last of the output: a reader that left shows here, not at interpreter exit.
        lost = _flush(sys.stdout) or _stdout_failure()
    except KeyboardInterrupt:
        return _interrupted()
    except Exception as exc:
        if _was_interrupted(exc):
            return _interrupted()
        if isinstance(exc, BrokenPipeError) or exc is _stdout_failure():
            return _output_lost(exc)
        if isinstance(exc, CPBError):
            if getattr(args, "verbose", False):
                import traceback

                traceback.print_exc()
            print(one_line(f"{PROG}: error: {exc}"), file=sys.stderr)
            return exc.exit_code
        # A bug of ours: still one line, the traceback on request.
        if getattr(args, "verbose", False):
            raise
        print(
            one_line(f"{PROG}: internal error: {type(exc).__name__}: {exc}")
            + " (--verbose shows where)",
            file=sys.stderr,
        )
        return 1
    return _output_lost(lost, code) if lost is not None else code


_said_interrupted = False
#: The read end of the pipe that SIGINT's C-level handler writes to (`_watch_sigint`).
_sigint_pipe: int | None = None


def _was_interrupted(exc: BaseException) -> bool:
    """Whether `exc` is Ctrl-C in disguise. CPython turns a KeyboardInterrupt raised at some
    moments into another error: chained (`RuntimeError: Error calling __set_name__`, while a
    class is made) or not at all (`TypeError: expected a message argument`, while an
    ImportError is made). So: a KeyboardInterrupt in its chain, or SIGINT seen by the console
    script since the command started."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        if isinstance(link, KeyboardInterrupt):
            return True
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    if _sigint_pipe is not None:
        with contextlib.suppress(OSError):
            return bytes([signal.SIGINT]) in os.read(_sigint_pipe, 4096)
    return False


def _watch_sigint() -> None:
    """Let the C-level signal handler note each signal in a pipe (signal.set_wakeup_fd): Python's
    own SIGINT handler stays while the command runs, for asyncio's handling of Ctrl-C, which
    installs its own only in place of that one. Nothing else of ours sets a wakeup descriptor."""
    global _sigint_pipe
    if os.name != "posix" or _sigint_pipe is not None:
        return
    read, write = os.pipe()
    for fd in (read, write):
        os.set_blocking(fd, False)
    try:
        signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    except ValueError:  # not the main thread
        os.close(read)
        os.close(write)
        return
    _sigint_pipe = read


def _interrupted() -> int:
    """Say "interrupted" (once: a second Ctrl-C may land while the first is reported)."""
    global _said_interrupted
    if not _said_interrupted:
        _said_interrupted = True
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"{PROG}: interrupted\n")  # one write: one line
            sys.stderr.flush()
    return INTERRUPTED


def _flush(stream: Any) -> OSError | None:
    """Flush `stream` (None: Python found its descriptor closed); how writing it failed."""
    try:
        if stream is not None:
            stream.flush()
    except OSError as exc:
        return exc
    return None


def _output_lost(exc: OSError, code: int = 0) -> int:
    """Standard output cannot be written: the reader left (say nothing: it asked for no more;
    exit 141), or it is closed, full or broken (say so: exit 1). A command's own failure keeps
    its code."""
    if isinstance(exc, BrokenPipeError):
        if _stdout_failure() is None:
            # Unguarded (a guard does this itself): the flush at exit must not fail again.
            with contextlib.suppress(AttributeError, ValueError, OSError):
                _to_devnull(sys.stdout.fileno())
        return code or READER_LEFT
    print(
        one_line(f"{PROG}: error: cannot write to standard output: {exc.strerror or exc}"),
        file=sys.stderr,
    )
    return code or 1


def _to_devnull(fd: int) -> None:
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


class _Output(io.RawIOBase):
    """The layer under a guarded sys.stdout or sys.stderr buffer (see `_guarded_streams`).

    A failed write of the standard streams otherwise surfaces at interpreter exit, as "Exception
    ignored ... BrokenPipeError", or as an internal error from whatever line printed. Here the
    first failure is kept in `failure` and the descriptor is pointed at os.devnull (for the
    flush at exit, and for what child processes and native code write there); everything after
    it is dropped. Standard output raises the failure once, so that the command stops and `run`
    says why; standard error only drops it: a warning that cannot be shown changes no result.
    """

    def __init__(self, fd: int, inner: Any, *, raises: bool) -> None:
        super().__init__()
        self.fd = fd
        self.inner = inner  # the stream's own raw layer; None: it was closed
        self.raises = raises
        self.failure: OSError | None = None

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        if self.inner is None:
            raise io.UnsupportedOperation("the stream was closed")
        return self.fd

    def isatty(self) -> bool:
        return self.inner is not None and self.inner.isatty()

    def write(self, data: Any) -> int | None:
        if self.failure is None:
            try:
                if self.inner is None:
                    raise OSError(errno.EBADF, os.strerror(errno.EBADF))
                return self.inner.write(data)
            except OSError as exc:
                self.failure = exc
                if self.inner is not None:
                    with contextlib.suppress(OSError):
                        _to_devnull(self.fd)
                if self.raises:
                    raise
        return memoryview(data).nbytes


def _stdout_failure() -> OSError | None:
    """How guarded standard output failed, if it did (a command may have caught the error and
    gone on: its output is lost all the same)."""
    buffer = getattr(sys.stdout, "buffer", None)
    raw = getattr(buffer, "raw", buffer)
    return raw.failure if isinstance(raw, _Output) else None


def _guard_streams() -> dict[str, Any]:
    """Replace sys.stdout and sys.stderr by guarded ones (`_Output`) writing to the same
    descriptors; the streams replaced, by name. A stream guarded already, or that is not the
    process's own (a test harness's), stays; one Python found closed (None) fails as closed."""
    replaced = {}
    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = getattr(sys, name)
        if stream is None:
            buffer = inner = None
            options = {"encoding": "utf-8", "errors": "backslashreplace"}
        else:
            buffer = getattr(stream, "buffer", None)
            inner = getattr(buffer, "raw", buffer)
            try:
                if isinstance(inner, _Output) or inner.fileno() != fd:
                    continue
            except (AttributeError, OSError, ValueError):
                continue
            _flush(stream)
            options = {
                "encoding": getattr(stream, "encoding", None) or "utf-8",
                "errors": getattr(stream, "errors", None) or "strict",
                "line_buffering": bool(getattr(stream, "line_buffering", False)),
                "write_through": bool(getattr(stream, "write_through", False)),
            }
        raw = _Output(fd, inner, raises=name == "stdout")
        # Unbuffered (`python -u`, PYTHONUNBUFFERED) stays unbuffered.
        layer = raw if inner is not None and buffer is inner else io.BufferedWriter(raw)
        replaced[name] = stream
        setattr(sys, name, io.TextIOWrapper(layer, **options))
    return replaced


@contextlib.contextmanager
def _guarded_streams() -> Iterator[None]:
    """The standard streams guarded while the block runs, then given back (flushed)."""
    replaced = _guard_streams()
    try:
        yield
    finally:
        for name, stream in replaced.items():
            _flush(getattr(sys, name))
            setattr(sys, name, stream)


def _hold_closed_descriptors() -> None:
    """In a process of our own: a descriptor 0-2 closed at start (`>&-`) is held open on
    os.devnull, so that no file we open takes its number and receives what is written to the
    stream (by us, a native library or a child process). It stays closed for children (not
    inheritable), as it was given; writing to sys.stdout fails as closed all the same."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            with contextlib.suppress(OSError):
                null = os.open(os.devnull, os.O_RDWR)  # the lowest free number: `fd`
                if null != fd:
                    os.dup2(null, fd, inheritable=False)
                    os.close(null)


def _leave(signum: int, frame: Any) -> None:
    """Ctrl-C when there is nothing to undo (before the command runs, after it returned).

    A second Ctrl-C can run this again from within (Python calls a handler between any two
    bytecodes): the flag first, so that the line is said once."""
    global _said_interrupted
    if not _said_interrupted:
        _said_interrupted = True
        with contextlib.suppress(OSError):
            os.write(2, f"{PROG}: interrupted\n".encode())
    os._exit(INTERRUPTED)


def _unraisable(info: Any) -> None:
    """sys.unraisablehook of the console script: Ctrl-C that landed in a finalizer or weakref
    callback, which Python cannot raise from (it prints "Exception ignored in ...
    KeyboardInterrupt" and goes on), is delivered again, to the command. From another thread:
    raised from here, it would be lost the same way."""
    if isinstance(info.exc_value, KeyboardInterrupt):
        import _thread

        _thread.start_new_thread(_thread.interrupt_main, ())
    else:
        sys.__unraisablehook__(info)


def finish(code: int) -> int:
    """Leave without the interpreter shutdown where that can go wrong (the console script only).

    After an async py-rattler call a few percent of interpreter shutdowns die by signal, though
    the work is done. After Ctrl-C, CPython kills itself with SIGINT at exit (no exit code of
    ours) if the KeyboardInterrupt came out of an `eval` of a string, as in `namedtuple` while
    a module loads, however it was caught since. In both cases, flush and leave at once.
    """
    if "rattler" in sys.modules or code == INTERRUPTED:
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
    """The console script and `python -m conda_pixi_backends`: `run`, in a process of our own.

    Unlike the conda plugin (conda's process: its streams, its signals, its exit), this takes
    over Ctrl-C and the standard streams, and leaves by `finish`. Ctrl-C before the command
    runs, or after it returned, leaves at once (exit 130); while it runs, it is the command's
    KeyboardInterrupt (and asyncio's), for its cleanup, and `run` makes it exit 130.
    """
    # Only where SIGINT reaches Python code: started with it ignored (nohup, `cmd &`), it stays
    # so; and only from the main thread, where Python runs signal handlers.
    ours = callable(signal.getsignal(signal.SIGINT))
    if ours:
        try:
            signal.signal(signal.SIGINT, _leave)
        except ValueError:
            ours = False
    if ours:
        sys.unraisablehook = _unraisable
        _watch_sigint()
    _hold_closed_descriptors()
    _guard_streams()  # for good: the interpreter's exit flushes them too
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, a bad flag: argparse has written it
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        lost = _flush(sys.stdout) or _stdout_failure()
        if lost is not None:
            code = _output_lost(lost, code)
    else:
        try:
            if ours:
                signal.signal(signal.SIGINT, signal.default_int_handler)
            code = run(args)
            if ours:
                signal.signal(signal.SIGINT, _leave)
        except KeyboardInterrupt:  # while `run` reported an error (or a second Ctrl-C)
            if ours:
                signal.signal(signal.SIGINT, _leave)
            code = _interrupted()
    if ours:
        # The interpreter's exit restores SIGINT's default before its long teardown of modules,
        # where Ctrl-C would kill the process without its code: ignore it from the exit
        # handlers on (registered last: run first), after the threads are joined.
        import atexit

        atexit.register(signal.signal, signal.SIGINT, signal.SIG_IGN)
    return finish(code)
