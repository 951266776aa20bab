"""The shop's about page: the vendor, their terms and their PGP key."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from .storefront import the_vendor

bp = Blueprint("about", __name__)


@bp.route("/about")
def about():
    """Who runs the shop and how to reach them."""
    world = current_app.extensions["world"]
    vendor = the_vendor()
    return render_template(
        "shop/about.html",
        vendor=vendor,
        key=world.keys.get(vendor["pgp_fingerprint"]),
        summary=world.feedback.summary_of_vendor(vendor["id"]),
    )
