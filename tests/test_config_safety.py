"""Settings files that are not what they seem: links, CRLF files, special files, alias bombs.

Every case runs the CLI as a real process on real files, FIFOs, sockets, devices and links.
A refusal is exit 2 and exactly one line naming the file, and leaves everything as it was: the
store is not created, the file is not replaced, no temporary file is left behind.
"""

from __future__ import annotations

import difflib
import json
import os
import socket
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BACKEND, CLI, snapshot

from conda_pixi_backends.config_files import MAX_CONFIG_BYTES, MAX_YAML_CHARS, MAX_YAML_VALUES

PREFIX = "conda-pixi-backend: error: "
#: A refusal is quick: no FIFO waited on, no device read, no alias expanded. Python's start
#: is ~0.3 s of it; a FIFO opened for reading would block until the 30 s timeout.
QUICK = 2.5

Proc = subprocess.CompletedProcess[str]


@pytest.fixture
def run(env: dict[str, str], tmp_path: Path) -> Callable[..., Proc]:
    """The CLI as a real process (as conftest's `cli`), with a short timeout: a command that
    waits on a FIFO fails the test instead of hanging it. `proc.elapsed` is its wall time."""

    def go(*args: str, extra_env: dict[str, str] | None = None, cwd: Path | None = None) -> Proc:
        start = time.monotonic()
        proc = subprocess.run(
            [*CLI, *args],
            env={**env, **(extra_env or {})},
            cwd=cwd or tmp_path,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=30,
        )
        proc.elapsed = time.monotonic() - start  # type: ignore[attr-defined]
        return proc

    return go


def refused(proc: Proc, path: Path | str, *words: str) -> str:
    """Exit 2, and stderr exactly one line: our prefix, naming `path`, with `words`."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and proc.stderr.endswith("\n"), proc.stderr
    assert lines[0].startswith(PREFIX), lines[0]
    assert f"{path}:" in lines[0], f"the message names no {path}: {lines[0]}"
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def nothing_written(root: Path, *folders: Path, before: dict[Path, list[str]] | None = None):
    """The store was not created; the folders hold what they held."""
    assert snapshot(root) == {} and not root.exists(), "the store was created"
    for folder in folders:
        assert sorted(os.listdir(folder)) == (before or {}).get(folder, sorted(os.listdir(folder)))


def listing(*folders: Path) -> dict[Path, list[str]]:
    return {folder: sorted(os.listdir(folder)) for folder in folders}


# --- 2. special files -----------------------------------------------------------------------


def make_special(kind: str, path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put a `kind` of file at `path`; returns the path to name (a device is named itself
    where the setting takes any path, and linked to where the name is fixed)."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        monkeypatch.chdir(path.parent)  # AF_UNIX paths are short: bind the name from its folder
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(path.name)
        monkeypatch.undo()
    elif kind == "directory":
        path.mkdir()
        (path / "inside.yml").write_text("offline: true\n")
    elif kind == "large":
        path.write_bytes(b"# " + b"x" * MAX_CONFIG_BYTES + b"\noffline: true\n")
    elif kind == "chardev":
        path.symlink_to("/dev/zero")
    elif kind == "link-to-fifo":
        os.mkfifo(path.with_name("real-fifo"))
        path.symlink_to("real-fifo")
    else:
        raise AssertionError(kind)
    return path


EXPECTED = {
    "fifo": "not a regular file (a FIFO)",
    "link-to-fifo": "not a regular file (a FIFO)",
    "socket": "not a regular file (a socket)",
    "directory": "not a regular file (a directory)",
    "chardev": "not a regular file (a character device)",
    "large": "too large",
}
KINDS = list(EXPECTED)


def place(where: str, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A special file where `where` reads a settings file: (its path, the variables)."""
    folder = tmp_path / "conf"
    folder.mkdir()
    if where == "user":
        path = make_special(kind, folder / "user.yml", monkeypatch)
        return path, {"CONDA_PIXI_BACKENDS_CONFIG": str(path)}
    if where == "admin-file":
        path = make_special(kind, folder / "admin.yml", monkeypatch)
        return path, {"CONDA_PIXI_BACKENDS_SYSTEM_CONFIG": str(path)}
    if where == "admin-folder":  # a good file first: the bad one is not skipped silently
        (folder / "10-good.yml").write_text("offline: true\n")
        path = make_special(kind, folder / "20-bad.yaml", monkeypatch)
        return path, {"CONDA_PIXI_BACKENDS_SYSTEM_CONFIG": str(folder)}
    if where == "pixi-file":
        path = make_special(kind, folder / "config.toml", monkeypatch)
        return path, {"PIXI_CONFIG_FILE": str(path)}
    if where == "pixi-home":
        path = make_special(kind, folder / "config.toml", monkeypatch)
        return path, {"PIXI_HOME": str(folder)}
    raise AssertionError(where)


WHERES = ["user", "admin-file", "admin-folder", "pixi-file", "pixi-home"]
CASES = [
    (where, kind)
    for where in WHERES
    for kind in KINDS
    if not (where == "admin-file" and kind == "directory")  # a folder there is a place of files
]


@pytest.mark.parametrize(("where", "kind"), CASES)
def test_special_file_is_refused_at_once(
    run: Callable[..., Proc],
    tmp_path: Path,
    root: Path,
    where: str,
    kind: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path, variables = place(where, kind, tmp_path, monkeypatch)
    before = listing(path.parent)
    for args in (("config", "show"), ("install", BACKEND)):
        proc = run(*args, extra_env=variables)
        refused(proc, path, EXPECTED[kind])
        assert proc.elapsed < QUICK, f"{args}: {proc.elapsed:.1f} s"
        nothing_written(root, path.parent, before=before)
    if "fifo" in kind:
        assert stat.S_ISFIFO(os.stat(path).st_mode), "the FIFO was replaced"


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
@pytest.mark.parametrize("variable", ["CONDA_PIXI_BACKENDS_CONFIG", "PIXI_CONFIG_FILE"])
def test_device_named_by_a_variable(
    run: Callable[..., Proc], root: Path, device: str, variable: str
) -> None:
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    proc = run("install", BACKEND, extra_env={variable: device})
    refused(proc, device, "not a regular file (a character device)")
    assert proc.elapsed < QUICK
    nothing_written(root)


def test_symlink_loop_is_refused(run: Callable[..., Proc], tmp_path: Path, root: Path) -> None:
    loop = tmp_path / "loop.yml"
    loop.symlink_to("loop2.yml")
    (tmp_path / "loop2.yml").symlink_to("loop.yml")
    for args in (("config", "show"), ("config", "set", "offline", "true")):
        refused(
            run(*args, extra_env={"CONDA_PIXI_BACKENDS_CONFIG": str(loop)}), loop, "cannot read"
        )
        assert os.readlink(loop) == "loop2.yml"
    nothing_written(root)


def test_missing_file_and_dangling_link_are_no_file(
    run: Callable[..., Proc], tmp_path: Path
) -> None:
    """Nothing there is not an error: no user file. `config set` creates the file a dangling
    link names, and the link stays."""
    link = tmp_path / "conf" / "user.yml"
    link.parent.mkdir()
    link.symlink_to("../real/settings.yml")
    variables = {"CONDA_PIXI_BACKENDS_CONFIG": str(link)}
    proc = run("config", "show", "offline", extra_env=variables)
    assert proc.returncode == 0 and proc.stdout == "offline: false\n", proc.stderr
    proc = run("config", "set", "offline", "true", extra_env=variables)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == "../real/settings.yml"
    assert (tmp_path / "real" / "settings.yml").read_bytes() == b"offline: true\n"


EDITS = [("set", "offline", "true"), ("unset", "offline")]


@pytest.mark.parametrize("kind", ["fifo", "socket", "directory", "chardev", "large"])
@pytest.mark.parametrize("target", ["--file", "user", "--system"])
@pytest.mark.parametrize("edit", EDITS, ids=["set", "unset"])
def test_config_edit_refuses_a_special_file(
    run: Callable[..., Proc],
    tmp_path: Path,
    root: Path,
    kind: str,
    target: str,
    edit: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    path = make_special(kind, folder / "settings.yml", monkeypatch)
    mode = os.lstat(path).st_mode
    size = os.lstat(path).st_size
    before = listing(folder)
    if target == "--file":
        args, variables = ["--file", str(path)], {}
    elif target == "user":
        args, variables = [], {"CONDA_PIXI_BACKENDS_CONFIG": str(path)}
    else:  # `--system` writes the first admin place: a folder place gets pixi-backends.yml
        args, variables = ["--system"], {"CONDA_PIXI_BACKENDS_SYSTEM_CONFIG": str(path)}
        if kind == "directory":
            path = make_special("fifo", path / "pixi-backends.yml", monkeypatch)
            before = listing(folder, path.parent)
    proc = run("config", *edit, *args, extra_env=variables)
    refused(proc, path, EXPECTED["fifo" if target == "--system" and kind == "directory" else kind])
    assert proc.elapsed < QUICK
    assert os.lstat(folder / "settings.yml").st_mode == mode, "the file was replaced"
    assert os.lstat(folder / "settings.yml").st_size == size
    nothing_written(root, *before, before=before)


@pytest.mark.parametrize("kind", ["fifo", "chardev", "large"])
def test_config_set_refuses_when_an_admin_file_is_special(
    run: Callable[..., Proc],
    tmp_path: Path,
    root: Path,
    kind: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`config set` reads the admin files for `final` keys: a FIFO there is refused too, and
    the user's file is not created."""
    admin = tmp_path / "admin.d"
    admin.mkdir()
    bad = make_special(kind, admin / "10-final.yml", monkeypatch)
    user = tmp_path / "user.yml"
    variables = {
        "CONDA_PIXI_BACKENDS_SYSTEM_CONFIG": str(admin),
        "CONDA_PIXI_BACKENDS_CONFIG": str(user),
    }
    refused(run("config", "set", "offline", "true", extra_env=variables), bad, EXPECTED[kind])
    assert not user.exists()
    nothing_written(root)


# --- 1. editing through links, keeping every other byte ------------------------------------

ORIGINAL = (
    "\ufeff# settings of this machine\r\n"
    "channels:            # ours first\r\n"
    "  - 'https://a.example/c'   # single-quoted\r\n"
    '  - "https://b.example/c"\r\n'
    "\r\n"
    "# the platform, by hand\r\n"
    "platform: linux-64\r\n"
    "offline: false  # for now\r\n"
    "mirrors:\r\n"
    '  "https://c.example/x": [https://m.example/x]\r\n'
    "channel_alias: 'https://conda.anaconda.org'\r\n"
    "# the end\r\n"
)
#: (arguments, lines removed, lines added), each applied to the result of the one before.
STEPS: list[tuple[tuple[str, ...], list[str], list[str]]] = [
    (("set", "offline", "true"), ["offline: false  # for now\r\n"], ["offline: true\r\n"]),
    (("set", "platform", "osx-arm64"), ["platform: linux-64\r\n"], ["platform: osx-arm64\r\n"]),
    (
        ("set", "default_channels", "[conda-forge, bioconda]"),
        [],
        ["default_channels:\r\n", "  - conda-forge\r\n", "  - bioconda\r\n"],
    ),
    (
        ("unset", "channels"),
        [
            "channels:            # ours first\r\n",
            "  - 'https://a.example/c'   # single-quoted\r\n",
            '  - "https://b.example/c"\r\n',
        ],
        [],
    ),
    (
        ("unset", "mirrors"),
        ["mirrors:\r\n", '  "https://c.example/x": [https://m.example/x]\r\n'],
        [],
    ),
    (("unset", "mirrors"), [], []),  # was not set: the file is not rewritten
    (
        ("set", "channels", "[https://d.example/c]"),
        [],
        ["channels:\r\n", "  - https://d.example/c\r\n"],
    ),
]


def changed_lines(before: bytes, after: bytes) -> tuple[list[str], list[str]]:
    """`git diff` of two files by lines (line ends included): the lines removed and added."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    removed: list[str] = []
    added: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += [line.decode() for line in a[i1:i2]]
            added += [line.decode() for line in b[j1:j2]]
    return removed, added


def make_link(kind: str, real: Path, tmp_path: Path) -> Path:
    """The path to edit: the file itself, or a relative or absolute symlink to it, or a chain
    (relative link to an absolute link to a relative link)."""
    conf = tmp_path / "conf"
    conf.mkdir()
    name = conf / "user.yml"
    if kind == "none":
        return real
    if kind == "relative":
        name.symlink_to(os.path.relpath(real, conf))
    elif kind == "absolute":
        name.symlink_to(real)
    elif kind == "chain":
        (tmp_path / "hop").mkdir()
        (tmp_path / "hop" / "last.yml").symlink_to(os.path.relpath(real, tmp_path / "hop"))
        (conf / "middle.yml").symlink_to(tmp_path / "hop" / "last.yml")
        name.symlink_to("middle.yml")
    return name


def links_of(tmp_path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(tmp_path)): os.readlink(p) for p in tmp_path.rglob("*") if p.is_symlink()
    }


@pytest.mark.parametrize("how", ["user", "--file"])
@pytest.mark.parametrize("link", ["none", "relative", "absolute", "chain"])
def test_edit_keeps_every_other_byte_and_the_links(
    run: Callable[..., Proc], tmp_path: Path, root: Path, link: str, how: str
) -> None:
    real = tmp_path / "real" / "settings.yml"
    real.parent.mkdir()
    real.write_bytes(ORIGINAL.encode())
    os.chmod(real, 0o604)  # neither the default nor what a umask makes
    name = make_link(link, real, tmp_path)
    links = links_of(tmp_path)
    variables = {"CONDA_PIXI_BACKENDS_CONFIG": str(name)} if how == "user" else {}
    target = ["--file", str(name)] if how == "--file" else []
    for args, removed, added in STEPS:
        before = real.read_bytes()
        inode = os.stat(real).st_ino
        proc = run("config", *args, *target, extra_env=variables)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(f"{name}: "), proc.stdout
        after = real.read_bytes()
        assert changed_lines(before, after) == (removed, added), args
        assert after.startswith(b"\xef\xbb\xbf# settings of this machine\r\n"), "the BOM is kept"
        assert b"\n" not in after.replace(b"\r\n", b""), "a bare LF line end"
        assert links_of(tmp_path) == links, "a link was replaced or changed"
        assert stat.S_IMODE(os.stat(real).st_mode) == 0o604
        if removed or added:  # a new file renamed over the old: never half written
            assert os.stat(real).st_ino != inode
        assert sorted(os.listdir(real.parent)) == ["settings.yml"], "a temporary file is left"
    # read back through the link (`channels` is the tests' variable's, above the file)
    proc = run("config", "show", "--json", extra_env={"CONDA_PIXI_BACKENDS_CONFIG": str(name)})
    settings = json.loads(proc.stdout)
    assert settings["offline"] is True and settings["platform"] == "osx-arm64"
    assert settings["mirrors"] == {}
    assert settings["default_channels"] == ["conda-forge", "bioconda"]
    assert not root.exists()


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
@pytest.mark.parametrize("bom", ["\ufeff", ""])
def test_first_line_edits_keep_bom_and_line_ends(
    run: Callable[..., Proc], tmp_path: Path, newline: str, bom: str
) -> None:
    path = tmp_path / "s.yml"
    path.write_bytes(f"{bom}platform: linux-64{newline}offline: false{newline}".encode())
    arguments = ("--file", str(path))
    assert run("config", "set", "platform", "osx-arm64", *arguments).returncode == 0
    assert path.read_bytes() == f"{bom}platform: osx-arm64{newline}offline: false{newline}".encode()
    assert run("config", "unset", "platform", *arguments).returncode == 0
    assert path.read_bytes() == f"{bom}offline: false{newline}".encode()
    assert run("config", "set", "channels", "[a]", *arguments).returncode == 0
    assert (
        path.read_bytes()
        == f"{bom}offline: false{newline}channels:{newline}  - a{newline}".encode()
    )


def test_no_final_line_end_gets_the_files_line_end(
    run: Callable[..., Proc], tmp_path: Path
) -> None:
    path = tmp_path / "s.yml"
    path.write_bytes(b"# x\r\nplatform: linux-64")
    assert run("config", "set", "offline", "true", "--file", str(path)).returncode == 0
    assert path.read_bytes() == b"# x\r\nplatform: linux-64\r\noffline: true\r\n"


ANCHORS = (
    "platform: linux-64\n"
    "<<: &defaults\n"
    "  offline: false\n"
    "  channel_alias: https://conda.anaconda.org\n"
    "backends:\n"
    "  linux-64: &specs [pixi-build-python]\n"
    "  osx-arm64: *specs\n"
    "mirrors:\n"
    "  https://prefix.dev/conda-forge: &m [https://m1.example/cf]\n"
    "  https://conda.anaconda.org/conda-forge: *m\n"
)


def test_edit_beside_a_merge_key(run: Callable[..., Proc], tmp_path: Path, root: Path) -> None:
    """A merge key (`<<:`) has no line of its own in what ruamel reports: an edit next to it
    keeps it; unsetting what only the merge brings in is refused, the file left as it is."""
    path = tmp_path / "s.yml"
    path.write_text(ANCHORS)
    file = ("--file", str(path))
    assert run("config", "set", "platform", "osx-arm64", *file).returncode == 0
    assert changed_lines(ANCHORS.encode(), path.read_bytes()) == (
        ["platform: linux-64\n"],
        ["platform: osx-arm64\n"],
    )
    before = path.read_bytes()
    assert run("config", "set", "offline", "true", *file).returncode == 0  # overrides the merge
    assert changed_lines(before, path.read_bytes()) == ([], ["offline: true\n"])
    before = path.read_bytes()
    refused(run("config", "unset", "channel_alias", *file), path, "merge key")
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["s.yml"]
    assert not root.exists()


# --- 3. aliases that expand too far --------------------------------------------------------


def laughs_sequences() -> str:
    """Nine levels of nine aliases: 9**9 (387 million) strings from ~360 bytes."""
    lines = ["channels:", '  - &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"  - &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def laughs_mappings() -> str:
    """The same with mappings, under `mirrors`."""
    lines = [
        "mirrors:",
        "  https://a.example/0: &a {" + ", ".join(f"k{i}: x" for i in range(9)) + "}",
    ]
    for level, (previous, name) in enumerate(zip("abcdefgh", "bcdefghi", strict=True), 1):
        entries = ", ".join(f"k{i}: *{previous}" for i in range(9))
        lines.append(f"  https://a.example/{level}: &{name} {{{entries}}}")
    return "\n".join(lines) + "\n"


def merge_keys() -> str:
    """One mapping of 2000 keys merged (`<<: *a`) into 60 others: 240,000 values, the work of
    ruamel's merge itself (quadratic, not exponential, but minutes for a 100 KB file)."""
    keys = ", ".join(f"k{i}: 1" for i in range(2000))
    return "channels:\n" + f"  - &a {{{keys}}}\n" + "  - {<<: *a}\n" * 60


def long_string() -> str:
    """A 300,000-character string aliased 15 times: few values, 4.5 million characters."""
    return (
        "channel_alias: &s https://"
        + "x" * 300_000
        + "\nconstraints: ["
        + ", ".join(["*s"] * 15)
        + "]\n"
    )


def recursive() -> str:
    return "channels: &a [*a]\n"


BOMBS: dict[str, Callable[[], str]] = {
    "sequences": laughs_sequences,
    "mappings": laughs_mappings,
    "merge-keys": merge_keys,
    "long-string": long_string,
    "recursive": recursive,
}


def test_the_bombs_are_bombs() -> None:
    """The files are small, and expand past the bounds."""
    assert len(laughs_sequences()) < 600 and MAX_YAML_VALUES < 9**9
    assert len(laughs_mappings()) < 1200
    assert len(merge_keys()) < 30_000 and MAX_YAML_VALUES < 60 * 2 * 2000
    assert len(long_string()) < MAX_CONFIG_BYTES and MAX_YAML_CHARS < 15 * 300_000


@pytest.mark.parametrize("bomb", list(BOMBS))
@pytest.mark.parametrize("where", ["user", "admin-file", "admin-folder"])
def test_alias_bomb_is_refused_quickly(
    run: Callable[..., Proc], tmp_path: Path, root: Path, bomb: str, where: str
) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    path = folder / "settings.yml"
    path.write_text(BOMBS[bomb]())
    variables = {
        "user": {"CONDA_PIXI_BACKENDS_CONFIG": str(path)},
        "admin-file": {"CONDA_PIXI_BACKENDS_SYSTEM_CONFIG": str(path)},
        "admin-folder": {"CONDA_PIXI_BACKENDS_SYSTEM_CONFIG": str(folder)},
    }[where]
    for args in (("config", "show"), ("install", BACKEND)):
        proc = run(*args, extra_env=variables)
        refused(proc, path, "too many nested aliases")
        assert proc.elapsed < QUICK, f"{args}: {proc.elapsed:.1f} s"
    nothing_written(root)


@pytest.mark.parametrize(
    "edit", [*EDITS, ("set", "platform", "linux-64")], ids=["set", "unset", "other"]
)
def test_config_edit_refuses_an_alias_bomb(
    run: Callable[..., Proc], tmp_path: Path, root: Path, edit: tuple[str, ...]
) -> None:
    path = tmp_path / "settings.yml"
    path.write_text(laughs_sequences())
    before = path.read_bytes()
    proc = run("config", *edit, extra_env={"CONDA_PIXI_BACKENDS_CONFIG": str(path)})
    refused(proc, path, "too many nested aliases")
    assert proc.elapsed < QUICK
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["settings.yml"]
    nothing_written(root)


def test_config_set_refuses_an_alias_bomb_value(
    run: Callable[..., Proc], tmp_path: Path, root: Path
) -> None:
    value = (
        laughs_sequences().removeprefix("channels:\n").replace("\n  - ", ", ").replace("  - ", "[")
    )
    value = value.strip() + "]"
    user = tmp_path / "user.yml"
    proc = run(
        "config", "set", "channels", value, extra_env={"CONDA_PIXI_BACKENDS_CONFIG": str(user)}
    )
    refused(proc, "config set channels: VALUE", "too many nested aliases")
    assert proc.elapsed < QUICK
    assert not user.exists()
    nothing_written(root)


def test_a_few_anchors_and_merge_keys_still_work(run: Callable[..., Proc], tmp_path: Path) -> None:
    path = tmp_path / "settings.yml"
    path.write_text(ANCHORS)
    for variable in ("CONDA_PIXI_BACKENDS_CONFIG", "CONDA_PIXI_BACKENDS_SYSTEM_CONFIG"):
        proc = run("config", "show", "--json", extra_env={variable: str(path)})
        assert proc.returncode == 0, proc.stderr
        settings = json.loads(proc.stdout)
        assert settings["offline"] is False and settings["platform"] == "linux-64"
        assert settings["channel_alias"] == "https://conda.anaconda.org"
        assert settings["backends"] == {
            "linux-64": ["pixi-build-python"],
            "osx-arm64": ["pixi-build-python"],
        }
        assert settings["mirrors"] == {
            "https://prefix.dev/conda-forge": ["https://m1.example/cf"],
            "https://conda.anaconda.org/conda-forge": ["https://m1.example/cf"],
        }


def test_aliases_just_under_the_bound_load(run: Callable[..., Proc], tmp_path: Path) -> None:
    """A long list reused: 9 * 10,001 values, within the bound; read, and quickly."""
    path = tmp_path / "settings.yml"
    items = ", ".join(f"https://m{i}.example/c" for i in range(10_000))
    path.write_text(
        f"mirrors:\n  https://a.example/c: &m [{items}]\n"
        + "".join(f"  https://{i}.example/c: *m\n" for i in range(8))
    )
    proc = run(
        "config", "show", "--json", "mirrors", extra_env={"CONDA_PIXI_BACKENDS_CONFIG": str(path)}
    )
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["mirrors"]) == 9
    assert proc.elapsed < 10
