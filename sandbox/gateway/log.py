"""The gateway's connection log: one SQLite file the instructor side reads.

A stream that connects is logged at once (outcome ``ok``, ``ended`` NULL) and completed
when it closes (end time, final outcome, bytes up and down); a refused or failed request
is logged once, finished. Every refused clearnet/IP destination is also a row of
``containment``, up to a rate per client (its address and user name): past
``CONTAINMENT_BURST`` rows, a client earns one row per ``1 / CONTAINMENT_RATE`` seconds,
and what it tried meanwhile is counted and written as one summary row ("N more ...",
``suppressed`` = N), so a client cannot grow the file without bound. Records are queued by the relay and written in batches by one writer
thread, so a slow disk never stalls a connection. The file is appended to across
restarts; one process writes a given file at a time.
"""

from __future__ import annotations

import itertools
import logging
import queue
import sqlite3
import threading
import time
from pathlib import Path
from typing import NamedTuple

from ..wal import connect_wal

__all__ = [
    "OUTCOMES",
    "ConnectionLog",
    "ConnectionRecord",
    "ContainmentLimit",
    "ContainmentRecord",
    "Row",
    "latest",
]

OUTCOMES = (
    "ok",
    "tor-check",  # a stream to the sandbox's check.torproject.org: a check, not containment
    "unknown-onion",
    "bad-address",
    "refused",
    "upstream-failed",
    "circuit-failed",
    "malformed",
    "http-on-socks",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS connections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL NOT NULL,
    ended REAL,
    visitor TEXT,
    client TEXT,
    port_kind TEXT NOT NULL,
    destination TEXT,
    dest_port INTEGER,
    outcome TEXT NOT NULL,
    bytes_up INTEGER NOT NULL DEFAULT 0,
    bytes_down INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS connections_started ON connections (started);
CREATE INDEX IF NOT EXISTS connections_visitor ON connections (visitor);
CREATE TABLE IF NOT EXISTS containment (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    visitor TEXT,
    client TEXT,
    destination TEXT,
    reason TEXT,
    suppressed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS containment_time ON containment (time);
"""

_INSERT_CONNECTION = (
    "INSERT INTO connections (id, started, ended, visitor, client, port_kind, destination,"
    " dest_port, outcome, bytes_up, bytes_down) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPDATE_CONNECTION = (
    "UPDATE connections SET ended = ?, outcome = ?, bytes_up = ?, bytes_down = ? WHERE id = ?"
)
_INSERT_CONTAINMENT = (
    "INSERT INTO containment (time, visitor, client, destination, reason, suppressed)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_BATCH = 2000
_BATCH_DELAY = 0.25  # seconds a record may wait on the queue before it is written
_logger = logging.getLogger(__name__)

CONTAINMENT_BURST = 20  # containment rows a client may write in a burst
CONTAINMENT_RATE = 1 / 6  # rows per second it earns back (ten a minute)
# One address may hold many clients (user names behind a NAT, or invented ones): its own
# bucket, this many times a client's, bounds the log whatever names it makes up.
ADDRESS_SHARE = 5
SUMMARY_DELAY = 30.0  # seconds after a client's first unlogged attempt its summary is due


class ConnectionRecord(NamedTuple):
    """One client stream, as a row of ``connections`` (``ended`` None while it is open)."""

    started: float
    ended: float | None
    visitor: str | None
    client: str | None
    port_kind: str
    destination: str | None
    dest_port: int | None
    outcome: str
    bytes_up: int = 0
    bytes_down: int = 0


class ContainmentRecord(NamedTuple):
    """One attempt to leave the sandbox, as a row of ``containment``.

    A summary row (``suppressed`` > 0) stands for that many attempts of one client that
    the rate limit kept out of the log; ``destination`` is the last of them.
    """

    time: float
    visitor: str | None
    client: str | None
    destination: str | None
    reason: str
    suppressed: int = 0


class _Bucket:
    """A token bucket, and the attempts it turned away since its client's last row."""

    __slots__ = ("tokens", "stamp", "suppressed", "since", "last")

    def __init__(self, burst: float, now: float):
        """Start full."""
        self.tokens = burst
        self.stamp = now
        self.suppressed = 0
        self.since = 0.0
        self.last: ContainmentRecord | None = None

    def refill(self, burst: float, rate: float, now: float) -> None:
        """Add the tokens earned since the last look, up to the burst."""
        self.tokens = min(burst, self.tokens + (now - self.stamp) * rate)
        self.stamp = now


class ContainmentLimit:
    """Token buckets per client (address and user name) and per address on containment rows."""

    def __init__(self, burst: int = CONTAINMENT_BURST, rate: float = CONTAINMENT_RATE):
        """Allow ``burst`` rows at once and ``rate`` rows per second after that, per client."""
        if burst < 1 or rate <= 0:
            raise ValueError("containment burst must be >= 1 and rate > 0")
        self.burst, self.rate = float(burst), float(rate)
        self._clients: dict[tuple[str, str | None], _Bucket] = {}
        self._addresses: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def admit(self, record: ContainmentRecord) -> list[ContainmentRecord]:
        """The rows to write for one attempt: it (after its client's summary, if due), or none."""
        now = time.monotonic()
        address = _address(record.client)
        key = (address, record.visitor)
        with self._lock:
            client = self._bucket(self._clients, key, self.burst, self.rate, now)
            host = self._bucket(
                self._addresses, address, self.burst * ADDRESS_SHARE, self.rate * ADDRESS_SHARE, now
            )
            if client.tokens < 1 or host.tokens < 1:
                if not client.suppressed:
                    client.since = now
                client.suppressed += 1
                client.last = record
                return []
            client.tokens -= 1
            host.tokens -= 1
            rows = [self._summary(key, client)] if client.suppressed else []
            return [*rows, record]

    def due(self, everything: bool = False) -> list[ContainmentRecord]:
        """Summaries of runs of unlogged attempts older than SUMMARY_DELAY (or all of them)."""
        now = time.monotonic()
        with self._lock:
            rows = [
                self._summary(key, bucket)
                for key, bucket in self._clients.items()
                if bucket.suppressed and (everything or now - bucket.since >= SUMMARY_DELAY)
            ]
            if len(self._clients) > 4096:  # forget clients whose bucket has refilled
                full = self.burst / self.rate
                self._clients = {
                    k: b for k, b in self._clients.items() if b.suppressed or now - b.stamp < full
                }
                self._addresses = {k: b for k, b in self._addresses.items() if now - b.stamp < full}
            return rows

    @staticmethod
    def _bucket(table: dict, key, burst: float, rate: float, now: float) -> _Bucket:
        """A key's bucket, refilled to now."""
        bucket = table.get(key)
        if bucket is None:
            bucket = table[key] = _Bucket(burst, now)
        else:
            bucket.refill(burst, rate, now)
        return bucket

    @staticmethod
    def _summary(key: tuple[str, str | None], bucket: _Bucket) -> ContainmentRecord:
        """One row for a client's unlogged attempts; the count starts again."""
        address, visitor = key
        last = bucket.last
        assert last is not None
        who = f"{address} ({visitor})" if visitor else address
        row = ContainmentRecord(
            time.time(),
            visitor,
            address,
            last.destination,
            f"{bucket.suppressed} more refused attempts from {who} not logged one by one "
            f"(rate limit); the last: {last.reason}",
            bucket.suppressed,
        )
        bucket.suppressed = 0
        bucket.last = None
        return row


def _address(client: str | None) -> str:
    """The host of a 'host:port' or '[v6]:port' client name ('?' when unknown)."""
    if not client:
        return "?"
    host, sep, _port = client.rpartition(":")
    return host.strip("[]") if sep else client


class _Insert(NamedTuple):
    """A connection row to insert, with the id handed out for it."""

    row_id: int
    record: ConnectionRecord


class _Finish(NamedTuple):
    """The end of an open connection row: an UPDATE of its closing columns."""

    ended: float
    outcome: str
    bytes_up: int
    bytes_down: int
    row_id: int


class _Summaries(NamedTuple):
    """Containment summaries that fell due while the queue was quiet."""

    rows: list[ContainmentRecord]


class Row(dict):
    """A row read back from the log: a dict whose columns are also attributes."""

    __slots__ = ()

    def __getattr__(self, name: str):
        """Return a column by attribute name."""
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class ConnectionLog:
    """Append-only SQLite log of gateway connections and containment events."""

    def __init__(self, path: str | Path, containment_limit: ContainmentLimit | None = None):
        """Open (or create) the log file and start its writer thread."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.containment_limit = containment_limit or ContainmentLimit()
        db = self._connect()
        try:
            db.executescript(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(containment)")}
            if "suppressed" not in columns:  # a log written before the rate limit
                db.execute(
                    "ALTER TABLE containment ADD COLUMN suppressed INTEGER NOT NULL DEFAULT 0"
                )
            (last_id,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM connections").fetchone()
        finally:
            db.close()
        # Ids are handed out here, not by SQLite, so an open stream's row can be updated at
        # its end without waiting for the writer. One process writes a log file at a time.
        self._ids = itertools.count(last_id + 1)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._wake = threading.Event()  # cuts the batching pause short for flush() and close()
        self._writer = threading.Thread(target=self._write_loop, name="gateway-log", daemon=True)
        self._writer.start()

    def _connect(self) -> sqlite3.Connection:
        """Open a connection in WAL mode so readers never block the writer."""
        return connect_wal(self.path, check_same_thread=False)

    def connection(self, record: ConnectionRecord) -> int:
        """Queue one connection row (finished, or open until ``finish``); return its id."""
        if record.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {record.outcome!r}")
        row_id = next(self._ids)
        self._put(_Insert(row_id, record))
        return row_id

    def finish(
        self, row_id: int, *, ended: float, outcome: str, bytes_up: int, bytes_down: int
    ) -> None:
        """Queue the end of an open connection row: end time, outcome, byte counts."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        self._put(_Finish(ended, outcome, bytes_up, bytes_down, row_id))

    def containment(self, record: ContainmentRecord) -> bool:
        """Queue one containment event (never blocks); False when the rate limit counted it
        into its client's next summary instead."""
        if self._closed:
            raise RuntimeError(f"connection log {self.path} is closed")
        rows = self.containment_limit.admit(record)
        for row in rows:
            self._put(row)
        return record in rows

    def _put(self, item: object) -> None:
        """Queue an item unless the log is closed."""
        if self._closed:
            raise RuntimeError(f"connection log {self.path} is closed")
        self._queue.put(item)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything queued so far is on disk."""
        if self._closed:
            return
        done = threading.Event()
        self._queue.put(done)
        self._wake.set()
        if not done.wait(timeout):
            raise TimeoutError(f"connection log {self.path} did not flush in {timeout} s")

    def close(self) -> None:
        """Write what is queued, stop the writer thread and close the file."""
        if self._closed:
            return
        self._closed = True
        for row in self.containment_limit.due(everything=True):
            self._queue.put(row)
        self._queue.put(None)
        self._wake.set()
        self._writer.join()

    def __enter__(self) -> ConnectionLog:
        """Use the log as a context manager."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close on leaving the block."""
        self.close()

    def _write_loop(self) -> None:
        """Drain the queue in batches, one transaction per batch, until closed."""
        db = self._connect()
        try:
            running = True
            while running:
                try:
                    first = self._queue.get(timeout=SUMMARY_DELAY / 2)
                except queue.Empty:  # a quiet spell: only summaries may have fallen due
                    first = _Summaries([])
                if not (first is None or isinstance(first, (threading.Event, _Summaries))):
                    # Let records pile up: one commit (and one wake-up of this thread, which
                    # competes with the relay for the GIL) per interval, not per connection.
                    self._wake.wait(_BATCH_DELAY)
                self._wake.clear()
                batch = [first]
                while len(batch) < _BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                batch.append(_Summaries(self.containment_limit.due()))
                running = self._write_batch(db, batch)
        finally:
            db.close()

    @staticmethod
    def _write_batch(db: sqlite3.Connection, batch: list) -> bool:
        """Write one batch; set flush events after commit; return False on the stop marker."""
        inserts: dict[int, list] = {}
        updates: list[_Finish] = []
        containments: list[ContainmentRecord] = []
        for item in batch:
            if isinstance(item, _Insert):
                inserts[item.row_id] = [item.row_id, *item.record]
            elif isinstance(item, _Finish):
                row = inserts.get(item.row_id)
                if row is None:
                    updates.append(item)
                else:
                    # Opened and finished within one batch: a single INSERT, final values.
                    row[2], row[8], row[9], row[10] = (
                        item.ended,
                        item.outcome,
                        item.bytes_up,
                        item.bytes_down,
                    )
            elif isinstance(item, ContainmentRecord):
                containments.append(item)
            elif isinstance(item, _Summaries):
                containments.extend(item.rows)
        if inserts or updates or containments:
            try:
                with db:
                    # Inserts first: a row's update never precedes its insert in the queue.
                    db.executemany(_INSERT_CONNECTION, inserts.values())
                    db.executemany(_UPDATE_CONNECTION, updates)
                    db.executemany(_INSERT_CONTAINMENT, containments)
            except sqlite3.Error:
                # Losing a batch beats killing the writer: flush() and close() must not hang.
                _logger.exception("gateway log: could not write %d records", len(batch))
        for item in batch:
            if isinstance(item, threading.Event):
                item.set()
        return not any(item is None for item in batch)

    def _read(self, sql: str, args: tuple = ()) -> list[Row]:
        """Flush, run a read query on a fresh connection, and return the rows."""
        self.flush()
        return _read_only(self.path, sql, args)

    def recent(self, limit: int = 100) -> list[Row]:
        """Return the last ``limit`` connections (open ones have ``ended`` None), newest first."""
        return self._read("SELECT * FROM connections ORDER BY id DESC LIMIT ?", (int(limit),))

    def containment_events(self, since: float | None = None, limit: int = 1000) -> list[Row]:
        """Return containment events (optionally only after ``since``), newest first."""
        return self._read(
            "SELECT * FROM containment WHERE time >= ? ORDER BY id DESC LIMIT ?",
            (float(since or 0.0), int(limit)),
        )


def latest(path: str | Path, visitor: str | None = None, limit: int = 100):
    """(connections, containment events) of the log at path, newest first, at most limit of
    each (only a visitor's, if given): for a reader in another process than the gateway.

    FileNotFoundError before the gateway wrote it, sqlite3.Error if it cannot be read.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(path)
    where, args = ("WHERE visitor = ?", (visitor,)) if visitor else ("", ())
    return (
        _read_only(path, f"SELECT * FROM connections {where} ORDER BY id DESC LIMIT ?",
                   (*args, int(limit)), timeout=10.0),
        _read_only(path, f"SELECT * FROM containment {where} ORDER BY id DESC LIMIT ?",
                   (*args, int(limit)), timeout=10.0),
    )  # fmt: skip


def _read_only(path: str | Path, sql: str, args: tuple, timeout: float = 30.0) -> list[Row]:
    """The rows of one query on a fresh read-only connection to the log."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)
    try:
        db.row_factory = sqlite3.Row
        return [Row(row) for row in db.execute(sql, args)]
    finally:
        db.close()
