"""The swap service's hidden site through the gateway: rates, no-account orders and its
law-enforcement portal linking a deposit on one chain to the payout on the other.

The swap world (tests/data/swap.yaml) is served by a real sandbox; every request goes
through the gateway's SOCKS port to the site's onion, as a trainee's tools would.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
import requests

from sandbox.scenario import load_scenario
from sandbox.serve import Sandbox
from sandbox.world.build import build_world
from tests.course_secret import SECRET

DATA = Path(__file__).resolve().parent / "data"
LEGAL = {"legal_basis": "court_order", "document_reference": "CO/2026/7", "case_number": "TF-1"}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """The swap world, built once."""
    out = tmp_path_factory.mktemp("swap-portal") / "swap.db"
    build_world(load_scenario(DATA / "swap.yaml"), out, secret=SECRET)
    return out


def _rows(world: Path, sql: str, *args) -> list[tuple]:
    """Rows of a query on the world."""
    conn = sqlite3.connect(f"file:{world}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def served(world, tmp_path_factory):
    """The world served on free loopback ports: proxies, the site's URL, the tokens."""
    state = tmp_path_factory.mktemp("swap-state")
    (onion,) = _rows(world, "SELECT address FROM sites WHERE kind = 'swap'")[0]
    with Sandbox(
        world, socks_port=0, http_port=0, explorer_port=0, state=state, classroom_port=None
    ) as sb:
        host, port = sb.gateway.socks_address
        url = f"socks5h://{host}:{port}"
        yield {
            "proxies": {"http": url},
            "url": f"http://{onion}",
            "tokens": dict(_rows(world, "SELECT id, token FROM requesters")),
        }


def _ask(served, subject: str, seat: str = "seat-1", **over) -> tuple[int, dict]:
    """A request on the portal's JSON API through the gateway; (status, body)."""
    body = {**LEGAL, "subject": subject, "requested": ["orders"], **over}
    r = requests.post(
        f"{served['url']}/api/le/requests",
        json=body,
        headers={"Authorization": f"Bearer {served['tokens'][seat]}"},
        proxies=served["proxies"],
        timeout=60,
    )
    return r.status_code, r.json()


def _list(served, seat: str) -> list[dict]:
    """The requests a requester sees in its list."""
    r = requests.get(
        f"{served['url']}/api/le/requests",
        headers={"Authorization": f"Bearer {served['tokens'][seat]}"},
        proxies=served["proxies"],
        timeout=60,
    )
    assert r.status_code == 200
    return r.json()["requests"]


def test_rate_page_and_json(served):
    """The rate page shows both directions at the world's rate less the fee."""
    page = requests.get(served["url"] + "/", proxies=served["proxies"], timeout=60)
    assert page.status_code == 200
    assert "49000.0 USDT" in page.text  # 50,000 less 2%
    rates = requests.get(served["url"] + "/api/rates", proxies=served["proxies"], timeout=60)
    assert rates.json() == {
        "btc_usdt": 50000.0,
        "fee": 0.02,
        "pairs": [
            {"from": "BTC", "to": "USDT", "rate": 49000.0},
            {"from": "USDT", "to": "BTC", "rate": 1.96e-05},
        ],
    }


def test_orders_give_a_fresh_deposit_address_on_the_other_chain(served, world):
    """BTC -> USDT takes a T-address and gives a Bitcoin deposit address; the reverse too;
    each order its own; a bad payout address is a 400 naming the field, nothing stored."""
    (tron_payee,) = _rows(world, "SELECT address FROM tron_accounts WHERE actor_id = 'payee'")[0]
    (btc_payee,) = _rows(
        world,
        "SELECT a.address FROM addresses a JOIN wallets w ON w.id = a.wallet_id"
        " WHERE w.actor_id = 'receiver' LIMIT 1",
    )[0]
    made = []
    for direction, payout in (
        ("btc-usdt", tron_payee),
        ("usdt-btc", btc_payee),
        ("btc-usdt", tron_payee),
    ):
        r = requests.post(
            served["url"] + "/api/orders",
            json={"direction": direction, "payout_address": payout},
            proxies=served["proxies"],
            timeout=60,
        )
        assert r.status_code == 201, r.text
        made.append(r.json())
    first, back, again = made
    assert first["deposit"]["chain"] == "btc" and first["deposit"]["address"].startswith("bc1q")
    assert first["payout"] == {
        "chain": "tron",
        "asset": "USDT",
        "address": tron_payee,
        "txid": None,
        "amount": None,
        "paid": None,
    }
    assert first["status"] == "awaiting deposit" and first["deposit"]["txid"] is None
    assert back["deposit"]["chain"] == "tron" and re.fullmatch(
        r"T\w{33}", back["deposit"]["address"]
    )
    assert back["payout"]["address"] == btc_payee
    assert again["deposit"]["address"] != first["deposit"]["address"]
    assert len({o["order_id"] for o in made}) == 3
    page = requests.get(
        served["url"] + first["links"]["self"], proxies=served["proxies"], timeout=60
    )
    assert first["deposit"]["address"] in page.text
    bad = requests.post(
        served["url"] + "/api/orders",
        json={"direction": "btc-usdt", "payout_address": btc_payee},
        proxies=served["proxies"],
        timeout=60,
    )
    assert bad.status_code == 400
    assert [e["field"] for e in bad.json()["errors"]] == ["payout_address"]
    # The live order is on record: the portal finds it by its deposit address.
    status, body = _ask(served, first["deposit"]["address"])
    assert status == 201
    assert [o["order_id"] for o in body["answer"]["orders"]] == [first["order_id"]]
    assert body["answer"]["orders"][0]["from"]["txid"] is None


def test_deposit_txid_gives_the_payout_and_back(served, world):
    """A deposit txid leads to its order and payout txid on the other chain, and the payout
    txid (or address) back to the deposit, for both directions."""
    for flow in ("to-usdt", "to-btc"):
        order = _rows(
            world,
            "SELECT order_id, deposit_txid, payout_txid, deposit_address, payout_address,"
            " deposit_amount, payout_amount, deposit_chain FROM swap_orders WHERE flow_id = ?"
            " ORDER BY created LIMIT 1",
            flow,
        )[0]
        oid, d_txid, p_txid, d_addr, p_addr, d_amount, p_amount, chain = order
        status, body = _ask(served, d_txid)
        assert status == 201 and body["status"] == "answered"
        (found,) = body["answer"]["orders"]
        assert found["order_id"] == oid
        assert found["to"]["txid"] == p_txid and found["to"]["address"] == p_addr
        assert found["from"]["chain"] == chain and found["to"]["chain"] != chain
        btc, usdt = (d_amount, p_amount) if chain == "btc" else (p_amount, d_amount)
        side_btc, side_usdt = ("from", "to") if chain == "btc" else ("to", "from")
        assert found[side_btc]["amount"] == pytest.approx(btc / 1e8)
        assert found[side_usdt]["amount"] == pytest.approx(usdt / 1e6)
        assert found["rate"] == 50000.0
        status, back = _ask(served, p_txid)
        assert [o["from"]["txid"] for o in back["answer"]["orders"]] == [d_txid]
    # Every order paying out to the payee's address: the story's three (with their txids),
    # and any a visitor made on the site for the same address (none paid out).
    (payee,) = _rows(
        world, "SELECT DISTINCT payout_address FROM swap_orders WHERE payee_id = 'payee'"
    )[0]
    status, body = _ask(served, payee)
    paid = [o for o in body["answer"]["orders"] if o["to"]["txid"] is not None]
    assert len(paid) == 3 and all(o["to"]["address"] == payee for o in body["answer"]["orders"])


def test_refused_without_legal_process(served, world):
    """An informal request is logged and refused, with no order in it."""
    (txid,) = _rows(world, "SELECT deposit_txid FROM swap_orders LIMIT 1")[0]
    status, body = _ask(served, txid, legal_basis="informal", document_reference="")
    assert status == 201
    assert body["status"] == "refused" and body["answer"]["orders"] == []
    assert "legal process" in body["reason"]


def test_requesters_see_only_their_own_requests(served, world):
    """seat-2 cannot read seat-1's request nor see it listed; the instructor sees both."""
    (txid,) = _rows(world, "SELECT payout_txid FROM swap_orders LIMIT 1")[0]
    status, mine = _ask(served, txid, seat="seat-1")
    assert status == 201
    url = served["url"] + mine["links"]["self"]
    other = requests.get(
        url,
        headers={"Authorization": f"Bearer {served['tokens']['seat-2']}"},
        proxies=served["proxies"],
        timeout=60,
    )
    assert other.status_code == 404
    own = requests.get(
        url,
        headers={"Authorization": f"Bearer {served['tokens']['seat-1']}"},
        proxies=served["proxies"],
        timeout=60,
    )
    assert own.status_code == 200 and own.json()["answer"] == mine["answer"]
    assert mine["id"] not in [r["id"] for r in _list(served, "seat-2")]
    assert mine["id"] in [r["id"] for r in _list(served, "seat-1")]
    assert mine["id"] in [r["id"] for r in _list(served, "instructor")]
    no_token = requests.get(
        served["url"] + "/api/le/requests", proxies=served["proxies"], timeout=60
    )
    assert no_token.status_code == 401


def test_malformed_requests_are_field_errors_and_not_logged(served):
    """A bad subject, basis or ask is a 400 listing each field; the log does not grow."""
    before = _list(served, "seat-2")
    status, body = _ask(
        served,
        "not-an-address",
        seat="seat-2",
        legal_basis="hunch",
        requested=["kyc"],
        case_number="",
    )
    assert status == 400
    assert sorted(e["field"] for e in body["errors"]) == [
        "case_number",
        "legal_basis",
        "requested",
        "subject",
    ]
    assert _list(served, "seat-2") == before


def _csrf(page: str) -> str:
    """The CSRF token of a page's form."""
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_web_forms_make_an_order_and_ask_the_portal(served, world):
    """In a browser session: the order form gives an order page, the portal's form the
    answer page; a wrong token is a 401 and nothing is logged."""
    (payee,) = _rows(world, "SELECT address FROM tron_accounts WHERE actor_id = 'payee'")[0]
    (txid, oid) = _rows(world, "SELECT payout_txid, order_id FROM swap_orders LIMIT 1")[0]
    with requests.Session() as browser:
        browser.proxies = served["proxies"]
        home = browser.get(served["url"] + "/", timeout=60)
        made = browser.post(
            served["url"] + "/order",
            data={"csrf_token": _csrf(home.text), "direction": "btc-usdt", "payout_address": payee},
            timeout=60,
        )
        assert made.status_code == 200 and "/order/" in made.url
        assert payee in made.text and "bc1q" in made.text
        form = browser.get(served["url"] + "/le", timeout=60)
        fields = {**LEGAL, "subject": txid, "requested": "orders", "csrf_token": _csrf(form.text)}
        before = _list(served, "seat-1")
        wrong = browser.post(served["url"] + "/le", data={**fields, "token": "le_nope"}, timeout=60)
        assert wrong.status_code == 401
        assert _list(served, "seat-1") == before
        answered = browser.post(
            served["url"] + "/le", data={**fields, "token": served["tokens"]["seat-1"]}, timeout=60
        )
        assert answered.status_code == 200
        assert oid in answered.text and txid in answered.text
        assert len(_list(served, "seat-1")) == len(before) + 1
