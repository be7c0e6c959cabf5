"""`list`, `remove`, `gc` and `run` on a real store built by installing the demo backends."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest
from conftest import BACKEND, NEGOTIATE, Run, as_json, by_name, negotiate, snapshot

from conda_pixi_backends import demo

CMAKE = "pixi-build-demo-cmake"
OLD = "2020-01-01T00:00:00+00:00"


@pytest.fixture(scope="module")
def extra_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second channel with one package no other environment uses."""
    channel = tmp_path_factory.mktemp("extra")
    demo.build_package(channel, "extra-tool", "1.0", {"share/extra-tool/data.txt": "x" * 4096})
    demo.index(channel)
    return channel


def installed(cli: Run, *args: str, cwd: Path | None = None) -> dict[str, dict]:
    return by_name(as_json(cli("install", "--json", *args, cwd=cwd)))


def rows(listing: dict) -> dict[str, dict]:
    return {row["env"]: row for row in listing["environments"]}


def make_old(root: Path, env: str) -> None:
    """Pretend an environment was last used long ago: in its metadata, and the metadata's
    modification time, which a use that changes nothing else sets."""
    path = root / "envs" / f"{env}.json"
    data = json.loads(path.read_text())
    data["last_used"] = OLD
    path.write_text(json.dumps(data))
    old = datetime.fromisoformat(OLD).timestamp()
    os.utime(path, (old, old))


def distinct_bytes(paths: list[Path]) -> int:
    """File bytes below the paths, each inode once: the hardlink-aware size, computed here."""
    seen, total = set(), 0
    for top in paths:
        for folder, _, files in os.walk(top):
            for name in files:
                st = os.lstat(os.path.join(folder, name))
                if (st.st_dev, st.st_ino) not in seen:
                    seen.add((st.st_dev, st.st_ino))
                    total += st.st_size
    return total


def package_manifest(folder: Path, backend: str, channels: list[Path]) -> Path:
    """A package manifest of its own (no workspace) that names a backend and its channels."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pixi.toml"
    urls = ", ".join(json.dumps(c.as_uri()) for c in channels)
    path.write_text(
        f'[package]\nname = "{folder.name}"\nversion = "0.1.0"\n\n'
        f"[package.build]\nbackend = {backend}\nchannels = [{urls}]\n"
    )
    return path


# --- list ---------------------------------------------------------------------------------


def test_list_fields_sizes_overrides_and_incomplete(
    cli: Run, workspace: Path, channel: Path, root: Path
) -> None:
    ws = installed(cli, cwd=workspace)  # python 0.2.* (greeter) and cmake 0.1.* (engine)
    old = installed(cli, f"{BACKEND} 0.1.*")[BACKEND]  # now the exposed python
    (root / "envs" / f"{CMAKE}-0123456789ab").mkdir()  # an install that died before metadata
    listing = as_json(
        cli("list", "--json", extra_env={"PIXI_BUILD_BACKEND_OVERRIDE": f"{CMAKE}=/usr/bin/true"})
    )
    found = rows(listing)
    assert listing["root"] == str(root)
    complete_envs = sorted(env for env, row in found.items() if row["status"] == "complete")
    assert list(found) == [*complete_envs, f"{CMAKE}-0123456789ab"], "complete ones first, by name"
    assert found[f"{CMAKE}-0123456789ab"] == {
        "env": f"{CMAKE}-0123456789ab",
        "status": "incomplete",
        "path": str(root / "envs" / f"{CMAKE}-0123456789ab"),
        "metadata": None,
        "reason": "it has no metadata (being installed, or an install did not finish)",
    }
    new_py = found[f"{BACKEND}-{ws[BACKEND]['key']}"]
    old_py = found[f"{BACKEND}-{old['key']}"]
    cmake = found[f"{CMAKE}-{ws[CMAKE]['key']}"]
    assert (new_py["version"], old_py["version"], cmake["version"]) == ("0.2.0", "0.1.0", "0.1.0")
    assert new_py["build"] == "0" and new_py["channel"].rstrip("/") == channel.as_uri()
    assert new_py["spec"] == f"{BACKEND} 0.2.*" and new_py["prefix"] == ws[BACKEND]["prefix"]
    assert new_py["manifests"] == [str(workspace / "greeter" / "pixi.toml")]
    assert old_py["manifests"] == [], "a SPEC is no manifest"
    assert old_py["exposed"] and old_py["executables"] == [str(root / "bin" / BACKEND)]
    assert not new_py["exposed"] and new_py["executables"] == [], "the last install exposes"
    assert cmake["exposed"] and cmake["executables"] == [str(root / "bin" / CMAKE)]
    assert cmake["override"] == {
        "variable": "PIXI_BUILD_BACKEND_OVERRIDE",
        "value": "/usr/bin/true",
    }
    assert new_py["override"] is None and old_py["override"] is None
    assert new_py["created"] <= new_py["last_used"]

    # Sizes: each inode once. The first environment owns all of its bytes; later ones share the
    # package cache's files (demo-runtime, pixi-build-api-version) with it, so own less.
    complete = [r for r in listing["environments"] if r["status"] == "complete"]
    first, *later = complete
    assert first["size"]["unique"] == first["size"]["apparent"] > 0
    for row in later:
        assert 0 < row["size"]["unique"] < row["size"]["apparent"], row["env"]
        assert row["size"]["apparent"] == distinct_bytes([Path(row["prefix"])])
    totals = listing["totals"]
    assert totals["environments"] == sum(r["size"]["unique"] for r in complete)
    assert totals["environments"] == distinct_bytes([Path(r["prefix"]) for r in complete])
    assert totals["store"] == distinct_bytes([root]), "every distinct file under the root"

    every = as_json(cli("list", "--json", extra_env={"PIXI_BUILD_BACKEND_OVERRIDE_ALL": ""}))
    assert {
        r["override"]["variable"] for r in every["environments"] if r["status"] == "complete"
    } == {"PIXI_BUILD_BACKEND_OVERRIDE_ALL"}
    ours = cli(
        "list",
        "--json",
        extra_env={"PIXI_BUILD_BACKEND_OVERRIDE": f"{CMAKE}={root / 'bin' / CMAKE}"},
    )
    assert all(r.get("override") is None for r in as_json(ours)["environments"]), (
        "our own activation's entry is no override"
    )

    text = cli("list", extra_env={"PIXI_BUILD_BACKEND_OVERRIDE": f"{CMAKE}=/usr/bin/true"})
    assert text.returncode == 0, text.stderr
    assert f"incomplete: {root / 'envs' / f'{CMAKE}-0123456789ab'}" in text.stdout
    assert f"exposed: {root / 'bin' / BACKEND}" in text.stdout
    assert "overridden by PIXI_BUILD_BACKEND_OVERRIDE" in text.stdout

    timed = cli("list", "--json", extra_env={"PYTHONPROFILEIMPORTTIME": "1"})
    imported = [line.split("|")[-1].strip() for line in timed.stderr.splitlines() if "|" in line]
    assert imported and not [m for m in imported if m.split(".")[0] == "rattler"], "no py-rattler"


def test_list_of_an_empty_or_missing_store(cli: Run, root: Path) -> None:
    listing = as_json(cli("list", "--json"))
    assert listing["environments"] == [] and listing["totals"] == {"environments": 0, "store": 0}
    assert not root.exists(), "list creates nothing"
    assert "No backend environments" in cli("list").stdout


# --- remove -------------------------------------------------------------------------------


def activation_mentions(root: Path, text: str) -> list[str]:
    return [p.name for p in (root / "activate").iterdir() if text in p.read_text()]


def test_remove_by_key_and_by_name(cli: Run, workspace: Path, root: Path) -> None:
    ws = installed(cli, cwd=workspace)
    old = installed(cli, f"{BACKEND} 0.1.*")[BACKEND]
    cmake_env = f"{CMAKE}-{ws[CMAKE]['key']}"
    assert activation_mentions(root, str(root / "bin" / CMAKE))

    before = snapshot(root)
    dry = as_json(cli("remove", "--dry-run", "--json", ws[CMAKE]["key"]))
    assert [(r["env"], r["status"]) for r in dry["removed"]] == [(cmake_env, "would-remove")]
    assert dry["bytes_freed"] > 0 and snapshot(root) == before, "a dry run changes nothing"

    result = as_json(cli("remove", "--json", ws[CMAKE]["key"]))
    (row,) = result["removed"]
    assert row["env"] == cmake_env and row["status"] == "removed"
    assert row["launcher"] == str(root / "bin" / CMAKE) and row["version"] == "0.1.0"
    assert result["bytes_freed"] == dry["bytes_freed"], "the dry run foretold it"
    assert not Path(ws[CMAKE]["prefix"]).exists()
    assert not (root / "envs" / f"{cmake_env}.json").exists()
    assert not (root / "bin" / CMAKE).exists()
    assert CMAKE not in json.loads((root / "exposed.json").read_text())
    assert activation_mentions(root, CMAKE) == [], "no activation script names it any more"
    which = cli("which", CMAKE)
    assert which.returncode == 1 and "not installed" in which.stderr
    assert BACKEND in json.loads((root / "exposed.json").read_text()), "the rest stays exposed"

    # NAME removes every environment of that backend; NAME-KEY names one.
    result = as_json(cli("remove", "--json", BACKEND, f"{BACKEND}-{old['key']}"))
    assert sorted(r["key"] for r in result["removed"]) == sorted([ws[BACKEND]["key"], old["key"]])
    assert sorted(p.name for p in (root / "envs").iterdir()) == []
    assert [p.name for p in (root / "bin").iterdir()] == []
    assert json.loads((root / "exposed.json").read_text()) == {}
    assert activation_mentions(root, str(root / "bin" / BACKEND)) == []
    assert cli("which", BACKEND).returncode == 1
    # Package-cache entries stay for gc; lock files are left (a waiter may hold one open).
    assert any((root / "pkgs").iterdir())


def test_remove_unknown_name_changes_nothing(cli: Run, root: Path) -> None:
    installed(cli, BACKEND)
    before = snapshot(root)
    proc = cli("remove", BACKEND, "no-such-backend", "abcdef012345")
    assert proc.returncode == 2
    assert "error: no-such-backend, abcdef012345: no backend environment" in proc.stderr
    assert "nothing removed" in proc.stderr
    assert snapshot(root) == before


def test_remove_an_incomplete_environment(cli: Run, root: Path) -> None:
    installed(cli, BACKEND)
    leftover = root / "envs" / f"{CMAKE}-0123456789ab"
    (leftover / "bin").mkdir(parents=True)
    result = as_json(cli("remove", "--json", CMAKE))
    assert [(r["env"], r["complete"]) for r in result["removed"]] == [(leftover.name, False)]
    assert not leftover.exists()


# --- gc -----------------------------------------------------------------------------------


def test_gc_keeps_what_is_referenced_and_removes_the_rest(
    cli: Run, workspace: Path, channel: Path, extra_channel: Path, root: Path, tmp_path: Path
) -> None:
    # D: from a manifest that will ask for something else; E: from a manifest that will vanish.
    d_manifest = package_manifest(
        tmp_path / "d",
        f'{{ name = "{BACKEND}", version = "0.2.*", additional-dependencies = {{ extra-tool = "*" }} }}',
        [channel, extra_channel],
    )
    e_manifest = package_manifest(
        tmp_path / "e", f'{{ name = "{CMAKE}", version = "==0.1.0" }}', [channel]
    )
    d = installed(cli, "-m", str(d_manifest))[BACKEND]
    e = installed(cli, "-m", str(e_manifest))[CMAKE]
    # B: what the `backends` setting asks for (the user's config file of the `env` fixture).
    (tmp_path / "no-user-config.yml").write_text(f"backends:\n  - {BACKEND} >=0.1,<0.2\n")
    b = installed(cli, f"{BACKEND} >=0.1,<0.2")[BACKEND]
    ws = installed(cli, cwd=workspace)  # A: python 0.2.* and cmake 0.1.*, by their manifests
    c = installed(cli, CMAKE)[CMAKE]  # C: exposed (the last install of its name)
    envs = {
        "d": f"{BACKEND}-{d['key']}",
        "e": f"{CMAKE}-{e['key']}",
        "b": f"{BACKEND}-{b['key']}",
        "a_py": f"{BACKEND}-{ws[BACKEND]['key']}",
        "a_cmake": f"{CMAKE}-{ws[CMAKE]['key']}",
        "c": f"{CMAKE}-{c['key']}",
    }
    assert len(set(envs.values())) == 6
    assert json.loads((root / "exposed.json").read_text()) == {
        BACKEND: envs["a_py"],
        CMAKE: envs["c"],
    }

    # Everything was used just now: nothing goes yet.
    recent = as_json(cli("gc", "--json"))
    assert recent["removed"] == [] and len(recent["kept"]) == 6
    assert all("recent" in {r["kind"] for r in k["reasons"]} for k in recent["kept"])

    d_manifest.write_text(d_manifest.read_text().replace('"0.2.*"', '"0.1.*"'))  # asks for another
    e_manifest.unlink()
    incomplete = root / "envs" / f"{CMAKE}-0123456789ab"
    incomplete.mkdir()
    for env in envs.values():
        make_old(root, env)
    extra = [p.name for p in (root / "pkgs").iterdir() if p.name.startswith("extra-tool")]
    assert sorted(extra) == ["extra-tool-1.0-0", "extra-tool-1.0-0.lock"]

    before = snapshot(root)
    dry = as_json(cli("gc", "--dry-run", "--json"))
    assert snapshot(root) == before, "a dry run removes nothing"
    assert dry["dry_run"] and {r["status"] for r in dry["removed"]} == {"would-remove"}

    result = as_json(cli("gc", "--json"))
    assert [r["status"] for r in result["removed"]] == ["removed"] * len(result["removed"])
    assert result["removed"] == [{**r, "status": "removed"} for r in dry["removed"]]
    assert (result["kept"], result["bytes_freed"]) == (dry["kept"], dry["bytes_freed"])
    gone = {r["env"] for r in result["removed"] if r["kind"] != "package"}
    assert gone == {envs["d"], envs["e"], incomplete.name}
    assert [r["name"] for r in result["removed"] if r["kind"] == "package"] == ["extra-tool-1.0-0"]
    kept = {k["env"]: {r["kind"] for r in k["reasons"]} for k in result["kept"]}
    assert kept == {
        envs["b"]: {"config"},
        envs["a_cmake"]: {"manifest"},
        envs["a_py"]: {"exposed", "manifest"},
        envs["c"]: {"exposed"},
    }
    assert result["bytes_freed"] >= 4096, "at least extra-tool's data file"
    assert result["skipped"] == [] and result["package_cache"] is None

    # What went is gone; what stays still works and reinstalls nothing.
    for name in ("d", "e"):
        assert not (root / "envs" / envs[name]).exists()
        assert not (root / "envs" / f"{envs[name]}.json").exists()
    assert not incomplete.exists()
    pkgs = sorted(p.name for p in (root / "pkgs").iterdir())
    assert not [p for p in pkgs if p.startswith("extra-tool")]
    for used in (
        "demo-runtime-1.0-0",
        f"{BACKEND}-0.1.0-0",
        f"{BACKEND}-0.2.0-0",
        f"{CMAKE}-0.1.0-0",
    ):
        assert used in pkgs and f"{used}.lock" in pkgs, used
    assert ".cache.lock" in pkgs, "py-rattler's own lock stays"
    again = installed(cli, cwd=workspace)
    assert {v["status"] for v in again.values()} == {"already-installed"}
    assert installed(cli, CMAKE)[CMAKE]["status"] == "already-installed"
    assert installed(cli, f"{BACKEND} >=0.1,<0.2")[BACKEND]["status"] == "already-installed"
    answer = negotiate(root / "bin" / BACKEND, env={"PATH": "/usr/bin:/bin"})
    assert answer["result"]["capabilities"]["providesCondaOutputs"] is True

    # With nothing left to take, a second gc removes nothing; a manifest that cannot be read
    # now (mid-edit, say) keeps what it asked for rather than guess.
    engine = workspace / "engine" / "pixi.toml"
    engine.write_text(engine.read_text() + "\n[package.build\n")
    make_old(root, envs["a_cmake"])  # the installs above used it again
    again = as_json(cli("gc", "--json"))
    assert again["removed"] == []
    reasons = {k["env"]: k["reasons"] for k in again["kept"]}[envs["a_cmake"]]
    assert [(r["kind"], r["path"]) for r in reasons] == [("manifest-unreadable", str(engine))]


def test_gc_older_than_keeps_recently_used(cli: Run, root: Path) -> None:
    first = installed(cli, f"{BACKEND} 0.1.*")[BACKEND]
    installed(cli, f"{BACKEND} 0.2.*")  # takes the exposure from the first
    env = f"{BACKEND}-{first['key']}"
    kept = as_json(cli("gc", "--json", "--older-than", "1"))
    assert [k["reasons"] for k in kept["kept"] if k["env"] == env] == [
        [{"kind": "recent", "last_used": first_used(root, env)}]
    ]
    gone = as_json(cli("gc", "--json", "--older-than", "0"))
    assert [r["env"] for r in gone["removed"] if r["kind"] == "environment"] == [env]
    assert cli("gc", "--older-than", "-1").returncode == 2


def first_used(root: Path, env: str) -> str:
    from conda_pixi_backends.store import Store

    record = Store(root).record(env)
    assert record is not None
    return record.last_used


def test_gc_spares_an_environment_being_installed(cli: Run, root: Path) -> None:
    from conda_pixi_backends.store import Store

    installed(cli, BACKEND)
    busy = root / "envs" / f"{CMAKE}-0123456789ab"
    beside = root / "envs" / f"{busy.name}.1"  # where an update installs: the same lock
    busy.mkdir()
    beside.mkdir()
    with Store(root).lock(busy.name):  # as an install holds it
        result = as_json(cli("gc", "--json"))
    assert busy.exists() and beside.exists()
    reason = "being installed (its lock is held)"
    assert result["skipped"] == [{"env": e.name, "reason": reason} for e in (busy, beside)]
    assert as_json(cli("gc", "--json"))["skipped"] == [], "once free, both go"
    assert not busy.exists() and not beside.exists()


# --- run ----------------------------------------------------------------------------------


def test_run_passes_arguments_streams_and_exit_code(cli: Run, root: Path) -> None:
    backend = installed(cli, BACKEND)[BACKEND]
    version = cli("run", BACKEND, "--", "--version")
    assert (version.returncode, version.stdout) == (0, f"{BACKEND} 0.2.0\n")

    answer = cli("run", BACKEND, input=NEGOTIATE)
    assert answer.returncode == 0, answer.stderr
    reply = json.loads(answer.stdout.splitlines()[0])
    assert reply["id"] == 7 and reply["result"]["capabilities"]["providesCondaOutputs"] is True

    # The override wins; the raw executable, unactivated, exits 3 and says why.
    raw = Path(backend["prefix"]) / "bin" / BACKEND
    proc = cli("run", BACKEND, extra_env={"PIXI_BUILD_BACKEND_OVERRIDE": f"{BACKEND}={raw}"})
    assert proc.returncode == 3 and "not activated" in proc.stderr

    # Our own launcher in the variable (our activation put it there) is no override.
    ours = cli("run", BACKEND, "--", "--version",
               extra_env={"PIXI_BUILD_BACKEND_OVERRIDE": f"{BACKEND}={root / 'bin' / BACKEND}"})  # fmt: skip
    assert ours.returncode == 0 and ours.stdout == f"{BACKEND} 0.2.0\n"


def test_run_what_is_not_installed(cli: Run, tmp_path: Path) -> None:
    proc = cli("run", CMAKE)
    assert proc.returncode == 1
    assert f"python -m conda_pixi_backends install {CMAKE}" in proc.stderr
    path_only = cli(
        "run", CMAKE, extra_env={"PIXI_BUILD_BACKEND_OVERRIDE_ALL": "", "PATH": str(tmp_path)}
    )
    assert path_only.returncode == 1 and "PATH has no" in path_only.stderr
    script = tmp_path / CMAKE
    script.write_text('#!/bin/sh\necho "from PATH $*"; exit 5\n')
    script.chmod(0o755)
    from_path = cli(
        "run",
        CMAKE,
        "--",
        "a b",
        extra_env={"PIXI_BUILD_BACKEND_OVERRIDE_ALL": "", "PATH": f"{tmp_path}:/usr/bin:/bin"},
    )
    assert (from_path.returncode, from_path.stdout) == (5, "from PATH a b\n")


def test_gc_sweeps_retired_prefixes_after_their_grace_period(cli: Run, root: Path) -> None:
    from conda_pixi_backends.store import Store

    installed(cli, BACKEND)
    old, fresh = root / "envs" / f"{CMAKE}-0123456789ab", root / "envs" / f"{CMAKE}-ba9876543210"
    for prefix in (old, fresh):
        (prefix / "bin").mkdir(parents=True)
        (prefix / "bin" / CMAKE).write_text("x" * 1000)
        Store(root).retire(prefix)
    two_days_ago = os.stat(old.with_name(f"{old.name}.retired")).st_mtime - 2 * 86400
    os.utime(old.with_name(f"{old.name}.retired"), (two_days_ago, two_days_ago))

    dry = as_json(cli("gc", "--dry-run", "--json"))
    assert [(r["kind"], r["path"]) for r in dry["removed"]] == [("retired", str(old))]
    assert old.exists()
    result = as_json(cli("gc", "--json"))
    assert [(r["kind"], r["status"]) for r in result["removed"]] == [("retired", "removed")]
    assert result["bytes_freed"] == dry["bytes_freed"] >= 1000
    assert not old.exists() and fresh.exists(), "a launcher may still run from the fresh one"


def age(path: Path, days: float) -> None:
    then = os.stat(path).st_mtime - days * 86400
    os.utime(path, (then, then))


def test_gc_rewrites_the_launchers_before_it_sweeps(cli: Run, root: Path) -> None:
    """A reinstall that died after its metadata switch, before its launcher rewrite, leaves the
    launcher naming the retired prefix: gc rewrites it from the metadata, then sweeps."""
    from conda_pixi_backends import exposure
    from conda_pixi_backends.store import Store

    first = installed(cli, CMAKE)[CMAKE]
    store = Store(root)
    before = store.record(f"{CMAKE}-{first['key']}")
    assert before is not None
    forced = installed(cli, CMAKE, "--force")[CMAKE]
    old = Path(first["prefix"])
    assert forced["prefix"] != str(old) and store.retired_marker(old).exists()
    launcher = root / "bin" / CMAKE
    launcher.write_text(exposure.launcher_text(before))  # as the dead reinstall left it
    age(store.retired_marker(old), 2)

    result = as_json(cli("gc", "--json"))
    assert [(r["kind"], r["path"]) for r in result["removed"]] == [("retired", str(old))]
    assert not old.exists() and not store.retired_marker(old).exists()
    assert forced["prefix"] in launcher.read_text()
    assert negotiate(launcher)["result"]["capabilities"]["providesCondaOutputs"] is True


def test_gc_removes_an_orphaned_prefix(cli: Run, root: Path) -> None:
    """A prefix named like an environment whose metadata names another one, and not retired (a
    reinstall killed at its switch before reinstalls retired first): gc removes it unless an
    install holds the environment's lock; `list`, the metadata and the launcher stay right."""
    from conda_pixi_backends.store import Store

    first = installed(cli, CMAKE)[CMAKE]
    forced = installed(cli, CMAKE, "--force")[CMAKE]
    store = Store(root)
    orphan, env = Path(first["prefix"]), f"{CMAKE}-{first['key']}"
    assert orphan.name == env and forced["prefix"] != str(orphan)
    store.retired_marker(orphan).unlink()
    assert store.orphans() == [orphan]
    assert store.scan()[1] == [], "an orphan is no incomplete environment"

    with store.lock(env):  # an install at work on this environment
        busy = as_json(cli("gc", "--json"))
    assert {"env": env, "reason": "being installed (its lock is held)"} in busy["skipped"]
    assert orphan.is_dir()
    dry = as_json(cli("gc", "--dry-run", "--json"))
    wanted = [("orphaned", "would-remove", str(orphan))]
    assert [(r["kind"], r["status"], r["path"]) for r in dry["removed"]] == wanted
    assert orphan.is_dir()
    result = as_json(cli("gc", "--json"))
    assert [(r["kind"], r["status"], r["path"]) for r in result["removed"]] == [
        ("orphaned", "removed", str(orphan))
    ]
    assert result["bytes_freed"] > 0 and not orphan.exists()
    record = store.record(env)
    assert record is not None and record.prefix == forced["prefix"]
    assert store.orphans() == []
    assert negotiate(root / "bin" / CMAKE)["result"]["capabilities"]["providesCondaOutputs"]
    assert [e["env"] for e in as_json(cli("list", "--json"))["environments"]] == [env]


# --- specs only py-rattler's full parse rejects -----------------------------------------------


def test_a_bad_spec_is_named_with_its_role_and_origin(
    cli: Run, root: Path, tmp_path: Path, channel: Path
) -> None:
    """The light spec check lets `foo >>>1` through; before solving, each spec is parsed with
    py-rattler, and the one that fails is named: the backend's, an additional dependency (and
    its manifest), a constraint (and its setting). Exit 2, one line, nothing written."""
    manifest = tmp_path / "m" / "pixi.toml"
    manifest.parent.mkdir()
    manifest.write_text(
        '[package]\nname = "p"\nversion = "0.1.0"\n\n[package.build]\n'
        f'backend = {{ name = "{CMAKE}" }}\nchannels = [{json.dumps(channel.as_uri())}]\n'
        "[package.build.additional-dependencies]\nfoo = '>>>1'\n"
    )
    constraint = {"CONDA_PIXI_BACKENDS_CONSTRAINTS": "bar >>>2"}
    cases = [
        (("-m", str(manifest)), {}, ("foo >>>1: invalid additional dependency of", str(manifest))),
        ((f"{BACKEND} >>>3",), {}, (f"{BACKEND} >>>3", "invalid spec", "command line")),
        ((BACKEND,), constraint, ("bar >>>2", "invalid constraint", "'constraints'")),
    ]
    for argv, extra, names in cases:
        for command in ("install", "lock") if "-m" in argv else ("install",):  # lock: manifests
            proc = cli(command, *argv, extra_env=extra)
            assert proc.returncode == 2, (command, argv, proc.stderr)
            assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
            for name in names:
                assert name in proc.stderr, (name, proc.stderr)
    assert not (root / "envs").exists() or not any((root / "envs").iterdir())


def test_gc_of_a_missing_store_creates_nothing(cli: Run, root: Path) -> None:
    result = as_json(cli("gc", "--json"))
    assert (result["removed"], result["kept"], result["bytes_freed"]) == ([], [], 0)
    assert not root.exists()


def test_list_remembers_walks_and_stays_exact(cli: Run, channel: Path, root: Path) -> None:
    """list remembers the walks of environments and extracted packages (cache/sizes.json) and
    gives the same sizes as a fresh walk, also after a reinstall, a removal and the cache's loss."""
    as_json(cli("install", BACKEND, "-c", str(channel), "--json"))
    as_json(cli("install", CMAKE, "-c", str(channel), "--json"))
    first = as_json(cli("list", "--json"))
    assert (root / "cache" / "sizes.json").is_file()
    assert as_json(cli("list", "--json")) == first  # from the remembered walks
    as_json(cli("install", BACKEND, "-c", str(channel), "--json", "--force"))  # a new prefix
    as_json(cli("remove", CMAKE, "--yes", "--json"))
    remembered = as_json(cli("list", "--json"))
    (root / "cache" / "sizes.json").unlink()
    walked = as_json(cli("list", "--json"))
    assert walked["totals"] == remembered["totals"]
    assert [e["size"] for e in walked["environments"]] == [
        e["size"] for e in remembered["environments"]
    ]
    assert [e["name"] for e in walked["environments"]] == [BACKEND]

    # Walks whose entries are not what list writes are walked again, not trusted.
    sizes = root / "cache" / "sizes.json"
    data = json.loads(sizes.read_text())
    assert data["version"] == 2 and data["walks"]
    for i, entry in enumerate(data["walks"].values()):
        entry[1] = [["1", 2], [1, 2, 3], {"1": 2}, "x", [0.5, 1]][i % 5]
    sizes.write_text(json.dumps(data))
    assert as_json(cli("list", "--json")) == walked
