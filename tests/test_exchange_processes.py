"""One exchange's portal served by several processes at once, as the site workers serve it:
each process builds its own app (create_app) over the same state folder, so whatever a
requester does through one must hold through every other.

Here two apps of one exchange, each built as its process builds it, are served on two
free loopback ports; the session key is taken by real processes starting together.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from sandbox.exchanges import create_app, is_frozen
from sandbox.exchanges.app import SECRET_FILE
from sandbox.portal_server import PortalServer
from sandbox.tron import address as tron_address
from sandbox.tron.keys import TronKey
from sandbox.tron.live.chain import TronLive, TronReplica
from sandbox.tron.transaction import build

from .test_exchanges import csrf_of, requester
from .tron_node_world import build_tron_world, world_rows

EXCHANGE = "bitbarn"
ROOT = Path(__file__).resolve().parents[1]  # the package the racers import


@pytest.fixture(scope="module")
def cashout(tiny_world) -> str:
    """kestrel's deposit address at bitbarn that the cash-out paid, found with plain SQL."""
    conn = sqlite3.connect(f"file:{tiny_world}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT a.address FROM flow_events f JOIN outputs o ON o.tx_id = f.tx_id"
            " JOIN addresses a ON a.id = o.address_id"
            " WHERE f.flow_id = 'cashout' AND a.purpose = 'deposit:kestrel'"
        ).fetchone()[0]
    finally:
        conn.close()


class Served:
    """An exchange's app on a free loopback port until close()."""

    def __init__(self, app):
        """Serve app now."""
        self.app = app
        self.server = PortalServer("127.0.0.1", 0, app)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def two(tiny_world, tmp_path):
    """(first, second): bitbarn's portal built twice over one state folder, both served."""
    served = [Served(create_app(tiny_world, EXCHANGE, tmp_path)) for _ in range(2)]
    try:
        yield served
    finally:
        for s in served:
            s.close()


def _request(subject: str, **over) -> dict:
    """A complete court-order request about subject."""
    return {
        "case_number": "OP-KESTREL-9",
        "legal_basis": "court_order",
        "document_reference": "CO/2026/0077",
        "subject": subject,
        "requested": ["kyc"],
        **over,
    }


def _api(served: Served, token: str, body: dict) -> dict:
    """A request submitted on a portal's JSON API; its body (201 asserted)."""
    r = requests.post(
        f"{served.url}/api/le/requests",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_a_login_on_one_process_is_a_session_on_the_other(two, tiny_world, cashout):
    """Log in through the first, use the session and its CSRF token through the second;
    logging out through the second ends it on both."""
    first, second = two
    who = requester(tiny_world)
    browser = requests.Session()
    page = browser.get(f"{first.url}/le/login", timeout=10).text
    form = {"login": who["login"], "password": who["password"], "csrf": csrf_of(page)}
    logged = browser.post(f"{first.url}/le/login", data=form, allow_redirects=False, timeout=10)
    assert logged.status_code == 303
    form_page = browser.get(f"{second.url}/le/request", allow_redirects=False, timeout=10)
    assert form_page.status_code == 200 and 'name="subject"' in form_page.text
    token = csrf_of(browser.get(f"{first.url}/le/request", timeout=10).text)
    sent = browser.post(
        f"{second.url}/le/request",
        data={**_request(cashout), "csrf": token},
        allow_redirects=False,
        timeout=60,
    )
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/le/requests/1")
    shown = browser.get(f"{first.url}/le/requests/1", allow_redirects=False, timeout=10)
    assert shown.status_code == 200 and cashout in shown.text
    out = browser.post(
        f"{second.url}/le/logout", data={"csrf": token}, allow_redirects=False, timeout=10
    )
    assert out.status_code == 303
    for served in two:
        again = browser.get(f"{served.url}/le/requests", allow_redirects=False, timeout=10)
        assert again.status_code == 302 and "/le/login" in again.headers["Location"]


def test_requests_through_both_are_numbered_without_gaps(two, tiny_world, cashout):
    """Requests sent at once through both processes, 8 at a time each: numbered 1..n, each
    number once, each stored with its own answer."""
    token = requester(tiny_world)["token"]
    jobs = [(two[i % 2], f"OP-{i:03d}") for i in range(40)]
    with ThreadPoolExecutor(16) as pool:
        bodies = list(
            pool.map(lambda job: _api(job[0], token, _request(cashout, case_number=job[1])), jobs)
        )
    assert sorted(b["id"] for b in bodies) == list(range(1, len(jobs) + 1))
    assert len({b["reference"] for b in bodies}) == len(jobs)
    listed = requests.get(
        f"{two[1].url}/api/le/requests", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()["requests"]
    assert {(r["number"], r["case_number"]) for r in listed} == {
        (b["id"], b["request"]["case_number"]) for b in bodies
    }


def test_a_freeze_through_one_is_seen_through_the_other(two, tiny_world, cashout, tmp_path):
    """A court-ordered freeze sent through the first: the second answers 'already frozen'
    and shows the account frozen; the ledger sees it."""
    first, second = two
    token = requester(tiny_world)["token"]
    assert not is_frozen(tmp_path, EXCHANGE, "kestrel")
    frozen = _api(first, token, _request(cashout, requested=["freeze"]))["answer"]
    assert frozen["accounts"][0]["freeze"]["status"] == "frozen"
    seen = _api(second, token, _request(cashout, requested=["kyc", "freeze"]))["answer"]
    (account,) = seen["accounts"]
    assert account["status"] == "frozen" and account["freeze"]["status"] == "already frozen"
    assert account["freeze"]["since"] == frozen["accounts"][0]["freeze"]["since"]
    assert is_frozen(tmp_path, EXCHANGE, "kestrel")


def test_apps_given_the_same_start_date_alike(tiny_world, tmp_path, cashout):
    """Two apps given the time the sandbox started an hour ago, the second made after the
    first answered: both date their answers an hour or more past the world's end, never
    before the one logged earlier."""
    conn = sqlite3.connect(f"file:{tiny_world}?mode=ro", uri=True)
    try:
        (end,) = conn.execute("SELECT value FROM meta WHERE key = 'end_time'").fetchone()
    finally:
        conn.close()
    started = time.time() - 3600
    token = requester(tiny_world)["token"]
    first = Served(create_app(tiny_world, EXCHANGE, tmp_path, started=started))
    try:
        early = _api(first, token, _request(cashout))["answer"]["date"]
        second = Served(create_app(tiny_world, EXCHANGE, tmp_path, started=started))
        try:
            late = _api(second, token, _request(cashout))["answer"]["date"]
        finally:
            second.close()
    finally:
        first.close()
    assert int(end) + 3600 <= early <= late


ROUNDS = 3
RACERS = 4
# A racer process: for each state folder read, the exchange's app over it; its key's digest.
RACER = """
import hashlib, sys
from sandbox.exchanges import create_app
for line in sys.stdin:
    app = create_app(sys.argv[1], sys.argv[2], line.strip())
    print(hashlib.sha256(app.secret_key).hexdigest(), flush=True)
"""


def test_processes_starting_together_sign_with_one_key(tiny_world, tmp_path):
    """Processes building the exchange's app at the same moment over a new state folder:
    every one signs sessions with the key the folder keeps (32 random bytes, mode 0600).
    (The key file's own creation race, made tighter: tests/test_keyfile.py.)"""
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(tiny_world), EXCHANGE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for _ in range(RACERS)
    ]
    try:
        for n in range(ROUNDS):
            state = tmp_path / f"state{n}"
            for p in racers:
                p.stdin.write(f"{state}\n")
            for p in racers:
                p.stdin.flush()
            got = {p.stdout.readline().strip() for p in racers}
            kept = (state / SECRET_FILE).read_bytes()
            assert got == {hashlib.sha256(kept).hexdigest()} and len(kept) == 32, n
            assert stat.S_IMODE((state / SECRET_FILE).stat().st_mode) == 0o600
    finally:
        for p in racers:
            p.stdin.close()
        for p in racers:
            assert p.wait(timeout=60) == 0


# -- the Tron chain as a worker process reads it: a TronReplica of the node's tron.db --------

USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
TRANSFER = bytes.fromhex("a9059cbb")  # transfer(address,uint256)


@pytest.fixture(scope="module")
def tron_world(tmp_path_factory) -> Path:
    """tf-donations (ember cashes donated USDT out at Harbor Exchange), built once."""
    return build_tron_world(tmp_path_factory.mktemp("exchange-replica"))


@pytest.fixture(scope="module")
def ember(tron_world) -> dict:
    """ember's USDT deposit address at harbor, what the world paid into it, and a token."""
    (deposit,) = world_rows(
        tron_world,
        "SELECT address FROM tron_accounts WHERE actor_id = 'harbor' AND wallet = 'deposit'"
        " AND purpose = 'deposit:ember'",
    )[0]
    into = world_rows(
        tron_world,
        "SELECT t.txid FROM trc20_transfers f JOIN tron_txs t ON t.id = f.tx_id"
        " WHERE f.to_address = ? AND f.contract = ?",
        (deposit, USDT),
    )
    (token,) = world_rows(tron_world, "SELECT token FROM requesters WHERE id = 'seat-1'")[0]
    return {"deposit": deposit, "into": {txid for (txid,) in into}, "token": token}


def _harbor(tron_world: Path, state: Path) -> Served:
    """Harbor's portal as a worker process builds it: over a TronReplica of state's tron.db."""
    return Served(create_app(tron_world, "harbor", state, tron_live=TronReplica(tron_world, state)))


def _deposits(served: Served, ember: dict) -> set[str]:
    """The txids of the USDT deposits the portal lists for ember's deposit address."""
    body = _api(served, ember["token"], _request(ember["deposit"], requested=["transactions"]))
    (account,) = body["answer"]["accounts"]
    return {m["txid"] for m in account["tron_deposits"] if m["asset"] == "USDT"}


def _donor(chain: TronLive, tron_world: Path, amount: int) -> tuple[str, TronKey]:
    """A donor holding amount USDT and TRX for the fee: its address and key."""
    for address, secret in world_rows(
        tron_world,
        "SELECT address, secret FROM tron_accounts WHERE actor_id LIKE 'donors-%'"
        " AND wallet = 'personal' ORDER BY address",
    ):
        raw = tron_address.to_bytes(address)
        if chain.state.usdt.balances.get(raw, 0) >= amount and (
            chain.account(raw).balance >= 30_000_000
        ):
            return address, TronKey(bytes(secret))
    raise AssertionError("no donor holds USDT and TRX for a live payment")


def _pay(chain: TronLive, tron_world: Path, to: str, amount: int) -> str:
    """A donor's USDT transfer to `to`, broadcast on chain (not yet in a block); its txid."""
    address, key = _donor(chain, tron_world, amount)
    number, block_id, ms = chain.head()
    data = TRANSFER + bytes(11) + tron_address.to_bytes(to) + amount.to_bytes(32, "big")
    value = {
        "owner_address": tron_address.to_hex(address),
        "contract_address": tron_address.to_hex(USDT),
        "data": data.hex(),
    }
    tx = build("TriggerSmartContract", value, number, block_id, ms, ms + 60_000, 100_000_000)
    return chain.broadcast(tx.sign(key))


@pytest.mark.slow
def test_a_live_deposit_reaches_the_records_of_every_process(tron_world, ember, tmp_path):
    """A USDT deposit broadcast on the node's chain: listed by neither process while in the
    mempool, by both once in a block, as the deposit its txid names, with 8 requests at
    a time on each."""
    chain = TronLive(tron_world, tmp_path)
    two = [_harbor(tron_world, tmp_path) for _ in range(2)]
    try:
        txid = _pay(chain, tron_world, ember["deposit"], 1_234_000)
        assert all(_deposits(s, ember) == ember["into"] for s in two)
        chain.produce()
        with ThreadPoolExecutor(16) as pool:
            seen = list(pool.map(lambda i: _deposits(two[i % 2], ember), range(32)))
        assert seen == [ember["into"] | {txid}] * 32
        for served in two:
            body = _api(served, ember["token"], _request(txid))
            assert body["answer"]["subject"]["match"] == "deposit_tx"
    finally:
        for served in two:
            served.close()
        chain.close()


@pytest.mark.slow
def test_before_the_node_runs_the_world_answers_then_the_live_chain(tron_world, ember, tmp_path):
    """A portal whose replica was made before the node's process started answers from the
    world's chain (creating no tron.db), then lists live deposits once the node runs."""
    served = _harbor(tron_world, tmp_path)
    chain = None
    try:
        assert _deposits(served, ember) == ember["into"]
        assert not (tmp_path / "tron.db").exists()
        chain = TronLive(tron_world, tmp_path)
        txid = _pay(chain, tron_world, ember["deposit"], 2_000_000)
        chain.produce()
        assert _deposits(served, ember) == ember["into"] | {txid}
    finally:
        served.close()
        if chain is not None:
            chain.close()
