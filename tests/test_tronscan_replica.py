"""The Tron explorer as its worker processes serve it (tronscan/replica.py): every page and
API kind answered byte for byte as the explorer's own process answers it, the 503s before
the node has started and when that process cannot be reached, a malformed leader URL."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import requests
from werkzeug.exceptions import NotFound

from sandbox.portal_server import PortalServer
from sandbox.tron import abi
from sandbox.tron import address as tron_address
from sandbox.tron.keys import TronKey
from sandbox.tron.usdt import USDT_ADDRESS
from sandbox.tronscan import create_app, create_replica_app
from sandbox.tronscan.replica import READ_ENDPOINTS
from tests.ports import free_port
from tests.test_tronscan import _broadcast, _key_of, hot_wallet, listening, usdt_transfer_tx
from tests.tron_node_world import build_tron_world, world_rows

pytestmark = pytest.mark.slow

# The views that need the account state only the node's own process keeps.
ACCOUNT_STATE = {"web.home", "web.address", "web.token", "api.account", "api.accountv2"}
# Set by each server itself, not by the app.
PER_SERVER = {"Date"}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """tf-donations built once for the module."""
    return build_tron_world(tmp_path_factory.mktemp("tronscan-replica-world"))


@contextlib.contextmanager
def explorer(world: Path, state: Path, port: int = 0):
    """(the explorer's own app, its URL): create_app served on waitress, as `sandbox up`."""
    app = create_app(world, state)
    try:
        with listening(app, PortalServer, port) as url:
            yield app, url
    finally:
        app.extensions["tronscan"].close()


@contextlib.contextmanager
def replica_of(world: Path, state: Path, leader: str):
    """A worker's replica app passing on to leader: (app, its URL)."""
    app = create_replica_app(world, state, leader)
    try:
        with listening(app, PortalServer) as url:
            yield app, url
    finally:
        app.extensions["tronscan"].close()


def _every_kind(world: Path, live_txid: str, live_block: int) -> list[str]:
    """A path of every page and API kind: found, refused (400), missing (404), not allowed."""
    hot = hot_wallet(world)
    txid = usdt_transfer_tx(world)[0]
    (block_id,) = world_rows(world, "SELECT block_id FROM tron_blocks WHERE number = 30")[0]
    (busy,) = world_rows(world, "SELECT block FROM tron_txs ORDER BY id LIMIT 1 OFFSET 100")[0]
    token = f"/token20/{USDT_ADDRESS}"
    return [
        "/favicon.ico",  # first: a page that reads only the head needs the replica caught up
        "/",
        f"/search?q={hot}",
        f"/search?q={txid.upper()}",
        f"/search?q={live_txid}",
        f"/search?q={block_id}",
        "/search?q=30",
        "/search?q=99999999",
        "/search?q=hello",
        f"/address/{hot}",
        f"/address/{hot}?direction=in&from=2020-01-01&start=20",
        "/address/nobody",
        f"/transaction/{txid}",
        f"/transaction/{live_txid}",
        "/transaction/" + "0" * 64,
        "/transaction/xyz",
        f"/block/{busy}",
        "/block/2",
        f"/block/{live_block}",
        "/block/99999999",
        "/block/abc",
        token,
        f"{token}?tab=holders&start=20",
        f"{token}?tab=nothing",
        "/token20/TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW",
        "/static/tronscan.css",
        "/_i18n/static/i18n.css",
        "/_i18n/lang/fr?next=/block/2",
        "/no-such-page",
        f"/api/transaction-info?hash={txid}",
        f"/api/transaction-info?hash={live_txid}",
        "/api/transaction-info?hash=12ab",
        "/api/transaction-info?hash=" + "0" * 64,
        f"/api/transaction?hash={txid}",
        f"/api/transaction?address={hot}&start=3&limit=7",
        "/api/transaction",
        f"/api/token_trc20/transfers?relatedAddress={hot}&direction=out&limit=50",
        f"/api/token_trc20/transfers?contract_address={USDT_ADDRESS}&start=10",
        "/api/token_trc20/transfers?limit=ten",
        f"/api/account?address={hot}",
        "/api/account?address=nobody",
        f"/api/accountv2?address={hot}",
        "/api/nothing-here",
    ]


def _answer(url: str, path: str, method: str = "GET") -> tuple[int, list, bytes]:
    """(status, headers but those each server sets, body) of one request, not followed."""
    r = requests.request(method, url + path, allow_redirects=False, timeout=60)
    headers = sorted((k, v) for k, v in r.headers.items() if k not in PER_SERVER)
    return r.status_code, headers, r.content


def _view(adapter, path: str) -> str | None:
    """The view a GET of path reaches, None when none does."""
    try:
        return adapter.match(path.split("?")[0])[0]
    except NotFound:
        return None


def test_every_page_and_api_kind_is_answered_byte_for_byte_as_the_explorers_own(world, tmp_path):
    """World and live transactions, a block made since the replica started, every error:
    the same status, headers and bytes through the replica as from the explorer itself;
    every view of the app is among the paths asked."""
    state = tmp_path / "state"
    with explorer(world, state) as (app, own), replica_of(world, state, own + "/") as (rep, url):
        chain = app.extensions["tronscan"].reader.chain
        hot = hot_wallet(world)
        newcomer = tron_address.to_base58(TronKey(bytes(range(1, 33))).address)
        assert _answer(url, "/block/2")[0] == 200  # the replica caught up before the block
        live = _broadcast(
            chain, _key_of(world, hot),
            abi.call_data("transfer(address,uint256)", [newcomer, 7_000_000]),
        )  # fmt: skip
        number = chain.produce()
        paths = _every_kind(world, live, number)
        adapter = rep.url_map.bind("tronscan.test")
        asked = set()
        for path in paths:
            asked.add(_view(adapter, path))
            mine, theirs = _answer(url, path), _answer(own, path)
            assert mine == theirs, path
        asked.discard(None)
        assert asked == set(rep.view_functions)
        for method in ("POST", "PUT", "DELETE"):
            for path in ("/block/2", "/api/account", "/nowhere"):
                assert _answer(url, path, method) == _answer(own, path, method)
        assert _answer(url, "/block/2", "POST")[0] == 405
        # a transaction broadcast now is listed by the replica at once, still pending
        pending = _broadcast(
            chain, _key_of(world, hot),
            abi.call_data("transfer(address,uint256)", [newcomer, 8_000_000]),
        )  # fmt: skip
        path = f"/api/transaction-info?hash={pending}"
        mine = _answer(url, path)
        assert mine == _answer(own, path) and b'"block":0' in mine[2]


def test_only_views_of_the_stored_chain_are_answered_by_the_replica(world, tmp_path):
    """READ_ENDPOINTS names views the app has; those that need the account state are not
    among them."""
    app = create_replica_app(world, tmp_path, f"http://127.0.0.1:{free_port()}/")
    try:
        assert set(app.view_functions) >= READ_ENDPOINTS
        assert not READ_ENDPOINTS & ACCOUNT_STATE
        assert set(app.view_functions) >= ACCOUNT_STATE
    finally:
        app.extensions["tronscan"].close()


def test_before_the_node_has_started_each_request_is_a_503_naming_why(world, tmp_path):
    """No tron.db yet and no explorer process to pass to: a 503 in the explorer's shapes,
    JSON under /api and the error page otherwise, saying which; the stylesheet is still
    served, nothing is created in the state folder; once the explorer's process runs, the
    same replica answers."""
    state = tmp_path / "state"
    state.mkdir()
    hot = hot_wallet(world)
    txid = usdt_transfer_tx(world)[0]
    port = free_port()
    with replica_of(world, state, f"http://127.0.0.1:{port}/") as (_rep, url):
        read = requests.get(f"{url}/api/transaction-info", params={"hash": txid}, timeout=30)
        assert read.status_code == 503
        assert read.json() == {"message": "the Tron node is starting; ask again in a moment",
                               "code": 503}  # fmt: skip
        page = requests.get(f"{url}/block/30", timeout=30)
        assert page.status_code == 503 and "text/html" in page.headers["Content-Type"]
        assert "the Tron node is starting" in page.text and "<h1>" in page.text
        passed = requests.get(f"{url}/api/account", params={"address": hot}, timeout=30)
        assert passed.status_code == 503 and passed.json()["code"] == 503
        assert "the Tron explorer's own process does not answer" in passed.json()["message"]
        page = requests.get(f"{url}/address/{hot}", timeout=30)
        assert page.status_code == 503 and "text/html" in page.headers["Content-Type"]
        assert "the Tron explorer&#39;s own process does not answer" in page.text
        assert requests.get(f"{url}/static/tronscan.css", timeout=30).status_code == 200
        assert list(state.iterdir()) == []
        # the explorer's process starts where the replica looks for it: the replica serves
        with explorer(world, state, port):
            assert requests.get(f"{url}/block/30", timeout=30).status_code == 200
            passed = requests.get(f"{url}/api/account", params={"address": hot}, timeout=30)
            assert passed.status_code == 200 and passed.json()["address"] == hot


def test_the_503s_are_in_the_readers_language(world, tmp_path):
    """A reader who chose Russian reads why the explorer does not answer in Russian, as
    every page of the explorer: before the node starts, and when its own process is down."""
    state = tmp_path / "state"
    state.mkdir()
    port = free_port()
    with replica_of(world, state, f"http://127.0.0.1:{port}/") as (_rep, url):
        s = requests.Session()
        s.cookies.set("lang", "ru")
        read = s.get(f"{url}/api/transaction-info", params={"hash": "00" * 32}, timeout=30)
        assert read.status_code == 503
        assert (
            read.json()["message"]
            == "узел Tron запускается; повторите запрос через несколько секунд"
        )
        page = s.get(f"{url}/block/30", timeout=30)
        assert page.status_code == 503 and "Сервис недоступен" in page.text
        assert "starting" not in page.text
        hot = hot_wallet(world)
        passed = s.get(f"{url}/api/account", params={"address": hot}, timeout=30)
        assert passed.json()["message"].startswith("основной процесс обозревателя Tron не отвечает")


def test_when_the_explorers_process_is_gone_reads_answer_and_the_rest_are_503(world, tmp_path):
    """The stored chain is still read by the replica; what needs the account state, and an
    unknown path, is a 503 naming the process that does not answer."""
    state = tmp_path / "state"
    hot = hot_wallet(world)
    txid = usdt_transfer_tx(world)[0]
    port = free_port()
    app = create_app(world, state)  # opens tron.db, then serves nothing
    try:
        with replica_of(world, state, f"http://127.0.0.1:{port}/") as (_rep, url):
            assert requests.get(f"{url}/block/30", timeout=30).status_code == 200
            info = requests.get(f"{url}/api/transaction-info", params={"hash": txid}, timeout=30)
            assert info.status_code == 200 and info.json()["hash"] == txid
            for path in (f"/api/account?address={hot}", "/api/nothing-here"):
                answer = requests.get(url + path, timeout=30)
                assert answer.status_code == 503, path
                assert answer.headers["Content-Type"] == "application/json"
                assert "the Tron explorer's own process does not answer" in answer.json()["message"]
            for path in ("/", f"/address/{hot}", "/no-such-page"):
                answer = requests.get(url + path, timeout=30)
                assert answer.status_code == 503 and "does not answer" in answer.text, path
    finally:
        app.extensions["tronscan"].close()


def test_a_leader_url_that_is_not_http_host_port_is_refused(world, tmp_path):
    """The supervisor's configuration naming the explorer's process wrongly: a ValueError
    saying so, before any file is opened."""
    with pytest.raises(
        ValueError,
        match="the Tron explorer's own process: expected http://HOST:PORT/, got 'tronscan:3001'",
    ):
        create_replica_app(world, tmp_path / "state", "tronscan:3001")
    assert not (tmp_path / "state").exists()
