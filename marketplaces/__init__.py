"""The hidden services: one Flask app factory per site kind.

`create_site_app(world_path, site_id, state_path)` reads the site's kind from the world
and calls `marketplaces.<kind>.create_app(world, site, state)`. The engine calls it once
per site and serves each app on its own port behind the gateway.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from flask import Flask

from sandbox.errors import WorldError

from .common.state import StateStore
from .common.world import Site, World

__all__ = ["KINDS", "create_site_app"]

KINDS = ("market", "shop", "forum", "donation", "wiki", "search", "social", "paste", "swap")


def create_site_app(
    world_path: str | Path | World,
    site_id: str,
    state_path: str | Path | StateStore,
    *,
    secret_key: str | None = None,
) -> Flask:
    """The Flask app of one site of a world; trainees' actions go to the state file.

    world_path and state_path may also be an already open World or StateStore, so an engine
    serving many sites can share them. secret_key signs cookies; without it a random key is
    kept per site in the state file, so sessions survive restarts.
    """
    world = world_path if isinstance(world_path, World) else World(world_path)
    site: Site | None = world.sites.get(site_id)
    if site is None:
        raise WorldError(f"{world.path}: no site {site_id!r}")
    if site.kind not in KINDS:
        raise WorldError(f"{world.path}: site {site_id!r} has unknown kind {site.kind!r}")
    state = state_path if isinstance(state_path, StateStore) else StateStore(state_path)
    module = importlib.import_module(f"{__name__}.{site.kind}")
    return module.create_app(world, site, state, secret_key=secret_key)
