"""The Flask app factory of an exchange's website and law-enforcement portal."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask

from ..ledger.codec.amounts import format_btc
from ..tron.live.chain import TronReader
from .access import csrf_token, current_requester
from .clock import utc
from .le_app import MAX_BODY, portal_app
from .policy import ASKS, FIELDS, LEGAL_BASES
from .portal import Portal
from .text import MATCHES, REASONS, STATUS, SUBSCRIBER_FIELDS

__all__ = ["MAX_BODY", "create_app"]

SECRET_FILE = "exchanges.secret"


def create_app(
    world_path: str | Path,
    site_id: str,
    state_dir: str | Path,
    tron_live: TronReader | None = None,
    *,
    started: float | None = None,
) -> Flask:
    """The website of the exchange site_id of a world; requests are logged in state_dir.

    tron_live: the running Tron chain, for payments made during the class: the node's
    TronLive in its own process, a TronReplica in another (it can also be handed over
    later: `app.extensions["exchange_portal"].tron_live`). Any number of processes may
    serve the same exchange over one state_dir: everything they share is kept there.

    started: the unix time the sandbox started serving, when the world's time begins at
    its end; give every process the same, so their clocks agree (None: when this app was
    made, so a process made later, or made again, dates its requests earlier).
    """
    portal = Portal(world_path, site_id, state_dir, tron_live, started)
    app = portal_app(__name__, portal, Path(state_dir) / SECRET_FILE, "exchanges")

    from .officers import bp as officers_bp
    from .public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(officers_bp)
    app.add_template_filter(utc, "utc")
    app.add_template_filter(format_btc, "btc")

    @app.context_processor
    def exchange_globals():
        """The exchange and the labels every page uses."""
        return {
            "exchange": portal.exchange,
            "brand_hue": _hue(site_id),
            "world_now": portal.clock.now(),
            "ASKS": ASKS,
            "FIELDS": FIELDS,
            "LEGAL_BASES": LEGAL_BASES,
            "MATCHES": MATCHES,
            "REASONS": REASONS,
            "STATUS": STATUS,
            "SUBSCRIBER_FIELDS": SUBSCRIBER_FIELDS,
            "requester": current_requester(),
            "csrf_token": csrf_token,
        }

    return app


def _hue(exchange_id: str) -> int:
    """A stable brand hue per exchange, so two exchanges never look alike."""
    return 190 + hashlib.sha256(exchange_id.encode()).digest()[0] % 80
