"""Escrow orders: a fresh deposit address for every order, kept in the state file."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from ..common.addresses import fresh_address
from ..common.auth import login_required
from ..common.helpers import clean_text, form_int
from .listings import load_listing

bp = Blueprint("orders", __name__)

MAX_QUANTITY = 20
ESCROW_HOURS = 24


def escrow_address(number: int) -> str:
    """The deposit address of order number: derived from the site's escrow wallet."""
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    wallet = world.wallets.of_site(site.id, "escrow")
    wallet_id = wallet["id"] if wallet else 0
    return fresh_address(world.seed, wallet_id, f"escrow/{site.id}", number)


def max_quantity(listing: dict) -> int:
    """How many units one order may take."""
    return max(1, min(MAX_QUANTITY, listing["stock"]))


@bp.route("/listing/<int:listing_id>/order", methods=["GET", "POST"])
@login_required
def order_form(listing_id: int):
    """The checkout form; posting it opens the order and shows its deposit address."""
    listing, vendor = load_listing(listing_id)
    physical = listing["ships_from"] is not None
    if request.method == "GET":
        return render_template(
            "market/order_form.html",
            listing=listing,
            vendor=vendor,
            physical=physical,
            max_quantity=max_quantity(listing),
        )
    quantity = form_int("quantity", 1, max_quantity(listing))
    shipping = clean_text(
        request.form.get("shipping"),
        "Shipping information",
        max_len=8000,
        min_len=1 if physical else 0,
    )
    site = current_app.extensions["site"]
    state = current_app.extensions["state"]
    xmr = listing["price_xmr"] if "XMR" in site.currencies else None
    order = state.create_order(
        site.id,
        escrow_address,
        current_app.extensions["clock"](),
        user_id=g.user["id"],
        sid=None,
        listing_id=listing["id"],
        quantity=quantity,
        total_btc=round(listing["price_btc"] * quantity, 8),
        total_xmr=round(xmr * quantity, 4) if xmr is not None else None,
        shipping=shipping,
    )
    return redirect(url_for("orders.order", number=order["number"]))


@bp.route("/orders")
@login_required
def order_list():
    """The trainee's orders."""
    site = current_app.extensions["site"]
    world = current_app.extensions["world"]
    rows = current_app.extensions["state"].orders_of(site.id, user_id=g.user["id"])
    titles = {}
    for row in rows:
        listing = world.listings.get(site.id, row["listing_id"])
        titles[row["listing_id"]] = listing["title"] if listing else "(removed)"
    return render_template("market/orders.html", orders=rows, titles=titles)


@bp.route("/orders/<int:number>")
@login_required
def order(number: int):
    """One of the trainee's orders with its escrow deposit address."""
    site = current_app.extensions["site"]
    order = current_app.extensions["state"].order(site.id, number)
    if order is None or order["user_id"] != g.user["id"]:
        abort(404)
    listing, vendor = load_listing(order["listing_id"])
    return render_template(
        "market/order.html",
        order=order,
        listing=listing,
        vendor=vendor,
        expires=order["created"] + ESCROW_HOURS * 3600,
    )
