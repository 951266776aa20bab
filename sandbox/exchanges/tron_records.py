"""What one exchange knows of the Tron chain: its deposit addresses, hot wallet and payouts.

An exchange's Tron side (built by sandbox.tron.sim): a deposit address per customer
(`tron_accounts`: wallet 'deposit', purpose 'deposit:<customer>'), swept into its hot
wallet; an energy wallet that activates deposit addresses and delegates them energy;
withdrawals are transfers from the hot wallet to the customer's own addresses. The
world's rows come from sandbox.world.tron_store; payments made while the class runs come
from the live chain (tron.db, read through a `TronReader`) once they are in a block.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from ..tron import address as tron_address
from ..tron.live.chain import TRANSFER_TOPIC, TronNotReady, TronReader, TronReplica
from ..tron.usdt import USDT_ADDRESS
from ..world import tron_store
from .records import Match

__all__ = [
    "TRON_UNIT",
    "caught_up",
    "format_tron",
    "has_tron",
    "match_tron_address",
    "match_tron_txid",
    "tron_deposits",
    "tron_txid_known",
    "tron_withdrawals",
]

TRON_UNIT = 1_000_000  # USDT and TRX (sun) both have 6 decimals
OPERATIONAL_KINDS = ("hot", "energy")
LIVE_LIMIT = 10_000  # live payments of one address the records list (a class makes a few)


def caught_up(live: TronReader | None) -> TronReader | None:
    """The live chain to answer one request from: a TronReplica caught up with tron.db
    first (under its lock, so threads may ask at once), None while the node's process is
    still starting it (the world's chain only, never an error); TronLive as it is."""
    if isinstance(live, TronReplica):
        try:
            live.refresh()
        except TronNotReady:
            return None
    return live


def has_tron(conn: sqlite3.Connection) -> bool:
    """Whether the world has a Tron chain."""
    return tron_store.has_tron(conn)


def format_tron(units: int) -> str:
    """An amount in 10^-6 units with its 6 decimals, e.g. "1821.646024"."""
    sign = "-" if units < 0 else ""
    units = abs(units)
    return f"{sign}{units // TRON_UNIT}.{units % TRON_UNIT:06d}"


def _asset(contract: str | None) -> str:
    """The asset a movement moved: TRX, USDT, or the token contract's address."""
    if contract is None:
        return "TRX"
    return "USDT" if contract == USDT_ADDRESS else contract


def _owner(conn: sqlite3.Connection, address: str) -> tuple[str | None, str, str] | None:
    """(actor, wallet kind, purpose) of a world address, or None."""
    row = tron_store.account_owner(conn, address)
    return None if row is None else (row[0], row[1], row[2] or "")


def _customer_of_deposit(exchange_id: str, owner: tuple | None) -> str | None:
    """The customer whose deposit address at the exchange this is, or None."""
    if owner is None or owner[0] != exchange_id or owner[1] != "deposit":
        return None
    purpose = owner[2]
    return purpose.split(":", 1)[1] if purpose.startswith("deposit:") else None


def _operational(conn: sqlite3.Connection, exchange_id: str) -> set[str]:
    """The exchange's own Tron addresses (hot and energy wallets)."""
    return {
        a for kind in OPERATIONAL_KINDS for a in tron_store.addresses_of(conn, exchange_id, kind)
    }


def match_tron_address(conn: sqlite3.Connection, exchange_id: str, address: str) -> Match | None:
    """The exchange's relation to a Tron address: a customer's deposit address, its own
    wallet, or an address its hot wallet paid a customer's withdrawal to."""
    owner = _owner(conn, address)
    if owner is None:
        return None
    customer = _customer_of_deposit(exchange_id, owner)
    if customer is not None:
        return Match("deposit_address", [customer])
    if owner[0] == exchange_id:
        return Match("operational_wallet")
    if owner[0] is None:
        return None
    ours = _operational(conn, exchange_id)
    if any(m[5] in ours for m in tron_store.movements_into(conn, [address])):
        return Match("withdrawal_destination", [owner[0]])
    return None


def _kind_of(moved: list[tuple], owners: dict[str, tuple | None], exchange_id: str) -> str:
    """What an exchange's own transaction was: a sweep, an activation or an own movement."""
    for m in moved:
        payer, payee = owners.get(m[5]), owners.get(m[6])
        if _customer_of_deposit(exchange_id, payer) and payee and payee[1] == "hot":
            return "sweep"
        if _customer_of_deposit(exchange_id, payee):
            return "activation"
    return "consolidation"


def _deposit_match(
    conn: sqlite3.Connection, exchange_id: str, moved: Iterable[tuple], payer: str
) -> Match | None:
    """A deposit_tx when a payment not made by the exchange reached customers' deposit
    addresses; moved rows as tron_store.MOVEMENT_COLUMNS."""
    if payer in _operational(conn, exchange_id):
        return None
    customers = {
        c for m in moved if (c := _customer_of_deposit(exchange_id, _owner(conn, m[6]))) is not None
    }
    return Match("deposit_tx", sorted(customers), tx_kind="deposit") if customers else None


def match_tron_txid(
    conn: sqlite3.Connection, exchange_id: str, txid: str, live: TronReader | None = None
) -> Match | None:
    """The exchange's relation to a Tron transaction of the world or of the live chain (once
    in a block): a customer's deposit, a withdrawal it paid, or its own movement."""
    found = tron_store.tx_movements(conn, txid)
    if found is None:
        return _live_match(conn, exchange_id, txid, live) if live is not None else None
    (kind, owner, to, _result), moved = found
    deposit = _deposit_match(conn, exchange_id, moved, owner)
    if deposit is not None:
        return deposit
    addresses = {owner, *(m[5] for m in moved), *(m[6] for m in moved)}
    if to is not None:
        addresses.add(to)
    owners = {a: _owner(conn, a) for a in addresses}
    actor = {a: (o[0] if o is not None else None) for a, o in owners.items()}
    payer = owners[owner]
    if payer is None or payer[0] != exchange_id:
        if exchange_id in actor.values():
            return Match("operational_tx", tx_kind="inflow")  # e.g. the issuer's mint
        return None
    paid = [m for m in moved if m[5] == owner and actor[m[6]] != exchange_id]
    if paid and payer[1] == "hot":
        customers = sorted({c for m in paid if (c := actor[m[6]]) is not None})
        outputs = [
            {"n": i, "address": m[6], "value": m[4], "asset": _asset(m[3])}
            for i, m in enumerate(paid)
        ]
        return Match("withdrawal_tx", customers, outputs, tx_kind="withdrawal")
    if kind in ("DelegateResourceContract", "FreezeBalanceV2Contract"):
        return Match("operational_tx", tx_kind="energy")
    return Match("operational_tx", tx_kind=_kind_of(moved, owners, exchange_id))


def tron_txid_known(conn: sqlite3.Connection, txid: str, live: TronReader | None) -> bool:
    """Whether txid is a transaction of the Tron chain: the world's or the live one's."""
    if tron_store.tx_by_txid(conn, txid) is not None:
        return True
    return live is not None and live.tx(txid) is not None


def _live_moved(live: TronReader, txid: str) -> tuple[str, list[tuple]] | None:
    """(payer, movements) of a live transaction in a block; None if there is none."""
    tx = live.tx(txid)
    if tx is None or tx.seq is None or tx.number is None or tx.result != "SUCCESS":
        return None
    moved: list[tuple] = []
    if tx.type == "TransferContract" and tx.to_address:
        moved.append((tx.txid, tx.timestamp, tx.number, None, tx.amount, tx.owner, tx.to_address))
    for _idx, contract, topics, data in live.live_logs(tx.seq):
        topics = json.loads(topics)
        if len(topics) == 3 and topics[0] == TRANSFER_TOPIC:
            sender = tron_address.to_base58("41" + topics[1][-40:])
            receiver = tron_address.to_base58("41" + topics[2][-40:])
            value = int.from_bytes(bytes(data)[:32], "big")
            moved.append((tx.txid, tx.timestamp, tx.number, contract, value, sender, receiver))
    return tx.owner, moved


def _live_match(
    conn: sqlite3.Connection, exchange_id: str, txid: str, live: TronReader
) -> Match | None:
    """A live transaction, once in a block, that paid customers' deposit addresses."""
    found = _live_moved(live, txid)
    if found is None:
        return None
    return _deposit_match(conn, exchange_id, found[1], found[0])


def _movement(m: tuple, counterparty: str) -> dict:
    """A Tron deposit or withdrawal as the answer lists it (times in seconds, as the portal)."""
    return {
        "chain": "tron",
        "asset": _asset(m[3]),
        "txid": m[0],
        "time": m[1] // 1000,
        "address": m[6],
        "from_address": m[5],
        "counterparty": counterparty,
        "value": m[4],
        "amount": format_tron(m[4]),
        "block": m[2],
    }


def tron_deposits(
    conn: sqlite3.Connection, exchange_id: str, actor_id: str, live: TronReader | None = None
) -> list[dict]:
    """Every USDT and TRX payment into the customer's Tron deposit address(es), oldest
    first, live ones (in a block) last; the exchange's own top-ups are not deposits."""
    mine = tron_store.addresses_of(conn, exchange_id, "deposit", f"deposit:{actor_id}")
    if not mine:
        return []
    ours = _operational(conn, exchange_id)
    rows = [m for m in tron_store.movements_into(conn, mine) if m[5] not in ours]
    if live is not None:
        rows += _live_deposits(live, mine, ours)
    return [_movement(m, m[5]) for m in rows]


def _live_deposits(live: TronReader, mine: list[str], ours: set[str]) -> list[tuple]:
    """Live payments into the deposit addresses, in blocks, oldest first."""
    found: list[tuple[int, int, tuple]] = []
    for address in mine:
        for seq, idx, contract, sender, receiver, value, ms, txid, block in live.live_trc20_of(
            address, sent=False, confirmed=True, newest_first=False, limit=LIVE_LIMIT
        ):
            found.append((seq, idx, (txid, ms, block, contract, value, sender, receiver)))
        for tx in live.live_txs_of(
            address, sent=False, confirmed=True, newest_first=False, limit=LIVE_LIMIT
        ):
            if tx.type == "TransferContract" and tx.result == "SUCCESS" and tx.seq is not None:
                row = (tx.txid, tx.timestamp, tx.number, None, tx.amount, tx.owner, address)
                found.append((tx.seq, -1, row))
    return [row for _, _, row in sorted(found) if row[5] not in ours]


def tron_withdrawals(conn: sqlite3.Connection, exchange_id: str, actor_id: str) -> list[dict]:
    """Every USDT and TRX payout the exchange's hot wallet sent to the customer's own
    addresses, oldest first."""
    hot = set(tron_store.addresses_of(conn, exchange_id, "hot"))
    own = tron_store.addresses_of(conn, actor_id)
    rows = [m for m in tron_store.movements_into(conn, own) if m[5] in hot]
    return [_movement(m, m[6]) for m in rows]
