"""One module per subcommand. Each has `add_parser(subparsers, common)` and `run(args) -> int`.

Command modules import nothing heavy at module level, and only the module of the command that
runs is imported at all (`cli.configure_parser`): the others are listed by their summaries.

No argument of ours is stored as `name`, `prefix` or `verbose`: under `conda pixi-backend`,
conda reads those from the parsed arguments as its own `-n`/`-p` (the environment it works on)
and `-v` before the command runs; a Path there, or `verbose` beside its `verbosity`, crashed
it.
"""

from __future__ import annotations

#: Subcommand modules, in the order `--help` lists them, and the line `--help` shows for each.
SUMMARIES = {
    "install": "install the backends that manifests or SPECs ask for, and expose them to Pixi",
    "sync": "install what the 'backends' setting and the given manifests ask for",
    "update": "update installed backends to the newest version their request allows",
    "lock": "write the exact packages of every backend to a lock file",
    "bundle": "download what a lock file pins into a channel folder, for sites with no network",
    "shell_hook": "print the activation script for a shell",
    "which": "print the executable Pixi would run for a backend",
    "list_": "list the backend environments in the store",
    "remove": "remove backend environments, their launchers and activation entries",
    "gc": "remove backend environments and cached packages that nothing keeps",
    "run": "run a backend through its override or launcher",
    "config": "show the effective settings and their sources; edit a settings file",
    "doctor": "check that the backends Pixi gets from here work, and say how to fix what does not",
    "activate_in": "expose the backends whenever a conda environment is activated",
}
COMMANDS = tuple(SUMMARIES)


def cli_name(module: str) -> str:
    """`list_` -> `list`, `shell_hook` -> `shell-hook`."""
    return module.rstrip("_").replace("_", "-")
