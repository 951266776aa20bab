"""A small thread-safe least-recently-used cache, shared by the explorer and the ledger."""

from __future__ import annotations

import threading
from collections import OrderedDict


class LRU:
    """A thread-safe least-recently-used map, bounded in entries or in total weight."""

    def __init__(self, size: int, weigh=None):
        """Hold at most size entries, or values whose weigh(value) add up to at most size."""
        self.size = size
        self._weigh = weigh or (lambda value: 1)
        self._total = 0
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        """The cached value, or None."""
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        """Remember a value, forgetting the least recently used ones beyond the bound."""
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._total -= self._weigh(old)
            self._data[key] = value
            self._total += self._weigh(value)
            while self._total > self.size and len(self._data) > 1:
                self._total -= self._weigh(self._data.popitem(last=False)[1])

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()
            self._total = 0
