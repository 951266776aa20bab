"""The explorer as its worker processes serve it (create_replica_app): before its own
process has made chain.db, over a chain.db another world left, when that process cannot
be reached, and following the blocks it mines."""

from __future__ import annotations

import contextlib
import sqlite3
import threading

import pytest

from sandbox.explorer import create_app, create_replica_app
from sandbox.ledger.live.chain import SCHEMA
from sandbox.portal_server import PortalServer
from tests.ports import free_port


@contextlib.contextmanager
def explorer_process(world, state):
    """The explorer's own app (no scheduled blocks) on a free loopback port: (URL, app)."""
    app = create_app(world, state, live_block_seconds=3600, warm_witnesses=False)
    server = PortalServer("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", app
    finally:
        server.shutdown()
        thread.join(timeout=5)
        app.extensions["explorer"].close()


def test_before_its_process_has_started_reads_and_broadcasts_are_503(tiny_world, tmp_path):
    """No chain.db yet and nobody to pass a broadcast to: one clear plain-text 503 each;
    nothing is created in the state folder."""
    state = tmp_path / "state"
    state.mkdir()
    client = create_replica_app(tiny_world, state, f"http://127.0.0.1:{free_port()}/")
    client = client.test_client()
    read = client.get("/api/blocks/tip/height")
    assert read.status_code == 503 and read.mimetype == "text/plain"
    assert read.text == f"{state / 'chain.db'}: the explorer is starting; ask again soon"
    page = client.get("/")
    assert page.status_code == 503 and "the explorer is starting" in page.text
    sent = client.post("/api/tx", data="00")
    assert sent.status_code == 503
    assert sent.text == "the explorer's own process does not answer; ask again soon"
    assert list(state.iterdir()) == []


def test_a_chain_db_of_another_world_is_not_read(tiny_world, tmp_path):
    """A chain.db a previous world left is set aside by the explorer's own process when it
    starts; until then a worker does not serve from it."""
    state = tmp_path / "state"
    state.mkdir()
    with sqlite3.connect(state / "chain.db") as old:
        old.executescript(SCHEMA)
        old.execute("INSERT INTO meta VALUES ('world_digest', 'another world')")
    old.close()
    replica = create_replica_app(tiny_world, state, f"http://127.0.0.1:{free_port()}/")
    assert replica.test_client().get("/api/blocks/tip/height").status_code == 503
    with explorer_process(tiny_world, state):
        tip = replica.test_client().get("/api/blocks/tip/height")
        assert tip.status_code == 200
    assert any(p.name.startswith("chain-another worl-") for p in state.iterdir())


def test_once_its_process_runs_the_same_replica_follows_its_blocks(tiny_world, tmp_path):
    """A replica made before the explorer's own process started serves once it runs, and
    its tip is the block that process mined last."""
    state = tmp_path / "state"
    state.mkdir()
    replica = create_replica_app(tiny_world, state, f"http://127.0.0.1:{free_port()}/")
    client = replica.test_client()
    with explorer_process(tiny_world, state) as (_url, app):
        live = app.extensions["explorer"].live
        before = int(client.get("/api/blocks/tip/height").text)
        assert before == live.current_tip()[0]
        mined = live.mine_block()
        assert client.get("/api/blocks/tip/hash").text == mined
        assert int(client.get("/api/blocks/tip/height").text) == before + 1
        assert client.get(f"/api/block/{mined}").get_json()["height"] == before + 1


def test_an_explorer_url_that_is_not_http_host_port_is_refused(tiny_world, tmp_path):
    """The supervisor's configuration naming the explorer wrongly: a ValueError saying so."""
    with pytest.raises(ValueError, match="the explorer's own process: expected http://HOST"):
        create_replica_app(tiny_world, tmp_path, "explorer:3000")
