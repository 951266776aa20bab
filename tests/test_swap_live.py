"""The swap service pays live orders: a BTC deposit mined on the live chain brings USDT on
the live Tron chain, a USDT deposit in a Tron block brings BTC; once, also across restarts.

The swap world (tests/data/swap.yaml) is served by a real sandbox; orders and the portal
go through the gateway's SOCKS port, the deposits through the explorer's /api/tx and the
Tron node (tronpy), signed with world keys read from the world file as a suspect's would be.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
import requests
from tronpy import Tron
from tronpy.keys import PrivateKey
from tronpy.providers import HTTPProvider

from sandbox.ledger.address import script_pubkey
from sandbox.ledger.keys import Key
from sandbox.ledger.tx import Tx, TxIn, TxOut, serialize, sign_input
from sandbox.scenario import load_scenario
from sandbox.serve import Sandbox
from sandbox.world.build import build_world
from tests.course_secret import SECRET

DATA = Path(__file__).resolve().parent / "data"
USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
LEGAL = {"legal_basis": "court_order", "document_reference": "CO/2026/9", "case_number": "TF-2"}
RECEIVER_BTC = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """The swap world, built once."""
    out = tmp_path_factory.mktemp("swap-live") / "swap.db"
    build_world(load_scenario(DATA / "swap.yaml"), out, secret=SECRET)
    return out


def _rows(world: Path, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(f"file:{world}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _serve(world: Path, state: Path) -> Sandbox:
    return Sandbox(
        world, socks_port=0, http_port=0, explorer_port=0, state=state, classroom_port=None
    )


def _ctx(world: Path, sb: Sandbox) -> dict:
    host, port = sb.gateway.socks_address
    (onion,) = _rows(world, "SELECT address FROM sites WHERE kind = 'swap'")[0]
    return {
        "sb": sb,
        "proxies": {"http": f"socks5h://{host}:{port}"},
        "url": f"http://{onion}",
        "explorer": sb.describe()["explorer"].rstrip("/"),
        "node": f"http://127.0.0.1:{sb.tronnode.server_port}",
        "tokens": dict(_rows(world, "SELECT id, token FROM requesters")),
    }


@pytest.fixture(scope="module")
def state(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("swap-live-state")


@pytest.fixture(scope="module")
def served(world, state):
    with _serve(world, state) as sb:
        yield _ctx(world, sb)


def _order(served, direction: str, payout: str) -> dict:
    r = requests.post(
        f"{served['url']}/api/orders",
        json={"direction": direction, "payout_address": payout},
        proxies=served["proxies"],
        timeout=60,
    )
    assert r.status_code == 201, r.text
    return r.json()


def _show(served, order_id: str) -> dict:
    r = requests.get(
        f"{served['url']}/order/{order_id}",
        headers={"Accept": "application/json"},
        proxies=served["proxies"],
        timeout=60,
    )
    assert r.status_code == 200
    return r.json()


def _settled(served, order_id: str) -> dict:
    """The order once its watcher settled it (it polls every second; at most a minute)."""
    for _ in range(240):
        order = _show(served, order_id)
        if order["status"] not in ("awaiting deposit", "paying"):
            return order
        time.sleep(0.25)
    raise AssertionError(f"order {order_id} never settled: {order}")


def _pay_btc(world: Path, served, to: str, sats: int, payer: str = "seller") -> str:
    """The biggest world coin of a payer (an actor id, or "other": anyone but the seller and
    the service) pays `to` (change back), POSTed to the explorer."""
    txid, n, value, address, kind, secret = _rows(
        world,
        "SELECT t.txid, o.n, o.value, a.address, a.type, a.secret FROM outputs o"
        " JOIN transactions t ON t.id = o.tx_id JOIN addresses a ON a.id = o.address_id"
        " JOIN wallets w ON w.id = a.wallet_id WHERE (w.actor_id = ? OR (? = 'other'"
        " AND w.actor_id NOT IN ('seller', 'swapper')))"
        " AND w.kind = 'personal' AND a.type = 'p2wpkh' AND NOT EXISTS (SELECT 1 FROM inputs i"
        " WHERE i.prev_tx_id = o.tx_id AND i.prev_n = o.n) ORDER BY o.value DESC LIMIT 1",
        payer,
        payer,
    )[0]
    assert kind == "p2wpkh" and value > sats + 10_000
    tx = Tx(
        inputs=[TxIn(bytes.fromhex(txid)[::-1], n)],
        outputs=[
            TxOut(sats, script_pubkey(to)),
            TxOut(value - sats - 1_000, script_pubkey(address)),
        ],
    )
    sign_input(tx, 0, Key(bytes(secret)), script_pubkey(address), value)
    r = requests.post(f"{served['explorer']}/api/tx", data=serialize(tx).hex(), timeout=60)
    assert r.status_code == 200, r.text
    return r.text


def _le_orders(served, subject: str) -> list[dict]:
    r = requests.post(
        f"{served['url']}/api/le/requests",
        json={**LEGAL, "subject": subject, "requested": ["orders"]},
        headers={"Authorization": f"Bearer {served['tokens']['seat-1']}"},
        proxies=served["proxies"],
        timeout=60,
    )
    assert r.status_code in (200, 201), r.text
    return r.json()["answer"]["orders"]


def _trc20_to(served, address: str) -> list[dict]:
    r = requests.get(
        f"{served['node']}/v1/accounts/{address}/transactions/trc20",
        params={"only_to": "true", "limit": 200},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_btc_to_usdt_paid_once(world, state, served):
    """0.01 BTC mined to the deposit address: 490 USDT (50000 less 2 %) to the payee, once."""
    (payee,) = _rows(
        world,
        "SELECT address FROM tron_accounts WHERE actor_id = 'payee' AND wallet = 'personal'",
    )[0]
    order = _order(served, "btc-usdt", payee)
    waiting = _order(served, "btc-usdt", payee)  # never paid
    deposit = _pay_btc(world, served, order["deposit"]["address"], 1_000_000)
    served["sb"].live.mine_block()
    done = _settled(served, order["order_id"])
    assert done["status"] == "paid"
    assert done["deposit"]["txid"] == deposit and done["deposit"]["amount"] == 0.01
    assert done["payout"]["amount"] == 490.0
    payout = done["payout"]["txid"]
    for _ in range(240):  # the next Tron block (one every 3 s)
        mine = [t for t in _trc20_to(served, payee) if t["transaction_id"] == payout]
        if mine:
            break
        time.sleep(0.25)
    assert mine and mine[0]["value"] == "490000000"
    assert mine[0]["token_info"]["address"] == USDT
    (linked,) = [o for o in _le_orders(served, payee) if o["order_id"] == order["order_id"]]
    assert linked["from"]["txid"] == deposit and linked["to"]["txid"] == payout
    assert linked["to"]["amount"] == 490.0
    assert _show(served, waiting["order_id"])["status"] == "awaiting deposit"
    assert served["sb"].swap_watchers[0].poll() == 0  # nothing more to pay


def test_deposit_too_small(world, served):
    """1000 sat buys 0.49 USDT, under the 1 USDT a payout needs: nothing is paid."""
    order = _order(served, "btc-usdt", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")
    deposit = _pay_btc(world, served, order["deposit"]["address"], 1_000, payer="other")
    served["sb"].live.mine_block()
    done = _settled(served, order["order_id"])
    assert done["status"] == "deposit too small"
    assert done["deposit"]["txid"] == deposit and done["payout"]["txid"] is None


def test_usdt_to_btc_paid(world, served):
    """1000 USDT in a Tron block: 0.0196 BTC (1000 / 50000 less 2 %) to the receiver."""
    order = _order(served, "usdt-btc", RECEIVER_BTC)
    (secret,) = _rows(
        world,
        "SELECT a.secret FROM tron_accounts a WHERE a.actor_id = 'buyer'"
        " AND a.wallet = 'personal' LIMIT 1",
    )[0]
    key = PrivateKey(bytes(secret))
    client = Tron(HTTPProvider(served["node"]))
    call = (
        client.get_contract(USDT)
        .functions.transfer(order["deposit"]["address"], 1_000_000_000)
        .with_owner(key.public_key.to_base58check_address())
        .fee_limit(100_000_000)
    )
    sent = call.build().sign(key).broadcast()
    done = _settled(served, order["order_id"])
    assert done["status"] == "paid", done
    assert done["deposit"]["txid"] == sent.txid and done["deposit"]["amount"] == 1000.0
    assert done["payout"]["amount"] == 0.0196
    r = requests.get(f"{served['explorer']}/api/tx/{done['payout']['txid']}", timeout=60)
    assert r.status_code == 200
    paid = [v for v in r.json()["vout"] if v["scriptpubkey_address"] == RECEIVER_BTC]
    assert [v["value"] for v in paid] == [1_960_000]


def test_restart_does_not_pay_twice(world, state, served):
    """A second sandbox on the same state finds nothing to pay."""
    paid = [
        o
        for o in served["sb"].swap_watchers[0].state.swap_orders_awaiting()
        if o["status"] == "awaiting deposit"
    ]
    assert paid  # the order never deposited
    (payee,) = _rows(
        world,
        "SELECT address FROM tron_accounts WHERE actor_id = 'payee' AND wallet = 'personal'",
    )[0]
    before = len(_trc20_to(served, payee))
    served["sb"].stop()
    with _serve(world, state) as again:
        assert again.swap_watchers[0].poll() == 0
        ctx = _ctx(world, again)
        assert len(_trc20_to(ctx, payee)) == before
        assert all(_show(ctx, o["order_id"])["status"] == "awaiting deposit" for o in paid)


def test_payout_is_pro_rata_of_what_arrived():
    """Under- and overpaid orders pay for what came, rounded to the unit."""
    from marketplaces.swap.watcher import payout_of

    to_usdt = {"deposit_chain": "btc", "rate": 50000, "fee": 0.02}
    to_btc = {"deposit_chain": "tron", "rate": 50000, "fee": 0.02}
    assert payout_of(to_usdt, 1_000_000) == 490_000_000
    assert payout_of(to_usdt, 3) == 1_470  # 3 sat: 0.00147 USDT
    assert payout_of(to_btc, 1_000_000_000) == 1_960_000
    assert payout_of(to_btc, 2_500_000_000) == 4_900_000
