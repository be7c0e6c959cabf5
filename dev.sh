#!/bin/sh
# The README's two commands, on a fresh Linux machine with Python 3.10+ and no conda:
#   sh dev.sh demo    build a local channel of demo backends and run the quick start offline
#   sh dev.sh test    lint, type-check and run the whole test suite (extra arguments go to pytest)
# Both set up .venv/ themselves (demo: pip install -e .; test: -e .[test]). `test` also installs zsh,
# fish, Wine and MinGW-w64 when it runs as root, and a real conda into .venv when ../shared/conda/install.sh sits beside the
# repository (conda is not on PyPI; without it the tests that need conda skip and say why).
set -eu
cd "$(dirname "$0")"

# $1: what to install into .venv: "." for the demo, ".[test]" for the tests.
setup_venv() {
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$1"
}

# conda finds plugins through the entry points of its own environment, so it goes into .venv,
# beside the editable install of this package. Skipped once `.venv/bin/conda --version` works.
setup_conda() {
    installer=../shared/conda/install.sh
    .venv/bin/conda --version >/dev/null 2>&1 && return 0
    if [ ! -f "$installer" ]; then
        echo "No $installer: the tests that need conda will skip" >&2
        return 0
    fi
    echo "Installing conda into .venv with $installer (pip's menuinst conflict is expected)" >&2
    # An absolute VENV: install.sh writes it into the shebang of .venv/bin/conda.
    sh "$installer" "$PWD/.venv"
}

# The shells and the Windows tools the tests run for real (Wine's cmd.exe, MinGW-w64 for a tiny
# Windows backend), and Chromium for the docs' pages; installed with apt-get when root; without
# them those tests skip and say why.
setup_tools() {
    missing=""
    for tool in zsh:zsh fish:fish wine:wine64 x86_64-w64-mingw32-gcc:gcc-mingw-w64-x86-64 chromium:chromium; do
        command -v "${tool%%:*}" >/dev/null 2>&1 || missing="$missing ${tool#*:}"
    done
    if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing$missing for the shell, Windows and docs tests" >&2
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    fi
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
    demo)
        setup_venv .
        exec .venv/bin/python -m conda_pixi_backends.demo "${1:-demo}"
        ;;
    test)
        setup_tools
        setup_venv ".[test]"
        setup_conda
        .venv/bin/ruff check .
        .venv/bin/ruff format --check .
        .venv/bin/mypy
        exec .venv/bin/python -m pytest "$@"
        ;;
    *)
        echo "usage: sh dev.sh demo | sh dev.sh test [PYTEST-ARGS...]" >&2
        exit 2
        ;;
esac
