"""`investigate sync --tron URL`: copy a Tron node's blocks and USDT events into the case.

Blocks come 100 at a time from getblockbylimitnext, fetched by a few threads ahead of the
writer, with the USDT contract's events of the same time window from TronGrid's
/v1/contracts/:c/events (java-tron's blocks carry no logs). Each block must link to the one
before it and each txID must be the SHA-256 of its raw_data_hex. A later run starts after
the last synced block, rolling back first if the node's chain no longer has it.
"""

from __future__ import annotations

import collections
import hashlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from ..case import Case
from ..chain.codec.tron import PREFIX, tron_address
from ..chain.store import ensure_tron_schema, tron_tip
from ..errors import RemoteError
from .node import USDT_CONTRACT, TronNode

__all__ = ["TronSyncReport", "sync_tron"]

WINDOW = 100  # blocks per getblockbylimitnext
TRC20_TRANSFER = "a9059cbb"  # transfer(address,uint256): read from a reverted call's data


@dataclass
class TronSyncReport:
    """What a Tron sync did."""

    node: str
    start_block: int
    tip_block: int
    tip_id: str
    blocks: int
    transactions: int
    usdt_transfers: int
    rolled_back: int
    seconds: float
    total_blocks: int
    total_transactions: int

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return dict(self.__dict__)


def sync_tron(
    case: Case,
    node: TronNode,
    *,
    workers: int = 4,
    progress: Callable[[int, int], None] | None = None,
    until: int | None = None,
    contract: str = USDT_CONTRACT,
) -> TronSyncReport:
    """Bring the case's Tron index up to the node's head (or block until)."""
    # One sync at a time across processes (the command line and `investigate ui`).
    with case.sync_lock():
        return _sync_tron(case, node, workers, progress, until, contract)


def _sync_tron(
    case: Case,
    node: TronNode,
    workers: int,
    progress: Callable[[int, int], None] | None,
    until: int | None,
    contract: str,
) -> TronSyncReport:
    """sync_tron() once the case's sync lock is held."""
    started = time.perf_counter()
    ensure_tron_schema(case)
    conn = case.conn
    head, _ = node.head()
    target = head if until is None else min(until, head)
    rolled_back = _reconcile(conn, node)
    tip = tron_tip(conn)
    start = tip[0] + 1 if tip else 0
    parent = tip[1] if tip else None
    total = max(0, target - start + 1)
    writer = _Writer(case, contract)
    done = 0
    if progress:
        progress(0, total)
    for blocks, events in _fetch(node, contract, start, target, workers):
        for block in blocks:
            raw = block["block_header"]["raw_data"]
            number = int(raw.get("number", 0))
            if parent is not None and raw.get("parentHash") != parent:
                raise RemoteError(
                    f"block {number} ({block['blockID']}) does not link to block {number - 1} "
                    f"({parent}): the node's chain changed during the sync; run it again"
                )
            writer.add(block, events.get(number, []))
            parent = block["blockID"]
            done += 1
            if progress:
                progress(done, total)
        writer.flush()
    tip = tron_tip(conn)
    case.set_meta("tron.node", {"url": node.url, "proxy": node.proxy, "contract": contract})
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM tron_blocks), (SELECT count(*) FROM tron_txs)"
    ).fetchone()
    return TronSyncReport(
        node=node.url,
        start_block=start,
        tip_block=tip[0] if tip else -1,
        tip_id=tip[1] if tip else "",
        blocks=done,
        transactions=writer.txs,
        usdt_transfers=writer.usdt,
        rolled_back=rolled_back,
        seconds=round(time.perf_counter() - started, 3),
        total_blocks=counts[0],
        total_transactions=counts[1],
    )


# -- fetching ---------------------------------------------------------------------------------


def _window(
    node: TronNode, contract: str, low: int, high: int
) -> tuple[list[dict], dict[int, list[dict]]]:
    """Blocks low..high and the contract's events in them, by block number."""
    blocks = node.blocks(low, high + 1)
    numbers = [int(b["block_header"]["raw_data"].get("number", 0)) for b in blocks]
    if numbers != list(range(low, high + 1)):
        raise RemoteError(f"{node.url}: asked for blocks {low}..{high}, got {numbers[:5]}...")
    by_block: dict[int, list[dict]] = collections.defaultdict(list)
    if any(b.get("transactions") for b in blocks):
        stamps = [int(b["block_header"]["raw_data"].get("timestamp", 0)) for b in blocks]
        for event in node.events(contract, min(stamps), max(stamps)):
            if low <= int(event["block_number"]) <= high:
                by_block[int(event["block_number"])].append(event)
    return blocks, by_block


def _fetch(
    node: TronNode, contract: str, start: int, end: int, workers: int
) -> Iterator[tuple[list[dict], dict[int, list[dict]]]]:
    """Windows start..end in order, fetched by up to `workers` threads ahead of the reader."""
    if start > end:
        return
    lows = iter(range(start, end + 1, WINDOW))
    pending: collections.deque[Future] = collections.deque()
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="tron") as pool:

        def submit(low: int) -> None:
            pending.append(pool.submit(_window, node, contract, low, min(low + WINDOW - 1, end)))

        try:
            for low in lows:
                submit(low)
                if len(pending) >= 2 * workers:
                    break
            while pending:
                window = pending.popleft().result()
                low_next = next(lows, None)
                if low_next is not None:
                    submit(low_next)
                yield window
        finally:
            for future in pending:
                future.cancel()


# -- reorganisations ---------------------------------------------------------------------------


def _reconcile(conn, node: TronNode) -> int:
    """Drop local blocks the node's chain no longer has (walking back from the tip)."""
    tip = tron_tip(conn)
    dropped_from = None
    while tip is not None:
        remote = node.block(tip[0])
        if remote.get("blockID") == tip[1]:
            break
        dropped_from = tip[0]
        row = conn.execute(
            "SELECT number, block_id FROM tron_blocks WHERE number < ? ORDER BY number DESC "
            "LIMIT 1",
            (tip[0],),
        ).fetchone()
        tip = (row[0], row[1]) if row else None
    if dropped_from is None:
        return 0
    keep = tip[0] if tip else -1
    with conn:
        conn.execute("BEGIN")
        first = conn.execute(
            "SELECT coalesce(min(id), 1 << 62) FROM tron_txs WHERE block > ?", (keep,)
        ).fetchone()[0]
        for table in ("tron_transfers", "tron_activations", "tron_blacklist", "tron_delegations"):
            conn.execute(f"DELETE FROM {table} WHERE tx_id >= ?", (first,))
        conn.execute("DELETE FROM tron_txs WHERE id >= ?", (first,))
        count = conn.execute("DELETE FROM tron_blocks WHERE number > ?", (keep,)).rowcount
    return count


# -- storing ---------------------------------------------------------------------------------


def _event_address(value: str) -> str:
    """A TronGrid event's address argument (0x + 20 bytes) as T..."""
    return tron_address(PREFIX + bytes.fromhex(value[2:] if value.startswith("0x") else value))


class _Writer:
    """Turns blocks and events into rows, written one window per transaction."""

    def __init__(self, case: Case, contract: str):
        """Continue the ids of the case's Tron index."""
        self.case = case
        self.conn = case.conn
        self.contract = contract
        self.next_tx = self.conn.execute(
            "SELECT coalesce(max(id), 0) + 1 FROM tron_txs"
        ).fetchone()[0]
        self.txs = self.usdt = 0
        self._reset()

    def _reset(self) -> None:
        """Empty the row buffers."""
        self.blocks: list[tuple] = []
        self.tx_rows: list[tuple] = []
        self.transfers: list[tuple] = []
        self.activations: list[tuple] = []
        self.delegations: list[tuple] = []
        self.blacklist: list[tuple] = []

    def add(self, block: dict, events: list[dict]) -> None:
        """Queue a block's rows."""
        raw = block["block_header"]["raw_data"]
        number = int(raw.get("number", 0))
        stamp = int(raw.get("timestamp", 0))
        ids: dict[str, int] = {}
        for position, tx in enumerate(block.get("transactions", [])):
            tx_id = self.next_tx
            self.next_tx += 1
            txid = tx["txID"]
            if hashlib.sha256(bytes.fromhex(tx["raw_data_hex"])).hexdigest() != txid:
                raise RemoteError(f"block {number}: txID {txid} is not the hash of its raw_data")
            ids[txid] = tx_id
            self._tx(tx_id, tx, number, position, stamp)
        for event in events:
            tx_id = ids.get(event["transaction_id"])
            if tx_id is None:
                raise RemoteError(
                    f"event of {event['transaction_id']} names block {number}, "
                    "whose transactions do not include it"
                )
            self._event(tx_id, event)
        self.blocks.append(
            (
                number,
                block["blockID"],
                raw.get("parentHash", ""),
                stamp,
                len(block.get("transactions", [])),
                time.time(),
                self.case.custody_id,
            )
        )

    def _tx(self, tx_id: int, tx: dict, number: int, position: int, stamp: int) -> None:
        """A transaction's row, its TRX move, activation or delegation."""
        contract = tx["raw_data"]["contract"][0]
        kind = contract["type"]
        value = contract["parameter"]["value"]
        result = (tx.get("ret") or [{}])[0].get("contractRet", "SUCCESS")
        ok = result == "SUCCESS"
        owner = tron_address(value["owner_address"])
        target_key = {
            "TransferContract": "to_address",
            "TriggerSmartContract": "contract_address",
            "DelegateResourceContract": "receiver_address",
            "UnDelegateResourceContract": "receiver_address",
            "AccountCreateContract": "account_address",
        }.get(kind)
        target = tron_address(value[target_key]) if target_key and value.get(target_key) else None
        amount = int(value.get("amount") or value.get("call_value") or value.get("balance") or 0)
        self.tx_rows.append(
            (tx_id, tx["txID"], number, position, stamp, kind, owner, target, amount, result)
        )
        self.txs += 1
        if kind == "TransferContract" and target:
            self.transfers.append((tx_id, -1, "TRX", owner, target, amount, int(ok)))
            if ok:
                self.activations.append((target, owner, tx_id))
        elif kind == "AccountCreateContract" and target and ok:
            self.activations.append((target, owner, tx_id))
        elif kind == "DelegateResourceContract" and target and ok:
            resource = value.get("resource", "BANDWIDTH")
            self.delegations.append((tx_id, owner, target, resource, amount))
        elif kind == "TriggerSmartContract" and target == self.contract and not ok:
            # A reverted USDT transfer emits no event: keep what it tried, moving nothing.
            data = value.get("data", "")
            if data.startswith(TRC20_TRANSFER) and len(data) >= 8 + 128:
                to = tron_address(PREFIX + bytes.fromhex(data[8 + 24 : 8 + 64]))
                self.transfers.append((tx_id, -1, "USDT", owner, to, int(data[72:136], 16), 0))

    def _event(self, tx_id: int, event: dict) -> None:
        """A USDT event: a Transfer, or a blacklist change."""
        name = event.get("event_name")
        result = event.get("result", {})
        idx = int(event.get("event_index", 0))
        if name == "Transfer":
            self.transfers.append(
                (
                    tx_id,
                    idx,
                    "USDT",
                    _event_address(result["from"]),
                    _event_address(result["to"]),
                    int(result["value"]),
                    1,
                )
            )
            self.usdt += 1
        elif name in ("AddedBlackList", "RemovedBlackList"):
            self.blacklist.append((tx_id, idx, _event_address(result["_user"]), name, None))
        elif name == "DestroyedBlackFunds":
            self.blacklist.append(
                (
                    tx_id,
                    idx,
                    _event_address(result["_blackListedUser"]),
                    name,
                    int(result["_balance"]),
                )
            )

    def flush(self) -> None:
        """Write the queued rows in one transaction."""
        if not self.blocks:
            return
        conn = self.conn
        with conn:
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO tron_txs VALUES (?,?,?,?,?,?,?,?,?,?)", self.tx_rows)
            conn.executemany(
                "INSERT OR REPLACE INTO tron_transfers VALUES (?,?,?,?,?,?,?)", self.transfers
            )
            conn.executemany(
                "INSERT OR IGNORE INTO tron_activations VALUES (?,?,?)", self.activations
            )
            conn.executemany("INSERT INTO tron_delegations VALUES (?,?,?,?,?)", self.delegations)
            conn.executemany("INSERT INTO tron_blacklist VALUES (?,?,?,?,?)", self.blacklist)
            conn.executemany("INSERT INTO tron_blocks VALUES (?,?,?,?,?,?,?)", self.blocks)
        self._reset()
