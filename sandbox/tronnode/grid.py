"""TronGrid's v1 API: accounts, their transactions and TRC-20 transfers, contract and
transaction events, in the `{data, success, meta: {at, fingerprint, page_size}}` envelope.

Pages run newest first (order_by=block_timestamp,desc) or oldest first; `fingerprint` is
the opaque cursor of the next page: the last row already sent, so a page never repeats
one. The live chain's rows are all newer than the world's.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request
from werkzeug.sansio.utils import get_current_url

from ..errors import SandboxError
from ..tron import address as tron_address
from ..tron.errors import InvalidTronAddress
from ..tron.hashes import keccak256
from ..tron.live.chain import LiveTx
from ..tron.usdt import USDT_ABI, USDT_ADDRESS
from ..world import tron_store
from .render import dumps, tx_json
from .wallet import chain

bp = Blueprint("grid", __name__, url_prefix="/v1")

MAX_LIMIT = 200
DEFAULT_LIMIT = 20
USDT_INFO = {"symbol": "USDT", "address": USDT_ADDRESS, "decimals": 6, "name": "Tether USD"}


class GridError(SandboxError, ValueError):
    """A request TronGrid refuses: 400 with {"success": false, "error": ..., "statusCode"}."""


def _envelope(
    data: list, fingerprint: str | None = None, links_next: str | None = None
) -> Response:
    """TronGrid's envelope around a page."""
    meta: dict = {"at": int(time.time() * 1000)}
    if fingerprint:
        meta["fingerprint"] = fingerprint
        meta["links"] = {"next": links_next}
    meta["page_size"] = len(data)
    body = {"data": data, "success": True, "meta": meta}
    return Response(dumps(body), mimetype="application/json")


@bp.errorhandler(GridError)
def _refused(e: GridError):
    """400 in TronGrid's error shape, naming the parameter."""
    body = {"success": False, "error": str(e), "statusCode": 400}
    return Response(json.dumps(body), status=400, mimetype="application/json")


@functools.lru_cache(maxsize=65536)
def _address(text: str) -> str:
    """The T... form of an address path segment, or GridError; remembered (a checksum each
    way per request otherwise)."""
    try:
        return tron_address.to_base58(text)
    except InvalidTronAddress:
        raise GridError(f"Invalid address provided: {text}") from None


@functools.lru_cache(maxsize=256)
def _host_url(scheme: str, host: str) -> str:
    """request.host_url, remembered for the hosts seen (werkzeug builds it afresh)."""
    return get_current_url(scheme, host)


def _query() -> dict[str, str]:
    """The query string's parameters, each its first value (as request.args.get gives it):
    a plain dict, read once a request (werkzeug's MultiDict makes an exception object for
    every parameter asked for and not given)."""
    return request.args.to_dict()


def _flag(q: dict[str, str], name: str) -> bool:
    """A true/false query parameter."""
    value = q.get(name, "false").lower()
    if value not in ("true", "false"):
        raise GridError(f"{name} must be true or false, got {value!r}")
    return value == "true"


def _int(q: dict[str, str], name: str, default: int) -> int:
    """A whole-number query parameter."""
    value = q.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise GridError(f"{name} must be a whole number, got {value!r}") from None


def _limit(q: dict[str, str]) -> int:
    """The page size: 1..200, 20 when not given."""
    limit = _int(q, "limit", DEFAULT_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        raise GridError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    return limit


def _newest_first(q: dict[str, str]) -> bool:
    """order_by=block_timestamp,desc (the default) or block_timestamp,asc."""
    order = q.get("order_by", "block_timestamp,desc")
    if order not in ("block_timestamp,desc", "block_timestamp,asc"):
        raise GridError(f"order_by must be block_timestamp,desc or block_timestamp,asc: {order}")
    return order.endswith("desc")


def _confirmed(q: dict[str, str]) -> bool | None:
    """True: only confirmed rows; False: only unconfirmed; None: both."""
    if _flag(q, "only_confirmed"):
        return True
    if _flag(q, "only_unconfirmed"):
        return False
    return None


def _window(q: dict[str, str]) -> tuple[int, int]:
    """(min_timestamp, max_timestamp) in ms."""
    return _int(q, "min_timestamp", 0), _int(q, "max_timestamp", 1 << 62)


def _direction(q: dict[str, str]) -> tuple[bool, bool]:
    """(sent, received) from only_from / only_to."""
    only_from, only_to = _flag(q, "only_from"), _flag(q, "only_to")
    if only_from and only_to:
        raise GridError("only_from and only_to cannot both be true")
    return not only_to, not only_from


def _encode(cursor: list) -> str:
    """An opaque fingerprint for a cursor."""
    return base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode().rstrip("=")


def _decode(q: dict[str, str], kinds: tuple[str, ...]) -> list | None:
    """The cursor of the fingerprint parameter ([source, key...]), or GridError."""
    text = q.get("fingerprint")
    if not text:
        return None
    try:
        cursor = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error):
        raise GridError(f"fingerprint is not one this API gave: {text!r}") from None
    if not isinstance(cursor, list) or not cursor or cursor[0] not in kinds:
        raise GridError(f"fingerprint is not one this API gave: {text!r}")
    return cursor


def _paged(
    q: dict[str, str],
    sources: list[tuple[str, Callable[[list | None, int], list]]],
    limit: int,
    key: Callable[[str, Any], list],
) -> tuple[list[tuple[str, Any]], str | None]:
    """One page over sources in order: (rows tagged with their source, next fingerprint)."""
    cursor = _decode(q, tuple(name for name, _ in sources))
    rows: list[tuple[str, Any]] = []
    started = cursor is None
    for name, fetch in sources:
        if cursor is not None and not started and name != cursor[0]:
            continue
        after = cursor[1:] if cursor is not None and not started else None
        started = True
        rows += [(name, r) for r in fetch(after, limit + 1 - len(rows))]
        if len(rows) > limit:
            break
    more = len(rows) > limit
    rows = rows[:limit]
    fingerprint = _encode([rows[-1][0], *key(*rows[-1])]) if more and rows else None
    return rows, fingerprint


def _next_link(q: dict[str, str], fingerprint: str | None) -> str | None:
    """The URL of the next page."""
    if fingerprint is None:
        return None
    args = dict(q)
    args["fingerprint"] = fingerprint
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"{_host_url(request.scheme, request.host).rstrip('/')}{request.path}?{query}"


# -- accounts -------------------------------------------------------------------------


@bp.get("/accounts/<address>")
def account(address: str):
    """An account with its TRC-20 balances; data is [] for an address never activated."""
    from .accounts import account_json

    text = _address(address)
    raw = tron_address.to_bytes(text)
    found = chain().account(raw)
    if found is None:
        return _envelope([])
    data = account_json(found, chain().head_slot(), False)
    selector = keccak256(b"balanceOf(address)")[:4]
    result = chain().constant_call(
        raw, tron_address.to_bytes(USDT_ADDRESS), selector + bytes(12) + raw[1:]
    )
    balance = int.from_bytes(result.output[:32], "big") if result.output else 0
    data["trc20"] = [{USDT_ADDRESS: str(balance)}] if balance else []
    return _envelope([data])


def _tx_item(tx: LiveTx) -> dict:
    """A transaction as TronGrid lists it: gettransactionbyid's with its receipt's figures."""
    item = tx_json(tx, True, with_ret=False)
    if tx.receipt is not None:
        receipt = tx.receipt.get("receipt", {})
    else:
        row = tx.world_row
        assert row is not None
        receipt = dict(
            zip(
                ("net_usage", "net_fee", "energy_usage", "energy_fee", "energy_usage_total"),
                row[12:17],
                strict=True,
            )
        )
    return {
        "ret": [{"contractRet": tx.result, "fee": tx.fee}],
        "signature": item["signature"],
        "txID": tx.txid,
        "net_usage": receipt.get("net_usage", 0),
        "raw_data_hex": item["raw_data_hex"],
        "net_fee": receipt.get("net_fee", 0),
        "energy_usage": receipt.get("energy_usage", 0),
        "blockNumber": tx.number,
        "block_timestamp": tx.timestamp,
        "energy_fee": receipt.get("energy_fee", 0),
        "energy_usage_total": receipt.get("energy_usage_total", 0),
        "raw_data": item["raw_data"],
        "internal_transactions": [],
    }


@bp.get("/accounts/<address>/transactions")
def transactions(address: str):
    """The address's transactions (sent and received TRX, contract calls, stakes)."""
    from ..tron.live.chain import _world_tx

    text = _address(address)
    q = _query()
    limit, newest = _limit(q), _newest_first(q)
    sent, received = _direction(q)
    low, high = _window(q)
    confirmed = _confirmed(q)
    live = chain()

    def live_rows(after, n):
        return live.live_txs_of(
            text, sent=sent, received=received, min_ms=low, max_ms=high, confirmed=confirmed,
            cursor=after[0] if after else None, newest_first=newest, limit=n,
        )  # fmt: skip

    def world_rows(after, n):
        if confirmed is False:
            return []
        rows = live.world_read(
            lambda w: tron_store.txs_of_address(
                w,
                text,
                sent=sent,
                received=received,
                min_ms=low,
                max_ms=high,
                before_id=after[0] if after and newest else None,
                after_id=after[0] if after and not newest else None,
                newest_first=newest,
                limit=n,
            )  # fmt: skip
        )
        return [_world_tx(r) for r in rows]

    sources = [("l", live_rows), ("w", world_rows)]
    if not newest:
        sources.reverse()
    rows, fingerprint = _paged(
        q, sources, limit, lambda src, tx: [tx.seq if src == "l" else tx.world_row[0]]
    )
    return _envelope([_tx_item(tx) for _, tx in rows], fingerprint, _next_link(q, fingerprint))


@bp.get("/accounts/<address>/transactions/trc20")
def trc20(address: str):
    """The address's TRC-20 transfers (USDT), in and out."""
    text = _address(address)
    q = _query()
    limit, newest = _limit(q), _newest_first(q)
    sent, received = _direction(q)
    low, high = _window(q)
    confirmed = _confirmed(q)
    contract = q.get("contract_address")
    if contract:
        contract = _address(contract)
    live = chain()

    def live_rows(after, n):
        return live.live_trc20_of(
            text, sent=sent, received=received, contract=contract, min_ms=low, max_ms=high,
            confirmed=confirmed, cursor=tuple(after) if after else None, newest_first=newest,
            limit=n,
        )  # fmt: skip

    def world_rows(after, n):
        if confirmed is False:
            return []
        return live.world_read(
            lambda w: tron_store.trc20_page(
                w,
                text,
                sent=sent,
                received=received,
                contract=contract,
                min_ms=low,
                max_ms=high,
                cursor=tuple(after) if after else None,
                newest_first=newest,
                limit=n,
            )  # fmt: skip
        )

    sources = [("l", live_rows), ("w", world_rows)]
    if not newest:
        sources.reverse()

    def key(src: str, row) -> list:
        return [row[0], row[1]] if src == "l" else [row[6], row[0], row[1]]

    rows, fingerprint = _paged(q, sources, limit, key)
    data = [
        {
            "transaction_id": row[7],
            "token_info": USDT_INFO,  # the same object each row: only ever written out
            "block_timestamp": row[6],
            "from": row[3],
            "to": row[4],
            "type": "Transfer",
            "value": str(row[5]),
        }
        for _src, row in rows
    ]
    return _envelope(data, fingerprint, _next_link(q, fingerprint))


# -- events ---------------------------------------------------------------------------


def _events_abi() -> dict[str, dict]:
    """The USDT contract's events by the hex of their topic 0."""
    out = {}
    for entry in USDT_ABI:
        if entry.get("type") == "Event":
            types = ",".join(i["type"] for i in entry.get("inputs", []))
            out[keccak256(f"{entry['name']}({types})".encode()).hex()] = entry
    return out


EVENTS = _events_abi()


def _event(
    contract: str, topics: list[str], data: bytes, txid: str, number: int, ms: int, idx: int
) -> dict:
    """One event as TronGrid shows it, decoded with the contract's ABI."""
    entry = EVENTS.get(topics[0]) if topics else None
    result: dict = {}
    types: dict = {}
    name = entry["name"] if entry else ""
    signature = ""
    if entry is not None:
        indexed = iter(topics[1:])
        offset = 0
        parts = []
        for i, arg in enumerate(entry.get("inputs", [])):
            word = (
                bytes.fromhex(next(indexed)) if arg.get("indexed") else data[offset : offset + 32]
            )
            if not arg.get("indexed"):
                offset += 32
            value = (
                "0x" + word[-20:].hex()
                if arg["type"] == "address"
                else str(int.from_bytes(word, "big"))
            )
            if arg["type"] == "bool":
                value = "true" if int.from_bytes(word, "big") else "false"
            result[str(i)] = value
            result[arg["name"]] = value
            types[arg["name"]] = arg["type"]
            parts.append(f"{arg['type']}{' indexed' if arg.get('indexed') else ''} {arg['name']}")
        signature = f"{name}({', '.join(parts)})"
    return {
        "block_number": number,
        "block_timestamp": ms,
        "caller_contract_address": contract,
        "contract_address": contract,
        "event_index": idx,
        "event_name": name,
        "result": result,
        "result_type": types,
        "event": signature,
        "transaction_id": txid,
    }


@bp.get("/contracts/<address>/events")
def contract_events(address: str):
    """A contract's events, newest first, optionally one event_name only."""
    text = _address(address)
    q = _query()
    limit, newest = _limit(q), _newest_first(q)
    low, high = _window(q)
    wanted = q.get("event_name")
    live = chain()

    def live_rows(after, n):
        return live.live_contract_logs(
            text, min_ms=low, max_ms=high, cursor=tuple(after) if after else None,
            newest_first=newest, limit=n,
        )  # fmt: skip

    def world_rows(after, n):
        return live.world_read(
            lambda w: tron_store.contract_logs(
                w,
                text,
                min_ms=low,
                max_ms=high,
                cursor=tuple(after) if after else None,
                newest_first=newest,
                limit=n,
            )  # fmt: skip
        )

    sources = [("l", live_rows), ("w", world_rows)]
    if not newest:
        sources.reverse()
    rows, fingerprint = _paged(q, sources, limit, lambda src, row: [row[0], row[1]])
    data = [_event(text, json.loads(r[2]), bytes(r[3]), r[4], r[5], r[6], r[1]) for _s, r in rows]
    if wanted:
        data = [e for e in data if e["event_name"] == wanted]
    return _envelope(data, fingerprint, _next_link(q, fingerprint))


@bp.get("/transactions/<txid>/events")
def transaction_events(txid: str):
    """The events a transaction emitted; [] when unknown or not yet in a block."""
    try:
        bytes.fromhex(txid)
    except ValueError:
        raise GridError(f"Invalid transaction id: {txid}") from None
    if len(txid) != 64:
        raise GridError(f"Invalid transaction id: {txid}")
    live = chain()
    tx = live.tx(txid)
    if tx is None or tx.number is None:
        return _envelope([])
    if tx.seq is not None:
        logs = live.live_logs(tx.seq)
    else:
        assert tx.world_row is not None
        logs = live.world_logs(tx.world_row[0])
    data = [
        _event(address, json.loads(topics), bytes(d), tx.txid, tx.number, tx.timestamp, idx)
        for idx, address, topics, d in logs
    ]
    return _envelope(data)
