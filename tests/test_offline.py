"""Offline installs from py-rattler's caches, and mirrors, against channels served over HTTP.

py-rattler never caches file:// repodata on disk, so these tests serve a copy of the demo
channel from a `http.server` thread on 127.0.0.1.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BACKEND, Run, as_json, negotiate

from conda_pixi_backends import demo
from conda_pixi_backends.settings import current_platform


class Server:
    """A channel folder served over HTTP until `stop()`; counts the requests it answered."""

    def __init__(self, folder: Path, auth: str | None = None) -> None:
        self.requests: list[str] = []
        served = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:
                if self._allowed():
                    super().do_HEAD()

            def do_GET(self) -> None:
                if self._allowed():
                    served.append(self.path)
                    super().do_GET()

            def _allowed(self) -> bool:
                if auth is None or self.headers.get("Authorization") == auth:
                    return True
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="channel"')
                self.end_headers()
                return False

        handler = functools.partial(Handler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def served_channel(channel: Path, tmp_path: Path) -> Path:
    """A copy of the demo channel with this platform's (empty) subdir indexed too: py-rattler
    caches no repodata for a subdir the server answers with 404, so offline it would lack it."""
    copy = Path(shutil.copytree(channel, tmp_path / "served"))
    (copy / current_platform()).mkdir(exist_ok=True)
    demo.index(copy)
    return copy


@pytest.fixture
def server(served_channel: Path) -> Iterator[Server]:
    running = Server(served_channel)
    yield running
    if running.thread.is_alive():
        running.stop()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_offline_install_from_the_caches(cli: Run, server: Server, tmp_path: Path) -> None:
    channels = {"CONDA_PIXI_BACKENDS_CHANNELS": server.url}
    online = as_json(cli("install", BACKEND, "--json", extra_env=channels))["backends"][0]
    assert online["version"] == "0.2.0" and online["channels"] == [server.url]
    server.stop()

    # A fresh store that shares the caches: repodata and packages come from them alone.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    for cache in ("cache", "pkgs"):
        shutil.copytree(tmp_path / "store" / cache, fresh / cache)
    env = {**channels, "CONDA_PIXI_BACKENDS_ROOT": str(fresh)}
    offline = as_json(cli("install", BACKEND, "--offline", "--json", extra_env=env))["backends"][0]
    assert offline["status"] == "installed" and offline["version"] == "0.2.0"
    assert offline["key"] == online["key"], "offline changes how, not what"
    negotiate(offline["executables"][0], env={"PATH": "/usr/bin:/bin"})

    # The setting does the same as the flag, here for a reinstall into the first store.
    forced = cli("install", BACKEND, "--force", "--json",
                 extra_env={**channels, "CONDA_PIXI_BACKENDS_OFFLINE": "true"})  # fmt: skip
    assert as_json(forced)["backends"][0]["status"] == "installed"


def test_offline_says_what_is_missing(cli: Run, server: Server, tmp_path: Path) -> None:
    channels = {"CONDA_PIXI_BACKENDS_CHANNELS": server.url}
    nothing = tmp_path / "nothing"
    proc = cli("install", BACKEND, "--offline", extra_env={**channels,
               "CONDA_PIXI_BACKENDS_ROOT": str(nothing)})  # fmt: skip
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert f"offline: no cached repodata for {server.url}/" in proc.stderr
    assert BACKEND in proc.stderr
    assert server.requests == [], "offline means no request at all"
    assert not (nothing / "envs").exists() or not any((nothing / "envs").iterdir())

    as_json(cli("install", BACKEND, "--json", extra_env=channels))
    server.stop()
    no_packages = tmp_path / "no-packages"
    no_packages.mkdir()
    shutil.copytree(tmp_path / "store" / "cache", no_packages / "cache")
    env = {**channels, "CONDA_PIXI_BACKENDS_ROOT": str(no_packages)}
    proc = cli("install", BACKEND, "--offline", extra_env=env)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "offline:" in proc.stderr and "is not in the package cache" in proc.stderr
    assert ".tar.bz2" in proc.stderr and f"needed by {BACKEND}" in proc.stderr
    assert not any((no_packages / "envs").glob("*.json"))


def test_offline_update_sync_and_lock(cli: Run, server: Server, tmp_path: Path) -> None:
    channels = {"CONDA_PIXI_BACKENDS_CHANNELS": server.url, "CONDA_PIXI_BACKENDS_BACKENDS": BACKEND}
    as_json(cli("install", BACKEND, "--json", extra_env=channels))
    server.stop()
    result = as_json(cli("update", "--offline", "--json", extra_env=channels))
    assert [b["status"] for b in result["backends"]] == ["up-to-date"]
    locked = as_json(cli("lock", "-o", "offline.lock", "--offline", "--json", extra_env=channels))
    assert locked["environments"][0]["version"] == "0.2.0"
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    for cache in ("cache", "pkgs"):
        shutil.copytree(tmp_path / "store" / cache, fresh / cache)
    env = {**channels, "CONDA_PIXI_BACKENDS_ROOT": str(fresh)}
    synced = as_json(cli("sync", "--offline", "--locked", "--lock-file", "offline.lock",
                         "--json", extra_env=env))  # fmt: skip
    assert [(b["name"], b["status"]) for b in synced["backends"]] == [(BACKEND, "installed")]


def test_mirror_serves_a_channel_that_is_down(
    cli: Run, server: Server, tmp_path: Path, root: Path
) -> None:
    original = f"http://127.0.0.1:{closed_port()}/pixi-build-backends"  # nothing answers there
    config = tmp_path / "no-user-config.yml"  # the user config file the `env` fixture names
    config.write_text(f"mirrors:\n  {original}: ['{server.url}']\n")
    channels = {"CONDA_PIXI_BACKENDS_CHANNELS": original}
    result = as_json(cli("install", BACKEND, "--json", extra_env=channels))["backends"][0]
    assert result["status"] == "installed" and result["channels"] == [original]
    assert any(path.endswith(".tar.bz2") for path in server.requests), "packages via the mirror"
    record = json.loads((root / "envs" / f"{BACKEND}-{result['key']}.json").read_text())
    assert all(p["url"].startswith(original) for p in record["packages"]), "URLs stay canonical"
    negotiate(result["executables"][0], env={"PATH": "/usr/bin:/bin"})


def test_credentials_from_rattler_auth_file(cli: Run, served_channel: Path, tmp_path: Path) -> None:
    secret = "Basic " + base64.b64encode(b"user:s3cret").decode()
    private = Server(served_channel, auth=secret)
    try:
        channels = {"CONDA_PIXI_BACKENDS_CHANNELS": private.url}
        denied = cli("install", BACKEND, extra_env=channels)
        assert denied.returncode == 1 and denied.stderr.count("\n") == 1
        auth_file = tmp_path / "credentials.json"
        auth_file.write_text(
            json.dumps({"127.0.0.1": {"BasicHTTP": {"username": "user", "password": "s3cret"}}})
        )
        allowed = cli("install", BACKEND, "--json",
                      extra_env={**channels, "RATTLER_AUTH_FILE": str(auth_file)})  # fmt: skip
        assert as_json(allowed)["backends"][0]["status"] == "installed"
    finally:
        private.stop()
