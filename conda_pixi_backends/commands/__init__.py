"""One module per subcommand. Each has `add_parser(subparsers, common)` and `run(args) -> int`.

Command modules import nothing heavy at module level: building the parser must stay cheap.
"""

from __future__ import annotations

#: Subcommand modules, in the order `--help` lists them.
COMMANDS = (
    "install", "sync", "update", "lock", "shell_hook", "which", "list_", "remove", "gc", "run",
    "config", "doctor", "activate_in",
)  # fmt: skip
