"""Exchanges know Tron: their law-enforcement portals answer for Tron addresses and txids.

The tf-donations world (ember cashes donated USDT out at Harbor Exchange) is served by a
real sandbox, Tron node included; every request goes through the gateway's SOCKS proxy to
harborex.test with a seat's token, as `investigate request` or a browser would. What the
portal says is checked against the world's Tron tables, read here with plain SQL.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import requests

from sandbox.exchanges import is_frozen
from sandbox.scenario import load_scenario
from sandbox.serve import Sandbox
from sandbox.tron import address as tron_address
from sandbox.tron.keys import TronKey
from sandbox.tron.transaction import build
from sandbox.world.build import build_world
from tests.course_secret import SECRET

pytestmark = pytest.mark.slow

HARBOR = "http://harborex.test"
COINVAULT = "http://coinvault.test"
USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
TRANSFER = bytes.fromhex("a9059cbb")  # transfer(address,uint256)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """tf-donations, built once."""
    out = tmp_path_factory.mktemp("tron-ex") / "tf.db"
    build_world(load_scenario("tf-donations"), out, secret=SECRET)
    return out


def _rows(world: Path, sql: str, *args) -> list[tuple]:
    """Rows of a query on the world."""
    conn = sqlite3.connect(f"file:{world}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def facts(world) -> dict:
    """What the chain shows of ember's USDT at Harbor, found with this test's own SQL."""
    (deposit,) = _rows(
        world,
        "SELECT address FROM tron_accounts WHERE actor_id = 'harbor' AND wallet = 'deposit'"
        " AND purpose = 'deposit:ember'",
    )[0]
    into = _rows(
        world,
        "SELECT t.txid, f.value, f.from_address FROM trc20_transfers f"
        " JOIN tron_txs t ON t.id = f.tx_id WHERE f.to_address = ? AND f.contract = ?",
        deposit,
        USDT,
    )
    (hot,) = _rows(
        world, "SELECT address FROM tron_accounts WHERE actor_id = 'harbor' AND wallet = 'hot'"
    )[0]
    sweep = _rows(
        world,
        "SELECT t.txid FROM trc20_transfers f JOIN tron_txs t ON t.id = f.tx_id"
        " WHERE f.from_address = ? AND f.to_address = ?",
        deposit,
        hot,
    )
    paid = _rows(
        world,
        "SELECT t.txid, t.to_address, t.amount FROM tron_txs t JOIN tron_accounts a"
        " ON a.address = t.to_address WHERE t.owner = ? AND t.type = 'TransferContract'"
        " AND a.actor_id = 'ember'",
        hot,
    )
    name, username = _rows(world, "SELECT name, username FROM actors WHERE id = 'ember'")[0]
    tokens = dict(_rows(world, "SELECT id, token FROM requesters"))
    return {
        "deposit": deposit,
        "into": into,
        "hot": hot,
        "sweep": sweep[0][0],
        "paid": paid,
        "name": name,
        "username": username,
        "tokens": tokens,
    }


@pytest.fixture(scope="module")
def served(world, tmp_path_factory):
    """The world served on free loopback ports, Tron node included."""
    state = tmp_path_factory.mktemp("tron-ex-state")
    with Sandbox(
        world, socks_port=0, http_port=0, explorer_port=0, state=state, classroom_port=None
    ) as sb:
        # Blocks come when a test makes them, so a broadcast stays pending until then.
        sb.tronnode.app.extensions["tronnode"].producer.stop()
        host, port = sb.gateway.socks_address
        url = f"socks5h://{host}:{port}"
        yield {"proxies": {"http": url}, "state": state, "sandbox": sb}


def _ask(served, facts, subject: str, requested=("kyc",), seat="seat-1", portal=HARBOR, **over):
    """A request on a portal's JSON API through the gateway; (status, body)."""
    body = {
        "case_number": "CT-USDT-1",
        "legal_basis": "court_order",
        "document_reference": "CO/2026/0099",
        "subject": subject,
        "requested": list(requested),
        **over,
    }
    r = requests.post(
        f"{portal}/api/le/requests",
        json=body,
        headers={"Authorization": f"Bearer {facts['tokens'][seat]}"},
        proxies=served["proxies"],
        timeout=60,
    )
    return r.status_code, r.json()


def test_deposit_address_gives_kyc_usdt_deposits_and_logins(served, facts):
    """The customer behind a Tron deposit address, with its USDT deposits (txid, amount)."""
    status, body = _ask(served, facts, facts["deposit"], ("kyc", "transactions", "logins"))
    assert status == 201, body
    answer = body["answer"]
    assert answer["status"] == "answered"
    assert answer["subject"] == {
        "value": facts["deposit"],
        "type": "address",
        "match": "deposit_address",
    }
    (account,) = answer["accounts"]
    assert account["subscriber"]["name"] == facts["name"]
    assert account["logins"] and all(x["ip"] for x in account["logins"])
    usdt = [m for m in account["tron_deposits"] if m["asset"] == "USDT"]
    assert {(m["txid"], m["value"]) for m in usdt} == {(t, v) for t, v, _ in facts["into"]}
    total = sum(v for _, v, _ in facts["into"])
    assert account["total_deposited_usdt"] == f"{total // 10**6}.{total % 10**6:06d}"
    for m in usdt:
        assert m["address"] == facts["deposit"] and m["time_utc"].endswith(" UTC")
        assert m["amount"] == f"{m['value'] // 10**6}.{m['value'] % 10**6:06d}"
    # the exchange's own TRX that activated the address is not a customer deposit
    assert all(m["from_address"] != facts["hot"] for m in account["tron_deposits"])
    assert {m["txid"] for m in account["tron_withdrawals"]} == {t for t, _, _ in facts["paid"]}


def test_txids_find_the_same_customer_or_say_what_they_are(served, facts):
    """The cash-out txid is a deposit of the same account; the sweep is the exchange's own;
    a withdrawal txid and its destination address are the customer's."""
    _, by_address = _ask(served, facts, facts["deposit"])
    account_id = by_address["answer"]["accounts"][0]["account_id"]
    cashout = facts["into"][0][0]
    _, by_txid = _ask(served, facts, cashout.upper())
    assert by_txid["answer"]["subject"]["match"] == "deposit_tx"
    assert by_txid["answer"]["subject"]["value"] == cashout
    assert [a["account_id"] for a in by_txid["answer"]["accounts"]] == [account_id]
    _, sweep = _ask(served, facts, facts["sweep"])
    assert (sweep["answer"]["reason"], sweep["answer"]["subject"]["match"]) == (
        "operational_wallet",
        "operational_tx",
    )
    assert "sweep" in sweep["answer"]["message"] and not sweep["answer"]["accounts"]
    _, hot = _ask(served, facts, facts["hot"])
    assert hot["answer"]["subject"]["match"] == "operational_wallet"
    txid, destination, _ = facts["paid"][0]
    for subject, match in ((txid, "withdrawal_tx"), (destination, "withdrawal_destination")):
        _, body = _ask(served, facts, subject)
        assert body["answer"]["subject"]["match"] == match, body["answer"]
        assert [a["account_id"] for a in body["answer"]["accounts"]] == [account_id]
    # the hex form of the address names the same account
    _, hexed = _ask(served, facts, tron_address.to_hex(facts["deposit"]))
    assert hexed["answer"]["subject"]["value"] == facts["deposit"]
    assert [a["account_id"] for a in hexed["answer"]["accounts"]] == [account_id]


def test_other_exchange_has_no_records(served, facts):
    """CoinVault knows nothing of Harbor's deposit address."""
    status, body = _ask(served, facts, facts["deposit"], portal=COINVAULT)
    assert status == 201
    assert (body["answer"]["status"], body["answer"]["reason"]) == ("refused", "no_records")


@pytest.mark.parametrize(
    ("subject", "says"),
    [
        ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6x", "is not a valid Tron address"),  # checksum
        ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6", "is not a valid Tron address"),  # 33 characters
        ("ab" * 32, "is on the Bitcoin or the Tron chain"),  # no such transaction
    ],
)
def test_bad_subjects_are_field_errors(served, facts, subject, says):
    """A malformed T address or a txid on neither chain: 400, one error naming the subject."""
    status, body = _ask(served, facts, subject, ("kyc", "transactions"))
    assert status == 400
    (error,) = body["errors"]
    assert error["field"] == "subject" and says in error["message"]
    assert body["answer"]["reason"] == "malformed_subject" and not body["answer"]["accounts"]
    assert says in body["answer"]["message"]


def test_legal_basis_and_seat_isolation_as_for_bitcoin(served, facts):
    """An informal request gets no data; another seat cannot read the answer."""
    status, body = _ask(
        served, facts, facts["deposit"], ("kyc", "transactions"), legal_basis="informal"
    )
    assert status == 201 and body["answer"]["reason"] == "legal_basis"
    assert facts["name"] not in str(body) and not body["answer"]["accounts"]
    _, mine = _ask(served, facts, facts["deposit"], seat="seat-1")
    other = {"Authorization": f"Bearer {facts['tokens']['seat-2']}"}
    url = f"{HARBOR}{mine['links']['self']}"
    r = requests.get(url, headers=other, proxies=served["proxies"], timeout=60)
    assert r.status_code == 404 and facts["name"] not in r.text
    listed = requests.get(
        f"{HARBOR}/api/le/requests", headers=other, proxies=served["proxies"], timeout=60
    ).json()["requests"]
    assert all(x["subject"] != facts["deposit"] for x in listed)


def test_freeze_of_a_tron_deposit_account(served, facts):
    """A freeze needs a court order; it freezes the customer's account (both chains)."""
    status, body = _ask(served, facts, facts["deposit"], ("freeze",), legal_basis="subpoena")
    assert status == 201 and body["answer"]["refused"][0]["item"] == "freeze"
    assert not is_frozen(served["state"], "harbor", "ember")
    _, body = _ask(served, facts, facts["deposit"], ("freeze",), seat="seat-3")
    (account,) = body["answer"]["accounts"]
    assert account["status"] == "frozen" and account["freeze"]["status"] == "frozen"
    assert is_frozen(served["state"], "harbor", "ember")
    _, again = _ask(served, facts, facts["into"][0][0], ("freeze",), seat="seat-3")
    assert again["answer"]["accounts"][0]["freeze"]["status"] == "already frozen"
    # the same account behind its Bitcoin records is frozen too
    (btc,) = _rows(
        served["sandbox"].world,
        "SELECT a.address FROM addresses a JOIN wallets w ON w.id = a.wallet_id"
        " WHERE w.actor_id = 'harbor' AND a.purpose = 'deposit:ember' LIMIT 1",
    )[0]
    _, by_btc = _ask(served, facts, btc, ("kyc",), seat="seat-3")
    assert by_btc["answer"]["accounts"][0]["status"] == "frozen"


def _usdt_holder(world: Path, chain) -> tuple[TronKey, str, int]:
    """A donor's key, address and USDT balance, for a live payment."""
    for address, secret in _rows(
        world,
        "SELECT address, secret FROM tron_accounts WHERE actor_id LIKE 'donors-%'"
        " AND wallet = 'personal' ORDER BY address",
    ):
        raw = tron_address.to_bytes(address)
        held = chain.state.usdt.balances.get(raw, 0)
        if held >= 5_000_000 and chain.account(raw).balance >= 30_000_000:
            return TronKey(bytes(secret)), address, held
    raise AssertionError("no donor holds USDT and TRX for a live payment")


def test_live_usdt_deposit_reaches_the_records(served, facts, world):
    """A USDT transfer broadcast to the node and put in a block is a deposit the portal lists,
    and its txid finds the customer."""
    chain = served["sandbox"].tronnode.app.extensions["tronnode"].chain
    key, sender, _ = _usdt_holder(world, chain)
    amount = 4_321_000
    number, block_id, ms = chain.head()
    data = (
        TRANSFER + bytes(11) + tron_address.to_bytes(facts["deposit"]) + amount.to_bytes(32, "big")
    )
    value = {
        "owner_address": tron_address.to_hex(sender),
        "contract_address": tron_address.to_hex(USDT),
        "data": data.hex(),
    }
    tx = build("TriggerSmartContract", value, number, block_id, ms, ms + 60_000, 100_000_000)
    txid = chain.broadcast(tx.sign(key))
    _, before = _ask(served, facts, facts["deposit"], ("transactions",))
    listed = {m["txid"] for m in before["answer"]["accounts"][0]["tron_deposits"]}
    assert txid not in listed  # not in a block yet
    chain.produce()
    _, after = _ask(served, facts, facts["deposit"], ("transactions",))
    (live,) = [m for m in after["answer"]["accounts"][0]["tron_deposits"] if m["txid"] == txid]
    assert (live["asset"], live["value"], live["amount"]) == ("USDT", amount, "4.321000")
    assert live["from_address"] == sender and live["block"] > 0
    _, by_txid = _ask(served, facts, txid, ("kyc",))
    assert by_txid["answer"]["subject"]["match"] == "deposit_tx"
    assert by_txid["answer"]["accounts"][0]["subscriber"]["name"] == facts["name"]
