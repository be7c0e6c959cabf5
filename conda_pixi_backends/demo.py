"""A small local channel of demo backends, and the offline quick start that uses it.

`build_package` writes real conda packages (.tar.bz2: info/index.json, info/paths.json, the
files), `build_demo_channel` makes and indexes a channel of them with py-rattler. The demo
backends are POSIX shell scripts that speak JSON-RPC like a real Pixi backend, and refuse to
start unless their environment is activated, as Python-based backends do.

Run `python -m conda_pixi_backends.demo [FOLDER]` for the whole quick start.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shlex
import subprocess
import sys
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path

#: The placeholder conda-build writes into files that must learn their install prefix.
PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"
API_VERSION = "7"

BACKEND_SCRIPT = r"""#!/bin/sh
# @NAME@ @VERSION@: a tiny Pixi build backend for demos and tests. It speaks JSON-RPC 2.0,
# one object per line on stdin/stdout, and answers negotiateCapabilities.
here=$(cd "$(dirname "$0")/.." && pwd)
if [ "${DEMO_RUNTIME_ACTIVE:-}" != 1 ] || [ -z "${DEMO_RUNTIME_FLAVOR:-}" ]; then
    echo "@NAME@: its environment is not activated (activate.d or env_vars.d not applied)" >&2
    exit 3
fi
if [ "$(cat "$here/share/demo-runtime/prefix.txt")" != "$here" ]; then
    echo "@NAME@: prefix placeholder not replaced" >&2
    exit 4
fi
case "${1:-}" in
    --version) echo "@NAME@ @VERSION@"; exit 0 ;;
esac
caps=$(cat "$here/share/demo-runtime/capabilities.json") || exit 5
while IFS= read -r line || [ -n "$line" ]; do
    id=$(printf '%s\n' "$line" | sed -n \
        -e 's/.*"id"[[:space:]]*:[[:space:]]*\([0-9][0-9]*\).*/\1/p' \
        -e 's/.*"id"[[:space:]]*:[[:space:]]*\("[^"]*"\).*/\1/p')
    case $line in
        *'"negotiateCapabilities"'*)
            printf '{"jsonrpc":"2.0","id":%s,"result":{"capabilities":%s}}\n' "${id:-null}" "$caps" ;;
        *)
            printf '{"jsonrpc":"2.0","id":%s,"error":{"code":-32601,"message":"method not found"}}\n' \
                "${id:-null}" ;;
    esac
done
"""


def build_package(
    channel: Path,
    name: str,
    version: str,
    files: Mapping[str, str | bytes] | None = None,
    depends: Sequence[str] = (),
    build: str = "0",
    subdir: str = "noarch",
    executables: Sequence[str] = (),
) -> Path:
    """Write one conda package into `channel/subdir`; text files holding PLACEHOLDER get it
    rewritten to the install prefix, as with conda-build's has_prefix."""
    folder = channel / subdir
    folder.mkdir(parents=True, exist_ok=True)
    (channel / "noarch").mkdir(exist_ok=True)
    index = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": 0,
        "depends": list(depends),
        "subdir": subdir,
        "license": "BSD-3-Clause",
        "timestamp": 1_700_000_000_000,
    }
    if subdir == "noarch":
        index["noarch"] = "generic"
    paths = []
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:bz2") as archive:

        def add(arcname: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(arcname)
            info.size, info.mode, info.mtime = len(data), mode, 1_700_000_000
            archive.addfile(info, io.BytesIO(data))

        for path, content in (files or {}).items():
            data = content.encode() if isinstance(content, str) else content
            add(path, data, 0o755 if path in executables else 0o644)
            entry: dict[str, object] = {
                "_path": path,
                "path_type": "hardlink",
                "sha256": hashlib.sha256(data).hexdigest(),
                "size_in_bytes": len(data),
            }
            if PLACEHOLDER.encode() in data:
                entry.update(prefix_placeholder=PLACEHOLDER, file_mode="text")
            paths.append(entry)
        add("info/index.json", json.dumps(index, indent=2).encode())
        add("info/paths.json", json.dumps({"paths": paths, "paths_version": 1}).encode())
        add("info/files", "".join(f"{p}\n" for p in files or {}).encode())
    target = folder / f"{name}-{version}-{build}.tar.bz2"
    target.write_bytes(buffer.getvalue())
    return target


def build_backend(
    channel: Path, name: str, version: str, depends: Sequence[str] = (), script: str | None = None
) -> Path:
    """A demo backend package: an executable `bin/<name>` that needs its runtime activated."""
    text = (script or BACKEND_SCRIPT).replace("@NAME@", name).replace("@VERSION@", version)
    runtime = ["demo-runtime", f"pixi-build-api-version >={API_VERSION},<{int(API_VERSION) + 1}"]
    return build_package(
        channel,
        name,
        version,
        {f"bin/{name}": text},
        [*runtime, *depends],
        executables=[f"bin/{name}"],
    )


def build_runtime(channel: Path, version: str = "1.0") -> Path:
    """What the demo backends depend on: data, an activate.d script and an env_vars.d file."""
    capabilities = {"providesCondaOutputs": True, "providesCondaBuildV1": False}
    return build_package(
        channel,
        "demo-runtime",
        version,
        {
            "share/demo-runtime/capabilities.json": json.dumps(capabilities),
            "share/demo-runtime/prefix.txt": PLACEHOLDER,
            "etc/conda/activate.d/demo-runtime.sh": "export DEMO_RUNTIME_ACTIVE=1\n",
            "etc/conda/env_vars.d/demo-runtime.json": json.dumps(
                {"DEMO_RUNTIME_FLAVOR": "vanilla"}
            ),
        },
    )


def build_windows_channel(channel: Path, name: str, version: str, exe: bytes) -> Path:
    """A `win-64` channel: a backend whose executable `Library\\bin\\<name>.exe` is `exe` (a
    Windows program, e.g. built with MinGW-w64), its runtime (an `activate.d` `.bat` script and
    an `env_vars.d` file) and the API package; indexed."""
    runtime = {
        "etc/conda/activate.d/demo-runtime.bat": '@SET "DEMO_RUNTIME_ACTIVE=1"\r\n',
        "etc/conda/env_vars.d/demo-runtime.json": json.dumps({"DEMO_RUNTIME_FLAVOR": "vanilla"}),
    }
    build_package(channel, "demo-runtime", "1.0", runtime, subdir="win-64")
    build_package(channel, "pixi-build-api-version", API_VERSION)
    api = f"pixi-build-api-version >={API_VERSION},<{int(API_VERSION) + 1}"
    files = {f"Library/bin/{name}.exe": exe}
    build_package(channel, name, version, files, ["demo-runtime", api], subdir="win-64")
    index(channel)
    return channel


def index(channel: Path) -> None:
    """Write repodata.json for every subdir, as a channel server would serve it."""
    import asyncio

    from rattler.index import index_fs

    (channel / "noarch").mkdir(parents=True, exist_ok=True)
    asyncio.run(index_fs(channel, write_zst=False, write_shards=False, force=True))


def build_demo_channel(channel: Path) -> Path:
    """The demo channel: two backends in two versions, their runtime and the API package."""
    build_runtime(channel)
    for api in ("7", "8"):
        build_package(channel, "pixi-build-api-version", api)
    for version in ("0.1.0", "0.2.0"):
        build_backend(channel, "pixi-build-demo-python", version)
    build_backend(channel, "pixi-build-demo-cmake", "0.1.0")
    index(channel)
    return channel


DEMO_WORKSPACE = """\
[workspace]
name = "demo"
channels = ["{channel}"]
platforms = ["{platform}"]
preview = ["pixi-build"]

[workspace.dependencies]
pixi-build-demo-cmake = "0.1.*"

[dependencies]
greeter = {{ path = "greeter" }}
engine = {{ path = "engine" }}
"""

DEMO_PACKAGE = """\
[package]
name = "{name}"
version = "0.1.0"

[package.build]
backend = {backend}
"""


def write_demo_workspace(folder: Path, channel: Path, platform: str) -> Path:
    """A workspace that depends on two source packages: one names its backend, one takes it
    from the workspace."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pixi.toml").write_text(
        DEMO_WORKSPACE.format(channel=channel.as_uri(), platform=platform)
    )
    backends = {
        "greeter": '{ name = "pixi-build-demo-python", version = "0.2.*" }',
        "engine": '{ name = "pixi-build-demo-cmake", workspace = true }',
    }
    for package, backend in backends.items():
        (folder / package).mkdir(exist_ok=True)
        (folder / package / "pixi.toml").write_text(
            DEMO_PACKAGE.format(name=package, backend=backend)
        )
    return folder


def _step(title: str, argv: Sequence[str], env: Mapping[str, str], **kwargs: object) -> str:
    print(f"\n$ {title}", flush=True)
    proc = subprocess.run(list(argv), env=dict(env), text=True, capture_output=True, **kwargs)  # type: ignore[call-overload]
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        raise SystemExit(f"demo step failed (exit {proc.returncode}): {title}")
    return proc.stdout


def main(argv: Sequence[str] | None = None) -> int:
    """The quick start: channel, workspace, install, which, shell hook, a JSON-RPC answer,
    list and doctor."""
    from conda_pixi_backends.settings import current_platform

    args = list(sys.argv[1:] if argv is None else argv)
    base = Path(args[0] if args else "demo").absolute()
    channel, workspace, root = base / "channel", base / "workspace", base / "store"
    print(f"Building a local channel of demo backends in {channel}")
    build_demo_channel(channel)
    write_demo_workspace(workspace, channel, current_platform())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXI_BUILD_BACKEND_OVERRIDE")}
    env["CONDA_PIXI_BACKENDS_ROOT"] = str(root)
    cli = [sys.executable, "-m", "conda_pixi_backends"]
    _step(
        "conda-pixi-backend install   (in the demo workspace)",
        [*cli, "install"],
        env,
        cwd=workspace,
    )
    _step(
        "conda-pixi-backend install   (again: nothing to do)", [*cli, "install"], env, cwd=workspace
    )
    _step(
        "conda-pixi-backend which pixi-build-demo-python",
        [*cli, "which", "pixi-build-demo-python"],
        env,
    )
    request = (
        '{"jsonrpc":"2.0","id":1,"method":"negotiateCapabilities","params":{"capabilities":{}}}'
    )
    script = (
        'eval "$("$@" shell-hook --shell bash)" && '
        'echo "PIXI_BUILD_BACKEND_OVERRIDE=$PIXI_BUILD_BACKEND_OVERRIDE" && '
        f"echo {shlex.quote(request)} | pixi-build-demo-python"
    )
    _step(
        'eval "$(conda-pixi-backend shell-hook)"; echo \'{..."negotiateCapabilities"...}\' | pixi-build-demo-python',
        ["bash", "--noprofile", "--norc", "-c", script, "bash", *cli],
        env,
    )
    _step("conda-pixi-backend list", [*cli, "list"], env)
    _step(
        'eval "$(conda-pixi-backend shell-hook)"; conda-pixi-backend doctor',
        ["bash", "--noprofile", "--norc", "-c", 'eval "$("$@" shell-hook --shell bash)" && "$@" doctor',
         "bash", *cli],
        env,
        cwd=workspace,
    )  # fmt: skip
    print(
        "\nThe backend answered through its launcher, and doctor found it healthy: the demo works."
    )
    scripts = Path(sys.executable).parent
    print(
        "\nNext steps:\n"
        f"  the demo store is {root}; its backends go to Pixi in a shell of yours with:\n"
        f"    . {shlex.quote(str(root / 'activate' / 'activate.bash'))}\n"
        f"  the command itself is {scripts / 'conda-pixi-backend'}; put it on PATH with:\n"
        f'    export PATH={shlex.quote(str(scripts))}:"$PATH"\n'
        f"  then, for the demo store: export CONDA_PIXI_BACKENDS_ROOT={shlex.quote(str(root))}\n"
        "    conda-pixi-backend list; conda-pixi-backend --help"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
