"""One SQLite connection per thread, and small query helpers: the world reader's and the
sites' state store's."""

from __future__ import annotations

import sqlite3
import threading


class ThreadConnections:
    """Hands each thread its own connection (sqlite3 connections are not shared across threads)."""

    def __init__(self):
        """No connection yet in any thread."""
        self._local = threading.local()

    def _connect(self) -> sqlite3.Connection:
        """Open a new connection for the calling thread."""
        raise NotImplementedError

    def conn(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use; closed by release() or with its thread."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def release(self) -> None:
        """Close this thread's connection (after each request: servers use a thread each)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            conn.close()

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
