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


def add_manifest_flag(
    parser: argparse.ArgumentParser,
    help: str = "a pixi.toml, pyproject.toml or folder (repeatable)",
) -> None:
    parser.add_argument(
        "-m", "--manifest", action="append", default=[], type=Path, metavar="PATH", help=help
    )


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


def executable(store: Store, name: str) -> str:
    """The one path Pixi would run for a backend: its override (unless that is our own
    launcher, set by our activation), else its launcher. OperationError when neither exists."""
    from conda_pixi_backends import exposure, overrides, plan
    from conda_pixi_backends.errors import OperationError

    override = overrides.from_environ().get(name)
    if override is not None and not plan.own_launcher(store, override):
        resolved = override.resolve()
        if resolved is None:
            raise OperationError(
                f"{name}: {override.variable} sends it to PATH, and PATH has no {name}"
            )
        return resolved
    record = exposure.live_exposure(store, store.exposed()).get(name)
    launcher = exposure.launcher_path(store, name)
    if record is None or not launcher.is_file():
        raise OperationError(
            f"{name}: not installed in {store.root} and not overridden; "
            f"install it with: conda pixi-backend install {name}"
        )
    return str(launcher)
