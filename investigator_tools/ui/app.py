"""The workspace's Flask app: the token check, the security headers, the case per request.

Only whoever has the token printed by `investigate ui` gets in: the first request carries
it in the URL (`?token=`), the answer sets it as an HttpOnly, SameSite=Strict cookie and
redirects to the same page without it (so it stays out of the history); every request
without the token or the cookie gets 403. Every page has a strict Content-Security-Policy
(scripts and styles only from the app itself, no inline script) and may be framed only by
the app. Changes are JSON POSTs (a cross-site form cannot send them), checked against the
host and origin the app serves on.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, abort, g, jsonify, redirect, render_template, request
from flask_babel import gettext as _

from ..errors import InvestigateError, NetworkError, RemoteError
from . import act, collect, evidence, i18n, money, reports
from .context import Settings, open_case

__all__ = ["COOKIE", "CSP", "create_app"]

COOKIE = "investigate_ui"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; frame-ancestors 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'"
)


def create_app(settings: Settings) -> Flask:
    """The workspace app for one case."""
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = 10 * 1024 * 1024  # a picture of the graph, base64
    i18n.init_app(app, settings.language, settings.system_language)
    app.register_blueprint(collect.bp)
    app.register_blueprint(evidence.bp)
    app.register_blueprint(money.bp)
    app.register_blueprint(act.bp)
    app.register_blueprint(reports.bp)

    @app.before_request
    def check_token():
        """403 without the token; the token in the URL becomes the cookie."""
        g.settings = settings
        given = request.args.get("token")
        if given is not None:
            if not _same(given, settings.token):
                abort(403)
            rest = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
            target = request.path + ("?" + urlencode(rest) if rest else "")
            response = redirect(target, code=303)
            response.set_cookie(COOKIE, settings.token, httponly=True, samesite="Strict", path="/")
            return response
        if not _same(request.cookies.get(COOKIE, ""), settings.token):
            abort(403)
        if request.method not in ("GET", "HEAD"):
            _check_write()
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        """The security headers of every answer (a capture's body sets its own CSP)."""
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        return response

    @app.teardown_request
    def close_case(_exc):
        """Close the request's case file."""
        case = g.pop("case", None)
        if case is not None:
            case.close()

    @app.errorhandler(InvestigateError)
    def toolkit_error(e: InvestigateError):
        """The toolkit's errors as JSON: 400 for bad input, 502 for the network or a service."""
        status = 502 if isinstance(e, NetworkError | RemoteError) else 400
        return jsonify({"error": str(e)}), status

    @app.errorhandler(403)
    def forbidden(_e):
        """No token, no page."""
        return Response(
            _("403 Forbidden: open the URL `investigate ui` printed (it carries the token).")
            + "\n",
            403,
            mimetype="text/plain",
        )

    @app.get("/favicon.ico")
    def favicon():
        """No icon (browsers ask for one)."""
        return Response(status=204)

    @app.get("/")
    def home():
        """The workspace's start page: what is in the case."""
        case = open_case()
        counts = {
            "captures": case.conn.execute("SELECT COUNT(*) FROM captures").fetchone()[0],
            "custody": case.conn.execute("SELECT COUNT(*) FROM custody").fetchone()[0],
        }
        return render_template("home.html", case_path=settings.case_path, counts=counts)

    return app


def _same(given: str, token: str) -> bool:
    """Whether a token matches, in constant time (as bytes: any text may be given)."""
    return secrets.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))


def _check_write() -> None:
    """A change must be a JSON request from the app's own pages (no cross-site forms)."""
    if request.mimetype != "application/json":
        abort(415)
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc != request.host:
        abort(403)
