"""Sphinx configuration: MyST Markdown pages, the conda theme, the CLI reference from argparse.

Build: sphinx-build -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

from conda_pixi_backends import __version__

project = "conda-pixi-backends"
author = "conda-pixi-backends contributors"
copyright = "conda-pixi-backends contributors"
version = release = __version__

extensions = ["myst_parser", "sphinxarg.ext"]
source_suffix = {".md": "markdown"}
root_doc = "index"
# Only build output is left out: every page in docs/ belongs to the site. The README is the
# repository's front page and is not included here; index.md is the site's.
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# `[text](page.md#a-heading)` links, and ::: fences for admonitions.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]

html_theme = "conda_sphinx_theme"
html_title = f"conda-pixi-backends {__version__}"
html_static_path = ["_static"]
html_css_files = ["wrap.css"]
# The theme's defaults are conda's own site: its logo, links to conda, conda-build and
# conda.org in the header, and conda's Zulip. This is not a conda project page: our logo, our
# own pages in the header, no links that would make it look like one.
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "logo": {
        "image_light": "_static/logo.svg",
        "image_dark": "_static/logo.svg",
        "alt_text": "conda-pixi-backends",
    },
    "navbar_center": ["navbar-nav"],
    "zulip_url": "",
}
# Keep `--flag` as typed in the generated CLI reference (no en dashes).
smartquotes = False
