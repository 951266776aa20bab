"""Token buckets that slow down guessing: per client and for everyone together.

    logins = Throttle(per_client=Rate(6, 60), overall=Rate(20, 60))
    wait = logins.wait(request.remote_addr)   # None: go ahead; else seconds to wait
    ...
    logins.charge(request.remote_addr)        # it was a wrong guess

Only wrong guesses cost a token, so a class joining at once (even all through the
gateway, from one address) never runs dry. A bucket may go into debt: guesses sent in
parallel all pass the check before any is charged, and the debt makes that wave wait as
long as the guesses would have at the normal rate (down to DEBT bursts, so a flood cannot
lock an address out for good). The state lives in memory and dies with the process.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

__all__ = ["Rate", "Throttle"]

MAX_CLIENTS = 10_000  # buckets kept before full ones are forgotten
DEBT = 5  # bursts a bucket may owe


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
    """Wrong guesses per client and overall; wait() says how long to hold off."""

    def __init__(self, per_client: Rate, overall: Rate, clock=time.monotonic):
        """Rates for one client and for all clients together."""
        self.per_client = per_client
        self.overall = overall
        self._clock = clock
        self._lock = threading.Lock()
        self._clients: dict[str, _Bucket] = {}
        self._all = _Bucket(overall, clock())

    def wait(self, client: str) -> int | None:
        """None when an attempt may go ahead, else the whole seconds to wait."""
        with self._lock:
            now = self._clock()
            mine = self._bucket(client, now)
            self._all.settle(self.overall, now)
            wait = max(mine.wait(self.per_client), self._all.wait(self.overall))
            return max(1, math.ceil(wait)) if wait > 0 else None

    def charge(self, client: str) -> None:
        """Count a wrong guess against the client and against everyone."""
        with self._lock:
            now = self._clock()
            mine = self._bucket(client, now)
            self._all.settle(self.overall, now)
            mine.level = max(mine.level - 1, -DEBT * self.per_client.burst)
            self._all.level = max(self._all.level - 1, -DEBT * self.overall.burst)

    def _bucket(self, client: str, now: float) -> _Bucket:
        """The client's bucket, brought up to now (made full for a new client)."""
        mine = self._clients.get(client)
        if mine is None:
            if len(self._clients) >= MAX_CLIENTS:
                self._forget_full(now)
            mine = self._clients[client] = _Bucket(self.per_client, now)
        mine.settle(self.per_client, now)
        return mine

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have refilled: they hold nothing worth keeping."""
        for client, bucket in list(self._clients.items()):
            bucket.settle(self.per_client, now)
            if bucket.level >= self.per_client.burst:
                del self._clients[client]
