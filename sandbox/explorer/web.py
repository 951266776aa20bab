"""The explorer's web pages: search, blocks, transactions, addresses, broadcast."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext

from ..ledger.address import address_from_script, script_pubkey
from ..ledger.codec.amounts import format_btc
from ..ledger.live.mempool import BroadcastError, script_type
from .esplora import difficulty
from .models import BadRequest, NotFound, TxView, check_address, check_txid
from .store import BLOCK_TXS_PER_PAGE, ChainStore

bp = Blueprint("web", __name__)

HOME_TXS = 10

# Public labels come from the wallet kinds that services run; the badge says which kind.
SERVICE_KINDS = {
    "hot": "exchange",
    "deposit": "exchange",
    "escrow": "market",
    "mining": "mining pool",
    "mixer": "mixer",
    "mixer-deposit": "mixer",
    "donation": "donations",
}
# What a badge's kind reads as on the page (the kind itself stays the badge's CSS class).
KIND_NAMES = {
    "exchange": lazy_gettext("exchange"),
    "market": lazy_gettext("market"),
    "mining pool": lazy_gettext("mining pool"),
    "mixer": lazy_gettext("mixer"),
    "donations": lazy_gettext("donations"),
    "service": lazy_gettext("service"),
}


def store() -> ChainStore:
    """The app's chain store."""
    return current_app.extensions["explorer"].store


@bp.app_template_filter("btc")
def btc(sats: int) -> str:
    """Satoshis as BTC with eight decimals, thousands grouped (as block explorers show them)."""
    return format_btc(sats, thousands=True)


@bp.app_template_filter("utc")
def utc(timestamp: int | None) -> str:
    """A Unix time as UTC date and time."""
    if timestamp is None:
        return ""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@bp.app_template_filter("short")
def short(text: str, keep: int = 10) -> str:
    """A long hash cut in the middle."""
    return text if len(text) <= 2 * keep + 1 else f"{text[:keep]}…{text[-keep:]}"


@bp.app_context_processor
def _context() -> dict:
    """What every page shows: the tip and the badge wording."""
    height, _ = store().tip()
    return {"tip_height": height, "service_kinds": SERVICE_KINDS, "kind_names": KIND_NAMES}


def _io_addresses(view: TxView) -> list[str]:
    """Every address a transaction pays from or to."""
    out = [p.address for p in view.prevouts if p is not None and p.address]
    out += [a for _, script in view.outputs if (a := address_from_script(script))]
    return out


def _summary(view: TxView, outputs: list | None = None) -> dict:
    """What a transaction row in a list shows."""
    outputs = view.outputs if outputs is None else outputs
    return {
        "view": view,
        "value_out": sum(value for value, _ in outputs),
        "inputs": len(view.prevouts),
        "outputs": len(outputs),
    }


@bp.get("/")
def home():
    """Search box, latest blocks and latest transactions."""
    s = store()
    blocks = s.blocks_from()
    recent = s.mempool_views(HOME_TXS)
    for b in blocks:
        need = HOME_TXS - len(recent)
        if need <= 0:
            break
        recent += s.block_txs(b, max(0, b.tx_count - need), need)[::-1]
    return render_template(
        "explorer/home.html", blocks=blocks, txs=[_summary(v) for v in recent[:HOME_TXS]]
    )


@bp.get("/search")
def search():
    """Go to the address, transaction or block the query names."""
    q = request.args.get("q", "").strip()
    s = store()
    if q.isdigit() and q.isascii():
        try:
            return redirect(url_for("web.block", block_hash=s.block_at(int(q)).hash))
        except NotFound:
            pass
    elif len(q) == 64:
        try:
            txid = check_txid(q)
        except BadRequest:
            txid = None
        if txid and s.find_tx(txid):
            return redirect(url_for("web.tx", txid=txid))
        if txid:
            try:
                return redirect(url_for("web.block", block_hash=s.block(txid).hash))
            except NotFound:
                pass
    elif q:
        try:
            return redirect(url_for("web.address", address=check_address(q)))
        except BadRequest:
            pass
    return render_template("explorer/search.html", q=q), 404


@bp.get("/tx/<txid>")
def tx(txid: str):
    """One transaction: inputs with their previous outputs, outputs with their spends."""
    s = store()
    try:
        view = s.tx(check_txid(txid))
    except (BadRequest, NotFound):
        abort(404)
    tip, _ = s.tip()
    spends = s.outspends(view.txid)
    outputs = []
    for n, o in enumerate(view.tx.outputs):
        outputs.append(
            {
                "n": n,
                "value": o.value,
                "address": address_from_script(o.script_pubkey),
                "type": script_type(o.script_pubkey),
                "spend": spends[n] if n < len(spends) else None,
            }
        )
    inputs = [{"txin": txin, "prevout": view.prevouts[i]} for i, txin in enumerate(view.tx.inputs)]
    return render_template(
        "explorer/tx.html",
        v=view,
        inputs=inputs,
        outputs=outputs,
        labels=s.labels(_io_addresses(view)),
        confirmations=0 if view.height is None else tip - view.height + 1,
        value_in=sum(p.value for p in view.prevouts if p is not None),
        value_out=sum(o.value for o in view.tx.outputs),
    )


@bp.get("/address/<address>")
def address(address: str):
    """An address: balance, totals, label and its transactions, newest first."""
    s = store()
    try:
        address = check_address(address)
    except BadRequest:
        abort(404)
    after = request.args.get("after")
    try:
        after = check_txid(after) if after else None
    except BadRequest:
        abort(404)
    chain, mempool = s.address_stats(address)
    pending = [] if after else s.address_mempool(address)
    confirmed = s.address_chain(address, after)
    rows = []
    mine = script_pubkey(address)
    for view in pending + confirmed:
        outputs = view.outputs
        received = sum(value for value, script in outputs if script == mine)
        sent = sum(p.value for p in view.prevouts if p is not None and p.address == address)
        row = _summary(view, outputs)
        rows.append({**row, "received": received, "sent": sent, "net": received - sent})
    label = s.labels([address]).get(address)
    return render_template(
        "explorer/address.html",
        address=address,
        label=label,
        chain=chain,
        mempool=mempool,
        balance=chain.funded_txo_sum - chain.spent_txo_sum,
        pending_balance=mempool.funded_txo_sum - mempool.spent_txo_sum,
        rows=rows,
        after=after,
        older=confirmed[-1].txid if len(confirmed) == 25 else None,
    )


@bp.get("/block/<block_hash>")
def block(block_hash: str):
    """A block's header fields and its transactions, 25 a page."""
    s = store()
    try:
        b = s.block(check_txid(block_hash))
    except (BadRequest, NotFound):
        abort(404)
    start_arg = request.args.get("start", "0")
    start = int(start_arg) if start_arg.isdigit() and start_arg.isascii() else 0
    start -= start % BLOCK_TXS_PER_PAGE
    size, weight = s.block_size(b)
    tip, _ = s.tip()
    txs = [_summary(v) for v in s.block_txs(b, start)] if start < b.tx_count else []
    return render_template(
        "explorer/block.html",
        b=b,
        size=size,
        weight=weight,
        difficulty=difficulty(b.bits),
        median_time=s.median_time(b),
        next_hash=s.next_hash(b),
        confirmations=tip - b.height + 1,
        txs=txs,
        start=start,
        page=BLOCK_TXS_PER_PAGE,
    )


@bp.get("/block-height/<int:height>")
def block_height(height: int):
    """The block at a height."""
    try:
        return redirect(url_for("web.block", block_hash=store().block_at(height).hash))
    except NotFound:
        abort(404)


@bp.get("/blocks")
def blocks():
    """Blocks, ten a page, newest first."""
    start = request.args.get("start", "")
    height = int(start) if start.isdigit() and start.isascii() else None
    try:
        rows = store().blocks_from(height)
    except NotFound:
        abort(404)
    return render_template("explorer/blocks.html", blocks=rows)


@bp.get("/mempool")
def mempool():
    """Unconfirmed transactions, newest first."""
    views = store().mempool_views(100)
    return render_template("explorer/mempool.html", txs=[_summary(v) for v in views])


@bp.route("/broadcast", methods=["GET", "POST"])
def broadcast():
    """A form that submits a signed transaction (to /api/tx, or here without JavaScript)."""
    result = error = None
    raw = ""
    if request.method == "POST":
        raw = request.form.get("tx", "")
        try:
            result = current_app.extensions["explorer"].live.broadcast(raw)
        except BroadcastError as e:
            error = e.rpc_text()
    return render_template(
        "explorer/broadcast.html", result=result, error=error, raw=raw
    ), 400 if error else 200
