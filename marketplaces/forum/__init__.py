"""A Dread-like forum: boards, threads, posts, user profiles; trainees can post and reply."""

from __future__ import annotations

from ..common.app import make_app
from ..common.state import StateStore
from ..common.world import Site, World
from . import boards, threads, users


def create_app(world: World, site: Site, state: StateStore, *, secret_key: str | None = None):
    """The Flask app of one forum."""
    app = make_app(world, site, state, secret_key=secret_key, auth_pages=True)
    app.config["HOME_ENDPOINT"] = "boards.index"
    for blueprint in (boards.bp, threads.bp, users.bp):
        app.register_blueprint(blueprint)
    return app
