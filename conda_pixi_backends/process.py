"""The process's edges, for the console script: Ctrl-C, the standard streams, the exit.

A command must end with one line and a shell's exit code whatever happens around it: Ctrl-C at
any moment (130), a reader that left (`| head`: 141), standard streams that are closed or fail,
and an interpreter shutdown that can die by signal after py-rattler's threads. The conda plugin
runs in conda's process and uses only `guarded_streams` and the exit codes.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any

from conda_pixi_backends.errors import one_line, prog

#: Exit codes as a shell reports death by SIGINT and SIGPIPE: Ctrl-C, and a reader that left.
INTERRUPTED = 130
READER_LEFT = 141


_said_interrupted = False
#: The read end of the pipe that SIGINT's C-level handler writes to (`watch_sigint`).
_sigint_pipe: int | None = None


def was_interrupted(exc: BaseException) -> bool:
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


def watch_sigint() -> None:
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


def interrupted() -> int:
    """Say "interrupted" (once: a second Ctrl-C may land while the first is reported)."""
    global _said_interrupted
    if not _said_interrupted:
        _said_interrupted = True
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"{prog()}: interrupted\n")  # one write: one line
            sys.stderr.flush()
    return INTERRUPTED


def flush(stream: Any) -> OSError | None:
    """Flush `stream` (None: Python found its descriptor closed); how writing it failed."""
    try:
        if stream is not None:
            stream.flush()
    except OSError as exc:
        return exc
    return None


def output_lost(exc: OSError, code: int = 0) -> int:
    """Standard output cannot be written: the reader left (say nothing: it asked for no more;
    exit 141), or it is closed, full or broken (say so: exit 1). A command's own failure keeps
    its code."""
    if isinstance(exc, BrokenPipeError):
        if stdout_failure() is None:
            # Unguarded (a guard does this itself): the flush at exit must not fail again.
            with contextlib.suppress(AttributeError, ValueError, OSError):
                _to_devnull(sys.stdout.fileno())
        return code or READER_LEFT
    print(
        one_line(f"{prog()}: error: cannot write to standard output: {exc.strerror or exc}"),
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
    """The layer under a guarded sys.stdout or sys.stderr buffer (see `guarded_streams`).

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


def stdout_failure() -> OSError | None:
    """How guarded standard output failed, if it did (a command may have caught the error and
    gone on: its output is lost all the same)."""
    buffer = getattr(sys.stdout, "buffer", None)
    raw = getattr(buffer, "raw", buffer)
    return raw.failure if isinstance(raw, _Output) else None


def guard_streams() -> dict[str, Any]:
    """Replace sys.stdout and sys.stderr by guarded ones (`_Output`) writing to the same
    descriptors; the streams replaced, by name. A stream guarded already, or that is not the
    process's own (a test harness's), stays; one Python found closed (None) fails as closed."""
    replaced = {}
    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = getattr(sys, name)
        if stream is None:
            buffer = inner = None
            options: dict[str, Any] = {"encoding": "utf-8", "errors": "backslashreplace"}
        else:
            buffer = getattr(stream, "buffer", None)
            inner = getattr(buffer, "raw", buffer)
            try:
                if inner is None or isinstance(inner, _Output) or inner.fileno() != fd:
                    continue
            except (AttributeError, OSError, ValueError):
                continue
            flush(stream)
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
def guarded_streams() -> Iterator[None]:
    """The standard streams guarded while the block runs, then given back (flushed)."""
    replaced = guard_streams()
    try:
        yield
    finally:
        for name, stream in replaced.items():
            flush(getattr(sys, name))
            setattr(sys, name, stream)


def hold_closed_descriptors() -> None:
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


def leave(signum: int, frame: Any) -> None:
    """Ctrl-C when there is nothing to undo (before the command runs, after it returned).

    A second Ctrl-C can run this again from within (Python calls a handler between any two
    bytecodes): the flag first, so that the line is said once."""
    global _said_interrupted
    if not _said_interrupted:
        _said_interrupted = True
        with contextlib.suppress(OSError):
            os.write(2, f"{prog()}: interrupted\n".encode())
    os._exit(INTERRUPTED)


def unraisable(info: Any) -> None:
    """sys.unraisablehook of the console script: Ctrl-C that landed in a finalizer or weakref
    callback, which Python cannot raise from (it prints "Exception ignored in ...
    KeyboardInterrupt" and goes on), is delivered again, to the command. From another thread:
    raised from here, it would be lost the same way."""
    if isinstance(info.exc_value, KeyboardInterrupt):
        import _thread

        _thread.start_new_thread(_thread.interrupt_main, ())
    else:
        sys.__unraisablehook__(info)


def finish(code: int, *, leave: bool = False) -> int:
    """Leave without the interpreter shutdown (the console script only): with `leave`, and
    always where that shutdown can go wrong.

    The shutdown's teardown of modules costs every command milliseconds and does nothing a
    command needs: its output is flushed here, and it leaves no thread or file behind. And it
    can go wrong: after an async py-rattler call a few percent of interpreter shutdowns die by
    signal, though the work is done; after Ctrl-C, CPython kills itself with SIGINT at exit (no
    exit code of ours) if the KeyboardInterrupt came out of an `eval` of a string, as in
    `namedtuple` while a module loads, however it was caught since.
    """
    if leave or "rattler" in sys.modules or code == INTERRUPTED:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    return code
