"""The Tron node: java-tron's HTTP API (/wallet/*, /walletsolidity/*) and TronGrid (/v1/*).

    app = create_app("world.db", "state/")   # serve with any WSGI server
    reads = create_replica_app("world.db", "state/", "http://127.0.0.1:PORT/")

It reads the world's Tron chain and continues it in `<state_dir>/tron.db` (sandbox.tron.live):
a block every 3 seconds while it runs, broadcast transactions in the next block. The
replica app serves the same API from worker processes (replica.py): it answers the reads
from the files and passes the rest to the app at PORT.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from ..leader import Leader
from ..tron.live.chain import TronLive, TronProducer, TronReader, TronReplica
from . import grid, wallet
from .replica import serve_reads_here

__all__ = ["TronNode", "create_app", "create_replica_app"]


@dataclass
class TronNode:
    """What the app's requests share: the chain and its block producer (in the process
    that writes the chain)."""

    chain: TronReader
    producer: TronProducer | None

    def close(self) -> None:
        """Stop producing and close the databases."""
        if self.producer is not None:
            self.producer.stop()
        self.chain.close()


def create_app(world_path: str | Path, state_dir: str | Path, *, produce: bool = True) -> Flask:
    """The node's app for a world; produce=False makes no block on its own (tests call
    chain.produce())."""
    chain = TronLive(world_path, state_dir)
    producer = TronProducer(chain).start() if produce else None
    return _app(TronNode(chain, producer))


def create_replica_app(world_path: str | Path, state_dir: str | Path, leader: str) -> Flask:
    """The node's app for a worker process: reads from the files create_app's process
    writes, every other request passed to that process at leader (http://HOST:PORT/)."""
    chain = TronReplica(world_path, state_dir)
    app = _app(TronNode(chain, None))
    serve_reads_here(app, chain, Leader(leader, "the Tron node"))
    return app


def _app(node: TronNode) -> Flask:
    """The node's Flask app over node's chain."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 4_000_000  # java-tron's default max message size
    app.json.sort_keys = False  # type: ignore[attr-defined]  # Flask's default provider has it
    app.extensions["tronnode"] = node
    app.register_blueprint(wallet.bp)
    app.register_blueprint(grid.bp)

    @app.errorhandler(404)
    def _not_found(e):
        """An unknown path: java-tron's servlet container answers 404 too."""
        return wallet.answer({"Error": "404 Not Found"}), 404

    @app.errorhandler(405)
    def _not_allowed(e):
        """A method the endpoint does not take."""
        return wallet.answer({"Error": "405 Method Not Allowed"}), 405

    return app
