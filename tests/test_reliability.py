"""Reliability of `install` and the store: concurrent installs, installs killed at random
points, and hundreds of consecutive runs, each checked against the store's invariants.

The invariants (docs/how-it-works.md): every metadata file parses and names a complete
prefix; every launcher in bin/ belongs to an exposed, complete environment and answers
`negotiateCapabilities`; exposed.json, bin/ and the activation scripts agree.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import BACKEND, CLI, NEGOTIATE, negotiate

from conda_pixi_backends import demo
from conda_pixi_backends.store import EnvRecord, Store

CMAKE = "pixi-build-demo-cmake"
BULK = "pixi-build-bulk"
BULK_FILES = 1200
BULK_VERSIONS = 4


# --- the store's invariants -------------------------------------------------------------------


def launcher_target(launcher: Path) -> str:
    """The executable a launcher `exec`s (its text is POSIX sh; values are quoted)."""
    tokens = shlex.split(launcher.read_text(encoding="utf-8"), comments=True)
    return tokens[len(tokens) - 1 - tokens[::-1].index("exec") + 1]


def launchers(root: Path) -> dict[str, Path]:
    bin_dir = root / "bin"
    if not bin_dir.is_dir():
        return {}
    return {p.name: p for p in bin_dir.iterdir() if not p.name.startswith(".")}


def complete_records(root: Path) -> dict[str, EnvRecord]:
    """Environment name -> record, for every environment with complete metadata."""
    store = Store(root)
    found = {}
    for meta in (root / "envs").glob("*.json"):
        record = store.record(meta.name[: -len(".json")])
        if record is not None:
            found[record.env_name] = record
    return found


def assert_launchers_run_complete_environments(root: Path, context: str = "") -> None:
    """What must hold at every instant, even right after a kill: each launcher runs an
    environment with complete metadata or, between a reinstall's switch of the metadata to its
    new prefix and the rewrite of the launchers, the intact prefix that reinstall replaced."""
    records = complete_records(root)
    executables = {r.executable for r in records.values()}
    for name, launcher in launchers(root).items():
        target = launcher_target(launcher)
        if target in executables:
            continue
        prefix = Path(target).parents[1]
        record = records.get(re.sub(r"\.\d+$", "", prefix.name))
        why = f"bin/{name} runs {target}, which no complete metadata describes. {context}"
        assert record is not None and Path(record.prefix) != prefix, why
        assert (prefix / "conda-meta").is_dir() and Path(target).is_file(), why
        bulk = prefix / "share" / "bulk"
        assert not bulk.exists() or len(list(bulk.iterdir())) == BULK_FILES, why
        proc = subprocess.run(
            [str(launcher)], input=NEGOTIATE, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, f"{why} It fails: {proc.stderr[-300:]}"


def sourced_overrides(script: Path, shell: str) -> tuple[dict[str, str], str]:
    """PIXI_BUILD_BACKEND_OVERRIDE and PATH after sourcing an activation script."""
    proc = subprocess.run(
        [
            shell,
            "-c",
            '. "$1" && printf "%s\\0%s" "${PIXI_BUILD_BACKEND_OVERRIDE-}" "$PATH"',
            shell,
            str(script),
        ],
        env={"PATH": "/usr/bin:/bin", "HOME": str(script.parent)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    value, path = proc.stdout.split("\0")
    items = dict(item.split("=", 1) for item in value.split(",") if item)
    return items, path


def assert_consistent(root: Path) -> dict[str, str]:
    """The whole store agrees with itself and every launcher works. Returns exposed.json."""
    store = Store(root)
    records = {}
    for meta in sorted((root / "envs").glob("*.json")):
        data = json.loads(meta.read_text(encoding="utf-8"))  # parses
        record = store.record(meta.name[: -len(".json")])
        assert record is not None, f"{meta.name} does not describe a complete environment"
        assert Path(data["prefix"]) == Path(record.prefix)
        assert record.executable and Path(record.executable).is_file()
        records[record.env_name] = record
    exposed = json.loads((root / "exposed.json").read_text(encoding="utf-8"))
    assert set(exposed.values()) <= set(records), "exposed.json names an incomplete environment"
    found = launchers(root)
    assert set(found) == set(exposed), "bin/ and exposed.json disagree"
    for name, launcher in found.items():
        record = records[exposed[name]]
        assert record.name == name
        assert launcher_target(launcher) == record.executable
        assert negotiate(launcher)["result"]["capabilities"]["providesCondaOutputs"] is True
    expected = {name: str(root / "bin" / name) for name in exposed}
    for shell, script in (("bash", "activate.bash"), ("dash", "activate.sh")):
        if shutil.which(shell):
            items, path = sourced_overrides(root / "activate" / script, shell)
            assert items == expected, f"{script} exposes {items}, not {expected}"
            assert path.split(":")[0] == str(root / "bin")
    return exposed


def env_folders(root: Path) -> set[Path]:
    """Environment folders, not counting retired ones (kept for launchers still running)."""
    envs = root / "envs"
    return {
        p
        for p in envs.iterdir()
        if p.is_dir() and not p.name.startswith(".") and not (envs / f"{p.name}.retired").exists()
    }


# --- concurrency ------------------------------------------------------------------------------


def run_together(
    jobs: Sequence[tuple[list[str], dict[str, str]]], cwd: Path, timeout: float = 300
) -> list[tuple[int, str, str]]:
    """Start every job at once; (exit code, stdout, stderr) of each."""
    procs = [
        subprocess.Popen(
            [*CLI, *argv],
            env=env,
            cwd=cwd,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for argv, env in jobs
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        results.append((proc.returncode, out, err))
    return results


def test_eight_processes_install_one_backend(
    env: dict[str, str], root: Path, tmp_path: Path
) -> None:
    results = run_together([(["install", BACKEND, "--json"], env)] * 8, tmp_path)
    assert [code for code, _, _ in results] == [0] * 8, [err for _, _, err in results]
    rows = [json.loads(out)["backends"][0] for _, out, _ in results]
    assert {r["status"] for r in rows} <= {"installed", "already-installed"}
    assert "installed" in {r["status"] for r in rows}
    assert len({r["key"] for r in rows}) == 1
    assert len(list((root / "envs").glob("*.json"))) == 1
    record = Store(root).records()[0]
    assert env_folders(root) == {Path(record.prefix)}, "one request, one environment"
    assert assert_consistent(root) == {BACKEND: record.env_name}


def test_eight_processes_reinstall_and_reuse_one_backend(
    env: dict[str, str], root: Path, tmp_path: Path
) -> None:
    """Half reinstall (--force), half find it installed: each reinstall gets a fresh prefix and
    retires the one it replaced; in the end one metadata file, one live prefix, no leftovers."""
    subprocess.run([*CLI, "install", BACKEND], env=env, cwd=tmp_path, check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    jobs = [
        (["install", BACKEND, "--json", *(["--force"] if i % 2 else [])], env) for i in range(8)
    ]
    results = run_together(jobs, tmp_path)
    assert [code for code, _, _ in results] == [0] * 8, [err for _, _, err in results]
    statuses = [json.loads(out)["backends"][0]["status"] for _, out, _ in results]
    assert statuses[1::2] == ["installed"] * 4
    assert set(statuses[::2]) <= {"installed", "already-installed"}
    (record,) = Store(root).records()
    assert env_folders(root) == {Path(record.prefix)}, "replaced prefixes are all retired"
    assert assert_consistent(root) == {BACKEND: record.env_name}


@pytest.fixture
def other_channel(channel: Path, tmp_path: Path) -> Path:
    """The demo channel at another URL: a request naming it is another request."""
    return Path(shutil.copytree(channel, tmp_path / "mirror"))


def test_eight_processes_install_eight_requests(
    env: dict[str, str], root: Path, tmp_path: Path, channel: Path, other_channel: Path
) -> None:
    manifest = tmp_path / "with-deps" / "pixi.toml"
    manifest.parent.mkdir()
    manifest.write_text(
        '[package]\nname = "p"\nversion = "1.0"\n\n[package.build]\n'
        f'backend = {{ name = "{BACKEND}", version = "0.2.*" }}\n'
        f"channels = [{json.dumps(channel.as_uri())}]\n"
        '[package.build.additional-dependencies]\npixi-build-api-version = "7.*"\n'
    )
    orders = (
        ["-c", str(channel), "-c", str(other_channel)],
        ["-c", str(other_channel), "-c", str(channel)],
    )
    constrained = {**env, "CONDA_PIXI_BACKENDS_CONSTRAINTS": "pixi-build-api-version >=7"}
    jobs = [
        ([f"{BACKEND} 0.1.*"], env),
        ([f"{BACKEND} 0.2.*"], env),
        ([CMAKE], env),
        ([CMAKE], constrained),
        ([f"{CMAKE} 0.1.*", *orders[0], "--override-channels"], env),
        ([f"{CMAKE} 0.1.*", *orders[1], "--override-channels"], env),
        ([f"{BACKEND} 0.2.*", *orders[0]], constrained),
        (["-m", str(manifest)], env),
    ]
    results = run_together([(["install", *argv, "--json"], e) for argv, e in jobs], tmp_path)
    assert [code for code, _, _ in results] == [0] * 8, [err for _, _, err in results]
    rows = [json.loads(out)["backends"][0] for _, out, _ in results]
    assert [r["status"] for r in rows] == ["installed"] * 8
    keys = {r["key"] for r in rows}
    assert len(keys) == 8, "eight requests, eight keys"
    records = {r.key: r for r in Store(root).records()}
    assert set(records) == keys, "exactly one environment per request key"
    assert env_folders(root) == {Path(r.prefix) for r in records.values()}
    for row in rows:
        assert records[row["key"]].package(row["name"])["version"] == row["version"]
    exposed = assert_consistent(root)
    assert set(exposed) == {BACKEND, CMAKE}
    assert set(exposed.values()) <= {r.env_name for r in records.values()}


# --- crashes ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bulk_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backend whose environment holds many files, so that a kill often lands mid-install;
    several versions of the data, so that some kills land while the package cache fills."""
    channel = tmp_path_factory.mktemp("bulk-channel")
    demo.build_runtime(channel)
    demo.build_package(channel, "pixi-build-api-version", demo.API_VERSION)
    for version in range(1, BULK_VERSIONS + 1):
        files = {
            f"share/bulk/f{i:04d}.txt": f"{version} {i} {demo.PLACEHOLDER}\n"
            if i % 50 == 0
            else f"{version} {i}\n" * 16
            for i in range(BULK_FILES)
        }
        demo.build_package(channel, "bulk-data", f"{version}.0", files)
    demo.build_backend(channel, BULK, "1.0", depends=["bulk-data"])
    demo.index(channel)
    return channel


def bulk_env(env: dict[str, str], channel: Path, run: int) -> dict[str, str]:
    """A request of its own for each run (constraints are part of the key)."""
    version = run % BULK_VERSIONS + 1
    constraints = f"bulk-data =={version}.0;pixi-build-api-version >=0.{run}"
    return {
        **env,
        "CONDA_PIXI_BACKENDS_CHANNELS": channel.as_uri(),
        "CONDA_PIXI_BACKENDS_CONSTRAINTS": constraints,
    }


def install_bulk(env: dict[str, str], cwd: Path, *extra: str) -> dict:
    proc = subprocess.run(
        [*CLI, "install", BULK, "--json", *extra],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["backends"][0]


def assert_bulk_complete(root: Path, row: dict) -> None:
    """The repaired environment is whole: every file, every prefix placeholder replaced."""
    record = Store(root).record(f"{BULK}-{row['key']}")
    assert record is not None
    files = list(Path(record.prefix, "share", "bulk").iterdir())
    assert len(files) == BULK_FILES
    assert not [f for f in files if demo.PLACEHOLDER in f.read_text(encoding="utf-8")]
    assert negotiate(root / "bin" / BULK)["result"]["capabilities"]["providesCondaOutputs"]


def time_install(
    env: dict[str, str], channel: Path, root: Path, cwd: Path, run: int
) -> tuple[float, float]:
    """How long a whole install takes, and when it starts writing its environment."""
    before = set((root / "envs").iterdir()) if (root / "envs").is_dir() else set()
    started = time.monotonic()
    proc = subprocess.Popen(
        [*CLI, "install", BULK], env=bulk_env(env, channel, run), cwd=cwd,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    writing = None
    while proc.poll() is None:
        if writing is None and set((root / "envs").glob("*")) - before:
            writing = time.monotonic() - started
        time.sleep(0.002)  # a busy loop would slow the install it times
    duration = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    return duration, writing if writing is not None else 0.0


def kill_when(proc: subprocess.Popen[bytes], delay: float) -> int:
    try:
        return proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        return proc.wait(timeout=60)


def start_forced_install(request_env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CLI, "install", BULK, "--json", "--force"],
        env=request_env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


RUNS = 20


def test_installs_killed_at_random_points(
    env: dict[str, str], root: Path, tmp_path: Path, bulk_channel: Path
) -> None:
    """SIGKILL at a random point of an install, 20 times into one store: no launcher ever
    runs an environment without complete metadata, and the next install repairs the store
    without hanging on the lock the dead process held (the kernel frees fcntl locks).

    Even runs install a new request (some fill the package cache); odd runs reinstall, with
    --force, the environment the previous run exposed."""
    seed = int(os.environ.get("CPB_CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    # A whole install fills the package cache; a second one, like most below, only links
    # files: it times the phases. The interpreter's start and the solve write nothing, then
    # the environment is written.
    root.mkdir(parents=True)
    time_install(env, bulk_channel, root, tmp_path, RUNS)
    duration, writing = time_install(env, bulk_channel, root, tmp_path, RUNS + BULK_VERSIONS)
    # Half the kills are timed from the start, stratified over the whole install; the other
    # half wait until the store starts changing and then land a random moment into the
    # writing phase. Timing those from the start too would rest on one noisy yardstick (a
    # shared machine, or a fresh clone compiling .pyc files), and might all miss the phase.
    # Aim at the first 80% of each span so most kills land before a run can finish.
    half = RUNS // 2
    plan = [(False, 0.8 * duration * (k + rng.random()) / half) for k in range(half)]
    plan += [(True, 0.8 * (duration - writing) * (k + rng.random()) / half) for k in range(half)]
    rng.shuffle(plan)
    killed = mid_install = 0
    for run, (after_writing, delay) in enumerate(plan):
        request_env = bulk_env(env, bulk_channel, run - run % 2)
        force = ["--force"] if run % 2 else []
        before = set((root / "envs").iterdir())
        proc = subprocess.Popen(
            [*CLI, "install", BULK, "--json", *force],
            env=request_env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if after_writing:
            while proc.poll() is None and set((root / "envs").iterdir()) == before:
                time.sleep(0.001)
        code = kill_when(proc, delay)
        phase = "after writing began" if after_writing else "after start"
        context = f"run {run}, kill {delay:.3f}s {phase} of ~{duration:.3f}s, seed {seed}"
        assert code in (0, -signal.SIGKILL), context
        killed += code == -signal.SIGKILL
        mid_install += code == -signal.SIGKILL and set((root / "envs").iterdir()) != before
        assert_launchers_run_complete_environments(root, context)
        row = install_bulk(request_env, tmp_path)  # no --force: repair only what is broken
        assert row["status"] in ("installed", "already-installed"), context
        assert_bulk_complete(root, row)
        assert_consistent(root)
    # The point is that kills happen, many of them mid-install; how many is up to the timing.
    assert killed >= RUNS // 3, f"only {killed} of {RUNS} installs were killed (seed {seed})"
    assert mid_install >= 3, f"only {mid_install} kills landed mid-install (seed {seed})"


def test_forced_reinstall_killed_mid_install(
    env: dict[str, str], root: Path, tmp_path: Path, bulk_channel: Path
) -> None:
    """`install --force` of the exposed environment, killed once it has started changing the
    store: the launcher must still run a complete environment (the old one or none), never
    a half-removed or half-installed one."""
    request_env = bulk_env(env, bulk_channel, 0)
    row = install_bulk(request_env, tmp_path)
    meta = root / "envs" / f"{BULK}-{row['key']}.json"
    for _attempt in range(5):
        before = {p: p.stat().st_mtime_ns for p in (root / "envs").iterdir()}
        proc = start_forced_install(request_env, tmp_path)
        while proc.poll() is None:
            now = {p: p.stat().st_mtime_ns for p in (root / "envs").iterdir() if p.exists()}
            if now != before or not meta.exists():
                break
        time.sleep(0.02)  # let it get well into the install
        if kill_when(proc, 0) == -signal.SIGKILL:
            break
    else:
        pytest.fail("the forced install always finished before it could be killed")
    assert_launchers_run_complete_environments(root)
    if (root / "bin" / BULK).exists():
        negotiate(root / "bin" / BULK)
    repaired = install_bulk(request_env, tmp_path)
    assert repaired["status"] in ("installed", "already-installed")
    assert_bulk_complete(root, repaired)
    assert_consistent(root)


def test_reinstall_killed_at_the_switch_leaks_no_environment(
    env: dict[str, str], root: Path, tmp_path: Path, bulk_channel: Path
) -> None:
    """`install --force` retires the prefix it replaces, then switches the metadata to the new
    prefix, then rewrites the launchers. At the moment the switch shows, the replaced prefix is
    retired already (a later gc removes it after its grace period), never kept forever; killed
    right then, the store still repairs and leaks nothing."""
    request_env = bulk_env(env, bulk_channel, 100)
    row = install_bulk(request_env, tmp_path)
    meta = root / "envs" / f"{BULK}-{row['key']}.json"
    old = Path(json.loads(meta.read_text(encoding="utf-8"))["prefix"])
    before = meta.read_bytes()
    proc = start_forced_install(request_env, tmp_path)
    switched = False
    while not switched:  # watch for the switch; once the process is done, it has happened
        done = proc.poll() is not None
        with contextlib.suppress(OSError):
            switched = meta.read_bytes() != before
        if done and not switched:
            pytest.fail(f"the forced install ended (exit {proc.returncode}) without switching")
    retired_at_switch = old.with_name(f"{old.name}.retired").exists()
    kill_when(proc, 0)  # killed right after the switch, if it is still running
    assert retired_at_switch, "switched, but the old prefix was not retired first"
    new = Path(json.loads(meta.read_text(encoding="utf-8"))["prefix"])
    assert new != old
    assert_launchers_run_complete_environments(root)
    install_bulk(request_env, tmp_path)  # repair: the launchers now run the new prefix
    gc = subprocess.run([*CLI, "gc", "--json"], env=request_env, cwd=tmp_path,
                        capture_output=True, text=True, timeout=120)  # fmt: skip
    assert gc.returncode == 0, gc.stderr
    described = {Path(r.prefix) for r in complete_records(root).values()}
    leaked = sorted(p.name for p in env_folders(root) if p not in described)
    assert leaked == [], "prefixes no metadata describes, never retired: kept forever"
    assert old.is_dir(), "retired: kept for its grace period"
    assert_consistent(root)


def test_reinstall_failing_before_the_switch_keeps_the_old_prefix_live(
    env: dict[str, str], root: Path, tmp_path: Path
) -> None:
    """A reinstall retires the old prefix just before it writes the metadata; when it dies in
    between, the metadata still names the old prefix: gc and update keep it, and once no
    reinstall holds the lock, the stray marker goes."""
    argv = [*CLI, "install", BACKEND, "--json"]
    subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, check=True, timeout=120)
    store = Store(root)
    (record,) = store.records()
    live = Path(record.prefix)
    store.retire(live)  # as a reinstall killed between its retirement and its switch leaves it
    marker = store.retired_marker(live)
    old = time.time() - 3 * 86400
    os.utime(marker, (old, old))
    with store.lock(record.env_name):  # while a reinstall is at work, the marker stays
        assert store.sweep_retired(0) == [] and marker.exists()
    gc = subprocess.run([*CLI, "gc", "--json"], env=env, cwd=tmp_path,
                        capture_output=True, text=True, timeout=120)  # fmt: skip
    assert gc.returncode == 0, gc.stderr
    assert [r for r in json.loads(gc.stdout)["removed"] if r["kind"] != "package"] == []
    assert (live / "conda-meta").is_dir() and not marker.exists()
    assert store.record(record.env_name) == record
    assert_consistent(root)


def test_noting_a_use_never_undoes_a_newer_install(
    env: dict[str, str], root: Path, tmp_path: Path
) -> None:
    """A no-op install reads an environment's metadata when it plans, and writes it back later
    with a new last-used time. When another process reinstalled the environment in between,
    that write must not bring back the old metadata (the old prefix, packages and times)."""
    argv = [*CLI, "install", BACKEND, "--json"]
    row = json.loads(
        subprocess.run(
            argv, env=env, cwd=tmp_path, capture_output=True, text=True, check=True
        ).stdout
    )["backends"][0]
    store = Store(root)
    env_name = f"{BACKEND}-{row['key']}"
    stale = store.record(env_name)  # what a concurrent no-op install read while planning
    assert stale is not None
    time.sleep(1.1)  # metadata times have a resolution of one second
    subprocess.run([*argv, "--force"], env=env, cwd=tmp_path, capture_output=True, check=True)
    fresh = store.record(env_name)
    assert fresh is not None and fresh.created != stale.created
    noted = store.touch(stale, [])  # ...and now notes its use
    current = store.record(env_name)
    assert current == fresh, "a stale record was written back over a newer install"
    assert noted == fresh, "the caller gets the current metadata back"

    # The current record: its use is noted, under the lock; a busy lock skips the note.
    time.sleep(1.1)
    with store.lock(env_name):
        assert store.touch(fresh, ["/somewhere/pixi.toml"]) == fresh
    assert store.record(env_name) == fresh
    noted = store.touch(fresh, ["/somewhere/pixi.toml"])
    current = store.record(env_name)
    assert current == noted and current.last_used > fresh.last_used
    assert "/somewhere/pixi.toml" in current.manifests
    assert (current.prefix, current.created) == (fresh.prefix, fresh.created)
    assert_consistent(root)


# --- many consecutive runs --------------------------------------------------------------------

CONSECUTIVE = 300


def test_three_hundred_consecutive_runs(env: dict[str, str], root: Path, tmp_path: Path) -> None:
    """py-rattler's runtime can crash at interpreter shutdown after async calls (DESIGN.md):
    every run, a real install (--force), a no-op install or `which`, must exit 0, never by a
    signal, with its whole output."""
    launcher = str(root / "bin" / BACKEND)
    runs = {
        "force": ["install", BACKEND, "--json", "--force"],
        "no-op": ["install", BACKEND, "--json"],
        "which": ["which", BACKEND],
    }
    kinds = list(runs)
    deaths, failures = [], []
    for i in range(CONSECUTIVE):
        kind = kinds[i % 3]
        proc = subprocess.run(
            [*CLI, *runs[kind]],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if proc.returncode < 0:
            deaths.append((i, kind, signal.Signals(-proc.returncode).name))
            continue
        try:
            assert proc.returncode == 0, proc.stderr[-300:]
            if kind == "which":
                assert proc.stdout == launcher + "\n"
            else:
                row = json.loads(proc.stdout)["backends"][0]
                want = "installed" if kind == "force" else "already-installed"
                assert (row["status"], row["executables"]) == (want, [launcher])
        except (AssertionError, ValueError) as exc:
            failures.append((i, kind, proc.returncode, str(exc)[:300]))
    assert deaths == [], f"{len(deaths)} of {CONSECUTIVE} runs died by a signal: {deaths[:5]}"
    assert failures == [], f"{len(failures)} of {CONSECUTIVE} runs failed: {failures[:5]}"
    assert_consistent(root)


def test_launcher_answers_while_installs_run(
    env: dict[str, str], root: Path, tmp_path: Path
) -> None:
    """Pixi may start a backend while another shell reinstalls it: every start through the
    launcher during repeated --force installs must answer."""
    subprocess.run(
        [*CLI, "install", BACKEND],
        env=env,
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=120,
    )
    launcher = root / "bin" / BACKEND
    installer = subprocess.Popen(
        [
            "sh",
            "-c",
            'for i in 1 2 3 4 5 6 7 8; do "$@" || exit 1; done',
            "sh",
            *CLI,
            "install",
            BACKEND,
            "--force",
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    answers, broken = 0, []
    while installer.poll() is None:
        proc = subprocess.run(
            [str(launcher)], input=NEGOTIATE, capture_output=True, text=True, timeout=60
        )
        if proc.returncode == 0 and '"providesCondaOutputs"' in proc.stdout:
            answers += 1
        else:
            broken.append((proc.returncode, proc.stderr.strip()[-200:]))
    assert installer.returncode == 0, installer.stderr.read() if installer.stderr else ""
    assert broken == [], f"{len(broken)} of {answers + len(broken)} starts failed: {broken[:3]}"
    assert answers > 0
