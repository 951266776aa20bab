"""The Flask app factory of the issuer's website and law-enforcement portal."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Request, Response
from flask_babel import lazy_gettext as _l

from ..exchanges.access import csrf_token, current_requester
from ..exchanges.clock import utc
from ..exchanges.le_app import MAX_BODY, add_labels, portal_app
from ..leader import Leader, pass_on_unless
from ..tron.live.chain import TronLive
from .policy import ASKS, FIELDS, LEGAL_BASES
from .portal import Portal

EXCHANGES_STATIC = Path(__file__).resolve().parent.parent / "exchanges" / "static"

__all__ = ["MAX_BODY", "create_app", "create_replica_app"]

SECRET_FILE = "issuer.secret"


def usdt(amount: int | None) -> str:
    """A USDT amount (6 decimals) as "1,234.500000 USDT"."""
    if amount is None:
        return ""
    return f"{amount // 10**6:,}.{amount % 10**6:06d} USDT"


# The issuer's own form labels and asks (policy.py), in the page's language.
LABELS = {
    "Subject (Tron address)": _l("Subject (Tron address)"),
    "Action requested": _l("Action requested"),
    "Law-enforcement wallet (Tron address, for a reissue)": _l(
        "Law-enforcement wallet (Tron address, for a reissue)"
    ),
    "Do not notify the address holder": _l("Do not notify the address holder"),
    "Freeze (blacklist) the address": _l("Freeze (blacklist) the address"),
    "Unfreeze an address you had frozen": _l("Unfreeze an address you had frozen"),
    "Destroy the frozen USDT and reissue it to a law-enforcement wallet": _l(
        "Destroy the frozen USDT and reissue it to a law-enforcement wallet"
    ),
    "Blacklist status and USDT balance": _l("Blacklist status and USDT balance"),
}


def create_app(
    world_path: str | Path, state_dir: str | Path, tron_live: TronLive | None = None
) -> Flask:
    """The issuer's website for a world; requests are kept in state_dir.

    tron_live: the running Tron chain (it can be handed over later:
    `app.extensions["issuer_portal"].tron_live`). The worker that carries out delayed
    actions starts with the app; `app.extensions["issuer_portal"].close()` stops it.
    """
    portal = Portal(world_path, state_dir, tron_live)
    app = _app(portal)
    portal.start()
    return app


def create_replica_app(world_path: str | Path, state_dir: str | Path, leader: str) -> Flask:
    """The issuer's website for a worker process: pages and API reads from issuer.db,
    every request that changes something (a login, a request, a logout) passed to
    create_app's process at leader (http://HOST:PORT/), which acts on the chain and tells
    the classroom."""
    app = _app(Portal(world_path, state_dir))
    pass_on_unless(app, Leader(leader, "the issuer"), _is_read, _unavailable)
    return app


def _is_read(incoming: Request) -> bool:
    """Whether a worker answers the request itself: every page and API call that reads."""
    return incoming.method in ("GET", "HEAD")


def _unavailable(why: str) -> Response:
    """503 while the issuer's own process starts or restarts."""
    return Response(why + "\n", status=503, mimetype="text/plain", headers={"Retry-After": "2"})


def _app(portal: Portal) -> Flask:
    """The issuer's Flask app over portal."""
    # The portal looks like the exchanges' portals: it serves their stylesheet.
    app = portal_app(
        __name__, portal, portal.state_dir / SECRET_FILE, "issuer", static_folder=EXCHANGES_STATIC
    )
    app.extensions["issuer_portal"] = portal
    add_labels(app, LABELS)

    from .officers import bp as officers_bp
    from .public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(officers_bp)
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

    return app
