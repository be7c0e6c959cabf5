"""The benchmark suite: synthetic local channels, medians and ratios from one run on one machine.

    python benchmarks/suite.py [--repeat N] [--plot benchmarks/suite.png]

It builds a channel of N backends (each with M dependencies, some shared, in several
versions) and measures, every command as a whole process:
- cold install of 1, 5 and 20 backends in one command, against raw py-rattler solving and
  installing the same requests (concurrently, one shared package cache) in one process, and
  what each backend past the first adds (wall and CPU time);
- a new environment from a warm package cache (`install --force`), against raw py-rattler
  installing again into a removed prefix;
- no-op install and `sync` with everything present;
- `list` and `doctor` with 50 environments in the store;
- sourcing the activation script and running a launcher;
- when conda is importable, `install` against `conda create --offline` of the same environment,
  and what `conda pixi-backend which` adds to `conda pixi-backend --version` against what
  `which` adds to `python -c pass`.
It prints a table and, with matplotlib installed, writes a PNG plot.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench_core import in_turn, isolated_env  # benchmarks/ is on sys.path as a script's folder

from conda_pixi_backends import demo

DEPS_PER_BACKEND = 8
SHARED_DEPS = 4
FILES_PER_DEP = 25
VERSIONS = ("1.0", "1.1", "2.0")

RAW = """
import asyncio, os, sys, rattler
channel, cache, base, *specs = sys.argv[1:]
async def one(spec, gateway, i):
    records = await rattler.solve([channel], [spec], gateway=gateway)
    await rattler.install(records, target_prefix=f"{base}/env{i}", cache_dir=cache, show_progress=False)
async def main():
    gateway = rattler.Gateway()
    await asyncio.gather(*(one(spec, gateway, i) for i, spec in enumerate(specs)))
asyncio.run(main())
sys.stdout.flush()
os._exit(0)
"""


def build_channel(channel: Path, backends: int) -> list[str]:
    """N backends in three versions; each depends on shared and own packages with files."""
    payload = "x = 1\n" * 200

    def files(name: str) -> dict[str, str]:
        return {f"lib/{name}/m{j}.py": f"# {name} {j}\n{payload}" for j in range(FILES_PER_DEP)}

    for j in range(SHARED_DEPS):
        demo.build_package(channel, f"bench-shared-{j}", "1.0", files(f"bench-shared-{j}"))
    names = []
    for i in range(backends):
        own = [f"bench-{i}-dep-{j}" for j in range(DEPS_PER_BACKEND - SHARED_DEPS)]
        for dep in own:
            demo.build_package(channel, dep, "1.0", files(dep))
        deps = [*own, *(f"bench-shared-{j}" for j in range(SHARED_DEPS))]
        for version in VERSIONS:
            demo.build_backend(channel, f"pixi-build-bench-{i}", version, depends=deps)
        names.append(f"pixi-build-bench-{i}")
    demo.build_runtime(channel)
    demo.build_package(channel, "pixi-build-api-version", demo.API_VERSION)
    demo.index(channel)
    return names


def timed(argv: Sequence[str], env: dict[str, str] | None = None) -> float:
    return measured(argv, env)[0]


def measured(argv: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU (user + system, of the process and its children) milliseconds of a run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu


def median(
    run: Callable[[], float], repeat: int, setup: Callable[[], object] | None = None
) -> float:
    values = []
    for _ in range(repeat):
        if setup:
            setup()
        values.append(run())
    return statistics.median(values)


Medians = tuple[float, float]


def interleaved(
    ours: Callable[[], Medians],
    theirs: Callable[[], Medians],
    repeat: int,
    setup: Callable[[], object],
) -> tuple[Medians, Medians]:
    """The wall and CPU medians of `repeat` runs of each, in turn (`bench_core.in_turn`)."""
    runs = in_turn(ours, theirs, repeat, setup)
    first, second = ((statistics.median(v[0] for v in vs), statistics.median(v[1] for v in vs))
                     for vs in runs)  # fmt: skip
    return first, second


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs per measure (light ones: 4x)")
    parser.add_argument("--plot", type=Path, default=Path("benchmarks/suite.png"))
    opts = parser.parse_args()
    n = opts.repeat
    plot_path = opts.plot.resolve()
    work = Path(tempfile.mkdtemp(prefix="cpb-suite-"))
    # Every command runs here, in a folder of no workspace, wherever the suite was started: a
    # manifest found upward from there (this repository's pyproject.toml) would be read and
    # measured, by our commands only.
    os.chdir(work)
    rows: list[tuple[str, float, str, float]] = []
    try:
        channel = work / "channel"
        names = build_channel(channel, 50)
        root = work / "store"
        env = isolated_env(work, root, channel)
        cli = [sys.executable, "-m", "conda_pixi_backends"]

        def fresh() -> None:
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(work / "raw", ignore_errors=True)

        cold: dict[int, Medians] = {}
        raws: dict[int, Medians] = {}
        for count in (1, 5, 20):
            specs = names[:count]
            ours = [*cli, "install", *specs]
            raw = [sys.executable, "-c", RAW, channel.as_uri(), str(work / "raw" / "pkgs"),
                   str(work / "raw"), *specs]  # fmt: skip
            cold[count], raws[count] = interleaved(
                functools.partial(measured, ours, env), functools.partial(measured, raw), n, fresh
            )
            rows.append((f"cold install, {count} backend(s)", cold[count][0],
                         "raw py-rattler, same requests", raws[count][0]))  # fmt: skip
        rows.append(("N=20 in one install vs N=1", cold[20][0], "cold install, 1 backend", cold[1][0]))  # fmt: skip
        for kind, i in (("wall", 0), ("CPU", 1)):
            rows.append((f"per extra backend, {kind}", (cold[20][i] - cold[1][i]) / 19,
                         "raw py-rattler, per extra", (raws[20][i] - raws[1][i]) / 19))  # fmt: skip

        # A new environment from a warm package cache: ours reinstalls (`--force`), raw
        # py-rattler installs again into a removed prefix, both from their own warm cache.
        fresh()
        timed([*cli, "install", names[0]], env)
        raw = [sys.executable, "-c", RAW, channel.as_uri(), str(work / "raw" / "pkgs"),
               str(work / "raw"), names[0]]  # fmt: skip
        timed(raw)
        again, raw_again = interleaved(
            functools.partial(measured, [*cli, "install", "--force", names[0]], env),
            functools.partial(measured, raw), n * 2,
            lambda: shutil.rmtree(work / "raw" / "env0", ignore_errors=True),
        )  # fmt: skip
        rows.append(("new environment, warm cache", again[0], "raw py-rattler, warm cache", raw_again[0]))  # fmt: skip

        fresh()
        timed([*cli, "install", *names[:20]], env)
        rows.append(("no-op install, 20 backends", median(lambda: timed([*cli, "install", *names[:20]], env), n * 4),
                     "python -c pass", median(lambda: timed([sys.executable, "-c", "pass"]), n * 4)))  # fmt: skip
        sync_env = {**env, "CONDA_PIXI_BACKENDS_BACKENDS": ";".join(names[:20])}
        rows.append(("sync, 20 present", median(lambda: timed([*cli, "sync"], sync_env), n * 4),
                     "no-op install, 20", rows[-1][1]))  # fmt: skip

        timed([*cli, "install", *names], env)  # 50 environments
        which = median(lambda: timed([*cli, "which", names[0]], env), n * 4)
        rows.append(("list, 50 environments", median(lambda: timed([*cli, "list", "--json"], env), n * 4),
                     "which (startup floor)", which))  # fmt: skip
        floor = median(lambda: timed([sys.executable, "-c", "pass"]), n * 4)
        rows.append(("which", which, "python -c pass", floor))
        rows.append(("shell-hook", median(lambda: timed([*cli, "shell-hook", "--shell", "bash"], env), n * 4),
                     "python -c pass", floor))  # fmt: skip
        rows.append(("config show", median(lambda: timed([*cli, "config", "show"], env), n * 4),
                     "python -c pass", floor))  # fmt: skip
        doctor_env = {**env, "CONDA_PIXI_BACKENDS_BACKENDS": ";".join(names)}
        doctor = median(lambda: timed([*cli, "doctor", "--json"], doctor_env), n)
        rows.append(("doctor, 50 environments", doctor, "which (startup floor)", which))

        script = root / "activate" / "activate.bash"
        clean = {"PATH": "/usr/bin:/bin", "HOME": str(work)}
        rows.append(("bash: source activate.bash", median(lambda: timed(["bash", "--norc", "-c", f". '{script}'"], clean), n * 8),
                     "bash -c :", median(lambda: timed(["bash", "--norc", "-c", ":"], clean), n * 8)))  # fmt: skip
        record = next((root / "envs").glob(f"{names[0]}-*.json"))
        meta = json.loads(record.read_text())
        direct_env = {**clean, **meta["activation"]["set"]}
        rows.append(("launcher --version", median(lambda: timed([str(root / "bin" / names[0]), "--version"], clean), n * 8),
                     "backend directly", median(lambda: timed([meta["executable"], "--version"], direct_env), n * 8)))  # fmt: skip

        if importlib.util.find_spec("conda") is not None:
            target = work / "conda-env"

            def conda_create() -> float:
                return timed([sys.executable, "-m", "conda", "create", "--offline", "-y", "-q", "-p", str(target),
                              "-c", channel.as_uri(), "--override-channels", names[0]], env)  # fmt: skip

            conda_ms = median(conda_create, n, lambda: shutil.rmtree(target, ignore_errors=True))
            rows.append(
                (
                    "install, 1 backend (cold)",
                    cold[1][0],
                    "conda create --offline, same env",
                    conda_ms,
                )
            )
            # Through conda, what `which` adds to conda's floor for a plugin command (conda
            # loaded, our parser reached: `--version`), against what it adds to Python's floor
            # as a program of its own: at most 1 is the goal.
            conda = [sys.executable, "-m", "conda", "pixi-backend"]
            conda_which, conda_floor = in_turn(
                functools.partial(timed, [*conda, "which", names[0]], env),
                functools.partial(timed, [*conda, "--version"], env), n * 2, lambda: None,
            )  # fmt: skip
            over = statistics.median(conda_which) - statistics.median(conda_floor)
            rows.append(("conda pixi-backend which, over floor", over,
                         "which, over python -c pass", which - floor))  # fmt: skip
        else:
            print("conda is not importable: the comparison with `conda create` is left out")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"conda-pixi-backends benchmark suite: medians of {n} runs (light measures: {n * 4}-{n * 8})"
    )
    print(f"{'measure':<34} {'ms':>8}   {'against':<34} {'ms':>8}  {'ratio':>6}")
    for name, value, base_name, base in rows:
        print(f"{name:<34} {value:8.1f}   {base_name:<34} {base:8.1f}  {value / base:6.2f}")
    plot(rows, plot_path)
    return 0


def plot(rows: list[tuple[str, float, str, float]], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install .[bench]): no plot written")
        return
    fig, ax = plt.subplots(figsize=(10, 0.7 * len(rows) + 1.5))
    labels = [f"{r[0]}\nvs {r[2]}" for r in rows]
    y = range(len(rows))
    ax.barh([i + 0.2 for i in y], [r[1] for r in rows], height=0.4, label="conda-pixi-backends")
    ax.barh([i - 0.2 for i in y], [r[3] for r in rows], height=0.4, label="baseline")
    ax.set_yticks(list(y), labels)
    ax.set_xscale("log")
    ax.set_xlabel("median wall time, ms (log scale)")
    ax.invert_yaxis()
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"plot written to {path}")


if __name__ == "__main__":
    sys.exit(main())
