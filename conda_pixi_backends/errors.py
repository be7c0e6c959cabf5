"""The two kinds of failure the CLI reports, each with its exit code, and how a message is shown."""

from __future__ import annotations

import re

#: How we were started, set once by the entry point that runs: the program's name, first on
#: every error line, and the command a user types to run us again, in every hint and fix,
#: with the `--root` given (`worked_in`).
_STARTED = {"prog": "conda-pixi-backend", "command": "conda-pixi-backend", "where": ""}


def started_as(prog: str, command: str) -> None:
    _STARTED.update(prog=prog, command=command)


def prog() -> str:
    """`conda-pixi-backend`, or `conda pixi-backend` under conda: the start of an error line."""
    return _STARTED["prog"]


def worked_in(root: str | None) -> None:
    """The `--root` a command was given: every hint carries it, to act on that store."""
    import shlex

    _STARTED["where"] = f" --root {shlex.quote(root)}" if root else ""


def command() -> str:
    """What to type to run us, as the user did: `conda pixi-backend`, `conda-pixi-backend`,
    or `python -m conda_pixi_backends`, with its `--root` if given. Hints say
    `f"{command()} install NAME"`."""
    return _STARTED["command"] + _STARTED["where"]


#: Characters that would break an error's one line (or move the cursor): shown escaped.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(message: str) -> str:
    """`message` with control characters escaped as Python does (`\\n`), so that it stays
    one line however a value in it was written."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], message)


class CPBError(Exception):
    """A failure reported to the user as one line, without a traceback."""

    exit_code = 1


class UserInputError(CPBError):
    """Bad input: a flag, spec, file, key or variable. Exit code 2."""

    exit_code = 2


class OperationError(CPBError):
    """A well-formed request that could not be carried out (solve, install, probe). Exit code 1."""

    exit_code = 1
