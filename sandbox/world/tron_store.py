"""Read-only access to the Tron tables of world.db: the only module that runs SQL on them.

Every function takes a connection from `store.open_world` (or a pooled read-only one) whose
rows are `sqlite3.Row` or tuples; only the signers' readers (`witness_secrets`, the live
producer's; `treasury_secret` and `account_secret`, the issuer's; `personal_key`, a swap
service's payouts) read a secret column, and no page shows what they return. Addresses are
in the T... form, times in ms, as the tables keep them.
Paging cursors are row positions: a transaction's `id`, or a TRC-20 transfer's
`(timestamp, tx_id, idx)`.
"""

from __future__ import annotations

import sqlite3

import orjson

__all__ = [
    "SERVICE_WALLETS",
    "TX_COLUMNS",
    "account_rows",
    "account_secret",
    "account_state",
    "block_at_or_below",
    "block_by_id",
    "block_by_number",
    "block_txs",
    "blocks_between",
    "contract_logs",
    "contract_state",
    "has_tron",
    "personal_key",
    "public_account",
    "service_wallet",
    "state_rows",
    "trc20_page",
    "treasury_secret",
    "tron_meta",
    "tx_by_txid",
    "tx_logs",
    "txs_of_address",
    "witness_secrets",
    "witnesses",
]

# No witness signature: the world keeps none (sandbox.tron.block.witness_signature).
BLOCK_COLUMNS = "number, block_id, parent_id, timestamp, witness, tx_trie_root, tx_count"
TX_COLUMNS = (
    "id, txid, block, position, raw, signature, type, owner, to_address, amount, result, fee, "
    "net_usage, net_fee, energy_usage, energy_fee, energy_usage_total, origin_energy_usage, "
    "contract_result, timestamp"
)
_TX_COLUMNS_T = ", ".join(f"t.{c.strip()}" for c in TX_COLUMNS.split(","))


def has_tron(conn: sqlite3.Connection) -> bool:
    """Whether the world has a Tron chain (a world built before it has no tron meta)."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'tron_tip_number'").fetchone()
    except sqlite3.OperationalError:
        return False
    return row is not None


def tron_meta(conn: sqlite3.Connection) -> dict[str, int | str]:
    """tip_number, tip_id, start_ms and block_ms of the world's Tron chain."""
    rows = dict(
        conn.execute(
            "SELECT key, value FROM meta WHERE key IN "
            "('tron_tip_number', 'tron_tip_id', 'tron_start_ms', 'tron_block_ms', 'digest')"
        ).fetchall()
    )
    return {
        "tip_number": int(rows["tron_tip_number"]),
        "tip_id": rows["tron_tip_id"],
        "start_ms": int(rows["tron_start_ms"]),
        "block_ms": int(rows.get("tron_block_ms", 3000)),
        "digest": rows["digest"],
    }


# -- blocks ---------------------------------------------------------------------------


def block_by_number(conn: sqlite3.Connection, number: int) -> tuple | None:
    """The stored (non-empty, or genesis) block of that number, as BLOCK_COLUMNS."""
    return conn.execute(
        f"SELECT {BLOCK_COLUMNS} FROM tron_blocks WHERE number = ?", (number,)
    ).fetchone()


def block_by_id(conn: sqlite3.Connection, block_id: str) -> tuple | None:
    """The stored block with that id, as BLOCK_COLUMNS."""
    return conn.execute(
        f"SELECT {BLOCK_COLUMNS} FROM tron_blocks WHERE block_id = ?", (block_id.lower(),)
    ).fetchone()


def block_at_or_below(conn: sqlite3.Connection, number: int) -> tuple | None:
    """The highest stored block numbered at most number (the one empty blocks chain from)."""
    return conn.execute(
        f"SELECT {BLOCK_COLUMNS} FROM tron_blocks WHERE number <= ? ORDER BY number DESC LIMIT 1",
        (number,),
    ).fetchone()


def blocks_between(conn: sqlite3.Connection, low: int, high: int) -> list[tuple]:
    """Stored blocks numbered low..high inclusive, ascending."""
    return conn.execute(
        f"SELECT {BLOCK_COLUMNS} FROM tron_blocks WHERE number BETWEEN ? AND ? ORDER BY number",
        (low, high),
    ).fetchall()


def block_txs(conn: sqlite3.Connection, number: int) -> list[tuple]:
    """Every transaction of a block in block order, as TX_COLUMNS."""
    return conn.execute(
        f"SELECT {TX_COLUMNS} FROM tron_txs WHERE block = ? ORDER BY position", (number,)
    ).fetchall()


# -- transactions ---------------------------------------------------------------------


def tx_by_txid(conn: sqlite3.Connection, txid: str) -> tuple | None:
    """A world transaction by its 64-digit txid, as TX_COLUMNS."""
    return conn.execute(
        f"SELECT {TX_COLUMNS} FROM tron_txs WHERE txid = ?", (txid.lower(),)
    ).fetchone()


def tx_logs(conn: sqlite3.Connection, tx_id: int) -> list[tuple]:
    """(idx, contract address, topics JSON, data) of a transaction's event logs."""
    return conn.execute(
        "SELECT idx, address, topics, data FROM tron_logs WHERE tx_id = ? ORDER BY idx", (tx_id,)
    ).fetchall()


def txs_of_address(
    conn: sqlite3.Connection,
    address: str,
    *,
    sent: bool = True,
    received: bool = True,
    min_ms: int = 0,
    max_ms: int = 1 << 62,
    before_id: int | None = None,
    after_id: int | None = None,
    newest_first: bool = True,
    limit: int = 20,
) -> list[tuple]:
    """Transactions the address sent (owner) and/or received (to_address), as TX_COLUMNS.

    Paged by id: before_id / after_id exclude the page already seen.
    """
    order = "DESC" if newest_first else "ASC"
    low = -1 if after_id is None else after_id
    high = 1 << 62 if before_id is None else before_id
    parts = []
    params: list = []
    for wanted, column in ((sent, "owner"), (received, "to_address")):
        if wanted:
            parts.append(
                f"SELECT * FROM (SELECT {TX_COLUMNS} FROM tron_txs WHERE {column} = ? "
                f"AND id > ? AND id < ? AND timestamp BETWEEN ? AND ? ORDER BY id {order} "
                "LIMIT ?)"
            )
            params += [address, low, high, min_ms, max_ms, limit]
    if not parts:
        return []
    sql = " UNION ".join(parts) + f" ORDER BY id {order} LIMIT ?"
    return conn.execute(sql, [*params, limit]).fetchall()


TRC20_COLUMNS = (
    "f.tx_id, f.idx, f.contract, f.from_address, f.to_address, f.value, f.timestamp, t.txid, "
    "t.block"
)
# A leg picks rows by the key its index holds (an index of trc20_transfers covers these):
# only the page's rows are then read whole.
_KEY_COLUMNS = "f.timestamp, f.tx_id, f.idx"

Leg = tuple[str | None, str | None]
"""A (from, to) constraint of TRC-20 transfers; None leaves that side free."""


def _trc20_legs_sql(
    legs: list[Leg],
    contract: str | None,
    min_ms: int,
    max_ms: int,
    limit: int | None,
    cursor: tuple[int, int, int] | None = None,
    newest_first: bool = True,
) -> tuple[list[str], list]:
    """One SELECT of the transfers' keys (timestamp, tx_id, idx) per leg, in that order,
    each after cursor (the last row already seen) and limited to limit rows when given."""
    order = "DESC" if newest_first else "ASC"
    parts: list[str] = []
    params: list = []
    for frm, to in legs:
        where = ["f.timestamp BETWEEN ? AND ?"]
        params += [min_ms, max_ms]
        for column, value in (("from_address", frm), ("to_address", to)):
            if value is not None:
                where.append(f"f.{column} = ?")
                params.append(value)
        if contract is not None:
            where.append("f.contract = ?")
            params.append(contract)
        if cursor is not None:
            where.append(f"(f.timestamp, f.tx_id, f.idx) {'<' if newest_first else '>'} (?, ?, ?)")
            params += list(cursor)
        tail = ""
        if limit is not None:
            tail = " LIMIT ?"
            params.append(limit)
        parts.append(
            f"SELECT * FROM (SELECT {_KEY_COLUMNS} FROM trc20_transfers f "
            f"WHERE {' AND '.join(where)} "
            f"ORDER BY f.timestamp {order}, f.tx_id {order}, f.idx {order}{tail})"
        )
    return parts, params


def _trc20_joined(parts: list[str], newest_first: bool, skip: bool = False) -> str:
    """The page of the legs' union (LIMIT ?, then OFFSET ? when skip), as TRC20_COLUMNS: the
    page's keys are chosen first, from the indexes alone, and only its rows are read whole
    and joined to tron_txs for their txid and block (reading them inside each leg would
    look up every leg's rows: a few dozen random reads more a page)."""
    order = "DESC" if newest_first else "ASC"
    keys = f"timestamp {order}, tx_id {order}, idx {order}"
    page = " LIMIT ? OFFSET ?" if skip else " LIMIT ?"
    return (
        f"SELECT {TRC20_COLUMNS} FROM ({' UNION '.join(parts)} ORDER BY {keys}{page}) k "
        "JOIN trc20_transfers f ON f.tx_id = k.tx_id AND f.idx = k.idx "
        f"JOIN tron_txs t ON t.id = k.tx_id ORDER BY k.{keys.replace(', ', ', k.')}"
    )


def trc20_page(
    conn: sqlite3.Connection,
    address: str,
    *,
    sent: bool = True,
    received: bool = True,
    contract: str | None = None,
    min_ms: int = 0,
    max_ms: int = 1 << 62,
    cursor: tuple[int, int, int] | None = None,
    newest_first: bool = True,
    limit: int = 20,
) -> list[tuple]:
    """TRC-20 transfers from and/or to the address, as TRC20_COLUMNS, ordered by
    (timestamp, tx_id, idx); cursor is the last row of the page already seen."""
    legs: list[Leg] = [(address, None)] if sent else []
    legs += [(None, address)] if received else []
    if not legs:
        return []
    parts, params = _trc20_legs_sql(legs, contract, min_ms, max_ms, limit, cursor, newest_first)
    # The page as one row, a JSON array of its rows: sqlite3 lets other threads run while
    # it steps to each row, and a busy server's thread then waits its turn to go on, row
    # after row; one step hands the whole page over. Sorted again here, as an aggregate
    # need not keep the order of the rows it is given.
    (page,) = conn.execute(
        f"SELECT json_group_array(json_array({_PAGE_COLUMNS})) "
        f"FROM ({_trc20_joined(parts, newest_first)})",
        [*params, limit],
    ).fetchone()
    # orjson reads it as json would: SQLite's numbers are 64-bit at most.
    rows = [tuple(row) for row in orjson.loads(page)]
    rows.sort(key=_page_order, reverse=newest_first)
    return rows


# TRC20_COLUMNS by the names the page's SELECT gives them.
_PAGE_COLUMNS = ", ".join(c.split(".")[1] for c in TRC20_COLUMNS.split(", "))


def _page_order(row: tuple) -> tuple[int, int, int]:
    """(timestamp, tx_id, idx) of a row of TRC20_COLUMNS."""
    return row[6], row[0], row[1]


def contract_logs(
    conn: sqlite3.Connection,
    contract: str,
    *,
    min_ms: int = 0,
    max_ms: int = 1 << 62,
    cursor: tuple[int, int] | None = None,
    newest_first: bool = True,
    limit: int = 20,
) -> list[tuple]:
    """A contract's event logs: (tx_id, idx, topics JSON, data, txid, block, timestamp),
    ordered by (tx_id, idx); cursor is the last (tx_id, idx) already seen."""
    order = "DESC" if newest_first else "ASC"
    compare = "<" if newest_first else ">"
    where = ["l.address = ?", "t.timestamp BETWEEN ? AND ?"]
    params: list = [contract, min_ms, max_ms]
    if cursor is not None:
        where.append(f"(l.tx_id, l.idx) {compare} (?, ?)")
        params += list(cursor)
    return conn.execute(
        "SELECT l.tx_id, l.idx, l.topics, l.data, t.txid, t.block, t.timestamp "
        f"FROM tron_logs l JOIN tron_txs t ON t.id = l.tx_id WHERE {' AND '.join(where)} "
        f"ORDER BY l.tx_id {order}, l.idx {order} LIMIT ?",
        [*params, limit],
    ).fetchall()


# -- accounts, witnesses, contracts -----------------------------------------------------


def witnesses(conn: sqlite3.Connection) -> list[tuple]:
    """(address, name, url, position) of the block producers, by position (no secret)."""
    return conn.execute(
        "SELECT address, name, url, position FROM tron_witnesses ORDER BY position"
    ).fetchall()


def account_state(conn: sqlite3.Connection, address: str) -> str | None:
    """The account's JSON at the world's end (Account.to_json()), or None."""
    row = conn.execute("SELECT account FROM tron_state WHERE address = ?", (address,)).fetchone()
    return row[0] if row is not None else None


def state_rows(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(address, account JSON) of every account at the world's end."""
    return conn.execute("SELECT address, account FROM tron_state ORDER BY address").fetchall()


def usdt_balance(conn: sqlite3.Connection, address: str) -> int:
    """USDT (in 10^-6) an address holds at the world's end."""
    row = conn.execute(
        "SELECT json_extract(state, '$.balances.' || ?) FROM tron_contracts"
        " WHERE name = 'TetherToken'",
        (address,),
    ).fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


def contract_state(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(address, name, state JSON) of every contract at the world's end."""
    return conn.execute(
        "SELECT address, name, state FROM tron_contracts ORDER BY address"
    ).fetchall()


def public_account(conn: sqlite3.Connection, address: str) -> tuple | None:
    """(label, created_block, activated_by) of a world address, without its secret."""
    return conn.execute(
        "SELECT label, created_block, activated_by FROM tron_accounts WHERE address = ?",
        (address,),
    ).fetchone()


def account_rows(conn: sqlite3.Connection) -> list[tuple]:
    """(address, label) of every address that has a public label."""
    return conn.execute(
        "SELECT address, label FROM tron_accounts WHERE label IS NOT NULL ORDER BY address"
    ).fetchall()


def witness_secrets(conn: sqlite3.Connection) -> list[tuple[str, bytes]]:
    """(address, secret) of the block producers: only the live chain's producer signs with
    them; no service shows them."""
    return conn.execute("SELECT address, secret FROM tron_witnesses ORDER BY position").fetchall()


def personal_key(conn: sqlite3.Connection, actor_id: str | None) -> tuple[str, bytes] | None:
    """(address, secret) of an actor's first personal Tron account: a swap service pays
    its live USDT payouts with it; no service shows it."""
    row = conn.execute(
        "SELECT address, secret FROM tron_accounts WHERE actor_id = ? AND wallet = 'personal'"
        " ORDER BY rowid LIMIT 1",
        (actor_id,),
    ).fetchone()
    return (row[0], bytes(row[1])) if row else None


# -- the answer key and the exchanges' records ------------------------------------------

FLOW_EVENT_COLUMNS = (
    "e.rowid, e.flow_id, e.tx_id, t.txid, e.step, e.source_id, e.target_id, e.asset, e.amount, "
    "e.to_address"
)
# A TRC-20 transfer or a TRX transfer (contract NULL), as the exchanges' records list them.
MOVEMENT_COLUMNS = "txid, timestamp, block, contract, value, from_address, to_address"


def flow_events(conn: sqlite3.Connection, flow_id: str) -> list[tuple]:
    """The story's Tron payments of a flow, as FLOW_EVENT_COLUMNS, in the order recorded."""
    return conn.execute(
        f"SELECT {FLOW_EVENT_COLUMNS} FROM tron_flow_events e JOIN tron_txs t ON t.id = e.tx_id "
        "WHERE e.flow_id = ? ORDER BY e.rowid",
        (flow_id,),
    ).fetchall()


def account_owner(conn: sqlite3.Connection, address: str) -> tuple | None:
    """(actor_id, wallet kind, purpose) of a world address, without its secret; None if the
    world made no such address."""
    return conn.execute(
        "SELECT actor_id, wallet, purpose FROM tron_accounts WHERE address = ?", (address,)
    ).fetchone()


def addresses_of(
    conn: sqlite3.Connection, actor_id: str, wallet: str | None = None, purpose: str | None = None
) -> list[str]:
    """The addresses of an actor (of that wallet kind and purpose, when given), sorted."""
    rows = conn.execute(
        "SELECT address FROM tron_accounts WHERE actor_id = ? AND (? IS NULL OR wallet = ?) "
        "AND (? IS NULL OR purpose = ?) ORDER BY address",
        (actor_id, wallet, wallet, purpose, purpose),
    ).fetchall()
    return [r[0] for r in rows]


def _movements(conn: sqlite3.Connection, column: str, addresses: list[str]) -> list[tuple]:
    """Successful TRC-20 and TRX transfers whose `column` (from_address or to_address) is one
    of addresses, oldest first, as MOVEMENT_COLUMNS."""
    if not addresses:
        return []
    marks = ", ".join("?" for _ in addresses)
    trx_column = "owner" if column == "from_address" else "to_address"
    return conn.execute(
        f"""
        SELECT * FROM (
            SELECT t.txid, f.timestamp, t.block, f.contract, f.value, f.from_address,
                f.to_address, t.id AS tx_id, f.idx AS idx
            FROM trc20_transfers f JOIN tron_txs t ON t.id = f.tx_id
            WHERE f.{column} IN ({marks})
            UNION ALL
            SELECT txid, timestamp, block, NULL, amount, owner, to_address, id, -1
            FROM tron_txs WHERE type = 'TransferContract' AND result = 'SUCCESS'
                AND {trx_column} IN ({marks})
        ) ORDER BY tx_id, idx
        """,
        [*addresses, *addresses],
    ).fetchall()


def movements_into(conn: sqlite3.Connection, addresses: list[str]) -> list[tuple]:
    """Every TRC-20 and TRX transfer paid to one of addresses, oldest first (MOVEMENT_COLUMNS)."""
    return [r[:7] for r in _movements(conn, "to_address", addresses)]


def movements_from(conn: sqlite3.Connection, addresses: list[str]) -> list[tuple]:
    """Every TRC-20 and TRX transfer paid by one of addresses, oldest first (MOVEMENT_COLUMNS)."""
    return [r[:7] for r in _movements(conn, "from_address", addresses)]


def tx_movements(conn: sqlite3.Connection, txid: str) -> tuple[tuple, list[tuple]] | None:
    """A world transaction's (type, owner, to_address, result) and what it moved (its TRC-20
    transfers and its TRX transfer, as MOVEMENT_COLUMNS); None if the world has no such txid."""
    tx = conn.execute(
        "SELECT id, type, owner, to_address, result FROM tron_txs WHERE txid = ?", (txid.lower(),)
    ).fetchone()
    if tx is None:
        return None
    moved = conn.execute(
        """
        SELECT t.txid, f.timestamp, t.block, f.contract, f.value, f.from_address, f.to_address
        FROM trc20_transfers f JOIN tron_txs t ON t.id = f.tx_id
        WHERE f.tx_id = ? ORDER BY f.idx
        """,
        (tx[0],),
    ).fetchall()
    if tx[1] == "TransferContract" and tx[4] == "SUCCESS":
        moved += conn.execute(
            "SELECT txid, timestamp, block, NULL, amount, owner, to_address FROM tron_txs "
            "WHERE id = ?",
            (tx[0],),
        ).fetchall()
    return tuple(tx[1:]), moved


# -- explorer reads (sandbox.tronscan) ----------------------------------------------------


def trc20_transfers(
    conn: sqlite3.Connection,
    legs: list[Leg],
    *,
    contract: str | None = None,
    min_ms: int = 0,
    max_ms: int = 1 << 62,
    offset: int = 0,
    limit: int = 20,
) -> list[tuple]:
    """TRC-20 transfers matching any of the (from, to) legs, as TRC20_COLUMNS, newest first
    by (timestamp, tx_id, idx), skipping offset rows (Tronscan's `start`)."""
    if not legs:
        return []
    parts, params = _trc20_legs_sql(legs, contract, min_ms, max_ms, offset + limit)
    return conn.execute(_trc20_joined(parts, True, skip=True), [*params, limit, offset]).fetchall()


def trc20_count(
    conn: sqlite3.Connection,
    legs: list[Leg],
    *,
    contract: str | None = None,
    min_ms: int = 0,
    max_ms: int = 1 << 62,
) -> int:
    """How many TRC-20 transfers match any of the legs (a transfer to oneself counts once)."""
    if not legs:
        return 0
    parts, params = _trc20_legs_sql(legs, contract, min_ms, max_ms, None)
    (count,) = conn.execute(f"SELECT count(*) FROM ({' UNION '.join(parts)})", params).fetchone()
    return int(count)


def tx_counts(conn: sqlite3.Connection, address: str) -> tuple[int, int]:
    """(sent, received): how many world transactions the address owns / is the target of."""
    (sent,) = conn.execute("SELECT count(*) FROM tron_txs WHERE owner = ?", (address,)).fetchone()
    (received,) = conn.execute(
        "SELECT count(*) FROM tron_txs WHERE to_address = ?", (address,)
    ).fetchone()
    return int(sent), int(received)


# -- the issuer's portal (sandbox.issuer) -------------------------------------------------

# Wallet kinds that belong to a service, not to a person: the issuer freezes none of them
# (it tells the requester to ask the service, which can freeze one customer's account).
SERVICE_WALLETS = ("deposit", "hot", "energy", "treasury", "otc", "p2p", "swap")


def treasury_secret(conn: sqlite3.Connection) -> tuple[str, bytes] | None:
    """(address, secret) of the USDT issuer's treasury, the contract's owner; only the
    issuer's portal signs with it."""
    row = conn.execute(
        "SELECT address, secret FROM tron_accounts WHERE wallet = 'treasury' LIMIT 1"
    ).fetchone()
    return (row[0], bytes(row[1])) if row else None


def service_wallet(conn: sqlite3.Connection, address: str) -> tuple[str, str, str] | None:
    """(wallet kind, owner's name, label) of a service's address (SERVICE_WALLETS), or None."""
    marks = ", ".join("?" for _ in SERVICE_WALLETS)
    row = conn.execute(
        "SELECT t.wallet, coalesce(a.name, t.label, 'the issuer'), coalesce(t.label, '') "
        f"FROM tron_accounts t LEFT JOIN actors a ON a.id = t.actor_id "
        f"WHERE t.address = ? AND t.wallet IN ({marks})",
        (address, *SERVICE_WALLETS),
    ).fetchone()
    return (row[0], row[1], row[2]) if row else None


def account_secret(conn: sqlite3.Connection, address: str) -> bytes | None:
    """The secret key of a world address (for injects that move an actor's funds)."""
    row = conn.execute("SELECT secret FROM tron_accounts WHERE address = ?", (address,)).fetchone()
    return bytes(row[0]) if row else None
