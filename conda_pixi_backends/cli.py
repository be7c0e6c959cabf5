"""The command line: one parser and one code path for `conda pixi-backend`,
`conda-pixi-backend` and `python -m conda_pixi_backends`.

Imports stay light at module level: conda imports the plugin (and so, on use, this module) on
its own commands, and a no-op `install` must never pay for py-rattler.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conda_pixi_backends import __version__
from conda_pixi_backends.errors import CPBError, OperationError, UserInputError

PROG = "conda-pixi-backend"
SHELL_CHOICES = ("bash", "zsh", "fish", "xonsh", "powershell", "cmd")


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line and exit 2 (no usage dump), like other bad input."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{PROG}: error: {self.prog}: {message}\n")


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add every subcommand; shared by the console script and the conda plugin."""
    parser.add_argument(
        "-V", "--version", action="version", version=f"conda-pixi-backends {__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    common = _Parser(add_help=False)
    common.add_argument("--root", metavar="DIR", help="the store (default: setting 'root')")
    common.add_argument("-v", "--verbose", action="store_true", help="show tracebacks of errors")

    install = commands.add_parser(
        "install",
        parents=[common],
        help="install the backends that manifests or SPECs ask for, and expose them to Pixi",
        description=(
            "Install each build backend once into a shared environment, write a launcher for it "
            "and the activation scripts that hand it to Pixi. With neither SPEC nor --manifest, "
            "the manifest is found from the current folder upward, as Pixi does."
        ),
    )
    install.add_argument(
        "specs", nargs="*", metavar="SPEC", help="a MatchSpec, e.g. 'pixi-build-python 0.8.*'"
    )
    install.add_argument(
        "-m", "--manifest", action="append", default=[], type=Path, metavar="PATH",
        help="a pixi.toml, pyproject.toml or folder (repeatable)",
    )  # fmt: skip
    install.add_argument(
        "-c", "--channel", action="append", default=[], metavar="URL",
        help="a channel to search first (repeatable)",
    )  # fmt: skip
    install.add_argument(
        "--override-channels", action="store_true", help="search only the --channel channels"
    )
    install.add_argument(
        "--platform", metavar="P", help="the platform to install for (default: this machine's)"
    )
    install.add_argument("--force", action="store_true", help="reinstall even if already installed")
    install.add_argument(
        "--dry-run", action="store_true", help="show the plan; solve, download and write nothing"
    )
    install.add_argument("--json", action="store_true", help="print one JSON object")
    install.set_defaults(func=cmd_install)

    hook = commands.add_parser(
        "shell-hook",
        parents=[common],
        help="print the activation script for a shell",
        description='Print the activation script, for `eval "$(conda pixi-backend shell-hook)"`.',
    )
    hook.add_argument("-s", "--shell", choices=SHELL_CHOICES, help="default: detected from $SHELL")
    hook.set_defaults(func=cmd_shell_hook)

    which = commands.add_parser(
        "which",
        parents=[common],
        help="print the executable Pixi would run for a backend",
        description="Print the one path Pixi would run for NAME: its override, else its launcher.",
    )
    which.add_argument("name", metavar="NAME")
    which.set_defaults(func=cmd_which)


def _settings(args: argparse.Namespace) -> Any:
    from conda_pixi_backends import settings

    flags = {"root": getattr(args, "root", None), "platform": getattr(args, "platform", None)}
    return settings.load(flags).settings


def _store(args: argparse.Namespace) -> Any:
    from conda_pixi_backends.store import Store

    return Store(_settings(args).root)


def _declarations(args: argparse.Namespace) -> list[Any]:
    from conda_pixi_backends.model import Declaration, normalize_spec

    declarations = []
    for text in args.specs:
        name, spec = normalize_spec(text, "SPEC")
        declarations.append(Declaration(name=name, spec=spec))
    manifests = list(args.manifest)
    if manifests or not declarations:
        from conda_pixi_backends import manifests as readers

        if not manifests:
            manifests = [readers.find_manifest(Path.cwd())]
        declarations.extend(readers.read_declarations(manifests))
    return declarations


def cmd_install(args: argparse.Namespace) -> int:
    from conda_pixi_backends import exposure, overrides, plan, settings
    from conda_pixi_backends.store import Store

    if args.override_channels and not args.channel:
        raise UserInputError("--override-channels needs at least one --channel")
    found = overrides.from_environ()
    cfg = settings.load({"root": args.root, "platform": args.platform}).settings
    store = Store(cfg.root)
    requests = plan.requests_for(_declarations(args), cfg, args.channel, args.override_channels)
    entries = plan.make_plan(store, requests, found, force=args.force)
    todo = [e for e in entries if e.status == plan.WOULD_INSTALL]
    if not args.dry_run:
        store.ensure()
        if todo:
            from conda_pixi_backends import installer

            progress = sys.stderr.isatty() and not args.json
            if progress:
                print(
                    f"Solving and installing {len(todo)} backend environment(s)...", file=sys.stderr
                )
            results = installer.install(store, [e.request for e in todo], args.force, progress)
            for entry, (record, fresh) in zip(todo, results, strict=True):
                entry.record, entry.status = record, plan.INSTALLED if fresh else plan.ALREADY
        for entry in entries:
            if entry.status == plan.ALREADY and entry.record is not None:
                store.touch(entry.record, [s for s in entry.request.sources if s != "command line"])
        exposure.expose(store, [e.record for e in entries if e.record is not None])
    _report(store, entries, args.json)
    return 0


def _entry_json(store: Any, entry: Any) -> dict[str, Any]:
    from conda_pixi_backends import exposure

    request, record, override = entry.request, entry.record, entry.override
    executables: list[str] = []
    if override is not None:
        resolved = override.resolve()
        executables = [resolved] if resolved else []
    elif record is not None and record.executable:
        executables = [str(exposure.launcher_path(store, request.name))]
    package = record.package(request.name) if record else None
    return {
        "name": request.name,
        "spec": request.spec,
        "channels": list(request.channels),
        "platform": request.platform,
        "status": entry.status,
        "key": request.key,
        "prefix": str(store.prefix(request)) if override is None else None,
        "version": package["version"] if package else None,
        "executables": executables,
        "override": None
        if override is None
        else {"variable": override.variable, "value": override.path},
        "manifests": [s for s in request.sources if s != "command line"],
    }


def _report(store: Any, entries: list[Any], as_json: bool) -> None:
    rows = [_entry_json(store, e) for e in entries]
    if as_json:
        json.dump({"root": str(store.root), "backends": rows}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    if not rows:
        print("No backends requested.")
        return
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        status = row["status"].replace("-", " ")
        version = f" {row['version']}" if row["version"] else ""
        where = row["executables"][0] if row["executables"] else "(not found on PATH)"
        if row["status"] == "would-install":
            where = row["prefix"]
        detail = f"{where}  [{row['override']['variable']}]" if row["override"] else where
        print(
            f"{row['name']:<{width}}  {status:<17} {detail}{version and '  (' + version.strip() + ')'}"
        )
    if any(r["status"] in ("installed", "already-installed") for r in rows):
        print(
            "\nTo hand these backends to Pixi in this shell:\n"
            '    eval "$(conda pixi-backend shell-hook)"\n'
            "or in every new shell, add to ~/.bashrc:\n"
            f"    . {_sh_quote(str(store.activate / 'activate.bash'))}"
        )


def _sh_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def detect_shell(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    name = Path(env.get("SHELL", "")).name.lower().removesuffix(".exe")
    if name in ("pwsh", "powershell"):
        return "powershell"
    if name in SHELL_CHOICES:
        return name
    return "cmd" if os.name == "nt" else "bash"


def cmd_shell_hook(args: argparse.Namespace) -> int:
    from conda_pixi_backends import exposure

    sys.stdout.write(exposure.hook_text(_store(args), args.shell or detect_shell()))
    return 0


def cmd_which(args: argparse.Namespace) -> int:
    from conda_pixi_backends import exposure, overrides, plan

    store = _store(args)
    override = overrides.from_environ().get(args.name)
    if override is not None and not plan.own_launcher(store, override):
        resolved = override.resolve()
        if resolved is None:
            raise OperationError(
                f"{args.name}: {override.variable} sends it to PATH, and PATH has no {args.name}"
            )
        print(resolved)
        return 0
    record = exposure.live_exposure(store, store.exposed()).get(args.name)
    launcher = exposure.launcher_path(store, args.name)
    if record is None or not launcher.is_file():
        raise OperationError(
            f"{args.name}: not installed in {store.root} and not overridden; "
            f"run: conda pixi-backend install {args.name}"
        )
    print(launcher)
    return 0


def run(args: argparse.Namespace) -> int:
    """Run a parsed command; errors become one line on stderr and an exit code."""
    try:
        return int(args.func(args) or 0)
    except CPBError as exc:
        if getattr(args, "verbose", False):
            import traceback

            traceback.print_exc()
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `... | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # a bug of ours: still one line, the traceback on request
        if getattr(args, "verbose", False):
            raise
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {exc} (--verbose shows where)",
            file=sys.stderr,
        )
        return 1


def finish(code: int) -> int:
    """Leave without the interpreter shutdown that py-rattler's runtime can crash in.

    After an async py-rattler call a few percent of interpreter shutdowns die by signal, though
    the work is done. Once py-rattler is loaded, flush and leave at once instead.
    """
    if "rattler" in sys.modules:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(
        prog=PROG, description="Shared, pinned Pixi build backends for conda users and admins."
    )
    configure_parser(parser)
    return finish(run(parser.parse_args(argv)))
