"""Ordering from the shop: the buyer pays the vendor directly, at the address on the order page."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from ..common import captcha
from ..common.addresses import fresh_address
from ..common.helpers import clean_text, form_int
from ..common.sessions import session_id
from .storefront import load_listing, the_vendor

bp = Blueprint("checkout", __name__)

MAX_QUANTITY = 20


def payment_address(number: int) -> str:
    """Where order number is paid: the vendor's one reused address, or a fresh one per order."""
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    vendor = the_vendor()
    reused = world.wallets.address(vendor["btc_address_id"])
    if reused:
        return reused
    wallet = world.wallets.personal(vendor["actor_id"])
    return fresh_address(world.seed, wallet["id"] if wallet else 0, f"shop/{site.id}", number)


def _form(listing: dict, error: str | None = None, status: int = 200):
    """The order form, with a fresh CAPTCHA when the shop uses one."""
    site = current_app.extensions["site"]
    challenge = captcha.new_challenge() if site.captcha else None
    body = render_template(
        "shop/order_form.html",
        listing=listing,
        vendor=the_vendor(),
        challenge=challenge,
        error=error,
        max_quantity=max(1, min(MAX_QUANTITY, listing["stock"])),
        physical=listing["ships_from"] is not None,
    )
    return body, status


@bp.route("/checkout/<int:listing_id>", methods=["GET", "POST"])
def order_form(listing_id: int):
    """Order a product: quantity, encrypted address, CAPTCHA; then the payment page."""
    listing = load_listing(listing_id)
    if request.method == "GET":
        return _form(listing)
    site = current_app.extensions["site"]
    quantity = form_int("quantity", 1, max(1, min(MAX_QUANTITY, listing["stock"])))
    physical = listing["ships_from"] is not None
    shipping = clean_text(
        request.form.get("shipping"), "Shipping information", max_len=8000, min_len=int(physical)
    )
    if site.captcha and not captcha.check_answer():
        return _form(listing, "Wrong CAPTCHA, try again.", 400)
    order = current_app.extensions["state"].create_order(
        site.id,
        payment_address,
        current_app.extensions["clock"](),
        user_id=None,
        sid=session_id(),
        listing_id=listing["id"],
        quantity=quantity,
        total_btc=round(listing["price_btc"] * quantity, 8),
        total_xmr=None,
        shipping=shipping,
    )
    return redirect(url_for("checkout.order", number=order["number"]))


@bp.route("/order/<int:number>")
def order(number: int):
    """The payment page of an order placed in this browser session."""
    site = current_app.extensions["site"]
    order = current_app.extensions["state"].order(site.id, number)
    if order is None or session.sid is None or order["sid"] != session.sid:
        abort(404)
    return render_template(
        "shop/order.html",
        order=order,
        listing=load_listing(order["listing_id"]),
        vendor=the_vendor(),
    )
