"""Start a backend and ask it `negotiateCapabilities`, as Pixi does first: the cheapest proof
that a backend works.

Standard library only. The backend runs in its own process group (session) so that a timeout
kills it and everything it started; it is always reaped, so no zombie is left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from conda_pixi_backends import windows

REQUEST = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "negotiateCapabilities",
    "params": {"capabilities": {}},
}

Status = Literal["ok", "crashed", "silent", "garbage", "rpc-error", "not-started"]
OK: Final = "ok"
CRASHED: Final = "crashed"  # exited, or closed its output, before answering
SILENT: Final = "silent"  # no answer within the timeout
GARBAGE: Final = "garbage"  # answered with something that is not a JSON-RPC answer to the request
RPC_ERROR: Final = "rpc-error"  # answered with a JSON-RPC error object
NOT_STARTED: Final = "not-started"  # could not be executed at all

#: An answer longer than this is not an answer.
MAX_LINE = 1 << 20


@dataclass
class ProbeResult:
    """What starting a backend and asking it for its capabilities gave."""

    status: Status
    detail: str
    capabilities: dict[str, Any] | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == OK


def _last_line(data: bytes) -> str:
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines()]
    return next((line for line in reversed(lines) if line), "")


def classify(line: bytes) -> tuple[Status, str, dict[str, Any] | None]:
    """Status, detail and capabilities for one line a backend wrote in answer."""
    text = line.decode("utf-8", "replace").strip()
    shown = text if len(text) <= 120 else text[:117] + "..."
    try:
        message = json.loads(text)
    except ValueError:
        return GARBAGE, f"answered with something that is not JSON: {shown!r}", None
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return GARBAGE, f"answered with something that is not JSON-RPC 2.0: {shown!r}", None
    if message.get("id") != REQUEST["id"]:
        return GARBAGE, f"answered with id {message.get('id')!r}, not {REQUEST['id']}", None
    if "error" in message:
        error = message["error"] if isinstance(message["error"], dict) else {}
        code, text = error.get("code"), str(error.get("message", message["error"]))
        return RPC_ERROR, f"answered with JSON-RPC error {code}: {text}", None
    result = message.get("result")
    capabilities = result.get("capabilities") if isinstance(result, dict) else None
    if not isinstance(capabilities, dict):
        return GARBAGE, f"answered without result.capabilities: {shown!r}", None
    return OK, f"answered negotiateCapabilities: {json.dumps(capabilities)}", capabilities


def negotiate(
    argv_or_path: str | os.PathLike[str] | Sequence[str],
    timeout: float = 10.0,
    env: Mapping[str, str] | None = None,
) -> ProbeResult:
    """Start the backend with no arguments, send `negotiateCapabilities`, read one line.

    Returns within `timeout` (plus at most a second to learn the exit code of a backend that
    closed its output), never raises for what the backend does, and leaves no process behind:
    stdin stays open, as Pixi keeps it, and the process group is killed and reaped at the end.
    A path to a `.bat` is started through cmd.exe (`windows.started`).
    """
    if not isinstance(argv_or_path, (str, os.PathLike)):
        return _negotiate([os.fspath(a) for a in argv_or_path], timeout, env)
    try:
        with windows.started(os.fspath(argv_or_path)) as argv:
            return _negotiate(argv, timeout, env)
    except OSError as exc:  # a .bat where no cmd.exe runs
        return ProbeResult(NOT_STARTED, f"cannot be started: {exc.strerror or exc}")


def _negotiate(argv: list[str], timeout: float, env: Mapping[str, str] | None) -> ProbeResult:
    start = time.monotonic()
    posix = os.name == "posix"
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=None if env is None else dict(env),
            start_new_session=posix,
            creationflags=0 if posix else subprocess.CREATE_NEW_PROCESS_GROUP,  # type: ignore[attr-defined]
        )
    except OSError as exc:
        return ProbeResult(NOT_STARTED, f"cannot be started: {exc.strerror or exc}")
    request = (json.dumps(REQUEST, separators=(",", ":")) + "\n").encode()
    deadline = start + timeout
    try:
        if posix:
            line, stderr, eof = _read_posix(proc, request, deadline)
        else:
            line, stderr, eof = _read_portable(proc, request, timeout)
        if eof and not line:  # it closed its output: let it finish exiting, to learn its code
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(min(max(deadline - time.monotonic(), 0.5), 1.0))
        code = proc.poll()
    finally:
        _kill(proc)
    seconds = time.monotonic() - start
    tail = _last_line(stderr)
    if line:
        return ProbeResult(*classify(line), seconds=seconds)
    if eof:
        if code is None:
            how = "closed its output without answering"
        elif code < 0:
            try:
                how = f"was killed by {signal.Signals(-code).name} before answering"
            except ValueError:
                how = f"was killed by signal {-code} before answering"
        else:
            how = f"exited with code {code} before answering"
        return ProbeResult(CRASHED, how + (f": {tail}" if tail else ""), seconds=seconds)
    detail = f"did not answer within {timeout:g} s" + (f" (stderr: {tail})" if tail else "")
    return ProbeResult(SILENT, detail, seconds=seconds)


def _read_posix(
    proc: subprocess.Popen[bytes], request: bytes, deadline: float
) -> tuple[bytes, bytes, bool]:
    """The first stdout line (or what stdout held when it closed), stderr, and whether the
    backend closed stdout (or exited) before the deadline."""
    import selectors

    assert proc.stdin and proc.stdout and proc.stderr
    with contextlib.suppress(OSError):  # BrokenPipe: it is gone already; stdout tells the rest
        proc.stdin.write(request)
        proc.stdin.flush()
    # stdin stays open, as with Pixi: a server may stop at end of input before it answers.
    out, err = bytearray(), bytearray()
    line: bytes | None = None  # set once stdout gave a line or closed
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ, out)
        selector.register(proc.stderr, selectors.EVENT_READ, err)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            for key, _ in selector.select(remaining):
                chunk = os.read(key.fd, 65536)
                if key.data is err:
                    err.extend(chunk)
                    del err[: max(len(err) - MAX_LINE, 0)]
                    if not chunk:
                        selector.unregister(key.fileobj)
                    continue
                out.extend(chunk)
                if b"\n" in out or len(out) > MAX_LINE:
                    return bytes(out).split(b"\n", 1)[0], bytes(err), True
                if not chunk:  # stdout closed: what it held is all there is; drain stderr
                    selector.unregister(key.fileobj)
                    line = bytes(out)
                    deadline = min(deadline, time.monotonic() + 0.2)  # its last words, briefly
    return line or b"", bytes(err), line is not None


def _read_portable(
    proc: subprocess.Popen[bytes], request: bytes, timeout: float
) -> tuple[bytes, bytes, bool]:
    """Without select() on pipes (Windows): send, close stdin and wait for the backend to exit.
    Cruder than the POSIX path: a backend that answers but does not stop at end of input is
    reported silent."""
    try:
        out, err = proc.communicate(request, timeout=timeout)
    except subprocess.TimeoutExpired:
        return b"", b"", False
    return out.split(b"\n", 1)[0], err, True


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill the backend's whole process group, then reap it."""
    if os.name == "posix":
        # The group id is the backend's pid, which cannot be reused before we reap it below.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    else:
        with contextlib.suppress(OSError):
            proc.kill()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    proc.wait()
