"""TronGrid v1 against a served world: the envelope, the filters, fingerprint paging
without duplicates, and limit at most 200."""

from __future__ import annotations

import pytest
import requests

from .tron_node_world import build_tron_world, served_node, world_rows

pytestmark = pytest.mark.slow
USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The tf-donations world."""
    return build_tron_world(tmp_path_factory.mktemp("trongrid"))


@pytest.fixture(scope="module", params=["node", "workers"])
def node(request, world, tmp_path_factory):
    """(URL, chain, world path) of the served world: the node's own process alone, then its
    port served by worker processes as `sandbox up` serves it."""
    state = tmp_path_factory.mktemp(f"trongrid-{request.param}")
    with served_node(world, state, workers=request.param == "workers") as (url, chain):
        yield url, chain, world


def busiest(world, column: str = "to_address") -> tuple[str, int]:
    """The address with the most USDT transfers in the given column, and how many."""
    return world_rows(
        world,
        f"SELECT {column}, count(*) c FROM trc20_transfers GROUP BY 1 ORDER BY c DESC LIMIT 1",
    )[0]


def test_envelope_and_account(node):
    """{data, success, meta: {at, page_size}}; an account carries its USDT balance."""
    url, _chain, world = node
    address, _ = busiest(world)
    body = requests.get(f"{url}v1/accounts/{address}", timeout=10).json()
    assert body["success"] is True
    assert set(body["meta"]) >= {"at", "page_size"} and body["meta"]["page_size"] == 1
    account = body["data"][0]
    assert isinstance(account["balance"], int)
    assert account["address"].startswith("41") and len(account["address"]) == 42
    assert all(isinstance(v, str) for t in account["trc20"] for v in t.values())


def test_paging_without_duplicates(node):
    """Walking pages by fingerprint yields every transfer exactly once, in order."""
    url, _chain, world = node
    address, count = busiest(world)
    seen: list[str] = []
    params = {"limit": 7}
    stamps = []
    while True:
        body = requests.get(
            f"{url}v1/accounts/{address}/transactions/trc20", params=params, timeout=10
        ).json()
        seen += [f"{d['transaction_id']}:{d['from']}:{d['to']}:{d['value']}" for d in body["data"]]
        stamps += [d["block_timestamp"] for d in body["data"]]
        fingerprint = body["meta"].get("fingerprint")
        if not fingerprint:
            break
        params["fingerprint"] = fingerprint
    total = world_rows(
        world,
        "SELECT count(*) FROM trc20_transfers WHERE from_address = ? OR to_address = ?",
        (address, address),
    )[0][0]
    assert len(seen) == total and len(set(seen)) == total
    assert stamps == sorted(stamps, reverse=True)


def test_filters(node):
    """only_to, only_from, the time window, contract_address and ascending order."""
    url, _chain, world = node
    address, _ = busiest(world)
    get = lambda **p: requests.get(  # noqa: E731
        f"{url}v1/accounts/{address}/transactions/trc20", params={"limit": 200, **p}, timeout=10
    ).json()["data"]
    assert all(d["to"] == address for d in get(only_to="true"))
    assert all(d["from"] == address for d in get(only_from="true"))
    everything = get(order_by="block_timestamp,asc")
    stamps = [d["block_timestamp"] for d in everything]
    assert stamps == sorted(stamps)
    middle = stamps[len(stamps) // 2]
    assert all(d["block_timestamp"] >= middle for d in get(min_timestamp=middle))
    assert all(d["block_timestamp"] <= middle for d in get(max_timestamp=middle))
    assert get(contract_address="TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL") == []
    assert all(d["token_info"]["symbol"] == "USDT" for d in get(contract_address=USDT))


def test_limit_and_bad_input(node):
    """limit above 200 and a bad address are refused with 400 naming them."""
    url, _chain, world = node
    address, _ = busiest(world)
    r = requests.get(f"{url}v1/accounts/{address}/transactions", params={"limit": 201}, timeout=10)
    assert r.status_code == 400 and "limit" in r.json()["error"]
    r = requests.get(f"{url}v1/accounts/Tnotanaddress/transactions", timeout=10)
    assert r.status_code == 400 and "Tnotanaddress" in r.json()["error"]
    r = requests.get(
        f"{url}v1/accounts/{address}/transactions", params={"fingerprint": "zz"}, timeout=10
    )
    assert r.status_code == 400 and "fingerprint" in r.json()["error"]


def test_transactions_and_events(node):
    """An address's transactions page by fingerprint; a transfer's events decode."""
    url, _chain, world = node
    address, _ = busiest(world, "from_address")
    body = requests.get(
        f"{url}v1/accounts/{address}/transactions", params={"limit": 3}, timeout=10
    ).json()
    first = [d["txID"] for d in body["data"]]
    assert len(first) == 3 and body["meta"]["fingerprint"]
    nxt = requests.get(
        f"{url}v1/accounts/{address}/transactions",
        params={"limit": 3, "fingerprint": body["meta"]["fingerprint"]},
        timeout=10,
    ).json()
    assert not set(first) & {d["txID"] for d in nxt["data"]}
    txid = world_rows(
        world, "SELECT t.txid FROM trc20_transfers f JOIN tron_txs t ON t.id = f.tx_id LIMIT 1"
    )[0][0]
    events = requests.get(f"{url}v1/transactions/{txid}/events", timeout=10).json()["data"]
    transfer = next(e for e in events if e["event_name"] == "Transfer")
    assert transfer["contract_address"] == USDT and transfer["transaction_id"] == txid
    assert transfer["result"]["from"].startswith("0x") and transfer["result"]["value"].isdigit()
    assert transfer["result_type"] == {"from": "address", "to": "address", "value": "uint256"}
    page = requests.get(f"{url}v1/contracts/{USDT}/events", params={"limit": 5}, timeout=10)
    assert len(page.json()["data"]) == 5


def test_live_transfer_confirmation_and_paging(node):
    """A USDT transfer broadcast to the busiest address shows as unconfirmed until its block
    (only_confirmed / only_unconfirmed), then pages with the world's rows without a
    duplicate; limit=200 is the largest page."""
    from tronpy import Tron
    from tronpy.keys import PrivateKey
    from tronpy.providers import HTTPProvider

    url, chain, world = node
    address, _ = busiest(world)
    secret = world_rows(
        world,
        "SELECT a.secret FROM tron_accounts a JOIN trc20_transfers f ON f.to_address = a.address "
        "WHERE a.wallet = 'hot' AND a.address != ? LIMIT 1",
        (address,),
    )[0][0]
    key = PrivateKey(bytes(secret))
    client = Tron(HTTPProvider(url))
    sent = (
        client.get_contract(USDT)
        .functions.transfer(address, 1_234_567)
        .with_owner(key.public_key.to_base58check_address())
        .fee_limit(50_000_000)
        .build()
        .sign(key)
        .broadcast()
    )
    page = f"{url}v1/accounts/{address}/transactions/trc20"

    def ids(**params) -> list[str]:
        body = requests.get(page, params={"limit": 200, **params}, timeout=10).json()
        return [d["transaction_id"] for d in body["data"]]

    assert ids()[0] == sent.txid
    assert ids(only_unconfirmed="true") == [sent.txid]
    assert sent.txid not in ids(only_confirmed="true")
    chain.produce()
    assert ids(only_confirmed="true")[0] == sent.txid
    assert ids(only_unconfirmed="true") == []
    total = world_rows(
        world,
        "SELECT count(*) FROM trc20_transfers WHERE from_address = ? OR to_address = ?",
        (address, address),
    )[0][0]
    for order in ("block_timestamp,desc", "block_timestamp,asc"):
        seen: list[str] = []
        params: dict = {"limit": 200, "order_by": order}
        while True:
            body = requests.get(page, params=params, timeout=10).json()
            assert body["meta"]["page_size"] == len(body["data"]) <= 200
            seen += [
                f"{d['transaction_id']}:{d['from']}:{d['to']}:{d['value']}" for d in body["data"]
            ]
            if not body["meta"].get("fingerprint"):
                break
            params["fingerprint"] = body["meta"]["fingerprint"]
        assert len(seen) == len(set(seen)) == total + 1
        newest = seen[0] if order.endswith("desc") else seen[-1]
        assert newest.startswith(sent.txid)


def test_live_transfers_found_after_a_restart(node):
    """The node started again over the same state finds an address's live TRC-20 transfers
    (the addresses they involve are read back from tron.db, not only noted as they come)."""
    from sandbox.tron.live.chain import TronLive

    _url, chain, world = node
    live = chain.live_transfers([(None, None)])
    assert live, "the live transfer test ran before this one"
    sender, receiver = live[0][3], live[0][4]
    again = TronLive(world, chain.path.parent)
    try:
        for address in (sender, receiver):
            assert (
                [r[:2] for r in again.live_trc20_of(address)]
                == [r[:2] for r in chain.live_trc20_of(address)]
                != []
            )
    finally:
        again.close()
