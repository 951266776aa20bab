"""The classroom's runtime store: `<state>/classroom.db`, what trainees did and when.

WAL with synchronous=FULL: a submission is on disk before its answer page is sent, so a
crash or `kill -9` right after loses nothing that a trainee was told was accepted. One
writing connection behind a lock serialises writes inside the process (no busy-waiting on
SQLite's lock); reads come from a pool and never wait for the writer.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SandboxError
from ..sqlite_pool import ConnectionPool
from ..wal import connect_wal, immediate

__all__ = [
    "FILE",
    "Progress",
    "SeatProgress",
    "SeatTaken",
    "SubmitError",
    "Submitted",
    "hash_pin",
    "pin_matches",
]

FILE = "classroom.db"
SCHEMA = """
CREATE TABLE IF NOT EXISTS trainees (
    seat INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    joined REAL NOT NULL,
    token TEXT NOT NULL,          -- in the trainee's cookie; a rejoin or a leave changes it
    pin TEXT,                     -- scrypt$salt$hash of the trainee's PIN (NULL: none chosen)
    language TEXT                 -- the language the trainee reads (NULL: the course's default)
);
CREATE TABLE IF NOT EXISTS instructor_sessions (
    id TEXT PRIMARY KEY,          -- in the instructor's cookie; logging out deletes it
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY,
    seat INTEGER NOT NULL,
    objective TEXT NOT NULL,
    answer TEXT NOT NULL,
    correct INTEGER NOT NULL,
    time REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS submissions_seat ON submissions (seat, objective);
CREATE TABLE IF NOT EXISTS hints_unlocked (
    seat INTEGER NOT NULL,
    objective TEXT NOT NULL,
    position INTEGER NOT NULL,
    time REAL NOT NULL,
    PRIMARY KEY (seat, objective, position)
);
CREATE TABLE IF NOT EXISTS injects_fired (
    id INTEGER PRIMARY KEY,
    inject TEXT NOT NULL,
    seat INTEGER,                 -- NULL: fired for the whole class
    time REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS injects_fired_inject ON injects_fired (inject, seat);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    seat INTEGER,                 -- NULL: for everyone
    text TEXT NOT NULL,           -- in the course's default language
    time REAL NOT NULL,
    texts TEXT                    -- JSON {language: text} of a message in several languages
);
CREATE TABLE IF NOT EXISTS exercise (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    started_at REAL
);
"""


# scrypt at n=2^13, r=8: about 20 ms and 8 MB per PIN, so 40 joins at once stay quick.
_SCRYPT = {"n": 2**13, "r": 8, "p": 1, "dklen": 32}


def hash_pin(pin: str) -> str:
    """A PIN as stored: scrypt with a fresh salt, as 'scrypt$salt$hash' (hex)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def pin_matches(stored: str | None, pin: str) -> bool:
    """Whether a typed PIN is the one stored (constant-time comparison)."""
    try:
        scheme, salt, digest = (stored or "").split("$")
        if scheme != "scrypt":
            return False
        given = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
        return hmac.compare_digest(given, bytes.fromhex(digest))
    except ValueError:
        return False


class SeatTaken(SandboxError):
    """The seat is bound to another trainee's browser."""


class SubmitError(SandboxError):
    """A submission or hint that cannot be accepted; the message says why."""

    def __init__(self, message: str, status: int = 409):
        """Keep the HTTP status the refusal deserves."""
        super().__init__(message)
        self.status = status


@dataclass
class Submitted:
    """The outcome of one accepted submission."""

    correct: bool
    attempts: int  # used on this objective, this one included
    left: int | None  # attempts left, None when unlimited


@dataclass
class SeatProgress:
    """One seat's state on one objective."""

    attempts: int = 0
    solved: bool = False
    solved_at: float | None = None
    last_answer: str | None = None
    hints: set[int] = field(default_factory=set)


class Progress:
    """Trainees, submissions, hints, injects fired, messages and the exercise clock."""

    def __init__(self, state_dir: str | Path):
        """Open (or create) state_dir/classroom.db."""
        self.path = Path(state_dir) / FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._writer = self._connect()
        self._writer.executescript(SCHEMA)
        # A classroom.db from before seats were bound, before trainees chose a language,
        # before messages came in several languages: the columns are added, nothing lost;
        # in one write transaction, as the portal's worker processes open it at once too.
        with immediate(self._writer) as conn:
            for table, column in (
                ("trainees", "pin"),
                ("trainees", "language"),
                ("messages", "texts"),
            ):
                columns = {r["name"] for r in conn.execute(f"PRAGMA table_info({table})")}
                if column not in columns:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
        self._readers = ConnectionPool(self._connect, size=48)

    def _connect(self) -> sqlite3.Connection:
        """A connection in WAL mode that syncs every commit to disk."""
        conn = connect_wal(
            self.path, synchronous="FULL", isolation_level=None, check_same_thread=False
        )
        conn.row_factory = sqlite3.Row
        return conn

    def close(self) -> None:
        """Close every connection."""
        with self._lock:
            self._writer.close()
        self._readers.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed (and synced) on leaving the block."""
        with self._lock, immediate(self._writer) as conn:
            yield conn

    def _read(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        """The rows of one query on a pooled connection."""
        with self._readers.borrow() as conn:
            return conn.execute(sql, args).fetchall()

    # -- trainees ---------------------------------------------------------------------

    def claim(self, seat: int, name: str, pin_hash: str, language: str | None = None) -> str:
        """Bind a free seat to a trainee reading a language (None: the course's default);
        returns their cookie's token. SeatTaken if bound."""
        token = secrets.token_urlsafe(16)
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO trainees (seat, name, joined, token, pin, language) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (seat) DO NOTHING",
                (seat, name, time.time(), token, pin_hash, language),
            )
            if cur.rowcount != 1:
                raise SeatTaken(seat)
        return token

    def rejoin(
        self, seat: int, pin: str, name: str | None = None, language: str | None = None
    ) -> str | None:
        """Move a bound seat to a new browser when the PIN is right (the old token dies);
        a name or language given replaces the seat's.

        Returns the new token, or None for a wrong PIN or a seat nobody holds.
        """
        row = self.trainee(seat)
        if row is None or not pin_matches(row["pin"], pin):
            return None
        token = secrets.token_urlsafe(16)
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE trainees SET token = ?, name = coalesce(?, name), "
                "language = coalesce(?, language) WHERE seat = ? AND pin = ?",
                (token, name or None, language, seat, row["pin"]),
            )
        return token if cur.rowcount == 1 else None

    def set_language(self, seat: int, language: str) -> bool:
        """Change the language a seated trainee reads; False when nobody holds the seat."""
        with self._write() as conn:
            cur = conn.execute("UPDATE trainees SET language = ? WHERE seat = ?", (language, seat))
        return cur.rowcount == 1

    def revoke(self, seat: int, token: str) -> None:
        """End the session holding token (leave): the seat stays bound, to rejoin with the PIN."""
        with self._write() as conn:
            conn.execute(
                "UPDATE trainees SET token = ? WHERE seat = ? AND token = ?",
                (secrets.token_urlsafe(16), seat, token),
            )

    def release(self, seat: int) -> bool:
        """Free a seat (instructor): its sessions end and its PIN is gone; progress stays."""
        with self._write() as conn:
            cur = conn.execute("DELETE FROM trainees WHERE seat = ?", (seat,))
        return cur.rowcount == 1

    def token(self, seat: int) -> str | None:
        """The token of the seat's current trainee, None when nobody joined it."""
        rows = self._read("SELECT token FROM trainees WHERE seat = ?", (seat,))
        return rows[0]["token"] if rows else None

    # -- the instructor's sessions ----------------------------------------------------

    def open_instructor_session(self) -> str:
        """A new instructor session; returns its id (for the cookie)."""
        sid = secrets.token_urlsafe(24)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO instructor_sessions (id, created) VALUES (?, ?)", (sid, time.time())
            )
        return sid

    def instructor_session(self, sid: str) -> bool:
        """Whether an instructor session is still open."""
        return bool(self._read("SELECT 1 FROM instructor_sessions WHERE id = ?", (sid,)))

    def close_instructor_session(self, sid: str) -> None:
        """End an instructor session (logout): its cookie no longer logs anyone in."""
        with self._write() as conn:
            conn.execute("DELETE FROM instructor_sessions WHERE id = ?", (sid,))

    def trainee(self, seat: int) -> sqlite3.Row | None:
        """The trainee seated at a seat, or None."""
        rows = self._read("SELECT * FROM trainees WHERE seat = ?", (seat,))
        return rows[0] if rows else None

    def trainees(self) -> dict[int, sqlite3.Row]:
        """Every seated trainee, by seat."""
        return {r["seat"]: r for r in self._read("SELECT * FROM trainees ORDER BY seat")}

    # -- answers and hints ------------------------------------------------------------

    def submit(
        self, seat: int, objective: str, answer: str, correct: bool, attempts: int
    ) -> Submitted:
        """Record an answer already judged; refuses a solved or exhausted objective."""
        with self._write() as conn:
            used, solved = conn.execute(
                "SELECT count(*), coalesce(max(correct), 0) FROM submissions "
                "WHERE seat = ? AND objective = ?",
                (seat, objective),
            ).fetchone()
            if solved:
                raise SubmitError("You have already solved this objective.")
            if attempts and used >= attempts:
                raise SubmitError("No attempts left on this objective.")
            conn.execute(
                "INSERT INTO submissions (seat, objective, answer, correct, time) "
                "VALUES (?, ?, ?, ?, ?)",
                (seat, objective, answer, int(correct), time.time()),
            )
        used += 1
        return Submitted(correct, used, (attempts - used) if attempts else None)

    def unlock_hint(self, seat: int, objective: str, position: int) -> bool:
        """Unlock one hint; False when it already was (so its cost is never taken twice)."""
        with self._write() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO hints_unlocked (seat, objective, position, time) "
                "VALUES (?, ?, ?, ?)",
                (seat, objective, position, time.time()),
            )
        return cur.rowcount == 1

    def seat(self, seat: int) -> dict[str, SeatProgress]:
        """A seat's progress, by objective id."""
        return self.board(seat).get(seat, {})

    def board(self, seat: int | None = None) -> dict[int, dict[str, SeatProgress]]:
        """Progress of every seat (or one), by seat, then objective id."""
        where, args = ("WHERE seat = ?", (seat,)) if seat is not None else ("", ())
        out: dict[int, dict[str, SeatProgress]] = {}
        with self._readers.borrow() as conn:
            # One read transaction: submissions and hints are seen at the same instant.
            conn.execute("BEGIN")
            try:
                subs = conn.execute(
                    "SELECT seat, objective, count(*) AS attempts, max(correct) AS solved, "
                    "min(CASE WHEN correct THEN time END) AS solved_at, "
                    "(SELECT answer FROM submissions l WHERE l.seat = s.seat "
                    " AND l.objective = s.objective ORDER BY id DESC LIMIT 1) AS last_answer "
                    f"FROM submissions s {where} GROUP BY seat, objective",
                    args,
                ).fetchall()
                hints = conn.execute(
                    f"SELECT seat, objective, position FROM hints_unlocked {where}", args
                ).fetchall()
            finally:
                conn.execute("COMMIT")
        for r in subs:
            out.setdefault(r["seat"], {})[r["objective"]] = SeatProgress(
                r["attempts"], bool(r["solved"]), r["solved_at"], r["last_answer"]
            )
        for r in hints:
            sp = out.setdefault(r["seat"], {}).setdefault(r["objective"], SeatProgress())
            sp.hints.add(r["position"])
        return out

    def submissions(self, seat: int | None = None) -> list[sqlite3.Row]:
        """Every submission (of one seat), oldest first."""
        if seat is None:
            return self._read("SELECT * FROM submissions ORDER BY id")
        return self._read("SELECT * FROM submissions WHERE seat = ? ORDER BY id", (seat,))

    # -- injects and messages (the inject runner's side) ------------------------------

    def add_message(self, seat: int | None, text: str, texts: dict[str, str] | None = None) -> int:
        """Send a message to one seat, or to everyone when seat is None; returns its id.

        texts: the message in several languages ({language: text}); text is the default's.
        """
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO messages (seat, text, time, texts) VALUES (?, ?, ?, ?)",
                (seat, text, time.time(), json.dumps(texts, ensure_ascii=False) if texts else None),
            )
        assert cur.lastrowid is not None  # an INSERT always sets it
        return cur.lastrowid

    def messages(self, seat: int | None = None, after: int = 0) -> list[sqlite3.Row]:
        """Messages a seat sees (its own and everyone's), or all of them; newest first."""
        if seat is None:
            return self._read("SELECT * FROM messages WHERE id > ? ORDER BY id DESC", (after,))
        return self._read(
            "SELECT * FROM messages WHERE (seat = ? OR seat IS NULL) AND id > ? ORDER BY id DESC",
            (seat, after),
        )

    def record_inject(self, inject_id: str, seat: int | None) -> None:
        """Note that an inject fired, for one seat or (seat None) for the whole class."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO injects_fired (inject, seat, time) VALUES (?, ?, ?)",
                (inject_id, seat, time.time()),
            )

    def fired(self, inject_id: str, seat: int | None) -> bool:
        """Whether the inject fired for exactly this seat (None: for the whole class)."""
        return bool(
            self._read(
                "SELECT 1 FROM injects_fired WHERE inject = ? AND seat IS ? LIMIT 1",
                (inject_id, seat),
            )
        )

    def fired_list(self) -> list[sqlite3.Row]:
        """Every inject fired, newest first."""
        return self._read("SELECT * FROM injects_fired ORDER BY id DESC")

    # -- the exercise clock -----------------------------------------------------------

    def started_at(self) -> float | None:
        """When the instructor started the exercise (Unix time), None before."""
        rows = self._read("SELECT started_at FROM exercise WHERE id = 1")
        return rows[0]["started_at"] if rows else None

    def start(self, at: float | None = None) -> float:
        """Start the exercise clock (again: restarting moves it); returns the start time."""
        at = time.time() if at is None else at
        with self._write() as conn:
            conn.execute(
                "INSERT INTO exercise (id, started_at) VALUES (1, ?) "
                "ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at",
                (at,),
            )
        return at

    # -- resets -----------------------------------------------------------------------

    def reset(self, seat: int | None = None) -> None:
        """Forget one seat's answers, hints, messages and injects; or everything (seat None).

        Trainees stay seated (bindings and PINs are kept: releasing a seat is separate); a
        full reset also stops the clock and clears class messages.
        """
        with self._write() as conn:
            if seat is None:
                for table in ("submissions", "hints_unlocked", "injects_fired", "messages"):
                    conn.execute(f"DELETE FROM {table}")
                conn.execute("DELETE FROM exercise")
                return
            for table in ("submissions", "hints_unlocked", "injects_fired", "messages"):
                conn.execute(f"DELETE FROM {table} WHERE seat = ?", (seat,))

    # -- what happened lately ---------------------------------------------------------

    def events(self, limit: int = 20) -> list[dict]:
        """The latest joins, submissions, hints, injects and messages, newest first."""
        rows = self._read(
            """
            SELECT * FROM (
                SELECT joined AS time, 'joined' AS kind, seat, NULL AS detail, NULL AS ok
                    FROM trainees
                UNION ALL SELECT time, 'answer', seat, objective, correct FROM submissions
                UNION ALL SELECT time, 'hint', seat, objective || ' #' || (position + 1), NULL
                    FROM hints_unlocked
                UNION ALL SELECT time, 'inject', seat, inject, NULL FROM injects_fired
            ) ORDER BY time DESC LIMIT ?
            """,
            (int(limit),),
        )
        return [dict(r) for r in rows]
