"""Pixi's own config.toml as a settings layer: `default-channels`, `mirrors`, `tool-platform`."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import BACKEND, Run, as_json, by_name

from conda_pixi_backends import pixi_config
from conda_pixi_backends.configuration import load
from conda_pixi_backends.settings import env_var


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_pixi_config_files_in_pixis_order(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "PIXI_HOME": str(tmp_path / "ph")}
    user = write(tmp_path / ".config" / "pixi" / "config.toml", 'tool-platform = "linux-aarch64"\n')
    home = write(
        tmp_path / "ph" / "config.toml",
        'default-channels = ["bioconda", "conda-forge"]\n'
        '[mirrors]\n"https://conda.anaconda.org/conda-forge/" = ["https://mirror.example/cf"]\n',
    )
    ws = write(tmp_path / "ws" / ".pixi" / "config.toml", 'tool-platform = "osx-arm64"\n')
    assert pixi_config.paths(env, tmp_path / "ws") == [
        Path("/etc/pixi/config.toml"),
        user,
        home,
        ws,
    ]
    loaded = load(environ=env, config_files=None, condarc=False, workspace=tmp_path / "ws")
    cfg = loaded.settings
    assert cfg.default_channels == ["bioconda", "conda-forge"]
    assert cfg.mirrors == {"https://conda.anaconda.org/conda-forge": ["https://mirror.example/cf"]}
    assert cfg.platform == "osx-arm64"
    assert loaded.origins["platform"] == f"{ws}: tool-platform"
    assert loaded.kinds["default_channels"] == "pixi"
    # PIXI_CONFIG_FILE replaces the global files; PIXI_NO_CONFIG drops them.
    only = write(tmp_path / "only.toml", 'default-channels = ["x"]\n')
    assert pixi_config.paths({**env, "PIXI_CONFIG_FILE": str(only)}) == [only]
    assert pixi_config.paths({**env, "PIXI_NO_CONFIG": "1"}, tmp_path / "ws") == [ws]


def test_our_own_settings_win_over_pixis(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "PIXI_HOME": str(tmp_path / "ph")}
    write(tmp_path / "ph" / "config.toml", 'tool-platform = "linux-aarch64"\n')
    assert load(environ=env, condarc=False).settings.platform == "linux-aarch64"
    env[env_var("platform")] = "win-64"
    assert load(environ=env, condarc=False).settings.platform == "win-64"


def test_bad_pixi_config_names_the_file_and_key(cli: Run, env: dict[str, str]) -> None:
    home = Path(env["PIXI_HOME"])
    write(home / "config.toml", 'default-channels = "not a list"\n')
    proc = cli("config", "show")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"conda-pixi-backend: error: {home / 'config.toml'}: default-channels: default_channels: "
        "'not a list' is neither a URL, a path nor a channel name"
    )
    write(home / "config.toml", "default-channels = [\n")
    proc = cli("config", "show")
    assert proc.returncode == 2 and "invalid TOML" in proc.stderr


def test_config_show_sources_names_pixis_file(cli: Run, env: dict[str, str]) -> None:
    config = write(Path(env["PIXI_HOME"]) / "config.toml", 'default-channels = ["bioconda"]\n')
    shown = json.loads(cli("config", "show", "--sources", "--json").stdout)
    assert shown["settings"]["default_channels"] == {
        "value": ["bioconda"],
        "source": f"{config}: default-channels",
        "kind": "pixi",
        "final": None,
    }
    assert {"path": str(config), "kind": "pixi"} in shown["files"]


def test_pixis_mirrors_apply_to_backend_installs(
    cli: Run, env: dict[str, str], channel: Path, tmp_path: Path
) -> None:
    """A Pixi user's mirror of a channel that does not exist serves the backend from the real
    local channel, through py-rattler's own mirror handling (served over HTTP on 127.0.0.1)."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(channel))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        upstream = "https://conda.example.invalid/demo"
        mirror = f"http://127.0.0.1:{server.server_address[1]}"
        write(
            Path(env["PIXI_HOME"]) / "config.toml",
            f'[mirrors]\n"{upstream}" = ["{mirror}"]\n',
        )
        result = as_json(
            cli(
                "install",
                "--json",
                f"{BACKEND} 0.1.*",
                extra_env={"CONDA_PIXI_BACKENDS_CHANNELS": upstream},
            )
        )
        entry = by_name(result)[BACKEND]
        assert (entry["status"], entry["version"], entry["channels"]) == (
            "installed",
            "0.1.0",
            [upstream],
        )
    finally:
        server.shutdown()


def test_default_channels_serve_a_recipe_outside_any_workspace(
    cli: Run, env: dict[str, str], channel: Path, tmp_path: Path
) -> None:
    from conda_pixi_backends import demo

    local = tmp_path / "rb-channel"
    demo.build_runtime(local)
    demo.build_package(local, "pixi-build-api-version", "7")
    demo.build_backend(local, "pixi-build-rattler-build", "0.1.0")
    demo.index(local)
    write(Path(env["PIXI_HOME"]) / "config.toml", f'default-channels = ["{local.as_uri()}"]\n')
    recipe = write(tmp_path / "tool" / "recipe.yaml", "package: {name: tool, version: 1}\n")
    (entry,) = as_json(cli("install", "--json", "-m", str(recipe)))["backends"]
    assert (entry["name"], entry["channels"], entry["status"]) == (
        "pixi-build-rattler-build",
        [local.as_uri()],
        "installed",
    )
