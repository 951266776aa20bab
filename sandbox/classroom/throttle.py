"""Token buckets that slow down guessing: per client and for everyone together.

    logins = Throttle(per_client=Rate(8, 60), overall=Rate(30, 60))
    wait = logins.take(request.remote_addr)   # None: go ahead; else seconds to wait
    ...
    logins.give_back(request.remote_addr)     # the attempt was no guess (it succeeded)

Every attempt takes a token up front, so parallel requests cannot slip past the count;
an attempt that turns out legitimate gives its token back, so a class joining at once
never runs dry. The state lives in memory and dies with the process.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

__all__ = ["Rate", "Throttle"]

MAX_CLIENTS = 10_000  # buckets kept before full ones are forgotten


@dataclass(frozen=True)
class Rate:
    """`burst` attempts at once, refilled evenly over `per_seconds`."""

    burst: int
    per_seconds: float

    @property
    def refill(self) -> float:
        """Tokens regained per second."""
        return self.burst / self.per_seconds


class _Bucket:
    """One token bucket (not thread-safe: the Throttle's lock guards it)."""

    __slots__ = ("level", "stamp")

    def __init__(self, rate: Rate, now: float):
        """A full bucket."""
        self.level = float(rate.burst)
        self.stamp = now

    def settle(self, rate: Rate, now: float) -> None:
        """Add what was regained since the last look."""
        self.level = min(rate.burst, self.level + (now - self.stamp) * rate.refill)
        self.stamp = now

    def wait(self, rate: Rate) -> float:
        """Seconds until one token is there (0 when one is)."""
        return 0.0 if self.level >= 1 else (1 - self.level) / rate.refill


class Throttle:
    """Attempts per client and overall; take() refuses with the seconds to wait."""

    def __init__(self, per_client: Rate, overall: Rate, clock=time.monotonic):
        """Rates for one client and for all clients together."""
        self.per_client = per_client
        self.overall = overall
        self._clock = clock
        self._lock = threading.Lock()
        self._clients: dict[str, _Bucket] = {}
        self._all = _Bucket(overall, clock())

    def take(self, client: str) -> int | None:
        """Take a token for an attempt: None when allowed, else whole seconds to wait."""
        with self._lock:
            now = self._clock()
            mine = self._clients.get(client)
            if mine is None:
                if len(self._clients) >= MAX_CLIENTS:
                    self._forget_full(now)
                mine = self._clients[client] = _Bucket(self.per_client, now)
            mine.settle(self.per_client, now)
            self._all.settle(self.overall, now)
            wait = max(mine.wait(self.per_client), self._all.wait(self.overall))
            if wait > 0:
                return max(1, math.ceil(wait))
            mine.level -= 1
            self._all.level -= 1
            return None

    def give_back(self, client: str) -> None:
        """Return the token of an attempt that was no guess."""
        with self._lock:
            mine = self._clients.get(client)
            if mine is not None:
                mine.level = min(self.per_client.burst, mine.level + 1)
            self._all.level = min(self.overall.burst, self._all.level + 1)

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have refilled: they hold nothing worth keeping."""
        for client, bucket in list(self._clients.items()):
            bucket.settle(self.per_client, now)
            if bucket.level >= self.per_client.burst:
                del self._clients[client]
