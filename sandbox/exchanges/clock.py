"""World time for the portal, and how times and amounts are written in answers."""

from __future__ import annotations

import time
from datetime import UTC, datetime

__all__ = ["WorldClock", "utc"]


class WorldClock:
    """The world's end_time, advancing with the real seconds since the app started."""

    def __init__(self, end_time: int):
        """Start at the world's end."""
        self.end_time = end_time
        self.started = time.monotonic()

    def now(self) -> int:
        """The current world time, unix seconds."""
        return self.end_time + int(time.monotonic() - self.started)


def utc(t: int | None) -> str:
    """A unix time as "2026-03-05 14:02:11 UTC" ("" for None)."""
    if t is None:
        return ""
    return datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
