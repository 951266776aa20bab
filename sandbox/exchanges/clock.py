"""How times and amounts are written in the portal's answers (its clock: sandbox.world.clock)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utc"]


def utc(t: int | None) -> str:
    """A unix time as "2026-03-05 14:02:11 UTC" ("" for None)."""
    if t is None:
        return ""
    return datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
