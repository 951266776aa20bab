"""The live chain: a mempool and blocks mined while the sandbox runs, on top of the world.

world.db is never written. What trainees broadcast, and the blocks that confirm it, go
to `<state_dir>/chain.db`; heights continue from the world's tip, block times continue
from the world's last block at its block interval (simulated time), and the coinbase
pays a pool key derived from the world's digest and kept in chain.db.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from ...errors import SandboxError, WorldError
from ...sqlite_pool import ConnectionPool
from ...wal import connect_wal, immediate
from ...world import store as world_db
from ...world.store import open_world
from ..address import address_from_script, p2wpkh_address, script_pubkey
from ..block import (
    BLOCK_VERSION,
    REGTEST_BITS,
    WITNESS_RESERVED,
    merkle_root,
    mine,
    subsidy,
    witness_commitment_script,
)
from ..codec.compact import encode_compact_size
from ..codec.hashes import sha256d
from ..keys import Key, derive_secret
from ..tx import Tx, coinbase_tx, parse, serialize
from .mempool import (
    COINBASE_MATURITY,
    RPC_TRANSACTION_ALREADY_IN_CHAIN,
    RPC_TRANSACTION_ERROR,
    BroadcastError,
    Coin,
    check_inputs,
    check_standalone,
    decode,
)

__all__ = [
    "BroadcastError",
    "LiveChain",
    "LiveChainNotReady",
    "LiveChainReader",
    "LiveChainView",
    "LiveMiner",
    "LiveTx",
]

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (
    height INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    prev_hash TEXT NOT NULL,
    merkle_root TEXT NOT NULL,
    time INTEGER NOT NULL,
    version INTEGER NOT NULL,
    bits INTEGER NOT NULL,
    nonce INTEGER NOT NULL,
    tx_count INTEGER NOT NULL,
    size INTEGER NOT NULL,
    weight INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS txs (
    txid TEXT PRIMARY KEY,
    raw BLOB NOT NULL,            -- complete serialization, witnesses included
    seq INTEGER NOT NULL UNIQUE,  -- arrival order
    height INTEGER,               -- NULL while in the mempool
    position INTEGER,
    fee INTEGER NOT NULL,
    vsize INTEGER NOT NULL,
    value_in INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS txs_height ON txs(height, position);
CREATE TABLE IF NOT EXISTS outputs (
    txid TEXT NOT NULL,
    n INTEGER NOT NULL,
    value INTEGER NOT NULL,
    script BLOB NOT NULL,
    address TEXT,
    PRIMARY KEY (txid, n)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outputs_address ON outputs(address);
CREATE TABLE IF NOT EXISTS spends (
    prev_txid TEXT NOT NULL,      -- a world or a live transaction
    prev_n INTEGER NOT NULL,
    txid TEXT NOT NULL,
    vin INTEGER NOT NULL,
    value INTEGER NOT NULL,
    address TEXT,
    PRIMARY KEY (prev_txid, prev_n)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS spends_address ON spends(address);
CREATE INDEX IF NOT EXISTS spends_txid ON spends(txid);
CREATE TABLE IF NOT EXISTS tx_addresses (
    address TEXT NOT NULL,
    txid TEXT NOT NULL,
    PRIMARY KEY (address, txid)
) WITHOUT ROWID;
"""

WORLD_MMAP_BYTES = 4 << 30


def read_only_world(path: Path) -> sqlite3.Connection:
    """A plain read-only connection to world.db, usable from any one thread at a time."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.execute("PRAGMA query_only = 1")
    # Memory-mapped reads share the OS page cache between connections and skip a read()
    # per page: the world is read-only and random access dominates.
    conn.execute(f"PRAGMA mmap_size = {WORLD_MMAP_BYTES}")
    return conn


def read_only_chain(path: str | Path) -> sqlite3.Connection | None:
    """A read-only connection (rows as sqlite3.Row) to a chain.db another process writes.

    None while the file is missing or its tables are not made yet.
    """
    path = Path(path)
    if not path.is_file():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("SELECT 1 FROM spends LIMIT 1")
    except sqlite3.OperationalError:  # created but not yet initialised
        conn.close()
        return None
    return conn


class LiveTx(NamedTuple):
    """A live transaction as chain.db stores it, with what it spent and its block."""

    txid: str
    raw: bytes  # complete serialization, witnesses included
    height: int | None  # None while in the mempool
    position: int | None
    fee: int
    spent: dict[int, tuple[int, str | None]]  # input index -> (value, address) it spent
    block_hash: str | None
    block_time: int | None


# A classroom pace: a broadcast waits in the mempool about a minute, as it would for a block.
DEFAULT_BLOCK_SECONDS = 60

LIVE_BLOCK_COLUMNS = "height, hash, prev_hash, merkle_root, time, version, bits, nonce, tx_count"


class LiveChainReader:
    """The named reads of chain.db every other package uses; it writes nothing.

    Given a pool (the live chain's own readers) it borrows from it; given only the path
    (a service in another process than the explorer) it opens the file for each read, and
    answers as for an empty chain while the explorer has not made it yet.
    """

    def __init__(self, path: str | Path, pool: ConnectionPool | None = None):
        """Read the chain.db at path, through pool if given."""
        self.path = Path(path)
        self._pool = pool

    @contextlib.contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection | None]:
        """A connection for one read, or None while chain.db does not exist yet."""
        if self._pool is not None:
            with self._pool.borrow() as conn:
                yield conn
            return
        cold = read_only_chain(self.path)
        try:
            yield cold
        finally:
            if cold is not None:
                cold.close()

    def _rows(self, sql: str, params=()) -> list[tuple]:
        """Every row of one query, as tuples ([] without a chain)."""
        with self._conn() as c:
            return [] if c is None else [tuple(r) for r in c.execute(sql, params)]

    # -- transactions -------------------------------------------------------------------

    def has_tx(self, txid: str) -> bool:
        """Whether the live chain (mempool or live block) has the transaction."""
        return bool(self._rows("SELECT 1 FROM txs WHERE txid = ?", (txid,)))

    def txs(self, txids: list[str]) -> dict[str, LiveTx]:
        """The live transactions of txids that exist, by txid."""
        if not txids:
            return {}
        marks = _marks(txids)
        with self._conn() as c:
            if c is None:
                return {}
            rows = c.execute(
                f"SELECT txid, raw, height, position, fee FROM txs WHERE txid IN ({marks})", txids
            ).fetchall()
            spent: dict[str, dict[int, tuple]] = {}
            for txid, vin, value, address in c.execute(
                f"SELECT txid, vin, value, address FROM spends WHERE txid IN ({marks})", txids
            ):
                spent.setdefault(txid, {})[vin] = (value, address)
            blocks = _block_ids(c, {r[2] for r in rows})
        return {
            r[0]: LiveTx(
                r[0],
                bytes(r[1]),
                r[2],
                r[3],
                r[4],
                spent.get(r[0], {}),
                *blocks.get(r[2], (None, None)),
            )  # fmt: skip
            for r in rows
        }

    def _with_blocks(self, sql: str, params) -> list[tuple]:
        """The rows of a query whose last column is a height, each followed by its block's
        hash and time (None, None while unconfirmed)."""
        with self._conn() as c:
            if c is None:
                return []
            rows = c.execute(sql, params).fetchall()
            blocks = _block_ids(c, {r[-1] for r in rows})
        return [(*r, *blocks.get(r[-1], (None, None))) for r in rows]

    def output_count(self, txid: str) -> int:
        """How many outputs a live transaction has (0 if the live chain has no such one)."""
        rows = self._rows("SELECT count(*) FROM outputs WHERE txid = ?", (txid,))
        return rows[0][0] if rows else 0

    def spenders(self, txid: str) -> list[tuple[int, str, int, int | None, str | None, int | None]]:
        """Live spends of txid's outputs: (n, spending txid, vin, height, block hash, time)."""
        return self._with_blocks(
            "SELECT s.prev_n, s.txid, s.vin, t.height FROM spends s "
            "JOIN txs t ON t.txid = s.txid WHERE s.prev_txid = ?",
            (txid,),
        )

    def confirmed_addresses(self, txid: str) -> list[str]:
        """The addresses a live-confirmed transaction pays, by output ([] if unconfirmed)."""
        return [
            r[0]
            for r in self._rows(
                "SELECT o.address FROM outputs o JOIN txs t ON t.txid = o.txid"
                " WHERE o.txid = ? AND t.height IS NOT NULL AND o.address IS NOT NULL",
                (txid,),
            )
        ]

    def sweeps(self, txid: str, spend_from: list[str], pay_to: str) -> bool:
        """Whether txid spends an output of a spend_from address and pays pay_to something."""
        marks = _marks(spend_from)
        with self._conn() as c:
            if c is None:
                return False
            spends = c.execute(
                f"SELECT 1 FROM spends WHERE txid = ? AND address IN ({marks}) LIMIT 1",
                (txid, *spend_from),
            ).fetchone()
            pays = c.execute(
                "SELECT 1 FROM outputs WHERE txid = ? AND address = ? AND value > 0 LIMIT 1",
                (txid, pay_to),
            ).fetchone()
        return spends is not None and pays is not None

    # -- addresses ----------------------------------------------------------------------

    def history(self, address: str) -> list[tuple[str, int | None]]:
        """(txid, height) of the address's live transactions: mempool first, newest first."""
        return self._rows(
            "SELECT t.txid, t.height FROM tx_addresses a JOIN txs t ON t.txid = a.txid "
            "WHERE a.address = ? ORDER BY t.height IS NULL DESC, t.height DESC, "
            "t.position DESC, t.seq DESC",
            (address,),
        )

    def scripthash_address(self, scripthash: bytes) -> str | None:
        """The address a live output pays whose script has this SHA-256, or None."""
        # The live chain holds what a class broadcast: few scripts, hashed as asked.
        for address, script in self._rows(
            "SELECT DISTINCT address, script FROM outputs WHERE address IS NOT NULL"
        ):
            if hashlib.sha256(script).digest() == scripthash:
                return address
        return None

    def addresses_with_prefix(self, prefix: str, limit: int) -> list[str]:
        """Up to limit addresses of live outputs starting with prefix, in order."""
        return [
            r[0]
            for r in self._rows(
                "SELECT DISTINCT address FROM outputs WHERE address >= ? AND address < ?"
                " ORDER BY address LIMIT ?",
                (prefix, prefix + "\U0010ffff", limit),
            )
        ]

    def ever_paid(self, address: str) -> bool:
        """Whether a live transaction ever paid the address."""
        return bool(self._rows("SELECT 1 FROM outputs WHERE address = ? LIMIT 1", (address,)))

    def received_and_spent(self, address: str) -> tuple[int, int]:
        """(sum of live outputs paying the address, sum of its outputs live spends spent)."""
        with self._conn() as c:
            if c is None:
                return 0, 0
            (received,) = c.execute(
                "SELECT coalesce(sum(value), 0) FROM outputs WHERE address = ?", (address,)
            ).fetchone()
            (spent,) = c.execute(
                "SELECT coalesce(sum(value), 0) FROM spends WHERE address = ?", (address,)
            ).fetchone()
        return received, spent

    def address_totals(self, address: str) -> dict[bool, list[int]]:
        """In the mempool (True) or confirmed (False): [funded count, funded sum, spent count,
        spent sum, transaction count] of an address on the live chain."""
        totals = {True: [0] * 5, False: [0] * 5}
        with self._conn() as c:
            if c is None:
                return totals
            for pending, count, total in c.execute(
                "SELECT t.height IS NULL, count(*), sum(o.value) FROM outputs o "
                "JOIN txs t ON t.txid = o.txid WHERE o.address = ? GROUP BY 1",
                (address,),
            ):
                totals[bool(pending)][0] += count
                totals[bool(pending)][1] += total
            for pending, count, total in c.execute(
                "SELECT t.height IS NULL, count(*), sum(s.value) FROM spends s "
                "JOIN txs t ON t.txid = s.txid WHERE s.address = ? GROUP BY 1",
                (address,),
            ):
                totals[bool(pending)][2] += count
                totals[bool(pending)][3] += total
            for pending, count in c.execute(
                "SELECT t.height IS NULL, count(*) FROM tx_addresses a "
                "JOIN txs t ON t.txid = a.txid WHERE a.address = ? GROUP BY 1",
                (address,),
            ):
                totals[bool(pending)][4] += count
        return totals

    def outputs_to(
        self, address: str
    ) -> list[tuple[str, int, int, int | None, str | None, int | None]]:
        """Live outputs paying the address, newest first: (txid, n, value, height, hash, time)."""
        return self._with_blocks(
            "SELECT o.txid, o.n, o.value, t.height FROM outputs o JOIN txs t "
            "ON t.txid = o.txid WHERE o.address = ? ORDER BY t.seq DESC",
            (address,),
        )

    def spent_from(self, address: str) -> set[tuple[str, int]]:
        """(txid, n) of the address's outputs, world or live, that live transactions spend."""
        return set(self._rows("SELECT prev_txid, prev_n FROM spends WHERE address = ?", (address,)))

    def unspent_paying(self, addresses) -> list[tuple[str, int, int, str]]:
        """Unspent live outputs, coinbases aside, paying one of addresses: (txid, n, value,
        address)."""
        wanted = set(addresses)
        return [
            r
            for r in self._rows(
                "SELECT o.txid, o.n, o.value, o.address FROM outputs o"
                " JOIN txs t ON t.txid = o.txid WHERE o.address IS NOT NULL"
                " AND (t.position IS NULL OR t.position > 0) AND NOT EXISTS"
                " (SELECT 1 FROM spends s WHERE s.prev_txid = o.txid AND s.prev_n = o.n)"
            )
            if r[3] in wanted
        ]

    def deposits_to(self, addresses: list[str]) -> list[dict]:
        """Live-confirmed payments to addresses, oldest first: txid, time, value, address,
        height."""
        if not addresses:
            return []
        with self._conn() as c:
            if c is None:
                return []
            cur = c.execute(
                f"""
                SELECT t.txid, b.time, o.value, o.address, t.height FROM outputs o
                JOIN txs t ON t.txid = o.txid JOIN blocks b ON b.height = t.height
                WHERE o.address IN ({_marks(addresses)})
                ORDER BY t.height, t.position, o.n
                """,
                addresses,
            )
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur]

    # -- blocks and the mempool ---------------------------------------------------------

    def block(self, column: str, value) -> tuple | None:
        """A live block by "hash" or "height", as LIVE_BLOCK_COLUMNS; None if absent."""
        if column not in ("hash", "height"):
            raise ValueError(f"no block lookup by {column!r}")
        rows = self._rows(f"SELECT {LIVE_BLOCK_COLUMNS} FROM blocks WHERE {column} = ?", (value,))
        return rows[0] if rows else None

    def blocks_between(self, low: int, top: int) -> list[tuple]:
        """Live blocks from top down to low, as LIVE_BLOCK_COLUMNS."""
        return self._rows(
            f"SELECT {LIVE_BLOCK_COLUMNS} FROM blocks WHERE height BETWEEN ? AND ? "
            "ORDER BY height DESC",
            (low, top),
        )

    def block_times(self, low: int, high: int) -> list[int]:
        """The times of the live blocks from low to high."""
        return [
            r[0]
            for r in self._rows("SELECT time FROM blocks WHERE height BETWEEN ? AND ?", (low, high))
        ]

    def block_txids(self, height: int) -> list[str]:
        """Every txid of a live block, in block order."""
        return [
            r[0]
            for r in self._rows(
                "SELECT txid FROM txs WHERE height = ? ORDER BY position", (height,)
            )
        ]

    def block_size(self, height: int) -> tuple[int, int]:
        """(size, weight) of a live block."""
        return self._rows("SELECT size, weight FROM blocks WHERE height = ?", (height,))[0]

    def mempool_txids(self, limit: int | None = None) -> list[str]:
        """Mempool txids, newest first (at most limit)."""
        return [
            r[0]
            for r in self._rows(
                "SELECT txid FROM txs WHERE height IS NULL ORDER BY seq DESC LIMIT ?",
                (-1 if limit is None else limit,),
            )
        ]

    def mempool_entries(self) -> list[tuple[str, int, int, int]]:
        """(txid, fee, vsize, value in) of every mempool transaction, oldest first."""
        return self._rows(
            "SELECT txid, fee, vsize, value_in FROM txs WHERE height IS NULL ORDER BY seq"
        )

    def tx_count(self) -> int:
        """How many transactions chain.db holds, mempool and live blocks."""
        rows = self._rows("SELECT count(*) FROM txs")
        return rows[0][0] if rows else 0


def _marks(values) -> str:
    """Placeholders for an IN (...) list."""
    return ",".join("?" * len(values))


def _block_ids(conn: sqlite3.Connection, heights) -> dict[int, tuple[str, int]]:
    """(hash, time) of live blocks by height."""
    heights = [h for h in heights if h is not None]
    if not heights:
        return {}
    sql = f"SELECT height, hash, time FROM blocks WHERE height IN ({_marks(heights)})"
    return {h: (bh, t) for h, bh, t in conn.execute(sql, heights)}


class LiveChainNotReady(SandboxError):
    """chain.db is not yet this world's: the explorer's own process is starting."""

    def __init__(self, path: Path):
        super().__init__(f"{path}: the explorer is starting; ask again soon")


class LiveChainView:
    """The live chain as the explorer's worker processes see it: the world's tip and the
    chain.db its own process (LiveChain) writes, read only; refresh() before reading."""

    def __init__(self, world_path: str | Path, state_dir: str | Path):
        """Read the world's tip now; chain.db from the first refresh()."""
        self.world_path = Path(world_path).resolve()
        conn = open_world(self.world_path)  # checks the file is a finished world
        meta = world_db.meta(conn)
        self.world_tip_height = int(meta["tip_height"])
        self.world_tip_hash = meta["tip_hash"]
        tip_time = world_db.block_time(conn, self.world_tip_height)
        if tip_time is None:
            raise WorldError(
                f"{self.world_path}: no block at the tip height {self.world_tip_height}"
            )
        self.world_tip_time: int = tip_time
        conn.close()
        self.digest = meta["digest"]
        self.block_interval = int(meta.get("block_interval", 600))
        self.block_seconds = int(meta.get("live_block_seconds", DEFAULT_BLOCK_SECONDS))
        self.world = ConnectionPool(lambda: read_only_world(self.world_path))
        self.path = Path(state_dir) / "chain.db"
        self.reader = ConnectionPool(self._open_reader)
        self.read = LiveChainReader(self.path, self.reader)
        self._ready = False

    def _open_reader(self) -> sqlite3.Connection:
        """A connection that only reads chain.db (and never creates it)."""
        conn = sqlite3.connect(
            f"file:{self.path}?mode=ro", uri=True, check_same_thread=False, timeout=30
        )
        conn.execute("PRAGMA query_only = 1")
        return conn

    def refresh(self) -> None:
        """LiveChainNotReady until the explorer's own process has made chain.db for this
        world (a chain.db left by another world is set aside by it first)."""
        if self._ready:
            return
        conn = read_only_chain(self.path)
        if conn is None:
            raise LiveChainNotReady(self.path)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'world_digest'").fetchone()
        finally:
            conn.close()
        if row is None or row[0] != self.digest:
            raise LiveChainNotReady(self.path)
        self._ready = True

    def close(self) -> None:
        """Close every connection."""
        self.reader.close()
        self.world.close()

    def tip(self, conn: sqlite3.Connection) -> tuple[int, str, int]:
        """(height, hash, time) of the best block, world or live, read through conn."""
        row = conn.execute(
            "SELECT height, hash, time FROM blocks ORDER BY height DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return self.world_tip_height, self.world_tip_hash, self.world_tip_time
        return row[0], row[1], row[2]

    def current_tip(self) -> tuple[int, str, int]:
        """(height, hash, time) of the best block, read without waiting for the writer."""
        with self.reader.borrow() as c:
            return self.tip(c)


class LiveChain(LiveChainView):
    """The mempool and the blocks mined since the sandbox started, stored in chain.db."""

    def __init__(self, world_path: str | Path, state_dir: str | Path):
        """Open (or create) state_dir/chain.db for the world at world_path."""
        super().__init__(world_path, state_dir)
        self.mine_on_broadcast = self.block_seconds == 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._writer = self._open_writer()
        self._ready = True
        pool = self.meta("pool_secret")
        assert pool is not None  # written with chain.db itself
        self.pool_key = Key(bytes.fromhex(pool))
        self.pool_address = p2wpkh_address(self.pool_key.public_key)

    # -- storage --------------------------------------------------------------------

    def _open_writer(self) -> sqlite3.Connection:
        """The one writing connection; set up the schema, set aside another world's chain."""
        conn = self._connect()
        conn.executescript(SCHEMA)
        row = conn.execute("SELECT value FROM meta WHERE key = 'world_digest'").fetchone()
        if row is not None and row[0] != self.digest:
            # The world was rebuilt: this chain continues a tip that no longer exists.
            conn.close()
            aside = self.path.with_name(f"chain-{row[0][:12]}-{int(time.time())}.db")
            for suffix in ("", "-wal", "-shm"):
                src = Path(str(self.path) + suffix)
                if src.exists():
                    os.replace(src, str(aside) + suffix)
            log.warning("chain.db belonged to another world; kept it as %s", aside)
            conn = self._connect()
            conn.executescript(SCHEMA)
        seed = hashlib.sha256(f"sandbox/live-pool/{self.digest}".encode()).digest()
        with conn:
            conn.executemany(
                "INSERT OR IGNORE INTO meta VALUES (?, ?)",
                [("world_digest", self.digest), ("pool_secret", derive_secret(seed, 0).hex())],
            )
        return conn

    def _connect(self) -> sqlite3.Connection:
        """A connection to chain.db in WAL mode, so readers never wait for the writer."""
        return connect_wal(self.path, check_same_thread=False)

    def meta(self, key: str) -> str | None:
        """A value of chain.db's meta table."""
        with self._lock:
            row = self._writer.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        """Close every connection."""
        with self._lock:
            self._writer.close()
        super().close()

    # -- the tip ----------------------------------------------------------------------

    def tip(self, conn: sqlite3.Connection | None = None) -> tuple[int, str, int]:
        """(height, hash, time) of the best block, world or live (conn: the writer's)."""
        if conn is not None:
            return super().tip(conn)
        with self._lock:
            return super().tip(self._writer)

    def spendable(self, outpoints: list[tuple[str, int]]) -> list[bool]:
        """For each (txid, n), world or live: whether the next block could spend it.

        Unspent (the mempool's spends count), and a coinbase only once mature, as
        broadcast() checks inputs.
        """
        next_height = self.tip()[0] + 1
        found = []
        with self.world.borrow() as world, self.reader.borrow() as conn:
            for txid, n in outpoints:
                coin = self._coin(conn, world, txid, n)
                found.append(coin is not None and _mature(coin[0], next_height))
        return found

    def _median_time_past(self, conn: sqlite3.Connection, world: sqlite3.Connection) -> int:
        """Median of the last 11 block times, as BIP113 locktimes compare against."""
        times = [
            r[0] for r in conn.execute("SELECT time FROM blocks ORDER BY height DESC LIMIT 11")
        ]
        if len(times) < 11:
            top = self.world_tip_height
            times += world_db.block_times(world, max(0, top - 10 + len(times)), top)
        times.sort()
        return times[len(times) // 2]

    # -- broadcast --------------------------------------------------------------------

    def broadcast(self, raw_hex: str) -> str:
        """Validate a signed transaction and add it to the mempool; returns its txid."""
        tx = decode(raw_hex)
        txid = sha256d(serialize(tx, witness=False))[::-1].hex()
        with self._lock, self.world.borrow() as world:
            # IMMEDIATE: no other writer (another app on the same state) between check and insert.
            with immediate(self._writer) as conn:
                if not self._accept(conn, world, tx, txid):
                    return txid  # already in the mempool: sendrawtransaction answers its txid
            if self.mine_on_broadcast:
                self.mine_block()
        return txid

    def _accept(self, conn, world, tx: Tx, txid: str) -> bool:
        """Run every check and store tx; False if it was already in the mempool."""
        tip_height = self.tip()[0]
        check_standalone(tx, tip_height + 1, self._median_time_past(conn, world))
        known = conn.execute("SELECT height FROM txs WHERE txid = ?", (txid,)).fetchone()
        if known is not None and known[0] is None:
            return False
        confirmed = known is not None or world_db.tx_id_of(world, txid) is not None
        if confirmed and self._has_unspent_output(conn, world, txid):
            raise BroadcastError(
                "Transaction outputs already in utxo set", RPC_TRANSACTION_ALREADY_IN_CHAIN
            )
        coins = self._coins(conn, world, tx)
        fee = check_inputs(tx, [c for c, _ in coins], tip_height + 1)
        self._store(conn, tx, txid, fee, coins)
        return True

    def _has_unspent_output(self, conn, world, txid: str) -> bool:
        """Whether any output of a confirmed transaction is still unspent."""
        tx_id = world_db.tx_id_of(world, txid)
        if tx_id is not None:
            outs = world_db.unspent_outputs(world, tx_id)
        else:
            outs = [r[0] for r in conn.execute("SELECT n FROM outputs WHERE txid = ?", (txid,))]
        return any(
            conn.execute(
                "SELECT 1 FROM spends WHERE prev_txid = ? AND prev_n = ?", (txid, n)
            ).fetchone()
            is None
            for n in outs
        )

    def _coins(self, conn, world, tx: Tx) -> list[tuple[Coin, str | None]]:
        """The outputs tx spends with their addresses, or Core's error for a missing one."""
        prevs = [(i.prev_txid[::-1].hex(), i.vout) for i in tx.inputs]
        for prev in prevs:
            spender = conn.execute(
                "SELECT t.height FROM spends s JOIN txs t ON t.txid = s.txid "
                "WHERE s.prev_txid = ? AND s.prev_n = ?",
                prev,
            ).fetchone()
            if spender is not None and spender[0] is None:
                raise BroadcastError("txn-mempool-conflict")
        coins = []
        for prev_txid, n in prevs:
            coin = self._coin(conn, world, prev_txid, n)
            if coin is None:
                raise BroadcastError("bad-txns-inputs-missingorspent", RPC_TRANSACTION_ERROR)
            coins.append(coin)
        return coins

    def _coin(self, conn, world, prev_txid: str, n: int) -> tuple[Coin, str | None] | None:
        """One unspent output, world or live, with its address; None if absent or spent."""
        if conn.execute(
            "SELECT 1 FROM spends WHERE prev_txid = ? AND prev_n = ?", (prev_txid, n)
        ).fetchone():
            return None
        found = world_db.world_coin(world, prev_txid, n)
        if found is not None:
            height, position, value, address, spent = found
            if spent:
                return None
            return Coin(value, script_pubkey(address), height, position == 0), address
        row = conn.execute(
            "SELECT o.value, o.script, o.address, t.height, t.position FROM outputs o "
            "JOIN txs t ON t.txid = o.txid WHERE o.txid = ? AND o.n = ?",
            (prev_txid, n),
        ).fetchone()
        if row is None or row[1][:1] == b"\x6a":  # OP_RETURN outputs are never coins
            return None
        value, script, address, height, position = row
        return Coin(value, bytes(script), height, position == 0), address

    def _store(self, conn, tx: Tx, txid: str, fee: int, coins) -> None:
        """Write an accepted transaction into the mempool."""
        full = serialize(tx)
        weight = 3 * len(serialize(tx, witness=False)) + len(full)
        value_in = sum(c.value for c, _ in coins)
        self._insert_tx(conn, tx, txid, full, None, None, fee, (weight + 3) // 4, value_in, coins)

    def _insert_tx(self, conn, tx, txid, full, height, position, fee, vsize, value_in, coins):
        """Insert a transaction's rows (outputs, spends, address index) without committing."""
        seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM txs").fetchone()[0]
        conn.execute(
            "INSERT INTO txs VALUES (?,?,?,?,?,?,?,?)",
            (txid, full, seq, height, position, fee, vsize, value_in),
        )
        addresses = set()
        for n, out in enumerate(tx.outputs):
            address = address_from_script(out.script_pubkey)
            conn.execute(
                "INSERT INTO outputs VALUES (?,?,?,?,?)",
                (txid, n, out.value, out.script_pubkey, address),
            )
            addresses.add(address)
        for vin, (txin, (coin, address)) in enumerate(zip(tx.inputs, coins or (), strict=False)):
            conn.execute(
                "INSERT INTO spends VALUES (?,?,?,?,?,?)",
                (txin.prev_txid[::-1].hex(), txin.vout, txid, vin, coin.value, address),
            )
            addresses.add(address)
        conn.executemany(
            "INSERT OR IGNORE INTO tx_addresses VALUES (?, ?)",
            [(a, txid) for a in addresses if a],
        )

    # -- mining -----------------------------------------------------------------------

    def mine_block(self) -> str:
        """Mine the whole mempool into the next block; returns the block's hash."""
        with self._lock, immediate(self._writer) as conn:
            height, block_hash, count = self._mine(conn)
        log.info("mined live block %d (%s) with %d transactions", height, block_hash, count)
        return block_hash

    def _mine(self, conn: sqlite3.Connection) -> tuple[int, str, int]:
        """Assemble, mine and store the next block; (height, hash, transaction count)."""
        height, prev_hash, _ = self.tip()
        height += 1
        block_time = self.world_tip_time + (height - self.world_tip_height) * self.block_interval
        pending = conn.execute(
            "SELECT txid, raw, fee FROM txs WHERE height IS NULL ORDER BY seq"
        ).fetchall()
        fees = sum(r[2] for r in pending)
        raws = [bytes(r[1]) for r in pending]
        txs = [parse(r) for r in raws]
        cb = self._coinbase(height, fees, txs, raws)
        txs.insert(0, cb)
        raws.insert(0, serialize(cb))
        cb_txid = sha256d(serialize(cb, witness=False))
        txids = [cb_txid] + [bytes.fromhex(r[0])[::-1] for r in pending]
        root = merkle_root(txids)
        nonce, header = mine(
            BLOCK_VERSION, bytes.fromhex(prev_hash)[::-1], root, block_time, REGTEST_BITS
        )
        block_hash = sha256d(header)[::-1].hex()
        count = len(encode_compact_size(len(raws)))
        size = 80 + count + sum(len(r) for r in raws)
        weights = [
            3 * len(serialize(t, witness=False)) + len(r) for t, r in zip(txs, raws, strict=True)
        ]
        weight = 4 * (80 + count) + sum(weights)
        vsize = (weights[0] + 3) // 4
        self._insert_tx(conn, cb, cb_txid[::-1].hex(), raws[0], height, 0, 0, vsize, 0, None)
        conn.executemany(
            "UPDATE txs SET height = ?, position = ? WHERE txid = ?",
            [(height, i + 1, r[0]) for i, r in enumerate(pending)],
        )
        conn.execute(
            "INSERT INTO blocks VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                height,
                block_hash,
                prev_hash,
                root[::-1].hex(),
                block_time,
                BLOCK_VERSION,
                REGTEST_BITS,
                nonce,
                len(raws),
                size,
                weight,
            ),
        )
        return height, block_hash, len(raws)

    def _coinbase(self, height: int, fees: int, txs: list[Tx], raws: list[bytes]) -> Tx:
        """The block's coinbase: reward to the pool, and BIP141's witness commitment if needed."""
        outputs = [(subsidy(height) + fees, script_pubkey(self.pool_address))]
        segwit = any(i.witness for t in txs for i in t.inputs)
        if segwit:
            outputs.append((0, witness_commitment_script([b""] + [sha256d(r) for r in raws])))
        cb = coinbase_tx(height, outputs, extra=b"/sandbox-live/")
        if segwit:
            cb.inputs[0].witness = [WITNESS_RESERVED]
        return cb


def _mature(coin: Coin, next_height: int) -> bool:
    """Whether a coin may be spent in the block at next_height (coinbases wait 100 blocks)."""
    return (
        not coin.coinbase or coin.height is None or next_height - coin.height >= COINBASE_MATURITY
    )


class LiveMiner:
    """Mines a live block every interval_seconds (real time) while the sandbox runs."""

    def __init__(self, chain: LiveChain, interval_seconds: float):
        """Prepare the miner thread; start() starts it."""
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be positive (0 means mine on broadcast)")
        self.chain = chain
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-miner", daemon=True)

    def start(self) -> LiveMiner:
        """Start mining on schedule."""
        self._thread.start()
        return self

    def _run(self) -> None:
        """Mine until stopped; a failed block is logged and retried at the next tick."""
        while not self._stop.wait(self.interval):
            try:
                self.chain.mine_block()
            except Exception:  # a bad tick must not stop the chain for the whole class
                log.exception("live block could not be mined")

    def stop(self) -> None:
        """Stop the thread and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
