"""An instant swap service: BTC in, USDT on Tron out, and back, with no account.

Public pages: the rates and "no account" orders (`exchange.py`). Its law-enforcement
portal (`le.py`): a JSON API in the exchanges' shape and a small web form, answering from
the world's swap orders and the orders visitors made on the site.
"""

from __future__ import annotations

from ..common.app import make_app
from ..common.state import StateStore
from ..common.world import Site, World
from . import exchange, le


def create_app(world: World, site: Site, state: StateStore, *, secret_key: str | None = None):
    """The Flask app of one swap site."""
    app = make_app(world, site, state, secret_key=secret_key)
    app.config["HOME_ENDPOINT"] = "exchange.index"
    # Tools call these with a JSON body and no cookie (the LE API with its Bearer token):
    # there is no session to forge a request from, so no CSRF token to check.
    app.config["CSRF_EXEMPT"] = ("exchange.api_create_order", "le.api_create_request")
    app.register_blueprint(exchange.bp)
    app.register_blueprint(le.bp)
    return app
