"""A hash over a world's whole content: equal worlds have equal digests."""

from __future__ import annotations

import hashlib
import sqlite3

from .schema import DIGEST_ORDER


def world_digest(conn: sqlite3.Connection) -> str:
    """SHA-256 over every row of every world table, in primary-key order.

    SQLite renders each row with quote(), which is unambiguous for every type (blobs as
    X'..', text quoted) and about twice as fast as formatting rows in Python.
    """
    h = hashlib.sha256()
    for table, order in DIGEST_ORDER.items():
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        row_text = " || ',' || ".join(f"quote({c})" for c in columns)
        # The digest is stored in meta; it cannot cover itself.
        where = "WHERE key != 'digest'" if table == "meta" else ""
        h.update(f"\x00table:{table}\x00".encode())
        cursor = conn.execute(f"SELECT {row_text} FROM {table} {where} ORDER BY {order}")
        while rows := cursor.fetchmany(50_000):
            h.update("\n".join(r[0] for r in rows).encode())
            h.update(b"\n")
    return h.hexdigest()
