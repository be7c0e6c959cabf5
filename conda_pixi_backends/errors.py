"""The two kinds of failure the CLI reports, each with its exit code."""

from __future__ import annotations


class CPBError(Exception):
    """A failure reported to the user as one line, without a traceback."""

    exit_code = 1


class UserInputError(CPBError):
    """Bad input: a flag, spec, file, key or variable. Exit code 2."""

    exit_code = 2


class OperationError(CPBError):
    """A well-formed request that could not be carried out (solve, install, probe). Exit code 1."""

    exit_code = 1
