"""Pooled SQLite connections, shared by every service that reads or writes a database.

Werkzeug's threaded server starts a thread per request, and sqlite3 connections must not
be used by two threads at once. A pool lends each thread a connection and takes it back,
so the connection's page cache stays warm across requests instead of a cold connection
being opened every time. Connections must be opened with ``check_same_thread=False``.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterator

__all__ = ["ConnectionPool", "ThreadConnections"]


class ConnectionPool:
    """Reusable SQLite connections, one lent to each thread at a time."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], size: int = 32):
        """Open connections with connect() as needed; keep at most size idle ones."""
        self._connect = connect
        self._idle: deque[sqlite3.Connection] = deque()
        self._size = size
        self._lock = threading.Lock()

    def take(self) -> sqlite3.Connection:
        """An idle connection, or a new one; hand it back with give()."""
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        return conn if conn is not None else self._connect()

    def give(self, conn: sqlite3.Connection) -> None:
        """Take back a connection (a transaction left open is rolled back)."""
        if conn.in_transaction:
            conn.rollback()
        with self._lock:
            keep = len(self._idle) < self._size
            if keep:
                self._idle.append(conn)
        if not keep:
            conn.close()

    @contextlib.contextmanager
    def borrow(self) -> Iterator[sqlite3.Connection]:
        """A connection for the duration of a with block."""
        conn = self.take()
        try:
            yield conn
        finally:
            self.give(conn)

    def close(self) -> None:
        """Close the idle connections."""
        with self._lock:
            while self._idle:
                self._idle.pop().close()


class ThreadConnections:
    """Lends each thread one pooled connection until release(), with small query helpers."""

    pool_size = 8  # idle connections kept between requests

    def __init__(self):
        """No connection lent to any thread yet."""
        self._local = threading.local()
        self._pool = ConnectionPool(self._connect, self.pool_size)

    def _connect(self) -> sqlite3.Connection:
        """Open a new connection (check_same_thread=False: the pool moves it between threads)."""
        raise NotImplementedError

    def conn(self) -> sqlite3.Connection:
        """This thread's connection, lent on first use until release()."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._pool.take()
        return conn

    def release(self) -> None:
        """Give this thread's connection back to the pool (after each request)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            self._pool.give(conn)

    def close(self) -> None:
        """Give back this thread's connection and close the idle ones."""
        self.release()
        self._pool.close()

    def all(self, sql: str, params: tuple | list = ()) -> list[dict]:
        """Every row of a query, as dicts."""
        return [dict(r) for r in self.conn().execute(sql, params)]

    def one(self, sql: str, params: tuple | list = ()) -> dict | None:
        """The first row of a query as a dict, or None."""
        row = self.conn().execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def value(self, sql: str, params: tuple | list = ()):
        """The first column of the first row, or None."""
        row = self.conn().execute(sql, params).fetchone()
        return row[0] if row is not None else None
