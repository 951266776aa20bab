"""An Ahmia-like search engine over the sandbox's own hidden services."""

from __future__ import annotations

from ..common.app import make_app
from ..common.state import StateStore
from ..common.world import Site, World
from . import engine
from .index import SearchIndex


def create_app(world: World, site: Site, state: StateStore, *, secret_key: str | None = None):
    """The Flask app of one search engine; its index is built in memory at startup."""
    app = make_app(world, site, state, secret_key=secret_key)
    app.config["HOME_ENDPOINT"] = "engine.index"
    app.extensions["index"] = SearchIndex.build(world, site)
    app.register_blueprint(engine.bp)
    return app
