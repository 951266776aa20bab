"""The Tron node: java-tron's HTTP API (/wallet/*, /walletsolidity/*) and TronGrid (/v1/*).

    app = create_app("world.db", "state/")   # serve with any WSGI server

It reads the world's Tron chain and continues it in `<state_dir>/tron.db` (sandbox.tron.live):
a block every 3 seconds while it runs, broadcast transactions in the next block.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from ..tron.live.chain import TronLive, TronProducer
from . import grid, wallet

__all__ = ["TronNode", "create_app"]


@dataclass
class TronNode:
    """What the app's requests share: the live chain and its block producer."""

    chain: TronLive
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
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 4_000_000  # java-tron's default max message size
    app.json.sort_keys = False  # type: ignore[attr-defined]  # Flask's default provider has it
    app.extensions["tronnode"] = TronNode(chain, producer)
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
