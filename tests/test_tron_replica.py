"""The node's reads as its worker processes serve them (tronnode/replica.py): before the
node's own process has opened tron.db, and when that process cannot be reached."""

from __future__ import annotations

import pytest

from sandbox.tronnode import create_replica_app
from tests.ports import free_port

from .tron_node_world import build_tron_world, served_node

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The tf-donations world."""
    return build_tron_world(tmp_path_factory.mktemp("replica"))


def test_before_the_node_has_started_reads_and_the_rest_are_503(world, tmp_path):
    """No tron.db yet and no node to pass to: one clear 503 each, java-tron's error shape;
    nothing is created in the state folder."""
    state = tmp_path / "state"
    state.mkdir()
    app = create_replica_app(world, state, f"http://127.0.0.1:{free_port()}/")
    client = app.test_client()
    read = client.post("/wallet/getnowblock")
    assert read.status_code == 503 and "the node is starting" in read.get_json()["Error"]
    assert str(state / "tron.db") in read.get_json()["Error"]
    passed = client.post("/wallet/getaccount", json={"address": "T" + "1" * 33})
    assert passed.status_code == 503
    assert "the Tron node's own process does not answer" in passed.get_json()["Error"]
    assert list(state.iterdir()) == []


def test_once_the_node_runs_the_same_replica_answers(world, tmp_path):
    """A replica made before the node's own process started serves once it runs: the
    head it reads is the node's, and what it passes on comes back as the node said it."""
    state = tmp_path / "state"
    with served_node(world, state) as (url, chain):
        replica = create_replica_app(world, state, url).test_client()
        block = replica.post("/wallet/getnowblock").get_json()
        assert block["block_header"]["raw_data"]["number"] == chain.head()[0]
        number = chain.produce()
        again = replica.post("/wallet/getnowblock").get_json()
        assert again["block_header"]["raw_data"]["number"] == number
        info = replica.get("/wallet/getnodeinfo")
        assert info.status_code == 200 and info.get_json()["block"].startswith(f"Num:{number},")


def test_a_node_url_that_is_not_http_host_port_is_refused(world, tmp_path):
    """The supervisor's configuration naming the node wrongly: a ValueError saying so."""
    with pytest.raises(
        ValueError, match="the Tron node's own process: expected http://HOST:PORT/, got 'node:8090'"
    ):
        create_replica_app(world, tmp_path, "node:8090")
