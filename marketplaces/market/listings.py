"""Listing pages: product, price in BTC (and XMR), vendor, shipping, photos and feedback."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

bp = Blueprint("listings", __name__)


def load_listing(listing_id: int) -> tuple[dict, dict]:
    """A listing of this site and its vendor account, or 404."""
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    listing = world.listings.get(site.id, listing_id)
    if listing is None:
        abort(404)
    vendor = world.accounts.get(site.id, listing["account_id"])
    if vendor is None:
        abort(404)
    return listing, vendor


@bp.route("/listing/<int:listing_id>")
def listing(listing_id: int):
    """One listing."""
    world = current_app.extensions["world"]
    item, vendor = load_listing(listing_id)
    feedback = world.feedback.of_listing(listing_id)
    ratings = [f["rating"] for f in feedback]
    return render_template(
        "market/listing.html",
        listing=item,
        vendor=vendor,
        photos=world.photos.of_listing(listing_id),
        feedback=feedback,
        average=sum(ratings) / len(ratings) if ratings else None,
        catalog=current_app.extensions.get("catalog"),
    )
