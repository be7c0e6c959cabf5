"""What pruning keeps, and retired prefixes shown with the space they hold and when they go."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from conftest import BACKEND, Run, as_json


def test_prune_keeps_what_a_manifest_still_asks_for(
    cli: Run, workspace: Path, root: Path, tmp_path: Path
) -> None:
    installed = as_json(cli("install", "--json", cwd=workspace))["backends"]
    assert {b["status"] for b in installed} == {"installed"}
    # No `backends` setting and no manifest given: before, this pruned everything.
    result = as_json(cli("sync", "--prune", "--json"))
    assert result["pruned"] == []
    reasons = {row["name"]: {r["kind"] for r in row["reasons"]} for row in result["kept"]}
    assert reasons == {b["name"]: {"manifest", "recent"} for b in installed}
    assert all(Path(b["prefix"]).is_dir() for b in installed)

    # Asked explicitly (--older-than 0), and the manifests are gone: now they go.
    for folder in ("greeter", "engine"):
        (workspace / folder / "pixi.toml").unlink()
    (workspace / "pixi.toml").unlink()
    result = as_json(cli("sync", "--prune", "--older-than", "0", "--json"))
    assert result["kept"] == []
    assert {row["name"] for row in result["pruned"]} == {b["name"] for b in installed}
    assert not any(Path(b["prefix"]).exists() for b in installed)


def test_retired_prefixes_are_shown_until_they_go(cli: Run, root: Path) -> None:
    (first,) = as_json(cli("install", "--json", f"{BACKEND} 0.1.*"))["backends"]
    (second,) = as_json(cli("install", "--json", "--force", f"{BACKEND} 0.1.*"))["backends"]
    assert first["prefix"] != second["prefix"]
    listing = as_json(cli("list", "--json"))
    (row,) = listing["retired"]
    assert row["path"] == first["prefix"] and row["size"] > 0
    until = datetime.fromisoformat(row["until"])
    assert until > datetime.now(timezone.utc)
    assert f"retired: {first['prefix']}" in cli("list").stdout
    dry = as_json(cli("gc", "--dry-run", "--json", "--older-than", "0"))
    assert [r["path"] for r in dry["retired"]] == [first["prefix"]]
    assert first["prefix"] not in [r["path"] for r in dry["removed"]]
    text = cli("gc", "--dry-run").stdout
    assert f"until {row['until']}" in text
