"""The Flask app factory of an exchange's website and law-enforcement portal."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, jsonify, render_template, request

from ..keyfile import load_key
from ..ledger.codec.amounts import format_btc
from ..tron.live.chain import TronLive
from .access import csrf_token, current_requester
from .clock import utc
from .policy import ASKS, FIELDS, LEGAL_BASES
from .portal import Portal
from .text import MATCHES, REASONS, STATUS, SUBSCRIBER_FIELDS

__all__ = ["MAX_BODY", "create_app"]

MAX_BODY = 64 * 1024  # a request is a few hundred bytes; anything near this is not one
SECRET_FILE = "exchanges.secret"


def create_app(
    world_path: str | Path, site_id: str, state_dir: str | Path, tron_live: TronLive | None = None
) -> Flask:
    """The website of the exchange site_id of a world; requests are logged in state_dir.

    tron_live: the running Tron chain, for payments made during the class (it can also be
    handed over later: `app.extensions["exchange_portal"].tron_live`).
    """
    portal = Portal(world_path, site_id, state_dir, tron_live)
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.json.sort_keys = False  # type: ignore[attr-defined]  # Flask's default provider has it
    app.extensions["exchange_portal"] = portal
    app.secret_key = load_key(Path(state_dir) / SECRET_FILE)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY,
        MAX_FORM_MEMORY_SIZE=MAX_BODY,
        SESSION_COOKIE_NAME="le_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )

    from .api import bp as api_bp
    from .officers import bp as officers_bp
    from .public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(officers_bp)
    app.register_blueprint(api_bp)
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

    @app.errorhandler(400)
    @app.errorhandler(403)
    @app.errorhandler(404)
    @app.errorhandler(413)
    def error_page(e):
        """An error page in the exchange's look; JSON under /api."""
        title = {404: "Page not found", 413: "Request too large"}.get(e.code, e.name)
        message = e.description if e.code in (400, 403) else ""
        if e.code == 413:
            message = f"A request may be at most {MAX_BODY // 1024} KiB; nothing was stored."
        if request.path.startswith("/api/"):
            return jsonify({"errors": [{"field": "body", "message": message or title}]}), e.code
        page = render_template("exchanges/error.html", code=e.code, title=title, message=message)
        return page, e.code

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
