"""The live Tron chain: the mempool and the blocks made while the sandbox runs.

world.db is never written. Broadcast transactions and the blocks that take them go to
`<state_dir>/tron.db`; block numbers continue from the world's tip. The world's blocks are
on its simulated clock; a block every 3 seconds of real time follows while the sandbox
runs, so that clients that stamp transactions with the real time (tronpy: expiration = now
+ 60 s, checked against the head block's time as java-tron does) work unchanged. Each start
opens an epoch whose first block is made at once, in the current 3-second slot of the real
clock (or the next one, when the last block is that recent), like a chain whose producers
were down in between. Only blocks with transactions
are stored; an empty block is derived from the one before it.

The account state is the world's end state (tron_state, tron_contracts) with every live
transaction applied again in order; a broadcast is checked and executed at once against
it (as java-tron runs it on its pending state), its receipt kept, and the next block seals
it. One writing connection, behind a lock; readers borrow pooled connections.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ...errors import SandboxError
from ...sqlite_pool import ConnectionPool
from ...wal import connect_wal, immediate
from ...world import tron_store
from ...world.store import open_world
from .. import address as tron_address
from ..block import BLOCK_MS, block_id, header_raw, tx_trie_root, witness_signature
from ..errors import TronRejected
from ..keys import TronKey
from ..resources import slot
from ..state import Account, TronState
from ..transaction import Transaction
from ..usdt import Usdt

__all__ = [
    "LiveBlock",
    "LiveTx",
    "TronLive",
    "TronNotReady",
    "TronProducer",
    "TronReader",
    "TronReplica",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

BLOCK_VERSION = 30  # java-tron 4.7's block header version
SOLID_LAG = 19  # blocks between the head and the solidified block (27 producers: 2/3 + 1)
MAX_EXPIRATION_MS = 86_400_000  # java-tron's MAXIMUM_TIME_UNTIL_EXPIRATION
TAPOS_WINDOW = 65_536  # java-tron's recent-block store keeps this many slots
TRANSFER_TOPIC = "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
WORLD_MMAP_BYTES = 4 << 30

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tron_live_epochs (  -- where the live chain resumed on real time
    first_number INTEGER PRIMARY KEY,
    first_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tron_live_blocks (  -- live blocks with transactions
    number INTEGER PRIMARY KEY,
    block_id TEXT NOT NULL UNIQUE,
    parent_id TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    witness TEXT NOT NULL,
    tx_trie_root TEXT NOT NULL,
    witness_signature TEXT NOT NULL,  -- written, not read: a reader makes it again
    tx_count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tron_live_txs (
    seq INTEGER PRIMARY KEY,       -- arrival order
    txid TEXT NOT NULL UNIQUE,
    block INTEGER,                 -- the block it goes into; NULL while in the mempool
    position INTEGER,
    raw BLOB NOT NULL,             -- raw_data protobuf
    signature BLOB NOT NULL,       -- 65-byte signatures concatenated
    type TEXT NOT NULL,
    owner TEXT NOT NULL,
    to_address TEXT,
    amount INTEGER,
    result TEXT NOT NULL,
    fee INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,    -- the time of the block it was executed for
    receipt TEXT NOT NULL          -- the executor's receipt, gettransactioninfobyid's shape
);
CREATE INDEX IF NOT EXISTS tron_live_txs_block ON tron_live_txs(block, position);
CREATE INDEX IF NOT EXISTS tron_live_txs_owner ON tron_live_txs(owner, seq);
CREATE INDEX IF NOT EXISTS tron_live_txs_to ON tron_live_txs(to_address, seq);
CREATE TABLE IF NOT EXISTS tron_live_logs (
    seq INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    address TEXT NOT NULL,
    topics TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (seq, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tron_live_transfers (
    seq INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    contract TEXT NOT NULL,
    from_address TEXT NOT NULL,
    to_address TEXT NOT NULL,
    value INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (seq, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tron_live_transfers_from ON tron_live_transfers(from_address);
CREATE INDEX IF NOT EXISTS tron_live_transfers_to ON tron_live_transfers(to_address);
"""

LIVE_TX_COLUMNS = (
    "seq, txid, block, position, raw, signature, type, owner, to_address, amount, result, fee, "
    "timestamp, receipt"
)


@dataclass(frozen=True)
class LiveTx:
    """A transaction of the world or of the live chain, as the node shows it."""

    txid: str
    raw: bytes  # raw_data protobuf
    signatures: list[bytes]
    number: int | None  # its block; None while in the mempool
    position: int | None
    timestamp: int  # its block's time
    type: str
    owner: str
    to_address: str | None
    amount: int | None
    result: str
    fee: int
    receipt: dict | None  # live: the executor's receipt; world: None (made from the row)
    world_row: tuple | None = None  # world: the tron_txs row (tron_store.TX_COLUMNS)
    seq: int | None = None  # live: arrival order


@dataclass
class LiveBlock:
    """A block, stored or derived: its header fields and transactions."""

    number: int
    block_id: str
    parent_id: str
    timestamp: int
    witness: str  # T... address of its producer
    tx_trie_root: str
    witness_signature: str
    txs: list[LiveTx] = field(default_factory=list)


def _read_only_world(path: Path) -> sqlite3.Connection:
    """A read-only connection to world.db, movable between threads."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.execute("PRAGMA query_only = 1")
    conn.execute(f"PRAGMA mmap_size = {WORLD_MMAP_BYTES}")
    return conn


def _split_signatures(blob: bytes) -> list[bytes]:
    """The 65-byte signatures concatenated in a signature column."""
    return [blob[i : i + 65] for i in range(0, len(blob), 65)]


class TronReader:
    """The world's Tron chain and what tron.db adds to it, read: blocks, transactions,
    TRC-20 transfers and logs. TronLive writes tron.db; TronReplica follows it from
    another process."""

    def __init__(
        self,
        world_path: str | Path,
        state_dir: str | Path,
        *,
        clock: Callable[[], float] = time.time,
    ):
        """Read the world's Tron chain; tron.db is opened when first read."""
        self.world_path = Path(world_path).resolve()
        self.clock = clock
        conn = open_world(self.world_path)
        try:
            if not tron_store.has_tron(conn):
                raise TronRejected("OTHER_ERROR", f"{self.world_path}: the world has no Tron chain")
            meta = tron_store.tron_meta(conn)
            self._witnesses = [
                (tron_address.to_bytes(a), a) for a, _n, _u, _p in tron_store.witnesses(conn)
            ]
            self._witness_keys = {
                tron_address.to_bytes(a): TronKey(bytes(s))
                for a, s in tron_store.witness_secrets(conn)
            }
        finally:
            conn.close()
        self.digest = str(meta["digest"])
        self.world_tip = int(meta["tip_number"])
        self.world_tip_id = str(meta["tip_id"])
        self.start_ms = int(meta["start_ms"])
        self.block_ms = int(meta["block_ms"]) or BLOCK_MS
        self.world = ConnectionPool(lambda: _read_only_world(self.world_path))
        self.path = Path(state_dir) / "tron.db"
        self._lock = threading.RLock()
        self.reader = ConnectionPool(self._open_reader)
        self._epochs: list[tuple[int, int]] = []
        self._ids: dict[int, str] = {}  # derived block ids (checkpoints and the recent ones)
        self._head = (self.world_tip, self.world_tip_id)
        # Every address on either side of a live TRC-20 transfer (a stored one: a few may
        # have left the mempool since), so that the world's addresses, nearly all of those
        # asked for, need no query of the live chain's transfers.
        self._transfer_parties: set[str] = set()

    # -- storage ------------------------------------------------------------------------

    def _open_reader(self) -> sqlite3.Connection:
        """A connection that only reads tron.db."""
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA query_only = 1")
        return conn

    def close(self) -> None:
        """Close every connection."""
        self.reader.close()
        self.world.close()

    # -- time and numbers ---------------------------------------------------------------

    def _time_of(self, number: int) -> int:
        """The timestamp of block number (world: simulated time; live: its epoch's slots)."""
        for first, first_ms in reversed(self._epochs):
            if number >= first:
                return first_ms + (number - first) * self.block_ms
        return self.start_ms + number * self.block_ms

    def time_of(self, number: int) -> int:
        """The timestamp (ms) of block number."""
        with self._lock:
            return self._time_of(number)

    def head(self) -> tuple[int, str, int]:
        """(number, id, timestamp) of the latest block made."""
        with self._lock:
            number, bid = self._head
            return number, bid, self._time_of(number)

    def solid_number(self) -> int:
        """The latest solidified block (java-tron's solidityBlock): SOLID_LAG behind the head."""
        return max(0, self.head()[0] - SOLID_LAG)

    def next_slot_ms(self) -> int:
        """When the next block is due (real time, ms)."""
        return self.time_of(self.head()[0] + 1)

    def head_slot(self) -> int:
        """The head block's 3-second slot since the genesis block (java-tron's headSlot)."""
        return slot(self.head()[2], self.start_ms)

    # -- blocks -------------------------------------------------------------------------

    def _witness_of(self, number: int) -> tuple[bytes, str]:
        """(21 bytes, T...) of the producer of block number."""
        return self._witnesses[number % len(self._witnesses)]

    def _stored_block(self, number: int) -> tuple | None:
        """The stored block of that number, world or live, as tron_store.BLOCK_COLUMNS."""
        if number <= self.world_tip:
            with self.world.borrow() as w:
                return tron_store.block_by_number(w, number)
        with self.reader.borrow() as c:
            return c.execute(
                "SELECT number, block_id, parent_id, timestamp, witness, tx_trie_root, "
                "tx_count FROM tron_live_blocks WHERE number = ?",
                (number,),
            ).fetchone()

    def _stored_at_or_below(self, number: int) -> tuple:
        """The highest stored block at or below number (the genesis block is always stored)."""
        if number > self.world_tip:
            with self.reader.borrow() as c:
                row = c.execute(
                    "SELECT number, block_id FROM tron_live_blocks WHERE number <= ? "
                    "ORDER BY number DESC LIMIT 1",
                    (number,),
                ).fetchone()
            if row is not None:
                return row
            number = self.world_tip
        with self.world.borrow() as w:
            row = tron_store.block_at_or_below(w, number)
        if row is None:
            raise LookupError("the world has no genesis Tron block")
        return row[0], row[1]

    def block_id_of(self, number: int) -> str:
        """The id of block number (stored, or derived through the empty blocks before it)."""
        with self._lock:
            if number in self._ids:
                return self._ids[number]
            if number == self.world_tip:
                return self.world_tip_id
        base, bid = self._stored_at_or_below(number)
        for cached in range(number, base, -1):  # a derived id nearer than the stored block
            known = self._ids.get(cached)
            if known is not None:
                base, bid = cached, known
                break
        while base < number:
            base += 1
            bid = self._empty_id(base, bid)
            if base % 256 == 0 or base == number:
                with self._lock:
                    self._ids[base] = bid
        return bid

    def _empty_id(self, number: int, parent_id: str) -> str:
        """The id of the empty block number whose parent is parent_id."""
        raw = header_raw(
            number,
            self._time_of(number),
            bytes.fromhex(parent_id),
            bytes(32),
            self._witness_of(number)[0],
            BLOCK_VERSION,
        )
        return block_id(number, raw)

    def block(self, number: int, *, with_txs: bool = True) -> LiveBlock | None:
        """Block number, stored or derived; None above the head or below 0."""
        if number < 0 or number > self.head()[0]:
            return None
        witness_raw, witness = self._witness_of(number)
        row = self._stored_block(number)
        if row is not None:
            _, bid, parent, timestamp, witness, root, tx_count = row
        else:
            bid, parent = self.block_id_of(number), self.block_id_of(number - 1)
            timestamp, root, tx_count = self._time_of(number), "00" * 32, 0
        # No block's signature is kept: its producer's, made again on demand (RFC 6979).
        key = self._witness_keys[witness_raw]
        signature = witness_signature(key, number, timestamp, parent, root)
        block = LiveBlock(number, bid, parent, timestamp, witness, root, signature)
        if with_txs and tx_count:
            block.txs = self.block_txs(number)
        return block

    def block_by_id(self, bid: str) -> LiveBlock | None:
        """The block with that 64-digit id, or None."""
        try:
            number = int(bid[:16], 16)
        except ValueError:
            return None
        if len(bid) != 64 or number > self.head()[0]:
            return None
        block = self.block(number)
        return block if block is not None and block.block_id == bid.lower() else None

    def block_txs(self, number: int) -> list[LiveTx]:
        """The transactions of block number, in order."""
        if number <= self.world_tip:
            with self.world.borrow() as w:
                return [_world_tx(r) for r in tron_store.block_txs(w, number)]
        with self.reader.borrow() as c:
            rows = c.execute(
                f"SELECT {LIVE_TX_COLUMNS} FROM tron_live_txs WHERE block = ? ORDER BY position",
                (number,),
            ).fetchall()
        return [_live_tx(r) for r in rows]

    # -- transactions -------------------------------------------------------------------

    def tx(self, txid: str) -> LiveTx | None:
        """A transaction of the world or the live chain (mempool included), or None."""
        txid = txid.lower()
        # The world first: nearly every txid asked for is there, and broadcast refuses one
        # that is (a txid is in one of the two, never both).
        with self.world.borrow() as w:
            found = tron_store.tx_by_txid(w, txid)
        if found is not None:
            return _world_tx(found)
        with self.reader.borrow() as c:
            row = c.execute(
                f"SELECT {LIVE_TX_COLUMNS} FROM tron_live_txs WHERE txid = ?", (txid,)
            ).fetchone()
        return _live_tx(row) if row is not None else None

    def world_logs(self, tx_id: int) -> list[tuple]:
        """(idx, address, topics JSON, data) of a world transaction's logs."""
        with self.world.borrow() as w:
            return tron_store.tx_logs(w, tx_id)

    def live_logs(self, seq: int) -> list[tuple]:
        """(idx, address, topics JSON, data) of a live transaction's logs."""
        with self.reader.borrow() as c:
            return c.execute(
                "SELECT idx, address, topics, data FROM tron_live_logs WHERE seq = ? ORDER BY idx",
                (seq,),
            ).fetchall()

    def live_txs_of(
        self,
        address: str,
        *,
        sent: bool = True,
        received: bool = True,
        min_ms: int = 0,
        max_ms: int = 1 << 62,
        confirmed: bool | None = None,
        cursor: int | None = None,
        newest_first: bool = True,
        limit: int = 20,
    ) -> list[LiveTx]:
        """Live transactions the address sent and/or received, paged by seq (cursor: the
        last seq already seen); confirmed True/False keeps only those in a block / not."""
        order, compare = ("DESC", "<") if newest_first else ("ASC", ">")
        parts, params = [], []
        for wanted, column in ((sent, "owner"), (received, "to_address")):
            if not wanted:
                continue
            where = f"{column} = ? AND timestamp BETWEEN ? AND ?"
            params += [address, min_ms, max_ms]
            if cursor is not None:
                where += f" AND seq {compare} ?"
                params.append(cursor)
            if confirmed is not None:
                where += " AND block IS NOT NULL" if confirmed else " AND block IS NULL"
            parts.append(
                f"SELECT * FROM (SELECT {LIVE_TX_COLUMNS} FROM tron_live_txs WHERE {where} "
                f"ORDER BY seq {order} LIMIT ?)"
            )
            params.append(limit)
        if not parts:
            return []
        sql = " UNION ".join(parts) + f" ORDER BY seq {order} LIMIT ?"
        with self.reader.borrow() as c:
            rows = c.execute(sql, [*params, limit]).fetchall()
        return [_live_tx(r) for r in rows]

    def live_trc20_of(
        self,
        address: str,
        *,
        sent: bool = True,
        received: bool = True,
        contract: str | None = None,
        min_ms: int = 0,
        max_ms: int = 1 << 62,
        confirmed: bool | None = None,
        cursor: tuple[int, int] | None = None,
        newest_first: bool = True,
        limit: int = 20,
    ) -> list[tuple]:
        """Live TRC-20 transfers of the address: (seq, idx, contract, from, to, value,
        timestamp, txid, block), paged by (seq, idx)."""
        if address not in self._transfer_parties:
            return []
        legs: list[tuple[str | None, str | None]] = [(address, None)] if sent else []
        legs += [(None, address)] if received else []
        return self._live_legs(
            legs, contract, min_ms, max_ms, confirmed, cursor, newest_first, limit
        )

    def live_contract_logs(
        self,
        contract: str,
        *,
        min_ms: int = 0,
        max_ms: int = 1 << 62,
        cursor: tuple[int, int] | None = None,
        newest_first: bool = True,
        limit: int = 20,
    ) -> list[tuple]:
        """A contract's live logs in blocks: (seq, idx, topics, data, txid, block, timestamp)."""
        order, compare = ("DESC", "<") if newest_first else ("ASC", ">")
        where = "l.address = ? AND t.block IS NOT NULL AND t.timestamp BETWEEN ? AND ?"
        params: list = [contract, min_ms, max_ms]
        if cursor is not None:
            where += f" AND (l.seq, l.idx) {compare} (?, ?)"
            params += list(cursor)
        with self.reader.borrow() as c:
            return c.execute(
                "SELECT l.seq, l.idx, l.topics, l.data, t.txid, t.block, t.timestamp "
                f"FROM tron_live_logs l JOIN tron_live_txs t ON t.seq = l.seq WHERE {where} "
                f"ORDER BY l.seq {order}, l.idx {order} LIMIT ?",
                [*params, limit],
            ).fetchall()

    def world_read(self, read: Callable[[sqlite3.Connection], object]):
        """Run one of tron_store's reads on a pooled world connection."""
        with self.world.borrow() as w:
            return read(w)

    def live_transfers(
        self,
        legs: list[tuple[str | None, str | None]],
        *,
        contract: str | None = None,
        min_ms: int = 0,
        max_ms: int = 1 << 62,
    ) -> list[tuple]:
        """Every live TRC-20 transfer matching any (from, to) leg (None: either side),
        newest first: (seq, idx, contract, from, to, value, timestamp, txid, block)."""
        return self._live_legs(legs, contract, min_ms, max_ms, None, None, True, None)

    def _live_legs(
        self,
        legs: list[tuple[str | None, str | None]],
        contract: str | None,
        min_ms: int,
        max_ms: int,
        confirmed: bool | None,
        cursor: tuple[int, int] | None,
        newest_first: bool,
        limit: int | None,
    ) -> list[tuple]:
        """Live TRC-20 transfers matching any (from, to) leg, ordered by (seq, idx), after
        cursor and at most limit of them when given; confirmed True/False: only those in a
        block / not yet."""
        order, compare = ("DESC", "<") if newest_first else ("ASC", ">")
        parts: list[str] = []
        params: list = []
        for frm, to in legs:
            where = "f.timestamp BETWEEN ? AND ?"
            params += [min_ms, max_ms]
            for column, value in (("from_address", frm), ("to_address", to)):
                if value is not None:
                    where += f" AND f.{column} = ?"
                    params.append(value)
            if contract is not None:
                where += " AND f.contract = ?"
                params.append(contract)
            if cursor is not None:
                where += f" AND (f.seq, f.idx) {compare} (?, ?)"
                params += list(cursor)
            if confirmed is not None:
                where += " AND t.block IS NOT NULL" if confirmed else " AND t.block IS NULL"
            tail = ""
            if limit is not None:
                tail = " LIMIT ?"
                params.append(limit)
            parts.append(
                "SELECT * FROM (SELECT f.seq, f.idx, f.contract, f.from_address, f.to_address, "
                "f.value, f.timestamp, t.txid, t.block FROM tron_live_transfers f JOIN "
                f"tron_live_txs t ON t.seq = f.seq WHERE {where} "
                f"ORDER BY f.seq {order}, f.idx {order}{tail})"
            )
        if not parts:
            return []
        sql = " UNION ".join(parts) + f" ORDER BY seq {order}, idx {order}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self.reader.borrow() as c:
            return c.execute(sql, params).fetchall()


class TronLive(TronReader):
    """The world's Tron chain continued in `<state_dir>/tron.db`."""

    def __init__(
        self,
        world_path: str | Path,
        state_dir: str | Path,
        *,
        clock: Callable[[], float] = time.time,
    ):
        """Open (or create) tron.db for the world and rebuild the account state."""
        super().__init__(world_path, state_dir, clock=clock)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = self._open_writer()
        self._transfer_parties.update(
            a
            for row in self._writer.execute(
                "SELECT from_address, to_address FROM tron_live_transfers"
            )
            for a in row
        )
        self.state = self._restore_state()
        self._resume()

    # -- storage ------------------------------------------------------------------------

    def _open_writer(self) -> sqlite3.Connection:
        """The one writing connection; a tron.db of another world is set aside."""
        conn = connect_wal(self.path, check_same_thread=False)
        conn.executescript(SCHEMA)
        row = conn.execute("SELECT value FROM meta WHERE key = 'world_digest'").fetchone()
        if row is not None and row[0] != self.digest:
            conn.close()
            aside = self.path.with_name(f"tron-{row[0][:12]}-{int(time.time())}.db")
            for suffix in ("", "-wal", "-shm"):
                src = Path(str(self.path) + suffix)
                if src.exists():
                    os.replace(src, str(aside) + suffix)
            log.warning("tron.db belonged to another world; kept it as %s", aside)
            conn = connect_wal(self.path, check_same_thread=False)
            conn.executescript(SCHEMA)
        with immediate(conn):
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('world_digest', ?)", (self.digest,))
        return conn

    def close(self) -> None:
        """Close every connection."""
        with self._lock:
            self._writer.close()
        super().close()

    # -- start --------------------------------------------------------------------------

    def _restore_state(self) -> TronState:
        """The world's end state with the live chain's transactions applied again."""
        with self.world.borrow() as w:
            state = TronState.restore(
                tron_store.state_rows(w), tron_store.contract_state(w), genesis_ms=self.start_ms
            )
        rows = self._writer.execute(
            "SELECT raw, signature, block, timestamp FROM tron_live_txs "
            "WHERE block IS NOT NULL ORDER BY seq"
        ).fetchall()
        for raw, sig, number, timestamp in rows:
            tx = Transaction.from_raw(bytes(raw), _split_signatures(bytes(sig)))
            state.apply_transaction(tx, number, timestamp)
        return state

    def _resume(self) -> None:
        """Open a new epoch after the last block made, and re-admit the old mempool."""
        with self._lock, immediate(self._writer) as c:
            self._epochs = [tuple(r) for r in c.execute("SELECT * FROM tron_live_epochs")]
            head = c.execute("SELECT value FROM meta WHERE key = 'head'").fetchone()
            if head is None:
                number, bid = self.world_tip, self.world_tip_id
            else:
                number, bid = json.loads(head[0])
            last_ms = self._time_of(number)
            now = int(self.clock() * 1000)
            first_ms = max(last_ms + self.block_ms, now // self.block_ms * self.block_ms)
            c.execute(
                "INSERT OR REPLACE INTO tron_live_epochs VALUES (?, ?)", (number + 1, first_ms)
            )
            self._epochs.append((number + 1, first_ms))
            self._epochs.sort()
            self._head = (number, bid)
            self._ids[number] = bid
            pending = c.execute(
                "SELECT raw, signature FROM tron_live_txs WHERE block IS NULL ORDER BY seq"
            ).fetchall()
            # Their logs and transfers too: re-admitted below, they are stored again under
            # new sequence numbers (left behind, the old ones would collide with those).
            for table in ("tron_live_logs", "tron_live_transfers"):
                c.execute(
                    f"DELETE FROM {table} WHERE seq IN"
                    " (SELECT seq FROM tron_live_txs WHERE block IS NULL)"
                )
            c.execute("DELETE FROM tron_live_txs WHERE block IS NULL")
        # The producers make the epoch's first block at once when its slot has come, so the
        # head runs on the real clock from the start: java-tron checks a transaction's
        # expiration against the head block's time, and clients stamp it with the real time.
        if first_ms <= now:
            self.produce()
        for raw, sig in pending:
            try:
                self.broadcast(Transaction.from_raw(bytes(raw), _split_signatures(bytes(sig))))
            except TronRejected as e:
                log.info("a mempool transaction of the last run was dropped: %s", e)

    # -- broadcast ----------------------------------------------------------------------

    def broadcast(self, tx: Transaction) -> str:
        """Check and execute a signed transaction for the next block; its txid.

        TronRejected with java-tron's code and message when it is refused.
        """
        txid = tx.txid
        with self._lock:
            if self.tx(txid) is not None:
                raise TronRejected("DUP_TRANSACTION_ERROR", "Dup transaction.")
            tx.verify()
            head_number, _, head_ms = self.head()
            self._check_tapos(tx)
            expiration = int(tx.raw.get("expiration", 0))
            if expiration <= head_ms or expiration > head_ms + MAX_EXPIRATION_MS:
                raise TronRejected("TRANSACTION_EXPIRATION_ERROR", "Transaction expired")
            self.state.check_transaction(tx, head_ms)
            self._dry_run(tx)
            number = head_number + 1
            timestamp = self._time_of(number)
            receipt = self.state.apply_transaction(tx, number, timestamp).to_json()
            with immediate(self._writer) as c:
                self._store_tx(c, tx, receipt, timestamp)
        return txid

    def _dry_run(self, tx: Transaction) -> None:
        """Refuse a contract call that would fail (a blacklisted sender's transfer, a
        transfer of more than the balance).

        java-tron runs a trigger on its pending state at broadcast and answers a failure
        there (a ContractExeException) with CONTRACT_EXE_ERROR; a REVERT it lets through to
        the block. The issue asks broadcast to check the blacklist, so here the call is run
        first as triggerconstantcontract runs it, and a failing one is refused with that
        code and the VM's message, costing the sender nothing. The world's own failed calls
        (REVERT in their receipts) are made by the simulation, not through broadcast.
        """
        if tx.contract_type != "TriggerSmartContract":
            return
        value = tx.value
        data = bytes.fromhex(str(value.get("data", "")))
        result = self.state.constant_call(tx.owner, value["contract_address"], data)
        if not result.ok:
            message = result.message or (
                "REVERT opcode executed" if result.result == "REVERT" else result.result
            )
            raise TronRejected("CONTRACT_EXE_ERROR", f"Contract execute error : {message}")

    def _check_tapos(self, tx: Transaction) -> None:
        """The reference block must be one of the last 65,536 and its id must match."""
        try:
            ref_bytes = bytes.fromhex(tx.raw.get("ref_block_bytes", ""))
            ref_hash = bytes.fromhex(tx.raw.get("ref_block_hash", ""))
        except ValueError:
            raise TronRejected("TAPOS_ERROR", "Tapos check error.") from None
        if len(ref_bytes) != 2 or len(ref_hash) != 8:
            raise TronRejected("TAPOS_ERROR", "Tapos check error.")
        head = self._head[0]
        low = int.from_bytes(ref_bytes, "big")
        number = head - ((head - low) % TAPOS_WINDOW)
        if number < 0 or bytes.fromhex(self.block_id_of(number))[8:16] != ref_hash:
            raise TronRejected("TAPOS_ERROR", "Tapos check error.")

    def _store_tx(self, c: sqlite3.Connection, tx: Transaction, receipt: dict, ms: int) -> None:
        """Insert an executed transaction into the mempool, with its logs and transfers."""
        contract = tx.raw["contract"][0]
        kind = contract["type"]
        value = contract["parameter"]["value"]
        to = value.get("to_address") or value.get("contract_address")
        to = value.get("receiver_address", to)
        amount = value.get("amount", value.get("frozen_balance", value.get("balance")))
        result = receipt.get("receipt", {}).get("result", "SUCCESS")
        seq = c.execute("SELECT coalesce(max(seq), 0) + 1 FROM tron_live_txs").fetchone()[0]
        c.execute(
            "INSERT INTO tron_live_txs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                seq,
                tx.txid,
                None,
                None,
                tx.raw_bytes,
                b"".join(tx.signatures),
                kind,
                tron_address.to_base58(tx.owner),
                tron_address.to_base58(to) if to else None,
                amount,
                result,
                receipt.get("fee", 0),
                ms,
                json.dumps(receipt),
            ),
        )
        for idx, entry in enumerate(receipt.get("log", [])):
            where = tron_address.to_base58("41" + entry["address"][-40:])
            topics = entry.get("topics", [])
            data = bytes.fromhex(entry.get("data", ""))
            c.execute(
                "INSERT INTO tron_live_logs VALUES (?,?,?,?,?)",
                (seq, idx, where, json.dumps(topics), data),
            )
            if topics and topics[0] == TRANSFER_TOPIC and len(topics) == 3:
                parties = [tron_address.to_base58("41" + t[-40:]) for t in topics[1:]]
                # before the row: a reader that sees the row finds its parties here
                self._transfer_parties.update(parties)
                c.execute(
                    "INSERT INTO tron_live_transfers VALUES (?,?,?,?,?,?,?)",
                    (seq, idx, where, *parties, int.from_bytes(data[:32], "big"), ms),
                )

    # -- producing ----------------------------------------------------------------------

    def produce(self) -> int:
        """Make the next block: the whole mempool (stored), or an empty one; its number."""
        with self._lock, immediate(self._writer) as c:
            number = self._head[0] + 1
            parent = self._head[1]
            timestamp = self._time_of(number)
            witness_raw, witness = self._witness_of(number)
            pending = c.execute(
                "SELECT seq, raw, signature FROM tron_live_txs WHERE block IS NULL ORDER BY seq"
            ).fetchall()
            if pending:
                full = [
                    Transaction.from_raw(bytes(r[1]), _split_signatures(bytes(r[2]))).to_protobuf()
                    for r in pending
                ]
                root = tx_trie_root(full)
            else:
                root = bytes(32)
            raw = header_raw(
                number, timestamp, bytes.fromhex(parent), root, witness_raw, BLOCK_VERSION
            )
            bid = block_id(number, raw)
            if pending:
                key = self._witness_keys[witness_raw]
                signature = witness_signature(key, number, timestamp, parent, root)
                c.execute(
                    "INSERT INTO tron_live_blocks VALUES (?,?,?,?,?,?,?,?)",
                    (number, bid, parent, timestamp, witness, root.hex(), signature, len(pending)),
                )
                c.executemany(
                    "UPDATE tron_live_txs SET block = ?, position = ? WHERE seq = ?",
                    [(number, i, r[0]) for i, r in enumerate(pending)],
                )
            c.execute(
                "INSERT OR REPLACE INTO meta VALUES ('head', ?)", (json.dumps([number, bid]),)
            )
            self._head = (number, bid)
            self._ids[number] = bid
        if pending:
            log.info("tron block %d (%s) with %d transactions", number, bid, len(pending))
        return number

    def catch_up(self) -> int:
        """Make every block whose slot has come (real time); how many were made."""
        made = 0
        now = int(self.clock() * 1000)
        while self.next_slot_ms() <= now:
            self.produce()
            made += 1
        return made

    # -- state reads --------------------------------------------------------------------

    def account(self, address: bytes) -> Account | None:
        """A copy of the account at the head (with the mempool's effects), or None if it has
        not been activated."""
        with self._lock:
            found = self.state.accounts.get(address)
            return copy.deepcopy(found) if found is not None else None

    def account_resource(self, address: bytes) -> tuple[Account | None, dict[str, Any]]:
        """(a copy of the account or None, TronState.account_resource at the head's time)."""
        with self._lock:
            return self.account(address), self.state.account_resource(address, self.head()[2])

    def total_power_weight(self) -> int:
        """TotalTronPowerWeight: the TRX staked for either resource, network and world."""
        with self._lock:
            return sum(self.state.total_weight(r) for r in ("BANDWIDTH", "ENERGY"))

    def constant_call(self, owner: bytes, contract: bytes, data: bytes):
        """Run a read-only contract call against the current state."""
        with self._lock:
            return self.state.constant_call(owner, contract, data)

    def check_only(self, tx: Transaction) -> None:
        """What broadcast would refuse for the state (no signature, no TAPOS)."""
        with self._lock:
            self.state.check_transaction(tx, self.head()[2])

    def usdt_read(self, read: Callable[[Usdt], T]) -> T:
        """Run a read on the USDT contract's current state (balances, blacklist)."""
        with self._lock:
            return read(self.state.usdt)


class TronNotReady(SandboxError):
    """tron.db is not yet this world's: the node's own process is still starting."""

    def __init__(self, path: Path):
        """path: the tron.db waited for."""
        super().__init__(f"{path}: the node is starting; ask again in a moment")


class TronReplica(TronReader):
    """The chain as the node's own process (TronLive) has written it to tron.db, for the
    worker processes that serve the node's reads: refresh() before each request catches
    up with the blocks, mempool and restarts committed since."""

    def __init__(self, world_path: str | Path, state_dir: str | Path):
        """Read the world now; tron.db at the first refresh()."""
        super().__init__(world_path, state_dir)
        self._watch: sqlite3.Connection | None = None
        self._version: int | None = None
        self._parties_seq = 0  # the last tron_live_transfers row read into _transfer_parties

    def refresh(self) -> None:
        """Take up what TronLive committed since the last call (a no-op when nothing was):
        the head, the epochs, the parties of new TRC-20 transfers. TronNotReady until
        TronLive has opened tron.db for this world."""
        with self._lock:
            if self._watch is None:
                if not self.path.exists():
                    raise TronNotReady(self.path)
                self._watch = self._open_reader()
            c = self._watch
            # Read before the rows: a commit after this shows as a new version next time.
            (version,) = c.execute("PRAGMA data_version").fetchone()
            if version == self._version:
                return
            with contextlib.closing(c.cursor()) as cur:
                cur.execute("BEGIN")  # the rows below from one snapshot
                try:
                    meta = dict(cur.execute("SELECT key, value FROM meta").fetchall())
                    if meta.get("world_digest") != self.digest:
                        raise TronNotReady(self.path)
                    epochs = [tuple(r) for r in cur.execute("SELECT * FROM tron_live_epochs")]
                    parties = cur.execute(
                        "SELECT seq, from_address, to_address FROM tron_live_transfers"
                        " WHERE seq > ?",
                        # A restart renumbers the old mempool's rows: all of them again then.
                        (self._parties_seq if len(epochs) == len(self._epochs) else 0,),
                    ).fetchall()
                finally:
                    cur.execute("COMMIT")
            if not epochs:  # the node's process has not opened its first epoch yet
                raise TronNotReady(self.path)
            number, bid = json.loads(meta["head"]) if "head" in meta else self._head
            self._epochs, self._head = epochs, (number, bid)
            self._ids[number] = bid
            for seq, frm, to in parties:
                self._transfer_parties.update((frm, to))
                self._parties_seq = max(self._parties_seq, seq)
            self._version = version

    def close(self) -> None:
        """Close every connection."""
        with self._lock:
            if self._watch is not None:
                self._watch.close()
        super().close()


def _world_tx(row: tuple) -> LiveTx:
    """A world transaction from its tron_txs row (tron_store.TX_COLUMNS)."""
    return LiveTx(
        txid=row[1],
        raw=bytes(row[4]),
        signatures=_split_signatures(bytes(row[5])),
        number=row[2],
        position=row[3],
        timestamp=row[19],
        type=row[6],
        owner=row[7],
        to_address=row[8],
        amount=row[9],
        result=row[10],
        fee=row[11],
        receipt=None,
        world_row=tuple(row),
    )


def _live_tx(row: tuple) -> LiveTx:
    """A live transaction from its tron_live_txs row (LIVE_TX_COLUMNS)."""
    return LiveTx(
        txid=row[1],
        raw=bytes(row[4]),
        signatures=_split_signatures(bytes(row[5])),
        number=row[2],
        position=row[3],
        timestamp=row[12],
        type=row[6],
        owner=row[7],
        to_address=row[8],
        amount=row[9],
        result=row[10],
        fee=row[11],
        receipt=json.loads(row[13]),
        seq=row[0],
    )


class TronProducer:
    """Makes a block at every 3-second slot of real time while the sandbox runs."""

    def __init__(self, chain: TronLive):
        """Prepare the thread; start() starts it."""
        self.chain = chain
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tron-producer", daemon=True)

    def start(self) -> TronProducer:
        """Start producing."""
        self._thread.start()
        return self

    def _run(self) -> None:
        """Produce until stopped; a failed block is logged and tried again at the next slot."""
        while True:
            wait = self.chain.next_slot_ms() / 1000 - self.chain.clock()
            if self._stop.wait(max(0.0, wait)):
                return
            try:
                self.chain.catch_up()
            except Exception:  # one bad slot must not stop the chain for the whole class
                log.exception("tron block could not be made")
                self._stop.wait(1.0)

    def stop(self) -> None:
        """Stop the thread and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
