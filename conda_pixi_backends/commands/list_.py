"""`list`: every backend environment in the store, its exposure, size, times and users."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from conda_pixi_backends.commands import SUMMARIES, common
from conda_pixi_backends.errors import command
from conda_pixi_backends.sizes import human

if TYPE_CHECKING:
    from conda_pixi_backends.inventory import EnvRow, IncompleteRow, Listing


def add_parser(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "list",
        parents=[parent],
        help=SUMMARIES["list_"],
        description=(
            "List every backend environment in the store: backend version, key, launcher, "
            "size on disk (hardlinks counted once), times, the manifests that asked for it, "
            "and whether PIXI_BUILD_BACKEND_OVERRIDE(_ALL) replaces it in this shell."
        ),
    )
    common.add_json_flag(parser)
    parser.set_defaults(func=run)


def report(listing: Listing) -> None:
    rows = listing["environments"]
    complete: list[EnvRow] = []
    incomplete: list[IncompleteRow] = []
    for row in rows:
        if row["status"] == "complete":
            complete.append(row)
        else:
            incomplete.append(row)
    if not rows:
        print(f"No backend environments in {listing['root']}.")
        return
    width = max((len(r["name"]) for r in complete), default=4)
    if complete:
        print(
            f"{'NAME':<{width}}  {'VERSION':<10} {'KEY':<12}  {'ON DISK':>9} (OF APPARENT)  LAST USED"
        )
    for row in complete:
        marks = []
        if row["exposed"]:
            launcher = row["executables"][0] if row["executables"] else "yes"
            marks.append(f"exposed: {launcher}" + (", elsewhere" if row["workspaces"] else ""))
        if row["override"]:
            marks.append(f"overridden by {row['override']['variable']}")
        size = row["size"]
        print(
            f"{row['name']:<{width}}  {row['version'] or '?':<10} {row['key']}  "
            f"{human(size['unique']):>9} (of {human(size['apparent'])})  "
            f"{row['last_used'][:10]}" + (f"  [{'; '.join(marks)}]" if marks else "")
        )
        # what tells environments of one name apart: the request and where it was solved from
        asked = ", ".join(
            part
            for part in (
                row["spec"] and f"spec {row['spec']!r}",
                row["platform"],
                row["channel"] and f"from {row['channel']}",
            )
            if part
        )
        if asked:
            print(f"{'':<{width}}  {asked}")
        if row.get("shared"):
            print(f"{'':<{width}}  from the shared store {row['shared']} (read-only: its admin's)")
        for workspace in row["workspaces"]:
            print(f"{'':<{width}}  serves Pixi in workspace {workspace}")
        for manifest in row["manifests"]:
            print(f"{'':<{width}}  for {manifest}")
    for broken in incomplete:
        print(
            f"incomplete: {broken['path'] or broken['metadata']}: {broken['reason']}; "
            f"`gc` removes it, or: {command()} remove {broken['env']}"
        )
    for retired in listing["retired"]:
        print(
            f"retired: {retired['path']} ({human(retired['size'])}): replaced by an update or a "
            f"reinstall, kept for launchers started before it until {retired['until']}"
        )
    totals = listing["totals"]
    print(
        f"\n{len(complete)} environment(s): {human(totals['environments'])} on disk, hardlinks "
        f"counted once; the whole store: {human(totals['store'])}."
    )


def run(args: argparse.Namespace) -> int:
    from conda_pixi_backends import inventory

    listing = inventory.listing(*common.stores(args))
    if args.json:
        common.print_json(listing)
    else:
        report(listing)
    return 0
