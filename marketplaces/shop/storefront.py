"""The shop's front page and listing pages."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from ..common.world import Site, World

bp = Blueprint("storefront", __name__)


def shop_vendor(world: World, site: Site) -> dict | None:
    """The vendor who runs the shop: the operator's account, else the site's first vendor."""
    account = world.accounts.by_actor(site.id, site.operator_id) if site.operator_id else None
    if account is None:
        vendors = world.accounts.of_site(site.id, "vendor")
        account = vendors[0] if vendors else None
    return account


def the_vendor() -> dict:
    """The shop's vendor account, or 404 for a shop without one."""
    vendor = current_app.extensions["vendor"]
    if vendor is None:
        abort(404)
    return vendor


def load_listing(listing_id: int) -> dict:
    """A listing of this shop, or 404."""
    world = current_app.extensions["world"]
    listing = world.listings.get(current_app.extensions["site"].id, listing_id)
    if listing is None:
        abort(404)
    return listing


@bp.route("/")
def home():
    """All the shop's products as cards."""
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    vendor = current_app.extensions["vendor"]
    listings = world.listings.of_account(vendor["id"]) if vendor else []
    listings = [row for row in listings if row["site_id"] == site.id]
    return render_template(
        "shop/home.html",
        vendor=vendor,
        listings=listings,
        thumbs=world.photos.first_of([row["id"] for row in listings]),
        summary=world.feedback.summary_of_vendor(vendor["id"]) if vendor else {},
    )


@bp.route("/listing/<int:listing_id>")
def listing(listing_id: int):
    """One product of the shop."""
    world = current_app.extensions["world"]
    item = load_listing(listing_id)
    return render_template(
        "shop/listing.html",
        listing=item,
        vendor=the_vendor(),
        photos=world.photos.of_listing(listing_id),
        feedback=world.feedback.of_listing(listing_id),
    )
