"""`investigate sync`: copy the chain from an Esplora explorer into the case, verified.

Raw blocks (`/block/:hash/raw`) are fetched by a few threads, in windows of ten heights
(`/blocks/:height` names ten hashes at once), and parsed in chain order by the toolkit's
own parser: each header must hash to the hash the explorer gave and link to the block
before it, and each block's txids must hash up to its merkle root. The first sync fills
unindexed tables and builds the indexes at the end; later runs start after the last
synced block (rolling back first if the explorer's chain no longer contains it).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from ..case import Case
from ..errors import RemoteError
from ..esplora import Esplora
from .address import script_to_address, script_type
from .parse import ParsedBlock, parse_block
from .store import create_indexes, ensure_schema, has_indexes, local_tip

__all__ = ["SyncReport", "sync"]

WINDOW = 10  # heights per /blocks/:height answer
FLUSH_TXS = 50_000
_ZERO_HASH = "0" * 64


@dataclass
class SyncReport:
    """What a sync did."""

    explorer: str
    start_height: int  # first height fetched (tip + 1 when nothing was new)
    tip_height: int
    tip_hash: str
    blocks: int
    transactions: int
    rolled_back: int  # blocks removed because the explorer's chain changed under them
    seconds: float
    uncommitted_witness_blocks: int  # segwit blocks whose coinbase has no BIP141 commitment
    total_blocks: int
    total_transactions: int

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return dict(self.__dict__)


def sync(
    case: Case,
    explorer: Esplora,
    *,
    workers: int = 4,
    progress: Callable[[int, int], None] | None = None,
    until: int | None = None,
) -> SyncReport:
    """Bring the case's chain index up to the explorer's tip (or height until).

    progress(blocks_done, blocks_total) is called as blocks are stored.
    """
    # One sync at a time across processes (the command line and `investigate ui`).
    with case.sync_lock():
        return _sync(case, explorer, workers, progress, until)


def _sync(
    case: Case,
    explorer: Esplora,
    workers: int,
    progress: Callable[[int, int], None] | None,
    until: int | None,
) -> SyncReport:
    """sync() once the case's sync lock is held."""
    started = time.perf_counter()
    ensure_schema(case)
    conn = case.conn
    remote_tip = explorer.tip_height()
    target = remote_tip if until is None else min(until, remote_tip)
    rolled_back = _reconcile(conn, explorer, remote_tip)
    tip = local_tip(conn)
    start = tip[0] + 1 if tip else 0
    fresh = tip is None
    if not fresh and not has_indexes(conn):
        # Resuming an interrupted first sync: lookups of earlier outputs need the indexes.
        create_indexes(conn)
    writer = _Writer(case, fresh)
    prev_hash = tip[1] if tip else _ZERO_HASH
    total = max(0, target - start + 1)
    done = txs = uncommitted = 0
    if progress:
        progress(0, total)
    for height, block_hash, raw in _fetch(explorer, start, target, workers):
        block = parse_block(raw, block_hash)
        if block.prev_hash != prev_hash:
            raise RemoteError(
                f"block {height} ({block_hash}) does not link to block {height - 1} "
                f"({prev_hash}): the explorer's chain changed during the sync; run it again"
            )
        writer.add(height, block)
        prev_hash = block_hash
        done += 1
        txs += len(block.txs)
        uncommitted += block.witnesses_committed is False
        if progress:
            progress(done, total)
    writer.flush()
    if not has_indexes(conn):
        create_indexes(conn)
        conn.execute("ANALYZE")
    tip = local_tip(conn)
    case.set_meta("chain.explorer", {"url": explorer.url, "proxy": explorer.proxy})
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM chain_blocks), (SELECT coalesce(max(id), 0) FROM chain_txs)"
    ).fetchone()
    return SyncReport(
        explorer=explorer.url,
        start_height=start,
        tip_height=tip[0] if tip else -1,
        tip_hash=tip[1] if tip else "",
        blocks=done,
        transactions=txs,
        rolled_back=rolled_back,
        seconds=round(time.perf_counter() - started, 3),
        uncommitted_witness_blocks=uncommitted,
        total_blocks=counts[0],
        total_transactions=counts[1],
    )


# -- fetching ---------------------------------------------------------------------------------


def _hashes(explorer: Esplora, low: int, high: int) -> list[tuple[int, str]]:
    """(height, hash) for heights low..high, from one /blocks/:high answer where possible."""
    found: dict[int, str] = {}
    try:
        for b in explorer.json(f"blocks/{high}"):
            found[int(b["height"])] = b["id"]
    except (RemoteError, KeyError, TypeError, ValueError):
        found = {}  # not every Esplora server has /blocks/:height; ask height by height
    return [(h, found.get(h) or explorer.block_hash(h)) for h in range(low, high + 1)]


def _window(explorer: Esplora, low: int, high: int) -> list[tuple[int, str, bytes]]:
    """The raw blocks of heights low..high."""
    return [(h, bh, explorer.block_raw(bh)) for h, bh in _hashes(explorer, low, high)]


def _fetch(
    explorer: Esplora, start: int, end: int, workers: int
) -> Iterator[tuple[int, str, bytes]]:
    """Raw blocks start..end in order, fetched by up to `workers` threads ahead of the reader."""
    if start > end:
        return
    lows = iter(range(start, end + 1, WINDOW))
    low: int | None
    pending: collections.deque[Future] = collections.deque()
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="sync") as pool:
        try:
            for low in lows:
                pending.append(pool.submit(_window, explorer, low, min(low + WINDOW - 1, end)))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                blocks = pending.popleft().result()
                low = next(lows, None)
                if low is not None:
                    pending.append(pool.submit(_window, explorer, low, min(low + WINDOW - 1, end)))
                yield from blocks
        finally:
            for future in pending:
                future.cancel()


# -- reorganisations ---------------------------------------------------------------------------


def _reconcile(conn, explorer: Esplora, remote_tip: int) -> int:
    """Drop local blocks the explorer's chain no longer has; how many were dropped."""
    tip = local_tip(conn)
    if tip is None:
        return 0

    def same(height: int) -> bool:
        """Whether the explorer has our block at this height."""
        row = conn.execute("SELECT hash FROM chain_blocks WHERE height = ?", (height,)).fetchone()
        return row is not None and explorer.block_hash(height) == row[0]

    high = min(tip[0], remote_tip)
    if high == tip[0] and same(high):
        return 0
    # Chains share a prefix: binary search for the last common height (-1: none).
    low = -1
    while high - low > 1:
        mid = (low + high) // 2
        if same(mid):
            low = mid
        else:
            high = mid
    if high <= tip[0] and same(high):
        low = high
    return _rollback(conn, low)


def _rollback(conn, keep_height: int) -> int:
    """Delete every block above keep_height and what they added; the number of blocks deleted."""
    row = conn.execute(
        "SELECT min(first_tx_id), count(*) FROM chain_blocks WHERE height > ?", (keep_height,)
    ).fetchone()
    first, count = row
    if not count:
        return 0
    with conn:
        conn.execute("BEGIN")
        for table in ("chain_inputs", "chain_outputs"):
            conn.execute(f"DELETE FROM {table} WHERE tx_id >= ?", (first,))
        conn.execute("DELETE FROM chain_addresses WHERE first_tx_id >= ?", (first,))
        conn.execute("DELETE FROM chain_txs WHERE id >= ?", (first,))
        conn.execute("DELETE FROM chain_blocks WHERE height > ?", (keep_height,))
    return count


# -- storing ---------------------------------------------------------------------------------


class _Writer:
    """Turns parsed blocks into rows and writes them in large transactions."""

    def __init__(self, case: Case, fresh: bool):
        """Continue the ids of the case's index; fresh means the tables are empty."""
        self.case = case
        self.conn = case.conn
        self.fresh = fresh
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA cache_size = -262144")
        self.next_tx = self.conn.execute(
            "SELECT coalesce(max(id), 0) + 1 FROM chain_txs"
        ).fetchone()[0]
        self.next_address = self.conn.execute(
            "SELECT coalesce(max(id), 0) + 1 FROM chain_addresses"
        ).fetchone()[0]
        # Unspent outputs seen in this run: outpoint bytes -> value << 64 | tx_id << 32 | address
        # id (one int, not a tuple: a million entries must fit in memory). Spends pop them.
        self.utxo: dict[bytes, int] = {}
        self.scripts: dict[bytes, int] = {}  # output script -> address id, for this run
        self._reset()

    def _reset(self) -> None:
        """Empty the row buffers."""
        self.blocks: list[tuple] = []
        self.txs: list[tuple] = []
        self.outputs: list[tuple] = []
        self.inputs: list[tuple] = []
        self.addresses: list[tuple] = []

    def add(self, height: int, block: ParsedBlock) -> None:
        """Queue a block's rows; written at the next flush."""
        first_tx = self.next_tx
        utxo, scripts = self.utxo, self.scripts
        outputs_append, inputs_append = self.outputs.append, self.inputs.append
        for position, tx in enumerate(block.txs):
            tx_id = self.next_tx
            self.next_tx += 1
            value_in = 0
            for n, outpoint in enumerate(tx.inputs):
                packed = utxo.pop(outpoint, None)
                if packed is None:
                    packed = self._stored_output(outpoint)
                value = packed >> 64
                value_in += value
                inputs_append(
                    (
                        tx_id,
                        n,
                        (packed >> 32) & 0xFFFFFFFF,
                        int.from_bytes(outpoint[32:], "little"),
                        value,
                        (packed & 0xFFFFFFFF) or None,
                    )
                )
            value_out = 0
            values = []
            for n, (value, script) in enumerate(tx.outputs):
                aid = scripts.get(script)
                if aid is None:
                    aid = self._address(script, tx_id)
                    scripts[script] = aid
                outputs_append((tx_id, n, value, aid or None))
                value_out += value
                values.append(value)
                if aid or (script[:1] != b"\x6a"):
                    utxo[tx.txid + n.to_bytes(4, "little")] = value << 64 | tx_id << 32 | aid
            equal = 1
            if len(values) > 2:
                equal = max(collections.Counter(values).values())
            elif len(values) == 2 and values[0] == values[1]:
                equal = 2
            self.txs.append(
                (
                    tx_id,
                    tx.txid[::-1].hex(),
                    height,
                    position,
                    len(tx.inputs),
                    len(tx.outputs),
                    tx.size,
                    tx.weight,
                    value_in - value_out if tx.inputs else None,
                    equal,
                )
            )
        self.blocks.append(
            (
                height,
                block.hash,
                block.prev_hash,
                block.merkle_root,
                block.time,
                len(block.txs),
                block.size,
                first_tx,
                None if block.witnesses_committed is None else int(block.witnesses_committed),
                time.time(),
                self.case.custody_id,
            )
        )
        if len(self.txs) >= FLUSH_TXS:
            self.flush()

    def _address(self, script: bytes, tx_id: int) -> int:
        """The address id of an output script (0 when it pays no address); new ones queued."""
        address = script_to_address(script)
        if address is None:
            return 0
        if not self.fresh:
            row = self.conn.execute(
                "SELECT id FROM chain_addresses WHERE address = ?", (address,)
            ).fetchone()
            if row is not None:
                return row[0]
        aid = self.next_address
        self.next_address += 1
        self.addresses.append((aid, address, script_type(script), tx_id))
        return aid

    def _stored_output(self, outpoint: bytes) -> int:
        """An output spent now but created in an earlier run, packed like the utxo entries."""
        txid = outpoint[:32][::-1].hex()
        n = int.from_bytes(outpoint[32:], "little")
        row = self.conn.execute(
            "SELECT o.tx_id, o.value, o.address_id FROM chain_txs t "
            "JOIN chain_outputs o ON o.tx_id = t.id AND o.n = ? WHERE t.txid = ?",
            (n, txid),
        ).fetchone()
        if row is None:
            # The rows of this run not flushed yet are in self.utxo, so this is a real gap.
            raise RemoteError(f"an input spends {txid}:{n}, which no earlier block created")
        return row[1] << 64 | row[0] << 32 | (row[2] or 0)

    def flush(self) -> None:
        """Write the queued rows in one transaction."""
        if not self.blocks:
            return
        conn = self.conn
        with conn:
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO chain_addresses VALUES (?,?,?,?)", self.addresses)
            conn.executemany("INSERT INTO chain_txs VALUES (?,?,?,?,?,?,?,?,?,?)", self.txs)
            conn.executemany("INSERT INTO chain_outputs VALUES (?,?,?,?)", self.outputs)
            conn.executemany("INSERT INTO chain_inputs VALUES (?,?,?,?,?,?)", self.inputs)
            conn.executemany("INSERT INTO chain_blocks VALUES (?,?,?,?,?,?,?,?,?,?,?)", self.blocks)
        self._reset()
