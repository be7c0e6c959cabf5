"""An admin's shared store that users cannot write: reuse what it has, install the rest at home."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import BACKEND, NEGOTIATE, Run, as_json, snapshot

CMAKE = "pixi-build-demo-cmake"


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make `folder` read-only for this process, as a store an admin exports read-only is.

    As root, permission bits do not stop us: a read-only bind mount does (like a read-only
    NFS export). As another user, taking away the write bits does.
    """
    if os.geteuid() == 0:
        mount = subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(folder)],
                               capture_output=True, text=True)  # fmt: skip
        if mount.returncode != 0:
            pytest.skip(f"running as root and cannot bind-mount read-only: {mount.stderr.strip()}")
        try:
            yield
        finally:
            subprocess.run(["umount", str(folder)], check=True)
        return
    modes = {}
    for path, _dirs, _files in os.walk(folder):
        modes[path] = stat.S_IMODE(os.stat(path).st_mode)
        os.chmod(path, modes[path] & ~0o222)
    try:
        yield
    finally:
        for path, mode in modes.items():
            os.chmod(path, mode)


def test_read_only_shared_store_with_a_user_fallback(cli: Run, root: Path, tmp_path: Path) -> None:
    as_json(cli("install", BACKEND, "--json"))  # the admin provisions the shared store
    home = tmp_path / "home-store"
    user = {"CONDA_PIXI_BACKENDS_USER_ROOT": str(home)}
    before = snapshot(root)
    with read_only(root):
        result = as_json(cli("install", BACKEND, CMAKE, "--json", extra_env=user))
        backends = {b["name"]: b for b in result["backends"]}
        assert backends[BACKEND]["status"] == "already-installed"
        assert backends[BACKEND]["prefix"].startswith(str(root / "envs")), (
            "served from the shared store"
        )
        assert backends[CMAKE]["status"] == "installed"
        assert backends[CMAKE]["prefix"].startswith(str(home / "envs")), "what it lacks goes home"
        assert snapshot(root) == before, "the shared store is untouched"

        script = home / "activate" / "activate.bash"
        for name in (BACKEND, CMAKE):
            answer = subprocess.run(
                ["bash", "--noprofile", "--norc", "-c", f'. "$1" && {name}', "bash", str(script)],
                env={"PATH": "/usr/bin:/bin"}, input=NEGOTIATE, capture_output=True, text=True,
            )  # fmt: skip
            assert answer.returncode == 0, answer.stderr
            assert json.loads(answer.stdout)["result"]["capabilities"]["providesCondaOutputs"]
        which = cli("which", BACKEND, extra_env=user)
        assert which.returncode == 0 and which.stdout.strip() == str(home / "bin" / BACKEND)
        again = as_json(cli("install", BACKEND, CMAKE, "--json", extra_env=user))
        assert {b["status"] for b in again["backends"]} == {"already-installed"}
        listed = as_json(cli("list", "--json", extra_env=user))
        # The user's own environments, then the shared ones the user's launchers serve.
        assert [(e["name"], e["shared"]) for e in listed["environments"]] == [
            (CMAKE, None),
            (BACKEND, str(root)),
        ]
        assert listed["environments"][1]["read_only"] is True
        plain = cli("list", extra_env=user).stdout
        assert f"from the shared store {root} (read-only: its admin's)" in plain
        doctor = cli("doctor", "--json", extra_env=user)
        checks = json.loads(doctor.stdout)["checks"]
        assert not [c for c in checks if c["status"] == "fail"], checks
        refused = cli("remove", BACKEND, extra_env=user)
        assert refused.returncode == 1
        assert f"is in the shared store {root}, which you cannot change" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    assert snapshot(root) == before


def test_an_unwritable_user_root_is_named_as_such(cli: Run, root: Path, tmp_path: Path) -> None:
    """Beside a read-only shared store, a user store that cannot be made names its own
    setting: `--root` would not help, and an admin may have made `root` final."""
    as_json(cli("install", BACKEND, "--json"))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    user = {"CONDA_PIXI_BACKENDS_USER_ROOT": str(blocker / "store")}
    with read_only(root):
        proc = cli("install", CMAKE, extra_env=user)
    assert proc.returncode == 1
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"conda-pixi-backend: error: store {blocker / 'store'}: cannot write")
    assert line.endswith(
        "choose another with the setting 'user_root' (CONDA_PIXI_BACKENDS_USER_ROOT)"
    )


def test_missing_or_uncreatable_root_is_not_a_fallback(cli: Run, tmp_path: Path) -> None:
    """Only an existing shared store falls back; a root that cannot be made is an error."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    proc = cli("install", BACKEND, "--root", str(blocker / "store"),
               extra_env={"CONDA_PIXI_BACKENDS_USER_ROOT": str(tmp_path / "home")})  # fmt: skip
    assert proc.returncode == 1 and "cannot write" in proc.stderr
    assert not (tmp_path / "home").exists()
