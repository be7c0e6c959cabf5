"""The documentation site builds with warnings as errors, holds every page, and its CLI
reference is generated from the real parser."""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conda_pixi_backends.cli import build_parser

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("sphinx", reason="sphinx is not installed (pip install -e '.[docs]')")
    work = tmp_path_factory.mktemp("docs")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(work / "doctrees"), str(DOCS), str(work / "html")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, f"sphinx-build failed:\n{proc.stderr}"
    return work / "html"


def test_every_page_is_built(site: Path) -> None:
    sources = {
        p.relative_to(DOCS).with_suffix("").as_posix()
        for p in DOCS.rglob("*.md")
        if "_build" not in p.relative_to(DOCS).parts
    }
    built = {
        p.relative_to(site).with_suffix("").as_posix()
        for p in site.rglob("*.html")
        if "_static" not in p.relative_to(site).parts
    }
    assert built - {"genindex", "search"} == sources
    # The repository's README is its front page, not the site's: it is not repeated here.
    assert "README" not in sources


def subcommands(parser: argparse.ArgumentParser, prefix: str) -> Iterator[tuple[str, list[str]]]:
    """(usage prefix, option strings) of every subcommand, nested ones included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                flags = [
                    flag
                    for a in sub._actions
                    if not isinstance(a, argparse._HelpAction)  # shown as [-h] in the usage
                    for flag in a.option_strings
                ]
                yield f"{prefix} {name}", flags
                yield from subcommands(sub, f"{prefix} {name}")


def test_cli_reference_lists_every_command_and_flag(site: Path) -> None:
    page = (site / "cli.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    found = list(subcommands(build_parser(), "conda pixi-backend"))
    assert found
    for usage, flags in found:
        assert f"{usage} [-h]" in text, usage
        for flag in flags:
            assert flag in text, f"{usage} {flag}"
    # Flags stay as typed: no "smart" dash in "--manifest".
    assert "\u2013manifest" not in text


def test_the_header_is_the_projects_own(site: Path) -> None:
    """The theme's defaults would make this look like a conda project page: conda's logo, and
    links to conda, conda-build, conda.org and conda's Zulip in the header."""
    page = (site / "index.html").read_text(encoding="utf-8")
    header = page[page.index("<header") : page.index("</header>")]
    assert "_static/logo.svg" in header and "conda_logo" not in header
    for foreign in ("docs.conda.io", "conda.org", "zulipchat"):
        assert foreign not in header, foreign
    assert 'href="getting-started.html"' in header  # our own pages instead


def test_the_json_reference_is_the_types() -> None:
    """docs/json.md shows the TypedDicts the commands print: regenerated, it is unchanged."""
    proc = subprocess.run([sys.executable, str(DOCS / "json_reference.py"), "--check"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def test_the_json_reference_shows_every_key_commands_print(tmp_path: Path) -> None:
    """What real commands print with --json (a dry run, a list, doctor, config show --sources,
    an error) holds no key the page does not show."""
    page = (DOCS / "json.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"^\| `(\w+)` \|", page, re.M)) | {
        "error",
        "type",
        "message",
        "input",
        "exit_code",
    }
    env = {**os.environ, "CONDA_PIXI_BACKENDS_ROOT": str(tmp_path / "store"),
           "CONDA_PIXI_BACKENDS_SYSTEM_CONFIG": "", "CONDA_PIXI_BACKENDS_CONFIG": str(tmp_path / "none.yml")}  # fmt: skip
    runs = [["install", "pixi-build-x", "--dry-run", "--json"], ["list", "--json"],
            ["doctor", "--json", "--timeout", "5"], ["config", "show", "--sources", "--json"],
            ["install", "pixi-build-x >>>1", "--json"]]  # fmt: skip

    def keys(value: object) -> set[str]:
        if isinstance(value, dict):
            return set(value) | {k for v in value.values() for k in keys(v)}
        if isinstance(value, list):
            return {k for v in value for k in keys(v)}
        return set()

    for args in runs:
        proc = subprocess.run([sys.executable, "-m", "conda_pixi_backends", *args], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
        printed = json.loads(proc.stdout)
        if args[:3] == ["config", "show", "--sources"]:  # settings are keyed by their names
            printed = {**printed, "settings": list(printed["settings"].values())}
        if args[0] == "doctor":  # backends of `api` are keyed by name, summary by status
            printed["api"]["backends"], printed["summary"] = {}, {}
        assert keys(printed) <= shown, (args, sorted(keys(printed) - shown))


#: The pages a reader opens first, each with what they must see on it.
MAIN_PAGES = {
    "index": "conda-pixi-backends",
    "getting-started": "Getting started",
    "commands": "Store commands",
    "admin-guide": "Admin guide",
    "configuration": "Configuration",
    "json": "JSON output",
}
CHECK_PAGE = """<!doctype html><html><body><pre id="out">pending</pre>
<iframe id="f" src="PAGE" style="width:1280px;height:900px;border:0"></iframe>
<script>
document.getElementById("f").onload = function () {
  var d = this.contentDocument, wide = [], logo = d.querySelector("header img");
  d.querySelectorAll("pre, table").forEach(function (p) {
    if (p.scrollWidth > p.clientWidth + 1) wide.push(p.textContent.trim().slice(0, 60));
  });
  var h1 = d.querySelector("h1");
  document.getElementById("out").textContent = JSON.stringify({
    h1: h1 ? h1.textContent : null, wide: wide, width: d.documentElement.scrollWidth,
    logo: logo ? logo.naturalWidth : 0});
};
</script></body></html>
"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("Chromium is not installed (sh dev.sh test installs Debian's as root)")
    return found


def test_main_pages_in_a_browser_at_1280_px(site: Path, tmp_path: Path) -> None:
    """Each main page, rendered by headless Chromium 1280 px wide: a screenshot is taken, the
    page has its heading and the project's logo, and no console block, JSON block or table
    needs a horizontal scroll bar (long lines wrap)."""
    browser = chromium()
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}"]  # fmt: skip
    for page, heading in MAIN_PAGES.items():
        shot = tmp_path / f"{page}.png"
        subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1280,900",
                        (site / f"{page}.html").as_uri()],
                       capture_output=True, timeout=120, check=True)  # fmt: skip
        png = shot.read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == 1280
        assert len(png) > 20_000, f"{page}: a nearly empty screenshot ({len(png)} bytes)"
        check = site / f"check-{page}.html"
        check.write_text(CHECK_PAGE.replace("PAGE", f"{page}.html"), encoding="utf-8")
        dom = subprocess.run([*flags, "--allow-file-access-from-files",
                              "--virtual-time-budget=5000", "--dump-dom", check.as_uri()],
                             capture_output=True, text=True, timeout=120, check=True).stdout  # fmt: skip
        found = json.loads(html.unescape(dom.split('<pre id="out">', 1)[1].split("</pre>")[0]))
        assert heading in (found["h1"] or ""), (page, found)
        assert found["logo"] > 0, f"{page}: the logo did not load"
        assert found["wide"] == [] and found["width"] <= 1280, (page, found)
