"""The workers' open connections, counted where every worker sees them, so that a new
connection goes to a worker holding the fewest.

The workers share their listening sockets. The kernel wakes every worker for a new
connection and the first to call accept() takes it, whatever it already holds: twenty
clients connecting at once were split 14:6, and each of the fourteen then waited more than
twice as long for its answers as each of the six (a mean of 10.7 against 4.3 ms), for as
long as they stayed connected. Now a worker holding more connections than another leaves
a new one to it for a moment (head_worker.py), and takes it only if no other did.

The master makes the counts before it forks the workers: a small array in shared memory,
a seat in it per worker, given at fork and freed when the worker exits.
"""

from __future__ import annotations

import multiprocessing

__all__ = ["ConnectionCounts", "Seat"]

_EMPTY = -1  # a seat no worker holds


class Seat:
    """One worker's place in the counts."""

    def __init__(self, counts: ConnectionCounts, index: int):
        self._counts = counts._counts
        self.index = index

    def publish(self, open_connections: int) -> None:
        """Tell the other workers how many connections this one holds."""
        self._counts[self.index] = open_connections

    def another_holds_fewer(self, open_connections: int) -> bool:
        """Whether another worker holds fewer connections than this one's."""
        return any(
            _EMPTY < held < open_connections
            for index, held in enumerate(self._counts[:])
            if index != self.index
        )


class ConnectionCounts:
    """Connection counts shared by the master and the workers it forks: the master seats
    each worker before its fork and frees its seat when it exits."""

    def __init__(self, seats: int):
        self._counts = multiprocessing.RawArray("q", [_EMPTY] * seats)  # shared across fork
        self._free = list(range(seats))

    def seat(self) -> Seat | None:
        """A seat for a worker about to be forked (None when all are taken: that worker
        then takes every connection it is woken for, as gunicorn's own do)."""
        if not self._free:
            return None
        seat = Seat(self, self._free.pop(0))
        seat.publish(0)
        return seat

    def free(self, seat: Seat | None) -> None:
        """A worker's seat, once it has exited: no longer counted."""
        if seat is not None:
            self._counts[seat.index] = _EMPTY
            self._free.append(seat.index)
