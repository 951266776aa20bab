"""A donation campaign: cause, progress, donation address, the operator's PGP key, an FAQ."""

from __future__ import annotations

from ..common.app import make_app
from ..common.state import StateStore
from ..common.world import Site, World
from . import campaign


def create_app(world: World, site: Site, state: StateStore, *, secret_key: str | None = None):
    """The Flask app of one donation site."""
    app = make_app(world, site, state, secret_key=secret_key)
    app.config["HOME_ENDPOINT"] = "campaign.index"
    app.register_blueprint(campaign.bp)
    return app
