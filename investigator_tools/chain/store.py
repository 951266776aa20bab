"""The case's local chain index: tables, indexes, and small lookups shared by the analyses.

Transactions and addresses get integer ids in chain order, so the graph walks and the
clustering work on integers. Inputs carry the value and address of the output they
spend (filled in by the sync), which makes "what did this address send" and co-spend
clustering plain scans; the index on (prev_tx_id, prev_n) answers "spent by what".
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..case import Case
from ..errors import InputError
from .address import normalize_address

__all__ = [
    "INDEXES",
    "SCHEMA",
    "address_id",
    "create_indexes",
    "ensure_schema",
    "has_indexes",
    "local_tip",
    "require_synced",
    "resolve_target",
    "TRON_SCHEMA",
    "ensure_tron_schema",
    "tron_tip",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS chain_blocks (
    height INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    merkle_root TEXT NOT NULL,
    time INTEGER NOT NULL,
    tx_count INTEGER NOT NULL,
    size INTEGER NOT NULL,
    first_tx_id INTEGER NOT NULL,
    witnesses_committed INTEGER,  -- 1 verified by BIP141, 0 segwit without commitment, NULL none
    fetched_at REAL NOT NULL,
    custody_id INTEGER            -- the sync run that fetched it
);
CREATE TABLE IF NOT EXISTS chain_txs (
    id INTEGER PRIMARY KEY,       -- chain order: ids grow with height and position
    txid TEXT NOT NULL,
    height INTEGER NOT NULL,
    position INTEGER NOT NULL,
    n_in INTEGER NOT NULL,        -- 0 for a coinbase
    n_out INTEGER NOT NULL,
    size INTEGER NOT NULL,
    weight INTEGER NOT NULL,
    fee INTEGER,                  -- NULL for a coinbase
    equal_outputs INTEGER NOT NULL  -- most outputs sharing one value: a CoinJoin's sign
);
CREATE TABLE IF NOT EXISTS chain_addresses (
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL,
    type TEXT NOT NULL,           -- v0_p2wpkh, p2sh, p2pkh, v0_p2wsh, v1_p2tr
    first_tx_id INTEGER NOT NULL  -- the transaction that first paid it
);
CREATE TABLE IF NOT EXISTS chain_outputs (
    tx_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    value INTEGER NOT NULL,
    address_id INTEGER,           -- NULL for OP_RETURN and nonstandard scripts
    PRIMARY KEY (tx_id, n)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chain_inputs (
    tx_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    prev_tx_id INTEGER NOT NULL,
    prev_n INTEGER NOT NULL,
    value INTEGER NOT NULL,       -- of the output spent
    address_id INTEGER,           -- of the output spent
    PRIMARY KEY (tx_id, n)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chain_labels (
    address TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT,                -- exchange, market, mixer, mining pool, ... or the analyst's
    source TEXT NOT NULL,         -- analyst | explorer
    created REAL NOT NULL,
    operator TEXT,
    custody_id INTEGER
);
CREATE TABLE IF NOT EXISTS chain_label_checks (
    txid TEXT PRIMARY KEY,        -- transactions whose explorer page was read for labels
    checked_at REAL NOT NULL
);
"""

# The Tron index (`investigate sync --tron`): one row per transaction, the value moves it
# made (TRX and USDT, a reverted transfer kept with ok = 0: it moved nothing), the first
# funder of each account, energy delegations, the issuer's blacklist events, and the swap
# orders portals returned (cross-chain links between this index and the Bitcoin one).
TRON_SCHEMA = """
CREATE TABLE IF NOT EXISTS tron_blocks (
    number INTEGER PRIMARY KEY,
    block_id TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    timestamp INTEGER NOT NULL,   -- ms
    tx_count INTEGER NOT NULL,
    fetched_at REAL NOT NULL,
    custody_id INTEGER
);
CREATE TABLE IF NOT EXISTS tron_txs (
    id INTEGER PRIMARY KEY,       -- chain order
    txid TEXT NOT NULL UNIQUE,
    block INTEGER NOT NULL,
    position INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    type TEXT NOT NULL,           -- TransferContract, TriggerSmartContract, ...
    owner TEXT NOT NULL,
    target TEXT,                  -- to_address, contract_address, receiver_address
    amount INTEGER NOT NULL,      -- sun (TRX) the contract names
    result TEXT NOT NULL          -- SUCCESS, REVERT, OUT_OF_ENERGY, ...
);
CREATE INDEX IF NOT EXISTS tron_txs_block ON tron_txs(block);
CREATE TABLE IF NOT EXISTS tron_transfers (
    tx_id INTEGER NOT NULL,
    idx INTEGER NOT NULL,         -- -1: the TRX of the contract; >= 0: the event's index
    asset TEXT NOT NULL,          -- TRX | USDT
    from_address TEXT NOT NULL,
    to_address TEXT NOT NULL,
    amount INTEGER NOT NULL,      -- sun / USDT's 6-decimal units
    ok INTEGER NOT NULL,          -- 0: a reverted call, nothing moved
    PRIMARY KEY (tx_id, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tron_transfers_from ON tron_transfers(from_address);
CREATE INDEX IF NOT EXISTS tron_transfers_to ON tron_transfers(to_address);
CREATE TABLE IF NOT EXISTS tron_activations (
    address TEXT PRIMARY KEY,
    funder TEXT NOT NULL,         -- the account whose transaction created it
    tx_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tron_delegations (
    tx_id INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    receiver TEXT NOT NULL,
    resource TEXT NOT NULL,       -- ENERGY | BANDWIDTH
    amount INTEGER NOT NULL       -- sun staked for it
);
CREATE TABLE IF NOT EXISTS tron_blacklist (
    tx_id INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    address TEXT NOT NULL,
    event TEXT NOT NULL,          -- AddedBlackList | RemovedBlackList | DestroyedBlackFunds
    amount INTEGER,
    PRIMARY KEY (tx_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS swap_orders (
    host TEXT NOT NULL,           -- the swap service's portal
    order_id TEXT NOT NULL,
    created TEXT,
    from_chain TEXT NOT NULL,
    from_asset TEXT,
    from_address TEXT,
    from_txid TEXT,
    from_amount TEXT,
    to_chain TEXT NOT NULL,
    to_asset TEXT,
    to_address TEXT,
    to_txid TEXT,
    to_amount TEXT,
    rate TEXT,
    custody_id INTEGER,
    PRIMARY KEY (host, order_id)
);
CREATE INDEX IF NOT EXISTS swap_orders_from ON swap_orders(from_address);
CREATE INDEX IF NOT EXISTS swap_orders_to ON swap_orders(to_address);
CREATE TABLE IF NOT EXISTS tron_label_checks (
    address TEXT PRIMARY KEY,     -- addresses whose Tronscan account was read for a label
    checked_at REAL NOT NULL
);
"""

# Built once the first full sync is in (bulk inserts into unindexed tables are much faster).
INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS chain_txs_txid ON chain_txs(txid);
CREATE UNIQUE INDEX IF NOT EXISTS chain_addresses_address ON chain_addresses(address);
CREATE INDEX IF NOT EXISTS chain_outputs_address ON chain_outputs(address_id);
CREATE INDEX IF NOT EXISTS chain_inputs_spent ON chain_inputs(prev_tx_id, prev_n);
CREATE INDEX IF NOT EXISTS chain_inputs_address ON chain_inputs(address_id);
"""
_INDEX_NAMES = (
    "chain_txs_txid",
    "chain_addresses_address",
    "chain_outputs_address",
    "chain_inputs_spent",
    "chain_inputs_address",
)


def ensure_schema(case: Case) -> None:
    """Create the chain tables of a case if needed."""
    case.ensure(SCHEMA)


def ensure_tron_schema(case: Case) -> None:
    """Create the Tron tables (and chain_labels, which Tron labels share) if needed."""
    case.ensure(SCHEMA)
    case.ensure(TRON_SCHEMA)


def tron_tip(conn: sqlite3.Connection) -> tuple[int, str] | None:
    """(number, block id) of the last synced Tron block, or None before the first sync."""
    row = conn.execute(
        "SELECT number, block_id FROM tron_blocks ORDER BY number DESC LIMIT 1"
    ).fetchone()
    return (row[0], row[1]) if row else None


def has_indexes(conn: sqlite3.Connection) -> bool:
    """Whether the secondary indexes exist."""
    names = {
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    }
    return all(n in names for n in _INDEX_NAMES)


def create_indexes(conn: sqlite3.Connection) -> None:
    """Build the secondary indexes (a no-op once built: later inserts keep them current)."""
    conn.executescript(INDEXES)


def local_tip(conn: sqlite3.Connection) -> tuple[int, str] | None:
    """(height, hash) of the last synced block, or None before the first sync."""
    row = conn.execute(
        "SELECT height, hash FROM chain_blocks ORDER BY height DESC LIMIT 1"
    ).fetchone()
    return (row[0], row[1]) if row else None


def require_synced(case: Case) -> None:
    """InputError unless the case has a chain index."""
    ensure_schema(case)
    if local_tip(case.conn) is None:
        raise InputError(
            f"{case.path}: no chain index yet; run `investigate sync --explorer URL` first"
        )
    if not has_indexes(case.conn):
        create_indexes(case.conn)


def address_id(conn: sqlite3.Connection, address: str) -> int | None:
    """The index id of an address, or None if the chain never paid it."""
    row = conn.execute("SELECT id FROM chain_addresses WHERE address = ?", (address,)).fetchone()
    return row[0] if row else None


def resolve_target(conn: sqlite3.Connection, text: str) -> tuple[str, Any]:
    """What the user named: ("tx", tx_id), ("outpoint", (tx_id, n)) or ("address", address_id)."""
    text = text.strip()
    txid, _, vout = text.partition(":")
    if len(txid) == 64 and all(c in "0123456789abcdefABCDEF" for c in txid):
        row = conn.execute("SELECT id, n_out FROM chain_txs WHERE txid = ?", (txid.lower(),))
        row = row.fetchone()
        if row is None:
            raise InputError(f"transaction {txid} is not in the local index (sync first?)")
        if not vout:
            return "tx", row[0]
        if not vout.isdigit() or int(vout) >= row[1]:
            raise InputError(f"{text}: transaction {txid} has no output {vout}")
        return "outpoint", (row[0], int(vout))
    try:
        address = normalize_address(text)
    except InputError as e:
        raise InputError(
            f"{text!r} is neither a txid, a TXID:N output nor an address: {e}"
        ) from None
    aid = address_id(conn, address)
    if aid is None:
        raise InputError(f"address {address} never appears in the local index")
    return "address", aid
