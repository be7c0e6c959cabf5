"""Write docs/json.md, the `--json` reference, from the TypedDicts the commands build their
output with: the types are the schema, this page only shows them.

    python docs/json_reference.py          # rewrite docs/json.md
    python docs/json_reference.py --check  # exit 1 if docs/json.md is not what it would write

The sources are read with `ast` (nothing is imported): every `class X(TypedDict)` (or a
subclass of one) with its docstring, each field's annotation as written and the `#:` comment
above it, and the `Literal` aliases the fields name.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "conda_pixi_backends"
OUT = ROOT / "docs" / "json.md"

#: Each command with --json, and the type of the one object it prints.
COMMANDS = [
    ("install", "commands/results.py", "Result"),
    ("sync", "commands/sync.py", "SyncResult"),
    ("update", "commands/update.py", "Result"),
    ("lock", "commands/lock.py", "LockResult"),
    ("bundle", "commands/bundle.py", "BundleResult"),
    ("list", "inventory.py", "Listing"),
    ("remove", "commands/remove.py", "Result"),
    ("gc", "commands/gc.py", "Result"),
    ("config show --sources", "commands/config.py", "SourcesResult"),
    ("doctor", "commands/doctor.py", "DoctorResult"),
]

INTRO = """\
# JSON output

Every command that takes `--json` prints one JSON object on standard output and nothing else
there; its exit code is the same as without `--json`. This page is generated from the types
the commands build that object with (`python docs/json_reference.py`; a test keeps it in step
with the code). `T | None` may be `null`; `list[T]` is an array; `dict[K, V]` an object.

A failure with `--json` is one object too, beside the usual line on standard error:

```json
{"error": {"type": "UserInputError", "message": "...", "input": "...", "exit_code": 2}}
```

`type` is `UserInputError` (bad input, exit 2) or `OperationError` (a failed operation, exit
1); for bad input, `input` is what the message names first (a file and line, a variable, a
flag, a spec), else `null`.

`config show --json` without `--sources` prints each setting's effective value, by name.
"""


#: module -> the names it imports from the package -> the module that defines them (for a
#: module imported whole, its own path).
IMPORTS: dict[str, dict[str, str]] = {}


@dataclass
class Shape:
    """One TypedDict: where it is, what it says, its fields (name, annotation, comment)."""

    name: str
    module: str
    doc: str
    bases: list[str]
    fields: list[tuple[str, str, str]] = field(default_factory=list)


def read(module: str) -> tuple[dict[str, Shape], dict[str, str]]:
    """The TypedDicts of a module, and its Literal aliases (name -> the values, as written)."""
    path = PACKAGE / module
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    shapes: dict[str, Shape] = {}
    literals: dict[str, str] = {}
    tree = ast.parse(source)
    imported = IMPORTS.setdefault(module, {})
    for node in ast.walk(tree):  # also those under `if TYPE_CHECKING:` and in functions
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE.name):
            assert node.module is not None
            base = node.module.replace(".", "/").removeprefix(PACKAGE.name).strip("/")
            for alias in node.names:
                whole = f"{base}/{alias.name}".strip("/")
                imported[alias.asname or alias.name] = (
                    f"{whole}.py" if (PACKAGE / f"{whole}.py").is_file() else f"{base}.py"
                )
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = [ast.unparse(b) for b in node.bases]
            shape = Shape(node.name, module, ast.get_docstring(node) or "", bases)
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    comment: list[str] = []
                    at = item.lineno - 2
                    while at >= 0 and lines[at].strip().startswith("#:"):
                        comment.insert(0, lines[at].strip()[2:].strip())
                        at -= 1
                    shape.fields.append(
                        (item.target.id, ast.unparse(item.annotation), " ".join(comment))
                    )
            shapes[node.name] = shape
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        value = getattr(node, "value", None)
        if (
            isinstance(target, ast.Name)
            and isinstance(value, ast.Subscript)
            and ast.unparse(value.value) in ("Literal", "typing.Literal")
        ):
            literals[target.id] = ast.unparse(value.slice)
    return shapes, literals


def everything() -> tuple[dict[str, Shape], dict[str, str]]:
    """Every TypedDict of the package (as `module:Name`: several modules have a `Result`) and
    every Literal alias, by name."""
    classes: dict[str, Shape] = {}
    literals: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        found, aliases = read(path.relative_to(PACKAGE).as_posix())
        classes.update({f"{shape.module}:{name}": shape for name, shape in found.items()})
        literals.update(
            {f"{path.relative_to(PACKAGE).as_posix()}:{n}": v for n, v in aliases.items()}
        )
    typed = {key for key, shape in classes.items() if "TypedDict" in shape.bases}
    grown = True
    while grown:  # and the classes that extend one
        more = {
            key
            for key, shape in classes.items()
            if key not in typed
            and any(b.split(".")[-1] == t.split(":")[1] for b in shape.bases for t in typed)
        }
        typed |= more
        grown = bool(more)
    return {key: classes[key] for key in typed}, literals


def resolve(name: str, module: str, found: dict[str, T]) -> T | None:
    """What `name` (or `module.name`) means in `module`: its own definition, else the one of
    the module it imports it from, else the only one of that name in the package."""
    first, _, last = name.rpartition(".")
    imported = IMPORTS.get(module, {})
    if first:  # results.Result: the module `results` was imported whole
        return found.get(f"{imported.get(first, '')}:{last}")
    for key in (f"{module}:{name}", f"{imported.get(name, '')}:{name}"):
        if key in found:
            return found[key]
    others = [value for key, value in found.items() if key.endswith(f":{name}")]
    return others[0] if len(others) == 1 else None


def names_in(annotation: str) -> list[str]:
    return [word for word in _words(annotation) if word[:1].isupper()]


def _words(text: str) -> list[str]:
    word, words = "", []
    for char in text + " ":
        if char.isalnum() or char in "_.":
            word += char
        elif word:
            words.append(word.split(".")[-1])
            word = ""
    return words


def render() -> str:
    shapes, literals = everything()
    out = [INTRO]
    for command, module, top in COMMANDS:
        out.append(f"## `{command} --json`\n")
        seen: set[str] = set()
        queue = [resolve(top, module, shapes)]
        while queue:
            shape = queue.pop(0)
            if shape is None or f"{shape.module}:{shape.name}" in seen:
                continue
            seen.add(f"{shape.module}:{shape.name}")
            fields = list(shape.fields)
            for base in shape.bases:  # a TypedDict that extends another has its fields first
                parent = resolve(base, shape.module, shapes)
                if parent is not None:
                    fields = parent.fields + fields
            out.append(f"**`{shape.name}`**: {shape.doc}\n")
            out.append("| key | type | meaning |\n| --- | --- | --- |")
            for name, annotation, comment in fields:
                values = [
                    v for n in names_in(annotation) if (v := resolve(n, shape.module, literals))
                ]
                meaning = comment + (f" One of {', '.join(values)}." if values else "")
                shown = annotation.replace("|", "\\|")  # not the table's column separator
                out.append(f"| `{name}` | `{shown}` | {meaning.strip()} |")
                for nested in names_in(annotation):
                    queue.append(resolve(nested, shape.module, shapes))
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    text = render()
    if sys.argv[1:] == ["--check"]:
        current = OUT.read_text(encoding="utf-8") if OUT.is_file() else ""
        if current != text:
            print(f"{OUT} is out of date: run python docs/json_reference.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
