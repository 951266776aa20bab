"""SQLite files in WAL mode that several processes open at once.

A site container, the gateway and the classroom may create the same state file together.
Switching a new file to WAL takes an exclusive lock, and SQLite answers SQLITE_BUSY at once,
without its busy handler, when waiting could deadlock; so the wait for that is done here.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path


def connect_wal(
    path: str | Path, *, synchronous: str = "NORMAL", timeout: float = 30.0, **kwargs
) -> sqlite3.Connection:
    """A connection to path in WAL mode, e.g. ``connect_wal(p, synchronous="FULL")``."""
    conn = sqlite3.connect(path, timeout=timeout, **kwargs)
    try:
        _retry(lambda: conn.execute("PRAGMA journal_mode = WAL"), timeout)
        conn.execute(f"PRAGMA synchronous = {synchronous}")
    except BaseException:
        conn.close()
        raise
    return conn


@contextlib.contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction taken at its start: committed when the block ends, else rolled back.

    BEGIN IMMEDIATE takes the write lock before the block's first read, so no other writer
    (another thread, another process on the same file) comes between what it reads and
    what it writes.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    if conn.in_transaction:
        conn.execute("COMMIT")


def _retry(step, timeout: float) -> None:
    """Run step until it does not find the database locked, for at most timeout seconds."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)
