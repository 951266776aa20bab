"""The exchanges' audit log and freezes: `<state_dir>/exchanges.db`, shared by every exchange.

Requests are append-only (triggers refuse UPDATE and DELETE), numbered per exchange, and
stored with the answer exactly as it was given. A freeze is a row of its own, so the
ledger can ask `is_frozen` without reading the log.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from ..wal import connect_wal, immediate

__all__ = ["AuditLog", "is_frozen"]

FILE = "exchanges.db"
SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    exchange_id TEXT NOT NULL,
    number INTEGER NOT NULL,      -- per exchange, shown in URLs
    reference TEXT NOT NULL,
    received INTEGER NOT NULL,    -- world time
    status TEXT NOT NULL,
    reason TEXT,
    case_number TEXT NOT NULL,
    agency TEXT NOT NULL,
    subject TEXT NOT NULL,
    request TEXT NOT NULL,        -- JSON, as submitted (normalised)
    answer TEXT NOT NULL,         -- JSON, as answered
    requester_id TEXT,            -- who asked (the world's requesters.id); NULL before logins
    UNIQUE (exchange_id, number)
);
CREATE TRIGGER IF NOT EXISTS requests_no_update BEFORE UPDATE ON requests
BEGIN SELECT RAISE(ABORT, 'the request log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS requests_no_delete BEFORE DELETE ON requests
BEGIN SELECT RAISE(ABORT, 'the request log is append-only'); END;
CREATE TABLE IF NOT EXISTS freezes (
    exchange_id TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    request_id INTEGER NOT NULL,
    time INTEGER NOT NULL,        -- world time
    PRIMARY KEY (exchange_id, actor_id)
);
"""


def _connect(path: Path) -> sqlite3.Connection:
    """A WAL connection with rows as sqlite3.Row and a wait for concurrent writers."""
    conn = connect_wal(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def is_frozen(state_dir: str | Path, exchange_id: str, actor_id: str) -> bool:
    """Whether law enforcement had the actor's account at the exchange frozen."""
    path = Path(state_dir) / FILE
    if not path.is_file():
        return False
    conn = sqlite3.connect(path, timeout=30)
    try:
        row = conn.execute(
            "SELECT 1 FROM freezes WHERE exchange_id = ? AND actor_id = ?",
            (exchange_id, actor_id),
        ).fetchone()
    except sqlite3.OperationalError:  # created but not yet initialised
        return False
    finally:
        conn.close()
    return row is not None


def _add_requester_column(conn: sqlite3.Connection) -> None:
    """Bring a log written before requesters existed up to date (its old rows: no requester)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(requests)")}
    if "requester_id" not in columns:
        try:
            conn.execute("ALTER TABLE requests ADD COLUMN requester_id TEXT")
        except sqlite3.OperationalError as e:  # another portal of the state added it first
            if "duplicate column" not in str(e):
                raise


class AuditLog:
    """One exchange's view of the shared audit log."""

    def __init__(self, state_dir: str | Path, exchange_id: str):
        """Create the file and tables if needed."""
        self.path = Path(state_dir) / FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.exchange_id = exchange_id
        conn = _connect(self.path)
        try:
            conn.executescript(SCHEMA)
            _add_requester_column(conn)
        finally:
            conn.close()

    def next_number(self, conn: sqlite3.Connection) -> int:
        """The number the next request of this exchange gets (inside the writing transaction)."""
        row = conn.execute(
            "SELECT coalesce(max(number), 0) + 1 FROM requests WHERE exchange_id = ?",
            (self.exchange_id,),
        ).fetchone()
        return row[0]

    def record(self, build, requester_id: str) -> dict:
        """Store a requester's request; build(number, conn) gives (request, answer, freezes).

        Numbering, answering and storing happen in one write transaction, so two requests
        arriving at once never get the same number and a freeze is never half recorded.
        """
        conn = _connect(self.path)
        try:
            with immediate(conn):
                number = self.next_number(conn)
                request, answer, freezes = build(number, conn)
                cur = conn.execute(
                    """
                    INSERT INTO requests (exchange_id, number, reference, received, status, reason,
                        case_number, agency, subject, request, answer, requester_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    (
                        self.exchange_id,
                        number,
                        answer["reference"],
                        answer["date"],
                        answer["status"],
                        answer.get("reason"),
                        request.get("case_number", ""),
                        request.get("agency", ""),
                        request.get("subject", ""),
                        json.dumps(request, sort_keys=True),
                        json.dumps(answer, sort_keys=True),
                        requester_id,
                    ),
                )
                for frozen in freezes:
                    conn.execute(
                        "INSERT OR IGNORE INTO freezes VALUES (?, ?, ?, ?, ?)",
                        (self.exchange_id, frozen["actor_id"], frozen["account_id"], cur.lastrowid,
                         answer["date"]),
                    )  # fmt: skip
        finally:
            conn.close()
        return {
            "number": number,
            "request": request,
            "answer": answer,
            "requester_id": requester_id,
        }

    def get(self, number: int, requester_id: str | None = None) -> dict | None:
        """One stored request with its answer (of that requester, unless None), or None."""
        conn = _connect(self.path)
        try:
            row = conn.execute(
                "SELECT * FROM requests WHERE exchange_id = ? AND number = ?"
                " AND (? IS NULL OR requester_id = ?)",
                (self.exchange_id, number, requester_id, requester_id),
            ).fetchone()
        finally:
            conn.close()
        if row is None:
            return None
        return {
            "number": row["number"],
            "request": json.loads(row["request"]),
            "answer": json.loads(row["answer"]),
            "requester_id": row["requester_id"],
        }

    def list(self, requester_id: str | None = None) -> list[dict]:
        """The requests of this exchange (of that requester, unless None), newest first.

        Without the full answers.
        """
        conn = _connect(self.path)
        try:
            rows = conn.execute(
                """
                SELECT number, reference, received, status, reason, case_number, agency, subject,
                    requester_id
                FROM requests WHERE exchange_id = ? AND (? IS NULL OR requester_id = ?)
                ORDER BY number DESC
                """,
                (self.exchange_id, requester_id, requester_id),
            ).fetchall()
        finally:
            conn.close()
        return [dict(r) for r in rows]

    def frozen_since(self, actor_id: str, conn: sqlite3.Connection | None = None) -> int | None:
        """The world time the customer's account was frozen, or None."""
        own = conn is None
        conn = conn or _connect(self.path)
        try:
            row = conn.execute(
                "SELECT time FROM freezes WHERE exchange_id = ? AND actor_id = ?",
                (self.exchange_id, actor_id),
            ).fetchone()
        finally:
            if own:
                conn.close()
        return row[0] if row else None
