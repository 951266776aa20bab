"""The block explorer: an Esplora-compatible REST API under /api and a web UI.

    app = create_app("world.db", "state/")   # serve with any WSGI server
    reads = create_replica_app("world.db", "state/", "http://127.0.0.1:PORT/")

Data comes from the world (read-only) and the live chain in `<state_dir>/chain.db`:
transactions broadcast with POST /api/tx and the blocks mined while the sandbox runs.
The replica app serves the same from worker processes: it answers GET and HEAD from the
files create_app's process writes, and passes the rest (broadcasts) to that process at PORT.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Request, render_template, request

from .. import i18n
from ..leader import Leader, catch_up_first, pass_on_unless
from ..ledger.live.chain import LiveChain, LiveChainNotReady, LiveChainView, LiveMiner
from ..world.store import scenario_locale
from . import api, web
from .store import ChainStore
from .witnesses import WitnessReader, WitnessStore

PACKAGE = Path(__file__).resolve().parent

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@dataclass
class Explorer:
    """What the app's requests share: the chain store, the live chain and its miner (a
    LiveChainView and no miner in a worker process)."""

    store: ChainStore
    live: LiveChainView
    miner: LiveMiner | None
    witnesses: WitnessStore | WitnessReader

    def close(self) -> None:
        """Stop the background threads and close the databases."""
        if self.miner is not None:
            self.miner.stop()
        self.witnesses.close()
        self.live.close()


PACE_VARIABLE = "SANDBOX_LIVE_BLOCK_SECONDS"


def pace_from_environment() -> int | None:
    """SANDBOX_LIVE_BLOCK_SECONDS, the pace that overrides the world's (None when unset)."""
    text = os.environ.get(PACE_VARIABLE, "").strip()
    if not text:
        return None
    if not text.isdigit() or not text.isascii():
        raise ValueError(f"{PACE_VARIABLE} must be a whole number of seconds >= 0, got {text!r}")
    return int(text)


def create_app(
    world_path: str | Path,
    state_dir: str | Path,
    *,
    live_block_seconds: int | None = None,
    warm_witnesses: bool = True,
) -> Flask:
    """The explorer app for a world; live blocks every live_block_seconds (if None:
    SANDBOX_LIVE_BLOCK_SECONDS when set, else the world's knob)."""
    # 0 seconds: a block right after each accepted broadcast, so nobody waits.
    # warm_witnesses: sign the world's many-input transactions in the background.
    if live_block_seconds is None:
        live_block_seconds = pace_from_environment()  # checked before anything is opened
    if live_block_seconds is not None and int(live_block_seconds) < 0:
        raise ValueError(f"live_block_seconds must be >= 0, got {live_block_seconds}")
    live = LiveChain(world_path, state_dir)
    witnesses = WitnessStore(state_dir, world_path, live.digest)
    if warm_witnesses:
        witnesses.start()
    seconds = live.block_seconds if live_block_seconds is None else int(live_block_seconds)
    live.block_seconds = seconds  # the pace in force, the world's or the one asked for
    live.mine_on_broadcast = seconds == 0
    miner = LiveMiner(live, seconds).start() if seconds > 0 else None
    store = ChainStore(world_path, live, witnesses)
    return _app(Explorer(store, live, miner, witnesses), world_path)


def create_replica_app(world_path: str | Path, state_dir: str | Path, leader: str) -> Flask:
    """The explorer's app for a worker process: GET and HEAD answered from the files
    create_app's process writes, every other request (a broadcast) passed to that process
    at leader (http://HOST:PORT/)."""
    live = LiveChainView(world_path, state_dir)
    witnesses = WitnessReader(state_dir, live.digest)
    app = _app(Explorer(ChainStore(world_path, live, witnesses), live, None, witnesses), world_path)
    pass_on_unless(app, Leader(leader, "the explorer"), _is_read, _unavailable)
    catch_up_first(app, live.refresh, LiveChainNotReady, _unavailable)
    return app


def _is_read(incoming: Request) -> bool:
    """Whether a worker answers the request itself: every page and API call that only reads."""
    return incoming.method in ("GET", "HEAD")


def _app(explorer: Explorer, world_path: str | Path) -> Flask:
    """The explorer's Flask app over explorer's store."""
    app = Flask(
        __name__,
        template_folder=str(PACKAGE / "templates"),
        static_folder=str(PACKAGE / "static"),
        static_url_path="/static",
    )
    app.config["MAX_CONTENT_LENGTH"] = 2_000_000  # a standard tx is < 400 kWU: 800 kB of hex
    app.json.sort_keys = False  # type: ignore[attr-defined]  # Flask's default provider has it
    app.extensions["explorer"] = explorer
    i18n.init_app(app, scenario_locale=scenario_locale(world_path))
    app.register_blueprint(api.bp)
    app.register_blueprint(web.bp)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(405, _method_not_allowed)
    app.register_error_handler(500, _internal_error)

    @app.after_request
    def _headers(response):
        """No third-party anything: pages may load only what this server serves."""
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return app


def _is_api() -> bool:
    """Whether the request is for the REST API (plain-text errors) rather than a page."""
    return request.path == "/api" or request.path.startswith("/api/")


def _not_found(e):
    """404: Esplora's text for the API, a page for people."""
    if _is_api():
        path = request.path[len("/api") :] or "/"
        return api.text_response(f"endpoint does not exist {json.dumps(path)}", 404)
    return render_template("explorer/404.html"), 404


def _method_not_allowed(e):
    """405 in the API's plain text, or the 404 page for people."""
    if _is_api():
        return api.text_response("Invalid method", 405)
    return render_template("explorer/404.html"), 404


def _internal_error(e):
    """500: plain text for the API, as electrs answers a failed handler."""
    if _is_api():
        return api.text_response("Internal server error", 500)
    return "Internal server error", 500


def _unavailable(why: str):
    """503 while the explorer's own process starts or restarts: plain text, as electrs
    answers, for the API and for people alike."""
    return api.text_response(why, 503)
