"""Shell text that is long and fixed, kept as script files shipped with the package.

`activate.{sh,fish,xsh,ps1,bat}` are the store's static activation scripts
(`shells.activation_script`); `activate.d.*` and `deactivate.d.*` are the scripts `activate-in`
writes into a conda environment (`conda_envs`).

A template is the script itself with three additions, none of which reaches the output:

- `@NAME@` placeholders, each replaced by a value the caller has already quoted for the
  template's shell, all in one pass: a value holding `@X@` is never filled in again;
- lines starting with `#:` (after indentation): notes for readers, and the block markers
  `#: each` ... `#: end` (the block repeated for each item, with that item's values too) and
  `#: if any` ... `#: end` (the block kept once when there is an item);
- `# shellcheck` directives: the POSIX templates are checked by shellcheck as they are.

They are read from the folder beside this file, as a wheel and the conda package install them:
`importlib.resources` would add about 12 ms of imports to the commands that render scripts.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

_FOLDER = Path(__file__).parent
_PLACEHOLDER = re.compile(r"@([A-Z][A-Z_]*)@")
_BLOCKS = {"#: each": "each", "#: if any": "if any"}


def render(name: str, values: Mapping[str, str], items: Iterable[Mapping[str, str]] = ()) -> str:
    """The template `name` filled with `values`, its blocks with each of `items` as well.

    Raises KeyError for a placeholder no value is given for: a template and its caller disagree.
    """
    items = list(items)
    out = []
    for kind, text in _parse(name):
        if kind == "each":
            out += [_fill(text, {**values, **item}) for item in items]
        elif kind == "once" or items:
            out.append(_fill(text, values))
    return "".join(out)


def _fill(text: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: values[match[1]], text)


@cache
def _parse(name: str) -> tuple[tuple[str, str], ...]:
    """The template's text in runs of ("once" | "each" | "if any", text), without its notes."""
    runs: list[tuple[str, str]] = []
    kind, lines = "once", []
    # Split on "\n" only: str.splitlines() would also split on characters a script may hold.
    for line in re.findall(r"[^\n]*\n|[^\n]+$", (_FOLDER / name).read_text(encoding="utf-8")):
        mark = line.strip()
        if not mark.startswith(("#:", "# shellcheck ")):
            lines.append(line)
        elif mark in _BLOCKS or mark == "#: end":
            if (mark == "#: end") == (kind == "once"):
                raise ValueError(f"{name}: {mark!r} out of place")
            runs.append((kind, "".join(lines)))
            kind, lines = _BLOCKS.get(mark, "once"), []
    if kind != "once":
        raise ValueError(f"{name}: a block without its '#: end'")
    runs.append((kind, "".join(lines)))
    return tuple(runs)
