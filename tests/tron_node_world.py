"""A built world with a Tron chain and its node served on a free loopback port, for the
node, TronGrid and tronpy tests (one build per test session)."""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
from pathlib import Path

from sandbox.portal_server import PortalServer
from sandbox.scenario import load_scenario
from sandbox.tronnode import create_app
from sandbox.workers import TRON_NODE, SiteWorkers
from sandbox.world.build import build_world

from .course_secret import SECRET


def build_tron_world(folder: Path) -> Path:
    """tf-donations (USDT donations, exchanges, a blacklist), built into folder."""
    out = folder / "world.db"
    build_world(load_scenario("tf-donations"), out, secret=SECRET)
    return out


@contextlib.contextmanager
def served_node(world: Path, state: Path, *, workers: bool = False):
    """(base URL, the live chain) of a node that makes blocks only when the test asks.

    Served as `sandbox up` serves it: the node's own app on waitress (keep-alive), and with
    workers, the port clients use served by two gunicorn workers that answer the reads
    from the files and pass the rest to it (tronnode.replica).
    """
    app = create_app(world, state, produce=False)
    server = PortalServer("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pool = None
    try:
        url = f"http://127.0.0.1:{server.server_port}/"
        if workers:
            public = socket.create_server(("127.0.0.1", 0))
            port = public.getsockname()[1]
            pool = SiteWorkers(
                world, state, [], workers=2, services={TRON_NODE: (public, url)}
            ).start()
            url = f"http://127.0.0.1:{port}/"
        yield url, app.extensions["tronnode"].chain
    finally:
        if pool is not None:
            pool.stop()
        server.shutdown()
        server.server_close()
        app.extensions["tronnode"].close()


def world_rows(world: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of the world file (tests read keys and expectations straight from it)."""
    conn = sqlite3.connect(world)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
