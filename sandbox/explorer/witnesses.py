"""Witnesses of the world's many-input transactions, signed once and kept in the state dir.

A page of 25 transactions whose inputs number in the thousands (exchange sweeps, pool
consolidations, CoinJoins) would otherwise cost thousands of signatures, and thousands of
three-table lookups for the outputs they spend, per request. A background thread signs
those transactions, heaviest first, into `<state_dir>/witnesses.db` together with a
compact copy of their spent outputs (about 160 bytes per input); later runs reuse it.
"""

from __future__ import annotations

import logging
import sqlite3
import struct
import threading
import time
from pathlib import Path

from ..ledger.live.chain import read_only_world
from ..ledger.witness import Spent, witness_section
from ..sqlite_pool import ConnectionPool
from ..wal import connect_wal
from ..world import store as world_db

log = logging.getLogger(__name__)

HEAVY_INPUTS = 6  # transactions with at least this many inputs are signed ahead of time
FORMAT = "2"
_CHUNK = 64
_TYPES = ("p2wpkh", "p2pkh", "p2sh")
_PREVOUT = struct.Struct("<qBB")  # value, address type, address length; then the address

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sections (
    tx_id INTEGER PRIMARY KEY,
    section BLOB NOT NULL,        -- the serialized witnesses (BIP144) of every input
    prevouts BLOB NOT NULL        -- the spent outputs: pack_prevouts()
);
"""


def pack_prevouts(prevouts: list[tuple[int, str, str]]) -> bytes:
    """(value, address, address type) of each spent output, packed."""
    parts = []
    for value, address, typ in prevouts:
        raw = address.encode("ascii")
        parts.append(_PREVOUT.pack(value, _TYPES.index(typ), len(raw)) + raw)
    return b"".join(parts)


def unpack_prevouts(blob: bytes) -> list[tuple[int, str, str]]:
    """The (value, address, address type) list pack_prevouts packed."""
    out = []
    pos, n, unpack = 0, len(blob), _PREVOUT.unpack_from
    while pos < n:
        value, typ, size = unpack(blob, pos)
        pos += _PREVOUT.size
        out.append((value, blob[pos : pos + size].decode("ascii"), _TYPES[typ]))
        pos += size
    return out


class WitnessStore:
    """Precomputed witness sections of world transactions, by world transaction id."""

    def __init__(self, state_dir: str | Path, world_path: str | Path, world_digest: str):
        """Open (or create) state_dir/witnesses.db; a file made for another world is emptied."""
        self.path = Path(state_dir) / "witnesses.db"
        self.world_path = Path(world_path)
        self._lock = threading.Lock()
        self._writer = self._connect()
        self._writer.executescript(SCHEMA)
        row = self._writer.execute("SELECT value FROM meta WHERE key = 'world'").fetchone()
        if row is None or row[0] != world_digest:
            with self._writer:
                self._writer.execute("DELETE FROM sections")
                self._writer.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('world', ?)", (world_digest,)
                )
        self.readers = ConnectionPool(self._connect)
        self.done = threading.Event()
        self.seconds: float | None = None  # how long warming took, once done
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _connect(self) -> sqlite3.Connection:
        """A connection to the cache file (a cache: losing the last writes on a crash is fine)."""
        return connect_wal(self.path, synchronous="OFF", check_same_thread=False)

    def get_many(self, ids: list[int]) -> dict[int, tuple[bytes, bytes]]:
        """(witness section, packed prevouts) of these transactions, where stored."""
        return _stored(self.readers, ids) if ids else {}

    def start(self) -> WitnessStore:
        """Sign the heavy transactions not stored yet, in a background thread."""
        self._thread = threading.Thread(target=self._run, name="witness-warmer", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        """Warm the cache; a failure only costs speed, so it is logged, not raised."""
        started = time.perf_counter()
        try:
            self._warm()
        except Exception:
            log.exception("precomputing witnesses failed; they will be signed on demand")
        self.seconds = time.perf_counter() - started
        self.done.set()

    def _warm(self) -> None:
        """Sign every transaction with at least HEAVY_INPUTS inputs, heaviest first."""
        world = read_only_world(self.world_path)
        try:
            heavy = world_db.heavy_tx_ids(world, HEAVY_INPUTS)
            with self._lock:
                have = {r[0] for r in self._writer.execute("SELECT tx_id FROM sections")}
            todo = [i for i in heavy if i not in have]
            for k in range(0, len(todo), _CHUNK):
                if self._stop.is_set():
                    return
                rows = _sections(world, todo[k : k + _CHUNK])
                with self._lock:
                    self._writer.executemany(
                        "INSERT OR REPLACE INTO sections VALUES (?, ?, ?)", rows
                    )
                    self._writer.commit()
            if todo:
                log.info("signed the witnesses of %d many-input transactions", len(todo))
        finally:
            world.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until warming is done; True if it is."""
        return self.done.wait(timeout)

    def close(self) -> None:
        """Stop warming and close the cache."""
        self._stop.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=30)
        with self._lock:
            self._writer.close()
        self.readers.close()


class WitnessReader:
    """The cache as the explorer's worker processes read it: what its own process's
    WitnessStore has signed so far, nothing until it has made the file for this world."""

    def __init__(self, state_dir: str | Path, world_digest: str):
        self.path = Path(state_dir) / "witnesses.db"
        self.digest = world_digest
        self.readers = ConnectionPool(self._connect)
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        """A connection that only reads the cache (and never creates it)."""
        uri = f"file:{self.path}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA query_only = 1")
        return conn

    def _is_ready(self) -> bool:
        """Whether the file is there and made for this world (checked until it is)."""
        if not self._ready and self.path.is_file():
            try:
                with self.readers.borrow() as c:
                    row = c.execute("SELECT value FROM meta WHERE key = 'world'").fetchone()
            except sqlite3.OperationalError:  # made but its tables not yet
                return False
            self._ready = row is not None and row[0] == self.digest
        return self._ready

    def get_many(self, ids: list[int]) -> dict[int, tuple[bytes, bytes]]:
        """(witness section, packed prevouts) of these transactions, where stored."""
        if not ids or not self._is_ready():
            return {}
        return _stored(self.readers, ids)

    def close(self) -> None:
        """Close the connections."""
        self.readers.close()


def _stored(readers: ConnectionPool, ids: list[int]) -> dict[int, tuple[bytes, bytes]]:
    """The sections of ids the cache has, by id."""
    marks = ",".join("?" * len(ids))
    sql = f"SELECT tx_id, section, prevouts FROM sections WHERE tx_id IN ({marks})"
    with readers.borrow() as c:
        return {tx_id: (section, prevouts) for tx_id, section, prevouts in c.execute(sql, ids)}


def _sections(world: sqlite3.Connection, ids: list[int]) -> list[tuple[int, bytes, bytes]]:
    """(tx_id, witness section, packed prevouts) of world transactions."""
    raws = {r[0]: r[4] for r in world_db.txs_by_id(world, ids)}
    spent: dict[int, dict[int, tuple]] = {}
    for tx_id, n, value, address, typ, secret in world_db.spent_coins(world, ids):
        spent.setdefault(tx_id, {})[n] = (value, address, typ, secret)
    rows = []
    for tx_id in ids:
        ins = [spent[tx_id][i] for i in range(len(spent[tx_id]))]
        section = witness_section(raws[tx_id], [Spent(v, t, s) for v, _, t, s in ins])
        rows.append((tx_id, section, pack_prevouts([(v, a, t) for v, a, t, _ in ins])))
    return rows
