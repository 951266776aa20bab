"""The case file: one SQLite file per investigation, with a chain of custody for everything in it.

Every capture (a page or file fetched over the network) is stored with its SHA-256, its
source URL, the time it was taken and who took it, and every command run on the case is
logged. Modules of the toolkit declare their own tables with `Case.ensure(schema)`.

The command line and `investigate ui` work on one case file at the same time: WAL lets them
read while the other writes, a writer waits its turn (busy timeout) rather than failing,
every transaction takes the write lock when it begins (a transaction that read first could
not take it after the other's commit: "database is locked"), and a sync of a chain index
holds the case's sync lock (`Case.sync_lock`), so two syncs never number the same new
blocks' rows twice.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import CaseError

SCHEMA = """
CREATE TABLE IF NOT EXISTS custody (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    operator TEXT NOT NULL,       -- who ran it: user@host, or --operator
    command TEXT NOT NULL,        -- the command line or API call
    note TEXT
);
CREATE TABLE IF NOT EXISTS captures (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    host TEXT NOT NULL,
    fetched_at REAL NOT NULL,
    status INTEGER NOT NULL,
    content_type TEXT,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    body BLOB NOT NULL,
    via TEXT,                     -- the proxy it was fetched through
    custody_id INTEGER NOT NULL REFERENCES custody(id),
    UNIQUE (url, sha256)
);
CREATE INDEX IF NOT EXISTS idx_captures_host ON captures(host);
"""


@dataclass(frozen=True)
class Capture:
    """One captured page or file."""

    id: int
    url: str
    host: str
    fetched_at: float
    status: int
    content_type: str | None
    sha256: str
    size: int
    body: bytes
    via: str | None


BUSY_TIMEOUT = 60  # seconds a writer waits for another's transaction (a sync's window: less)


class _Connection(sqlite3.Connection):
    """A case's connection: a plain BEGIN takes the write lock at once (BEGIN IMMEDIATE)."""

    def execute(self, sql: str, *args):
        """As sqlite3's, a plain BEGIN made IMMEDIATE: waiting for the lock is then done by
        the busy timeout, before the transaction has read anything another commit could
        make stale."""
        if sql.strip().upper() == "BEGIN":
            sql = "BEGIN IMMEDIATE"
        return super().execute(sql, *args)


def default_operator() -> str:
    """Who runs the toolkit: user@host, unless INVESTIGATE_OPERATOR says otherwise."""
    name = os.environ.get("INVESTIGATE_OPERATOR")
    if name:
        return name
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


class Case:
    """An open case file."""

    def __init__(self, path: str | Path = "case.db", operator: str | None = None):
        """Open (or create) a case file."""
        self.path = Path(path)
        self.operator = operator or default_operator()
        if self.path.exists() and not self.path.is_file():
            raise CaseError(f"{self.path}: not a case file (it is a directory)")
        try:
            self.conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT, isolation_level=None, factory=_Connection
            )
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            # WAL with NORMAL sync never corrupts and survives a crash of the toolkit; only a
            # power cut can lose the last commits. FULL costs an fsync per captured page.
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.executescript(SCHEMA)
        except sqlite3.DatabaseError as e:
            raise CaseError(f"{self.path}: not a case file ({e})") from e
        self._custody_id: int | None = None
        self._sync_depth = 0

    @contextmanager
    def sync_lock(self, wait: bool = True) -> Iterator[bool]:
        """Hold the case's sync lock (a lock file beside the case, `<case>.sync-lock`): one
        sync of its chain indexes at a time, across processes. Yields whether it is held:
        with wait=False, False at once when another holds it. Taken again inside, it is
        already held."""
        if self._sync_depth:
            self._sync_depth += 1
            try:
                yield True
            finally:
                self._sync_depth -= 1
            return
        with open(self.path.with_name(self.path.name + ".sync-lock"), "a+b") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            self._sync_depth = 1
            try:
                yield True
            finally:
                self._sync_depth = 0
                fcntl.flock(lock, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the file."""
        self.conn.close()

    def __enter__(self) -> Case:
        """Use in a with block."""
        return self

    def __exit__(self, *exc) -> None:
        """Close on leaving the block."""
        self.close()

    def ensure(self, schema: str) -> None:
        """Create a module's tables if they do not exist yet."""
        self.conn.executescript(schema)

    def begin(self, command: str, note: str | None = None) -> int:
        """Log a command in the chain of custody; later captures refer to it."""
        cur = self.conn.execute(
            "INSERT INTO custody (time, operator, command, note) VALUES (?, ?, ?, ?)",
            (time.time(), self.operator, command, note),
        )
        self._custody_id = cur.lastrowid
        assert self._custody_id is not None  # an INSERT always sets it
        return self._custody_id

    @property
    def custody_id(self) -> int:
        """The custody entry of the current command (one is opened if none was)."""
        if self._custody_id is None:
            return self.begin("python api")
        return self._custody_id

    def capture(
        self,
        url: str,
        host: str,
        status: int,
        content_type: str | None,
        body: bytes,
        via: str | None = None,
    ) -> Capture:
        """Store a fetched page or file with its hash; the same content twice is kept once."""
        digest = hashlib.sha256(body).hexdigest()
        now = time.time()
        self.conn.execute(
            "INSERT OR IGNORE INTO captures (url, host, fetched_at, status, content_type, sha256,"
            " size, body, via, custody_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (url, host, now, status, content_type, digest, len(body), body, via, self.custody_id),
        )
        row = self.conn.execute(
            "SELECT * FROM captures WHERE url = ? AND sha256 = ?", (url, digest)
        ).fetchone()
        return _capture(row)

    def captures(self, host: str | None = None) -> list[Capture]:
        """Every capture, optionally of one host, in the order taken."""
        if host is None:
            rows = self.conn.execute("SELECT * FROM captures ORDER BY id")
        else:
            rows = self.conn.execute("SELECT * FROM captures WHERE host = ? ORDER BY id", (host,))
        return [_capture(r) for r in rows]

    def verify(self) -> list[str]:
        """Problems with the stored captures: any whose content no longer matches its hash."""
        return [
            f"capture {r['id']} ({r['url']}): content does not match its SHA-256"
            for r in self.conn.execute("SELECT id, url, body, sha256 FROM captures")
            if hashlib.sha256(r["body"]).hexdigest() != r["sha256"]
        ]

    def custody(self) -> list[dict]:
        """The chain of custody: every command run on the case."""
        return [dict(r) for r in self.conn.execute("SELECT * FROM custody ORDER BY id")]

    def set_meta(self, key: str, value) -> None:
        """Store a small JSON value about the case."""
        self.ensure("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);")
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value))
        )

    def get_meta(self, key: str, default=None):
        """A value stored with set_meta."""
        self.ensure("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);")
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default


def _capture(row: sqlite3.Row) -> Capture:
    """A Capture from its row."""
    return Capture(
        row["id"],
        row["url"],
        row["host"],
        row["fetched_at"],
        row["status"],
        row["content_type"],
        row["sha256"],
        row["size"],
        row["body"],
        row["via"],
    )
