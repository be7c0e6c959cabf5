"""What several commands share: the common flags, loading settings and the store, declarations."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conda_pixi_backends.model import Declaration
    from conda_pixi_backends.settings import Settings
    from conda_pixi_backends.store import Store

SHELL_CHOICES = ("bash", "zsh", "fish", "xonsh", "powershell", "cmd")


def add_common(parser: argparse.ArgumentParser) -> None:
    """Flags every command takes."""
    parser.add_argument("--root", metavar="DIR", help="the store (default: setting 'root')")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks of errors")


def settings(args: argparse.Namespace, **flags: Any) -> Settings:
    """Effective settings, with this command's flags on top."""
    from conda_pixi_backends import settings as layered

    given = {"root": getattr(args, "root", None), "platform": getattr(args, "platform", None)}
    return layered.load({**given, **flags}).settings


def store(args: argparse.Namespace) -> Store:

    from conda_pixi_backends.plan import stores_for

    return stores_for(settings(args))[0]


def declarations(specs: list[str], manifests: list[Path]) -> list[Declaration]:
    """SPECs, then the manifests; with neither, the manifest found from here upward."""
    from conda_pixi_backends.model import Declaration, normalize_spec

    found = []
    for text in specs:
        name, spec = normalize_spec(text, "SPEC")
        found.append(Declaration(name=name, spec=spec))
    if manifests or not found:
        from conda_pixi_backends import manifests as readers

        paths = list(manifests) or [readers.find_manifest(Path.cwd())]
        found.extend(readers.read_declarations(paths))
    return found
