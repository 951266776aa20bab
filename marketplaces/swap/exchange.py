"""The swap service's public side: its rates and "no account" orders.

An order names the direction and the payout address on the other chain; the service
answers with an order id and a fresh deposit address of its own on the deposit chain
(BTC: derived from its Bitcoin wallet; Tron: from the world's seed and the order number).
Live orders are recorded in the site's state; the payout watcher (watcher.py) pays each
once its deposit is in a block, and the order's page shows both legs.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from sandbox.ledger.address import is_valid_address
from sandbox.tron import address as tron_address
from sandbox.tron.keys import TronKey, tron_secret

from ..common.addresses import fresh_address
from ..common.sessions import session_id

bp = Blueprint("exchange", __name__)

# direction -> (deposit chain, deposit asset, payout chain, payout asset)
DIRECTIONS = {
    "btc-usdt": ("btc", "BTC", "tron", "USDT"),
    "usdt-btc": ("tron", "USDT", "btc", "BTC"),
}


def rates() -> dict:
    """The current rates: what one unit of each asset buys, the fee taken off."""
    world = current_app.extensions["world"]
    keep = 1 - world.swap_fee
    return {
        "btc_usdt": world.btc_usdt,
        "fee": world.swap_fee,
        "pairs": [
            {"from": "BTC", "to": "USDT", "rate": round(world.btc_usdt * keep, 2)},
            {"from": "USDT", "to": "BTC", "rate": round(keep / world.btc_usdt, 10)},
        ],
    }


def _deposit_address(deposit_chain: str, number: int) -> str:
    """The number-th fresh deposit address of the service on a chain."""
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    if deposit_chain == "tron":
        key = TronKey(tron_secret(world.seed, f"swap-deposit:{site.id}:{number}"))
        return tron_address.to_base58(key.address)
    wallet = world.wallets.personal(site.operator_id) if site.operator_id else None
    wallet_id = wallet["id"] if wallet else 0
    return fresh_address(world.seed, wallet_id, f"swap/{site.id}", number)


def _payout_problem(payout_chain: str, address: str) -> str | None:
    """Why a payout address is not one of its chain, or None when it is."""
    if not address:
        return "Give the address the service pays out to."
    if payout_chain == "tron":
        if address.startswith("T") and len(address) == 34 and tron_address.is_address(address):
            return None
        return f"{address!r} is not a valid Tron address (34 characters starting with T)."
    if is_valid_address(address):
        return None
    return f"{address!r} is not a valid Bitcoin address."


def create_order(direction: str, payout_address: str) -> tuple[dict | None, list[dict]]:
    """A new order (stored), or None and the field errors (nothing stored)."""
    errors = []
    if direction not in DIRECTIONS:
        errors.append({"field": "direction", "message": f"Choose one of: {', '.join(DIRECTIONS)}."})
        return None, errors
    deposit_chain, deposit_asset, payout_chain, payout_asset = DIRECTIONS[direction]
    problem = _payout_problem(payout_chain, payout_address)
    if problem:
        return None, [{"field": "payout_address", "message": problem}]
    if payout_chain == "btc" and payout_address.upper().startswith("BC1"):
        payout_address = payout_address.lower()
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    order = current_app.extensions["state"].create_swap_order(
        site.id,
        lambda number: _deposit_address(deposit_chain, number),
        current_app.extensions["clock"](),
        sid=session_id(),
        deposit_chain=deposit_chain,
        deposit_asset=deposit_asset,
        payout_chain=payout_chain,
        payout_asset=payout_asset,
        payout_address=payout_address,
        rate=world.btc_usdt,
        fee=world.swap_fee,
    )
    return order, []


def _amount(asset: str, units: int | None) -> float | None:
    """Units (satoshis, USDT's 6 decimals) in the asset; None when nothing moved yet."""
    if units is None:
        return None
    return round(units / (100_000_000 if asset == "BTC" else 1_000_000), 8)


def order_json(order: dict) -> dict:
    """An order as the API shows it to its customer."""
    return {
        "order_id": order["order_id"],
        "created": order["created"],
        "status": order.get("status") or "awaiting deposit",
        "deposit": {
            "chain": order["deposit_chain"],
            "asset": order["deposit_asset"],
            "address": order["deposit_address"],
            "txid": order.get("deposit_txid"),
            "amount": _amount(order["deposit_asset"], order.get("deposit_amount")),
        },
        "payout": {
            "chain": order["payout_chain"],
            "asset": order["payout_asset"],
            "address": order["payout_address"],
            "txid": order.get("payout_txid"),
            "amount": _amount(order["payout_asset"], order.get("payout_amount")),
            "paid": order.get("paid"),
        },
        "rate": order["rate"],
        "fee": order["fee"],
        "links": {"self": url_for("exchange.show_order", order_id=order["order_id"])},
    }


@bp.route("/")
def index():
    """The rate page with the order form."""
    return render_template("swap/index.html", rates=rates(), errors=[], form={})


@bp.get("/api/rates")
def api_rates():
    """The rates as JSON."""
    return jsonify(rates())


@bp.post("/order")
def order_form():
    """Make an order from the form: to its page, or the form again with the errors (400)."""
    form = {k: request.form.get(k, "").strip() for k in ("direction", "payout_address")}
    order, errors = create_order(form["direction"], form["payout_address"])
    if order is None:
        page = render_template("swap/index.html", rates=rates(), errors=errors, form=form)
        return page, 400
    return redirect(url_for("exchange.show_order", order_id=order["order_id"]))


@bp.post("/api/orders")
def api_create_order():
    """Make an order from JSON {direction, payout_address}: 201, or 400 with field errors."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        error = {"field": "body", "message": "Send a JSON object: {direction, payout_address}."}
        return jsonify({"errors": [error]}), 400
    direction = data.get("direction")
    payout = data.get("payout_address")
    order, errors = create_order(
        direction.strip() if isinstance(direction, str) else "",
        payout.strip() if isinstance(payout, str) else "",
    )
    if order is None:
        return jsonify({"errors": errors}), 400
    body = order_json(order)
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = body["links"]["self"]
    return response


@bp.get("/order/<order_id>")
def show_order(order_id: str):
    """An order's page (anyone with its id may see it, as on real instant swaps)."""
    site = current_app.extensions["site"]
    order = current_app.extensions["state"].swap_order(site.id, order_id)
    if order is None:
        abort(404)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(order_json(order))
    return render_template("swap/order.html", order=order_json(order))
