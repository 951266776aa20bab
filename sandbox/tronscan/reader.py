"""What the Tron explorer shows, read through the live chain (world and live transactions).

Nothing here reads a secret or the answer key: addresses get only their public label
(tron_accounts.label), the issuer's contract state gives balances and the blacklist.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import SandboxError
from ..tron import abi
from ..tron import address as tron_address
from ..tron.live.chain import LiveBlock, LiveTx, TronLive, TronReader
from ..tron.protobuf import CONTRACT_TYPES
from ..tron.transaction import Transaction
from ..tron.usdt import DECIMALS, NAME, SYMBOL, USDT_ABI, USDT_ADDRESS
from ..world import tron_store

__all__ = [
    "BadQuery",
    "Transfer",
    "TronscanReader",
    "check_address",
    "check_txid",
    "decode_call",
    "decode_log",
    "legs_for",
    "parse_time",
]

MAX_WINDOW = 10_000  # Tronscan: start + limit may not pass it
USDT_LABEL = "Tether USD: USDT Token"


class BadQuery(SandboxError):
    """A search, filter or API parameter that is not well formed (HTTP 400)."""


def check_address(text: str, what: str = "address") -> str:
    """A Tron address (T... or 41... hex) in its T... form, or BadQuery naming what."""
    text = (text or "").strip()
    if not text:
        raise BadQuery(f"{what}: missing (a Tron address, T... with 34 characters)")
    if not tron_address.is_address(text):
        raise BadQuery(f"{what}: {text[:80]!r} is not a Tron address (T... with 34 characters)")
    return tron_address.to_base58(text)


def check_txid(text: str, what: str = "hash") -> str:
    """A 64-digit hex transaction id in lower case, or BadQuery naming what."""
    text = (text or "").strip().lower()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise BadQuery(f"{what}: {text[:80]!r} is not a transaction hash (64 hex digits)")
    return text


def parse_time(text: str | None, what: str, *, end: bool = False) -> int | None:
    """A time filter in ms: digits (ms since 1970) or a UTC date YYYY-MM-DD (its start, or
    with end=True its last millisecond); None when empty."""
    text = (text or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        day = dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.UTC)
    except ValueError:
        raise BadQuery(
            f"{what}: {text[:40]!r} is neither a date (YYYY-MM-DD) nor a time in milliseconds"
        ) from None
    ms = int(day.timestamp() * 1000)
    return ms + 86_400_000 - 1 if end else ms


def legs_for(
    address: str | None, direction: str = "all", counterparty: str | None = None
) -> list[tron_store.Leg]:
    """The (from, to) legs of an address's transfers: all, in or out, with a counterparty."""
    if address is None:
        return [(counterparty, None), (None, counterparty)] if counterparty else [(None, None)]
    if direction == "in":
        return [(counterparty, address)]
    if direction == "out":
        return [(address, counterparty)]
    return [(address, counterparty), (counterparty, address)]


def _signature(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(i['type'] for i in entry.get('inputs', []))})"


_FUNCTIONS = {
    abi.selector(_signature(e)): e for e in USDT_ABI if e["type"] == "Function" and "name" in e
}
_EVENTS = {abi.event_topic(_signature(e)).hex(): e for e in USDT_ABI if e["type"] == "Event"}


def _show(kind: str, value: Any) -> str:
    """An ABI value as Tronscan prints it: addresses T..., numbers as decimal strings."""
    if kind == "address":
        return tron_address.to_base58(value)
    if kind == "bool":
        return "true" if value else "false"
    return str(value)


def decode_call(data: bytes) -> dict[str, Any] | None:
    """A USDT call's method and arguments (Tronscan's trigger_info), or None if unknown."""
    entry = _FUNCTIONS.get(data[:4])
    if entry is None:
        return None
    inputs = entry.get("inputs", [])
    values = abi.read_args(data, [i["type"] for i in inputs])
    names = [i.get("name", "") or f"arg{n}" for n, i in enumerate(inputs)]
    method = ",".join(f"{i['type']} {name}" for i, name in zip(inputs, names, strict=True))
    return {
        "method": f"{entry['name']}({method})",
        "methodId": data[:4].hex(),
        "methodName": entry["name"],
        "parameter": {
            name: _show(i["type"], v) for i, name, v in zip(inputs, names, values, strict=True)
        },
    }


def decode_log(topics: list[str], data: bytes) -> dict[str, Any]:
    """An event log's name and arguments when it is one of USDT's events."""
    entry = _EVENTS.get(topics[0]) if topics else None
    if entry is None:
        return {"event": None, "args": []}
    inputs = entry.get("inputs", [])
    indexed = [i for i in inputs if i.get("indexed")]
    plain = [i for i in inputs if not i.get("indexed")]
    args = []
    for i, topic in zip(indexed, topics[1:], strict=False):
        word = bytes.fromhex(topic)
        value: Any = abi.word_address(word) if i["type"] == "address" else int(topic, 16)
        args.append((i.get("name", ""), i["type"], _show(i["type"], value)))
    try:
        values = abi.decode([i["type"] for i in plain], data) if plain else ()
    except Exception:  # eth-abi's errors: a log that is not this event's shape shows raw
        values = ()
    for i, v in zip(plain, values, strict=False):
        args.append((i.get("name", ""), i["type"], _show(i["type"], v)))
    return {"event": entry["name"], "args": args}


@dataclass(frozen=True)
class Transfer:
    """One TRC-20 Transfer event of the world or the live chain."""

    txid: str
    block: int | None  # None while in the mempool
    timestamp: int
    contract: str
    from_address: str
    to_address: str
    value: int
    idx: int


@dataclass(frozen=True)
class TxRow:
    """A transaction as a list shows it."""

    txid: str
    block: int | None
    timestamp: int
    type: str
    owner: str
    to_address: str | None
    amount: int | None
    result: str
    fee: int


@dataclass
class Cost:
    """The resources a transaction consumed and what it burnt (sun)."""

    fee: int = 0
    net_usage: int = 0
    net_fee: int = 0
    energy_usage: int = 0
    energy_fee: int = 0
    energy_usage_total: int = 0
    origin_energy_usage: int = 0
    energy_penalty_total: int = 0


@dataclass
class TxDetail:
    """Everything the transaction page and /api/transaction-info show."""

    tx: LiveTx
    contract_type: str
    value: dict[str, Any]  # the contract's parameter value, addresses T...
    raw_data: dict[str, Any]
    cost: Cost
    call: dict[str, Any] | None  # the decoded USDT call
    logs: list[dict[str, Any]] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    confirmations: int = 0
    confirmed: bool = False
    result_message: str = ""

    @property
    def contract_type_number(self) -> int:
        """Tronscan's contractType: the protobuf enum number."""
        return CONTRACT_TYPES.get(self.contract_type, -1)


@dataclass
class AccountView:
    """An address as the address page and /api/account show it."""

    address: str
    activated: bool
    balance: int
    create_time: int
    latest_operation_time: int
    activated_by: str | None
    activation_txid: str | None
    usdt: int
    blacklisted: bool
    label: str | None
    is_contract: bool
    frozen: dict[str, int]
    delegated: dict[str, int]
    acquired: dict[str, int]
    resource: dict[str, int]
    sent: int
    received: int


class TronscanReader:
    """The explorer's reads of the world's transactions and the live ones. Accounts,
    balances and the token's state need the node's TronLive; the rest reads the stored
    chain, which a worker's TronReplica reads as well (replica.py)."""

    def __init__(self, chain: TronReader):
        """Keep the chain; the public labels and producer names are read once."""
        self.chain = chain
        self.labels: dict[str, str] = dict(chain.world_read(tron_store.account_rows))
        self.labels.setdefault(USDT_ADDRESS, USDT_LABEL)
        self.witness_names: dict[str, str] = {
            a: name for a, name, _url, _pos in chain.world_read(tron_store.witnesses)
        }

    @property
    def live(self) -> TronLive:
        """The node's TronLive, whose account state only the node's own process keeps."""
        if not isinstance(self.chain, TronLive):
            raise TypeError("accounts and the token's state are read in the node's own process")
        return self.chain

    # -- small facts ----------------------------------------------------------------------

    def label(self, address: str | None) -> str | None:
        """The public label of an address, or None."""
        if address is None:
            return None
        return self.labels.get(address) or (
            f"Block producer: {self.witness_names[address]}"
            if address in self.witness_names
            else None
        )

    def is_contract(self, address: str) -> bool:
        """Whether the address is a contract (USDT is the world's only one)."""
        return address == USDT_ADDRESS

    def confirmed(self, block: int | None) -> bool:
        """Whether a block is at or below the solidified one."""
        return block is not None and block <= self.chain.solid_number()

    def confirmations(self, block: int | None) -> int:
        """Blocks from this one to the head, itself included (0 in the mempool)."""
        return 0 if block is None else self.chain.head()[0] - block + 1

    def token(self) -> dict[str, Any]:
        """USDT's name, symbol, decimals, supply, holder count, owner and state."""

        def read(u) -> dict[str, Any]:
            return {
                "total_supply": u.total_supply,
                "holders": sum(1 for v in u.balances.values() if v),
                "owner": tron_address.to_base58(u.owner),
                "blacklisted": len(u.blacklist),
                "paused": u.paused,
            }

        info = self.live.usdt_read(read)
        info.update(address=USDT_ADDRESS, name=NAME, symbol=SYMBOL, decimals=DECIMALS)
        return info

    # -- transfers ------------------------------------------------------------------------

    def transfers(
        self,
        legs: list[tron_store.Leg],
        *,
        contract: str | None = None,
        min_ms: int = 0,
        max_ms: int = 1 << 62,
        start: int = 0,
        limit: int = 20,
    ) -> tuple[int, list[Transfer]]:
        """(how many match, the page from start): live ones first (they are the newest),
        then the world's, newest first."""
        live = [
            Transfer(r[7], r[8], r[6], r[2], r[3], r[4], int(r[5]), r[1])
            for r in self.chain.live_transfers(
                legs, contract=contract, min_ms=min_ms, max_ms=max_ms
            )
        ]
        world_total = self.chain.world_read(
            lambda c: tron_store.trc20_count(
                c, legs, contract=contract, min_ms=min_ms, max_ms=max_ms
            )
        )
        page = live[start : start + limit]
        need = limit - len(page)
        if need > 0:
            offset = max(0, start - len(live))
            rows = self.chain.world_read(
                lambda c: tron_store.trc20_transfers(
                    c, legs, contract=contract, min_ms=min_ms, max_ms=max_ms,
                    offset=offset, limit=need,
                )
            )  # fmt: skip
            page += [Transfer(r[7], r[8], r[6], r[2], r[3], r[4], int(r[5]), r[1]) for r in rows]
        return len(live) + int(world_total), page

    def holders(self, start: int = 0, limit: int = 20) -> tuple[int, int, list[tuple[str, int]]]:
        """(holder count, total supply, the page of (address, balance)), richest first."""

        def read(u) -> tuple[int, list[tuple[bytes, int]]]:
            return u.total_supply, [(a, v) for a, v in u.balances.items() if v]

        supply, rows = self.live.usdt_read(read)
        ranked = sorted(((tron_address.to_base58(a), v) for a, v in rows), key=lambda r: -r[1])
        return len(ranked), supply, ranked[start : start + limit]

    # -- accounts -------------------------------------------------------------------------

    def account(self, address: str) -> AccountView:
        """An address's balances, resources, activation and label (zeros if never seen)."""
        raw = tron_address.to_bytes(address)
        acc = self.live.account(raw)
        usdt, blacklisted = self.live.usdt_read(
            lambda u: (u.balance_of(raw), u.is_blacklisted(raw))
        )
        sent, received = self.tx_counts(address)
        activation = None
        if acc is not None and acc.activated_by is not None:
            activation = self._activation_txid(address)
        zero = {"BANDWIDTH": 0, "ENERGY": 0}
        return AccountView(
            address=address,
            activated=acc is not None,
            balance=acc.balance if acc else 0,
            create_time=acc.create_time if acc else 0,
            latest_operation_time=acc.latest_operation_time if acc else 0,
            activated_by=tron_address.to_base58(acc.activated_by)
            if acc is not None and acc.activated_by
            else None,
            activation_txid=activation,
            usdt=usdt,
            blacklisted=blacklisted,
            label=self.label(address),
            is_contract=bool(acc and acc.is_contract),
            frozen=dict(acc.frozen) if acc else dict(zero),
            delegated=dict(acc.delegated) if acc else dict(zero),
            acquired=dict(acc.acquired) if acc else dict(zero),
            resource=self.live.account_resource(raw)[1],
            sent=sent,
            received=received,
        )

    def tx_counts(self, address: str) -> tuple[int, int]:
        """(sent, received): how many transactions the address made and was paid by, in
        the world and live (from the stored chain alone)."""
        sent, received = self.chain.world_read(lambda c: tron_store.tx_counts(c, address))
        live_sent = self.chain.live_txs_of(address, received=False, limit=10_000)
        live_received = self.chain.live_txs_of(address, sent=False, limit=10_000)
        return sent + len(live_sent), received + len(live_received)

    def _activation_txid(self, address: str) -> str | None:
        """The first transaction that paid the address (the one that activated it)."""
        rows = self.chain.world_read(
            lambda c: tron_store.txs_of_address(c, address, sent=False, newest_first=False, limit=1)
        )
        if rows:
            return rows[0][1]
        live = self.chain.live_txs_of(address, sent=False, newest_first=False, limit=1)
        return live[0].txid if live else None

    def txs_of(
        self, address: str, before_id: int | None = None, limit: int = 20
    ) -> tuple[list[TxRow], int | None]:
        """The address's transactions of any type, newest first, and the cursor of the next
        page (a world row id); live ones come on the first page."""
        rows: list[TxRow] = []
        if before_id is None:
            for t in self.chain.live_txs_of(address, limit=limit):
                rows.append(
                    TxRow(t.txid, t.number, t.timestamp, t.type, t.owner, t.to_address,
                          t.amount, t.result, t.fee)
                )  # fmt: skip
        need = limit - len(rows)
        world = self.chain.world_read(
            lambda c: tron_store.txs_of_address(c, address, before_id=before_id, limit=need)
        ) if need > 0 else []  # fmt: skip
        for r in world:
            rows.append(TxRow(r[1], r[2], r[19], r[6], r[7], r[8], r[9], r[10], r[11]))
        cursor = world[-1][0] if len(world) == need and need > 0 else None
        return rows, cursor

    # -- transactions and blocks ----------------------------------------------------------

    def tx(self, txid: str) -> TxDetail | None:
        """A transaction with its decoded call, cost, logs and token transfers, or None."""
        tx = self.chain.tx(txid)
        if tx is None:
            return None
        parsed = Transaction.from_raw(tx.raw, tx.signatures).to_json(visible=True)
        raw_data = parsed["raw_data"]
        contract = raw_data["contract"][0]
        value = dict(contract["parameter"]["value"])
        cost = Cost()
        message = ""
        if tx.receipt is not None:
            r = tx.receipt.get("receipt", {})
            cost = Cost(
                fee=tx.receipt.get("fee", 0),
                **{k: r.get(k, 0) for k in vars(Cost()) if k != "fee"},
            )
            if tx.receipt.get("resMessage"):
                message = bytes.fromhex(tx.receipt["resMessage"]).decode("utf-8", "replace")
            logs = self.chain.live_logs(tx.seq) if tx.seq is not None else []
        else:
            row = tx.world_row
            assert row is not None
            cost = Cost(*row[11:18])
            logs = self.chain.world_logs(row[0])
        call = None
        if contract["type"] == "TriggerSmartContract" and value.get("data"):
            call = decode_call(bytes.fromhex(value["data"]))
            if call is not None:
                call["contract_address"] = value.get("contract_address", "")
                call["call_value"] = value.get("call_value", 0)
                call["data"] = value["data"]
        shown_logs, transfers = [], []
        for idx, where, topics, data in logs:
            topic_list = json.loads(topics)
            decoded = decode_log(topic_list, bytes(data))
            shown_logs.append(
                {"idx": idx, "address": where, "topics": topic_list, "data": bytes(data).hex(),
                 **decoded}
            )  # fmt: skip
            if decoded["event"] == "Transfer" and len(decoded["args"]) == 3:
                frm, to, amount = (a[2] for a in decoded["args"])
                transfers.append(
                    Transfer(tx.txid, tx.number, tx.timestamp, where, frm, to, int(amount), idx)
                )
        return TxDetail(
            tx=tx,
            contract_type=contract["type"],
            value=value,
            raw_data=raw_data,
            cost=cost,
            call=call,
            logs=shown_logs,
            transfers=transfers,
            confirmations=self.confirmations(tx.number),
            confirmed=self.confirmed(tx.number),
            result_message=message,
        )

    def block(self, number: int) -> LiveBlock | None:
        """Block number with its transactions (derived if empty), or None above the head."""
        return self.chain.block(number)

    def block_by_id(self, block_id: str) -> LiveBlock | None:
        """The block with that 64-digit id, or None."""
        return self.chain.block_by_id(block_id)
