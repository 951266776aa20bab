"""The explorer's pages: search, address, transaction, block, the USDT token."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..tron import address as tron_address
from ..tron.usdt import USDT_ADDRESS
from .reader import BadQuery, TronscanReader, check_address, check_txid, legs_for, parse_time

bp = Blueprint("web", __name__)

PAGE = 20


def reader() -> TronscanReader:
    """The app's reader."""
    return current_app.extensions["tronscan"].reader


@bp.app_template_filter("units")
def units(value: int | None, decimals: int = 6) -> str:
    """Sun or USDT units as a decimal with thousands grouped: 1,234.5 (no trailing zeros)."""
    if value is None:
        return ""
    sign = "-" if value < 0 else ""
    value = abs(int(value))
    whole, frac = divmod(value, 10**decimals)
    tail = f"{frac:0{decimals}d}".rstrip("0")
    return f"{sign}{whole:,}" + (f".{tail}" if tail else "")


@bp.app_template_filter("utc")
def utc(ms: int | None) -> str:
    """Milliseconds since 1970 as a UTC date and time."""
    if not ms:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@bp.app_template_filter("day")
def day(ms: int | None) -> str:
    """Milliseconds as a UTC date (YYYY-MM-DD), for the date filters."""
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d")


@bp.app_template_filter("short")
def short(text: str | None, keep: int = 8) -> str:
    """A long hash or address cut in the middle."""
    if not text:
        return ""
    return text if len(text) <= 2 * keep + 1 else f"{text[:keep]}…{text[-keep:]}"


@bp.app_context_processor
def _context() -> dict:
    """What every page shows: the head block."""
    number, _bid, ms = reader().chain.head()
    return {"head_number": number, "head_ms": ms, "usdt": USDT_ADDRESS}


@bp.app_template_global()
def label_of(address: str | None) -> str | None:
    """The public label of an address (macros see globals, not the page's context)."""
    return reader().label(address)


def bad_request(message: str):
    """A 400 page naming what is wrong."""
    return render_template("tronscan/error.html", title=_("Bad request"), message=message), 400


@bp.errorhandler(BadQuery)
def _bad(e: BadQuery):
    return bad_request(str(e))


def _start() -> int:
    """The `start` of a paged list (a multiple of the page size)."""
    text = request.args.get("start", "0").strip() or "0"
    if not (text.isascii() and text.isdigit()):
        raise BadQuery(f"start: {text[:40]!r} is not a row number (0, 20, 40 ...)")
    return int(text) - int(text) % PAGE


@bp.get("/")
def home():
    """The search box, the head block, USDT's figures and the latest transfers."""
    r = reader()
    _total, latest = r.transfers(legs_for(None), contract=USDT_ADDRESS, limit=10)
    return render_template("tronscan/home.html", token=r.token(), latest=latest)


@bp.get("/search")
def search():
    """Go to the address, transaction or block the query names."""
    q = request.args.get("q", "").strip()
    r = reader()
    if not q:
        return bad_request("q: type an address (T...), a transaction hash or a block number")
    if q.isascii() and q.isdigit() and len(q) < 64:
        if r.block(int(q)) is not None:
            return redirect(url_for("web.block", number=int(q)))
        return _not_found(f"block {q}: above the head block {r.chain.head()[0]}")
    if len(q) == 64:
        try:
            txid = check_txid(q, "q")
        except BadQuery as e:
            return bad_request(str(e))
        if r.chain.tx(txid) is not None:
            return redirect(url_for("web.transaction", txid=txid))
        b = r.block_by_id(txid)
        if b is not None:
            return redirect(url_for("web.block", number=b.number))
        return _not_found(f"{txid}: no transaction or block with this hash")
    if tron_address.is_address(q):
        return redirect(url_for("web.address", address=tron_address.to_base58(q)))
    return bad_request(
        f"q: {q[:80]!r} is not a Tron address (T..., 34 characters), a transaction hash "
        "(64 hex digits) or a block number"
    )


def _not_found(message: str):
    return render_template("tronscan/error.html", title=_("Not found"), message=message), 404


@bp.get("/address/<address>")
def address(address: str):
    """An address: balances, resources, activation, label, blacklist and USDT transfers."""
    r = reader()
    address = check_address(address, "address")
    args = request.args
    direction = args.get("direction", "all").strip() or "all"
    if direction not in ("all", "in", "out"):
        raise BadQuery(f"direction: {direction[:20]!r} is not one of all, in, out")
    counterparty_text = args.get("counterparty", "").strip()
    counterparty = check_address(counterparty_text, "counterparty") if counterparty_text else None
    min_ms = parse_time(args.get("from"), "from")
    max_ms = parse_time(args.get("to"), "to", end=True)
    if min_ms is not None and max_ms is not None and min_ms > max_ms:
        raise BadQuery("from, to: the first day is after the last")
    start = _start()
    total, transfers = r.transfers(
        legs_for(address, direction, counterparty),
        contract=USDT_ADDRESS,
        min_ms=min_ms or 0,
        max_ms=max_ms if max_ms is not None else 1 << 62,
        start=start,
        limit=PAGE,
    )
    before = args.get("before", "").strip()
    if before and not (before.isascii() and before.isdigit()):
        raise BadQuery(f"before: {before[:40]!r} is not a row number")
    txs, older = r.txs_of(address, int(before) if before else None, limit=PAGE)
    filters = {
        "direction": direction,
        "counterparty": counterparty or "",
        "from": args.get("from", "").strip(),
        "to": args.get("to", "").strip(),
    }
    return render_template(
        "tronscan/address.html",
        a=r.account(address),
        transfers=transfers,
        total=total,
        start=start,
        page=PAGE,
        filters=filters,
        txs=txs,
        older=older,
        before=before,
    )


@bp.get("/transaction/<txid>")
def transaction(txid: str):
    """A transaction: its contract, decoded call, event logs, energy, bandwidth and fee."""
    r = reader()
    txid = check_txid(txid, "transaction hash")
    d = r.tx(txid)
    if d is None:
        return _not_found(f"transaction {txid}: not on this chain")
    return render_template("tronscan/transaction.html", d=d, tx=d.tx)


@bp.get("/block/<number>")
def block(number: str):
    """A block: its header, producer and transactions (an empty one is derived)."""
    r = reader()
    if not (number.isascii() and number.isdigit()):
        raise BadQuery(f"block: {number[:40]!r} is not a block number")
    b = r.block(int(number))
    if b is None:
        return _not_found(f"block {number}: above the head block {r.chain.head()[0]}")
    return render_template(
        "tronscan/block.html",
        b=b,
        producer=r.witness_names.get(b.witness, ""),
        confirmations=r.confirmations(b.number),
        confirmed=r.confirmed(b.number),
    )


@bp.get("/token20/<contract>")
def token(contract: str):
    """The USDT token: supply, holders (richest first) and its latest transfers."""
    r = reader()
    contract = check_address(contract, "contract")
    if contract != USDT_ADDRESS:
        return _not_found(f"{contract}: not a TRC-20 token of this chain (USDT is {USDT_ADDRESS})")
    tab = request.args.get("tab", "transfers")
    if tab not in ("transfers", "holders"):
        raise BadQuery(f"tab: {tab[:20]!r} is not transfers or holders")
    start = _start()
    info = r.token()
    holders: list = []
    transfers: list = []
    if tab == "holders":
        total, _supply, holders = r.holders(start, PAGE)
    else:
        total, transfers = r.transfers(
            legs_for(None), contract=USDT_ADDRESS, start=start, limit=PAGE
        )
    return render_template(
        "tronscan/token.html",
        token=info,
        tab=tab,
        holders=holders,
        transfers=transfers,
        total=total,
        start=start,
        page=PAGE,
    )


@bp.get("/favicon.ico")
def favicon():
    """No icon: a 404 without a page."""
    abort(404)


@bp.app_template_filter("tron_hex")
def tron_hex(address: str) -> str:
    """The 41... hex form of an address, as java-tron's API writes it."""
    return tron_address.to_hex(address)
