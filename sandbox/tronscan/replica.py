"""The explorer as the worker processes serve it: the stored chain read here, the rest passed on.

A worker answers the pages and API calls that need only the stored chain (transactions,
blocks, TRC-20 transfers, search) from world.db and tron.db, which the node's own process
keeps writing; `TronReplica.refresh` catches up with it before each request. Whatever
needs the account state that process keeps in memory (balances, resources, the USDT
contract's holders and blacklist: the address, token and start pages, /api/account), and
any other path, is passed to the explorer's app in that process unchanged and its answer
returned as it is. A view not named in READ_ENDPOINTS is passed on until someone adds it.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import lazy_gettext as _l

from ..leader import Leader, catch_up_first, pass_on_unless
from ..tron.live.chain import TronNotReady, TronReplica

__all__ = ["READ_ENDPOINTS", "serve_reads_here"]

# Files of the package, the language switcher's redirect: nothing of the chain, served
# before tron.db is ready too (the 503 page's stylesheet).
_FILES = frozenset(("static", "i18n.static", "i18n.switch"))

# Views that read only TronReader's methods (blocks, transactions, logs, transfers, the
# head) and the world's labels; /api/transaction by address counts transactions from the
# stored chain too (TronscanReader.tx_counts). Every page shows the head block, so even
# the favicon's 404 page needs the replica caught up.
READ_ENDPOINTS = _FILES | frozenset(
    (
        "web.favicon",
        "web.search",
        "web.transaction",
        "web.block",
        "api.trc20_transfers",
        "api.transaction_info",
        "api.transaction",
    )
)

# In the reader's language, as every page of the explorer (the leader's own reason is
# English, and says no more than NOT_ANSWERING).
NOT_READY = _l("the Tron node is starting; ask again in a moment")
NOT_ANSWERING = _l("the Tron explorer's own process does not answer; ask again soon")
TITLE = _l("Service unavailable")


def serve_reads_here(app: Flask, chain: TronReplica, leader: Leader) -> None:
    """Make app, the explorer's blueprints over a TronReplica, answer READ_ENDPOINTS itself
    (caught up with tron.db first) and pass every other request to leader."""
    pass_on_unless(
        app, leader, lambda r: r.endpoint in READ_ENDPOINTS, lambda _why: unavailable(NOT_ANSWERING)
    )
    catch_up_first(
        app, chain.refresh, TronNotReady, unavailable, message=NOT_READY, needs_none=_FILES
    )


def unavailable(why: str) -> Response:
    """503 in the explorer's shapes: {"message", "code"} under /api, the error page
    otherwise."""
    why = str(why)  # a lazy text is translated here, in the request's language
    if request.path == "/api" or request.path.startswith("/api/"):
        response = jsonify({"message": why, "code": 503})
    else:
        response = Response(render_template("tronscan/error.html", title=TITLE, message=why))
    response.status_code = 503
    response.headers["Retry-After"] = "1"
    return response
