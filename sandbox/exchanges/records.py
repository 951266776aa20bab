"""What one exchange can look up in the world: its own addresses, transactions and customers.

Every function takes a read-only world connection (rows as sqlite3.Row) and the
exchange's actor id, and sees only what that exchange would know: its deposit and hot
wallets, the withdrawals it paid, the accounts and logins of its own customers.
Deposits also come from the live chain (`<state>/chain.db`, through the live chain's
reader): coins a suspect moves while the class runs reach the records once mined.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from ..ledger.live import LiveChainReader

__all__ = [
    "Match",
    "account",
    "deposits",
    "exchange_info",
    "logins",
    "match_address",
    "match_txid",
    "subscriber",
    "withdrawals",
]


@dataclass
class Match:
    """How a request's subject relates to the exchange.

    kind is "deposit_address", "withdrawal_destination", "operational_wallet",
    "deposit_tx", "withdrawal_tx" or "operational_tx"; customers are actor ids.
    """

    kind: str
    customers: list[str] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)  # withdrawal_tx: what each customer got
    tx_kind: str | None = None  # for transactions: the ledger's kind (sweep, deposit, ...)


def exchange_info(conn: sqlite3.Connection, exchange_id: str) -> dict | None:
    """Name, domain and contact details of an exchange, or None if the world has no such one."""
    row = conn.execute(
        """
        SELECT a.id, a.name, a.email, a.phone, a.street, a.city, a.country, s.address AS domain
        FROM actors a JOIN sites s ON s.id = a.id AND s.kind = 'exchange'
        WHERE a.id = ? AND a.role = 'exchange'
        """,
        (exchange_id,),
    ).fetchone()
    return dict(row) if row else None


def _payer(conn: sqlite3.Connection, tx_id: int) -> str | None:
    """The actor whose wallet funded a transaction (its first input's owner)."""
    row = conn.execute(
        """
        SELECT w.actor_id FROM inputs i
        JOIN outputs o ON o.tx_id = i.prev_tx_id AND o.n = i.prev_n
        JOIN addresses a ON a.id = o.address_id JOIN wallets w ON w.id = a.wallet_id
        WHERE i.tx_id = ? ORDER BY i.n LIMIT 1
        """,
        (tx_id,),
    ).fetchone()
    return row[0] if row else None


def match_address(conn: sqlite3.Connection, exchange_id: str, address: str) -> Match | None:
    """The exchange's relation to an address: its deposit or hot address, or a payout target."""
    row = conn.execute(
        """
        SELECT a.id, a.purpose, w.kind, w.actor_id FROM addresses a
        JOIN wallets w ON w.id = a.wallet_id WHERE a.address = ?
        """,
        (address,),
    ).fetchone()
    if row is None:
        return None
    if row["actor_id"] == exchange_id:
        purpose = row["purpose"] or ""
        if row["kind"] == "deposit" and purpose.startswith("deposit:"):
            return Match("deposit_address", [purpose.split(":", 1)[1]])
        return Match("operational_wallet")
    paid = conn.execute(
        """
        SELECT DISTINCT t.id FROM outputs o JOIN transactions t ON t.id = o.tx_id
        WHERE o.address_id = ? AND t.kind = 'withdrawal'
        """,
        (row["id"],),
    ).fetchall()
    if any(_payer(conn, r[0]) == exchange_id for r in paid):
        return Match("withdrawal_destination", [row["actor_id"]])
    return None


def _live_match(
    conn: sqlite3.Connection, live: LiveChainReader, exchange_id: str, txid: str
) -> Match | None:
    """A confirmed live transaction paying customers' deposit addresses, as a deposit_tx."""
    outs = live.confirmed_addresses(txid)
    matches = [match_address(conn, exchange_id, address) for address in outs]
    customers = {c for m in matches if m and m.kind == "deposit_address" for c in m.customers}
    return Match("deposit_tx", sorted(customers), tx_kind="deposit") if customers else None


def match_txid(
    conn: sqlite3.Connection,
    exchange_id: str,
    txid: str,
    live: LiveChainReader | None = None,
) -> Match | None:
    """The exchange's relation to a transaction: a deposit, its withdrawal, or internal."""
    tx = conn.execute("SELECT id, kind FROM transactions WHERE txid = ?", (txid,)).fetchone()
    if tx is None:
        return _live_match(conn, live, exchange_id, txid) if live is not None else None
    outs = conn.execute(
        """
        SELECT o.n, o.value, a.address, a.purpose, w.kind, w.actor_id FROM outputs o
        JOIN addresses a ON a.id = o.address_id JOIN wallets w ON w.id = a.wallet_id
        WHERE o.tx_id = ? ORDER BY o.n
        """,
        (tx["id"],),
    ).fetchall()
    ours = [o for o in outs if o["actor_id"] == exchange_id]
    deposited = [
        o["purpose"].split(":", 1)[1]
        for o in ours
        if o["kind"] == "deposit" and (o["purpose"] or "").startswith("deposit:")
    ]
    if deposited:
        return Match("deposit_tx", sorted(set(deposited)), tx_kind=tx["kind"])
    payer = _payer(conn, tx["id"])
    if tx["kind"] == "withdrawal" and payer == exchange_id:
        paid = [o for o in outs if o["actor_id"] != exchange_id]
        customers = sorted({o["actor_id"] for o in paid})
        outputs = [{"n": o["n"], "address": o["address"], "value": o["value"]} for o in paid]
        return Match("withdrawal_tx", customers, outputs, tx_kind=tx["kind"])
    if ours or payer == exchange_id:
        return Match("operational_tx", tx_kind=tx["kind"])
    return None


def account(conn: sqlite3.Connection, exchange_id: str, actor_id: str) -> dict | None:
    """The customer's account at the exchange (exchange_accounts row), or None."""
    try:
        row = conn.execute(
            "SELECT * FROM exchange_accounts WHERE exchange_id = ? AND actor_id = ?",
            (exchange_id, actor_id),
        ).fetchone()
    except sqlite3.OperationalError:  # a world built before exchange records existed
        return None
    return dict(row) if row else None


def subscriber(conn: sqlite3.Connection, actor_id: str) -> dict:
    """The KYC identity the customer gave when opening the account."""
    row = conn.execute(
        """
        SELECT name, birth_date, nationality, document_number, street, city, country,
               phone, email, username
        FROM actors WHERE id = ?
        """,
        (actor_id,),
    ).fetchone()
    return dict(row) if row else {}


def deposits(
    conn: sqlite3.Connection,
    exchange_id: str,
    actor_id: str,
    live: LiveChainReader | None = None,
) -> list[dict]:
    """Every payment into the customer's deposit address(es), oldest first, live ones last."""
    rows = conn.execute(
        """
        SELECT t.txid, b.time, o.value, a.address, t.height FROM wallets w
        JOIN addresses a ON a.wallet_id = w.id
        JOIN outputs o ON o.address_id = a.id
        JOIN transactions t ON t.id = o.tx_id JOIN blocks b ON b.height = t.height
        WHERE w.actor_id = ? AND w.kind = 'deposit' AND a.purpose = ?
        ORDER BY t.height, t.position, o.n
        """,
        (exchange_id, f"deposit:{actor_id}"),
    )
    found = [dict(r) for r in rows]
    if live is None:
        return found
    mine = [
        r[0]
        for r in conn.execute(
            "SELECT a.address FROM addresses a JOIN wallets w ON w.id = a.wallet_id"
            " WHERE w.actor_id = ? AND w.kind = 'deposit' AND a.purpose = ?",
            (exchange_id, f"deposit:{actor_id}"),
        )
    ]
    if not mine:
        return found
    # Live blocks come after the world's, so their deposits are the newest.
    return found + live.deposits_to(mine)


def withdrawals(conn: sqlite3.Connection, exchange_id: str, actor_id: str) -> list[dict]:
    """Every payout the exchange sent to the customer's own addresses, oldest first."""
    rows = conn.execute(
        """
        SELECT t.id AS tx_id, t.txid, b.time, o.value, a.address, t.height FROM wallets w
        JOIN addresses a ON a.wallet_id = w.id
        JOIN outputs o ON o.address_id = a.id
        JOIN transactions t ON t.id = o.tx_id AND t.kind = 'withdrawal'
        JOIN blocks b ON b.height = t.height
        WHERE w.actor_id = ?
        ORDER BY t.height, t.position, o.n
        """,
        (actor_id,),
    ).fetchall()
    payers: dict[int, str | None] = {}
    out = []
    for r in rows:
        if r["tx_id"] not in payers:
            payers[r["tx_id"]] = _payer(conn, r["tx_id"])
        if payers[r["tx_id"]] == exchange_id:
            out.append({k: r[k] for k in ("txid", "time", "value", "address", "height")})
    return out


def logins(conn: sqlite3.Connection, exchange_id: str, actor_id: str) -> list[dict]:
    """The customer's logins to the exchange: time, IP, user agent, IP country."""
    try:
        rows = conn.execute(
            """
            SELECT time, ip, user_agent, country FROM exchange_logins
            WHERE exchange_id = ? AND actor_id = ? ORDER BY time, ip
            """,
            (exchange_id, actor_id),
        )
        return [dict(r) for r in rows]
    except sqlite3.OperationalError:  # a world built before exchange records existed
        return []
