"""A hidden-wiki link directory: the trainees' entry point to every hidden service."""

from __future__ import annotations

from ..common.app import make_app
from ..common.state import StateStore
from ..common.world import Site, World
from . import directory


def create_app(world: World, site: Site, state: StateStore, *, secret_key: str | None = None):
    """The Flask app of one link directory."""
    app = make_app(world, site, state, secret_key=secret_key)
    app.config["HOME_ENDPOINT"] = "directory.index"
    app.register_blueprint(directory.bp)
    return app
