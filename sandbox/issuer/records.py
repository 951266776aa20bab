"""The issuer's runtime file, `<state_dir>/issuer.db`: requests, their answers, and the
actions (freeze, unfreeze, reissue) carried out on the chain. The only module with its SQL.

A request and its first answer are written once and never changed; an action moves from
pending to executed or refused once, with the txids it broadcast and the USDT amount it
concerned. The answer a reader sees is the stored one with its actions' outcome merged in.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..wal import connect_wal

__all__ = ["DB_NAME", "IssuerLog", "reference_of"]

DB_NAME = "issuer.db"
SCHEMA = """
CREATE TABLE IF NOT EXISTS issuer_requests (
    number INTEGER PRIMARY KEY AUTOINCREMENT,
    requester_id TEXT NOT NULL,
    created REAL NOT NULL,        -- wall-clock time
    world_time INTEGER NOT NULL,  -- the world's clock when it was made
    confidential INTEGER NOT NULL,
    subject TEXT NOT NULL,
    request TEXT NOT NULL,        -- JSON, as cleaned
    answer TEXT NOT NULL          -- JSON, as first answered
);
CREATE TABLE IF NOT EXISTS issuer_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number INTEGER NOT NULL REFERENCES issuer_requests(number),
    requester_id TEXT NOT NULL,
    kind TEXT NOT NULL,           -- freeze | unfreeze | reissue
    address TEXT NOT NULL,
    wallet TEXT,                  -- reissue: where the USDT goes
    due REAL NOT NULL,            -- wall-clock time it may be carried out
    status TEXT NOT NULL,         -- pending | executed | refused
    amount INTEGER,               -- USDT (6 decimals): frozen, or reissued
    txids TEXT NOT NULL DEFAULT '[]',
    reason TEXT NOT NULL DEFAULT '',
    done REAL                     -- wall-clock time it was carried out or refused
);
CREATE INDEX IF NOT EXISTS issuer_actions_due ON issuer_actions(status, due);
CREATE INDEX IF NOT EXISTS issuer_actions_address ON issuer_actions(address, kind);
"""
ACTION_COLUMNS = (
    "id, number, requester_id, kind, address, wallet, due, status, amount, txids, reason"
)


def reference_of(number: int) -> str:
    """The issuer's reference of request number: USDT-LE-000123."""
    return f"USDT-LE-{number:06d}"


def _action(row: tuple) -> dict:
    """An action row as a dict."""
    keys = [k.strip() for k in ACTION_COLUMNS.split(",")]
    out = dict(zip(keys, row, strict=True))
    out["txids"] = json.loads(out["txids"])
    return out


class IssuerLog:
    """The issuer's request log and actions in one state directory."""

    def __init__(self, state_dir: str | Path):
        """Open (and create) `<state_dir>/issuer.db`."""
        self.path = Path(state_dir) / DB_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        db = self._connect()
        try:
            db.executescript(SCHEMA)
        finally:
            db.close()

    def _connect(self) -> sqlite3.Connection:
        """A connection in autocommit mode (transactions are explicit)."""
        return connect_wal(self.path, isolation_level=None)

    def record(
        self,
        requester_id: str,
        world_time: int,
        request: dict,
        build: Callable[[int], tuple[dict, list[dict]]],
    ) -> int:
        """Store a request with the answer and actions build(number) makes; its number."""
        with self._lock:
            db = self._connect()
            try:
                db.execute("BEGIN IMMEDIATE")
                number = (
                    db.execute("SELECT coalesce(max(number), 0) + 1 FROM issuer_requests")
                ).fetchone()[0]
                answer, actions = build(number)
                db.execute(
                    "INSERT INTO issuer_requests (number, requester_id, created, world_time, "
                    "confidential, subject, request, answer) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        number,
                        requester_id,
                        time.time(),
                        world_time,
                        int(bool(request.get("confidential"))),
                        request["subject"],
                        json.dumps(request),
                        json.dumps(answer),
                    ),
                )
                for a in actions:
                    db.execute(
                        "INSERT INTO issuer_actions (number, requester_id, kind, address, "
                        "wallet, due, status, amount, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            number,
                            requester_id,
                            a["kind"],
                            a["address"],
                            a.get("wallet"),
                            a["due"],
                            a.get("status", "pending"),
                            a.get("amount"),
                            a.get("reason", ""),
                        ),
                    )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            finally:
                db.close()
        return number

    def _rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        """Rows of one read."""
        db = self._connect()
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def get(self, number: int, visible_to: str | None) -> dict | None:
        """One request with its answer (None when absent or not visible_to's)."""
        rows = self._rows(
            "SELECT number, requester_id, created, request, answer FROM issuer_requests "
            "WHERE number = ? AND (? IS NULL OR requester_id = ?)",
            (number, visible_to, visible_to),
        )
        if not rows:
            return None
        return self._stored(rows[0])

    def by_reference(self, reference: str) -> dict | None:
        """The request of an issuer reference (any requester's), or None."""
        text = reference.strip().upper()
        if not text.startswith("USDT-LE-") or not text[8:].isdigit():
            return None
        return self.get(int(text[8:]), None)

    def by_txid(self, txid: str) -> dict | None:
        """The request one of whose actions broadcast txid (any requester's), or None."""
        text = txid.strip().lower()
        rows = self._rows(
            "SELECT number FROM issuer_actions WHERE txids LIKE ? ORDER BY id LIMIT 1",
            (f'%"{text}"%',),
        )
        return self.get(rows[0][0], None) if rows else None

    def _stored(self, row: tuple) -> dict:
        """A request row with its answer and actions merged."""
        number, requester_id, created, request, answer = row
        ans = json.loads(answer)
        actions = self.actions_of(number)
        ans["reference"] = reference_of(number)
        ans["actions"] = [
            {k: a[k] for k in ("kind", "address", "wallet", "status", "amount", "txids", "reason")}
            for a in actions
        ]
        ans["txids"] = [t for a in actions for t in a["txids"]]
        if ans["status"] not in ("refused",) and actions:
            states = {a["status"] for a in actions}
            if "pending" in states:
                ans["status"] = "pending"
            elif states == {"refused"}:
                ans["status"] = "refused"
                ans["reason"] = "; ".join(a["reason"] for a in actions if a["reason"])
            else:
                ans["status"] = "executed"
        return {
            "number": number,
            "requester_id": requester_id,
            "created": created,
            "request": json.loads(request),
            "answer": ans,
        }

    def listing(self, visible_to: str | None) -> list[dict]:
        """Requests visible to a requester (all for None), newest first, with their status."""
        rows = self._rows(
            "SELECT number, requester_id, created, request, answer FROM issuer_requests "
            "WHERE (? IS NULL OR requester_id = ?) ORDER BY number DESC",
            (visible_to, visible_to),
        )
        out = []
        for row in rows:
            stored = self._stored(row)
            out.append(
                {
                    "id": stored["number"],
                    "reference": stored["answer"]["reference"],
                    "status": stored["answer"]["status"],
                    "subject": stored["request"]["subject"],
                    "requested": stored["request"]["requested"],
                    "requester": stored["requester_id"],
                    "created": stored["created"],
                }
            )
        return out

    def actions_of(self, number: int) -> list[dict]:
        """The actions of one request, in order."""
        return [
            _action(r)
            for r in self._rows(
                f"SELECT {ACTION_COLUMNS} FROM issuer_actions WHERE number = ? ORDER BY id",
                (number,),
            )
        ]

    def due(self, now: float) -> list[dict]:
        """Pending actions whose time has come, oldest first."""
        return [
            _action(r)
            for r in self._rows(
                f"SELECT {ACTION_COLUMNS} FROM issuer_actions WHERE status = 'pending' "
                "AND due <= ? ORDER BY id",
                (now,),
            )
        ]

    def actions(self, address: str, kind: str, requester_id: str | None = None) -> list[dict]:
        """Actions of a kind on an address (of one requester, when given), oldest first."""
        return [
            _action(r)
            for r in self._rows(
                f"SELECT {ACTION_COLUMNS} FROM issuer_actions WHERE address = ? AND kind = ? "
                "AND (? IS NULL OR requester_id = ?) ORDER BY id",
                (address, kind, requester_id, requester_id),
            )
        ]

    def finish(
        self, action_id: int, status: str, amount: int | None, txids: list[str], reason: str = ""
    ) -> None:
        """Mark a pending action executed or refused, once."""
        with self._lock:
            db = self._connect()
            try:
                db.execute(
                    "UPDATE issuer_actions SET status = ?, amount = coalesce(?, amount), "
                    "txids = ?, reason = ?, done = ? WHERE id = ? AND status = 'pending'",
                    (status, amount, json.dumps(txids), reason, time.time(), action_id),
                )
            finally:
                db.close()
