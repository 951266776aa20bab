"""The world's clock: the time the services live in while the sandbox runs.

A world ends at its last block; served, its time goes on with the real seconds. A site
starts its clock at the world's last block the first time it runs on its state file, so
what trainees write there stays dated in world time across restarts; an exchange's portal
starts at the world's end each time it starts.
"""

from __future__ import annotations

import time

__all__ = ["WorldClock"]


class WorldClock:
    """A world time that advances with real seconds from a start."""

    def __init__(self, start: int, since: float | None = None):
        """World time `start` at the unix time `since` (None: now, on the monotonic clock)."""
        self.start = start
        self.since = since
        self._began = time.monotonic()

    @classmethod
    def of_site(cls, tip_time: int | None, end_time: int, first_seen: float) -> WorldClock:
        """A site's clock: the world's last block time (else its end) when it first ran."""
        return cls(tip_time or end_time, first_seen)

    def now(self) -> int:
        """The current world time, unix seconds."""
        if self.since is None:
            return self.start + int(time.monotonic() - self._began)
        return int(self.start + (time.time() - self.since))
