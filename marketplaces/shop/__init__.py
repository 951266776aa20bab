"""A single vendor's own shop: their listings, PGP key, an order page with a payment address."""

from __future__ import annotations

from ..common.app import make_app
from ..common.state import StateStore
from ..common.world import Site, World
from . import about, checkout, storefront


def create_app(world: World, site: Site, state: StateStore, *, secret_key: str | None = None):
    """The Flask app of one vendor shop."""
    app = make_app(world, site, state, secret_key=secret_key, photo_pages=True)
    app.config["HOME_ENDPOINT"] = "storefront.home"
    app.extensions["vendor"] = storefront.shop_vendor(world, site)
    for blueprint in (storefront.bp, checkout.bp, about.bp):
        app.register_blueprint(blueprint)
    return app
