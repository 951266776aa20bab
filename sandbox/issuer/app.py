"""The Flask app factory of the issuer's website and law-enforcement portal."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, jsonify, render_template, request

from ..exchanges.access import csrf_token, current_requester
from ..exchanges.clock import utc
from ..keyfile import load_key
from ..tron.live.chain import TronLive
from .policy import ASKS, FIELDS, LEGAL_BASES
from .portal import Portal

EXCHANGES_STATIC = Path(__file__).resolve().parent.parent / "exchanges" / "static"

__all__ = ["MAX_BODY", "create_app"]

MAX_BODY = 64 * 1024  # a request is a few hundred bytes
SECRET_FILE = "issuer.secret"


def usdt(amount: int | None) -> str:
    """A USDT amount (6 decimals) as "1,234.500000 USDT"."""
    if amount is None:
        return ""
    return f"{amount // 10**6:,}.{amount % 10**6:06d} USDT"


def create_app(
    world_path: str | Path, state_dir: str | Path, tron_live: TronLive | None = None
) -> Flask:
    """The issuer's website for a world; requests are kept in state_dir.

    tron_live: the running Tron chain (it can be handed over later:
    `app.extensions["issuer_portal"].tron_live`). The worker that carries out delayed
    actions starts with the app; `app.extensions["issuer_portal"].close()` stops it.
    """
    portal = Portal(world_path, state_dir, tron_live)
    # The portal looks like the exchanges' portals: it serves their stylesheet.
    app = Flask(__name__, static_folder=str(EXCHANGES_STATIC), template_folder="templates")
    app.json.sort_keys = False  # type: ignore[attr-defined]  # Flask's default provider has it
    app.extensions["issuer_portal"] = portal
    # sandbox.exchanges.access finds the requesters and sessions under this name.
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
    app.add_template_filter(usdt, "usdt")

    @app.context_processor
    def issuer_globals():
        """The labels every page uses."""
        return {
            "ASKS": ASKS,
            "FIELDS": FIELDS,
            "LEGAL_BASES": LEGAL_BASES,
            "world_now": portal.clock.now(),
            "requester": current_requester(),
            "csrf_token": csrf_token,
            "delay_minutes": portal.delay / 60,
        }

    @app.errorhandler(400)
    @app.errorhandler(403)
    @app.errorhandler(404)
    @app.errorhandler(413)
    def error_page(e):
        """An error page in the issuer's look; JSON under /api."""
        title = {404: "Page not found", 413: "Request too large"}.get(e.code, e.name)
        message = e.description if e.code in (400, 403) else ""
        if e.code == 413:
            message = f"A request may be at most {MAX_BODY // 1024} KiB; nothing was stored."
        if request.path.startswith("/api/"):
            return jsonify({"errors": [{"field": "body", "message": message or title}]}), e.code
        page = render_template("issuer/error.html", code=e.code, title=title, message=message)
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

    portal.start()
    return app
