"""A workspace's `exclude-newer` cutoff, read as Pixi reads it: a duration, a date or a
timestamp; and the moment it stands for when a solve runs."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

#: humantime's units, as Pixi's `exclude-newer` durations take them, in seconds.
_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("w", "week", "weeks"), 7 * 86400),
    **dict.fromkeys(("M", "month", "months"), 2_630_016),
    **dict.fromkeys(("y", "year", "years"), 31_557_600),
}
_DURATION = re.compile(r"\s*(\d+)\s*([A-Za-z]+)")


def parse_cutoff(text: str) -> str:
    """Check an `exclude-newer` value as Pixi reads it, in Pixi's order: a duration (`7d`,
    `1h30m`: a cutoff that moves, kept as written), a date (the whole day counts: the cutoff is
    the next midnight, UTC), or an RFC 3339 timestamp; dates and timestamps become UTC ISO 8601."""
    value = text.strip()
    if duration_seconds(value) is not None:
        return value
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        return (day + timedelta(days=1)).isoformat()
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in value.upper():
        raise ValueError(
            f"{text!r} is neither a duration (e.g. 7d), a date (YYYY-MM-DD) nor an RFC 3339 "
            "timestamp"
        )
    return moment.astimezone(timezone.utc).isoformat()


def duration_seconds(text: str) -> int | None:
    """The seconds of a humantime duration such as `7d` or `1h 30m`; None if it is not one."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != "".join(text.split()):
        return None
    if any(unit not in _UNITS for _, unit in parts):
        return None
    return sum(int(n) * _UNITS[unit] for n, unit in parts)


def cutoff(text: str, now: datetime | None = None) -> datetime:
    """The moment an `exclude-newer` value (as `parse_cutoff` keeps it) stands for now."""
    seconds = duration_seconds(text)
    if seconds is not None:
        return (now or datetime.now(timezone.utc)) - timedelta(seconds=seconds)
    return datetime.fromisoformat(text)
