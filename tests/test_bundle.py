"""`bundle`: a lock file's packages as a channel folder, and installs from it with no network.

The upstream channel is the demo channel served over HTTP on 127.0.0.1 by `python -m
http.server`; installs from the bundle run from a fresh store with an empty package cache,
inside a network namespace with only loopback (`unshare --net`) where that is allowed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BACKEND, CLI, CMAKE, Run, as_json, negotiate

from conda_pixi_backends import demo
from conda_pixi_backends.settings import current_platform


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """`folder` served over HTTP on 127.0.0.1 by `python -m http.server`; its URL."""
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert server.stdout is not None
    port = re.search(r"port (\d+)", server.stdout.readline())
    try:
        assert port, "http.server did not say its port"
        yield f"http://127.0.0.1:{port.group(1)}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def upstream(channel: Path, tmp_path: Path) -> Iterator[str]:
    """A copy of the demo channel (in tmp_path/upstream) served over HTTP; its URL."""
    with serve(shutil.copytree(channel, tmp_path / "upstream")) as url:
        yield url


@pytest.fixture
def served_workspace(tmp_path: Path, channel: Path, upstream: str) -> Path:
    """The demo workspace, its channel the served one."""
    folder = demo.write_demo_workspace(tmp_path / "ws", channel, current_platform())
    manifest = folder / "pixi.toml"
    manifest.write_text(manifest.read_text().replace(channel.as_uri(), upstream))
    return folder


def files(folder: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under `folder`: inode, mtime and content hash, to prove none was rewritten."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            info = path.stat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[str(path.relative_to(folder))] = (info.st_ino, info.st_mtime_ns, digest)
    return found


def leftovers(outdir: Path) -> list[Path]:
    """Hidden files and folders in a bundle but its lock: temporary files, staging folders."""
    return [p for p in outdir.rglob(".*") if p.name != ".bundle.lock"]


def bundle(cli: Run, workspace: Path, outdir: Path, *args: str) -> dict:
    return as_json(cli("bundle", str(outdir), "--json", *args, cwd=workspace))


def test_bundle_locks_downloads_and_indexes(
    cli: Run, served_workspace: Path, tmp_path: Path, upstream: str
) -> None:
    outdir = tmp_path / "bundle"
    result = bundle(cli, served_workspace, outdir)
    lock = served_workspace / "pixi-backends.lock"
    assert result["locked_now"] and result["lock_file"] == str(lock) and lock.is_file()
    assert result["channel"] == outdir.as_uri() and result["reused"] == []
    added = {row["file"]: row for row in result["added"]}
    assert {f.split("/")[1].rsplit("-", 2)[0] for f in added} == {
        BACKEND, CMAKE, "demo-runtime", "pixi-build-api-version"
    }  # fmt: skip
    assert result["added_bytes"] == sum(row["size"] for row in added.values())
    for name, row in added.items():
        data = (outdir / name).read_bytes()
        assert len(data) == row["size"] and hashlib.sha256(data).hexdigest() == row["sha256"]
        assert row["url"].startswith(upstream)

    # A channel: repodata by py-rattler, with .zst, listing exactly the packages.
    repodata = json.loads((outdir / "noarch" / "repodata.json").read_text())
    assert {f"noarch/{n}" for n in repodata["packages"]} == set(added)
    assert (outdir / "noarch" / "repodata.json.zst").is_file()
    assert leftovers(outdir) == [], "no temporary file or staging folder left"

    # What is inside, and which backend environment each package serves.
    contents = json.loads((outdir / "bundle.json").read_text())
    assert {row["file"] for row in contents["packages"]} == set(added)
    assert set(contents["environments"]) == set(result["environments"])
    served = {row["file"]: row["environments"] for row in contents["packages"]}
    assert len(served["noarch/demo-runtime-1.0-0.tar.bz2"]) == 2
    assert contents["size"] == result["added_bytes"]
    assert upstream in (outdir / "pixi-backends.lock").read_text()
    assert outdir.as_uri() in (outdir / "bundle.lock").read_text()


def _netns_allowed() -> str | None:
    """Why a test cannot run in a network namespace here, or None."""
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    proc = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True)
    return None if proc.returncode == 0 else f"unshare --net is not allowed: {proc.stderr.strip()}"


@pytest.mark.parametrize("no_network", [False, True], ids=["loopback-up", "unshare-net"])
def test_install_from_the_bundle_offline(
    cli: Run, served_workspace: Path, tmp_path: Path, env: dict[str, str], no_network: bool
) -> None:
    if no_network and (why := _netns_allowed()):
        pytest.skip(why)
    outdir = tmp_path / "bundle"
    bundle(cli, served_workspace, outdir)
    fresh = tmp_path / "site-store"
    argv = [*CLI, "install", "--locked", "--lock-file", str(outdir / "bundle.lock"),
            "-c", outdir.as_uri(), "--override-channels", "--offline", "--json"]  # fmt: skip
    if no_network:
        argv = ["unshare", "--net", *argv]
    proc = subprocess.run(
        argv, env={**env, "CONDA_PIXI_BACKENDS_ROOT": str(fresh)}, cwd=served_workspace,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert_installed_from(outdir, proc, fresh)


def assert_installed_from(
    outdir: Path, proc: subprocess.CompletedProcess[str], fresh: Path
) -> None:
    """Both demo backends installed from the bundle into the store `fresh`, and answering."""
    installed = {b["name"]: b for b in as_json(proc)["backends"]}
    assert {n: b["status"] for n, b in installed.items()} == {
        BACKEND: "installed", CMAKE: "installed"
    }  # fmt: skip
    assert installed[BACKEND]["version"] == "0.2.0"
    assert installed[BACKEND]["channels"] == [outdir.as_uri()]
    for name in (BACKEND, CMAKE):
        reply = negotiate(fresh / "bin" / name, env={"PATH": "/usr/bin:/bin"})
        assert "capabilities" in reply["result"]


def test_a_bundled_package_changed_since_is_not_installed(
    cli: Run, served_workspace: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    """py-rattler checks the sha256 of a download, not of a file:// package: a bundle whose
    package was replaced is refused before anything is installed, as over HTTP."""
    outdir = tmp_path / "bundle"
    bundle(cli, served_workspace, outdir)
    changed = outdir / "noarch" / f"{CMAKE}-0.1.0-0.tar.bz2"
    demo.build_backend(tmp_path / "other", CMAKE, "0.1.0",
                       script=demo.BACKEND_SCRIPT + "\n# changed\n")  # fmt: skip
    shutil.copyfile(tmp_path / "other" / "noarch" / changed.name, changed)
    fresh = tmp_path / "site-store"
    proc = subprocess.run(
        [*CLI, "install", "--locked", "--lock-file", str(outdir / "bundle.lock"),
         "-c", outdir.as_uri(), "--override-channels", "--offline"],
        env={**env, "CONDA_PIXI_BACKENDS_ROOT": str(fresh)}, cwd=served_workspace,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert f"{changed}: sha256 " in line and "bundle.lock pins for pixi-build-demo-cmake" in line
    assert not (fresh / "envs").exists() or not any((fresh / "envs").iterdir())


def test_a_site_syncs_the_backends_setting_from_the_bundle_with_no_network(
    env: dict[str, str], channel: Path, tmp_path: Path
) -> None:
    """The admin's path with no manifest at all: the `backends` setting bundled on a connected
    machine from a served channel; on the site, the admin config names the bundle as the
    channel, and `sync --locked` with bundle.lock installs from a fresh store and an empty
    package cache, with no network where a namespace is allowed."""
    specs = [f"{BACKEND} 0.2.*", CMAKE]
    env = {k: v for k, v in env.items() if k != "CONDA_PIXI_BACKENDS_CHANNELS"}  # the configs'
    connected, site = tmp_path / "connected.yml", tmp_path / "site.yml"
    outdir = tmp_path / "bundle"
    with serve(shutil.copytree(channel, tmp_path / "upstream")) as url:
        connected.write_text(json.dumps({"channels": [url], "backends": specs}))
        made = subprocess.run(
            [*CLI, "bundle", str(outdir), "--json"], cwd=tmp_path, capture_output=True,
            text=True, timeout=300, env={**env, "CONDA_PIXI_BACKENDS_SYSTEM_CONFIG": str(connected)},
        )  # fmt: skip
    assert len(as_json(made)["environments"]) == 2
    site.write_text(json.dumps({"channels": [outdir.as_uri()], "backends": specs, "offline": True}))
    argv = [*CLI, "sync", "--locked", "--lock-file", str(outdir / "bundle.lock"), "--json"]
    if _netns_allowed() is None:
        argv = ["unshare", "--net", *argv]
    fresh = tmp_path / "site-store"
    site_env = {**env, "CONDA_PIXI_BACKENDS_SYSTEM_CONFIG": str(site),
                "CONDA_PIXI_BACKENDS_ROOT": str(fresh)}  # fmt: skip
    proc = subprocess.run(argv, env=site_env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert_installed_from(outdir, proc, fresh)


def test_downloads_show_progress_on_a_terminal(
    env: dict[str, str], served_workspace: Path, tmp_path: Path
) -> None:
    """On a terminal (`script`'s pseudo-terminal) one line counts the downloads on stderr, and
    the results start a line of their own; with --json, or piped, nothing but the result."""
    if shutil.which("script") is None:
        pytest.skip("util-linux `script` (a pseudo-terminal) is not installed")
    log = tmp_path / "typescript"
    command = shlex.join([*CLI, "bundle", str(tmp_path / "bundle")])
    subprocess.run(["script", "-qec", command, str(log)], env=env, cwd=served_workspace,
                   capture_output=True, timeout=300, check=True)  # fmt: skip
    text = log.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n")  # keeps a lone \r
    assert "Downloaded 0/4 packages, 0 B of" in text
    assert re.search(r"\rDownloaded 4/4 packages, [0-9.]+ kB of [0-9.]+ kB\n", text), text
    assert "\nLocked 2 backend" in text.split("Downloaded")[0], "locked before the downloads"
    assert "\nBundled 4 package(s)" in text, "the result starts its own line"

    piped = subprocess.run([*CLI, "bundle", str(tmp_path / "again")], env=env,
                           cwd=served_workspace, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert piped.returncode == 0 and "Downloaded" not in piped.stdout + piped.stderr


def test_rerun_adds_only_what_is_missing(cli: Run, served_workspace: Path, tmp_path: Path) -> None:
    outdir = tmp_path / "bundle"
    first = bundle(cli, served_workspace, outdir)
    before = files(outdir)

    again = bundle(cli, served_workspace, outdir)
    assert again["added"] == [] and again["added_bytes"] == 0
    assert {r["file"] for r in again["reused"]} == {r["file"] for r in first["added"]}
    assert files(outdir) == before, "nothing rewritten"

    gone = f"noarch/{BACKEND}-0.2.0-0.tar.bz2"
    (outdir / gone).unlink()
    third = bundle(cli, served_workspace, outdir)
    assert [r["file"] for r in third["added"]] == [gone]
    after = files(outdir)
    packages = [f for f in before if f.endswith(".tar.bz2") and f != gone]
    assert {f: after[f] for f in packages} == {f: before[f] for f in packages}
    assert after[gone][2] == before[gone][2], "the same bytes again"
    for kept in ("bundle.json", "bundle.lock", "pixi-backends.lock"):
        assert after[kept] == before[kept]


def test_a_package_with_another_sha256_is_an_error(
    cli: Run, served_workspace: Path, tmp_path: Path
) -> None:
    outdir = tmp_path / "bundle"
    bundle(cli, served_workspace, outdir)
    clash = outdir / "noarch" / f"{BACKEND}-0.2.0-0.tar.bz2"
    clash.write_bytes(b"not the locked package")
    before = files(outdir)
    proc = cli("bundle", str(outdir), cwd=served_workspace)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and str(clash) in proc.stderr
    assert "sha256" in proc.stderr
    assert files(outdir) == before, "never overwritten"


UNRELATED = {
    "bundle.json": '{"x": 1}\n',
    "bundle.json ": '{"packages": [{"file": "noarch/other.tar.bz2"}], "environments": {}}\n',
    "bundle.json  ": '{"packages": [{"file": "a", "size": "big", "environments": []}], '
    '"environments": {}}\n',
    "bundle.json   ": "[]\n",
    "pixi-backends.lock": "stuff\n",
    "bundle.lock": "version: 6\n",
}


@pytest.mark.parametrize(("name", "text"), UNRELATED.items(), ids=list(UNRELATED))
def test_an_unrelated_file_in_outdir_is_refused_before_anything_is_written(
    cli: Run, served_workspace: Path, tmp_path: Path, name: str, text: str
) -> None:
    """A bundle.json or lock file that is not a bundle's: exit 2 naming it, nothing written."""
    outdir = tmp_path / "unrelated"
    outdir.mkdir()
    (outdir / name.strip()).write_text(text)
    assert cli("lock", cwd=served_workspace).returncode == 0
    before = files(outdir)
    proc = cli("bundle", str(outdir), cwd=served_workspace)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert str(outdir / name.strip()) in line and "internal error" not in line, line
    after = files(outdir)
    after.pop(".bundle.lock")  # the lock runs take turns by
    assert after == before and leftovers(outdir) == []


def test_a_download_that_does_not_match_the_lock_is_refused(
    cli: Run, served_workspace: Path, tmp_path: Path
) -> None:
    """The served package changed after locking: nothing of it lands in the bundle."""
    assert cli("lock", cwd=served_workspace).returncode == 0
    served = tmp_path / "upstream" / "noarch" / f"{BACKEND}-0.2.0-0.tar.bz2"
    served.write_bytes(served.read_bytes() + b"\0")
    outdir = tmp_path / "bundle"
    proc = cli("bundle", str(outdir), cwd=served_workspace)
    assert proc.returncode == 1 and len(proc.stderr.splitlines()) == 1
    assert "does not match the lock file" in proc.stderr, proc.stderr
    assert not (outdir / "noarch" / served.name).exists()
    assert leftovers(outdir) == [], "no temporary file left"
    assert not (outdir / "bundle.json").exists(), "no contents for an incomplete bundle"


def test_a_package_gone_from_a_local_channel_is_named_as_the_source(
    cli: Run, channel: Path, tmp_path: Path
) -> None:
    """Locked from a file:// channel that lost a package since: the message names that
    package, not OUTDIR, where nothing of it lands."""
    mine = tmp_path / "mine"
    shutil.copytree(channel, mine)
    workspace = demo.write_demo_workspace(tmp_path / "ws", mine, current_platform())
    assert cli("lock", cwd=workspace).returncode == 0
    gone = mine / "noarch" / f"{CMAKE}-0.1.0-0.tar.bz2"
    gone.unlink()
    outdir = tmp_path / "bundle"
    proc = cli("bundle", str(outdir), cwd=workspace)
    assert proc.returncode == 1
    (line,) = proc.stderr.splitlines()
    assert f"cannot read {gone.as_uri()}: No such file or directory" in line, line
    assert not (outdir / "noarch" / gone.name).exists() and leftovers(outdir) == []


def test_bundle_without_a_workspace_uses_the_backends_setting(
    cli: Run, tmp_path: Path, upstream: str
) -> None:
    empty = tmp_path / "nowhere"
    empty.mkdir()
    settings = {"CONDA_PIXI_BACKENDS_CHANNELS": upstream, "CONDA_PIXI_BACKENDS_BACKENDS": BACKEND}
    lock = tmp_path / "site.lock"
    proc = cli("bundle", str(tmp_path / "b"), "--lock-file", str(lock), "--json",
               cwd=empty, extra_env=settings)  # fmt: skip
    result = as_json(proc)
    assert result["locked_now"] and lock.is_file() and len(result["environments"]) == 1
    assert os.path.isfile(tmp_path / "b" / "noarch" / f"{BACKEND}-0.2.0-0.tar.bz2")


def test_a_moved_bundle_is_keyed_again_without_downloading(
    cli: Run, served_workspace: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    """bundle.lock names the folder by its path: bundling again where it landed, from the
    lock it carries, downloads nothing and keys bundle.lock for the new place."""
    outdir = tmp_path / "bundle"
    bundle(cli, served_workspace, outdir)
    moved = Path(shutil.move(outdir, tmp_path / "site" / "bundle"))
    shutil.rmtree(tmp_path / "upstream" / "noarch")  # the upstream is gone
    again = bundle(cli, served_workspace, moved, "--lock-file", str(moved / "pixi-backends.lock"))
    assert again["added"] == [] and len(again["reused"]) == 4
    proc = cli("install", "--locked", "--lock-file", str(moved / "bundle.lock"),
               "-c", moved.as_uri(), "--override-channels", "--offline", "--json",
               cwd=served_workspace, extra_env={"CONDA_PIXI_BACKENDS_ROOT": str(tmp_path / "s")})  # fmt: skip
    assert {b["status"] for b in as_json(proc)["backends"]} == {"installed"}
    negotiate(tmp_path / "s" / "bin" / BACKEND, env={"PATH": "/usr/bin:/bin"})


def test_a_bundle_served_over_http_as_a_mirror(
    cli: Run, served_workspace: Path, tmp_path: Path, upstream: str
) -> None:
    """The site keeps the workspace's lock (upstream URLs); `mirrors` sends every download
    to the bundle served over HTTP. The upstream holds no package any more."""
    outdir = tmp_path / "bundle"
    bundle(cli, served_workspace, outdir)
    for package in (tmp_path / "upstream" / "noarch").glob("*.tar.bz2"):
        package.unlink()
    config = tmp_path / "site.yml"
    fresh = tmp_path / "site-store"
    with serve(outdir) as mirror:
        config.write_text(f"mirrors:\n  {upstream}: ['{mirror}']\n")
        site = {"CONDA_PIXI_BACKENDS_CONFIG": str(config), "CONDA_PIXI_BACKENDS_ROOT": str(fresh)}
        proc = cli("install", "--locked", "--json", cwd=served_workspace, extra_env=site)
    installed = {b["name"]: b for b in as_json(proc)["backends"]}
    assert {b["status"] for b in installed.values()} == {"installed"}
    assert installed[BACKEND]["channels"] == [upstream], "the request and its key unchanged"
    negotiate(fresh / "bin" / BACKEND, env={"PATH": "/usr/bin:/bin"})


def test_a_bundle_served_over_http_as_the_channel(
    cli: Run, served_workspace: Path, tmp_path: Path
) -> None:
    """A site that serves the bundle over HTTP and names it as the channel: the install solves
    from the bundle's own repodata (py-rattler's index) and downloads from it."""
    outdir = tmp_path / "bundle"
    bundle(cli, served_workspace, outdir)
    fresh = tmp_path / "site-store"
    with serve(outdir) as url:
        proc = cli("install", "-c", url, "--override-channels", "--json", cwd=served_workspace,
                   extra_env={"CONDA_PIXI_BACKENDS_ROOT": str(fresh)})  # fmt: skip
    installed = {b["name"]: b for b in as_json(proc)["backends"]}
    assert {b["status"] for b in installed.values()} == {"installed"}
    assert installed[BACKEND]["channels"] == [url] and installed[BACKEND]["version"] == "0.2.0"
    meta = Path(installed[BACKEND]["prefix"]) / "conda-meta"
    urls = [json.loads(p.read_text())["url"] for p in meta.glob("*.json")]
    assert urls and all(u.startswith(f"{url}/") for u in urls), "every package from the bundle"
    negotiate(fresh / "bin" / BACKEND, env={"PATH": "/usr/bin:/bin"})


def test_runs_into_one_bundle_take_turns(
    env: dict[str, str], served_workspace: Path, tmp_path: Path
) -> None:
    """While another run holds the bundle's lock, a run waits, writes nothing, then merges its
    environments into what is there: two admins bundling at once lose neither's."""
    from conda_pixi_backends.locks import hold

    outdir = tmp_path / "bundle"
    outdir.mkdir()
    argv = [*CLI, "bundle", str(outdir), "--json"]
    with hold(outdir / ".bundle.lock"):
        waiting = subprocess.Popen(argv, env=env, cwd=served_workspace, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        with pytest.raises(subprocess.TimeoutExpired):
            waiting.wait(timeout=5)
        assert leftovers(outdir) == [] and not (outdir / "noarch").exists(), "it waits first"
    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    assert len(json.loads(out)["environments"]) == 2
    assert (outdir / "bundle.json").is_file()
