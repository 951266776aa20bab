"""What one exchange can look up in the world: its own addresses, transactions and customers.

The world's rows come from sandbox.world.store, which owns world.db; this module decides
what of them one exchange sees. Every function takes a read-only world connection (rows as sqlite3.Row) and the
exchange's actor id, and sees only what that exchange would know: its deposit and hot
wallets, the withdrawals it paid, the accounts and logins of its own customers.
Deposits also come from the live chain (`<state>/chain.db`, through the live chain's
reader): coins a suspect moves while the class runs reach the records once mined.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from ..ledger.live.chain import LiveChainReader
from ..world import store

__all__ = [
    "Match",
    "account",
    "deposits",
    "exchange_info",
    "logins",
    "match_address",
    "match_txid",
    "subscriber",
    "txid_known",
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
    return store.exchange_row(conn, exchange_id)


def match_address(conn: sqlite3.Connection, exchange_id: str, address: str) -> Match | None:
    """The exchange's relation to an address: its deposit or hot address, or a payout target."""
    row = store.address_owner(conn, address)
    if row is None:
        return None
    if row["actor_id"] == exchange_id:
        purpose = row["purpose"] or ""
        if row["kind"] == "deposit" and purpose.startswith("deposit:"):
            return Match("deposit_address", [purpose.split(":", 1)[1]])
        return Match("operational_wallet")
    paid = store.withdrawals_paying(conn, row["id"])
    if any(store.tx_payer(conn, tx_id) == exchange_id for tx_id in paid):
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
    tx = store.tx_kind(conn, txid)
    if tx is None:
        return _live_match(conn, live, exchange_id, txid) if live is not None else None
    outs = store.tx_outputs_owned(conn, tx["id"])
    ours = [o for o in outs if o["actor_id"] == exchange_id]
    deposited = [
        o["purpose"].split(":", 1)[1]
        for o in ours
        if o["kind"] == "deposit" and (o["purpose"] or "").startswith("deposit:")
    ]
    if deposited:
        return Match("deposit_tx", sorted(set(deposited)), tx_kind=tx["kind"])
    payer = store.tx_payer(conn, tx["id"])
    if tx["kind"] == "withdrawal" and payer == exchange_id:
        paid = [o for o in outs if o["actor_id"] != exchange_id]
        customers = sorted({o["actor_id"] for o in paid})
        outputs = [{"n": o["n"], "address": o["address"], "value": o["value"]} for o in paid]
        return Match("withdrawal_tx", customers, outputs, tx_kind=tx["kind"])
    if ours or payer == exchange_id:
        return Match("operational_tx", tx_kind=tx["kind"])
    return None


def txid_known(conn: sqlite3.Connection, txid: str, live: LiveChainReader | None) -> bool:
    """Whether txid is a transaction of the Bitcoin chain: the world's or the live one's."""
    if store.tx_kind(conn, txid) is not None:
        return True
    return live is not None and live.has_tx(txid)


def account(conn: sqlite3.Connection, exchange_id: str, actor_id: str) -> dict | None:
    """The customer's account at the exchange (exchange_accounts row), or None."""
    return store.exchange_account(conn, exchange_id, actor_id)


def subscriber(conn: sqlite3.Connection, actor_id: str) -> dict:
    """The KYC identity the customer gave when opening the account."""
    return store.actor_identity(conn, actor_id)


def deposits(
    conn: sqlite3.Connection,
    exchange_id: str,
    actor_id: str,
    live: LiveChainReader | None = None,
) -> list[dict]:
    """Every payment into the customer's deposit address(es), oldest first, live ones last."""
    found = store.deposits_into(conn, exchange_id, f"deposit:{actor_id}")
    if live is None:
        return found
    mine = store.deposit_addresses(conn, exchange_id, f"deposit:{actor_id}")
    if not mine:
        return found
    # Live blocks come after the world's, so their deposits are the newest.
    return found + live.deposits_to(mine)


def withdrawals(conn: sqlite3.Connection, exchange_id: str, actor_id: str) -> list[dict]:
    """Every payout the exchange sent to the customer's own addresses, oldest first."""
    rows = store.withdrawals_to(conn, actor_id)
    payers: dict[int, str | None] = {}
    out = []
    for r in rows:
        if r["tx_id"] not in payers:
            payers[r["tx_id"]] = store.tx_payer(conn, r["tx_id"])
        if payers[r["tx_id"]] == exchange_id:
            out.append({k: r[k] for k in ("txid", "time", "value", "address", "height")})
    return out


def logins(conn: sqlite3.Connection, exchange_id: str, actor_id: str) -> list[dict]:
    """The customer's logins to the exchange: time, IP, user agent, IP country."""
    return store.exchange_logins(conn, exchange_id, actor_id)
