"""The part of every site's Flask app that does not depend on its kind."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from flask import Flask, current_app, g, render_template, request, session
from markupsafe import Markup
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import IntegerConverter

from sandbox.world.clock import WorldClock

from . import auth, branding, captcha, files, helpers, leaks, photos
from .queue import queue_gate
from .sessions import StateSessionInterface, check_csrf, csrf_token
from .state import StateStore
from .world import Site, World, site_url

PACKAGE = Path(__file__).resolve().parents[1]
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


class BoundedInt(IntegerConverter):
    """Flask's int converter, capped so an absurd id is a 404 rather than an SQLite overflow."""

    def __init__(self, url_map, *args, **kwargs):
        """Default to ids of at most 2**53."""
        kwargs.setdefault("max", 2**53)
        super().__init__(url_map, *args, **kwargs)


def make_app(
    world: World,
    site: Site,
    state: StateStore,
    *,
    secret_key: str | None = None,
    auth_pages: bool = False,
    photo_pages: bool = False,
) -> Flask:
    """A Flask app for one site with sessions, CSRF, the queue, errors and the shared blueprints."""
    app = Flask(
        f"marketplaces.{site.kind}",
        root_path=str(PACKAGE),
        template_folder=str(TEMPLATES),
        static_folder=str(STATIC),
        static_url_path="/static",
    )
    app.url_map.converters["int"] = BoundedInt
    app.config.update(
        SECRET_KEY=secret_key or state.site_secret(site.id),
        MAX_CONTENT_LENGTH=256 * 1024,
        MAX_FORM_MEMORY_SIZE=128 * 1024,
        SESSION_COOKIE_NAME="session",
        DDOS_QUEUE_SECONDS=5,
        HOME_ENDPOINT="static",  # each kind names its front page
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    app.session_interface = StateSessionInterface(state, site.id)
    clock = WorldClock.of_site(world.blocks.tip()["time"], world.end, state.first_seen(site.id))
    app.extensions.update(
        world=world,
        site=site,
        state=state,
        files=files.SiteFiles(world, site),
        clock=clock.now,
        hosts={s.address for s in world.sites.all()},
    )
    state.purge_sessions(site.id)

    app.before_request(_notice_gate(state, site.id))
    app.before_request(queue_gate)
    app.before_request(check_csrf)
    app.before_request(auth.load_user)
    app.after_request(_headers)
    app.teardown_appcontext(lambda _error: (world.db.release(), state.release()))
    app.context_processor(_context)
    _filters(app)
    _errors(app)

    app.register_blueprint(branding.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(leaks.bp)
    app.register_blueprint(captcha.bp)
    if auth_pages:
        app.register_blueprint(auth.bp)
    if photo_pages:
        app.register_blueprint(photos.bp)
    if site.has_mistake("open_directory"):
        leaks.warm_sizes(world, site)
    return app


NOTICE_SECONDS = 1.0  # how long a site's notice (or its absence) is trusted before re-reading


def _notice_gate(state: StateStore, site_id: str):
    """A before_request hook: while an inject's exit scam holds the site, every page is its 503.

    The flag lives in the state file (set by the instructor's process); it is re-read at
    most once a second, so an ordinary request costs no query.
    """
    cached: list = [float("-inf"), None]  # [monotonic time read, notice]

    def gate():
        """Serve the notice page instead of the site (its stylesheet and logo still load)."""
        now = time.monotonic()
        if now - cached[0] >= NOTICE_SECONDS:
            cached[1] = state.notice(site_id)
            cached[0] = now
        notice = cached[1]
        if notice is None or request.endpoint in ("static", "branding.logo", "branding.favicon"):
            return None
        body = render_template("exit_scam.html", notice=notice)
        response = current_app.response_class(body, status=503, mimetype="text/html")
        response.headers["Retry-After"] = "86400"
        return response

    return gate


def _headers(response):
    """After each request: no referrers, no outside loads, the server banner the site shows."""
    site = current_app.extensions["site"]
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    careless = site.has_mistake("server_status") or site.has_mistake("open_directory")
    response.headers["Server"] = site.server or (leaks.APACHE if careless else "nginx")
    return response


def analytics_snippet(analytics_id: str | None) -> Markup:
    """The inline analytics tag of a careless operator: an id and calls that go nowhere."""
    if not analytics_id:
        return Markup("")
    # The id comes from the world (UA-digits-1), never from a visitor; escape it all the same.
    safe = str(Markup.escape(analytics_id))
    return Markup(
        "<!-- Global site tag (gtag.js) - Google Analytics -->\n"
        "<script>\n"
        "  window.dataLayer = window.dataLayer || [];\n"
        "  function gtag(){dataLayer.push(arguments);}\n"
        "  gtag('js', new Date());\n"
        f"  gtag('config', '{safe}');\n"
        "</script>\n"
    )


def _context() -> dict:
    """Values every template sees."""
    site: Site = current_app.extensions["site"]
    flash = session.pop("flash", None) if "flash" in session else None
    return {
        "site": site,
        "user": g.get("user"),
        "accent": branding.accent(site),
        "analytics": analytics_snippet(site.analytics_id),
        "now": current_app.extensions["clock"](),
        "flash": flash,
        "kind": site.kind,
    }


def _filters(app: Flask) -> None:
    """Register the template filters."""
    clock = app.extensions["clock"]
    app.jinja_env.filters.update(
        date=helpers.fmt_date,
        datetime=helpers.fmt_datetime,
        ago=lambda ts: helpers.fmt_ago(ts, clock()),
        btc=helpers.fmt_btc,
        xmr=helpers.fmt_xmr,
        stars=helpers.stars,
        level=helpers.vendor_level,
        linkify=helpers.make_linkify(app.extensions["hosts"]),
        photo_url=photos.photo_url,
        site_url=site_url,
    )
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def _errors(app: Flask) -> None:
    """Styled error pages; a crash is logged and shown as a plain 500, never a traceback."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        """An HTTP error as a page of the site."""
        if error.code is None or error.code < 400:
            return error
        body = render_template("error.html", error=error)
        response = current_app.response_class(body, status=error.code, mimetype="text/html")
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def crash(error: Exception):
        """An unexpected error: log it, answer 500."""
        log.exception("unhandled error on %s %s", request.method, request.path)
        return http_error(InternalServerError())
