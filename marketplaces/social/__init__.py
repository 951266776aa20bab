"""A clearnet social network (.test): profiles and posts, where suspects overshare, and the
channels a scenario writes."""

from __future__ import annotations

from ..common.app import make_app
from ..common.state import StateStore
from ..common.world import Site, World
from . import channels, profiles, timeline


def create_app(world: World, site: Site, state: StateStore, *, secret_key: str | None = None):
    """The Flask app of one social network."""
    app = make_app(world, site, state, secret_key=secret_key)
    app.config["HOME_ENDPOINT"] = "timeline.index"
    app.register_blueprint(timeline.bp)
    app.register_blueprint(profiles.bp)
    app.register_blueprint(channels.bp)
    return app
