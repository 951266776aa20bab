"""A darknet market (AlphaBay/Dream-like): catalogue, listings, vendors, escrow orders, messages."""

from __future__ import annotations

from flask import Flask

from ..common.app import make_app
from ..common.state import StateStore
from ..common.world import Site, World
from . import catalog, listings, messages, orders, vendors


def create_app(world: World, site: Site, state: StateStore, *, secret_key: str | None = None):
    """The Flask app of one market site."""
    app: Flask = make_app(
        world, site, state, secret_key=secret_key, auth_pages=True, photo_pages=True
    )
    app.config["HOME_ENDPOINT"] = "catalog.home"
    app.extensions["catalog"] = catalog.Catalog(world.listings.category_counts(site.id))
    for blueprint in (catalog.bp, listings.bp, vendors.bp, orders.bp, messages.bp):
        app.register_blueprint(blueprint)
    app.context_processor(lambda: {"xmr_per_btc": world.xmr_per_btc})
    return app
