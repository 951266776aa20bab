"""The Flask app factory of an exchange's website and law-enforcement portal."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, render_template

from .clock import btc, utc
from .policy import ASKS, FIELDS, LEGAL_BASES
from .portal import Portal
from .text import MATCHES, REASONS, STATUS, SUBSCRIBER_FIELDS

__all__ = ["create_app"]


def create_app(world_path: str | Path, site_id: str, state_dir: str | Path) -> Flask:
    """The website of the exchange site_id of a world; requests are logged in state_dir."""
    portal = Portal(world_path, site_id, state_dir)
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.json.sort_keys = False
    app.extensions["exchange_portal"] = portal

    from .api import bp as api_bp
    from .le import bp as le_bp
    from .public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(le_bp)
    app.register_blueprint(api_bp)
    app.add_template_filter(utc, "utc")
    app.add_template_filter(btc, "btc")

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
        }

    @app.errorhandler(404)
    def not_found(_e):
        """A 404 page in the exchange's look."""
        return render_template("exchanges/error.html", code=404, title="Page not found"), 404

    @app.after_request
    def headers(response):
        """No caching of answers, and no loading of anything from elsewhere."""
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'"
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return app


def _hue(exchange_id: str) -> int:
    """A stable brand hue per exchange, so two exchanges never look alike."""
    return 190 + hashlib.sha256(exchange_id.encode()).digest()[0] % 80
