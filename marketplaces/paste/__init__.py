"""A clearnet paste site (.test): pastes, their authors, raw views and search."""

from __future__ import annotations

from ..common.app import make_app
from ..common.state import StateStore
from ..common.world import Site, World
from . import pastes


def create_app(world: World, site: Site, state: StateStore, *, secret_key: str | None = None):
    """The Flask app of one paste site."""
    app = make_app(world, site, state, secret_key=secret_key)
    app.config["HOME_ENDPOINT"] = "pastes.index"
    app.register_blueprint(pastes.bp)
    return app
