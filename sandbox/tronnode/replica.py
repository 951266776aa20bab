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

import http.client
import json
import threading
from urllib.parse import urlsplit

from flask import Flask, Request, Response, request

from ..tron.live.chain import TronNotReady, TronReplica

__all__ = ["READ_ENDPOINTS", "Leader", "serve_reads_here"]

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
# What a client's request carries that the answer may depend on.
_PASSED_HEADERS = ("Host", "Content-Type", "Accept", "Accept-Encoding", "User-Agent")


class Leader:
    """The node's own process, reached over HTTP on loopback: a keep-alive connection per
    worker thread."""

    def __init__(self, url: str):
        """url: http://127.0.0.1:PORT/ of the node's own process."""
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"the node's own process: expected http://HOST:PORT/, got {url!r}")
        self.host, self.port = parts.hostname, parts.port
        self._local = threading.local()

    def forward(self, incoming: Request) -> Response:
        """The node's own answer to the request; 503 when it cannot be reached."""
        path = incoming.full_path if incoming.query_string else incoming.path
        body = incoming.get_data()
        headers = {h: incoming.headers[h] for h in _PASSED_HEADERS if h in incoming.headers}
        while True:
            conn = getattr(self._local, "conn", None)
            reused = conn is not None
            if conn is None:
                conn = self._local.conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=60
                )
            try:
                conn.request(incoming.method, path, body=body or None, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if reused:  # a kept-alive connection the node closed meanwhile: a new one
                    continue
                return _unavailable("the node's own process does not answer; ask again soon")
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() == "content-type"]
            return Response(data, status=answer.status, headers=kept)


def serve_reads_here(app: Flask, chain: TronReplica, leader: Leader) -> None:
    """Make app, the node's blueprints over a TronReplica, answer READ_ENDPOINTS itself
    and pass every other request to leader."""

    @app.before_request
    def _route():
        """Catch up with tron.db, then answer here or pass on."""
        if request.endpoint not in READ_ENDPOINTS:
            return leader.forward(request)
        try:
            chain.refresh()
        except TronNotReady as e:
            return _unavailable(str(e))
        return None


def _unavailable(why: str) -> Response:
    """503 in java-tron's error shape."""
    body = json.dumps({"Error": why}, separators=(",", ":")) + "\n"
    return Response(body, status=503, mimetype="application/json")
