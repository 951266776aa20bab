"""The Tron explorer (sandbox.tronscan) served on a free loopback port over a built
tf-donations world: Tronscan-shaped API answers compared with recorded real ones, paging
and filters checked against the world file, clear 400/404s, no secret or answer-key fact
on any page, a live broadcast and blacklisting seen at once, its wiring in a running
sandbox (tronscan.test through the proxy), and Chromium screenshots of its pages. The
served tests run against the explorer's app alone and through a worker's replica app."""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from sandbox.portal_server import PortalServer
from sandbox.serve import TRONSCAN_NAME, Sandbox
from sandbox.tron import abi
from sandbox.tron import address as tron_address
from sandbox.tron.keys import TronKey
from sandbox.tron.transaction import build
from sandbox.tron.usdt import USDT_ADDRESS
from sandbox.tronscan import create_app, create_replica_app
from sandbox.wsgi_server import BoundedWSGIServer
from tests.chromium import SHOTS, needs_chromium, start_chromium
from tests.tron_node_world import build_tron_world, world_rows

pytestmark = pytest.mark.slow

# How the served tests reach the explorer: its app alone, and through a worker's replica.
SERVED_AS = ["app", "replica"]

# Recorded real answers of apilist.tronscan.org / apilist.tronscanapi.com (public mainnet
# data), trimmed to one element per list. Shape tests check that every field here is in
# our answer with a value of the same JSON type.

# GET /api/transaction-info?hash=f6301aa7... (a USDT transfer, block 24177454, Oct 2020)
REAL_TX_INFO = json.loads(
    """{
 "block": 24177454,
 "hash": "f6301aa72e56f09b054baf0aa2018d3d213cfce30171fb5bcf37b1493e3b8b28",
 "timestamp": 1602825813000,
 "ownerAddress": "TQQrSXL8WCxeEfkZPHDrG6qX9MistA1XgV",
 "signature_addresses": [],
 "contractType": 31,
 "toAddress": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
 "confirmations": 2083,
 "confirmed": true,
 "revert": false,
 "contractRet": "SUCCESS",
 "contractData": {
  "data": "a9059cbb000000000000000000000041d18423d9ec60237689d557e15fd6ef29f11b9c3300000000000000000000000000000000000000000000000000000000000186a0",
  "owner_address": "TQQrSXL8WCxeEfkZPHDrG6qX9MistA1XgV",
  "contract_address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
 },
 "data": "",
 "cost": {"net_fee": 0, "energy_usage": 0, "energy_fee": 296310,
          "energy_usage_total": 29631, "origin_energy_usage": 0, "net_usage": 346},
 "trigger_info": {
  "method": "transfer(address _to,uint256 _value)",
  "parameter": {"_value": "100000", "_to": "TV52XQKBLG74BmRkaZZGNoTQGJA2VVBt2H"},
  "contract_address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
  "call_value": 0
 },
 "internal_transactions": {},
 "tokenTransferInfo": {
  "icon_url": "https://coin.top/production/logo/usdtlogo.png", "symbol": "USDT",
  "decimals": 6, "name": "Tether USD", "to_address": "TV52XQKBLG74BmRkaZZGNoTQGJA2VVBt2H",
  "contract_address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "type": "Transfer",
  "from_address": "TQQrSXL8WCxeEfkZPHDrG6qX9MistA1XgV", "amount_str": "100000"
 },
 "trc20TransferInfo": [{
  "icon_url": "https://coin.top/production/logo/usdtlogo.png", "symbol": "USDT",
  "decimals": 6, "name": "Tether USD", "to_address": "TV52XQKBLG74BmRkaZZGNoTQGJA2VVBt2H",
  "contract_address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "type": "Transfer",
  "from_address": "TQQrSXL8WCxeEfkZPHDrG6qX9MistA1XgV", "amount_str": "100000"
 }],
 "info": {},
 "contract_map": {"TQQrSXL8WCxeEfkZPHDrG6qX9MistA1XgV": false,
                  "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t": true,
                  "TV52XQKBLG74BmRkaZZGNoTQGJA2VVBt2H": false}
}"""
)

# GET /api/token_trc20/transfers?... (USDT, captured live, block 86056821)
REAL_TRC20_TRANSFERS = json.loads(
    """{
 "total": 10000,
 "rangeTotal": 3646574871,
 "token_transfers": [{
  "transaction_id": "d8851c309181db9a375e8d5ece9ba8f66062b94fc94ac98c9a8526038fb4b0e8",
  "status": 0,
  "block_ts": 1788842253000,
  "from_address": "TXGjMPVrtVUqtfmSZNZyLaH4LU5eS1oEZ1",
  "to_address": "TLaGjwhvA8XQYSxFAcAXy7Dvuue9eGYitv",
  "block": 86056821,
  "contract_address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
  "quant": "411910000",
  "event_type": "Transfer",
  "confirmed": false,
  "contractRet": "SUCCESS",
  "finalResult": "SUCCESS",
  "tokenInfo": {"tokenAbbr": "USDT", "tokenDecimal": 6},
  "revert": false,
  "riskTransaction": false
 }]
}"""
)

# GET /api/accountv2?address=TLPh66vQ2QMb64rG3WEBV5qnAhefh2kcdw (the account detail that
# /api/account also answers): the fields and values recorded as examples of a real answer.
REAL_ACCOUNT = json.loads(
    """{
 "totalFrozenV2": 0, "transactions_out": 1, "frozenForEnergyV2": 0,
 "delegatedFrozenV2BalanceForBandwidth": 0,
 "ownerPermission": {"keys": [{"address": "TLPh66vQ2QMb64rG3WEBV5qnAhefh2kcdw", "weight": 1}],
                     "threshold": 1, "permission_name": "owner"},
 "redTag": "", "balance": 12744104, "frozenForBandWidthV2": 0, "transactions_in": 5,
 "totalTransactionCount": 3, "accountType": 0, "frozen": {"total": 0, "balances": []},
 "transactions": 6, "delegatedFrozenV2BalanceForEnergy": 0, "name": "",
 "acquiredDelegatedFrozenV2BalanceForBandwidth": 0, "greyTag": "", "publicTag": "",
 "withPriceTokens": [{"tokenId": "_", "balance": "12744104", "tokenName": "trx",
   "tokenAbbr": "trx", "tokenDecimal": 6, "tokenCanShow": 1, "tokenType": "trc10",
   "tokenLogo": "https://static.tronscan.org/production/logo/trx.png", "vip": true,
   "amount": "12.744104", "tokenPriceInTrx": 1}],
 "feedbackRisk": false, "latest_operation_time": 1715695737000, "addressTagLogo": "",
 "address": "TLPh66vQ2QMb64rG3WEBV5qnAhefh2kcdw",
 "bandwidth": {"energyRemaining": 0, "totalEnergyLimit": 90000000000,
   "totalEnergyWeight": 7202050690, "netUsed": 0, "storageLimit": 0, "storagePercentage": 0,
   "assets": {}, "netPercentage": 0, "storageUsed": 0, "storageRemaining": 0,
   "freeNetLimit": 600, "energyUsed": 0, "freeNetRemaining": 600, "netLimit": 0,
   "netRemaining": 0, "energyLimit": 0, "freeNetUsed": 0, "totalNetWeight": 38771757741,
   "freeNetPercentage": 0, "energyPercentage": 0, "totalNetLimit": 43200000000},
 "date_created": 1710332382000, "acquiredDelegatedFrozenV2BalanceForEnergy": 0,
 "blueTag": ""
}"""
)


def _kind(value) -> str:
    """A JSON value's type; ints and floats are both numbers, as in JSON."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def assert_shape(real, ours, where: str = "") -> None:
    """Every field of the real answer is in ours with a value of the same JSON type."""
    assert _kind(ours) == _kind(real), f"{where or 'answer'}: {_kind(ours)} != {_kind(real)}"
    if isinstance(real, dict):
        for key, value in real.items():
            if where.endswith("contract_map") or where.endswith("contractMap"):
                continue  # keyed by addresses, not field names
            assert key in ours, f"{where}.{key} missing"
            assert_shape(value, ours[key], f"{where}.{key}")
    elif isinstance(real, list) and real:
        assert ours, f"{where}: empty list, the real answer has elements"
        assert_shape(real[0], ours[0], f"{where}[0]")


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """tf-donations built once for the module."""
    return build_tron_world(tmp_path_factory.mktemp("tronscan-world"))


@contextlib.contextmanager
def listening(app, server=BoundedWSGIServer, port: int = 0):
    """The URL of app served on a loopback port (0: a free one), in a thread, until the
    block ends."""
    srv = server("127.0.0.1", port, app)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        srv.server_close()


def _serve(world: Path, state: Path, served_as: str = "app"):
    """The explorer on a free loopback port with its own chain (no block made on its own).

    served_as "app": its app alone; "replica": the port clients use served by the app of a
    worker process (replica.py) that reads the stored chain and passes the rest to the
    explorer's own app on waitress, as `sandbox up` runs them.
    """
    app = create_app(world, state)
    try:
        with contextlib.ExitStack() as stack:
            own = PortalServer if served_as == "replica" else BoundedWSGIServer
            url = stack.enter_context(listening(app, own))
            if served_as == "replica":
                replica = create_replica_app(world, state, url + "/")
                stack.callback(replica.extensions["tronscan"].close)
                url = stack.enter_context(listening(replica, PortalServer))
            yield SimpleNamespace(
                url=url, chain=app.extensions["tronscan"].reader.chain, world=world
            )
    finally:
        app.extensions["tronscan"].close()


@pytest.fixture(scope="module", params=SERVED_AS)
def served(request, world, tmp_path_factory):
    """The explorer over the world as built (no live transaction)."""
    yield from _serve(world, tmp_path_factory.mktemp("tronscan-state"), request.param)


@pytest.fixture(params=SERVED_AS)
def fresh(request, world, tmp_path):
    """The explorer with a live chain of its own, for a test that broadcasts."""
    yield from _serve(world, tmp_path / "state", request.param)


def get(served, path: str, **params) -> requests.Response:
    return requests.get(served.url + path, params=params, timeout=60)


def hot_wallet(world: Path) -> str:
    """An exchange hot wallet: labelled, busy in USDT."""
    return world_rows(world, "SELECT address FROM tron_accounts WHERE label LIKE '%Hot Wallet'")[0][
        0
    ]


def usdt_transfer_tx(world: Path) -> tuple[str, str, str, int]:
    """(txid, from, to, value) of a world `transfer` call with its Transfer event."""
    return world_rows(
        world,
        "SELECT t.txid, f.from_address, f.to_address, f.value FROM trc20_transfers f "
        "JOIN tron_txs t ON t.id = f.tx_id WHERE t.owner = f.from_address "
        "AND t.type = 'TriggerSmartContract' ORDER BY f.tx_id LIMIT 1 OFFSET 40",
    )[0]


def world_count(world: Path, address: str, where: str = "", params: tuple = ()) -> int:
    """Independent count of an address's TRC-20 transfers in the world file."""
    sql = "SELECT count(*) FROM trc20_transfers WHERE (from_address = ? OR to_address = ?)" + where
    return world_rows(world, sql, (address, address, *params))[0][0]


# -- API shapes ---------------------------------------------------------------------------


def test_transaction_info_has_tronscans_shape_and_the_decoded_call(served):
    txid, frm, to, value = usdt_transfer_tx(served.world)
    answer = get(served, "/api/transaction-info", hash=txid)
    assert answer.status_code == 200
    info = answer.json()
    assert_shape(REAL_TX_INFO, info)
    assert info["hash"] == txid and info["contractType"] == 31
    assert info["toAddress"] == USDT_ADDRESS and info["ownerAddress"] == frm
    assert info["trigger_info"]["methodName"] == "transfer"
    assert info["trigger_info"]["parameter"] == {"_to": to, "_value": str(value)}
    assert info["trc20TransferInfo"][0]["amount_str"] == str(value)
    (row,) = world_rows(
        served.world,
        "SELECT fee, energy_usage_total, net_usage, block FROM tron_txs WHERE txid = ?",
        (txid,),
    )
    assert info["cost"]["fee"] == row[0] and info["cost"]["energy_usage_total"] == row[1]
    assert info["cost"]["net_usage"] == row[2] and info["block"] == row[3]
    # /api/transaction?hash= answers the same transaction
    assert get(served, "/api/transaction", hash=txid).json() == info


def test_trc20_transfers_have_tronscans_shape(served):
    hot = hot_wallet(served.world)
    answer = get(served, "/api/token_trc20/transfers", relatedAddress=hot, limit=5)
    assert answer.status_code == 200
    body = answer.json()
    assert_shape(REAL_TRC20_TRANSFERS, body)
    assert len(body["token_transfers"]) == 5
    assert body["rangeTotal"] == world_count(served.world, hot)
    for t in body["token_transfers"]:
        assert hot in (t["from_address"], t["to_address"])
        assert t["contract_address"] == USDT_ADDRESS


def test_account_has_tronscans_shape_and_the_worlds_balances(served):
    hot = hot_wallet(served.world)
    answer = get(served, "/api/account", address=hot)
    assert answer.status_code == 200
    account = answer.json()
    assert_shape(REAL_ACCOUNT, account)
    (state,) = world_rows(served.world, "SELECT account FROM tron_state WHERE address = ?", (hot,))[
        0
    ]
    assert account["balance"] == json.loads(state)["balance"]
    (contract,) = world_rows(served.world, "SELECT state FROM tron_contracts")[0]
    usdt = json.loads(contract)["balances"][hot]
    assert account["withPriceTokens"][1]["balance"] == str(usdt)
    (label,) = world_rows(
        served.world, "SELECT label FROM tron_accounts WHERE address = ?", (hot,)
    )[0]
    assert account["publicTag"] == label
    assert account["transactions"] == account["transactions_in"] + account["transactions_out"]
    assert (
        account["transactions_out"]
        == world_rows(served.world, "SELECT count(*) FROM tron_txs WHERE owner = ?", (hot,))[0][0]
    )
    assert account["redTag"] == ""


# -- paging and filters ---------------------------------------------------------------------


def test_paging_covers_every_transfer_once_newest_first(served):
    hot = hot_wallet(served.world)
    seen: list[tuple] = []
    start = 0
    while True:
        body = get(
            served, "/api/token_trc20/transfers", relatedAddress=hot, start=start, limit=50
        ).json()
        page = body["token_transfers"]
        if not page:
            break
        seen += [
            (t["transaction_id"], t["from_address"], t["to_address"], t["quant"]) for t in page
        ]
        times = [t["block_ts"] for t in page]
        assert times == sorted(times, reverse=True)
        start += 50
    assert len(seen) == len(set(seen)) == world_count(served.world, hot) == body["rangeTotal"]
    assert len(seen) > 100  # several pages: the test would pass vacuously on one


def test_time_direction_and_counterparty_filters(served):
    hot = hot_wallet(served.world)
    times = sorted(
        r[0]
        for r in world_rows(
            served.world,
            "SELECT timestamp FROM trc20_transfers WHERE from_address = ? OR to_address = ?",
            (hot, hot),
        )
    )
    low, high = times[len(times) // 4], times[len(times) // 2]
    body = get(
        served, "/api/token_trc20/transfers", relatedAddress=hot, start_timestamp=low,
        end_timestamp=high, limit=50,
    ).json()  # fmt: skip
    expected = world_count(served.world, hot, " AND timestamp BETWEEN ? AND ?", (low, high))
    assert body["rangeTotal"] == expected > 0
    assert all(low <= t["block_ts"] <= high for t in body["token_transfers"])
    incoming = get(
        served, "/api/token_trc20/transfers", relatedAddress=hot, direction="in", limit=50
    ).json()
    assert (
        incoming["rangeTotal"]
        == world_rows(
            served.world, "SELECT count(*) FROM trc20_transfers WHERE to_address = ?", (hot,)
        )[0][0]
    )
    assert all(t["to_address"] == hot for t in incoming["token_transfers"])
    other = incoming["token_transfers"][0]["from_address"]
    pair = get(
        served, "/api/token_trc20/transfers", relatedAddress=hot, fromAddress=other, limit=50
    ).json()
    assert (
        pair["rangeTotal"]
        == world_rows(
            served.world,
            "SELECT count(*) FROM trc20_transfers WHERE from_address = ? AND to_address = ?",
            (other, hot),
        )[0][0]
    )
    assert {(t["from_address"], t["to_address"]) for t in pair["token_transfers"]} == {(other, hot)}
    # the address page's counterparty filter shows the same transfers
    page = get(served, f"/address/{hot}", counterparty=other, direction="in")
    assert page.status_code == 200
    assert f"{pair['rangeTotal']} found" in page.text


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "status", "names"),
    [
        ("/api/account", {"address": "T-not-an-address"}, 400, "address"),
        ("/api/account", {}, 400, "address"),
        ("/api/transaction-info", {"hash": "12ab"}, 400, "hash"),
        ("/api/transaction-info", {"hash": "0" * 64}, 404, "hash"),
        ("/api/token_trc20/transfers", {"limit": "ten"}, 400, "limit"),
        ("/api/token_trc20/transfers", {"start": "9990", "limit": "50"}, 400, "start + limit"),
        ("/api/token_trc20/transfers", {"relatedAddress": "nobody"}, 400, "relatedAddress"),
        ("/api/token_trc20/transfers", {"start_timestamp": "yesterday"}, 400, "start_timestamp"),
        ("/api/nothing-here", {}, 404, "/api/nothing-here"),
    ],
)
def test_bad_api_input_gets_a_clear_json_error(served, path, params, status, names):
    answer = get(served, path, **params)
    assert answer.status_code == status
    assert names in answer.json()["message"]


@pytest.mark.parametrize(
    ("path", "params", "status", "names"),
    [
        ("/address/not-an-address", {}, 400, "is not a Tron address"),
        ("/transaction/" + "0" * 64, {}, 404, "not on this chain"),
        ("/transaction/xyz", {}, 400, "transaction hash"),
        ("/block/99999999", {}, 404, "above the head block"),
        ("/block/abc", {}, 400, "is not a block number"),
        ("/search", {"q": "hello world"}, 400, "is not a Tron address"),
        ("/search", {"q": "9" * 64}, 404, "no transaction or block"),
        ("/token20/TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW", {}, 404, "not a TRC-20 token"),
    ],
)
def test_bad_page_input_gets_a_page_that_says_what(served, path, params, status, names):
    answer = get(served, path, **params)
    assert answer.status_code == status
    assert "text/html" in answer.headers["Content-Type"]
    assert names in answer.text


def test_address_page_rejects_bad_filters(served):
    hot = hot_wallet(served.world)
    for params, names in (
        ({"from": "31/02/2026"}, "from: "),
        ({"counterparty": "TXYZ"}, "counterparty: "),
        ({"direction": "sideways"}, "direction: "),
        ({"start": "-5"}, "start: "),
    ):
        answer = get(served, f"/address/{hot}", **params)
        assert answer.status_code == 400 and names in answer.text, params


# -- pages ----------------------------------------------------------------------------------


def test_search_goes_to_the_address_transaction_and_block(served):
    hot = hot_wallet(served.world)
    txid = usdt_transfer_tx(served.world)[0]
    for q, where in (
        (hot, f"/address/{hot}"),
        (txid.upper(), f"/transaction/{txid}"),
        ("30", "/block/30"),
    ):
        answer = requests.get(
            served.url + "/search", params={"q": q}, allow_redirects=False, timeout=30
        )
        assert answer.status_code == 302 and answer.headers["Location"].endswith(where)
    (block_id,) = world_rows(served.world, "SELECT block_id FROM tron_blocks WHERE number = 30")[0]
    answer = requests.get(
        served.url + "/search", params={"q": block_id}, allow_redirects=False, timeout=30
    )
    assert answer.headers["Location"].endswith("/block/30")


def test_address_page_shows_balances_activation_and_label(served):
    hot = hot_wallet(served.world)
    label, funder = world_rows(
        served.world, "SELECT label, activated_by FROM tron_accounts WHERE address = ?", (hot,)
    )[0]
    page = get(served, f"/address/{hot}").text
    assert label in page and "USDT transfers" in page and "Energy" in page and "Bandwidth" in page
    if funder:
        assert f'href="/address/{funder}"' in page
    # an address funded by another: its page links its first funder and the activating tx
    addr, by = world_rows(
        served.world,
        "SELECT address, activated_by FROM tron_accounts WHERE activated_by IS NOT NULL "
        "AND label IS NULL LIMIT 1",
    )[0]
    page = get(served, f"/address/{addr}").text
    assert f'href="/address/{by}"' in page and "Activated by" in page


def test_transaction_page_shows_call_logs_energy_and_fee(served):
    txid, frm, to, value = usdt_transfer_tx(served.world)
    page = get(served, f"/transaction/{txid}").text
    assert "transfer(address _to,uint256 _value)" in page
    assert f"/address/{to}" in page and str(value) in page
    assert "Event logs" in page and "Transfer" in page
    assert "Energy" in page and "Fee burnt" in page


def test_block_and_token_pages(served):
    (number,) = world_rows(
        served.world, "SELECT block FROM tron_txs ORDER BY id LIMIT 1 OFFSET 100"
    )[0]
    txids = [
        r[0]
        for r in world_rows(served.world, "SELECT txid FROM tron_txs WHERE block = ?", (number,))
    ]
    page = get(served, f"/block/{number}").text
    assert all(t[:8] in page for t in txids)
    empty = get(served, "/block/2").text  # no transaction: derived
    assert "An empty block" in empty
    holders = get(served, f"/token20/{USDT_ADDRESS}", tab="holders").text
    (contract,) = world_rows(served.world, "SELECT state FROM tron_contracts")[0]
    richest = max(json.loads(contract)["balances"].items(), key=lambda kv: kv[1])[0]
    assert richest[:8] in holders.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    transfers = get(served, f"/token20/{USDT_ADDRESS}").text
    assert "Older »" in transfers


# -- the class can trust it -----------------------------------------------------------------


def test_no_page_or_answer_shows_a_secret_or_an_answer_key_fact(served):
    secrets = [
        bytes(r[0]).hex() for r in world_rows(served.world, "SELECT secret FROM tron_accounts")
    ]
    secrets += [
        bytes(r[0]).hex() for r in world_rows(served.world, "SELECT secret FROM tron_witnesses")
    ]
    story = world_rows(
        served.world,
        "SELECT t.address, a.name, a.email, a.phone, a.document_number, a.iban, t.purpose "
        "FROM tron_accounts t JOIN actors a ON a.id = t.actor_id "
        "WHERE a.background = 0 AND a.kind = 'person'",
    )
    assert story, "tf-donations has story actors with Tron wallets"
    txid = usdt_transfer_tx(served.world)[0]
    pages = [f"/transaction/{txid}", f"/token20/{USDT_ADDRESS}?tab=holders", "/"]
    for address, *_ in story:
        pages += [f"/address/{address}", f"/api/account?address={address}",
                  f"/api/token_trc20/transfers?relatedAddress={address}&limit=50"]  # fmt: skip
    personal = {v for row in story for v in row[1:6] if v}
    purposes = {row[6] for row in story if row[6] and ":" in row[6]}
    for path in pages:
        text = requests.get(served.url + path, timeout=60).text
        lowered = text.lower()
        assert not [s for s in secrets if s in lowered], path
        assert not [p for p in personal if p in text], path
        assert not [p for p in purposes if p in text], path


# -- live transactions ----------------------------------------------------------------------


def _key_of(world: Path, address: str) -> TronKey:
    (secret,) = world_rows(world, "SELECT secret FROM tron_accounts WHERE address = ?", (address,))[
        0
    ]
    return TronKey(bytes(secret))


def _broadcast(chain, key: TronKey, data: bytes) -> str:
    number, bid, ms = chain.head()
    value = {
        "owner_address": tron_address.to_hex(key.address),
        "contract_address": tron_address.to_hex(USDT_ADDRESS),
        "data": data.hex(),
    }
    tx = build("TriggerSmartContract", value, number, bid, ms, ms + 60_000, 100_000_000)
    return chain.broadcast(tx.sign(key))


def test_a_live_transfer_and_a_blacklisting_show_at_once(fresh):
    served = fresh
    hot = hot_wallet(served.world)
    newcomer = tron_address.to_base58(TronKey(bytes(range(1, 33))).address)
    sent = _broadcast(
        served.chain, _key_of(served.world, hot),
        abi.call_data("transfer(address,uint256)", [newcomer, 1_234_500_000]),
    )  # fmt: skip
    # pending: already listed, not yet in a block
    body = get(served, "/api/token_trc20/transfers", relatedAddress=newcomer).json()
    assert body["rangeTotal"] == 1 and body["token_transfers"][0]["confirmed"] is False
    (treasury,) = world_rows(
        served.world, "SELECT address FROM tron_accounts WHERE wallet = 'treasury'"
    )[0]
    _broadcast(
        served.chain, _key_of(served.world, treasury),
        abi.call_data("addBlackList(address)", [newcomer]),
    )  # fmt: skip
    number = served.chain.produce()
    body = get(served, "/api/token_trc20/transfers", relatedAddress=hot, limit=1).json()
    first = body["token_transfers"][0]
    assert first["transaction_id"] == sent and first["block"] == number
    assert body["rangeTotal"] == world_count(served.world, hot) + 1
    account = get(served, "/api/account", address=newcomer).json()
    assert account["withPriceTokens"][1]["balance"] == "1234500000"
    assert account["redTag"] and account["activated"] is False
    page = get(served, f"/address/{newcomer}").text
    assert "USDT blacklisted" in page and "1,234.5" in page
    info = get(served, "/api/transaction-info", hash=sent).json()
    assert info["block"] == number and info["trigger_info"]["parameter"]["_to"] == newcomer


# -- in a running sandbox -------------------------------------------------------------------


def test_a_running_sandbox_serves_it_directly_and_as_tronscan_test(world, tmp_path):
    with Sandbox(
        world, socks_port=0, http_port=0, explorer_port=0, classroom_port=None,
        tron_port=0, tronscan_port=0, state=tmp_path / "state",
    ) as sandbox:  # fmt: skip
        shared = sandbox.tronscan.app.extensions["tronscan"].reader.chain
        assert shared is sandbox.tronnode.app.extensions["tronnode"].chain
        described = sandbox.describe()
        assert described["tronscan_name"] == TRONSCAN_NAME
        hot = hot_wallet(world)
        direct = requests.get(
            described["tronscan"] + "api/account", params={"address": hot}, timeout=30
        )
        host, port = sandbox.gateway.http_address
        proxied = requests.get(
            f"http://{TRONSCAN_NAME}/api/account",
            params={"address": hot},
            proxies={"http": f"http://{host}:{port}"},
            timeout=30,
        )
        assert direct.status_code == proxied.status_code == 200
        assert direct.json()["balance"] == proxied.json()["balance"]


# -- Chromium -------------------------------------------------------------------------------


@pytest.mark.browser
@needs_chromium
def test_chromium_screenshots_of_the_address_and_transaction_pages(served):
    hot = hot_wallet(served.world)
    txid = usdt_transfer_tx(served.world)[0]
    driver = start_chromium(height=1400)
    try:
        SHOTS.mkdir(exist_ok=True)
        for name, path, needle in (
            ("tronscan-address.png", f"/address/{hot}", "USDT transfers"),
            (
                "tronscan-transaction.png",
                f"/transaction/{txid}",
                "transfer(address _to,uint256 _value)",
            ),
        ):
            driver.get(served.url + path)
            assert needle in driver.page_source
            # the stylesheet came from this server and applied (no external asset)
            color = driver.execute_script(
                "return getComputedStyle(document.querySelector('header.top')).backgroundColor"
            )
            assert color == "rgb(29, 31, 43)"
            shot = SHOTS / name
            driver.save_screenshot(str(shot))
            assert shot.stat().st_size > 20_000
    finally:
        driver.quit()
