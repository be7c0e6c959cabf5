"""The order of a removal, observed while it runs: the launcher and the override entry go
before the metadata, and the metadata before the folder, so that nothing ever points at a
missing environment. A bulky environment (thousands of files) makes the folder's deletion
long enough to be watched from outside, as a user's running shell would see it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import CLI, Run, as_json

from conda_pixi_backends import demo

BULKY = "pixi-build-bulky"
FILES = 6000


@pytest.fixture(scope="module")
def bulky_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    channel = tmp_path_factory.mktemp("bulky-channel")
    demo.build_runtime(channel)
    demo.build_package(channel, "pixi-build-api-version", "7")
    demo.build_backend(channel, BULKY, "1.0", depends=["bulky-data"])
    files = {f"share/bulky/{i // 100}/{i}.txt": f"{i}\n" for i in range(FILES)}
    demo.build_package(channel, "bulky-data", "1.0", files)
    demo.index(channel)
    return channel


def watch(
    argv: list[str], env: dict[str, str], root: Path, env_name: str
) -> list[tuple[bool, bool, bool, bool]]:
    """Run `argv`; until it ends, sample (launcher present, override entry present, metadata
    present, prefix whole)."""
    launcher = root / "bin" / BULKY
    meta = root / "envs" / f"{env_name}.json"
    script = root / "activate" / "activate.sh"
    last = root / "envs" / env_name / "share" / "bulky" / "59" / f"{FILES - 1}.txt"
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    samples = []
    while proc.poll() is None:
        entry = f"{BULKY}=" in script.read_text() if script.exists() else False
        whole = (root / "envs" / env_name / "conda-meta").is_dir() and last.exists()
        samples.append((launcher.exists(), entry, meta.exists(), whole))
    assert proc.wait() == 0, proc.stderr.read() if proc.stderr else ""
    return samples


@pytest.mark.parametrize("command", [["remove", BULKY], ["gc", "--older-than", "0", "--yes"]])
def test_exposure_goes_first(
    cli: Run, env: dict[str, str], root: Path, bulky_channel: Path, command: list[str]
) -> None:
    (entry,) = as_json(
        cli("install", "--json", BULKY, "-c", bulky_channel.as_uri(), "--override-channels")
    )["backends"]
    env_name = f"{BULKY}-{entry['key']}"
    if command[0] == "gc":  # gc removes only what is not exposed: unexpose it the normal way
        (root / "exposed.json").write_text(json.dumps({}))
        assert cli("doctor", "--fix").returncode in (0, 1)
    samples = watch([*CLI, *command], env, root, env_name)
    broken = [s for s in samples if not s[3]]
    assert len(broken) >= 3, f"the deletion was too quick to watch: {len(samples)} samples"
    # Whenever the environment was not whole, nothing pointed at it any more: no launcher, no
    # override entry, no metadata.
    assert not [s for s in broken if s[0] or s[1] or s[2]], broken[:5]
    assert not (root / "envs" / env_name).exists()
