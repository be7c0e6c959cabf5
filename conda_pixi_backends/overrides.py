"""Pixi's backend override variables, read with Pixi's own rules.

`PIXI_BUILD_BACKEND_OVERRIDE="name=/abs/path,other"` maps backends to executables (a bare name
means "from PATH"); `PIXI_BUILD_BACKEND_OVERRIDE_ALL`, set to anything, sends every backend to
PATH and wins. Pixi silently ignores a malformed value; here it is an error, because a typo
would otherwise make Pixi install backends the user meant to replace.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass

OVERRIDE = "PIXI_BUILD_BACKEND_OVERRIDE"
OVERRIDE_ALL = "PIXI_BUILD_BACKEND_OVERRIDE_ALL"


@dataclass(frozen=True)
class Override:
    """One backend replaced by the environment: by a path, or by whatever PATH finds."""

    name: str
    path: str | None  # None: looked up on PATH, as Pixi does
    variable: str

    def resolve(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The executable Pixi would run, or None when PATH has none."""
        if self.path is not None:
            return self.path
        search = (environ if environ is not None else os.environ).get("PATH")
        return shutil.which(self.name, path=search)

    def describe(self) -> str:
        return self.path if self.path is not None else f"{self.name} from PATH"


@dataclass(frozen=True)
class Overrides:
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
