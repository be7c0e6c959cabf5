"""Pixi's backend override variables, read with Pixi's own rules.

`PIXI_BUILD_BACKEND_OVERRIDE="name=/abs/path,other"` maps backends to executables (a bare name
means "from PATH"); `PIXI_BUILD_BACKEND_OVERRIDE_ALL`, set to anything, sends every backend to
PATH and wins. Pixi silently ignores a malformed value; here it is an error, because a typo
would otherwise make Pixi install backends the user meant to replace.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple, TypedDict

#: The two variables: the code names them only through these (the shell templates spell them out).
OVERRIDE = "PIXI_BUILD_BACKEND_OVERRIDE"
OVERRIDE_ALL = "PIXI_BUILD_BACKEND_OVERRIDE_ALL"


class OverrideRow(TypedDict):
    """An override in `install --json`, `sync --json` and `list --json`."""

    variable: str
    #: The path the variable gives; None: looked up on PATH.
    value: str | None


class Override(NamedTuple):
    """One backend replaced by the environment: by a path, or by whatever PATH finds."""

    name: str
    path: str | None  # None: looked up on PATH, as Pixi does
    variable: str

    def on_path(self) -> str | None:
        """The word Pixi looks up on PATH for this backend: the value when it holds no path
        separator (`name=python3`), the name for a bare `name`; None for a path."""
        if self.path is None:
            return self.name
        separators = (os.sep, os.altsep) if os.altsep else (os.sep,)
        return None if any(s in self.path for s in separators) else self.path

    def resolve(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The executable Pixi would run, or None when PATH has none.

        Pixi runs the value with Rust's `Command::new(value)`, in its own working directory:
        a word without a path separator is looked up on PATH, a relative path is taken from
        the current folder (made absolute here, '..' kept for the OS to resolve), an absolute
        one is run as written. Whether that path exists is for the caller to check.
        """
        word = self.on_path()
        if word is None:
            path = str(self.path)
            return path if os.path.isabs(path) else str(Path.cwd() / path)
        import shutil

        env = os.environ if environ is None else environ
        return shutil.which(word, path=env.get("PATH", os.defpath))

    def missing(self) -> str:
        """Why `resolve` found nothing: PATH has no such word."""
        return f"{self.variable} sends it to PATH, and PATH has no {self.on_path()}"

    def to_json(self) -> OverrideRow:
        return {"variable": self.variable, "value": self.path}


class Overrides(NamedTuple):
    """What the environment overrides: everything, or the named backends."""

    everything: bool = False
    named: tuple[Override, ...] = ()

    def get(self, name: str) -> Override | None:
        if self.everything:
            return Override(name, None, OVERRIDE_ALL)
        # Pixi takes the first entry for a name.
        return next((o for o in self.named if o.name == name), None)


def parse_override(value: str) -> tuple[Override, ...]:
    """Parse `PIXI_BUILD_BACKEND_OVERRIDE` exactly as Pixi splits it: no trimming."""
    from conda_pixi_backends.errors import UserInputError

    items = []
    if not value:
        return ()
    for item in value.split(","):
        parts = item.split("=")
        if len(parts) > 2:
            raise UserInputError(
                f"{OVERRIDE}: malformed item {item!r} (more than one '='); "
                "Pixi would silently ignore the whole variable. Use 'name=/path' or 'name'"
            )
        if len(parts) == 2 and not parts[1]:
            raise UserInputError(
                f"{OVERRIDE}: item {item!r} has an empty path; use 'name=/path' or 'name'"
            )
        if not parts[0]:
            continue  # Pixi accepts an empty name; it matches no backend
        items.append(Override(parts[0], parts[1] if len(parts) == 2 else None, OVERRIDE))
    return tuple(items)


def from_environ(environ: Mapping[str, str] | None = None) -> Overrides:
    """The overrides the given environment (default: this process's) puts in force."""
    env = os.environ if environ is None else environ
    if OVERRIDE_ALL in env:
        return Overrides(everything=True)
    return Overrides(named=parse_override(env.get(OVERRIDE, "")))
