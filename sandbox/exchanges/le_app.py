"""What every law-enforcement portal shares (the exchanges' and the USDT issuer's): the app's
settings and session cookie, its error pages and response headers, and the login pages.

A portal app keeps its Portal in `app.extensions["exchange_portal"]` (where
sandbox/exchanges/access.py finds its requesters and sessions, and api.py its requests)
and its templates under `app.config["LE_TEMPLATES"]` (`exchanges`, `issuer`).
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import i18n
from ..keyfile import load_key
from ..world.store import scenario_locale
from .access import check_csrf, current_requester, log_in, log_out

__all__ = ["LABELS", "MAX_BODY", "add_labels", "add_login_routes", "portal_app"]

MAX_BODY = 64 * 1024  # a request is a few hundred bytes; anything near this is not one
# The portals' fixed labels (the form's fields, legal bases and asks, the answers' statuses
# and reasons) in the page's language, keyed by their English text, which the JSON API, the
# PDF letter and the request log keep. A portal adds its own with `add_labels`.
LABELS = {
    "Agency": _l("Agency"),
    "Officer name": _l("Officer name"),
    "Officer email": _l("Officer email"),
    "Case number": _l("Case number"),
    "Legal basis": _l("Legal basis"),
    "Document reference": _l("Document reference"),
    "Subject (Bitcoin or Tron address, or txid)": _l("Subject (Bitcoin or Tron address, or txid)"),
    "Information requested": _l("Information requested"),
    "Details / justification": _l("Details / justification"),
    "Court order / production order": _l("Court order / production order"),
    "Subpoena": _l("Subpoena"),
    "MLAT request": _l("MLAT request"),
    "Emergency disclosure request": _l("Emergency disclosure request"),
    "Informal request without legal process": _l("Informal request without legal process"),
    "Subscriber information (KYC)": _l("Subscriber information (KYC)"),
    "Transaction history": _l("Transaction history"),
    "Login IP history": _l("Login IP history"),
    "Freeze of the account": _l("Freeze of the account"),
    "Answered": _l("Answered"),
    "Partially answered": _l("Partially answered"),
    "Refused": _l("Refused"),
    "Incomplete request": _l("Incomplete request"),
    "Malformed subject": _l("Malformed subject"),
    "No responsive records": _l("No responsive records"),
    "Own operational wallet": _l("Own operational wallet"),
    "Batched withdrawal: name an address": _l("Batched withdrawal: name an address"),
    "Insufficient legal basis": _l("Insufficient legal basis"),
}


def portal_app(
    import_name: str,
    portal,
    secret_file: Path,
    templates: str,
    static_folder: str | Path = "static",
) -> Flask:
    """A Flask app for a portal: its settings, error pages, headers and the JSON API."""
    app = Flask(import_name, static_folder=str(static_folder), template_folder="templates")
    app.json.sort_keys = False  # type: ignore[attr-defined]  # Flask's default provider has it
    app.extensions["exchange_portal"] = portal
    app.secret_key = load_key(secret_file)
    app.config.update(
        LE_TEMPLATES=templates,
        MAX_CONTENT_LENGTH=MAX_BODY,
        MAX_FORM_MEMORY_SIZE=MAX_BODY,
        SESSION_COOKIE_NAME="le_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )

    from .api import bp as api_bp

    app.register_blueprint(api_bp)
    i18n.init_app(app, scenario_locale=scenario_locale(portal.world_path))
    app.config["LE_LABELS"] = dict(LABELS)

    @app.template_filter("label")
    def label(text: str):
        """A fixed label in the page's language (any other text as it is)."""
        return app.config["LE_LABELS"].get(text, text)

    @app.errorhandler(400)
    @app.errorhandler(403)
    @app.errorhandler(404)
    @app.errorhandler(413)
    def error_page(e):
        """An error page in the portal's look; JSON under /api."""
        title = {
            400: _("Bad request"),
            403: _("Forbidden"),
            404: _("Page not found"),
            413: _("Request too large"),
        }[e.code]
        message = e.description if e.code in (400, 403) else ""
        if e.code == 413:
            message = _(
                "A request may be at most %(size)s KiB; nothing was stored.", size=MAX_BODY // 1024
            )
        if request.path.startswith("/api/"):
            return jsonify({"errors": [{"field": "body", "message": message or title}]}), e.code
        page = _render("error.html", code=e.code, title=title, message=message)
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


def add_labels(app: Flask, labels: dict) -> None:
    """Add a portal's own labels (English text -> lazily translated) to its `label` filter."""
    app.config["LE_LABELS"].update(labels)


def _render(name: str, **context) -> str:
    """One of the portal's own templates."""
    return render_template(f"{current_app.config['LE_TEMPLATES']}/{name}", **context)


def _next_path() -> str:
    """Where to go after logging in: a path on this portal, the request log otherwise."""
    target = request.values.get("next", "")
    if target.startswith("/le/") and not target.startswith("//"):
        return target
    return url_for("le.index")


def add_login_routes(bp: Blueprint) -> None:
    """Give a portal's `le` blueprint its login form, login and logout."""

    @bp.get("/login")
    def login_form():
        """The portal's login form."""
        if current_requester() is not None:
            return redirect(_next_path())
        return _render("login.html", next=_next_path(), failed=False)

    @bp.post("/login")
    def login():
        """Check a login and password; a fresh session on success, the form again otherwise."""
        check_csrf()
        found = current_app.extensions["exchange_portal"].access.check_password(
            request.form.get("login", ""), request.form.get("password", "")
        )
        if found is None:
            return _render("login.html", next=_next_path(), failed=True), 401
        log_in(found)
        return redirect(_next_path(), code=303)

    @bp.post("/logout")
    def logout():
        """End the session here and on the server."""
        check_csrf()
        log_out()
        return redirect(url_for("le.login_form"), code=303)
