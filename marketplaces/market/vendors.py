"""Vendor profiles: handle, reputation, bio, PGP key, published address and listings."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

bp = Blueprint("vendors", __name__)


@bp.route("/vendor/<handle>")
def vendor(handle: str):
    """A vendor's profile page."""
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    account = world.accounts.by_handle(site.id, handle)
    if account is None or account["role"] != "vendor":
        abort(404)
    return render_template(
        "market/vendor.html",
        vendor=account,
        key=world.keys.get(account["pgp_fingerprint"]),
        address=world.wallets.address(account["btc_address_id"]),
        listings=world.listings.of_account(account["id"]),
        feedback=world.feedback.of_vendor(account["id"]),
        summary=world.feedback.summary_of_vendor(account["id"]),
    )
