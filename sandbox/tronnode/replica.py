"""The node as its worker processes serve it: reads from tron.db, the rest passed on.

A worker answers the reads that need only the stored chain (blocks, transactions and
their receipts, TronGrid's transaction and TRC-20 pages, events) from world.db and
tron.db, which the node's own process keeps writing; `TronReplica.refresh` catches up with
it before each request. Whatever needs the account state that process executes
transactions against (accounts, contract calls, building and broadcasting transactions,
the node's info), and any other path, is passed to that process unchanged and its answer
returned as it is.
"""

from __future__ import annotations

import json

from flask import Flask, Response

from ..leader import Leader, catch_up_first, pass_on_unless
from ..tron.live.chain import TronNotReady, TronReplica

__all__ = ["READ_ENDPOINTS", "serve_reads_here"]

_WALLET_READS = (
    "getnowblock",
    "getblockbynum",
    "getblockbyid",
    "getblockbylimitnext",
    "gettransactionbyid",
    "gettransactioninfobyid",
)
READ_ENDPOINTS = frozenset(
    [f"wallet.{kind}_{name}" for name in _WALLET_READS for kind in ("wallet", "solid")]
    + [f"grid.{name}" for name in ("transactions", "trc20", "contract_events")]
    + ["grid.transaction_events"]
)


def serve_reads_here(app: Flask, chain: TronReplica, leader: Leader) -> None:
    """Make app, the node's blueprints over a TronReplica, answer READ_ENDPOINTS itself
    (caught up with tron.db first) and pass every other request to leader."""
    pass_on_unless(app, leader, lambda r: r.endpoint in READ_ENDPOINTS, _unavailable)
    catch_up_first(app, chain.refresh, TronNotReady, _unavailable)


def _unavailable(why: str) -> Response:
    """503 in java-tron's error shape."""
    body = json.dumps({"Error": why}, separators=(",", ":")) + "\n"
    return Response(body, status=503, mimetype="application/json")
