"""What several commands share: the common flags, loading settings and the store, declarations."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conda_pixi_backends.errors import command

if TYPE_CHECKING:
    from conda_pixi_backends.discovery import Discovery, DiscoveryContext
    from conda_pixi_backends.settings import Settings
    from conda_pixi_backends.store import Store

SHELL_CHOICES = ("bash", "zsh", "sh", "fish", "xonsh", "powershell", "cmd")
#: The longest span a flag may give, 100 years: in days and in seconds.
MAX_DAYS = 36500
MAX_SECONDS = MAX_DAYS * 86400
_UNIT_SECONDS = {"seconds": 1, "days": 86400}


class Number:
    """The argparse `type` of every numeric flag (made by `number`): a number of `unit`
    ("seconds" or "days") from `minimum` (above it, with `exclusive`) to `maximum`."""

    def __init__(self, unit: str, minimum: float, maximum: float, *, exclusive: bool) -> None:
        self.unit, self.minimum, self.maximum, self.exclusive = unit, minimum, maximum, exclusive
        self.__name__ = f"number of {unit}"  # argparse's name for the type

    def __call__(self, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if math.isnan(value):
            raise argparse.ArgumentTypeError(f"not a number: {text!r}")
        given = text.strip()
        if value < self.minimum or (self.exclusive and value == self.minimum):
            least = "more than" if self.exclusive else "at least"
            raise argparse.ArgumentTypeError(
                f"must be {least} {_plain(self.minimum)} {self.unit}, not {given}"
            )
        if value > self.maximum:
            raise argparse.ArgumentTypeError(
                f"must be at most {_plain(self.maximum)} {self.unit} (that is {self.span()}), "
                f"not {given}"
            )
        return value + 0.0  # -0 is 0

    def span(self) -> str:
        """The maximum in years, or days: `100 years`, `1 day`."""
        seconds = self.maximum * _UNIT_SECONDS[self.unit]
        if seconds >= 365 * 86400:
            return f"{_plain(seconds / (365 * 86400))} years"
        days = seconds / 86400
        return f"{_plain(days)} day{'' if days == 1 else 's'}"


def number(unit: str, minimum: float, maximum: float, *, exclusive: bool = False) -> Number:
    """The argparse `type` of a numeric flag; see `Number`. NaN, infinities and anything out of
    range are the flag's error, one line with exit 2 (argparse puts `argument --FLAG: ` first):
    `not a number: 'x'`, `must be at least 0 days, not -1`, `must be at most 36500 days (that
    is 100 years), not 1e9`. A flag's value must never reach the code as NaN (every comparison
    false: a grace period that keeps nothing) or overflow a datetime."""
    return Number(unit, minimum, maximum, exclusive=exclusive)


def _plain(value: float) -> str:
    """3153600000, not 3.1536e+09; 0.5 as 0.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


#: The flags every command takes, before or after its name: `--root`, `-v` and (where the
#: command prints JSON) `--json`. Given nowhere, they take these values (`fill_globals`).
GLOBALS = {"root": None, "tracebacks": False, "json": False}


def print_json(data: object) -> None:
    """A command's `--json` result: indented for people, in one write."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def add_common(parser: argparse.ArgumentParser) -> None:
    """The flags every command takes. Their default is SUPPRESS, in the top-level parser and in
    each command's: a flag given before the command's name is not then reset by the command's
    parser, which sets the defaults of its own flags (`fill_globals` sets them afterwards)."""
    quiet = argparse.SUPPRESS
    parser.add_argument(
        "--root", metavar="DIR", default=quiet, help="the store (default: setting 'root')"
    )
    parser.add_argument(  # not `verbose`: conda takes that for its own -v (commands/__init__)
        "-v", "--verbose", action="store_true", default=quiet, dest="tracebacks",
        help="show tracebacks of errors",
    )  # fmt: skip


def fill_globals(args: argparse.Namespace) -> str | None:
    """Give the global flags their defaults where they were not given; the problem, if any:
    `--json` before the name of a command that prints no JSON."""
    if getattr(args, "json", False) and not getattr(args, "prints_json", False):
        return f"--json: {args.command} prints no JSON"
    for name, default in GLOBALS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    return None


def add_lock_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--locked", action="store_true",
        help="install exactly the lock file's packages, no solve; exit 2 if it lacks a backend",
    )  # fmt: skip
    parser.add_argument(
        "--lock-file", type=Path, metavar="PATH",
        help="the lock file; implies --locked (default: the nearest pixi-backends.lock from the "
        "manifest's folder upward)",
    )  # fmt: skip


def add_offline_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--offline", action="store_true", default=None,
        help="use cached repodata and the package cache only (setting 'offline')",
    )  # fmt: skip


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """`--json`, for a command that prints one JSON object (see `add_common`)."""
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON object"
    )
    parser.set_defaults(prints_json=True)


def add_manifest_flag(
    parser: argparse.ArgumentParser,
    help: str = "a pixi.toml, pyproject.toml or folder (repeatable)",
) -> None:
    parser.add_argument(
        "-m", "--manifest", action="append", default=[], type=Path, metavar="PATH", help=help
    )


def add_removal_flags(parser: argparse.ArgumentParser) -> None:
    """`--dry-run` and `--yes`, which every command that deletes takes."""
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would be done; change nothing"
    )
    parser.add_argument(
        "-y", "--yes", action="store_true", help="do not ask for confirmation on a terminal"
    )


def would_ask(args: argparse.Namespace) -> bool:
    """Whether a destructive command asks first: on a terminal, unless `--yes`, `--json` or
    `--dry-run` (scripts, with no terminal, are not asked)."""
    import sys

    if args.yes or args.dry_run or getattr(args, "json", False):
        return False
    return sys.stdin.isatty() and sys.stdout.isatty()


def confirm(args: argparse.Namespace, lines: list[str], freed: str) -> bool:
    """Ask, when `would_ask`, whether to remove what `lines` show."""
    return not would_ask(args) or ask(lines, freed)


def ask(lines: list[str], freed: str) -> bool:
    """Show what will be removed and how much it frees, and ask, as conda does."""
    import sys

    if not lines:
        return True
    for line in lines:
        print(f"  {line}")
    print(f"This frees {freed}.")
    # Not input(): it writes the prompt to stderr once readline is in play.
    print("Proceed ([y]/n)? ", end="", flush=True)
    answer = sys.stdin.readline()
    if answer and answer.strip().lower() in ("", "y", "yes"):
        return True
    print("Nothing removed.")
    return False


def settings(args: argparse.Namespace, **flags: Any) -> Settings:
    """Effective settings, with this command's flags on top; for a command that reads
    manifests, the workspace's own Pixi configuration counts too."""
    from conda_pixi_backends.configuration import load

    given = {"root": getattr(args, "root", None), "platform": getattr(args, "platform", None)}
    workspace = workspace_root(args.manifest) if hasattr(args, "manifest") else None
    return load({**given, **flags}, workspace=workspace).settings


def platforms(given: list[str], default: str) -> list[str]:
    """The `--platform` values (repeatable), each checked as the `platform` setting is, without
    repeats; none given: `default`."""
    from conda_pixi_backends.settings import validate_value

    return [validate_value("platform", p, "--platform") for p in dict.fromkeys(given)] or [default]


def workspace_root(manifests: list[Path]) -> Path | None:
    """The root of the workspace of the first manifest given, or of the current folder; None
    when there is none (or it cannot be read: discovery says why, later)."""
    from conda_pixi_backends import discovery
    from conda_pixi_backends.errors import UserInputError

    start = Path(manifests[0]).absolute() if manifests else Path.cwd()
    try:
        found = discovery.find_workspace(start if start.is_dir() else start.parent)
    except UserInputError:
        return None
    return found.path.parent if found is not None else None


def discovery_context(cfg: Settings) -> DiscoveryContext:
    from conda_pixi_backends.discovery import DiscoveryContext

    return DiscoveryContext(default_channels=tuple(cfg.default_channels))


def store(args: argparse.Namespace) -> Store:
    return stores(args)[0]


def stores(args: argparse.Namespace) -> tuple[Store, Store | None]:
    """The store to work in, and the read-only shared store it draws on, if any."""
    from conda_pixi_backends.store import stores_for

    return stores_for(settings(args))


def declarations(specs: list[str], manifests: list[Path], cfg: Settings) -> Discovery:
    """SPECs, then what the manifests' workspaces need; with neither, the workspace of the
    manifest found from here upward."""
    from conda_pixi_backends import discovery
    from conda_pixi_backends.model import Declaration, normalize_spec

    found = discovery.Discovery()
    for text in specs:
        name, spec = normalize_spec(text, "SPEC")
        found.declarations.append(Declaration(name=name, spec=spec))
    if manifests or not found.declarations:
        paths = list(manifests) or [discovery.find_manifest(Path.cwd())]
        discovered = discovery.discover(paths, discovery_context(cfg))
        found.declarations += discovered.declarations
        found.unresolved += discovered.unresolved
    return found


def executable(store: Store, name: str) -> str:
    """The one path Pixi would run for a backend: its override (unless that is our own
    launcher, set by our activation), resolved as Pixi runs it (a bare word on PATH, a relative
    path from the current folder), else its launcher. OperationError when neither exists."""
    from conda_pixi_backends import exposure, overrides
    from conda_pixi_backends.errors import OperationError

    override = overrides.from_environ().get(name)
    if override is not None and not exposure.own_launcher(store, override):
        resolved = override.resolve()
        if resolved is None:
            raise OperationError(f"{name}: {override.missing()}")
        return resolved
    record = exposure.live_exposure(store, store.exposed()).get(name)
    platform = exposure.platform_of(record) if record is not None else None
    launcher = exposure.launcher_path(store, name, platform)
    if record is None or not launcher.is_file():
        raise OperationError(
            f"{name}: not installed in {store.root} and not overridden; "
            f"install it with: {command()} install {name}"
        )
    return str(launcher)
