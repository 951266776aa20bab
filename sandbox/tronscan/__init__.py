"""The Tron explorer: Tronscan-like pages and a JSON API in Tronscan's shapes under /api.

    app = create_app("world.db", "state/")                 # its own view of the chain
    app = create_app("world.db", "state/", chain=node_chain)  # share the node's TronLive
    reads = create_replica_app("world.db", "state/", "http://127.0.0.1:PORT/")

It reads the world's Tron chain and the live one in `<state_dir>/tron.db` through
sandbox.tron.live's TronLive. A running sandbox shares the node's TronLive, so the blocks
and broadcasts the node makes show here at once; served alone it opens its own and makes
no block. The replica app serves the same pages from worker processes (replica.py): the
stored chain from the files, the rest passed to the app at PORT.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _

from .. import i18n
from ..leader import Leader
from ..tron.live.chain import TronLive, TronReplica
from ..world.store import scenario_locale
from . import api, web
from .reader import TronscanReader
from .replica import serve_reads_here

__all__ = ["Tronscan", "create_app", "create_replica_app"]

PACKAGE = Path(__file__).resolve().parent

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@dataclass
class Tronscan:
    """What the app's requests share: the reader and whether the chain is its own."""

    reader: TronscanReader
    owns_chain: bool

    def close(self) -> None:
        """Close the chain's databases if this app opened it (a shared one its owner closes)."""
        if self.owns_chain:
            self.reader.chain.close()


def create_app(
    world_path: str | Path, state_dir: str | Path, *, chain: TronLive | None = None
) -> Flask:
    """The explorer's app for a world; chain: a TronLive to share (the node's)."""
    owns = chain is None
    live = TronLive(world_path, state_dir) if chain is None else chain
    try:
        return _app(world_path, Tronscan(TronscanReader(live), owns))
    except BaseException:
        if owns:
            live.close()
        raise


def create_replica_app(world_path: str | Path, state_dir: str | Path, leader: str) -> Flask:
    """The explorer's app for a worker process: the stored chain read from the files the
    node's process writes, every other request passed to create_app's app at leader
    (http://HOST:PORT/)."""
    where = Leader(leader, "the Tron explorer")
    chain = TronReplica(world_path, state_dir)
    try:
        app = _app(world_path, Tronscan(TronscanReader(chain), owns_chain=True))
    except BaseException:
        chain.close()
        raise
    serve_reads_here(app, chain, where)
    return app


def _app(world_path: str | Path, tronscan: Tronscan) -> Flask:
    """The explorer's Flask app over tronscan's reader."""
    app = Flask(
        __name__,
        template_folder=str(PACKAGE / "templates"),
        static_folder=str(PACKAGE / "static"),
        static_url_path="/static",
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  # Flask's default provider has it
    app.extensions["tronscan"] = tronscan
    i18n.init_app(app, scenario_locale=scenario_locale(world_path))
    app.register_blueprint(api.bp)
    app.register_blueprint(web.bp)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(405, _method_not_allowed)

    @app.after_request
    def _headers(response):
        """No third-party anything: pages may load only what this server serves."""
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return app


def _is_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _not_found(e):
    """404: JSON for the API, a page for people."""
    if _is_api():
        return jsonify({"message": f"no such endpoint: {request.path}", "code": 404}), 404
    message = _("%(path)s: no such page", path=request.path)
    return render_template("tronscan/error.html", title=_("Not found"), message=message), 404


def _method_not_allowed(e):
    """405: the API and the pages only answer GET."""
    if _is_api():
        return jsonify({"message": f"{request.method} is not allowed here", "code": 405}), 405
    asked = f"{request.method} {request.path}"
    message = _("%(request)s: only GET is answered", request=asked)
    return render_template("tronscan/error.html", title=_("Not allowed"), message=message), 405
