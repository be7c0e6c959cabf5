"""`activate-in`: hand the store's backends to Pixi whenever a conda environment is activated.

It writes `etc/conda/activate.d/zz-conda-pixi-backends.<ext>` (save PATH and
PIXI_BUILD_BACKEND_OVERRIDE, then source the store's static activation script) and the matching
`deactivate.d` script (restore both) for every shell conda runs such scripts for. Because the
scripts source the static ones, later installs reach the environment without another
`activate-in`.
"""

from __future__ import annotations

import argparse
import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conda_pixi_backends.commands import common

if TYPE_CHECKING:
    from conda_pixi_backends.store import Store


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "activate-in",
        parents=[parent],
        help="expose the backends whenever a conda environment is activated",
        description=(
            "Write activate.d/deactivate.d scripts into a conda environment, so that `conda "
            "activate` hands the store's backends to Pixi and `conda deactivate` restores PATH and "
            "PIXI_BUILD_BACKEND_OVERRIDE exactly. Default environment: $CONDA_PREFIX."
        ),
    )
    parser.add_argument(
        "prefix", nargs="?", type=Path, metavar="PREFIX", help="the environment's folder"
    )
    parser.add_argument("-n", "--name", metavar="NAME", help="the environment's name")
    parser.add_argument("--remove", action="store_true", help="take the scripts out again")
    parser.set_defaults(func=run)


def scripts(store: Store, prefix: Path) -> dict[Path, str]:
    """Every script activate-in writes into `prefix`, with its text."""
    from conda_pixi_backends import shells

    found = {}
    for shell, ext in shells.CONDA_ENV_EXTENSIONS.items():
        name = shells.CONDA_ENV_SCRIPT + ext
        static = store.activate / shells.SHELLS[shell]
        found[prefix / "etc" / "conda" / "activate.d" / name] = shells.conda_env_activate_script(
            shell, str(static)
        )
        found[prefix / "etc" / "conda" / "deactivate.d" / name] = (
            shells.conda_env_deactivate_script(shell, str(store.bin))
        )
    return found


def _conda_envs_dirs(environ: Mapping[str, str]) -> tuple[Path | None, list[Path]]:
    """conda's root prefix and envs folders, from its variables, when conda is not importable."""
    root = environ.get("CONDA_ROOT") or environ.get("_CONDA_ROOT")
    if not root and environ.get("CONDA_EXE"):
        root = str(Path(environ["CONDA_EXE"]).parent.parent)
    dirs = [
        Path(p)
        for var in ("CONDA_ENVS_PATH", "CONDA_ENVS_DIRS")
        for p in environ.get(var, "").split(os.pathsep)
        if p
    ]
    if root:
        dirs.append(Path(root) / "envs")
    dirs.append(Path("~/.conda/envs").expanduser())
    return (Path(root) if root else None), dirs


def _by_name(name: str, environ: Mapping[str, str]) -> Path:
    from conda_pixi_backends.errors import UserInputError

    try:
        from conda.base.context import locate_prefix_by_name
        from conda.exceptions import EnvironmentNameNotFound
    except ImportError:
        root, dirs = _conda_envs_dirs(environ)
        if name in ("base", "root") and root is not None:
            return root
        for folder in dirs:
            if (folder / name).is_dir():
                return folder / name
    else:
        try:
            return Path(locate_prefix_by_name(name))
        except EnvironmentNameNotFound:
            pass
    raise UserInputError(f"-n {name}: no conda environment of that name")


def target_prefix(
    prefix: Path | None, name: str | None, environ: Mapping[str, str] | None = None
) -> Path:
    """The conda environment: PREFIX, else -n NAME, else the active one ($CONDA_PREFIX)."""
    from conda_pixi_backends.errors import UserInputError

    env = os.environ if environ is None else environ
    if prefix is not None and name:
        raise UserInputError("give PREFIX or -n NAME, not both")
    if prefix is not None:
        found, what = Path(prefix).expanduser(), "PREFIX"
    elif name:
        found, what = _by_name(name, env), f"-n {name}"
    elif env.get("CONDA_PREFIX"):
        found, what = Path(env["CONDA_PREFIX"]), "CONDA_PREFIX"
    else:
        raise UserInputError(
            "no conda environment given and none active (CONDA_PREFIX is not set); "
            "give PREFIX or -n NAME"
        )
    found = Path(os.path.abspath(found))
    if not (found / "conda-meta").is_dir():
        raise UserInputError(f"{what}: {found} is not a conda environment (it has no conda-meta)")
    return found


def write(store: Store, prefix: Path) -> list[Path]:
    """Write the scripts that differ from what they should be; return those written."""
    from conda_pixi_backends.errors import OperationError
    from conda_pixi_backends.store import atomic_write

    written = []
    for path, text in scripts(store, prefix).items():
        try:
            if path.is_file() and path.read_text(encoding="utf-8") == text:
                continue
            # Readable by everyone: a shared environment is activated by other users too.
            atomic_write(path, text, 0o644)
        except OSError as exc:
            raise OperationError(f"{path}: cannot write ({exc.strerror or exc})") from None
        written.append(path)
    return written


def remove(store: Store, prefix: Path) -> list[Path]:
    from conda_pixi_backends.errors import OperationError

    removed = []
    for path in scripts(store, prefix):
        try:
            if path.is_file() or path.is_symlink():
                path.unlink()
                removed.append(path)
        except OSError as exc:
            raise OperationError(f"{path}: cannot remove ({exc.strerror or exc})") from None
    return removed


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends import shells

    prefix = target_prefix(args.prefix, args.name)
    store = common.store(args)
    active = os.environ.get("CONDA_PREFIX") == str(prefix)
    if args.remove:
        removed = remove(store, prefix)
        for path in removed:
            print(f"removed {path}")
        if not removed:
            print(f"{prefix}: no conda-pixi-backends scripts to remove")
        elif active:
            print("The environment is active: its variables change at the next `conda deactivate`.")
        return 0
    written = write(store, prefix)
    for path in written:
        print(f"wrote {path}")
    if not written:
        print(f"{prefix}: its scripts are up to date")
    print(
        f"\n`conda activate {shlex.quote(str(prefix))}` now hands the backends in {store.root} to "
        "Pixi;\n`conda deactivate` restores PATH and PIXI_BUILD_BACKEND_OVERRIDE."
    )
    if not (store.activate / shells.SHELLS["posix"]).is_file():
        print(
            f"{store.root} has no backends yet: run `conda pixi-backend install`; "
            "the environment picks them up without another activate-in."
        )
    if active and written:
        print("The environment is active: activate it again to apply them in this shell.")
    return 0
