"""The store's inter-process locks (`locks.hold`), held by real processes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conda_pixi_backends import locks

HOLDER = """
import sys, time
from pathlib import Path
from conda_pixi_backends import locks
with locks.hold(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def holder(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process that holds the lock of `path` for `seconds` (once it said "held")."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline() == "held\n"
    return process


def test_a_lock_held_elsewhere_is_waited_for_then_taken(tmp_path: Path) -> None:
    path = tmp_path / "env.lock"
    held = time.monotonic()
    process = holder(path, 1.0)
    busy = pytest.raises(locks.Timeout, match=r"env\.lock is held by another process")
    with busy, locks.hold(path, timeout=0):
        pass
    start = time.monotonic()
    with pytest.raises(locks.Timeout), locks.hold(path, timeout=0.2):
        pass
    assert time.monotonic() - start >= 0.2
    with locks.hold(path):  # waits for the holder to let go
        assert time.monotonic() - held >= 1.0
    assert process.wait(timeout=30) == 0
    assert path.is_file(), "the lock file stays for the next waiter"
    with locks.hold(path, timeout=0):  # released: free at once
        pass


def test_a_killed_holder_leaves_its_lock_free(tmp_path: Path) -> None:
    path = tmp_path / "env.lock"
    process = holder(path, 60)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    with locks.hold(path, timeout=5):
        pass


def test_two_holds_in_one_process_exclude_each_other(tmp_path: Path) -> None:
    """The lock is per open file, not per process: a use noted in one thread while another
    holds the environment's lock must see it busy (`Store.touch`)."""
    path = tmp_path / "env.lock"
    with locks.hold(path), pytest.raises(locks.Timeout), locks.hold(path, timeout=0):
        pass


def test_a_symlink_among_the_locks_is_not_followed(tmp_path: Path) -> None:
    """A link planted where a lock file goes must not make the lock create a file elsewhere."""
    outside = tmp_path / "outside" / "created"
    outside.parent.mkdir()
    link = tmp_path / "env.lock"
    link.symlink_to(outside)
    with pytest.raises(OSError), locks.hold(link):
        pass
    assert not outside.exists()


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to start another user"
)
def test_another_users_lock_file_is_locked_read_only(tmp_path: Path) -> None:
    """In a store shared by a group, a lock file another user created (mode 0644 under the
    usual umask) is one this user cannot write: it is locked all the same."""
    import pwd

    nobody = pwd.getpwnam("nobody")
    shared = Path(tempfile.mkdtemp(prefix="cpb-shared-"))  # not below pytest's 0700 folders
    shared.chmod(0o755)
    path = shared / "env.lock"
    path.touch(mode=0o644)
    # Loaded as root, then holding the lock as nobody.
    become = f"import os\nos.setgid({nobody.pw_gid}); os.setuid({nobody.pw_uid})\nwith locks"
    script = HOLDER.replace("with locks", become, 1)
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(path), "60"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "held\n"
        with pytest.raises(locks.Timeout), locks.hold(path, timeout=0):
            pass
    finally:
        process.kill()
        process.wait()
        shutil.rmtree(shared)


def test_the_lock_is_not_inherited_by_a_started_program(tmp_path: Path) -> None:
    """A backend or shell started while a lock is held (recording activation) must not keep
    it after the holder lets go."""
    path = tmp_path / "env.lock"
    with locks.hold(path):
        child = subprocess.Popen(["sleep", "30"], close_fds=False)
    try:
        with locks.hold(path, timeout=0):
            pass
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
