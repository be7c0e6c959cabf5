"""Benchmarks of the core path, from one run on one machine (medians of repeated runs).

    python benchmarks/bench_core.py [--repeat N]

Prints, each against its baseline:
- no-op `install` (everything present) against `python -c pass`, whole process;
- cold `install` (empty store and package cache) against raw py-rattler solve + install of
  the same request, both whole processes;
- a new environment from a warm package cache (`install --force`) against raw py-rattler
  installing again into a removed prefix;
- `source`-ing the bash activation script, against starting bash alone;
- a launcher, against running the backend directly with its activation already applied.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from conda_pixi_backends import demo

BACKEND = "pixi-build-demo-python"
RAW = """
import asyncio, os, sys, rattler
async def main():
    records = await rattler.solve([sys.argv[1]], [sys.argv[2]])
    await rattler.install(records, target_prefix=sys.argv[3], cache_dir=sys.argv[4], show_progress=False)
asyncio.run(main())
sys.stdout.flush()
os._exit(0)
"""


def isolated_env(work: Path, root: Path, channel: Path) -> dict[str, str]:
    """This environment without overrides or settings of ours, but for a store and a channel."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PIXI_BUILD", "CONDA_PIXI"))},
        "CONDA_PIXI_BACKENDS_ROOT": str(root),
        "CONDA_PIXI_BACKENDS_CHANNELS": channel.as_uri(),
        "CONDA_PIXI_BACKENDS_SYSTEM_CONFIG": "",
        "CONDA_PIXI_BACKENDS_CONFIG": str(work / "none.yml"),
    }


def big_channel(channel: Path, packages: int = 40, files: int = 100) -> Path:
    """A backend the size of a small Python one: 40 dependencies holding 4000 files, 16 MB."""
    names = [f"bench-dep-{i}" for i in range(packages)]
    for name in names:
        payload = {
            f"lib/{name}/module_{j}.py": f"# {name} {j}\n" + "x = 1\n" * 680 for j in range(files)
        }
        demo.build_package(channel, name, "1.0", payload)
    demo.build_runtime(channel)
    demo.build_package(channel, "pixi-build-api-version", demo.API_VERSION)
    demo.build_backend(channel, "pixi-build-bench", "1.0", depends=names)
    demo.index(channel)
    return channel


T = TypeVar("T")


def in_turn(
    ours: Callable[[], T], theirs: Callable[[], T], repeat: int, setup: Callable[[], object]
) -> tuple[list[T], list[T]]:
    """`repeat` results of each, run in turn (ours, theirs, ours, ...) with `setup` before every
    run: the machine's drift during the measure touches both alike."""
    results: tuple[list[T], list[T]] = ([], [])
    for _ in range(repeat):
        for run, found in zip((ours, theirs), results, strict=True):
            setup()
            found.append(run())
    return results


def ms(run: Callable[[], object]) -> Callable[[], float]:
    """`run`, timed: its wall time in milliseconds."""

    def timed() -> float:
        start = time.perf_counter()
        run()
        return (time.perf_counter() - start) * 1000

    return timed


def median_ms(run: Callable[[], object], repeat: int) -> float:
    timed = ms(run)
    return statistics.median(timed() for _ in range(repeat))


def sh(
    argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> Callable[[], None]:
    def run() -> None:
        subprocess.run(
            argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    return run


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=15)
    n = parser.parse_args().repeat
    work = Path(tempfile.mkdtemp(prefix="cpb-bench-"))
    os.chdir(work)  # a folder of no workspace, wherever this was started (see suite.py)
    try:
        channel = demo.build_demo_channel(work / "channel")
        root = work / "store"
        env = isolated_env(work, root, channel)
        install = [sys.executable, "-m", "conda_pixi_backends", "install", BACKEND]
        raw = [
            sys.executable,
            "-c",
            RAW,
            channel.as_uri(),
            BACKEND,
            str(work / "raw-env"),
            str(work / "raw-pkgs"),
        ]

        def empty() -> None:
            for folder in (root, work / "raw-env", work / "raw-pkgs"):
                shutil.rmtree(folder, ignore_errors=True)

        def paired(ours: list[str], theirs: list[str], repeat: int) -> tuple[float, float]:
            """Medians of ours and raw py-rattler, in turn, each from an empty store and cache."""
            a, b = in_turn(ms(sh(ours, env)), ms(sh(theirs, env)), repeat, empty)
            return statistics.median(a), statistics.median(b)

        rows = []
        cold, rattler_raw = paired(install, raw, n)
        rows.append(
            ("cold install, demo", cold, "raw py-rattler solve+install", rattler_raw, "1.3x")
        )
        # A new environment from a warm package cache: `--force` installs a new prefix (the
        # package cache is full); raw py-rattler installs again into a removed prefix.
        sh(install, env)()
        sh(raw, env)()
        again, raw_again = in_turn(
            ms(sh([*install, "--force"], env)), ms(sh(raw, env)), n,
            lambda: shutil.rmtree(work / "raw-env", ignore_errors=True),
        )  # fmt: skip
        warm, warm_raw = statistics.median(again), statistics.median(raw_again)
        rows.append(
            ("new environment, warm cache", warm, "raw py-rattler, warm cache", warm_raw, "1.3x")
        )
        big = [*install[:-1], "pixi-build-bench", "-c", big_channel(work / "big").as_uri()]
        big_raw = [*raw[:3], (work / "big").as_uri(), "pixi-build-bench", *raw[5:]]
        cold, rattler_raw = paired(big, big_raw, max(n // 3, 3))
        rows.append(
            ("cold install, 4000 files", cold, "raw py-rattler solve+install", rattler_raw, "1.3x")
        )

        sh(install, env)()
        noop = median_ms(sh(install, env), n)
        python = median_ms(sh([sys.executable, "-c", "pass"]), n)
        rows.append(("no-op install", noop, "python -c pass", python, "< 500 ms"))

        script = root / "activate" / "activate.bash"
        clean = {"PATH": "/usr/bin:/bin", "HOME": str(work)}
        sourced = median_ms(
            sh(["bash", "--noprofile", "--norc", "-c", f". '{script}'"], clean), n * 4
        )
        bare = median_ms(sh(["bash", "--noprofile", "--norc", "-c", ":"], clean), n * 4)
        rows.append(("bash: source activate.bash", sourced, "bash -c :", bare, "+5 ms"))

        prefix = next(p for p in (root / "envs").glob(f"{BACKEND}-*") if p.is_dir())
        activated = {
            **clean,
            "DEMO_RUNTIME_ACTIVE": "1",
            "DEMO_RUNTIME_FLAVOR": "vanilla",
            "CONDA_PREFIX": str(prefix),
        }
        launcher = median_ms(sh([str(root / "bin" / BACKEND), "--version"], clean), n * 4)
        direct = median_ms(sh([str(prefix / "bin" / BACKEND), "--version"], activated), n * 4)
        rows.append(("launcher --version", launcher, "backend directly", direct, "+5 ms"))

        # The per-workspace dispatch: the same environment behind a table of 20 workspaces,
        # started from inside the last one (the case statement's longest walk).
        from conda_pixi_backends import shells
        from conda_pixi_backends.store import Store

        record = Store(root).records()[0]
        target = shells.Target(
            str(record.executable), record.activation.set, record.activation.unset,
            record.activation.path_prepend,
        )  # fmt: skip
        workspaces = [work / f"ws{i}" for i in range(20)]
        for folder in workspaces:
            folder.mkdir()
        table = [([str(folder)], target) for folder in workspaces]
        dispatching = work / "dispatching-launcher"
        dispatching.write_text(shells.dispatch_launcher("sh", target, table))
        dispatching.chmod(0o755)
        inside = sh([str(dispatching), "--version"], clean, cwd=workspaces[-1])
        rows.append(
            ("launcher, 20-workspace table", median_ms(inside, n * 4), "backend directly", direct,
             "+2 ms"),
        )  # fmt: skip

        print(
            f"conda-pixi-backends core benchmarks: medians of {n} runs ({n * 4} for shell and launcher)"
        )
        print(
            f"{'measure':<28} {'ms':>8}   {'baseline':<30} {'ms':>8}  {'ratio':>6}  {'diff ms':>8}  target"
        )
        for name, value, base_name, base, goal in rows:
            print(
                f"{name:<28} {value:8.1f}   {base_name:<30} {base:8.1f}  {value / base:6.2f}  {value - base:8.1f}  {goal}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
