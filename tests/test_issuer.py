"""The USDT issuer's law-enforcement portal (tether.test) on a served tf-donations world.

Requests go through the gateway's SOCKS proxy with a seat's token or a browser-like login;
the chain is read and written with tronpy against the served Tron node, keys from the world.
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import pytest
import requests
from tronpy import Tron
from tronpy.keys import PrivateKey
from tronpy.providers import HTTPProvider

from sandbox.issuer import create_replica_app
from sandbox.scenario import load_scenario
from sandbox.serve import Sandbox
from sandbox.world.build import build_world
from tests.course_secret import SECRET
from tests.ports import free_port

pytestmark = pytest.mark.slow

ISSUER = "http://tether.test"
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"


# Objectives judged from the issuer's records, added to tf-donations.
OBJECTIVES = """
  - id: freeze-suspect
    question: "Have the USDT of donor 2 frozen: give the issuer reference."
    answer: {actor: donors-2, field: freeze}
  - id: seize-donor
    question: "Have the USDT of donor 1 returned to your Tron wallet: give the reference."
    answer: {actor: donors-1, field: seize}
  - id: freeze-tipped
    question: "Have the USDT of donor 20 frozen: give the issuer reference."
    answer: {actor: donors-20, field: freeze}
"""
# Donor 20 moves its USDT when a seat asks the issuer about it without confidentiality.
INJECTS = """
  - id: tip-off
    action: move_usdt
    actor: donors-20
    when: disclosed
"""
# Actors the tests above work on by name; the others pick holders among the rest.
NAMED = ("donors-1", "donors-2", "donors-20")


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """tf-donations with freeze and seize objectives, built once."""
    folder = tmp_path_factory.mktemp("issuer")
    text = Path(SCENARIOS / "tf-donations.yaml").read_text()
    head, tail = text.split("\nobjectives:\n", 1)
    tail = tail.replace("\ninjects:\n", f"\ninjects:\n{INJECTS.lstrip(chr(10))}", 1)
    source = folder / "tf-issuer.yaml"
    source.write_text(f"{head}\nobjectives:\n{OBJECTIVES.lstrip(chr(10))}{tail}")
    out = folder / "tf.db"
    build_world(load_scenario(str(source)), out, secret=SECRET)
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
    """The world served on free ports; a tronpy client on its node."""
    state = tmp_path_factory.mktemp("issuer-state")
    with Sandbox(world, socks_port=0, http_port=0, explorer_port=0, state=state) as sb:
        host, port = sb.gateway.socks_address
        url = f"socks5h://{host}:{port}"
        assert sb.tronnode is not None
        client = Tron(HTTPProvider(f"http://127.0.0.1:{sb.tronnode.server_port}/"))
        tokens = dict(_rows(world, "SELECT id, token FROM requesters"))
        yield {"proxies": {"http": url}, "sandbox": sb, "tron": client, "tokens": tokens}


def _holders(served, world) -> list[tuple[str, PrivateKey]]:
    """Donors' personal addresses that hold USDT now, richest first, with their keys."""
    usdt = served["tron"].get_contract(USDT)
    rows = _rows(
        world,
        "SELECT address, secret FROM tron_accounts WHERE wallet = 'personal' "
        "AND actor_id LIKE 'donors-%' AND actor_id NOT IN (?, ?, ?) ORDER BY address",
        *NAMED,
    )
    found = []
    for address, secret in rows:
        value = usdt.functions.balanceOf(address)
        if value >= 2_000_000:
            found.append((value, address, PrivateKey(bytes(secret))))
        if len(found) >= 6:
            break
    return [(a, k) for _, a, k in sorted(found, reverse=True)]


@pytest.fixture(scope="module")
def holders(served, world):
    """Addresses with USDT the tests freeze (each test its own)."""
    found = _holders(served, world)
    assert len(found) >= 6
    return found


def _ask(served, subject, requested=("freeze",), seat="seat-1", **over):
    """A request on the issuer's JSON API through the gateway; (status, body)."""
    body = {
        "case_number": "CT-USDT-7",
        "legal_basis": "court_order",
        "document_reference": "CO/2026/0142",
        "subject": subject,
        "requested": list(requested),
        "confidential": True,
        **over,
    }
    r = requests.post(
        f"{ISSUER}/api/le/requests",
        json=body,
        headers={"Authorization": f"Bearer {served['tokens'][seat]}"},
        proxies=served["proxies"],
        timeout=60,
    )
    return r.status_code, r.json()


def _get(served, path, seat="seat-1"):
    """A GET on the issuer's API; (status, body)."""
    r = requests.get(
        f"{ISSUER}{path}",
        headers={"Authorization": f"Bearer {served['tokens'][seat]}"},
        proxies=served["proxies"],
        timeout=60,
    )
    return r.status_code, r.json()


def _blacklisted(served, address) -> bool:
    """getBlackListStatus on the served node."""
    return served["tron"].get_contract(USDT).functions.getBlackListStatus(address)


def test_freeze_blacklists_and_transfers_then_fail(served, holders):
    """A court-ordered freeze is an addBlackList in the next block; the holder's USDT
    transfer, signed with its own key, is refused by the node."""
    address, key = holders[0]
    assert not _blacklisted(served, address)
    status, body = _ask(served, address)
    assert status == 201, body
    assert re.fullmatch(r"USDT-LE-\d{6}", body["reference"])
    assert body["status"] == "executed" and len(body["answer"]["txids"]) == 1
    assert _blacklisted(served, address)
    client = served["tron"]
    info = client.get_transaction(body["answer"]["txids"][0])
    assert info["raw_data"]["contract"][0]["type"] == "TriggerSmartContract"
    other = PrivateKey(bytes(range(3, 35))).public_key.to_base58check_address()
    call = (
        client.get_contract(USDT)
        .functions.transfer(other, 1_000_000)
        .with_owner(address)
        .fee_limit(50_000_000)
    )
    with pytest.raises(Exception, match="(?i)revert|contract"):
        call.build().sign(key).broadcast()
    # The seat reads it back; it is in its list.
    status, again = _get(served, f"/api/le/requests/{body['id']}")
    assert status == 200 and again["reference"] == body["reference"]
    _, listed = _get(served, "/api/le/requests")
    assert body["reference"] in {r["reference"] for r in listed["requests"]}


def test_reissue_moves_the_frozen_amount(served, holders, world):
    """Freeze, then reissue to the seat's wallet: destroyBlackFunds, issue and a transfer of
    the destroyed amount; the frozen address holds nothing."""
    address, _key = holders[1]
    usdt = served["tron"].get_contract(USDT)
    amount = usdt.functions.balanceOf(address)
    wallet = PrivateKey(bytes(range(5, 37))).public_key.to_base58check_address()
    status, frozen = _ask(served, address, seat="seat-2")
    assert status == 201 and frozen["status"] == "executed"
    status, body = _ask(served, address, requested=("reissue",), seat="seat-2", wallet=wallet)
    assert status == 201, body
    assert body["status"] == "executed" and len(body["answer"]["txids"]) == 3
    assert usdt.functions.balanceOf(address) == 0
    assert usdt.functions.balanceOf(wallet) == amount
    # A second reissue of the same freeze is refused.
    _, twice = _ask(served, address, requested=("reissue",), seat="seat-2", wallet=wallet)
    assert twice["status"] == "refused"


def test_second_seat_shares_a_frozen_address(served, holders):
    """Another seat's freeze of an address already frozen is its own (no second tx); its
    reissue pays the amount recorded then, without a destroy once the balance is gone."""
    address, _key = holders[2]
    usdt = served["tron"].get_contract(USDT)
    amount = usdt.functions.balanceOf(address)
    _, first = _ask(served, address, seat="seat-1")
    _, second = _ask(served, address, seat="seat-3")
    assert first["status"] == second["status"] == "executed"
    assert second["answer"]["txids"] == []
    w1 = PrivateKey(bytes(range(7, 39))).public_key.to_base58check_address()
    w3 = PrivateKey(bytes(range(9, 41))).public_key.to_base58check_address()
    _, r1 = _ask(served, address, requested=("reissue",), seat="seat-1", wallet=w1)
    _, r3 = _ask(served, address, requested=("reissue",), seat="seat-3", wallet=w3)
    assert len(r1["answer"]["txids"]) == 3 and len(r3["answer"]["txids"]) == 2
    assert usdt.functions.balanceOf(w1) == usdt.functions.balanceOf(w3) == amount


def test_refusals(served, holders, world):
    """No legal basis, a subpoena, an exchange's hot wallet, a reissue or unfreeze of an
    address this seat did not freeze: refused with a reason, nothing on the chain."""
    address, _key = holders[3]
    status, body = _ask(served, address, legal_basis="")
    assert status == 400 and body["errors"][0]["field"] == "legal_basis"
    status, body = _ask(served, address, legal_basis="subpoena")
    assert status == 201 and body["status"] == "refused"
    assert "court order" in body["reason"]
    assert not _blacklisted(served, address)
    ((hot,),) = _rows(
        world, "SELECT address FROM tron_accounts WHERE actor_id = 'harbor' AND wallet = 'hot'"
    )
    (name,) = _rows(world, "SELECT name FROM actors WHERE id = 'harbor'")[0]
    status, body = _ask(served, hot)
    assert body["status"] == "refused" and f"Ask {name}" in body["reason"]
    assert not _blacklisted(served, hot)
    ((treasury,),) = _rows(world, "SELECT address FROM tron_accounts WHERE wallet = 'treasury'")
    _, body = _ask(served, treasury)
    assert body["status"] == "refused" and "treasury" in body["reason"]
    wallet = PrivateKey(bytes(range(11, 43))).public_key.to_base58check_address()
    for ask in ("reissue", "unfreeze"):
        _, body = _ask(served, address, requested=(ask,), seat="seat-4", wallet=wallet)
        assert body["status"] == "refused" and "frozen" in body["reason"]


def test_bad_input_is_not_stored(served):
    """Malformed JSON, a bad subject, a reissue without a wallet: 400 with field errors."""
    _, before = _get(served, "/api/le/requests", seat="seat-5")
    r = requests.post(
        f"{ISSUER}/api/le/requests",
        data="{not json",
        headers={
            "Authorization": f"Bearer {served['tokens']['seat-5']}",
            "Content-Type": "application/json",
        },
        proxies=served["proxies"],
        timeout=60,
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "body"
    status, body = _ask(served, "TXYZnotanaddress1111111111111111111", seat="seat-5")
    assert status == 400 and body["errors"][0]["field"] == "subject"
    status, body = _ask(served, "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh", seat="seat-5")
    assert status == 400 and "Tron address" in body["errors"][0]["message"]
    status, body = _ask(served, USDT, requested=("reissue",), seat="seat-5")
    assert status == 400 and body["errors"][0]["field"] == "wallet"
    _, after = _get(served, "/api/le/requests", seat="seat-5")
    assert after == before
    r = requests.get(f"{ISSUER}/api/le/requests", proxies=served["proxies"], timeout=60)
    assert r.status_code == 401


def test_seats_see_only_their_own(served, holders):
    """Another seat's request is a 404 on the API and on the web; the instructor sees all."""
    status, body = _ask(served, holders[4][0], requested=("status",), seat="seat-1")
    assert status == 201 and body["answer"]["items"]["status"]["blacklisted"] is False
    number = body["id"]
    assert _get(served, f"/api/le/requests/{number}", seat="seat-2")[0] == 404
    _, listed = _get(served, "/api/le/requests", seat="seat-2")
    assert body["reference"] not in {r["reference"] for r in listed["requests"]}
    _, every = _get(served, "/api/le/requests", seat="instructor")
    assert body["reference"] in {r["reference"] for r in every["requests"]}
    web = _login(served, "seat-2")
    assert web.get(f"{ISSUER}/le/requests/{number}", timeout=60).status_code == 404
    assert body["reference"] not in web.get(f"{ISSUER}/le/requests", timeout=60).text


def _login(served, seat: str) -> requests.Session:
    """A browser-like session logged in to the issuer's portal as a seat."""
    world = served["sandbox"].world
    login, password = _rows(world, "SELECT login, password FROM requesters WHERE id = ?", seat)[0]
    s = requests.Session()
    s.proxies = served["proxies"]
    page = s.get(f"{ISSUER}/le/login", timeout=60).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    r = s.post(f"{ISSUER}/le/login", data={"csrf": csrf, "login": login, "password": password})
    assert r.status_code == 200 and "Signed in" in r.text
    return s


def test_web_form_freezes(served, holders):
    """The officers' form: a freeze posted from the browser blacklists the address; a form
    with errors shows them (400) and keeps nothing."""
    address = holders[5][0]
    s = _login(served, "seat-6")
    page = s.get(f"{ISSUER}/le/request", timeout=60).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    form = {
        "csrf": csrf,
        "case_number": "CT-9",
        "legal_basis": "mlat",
        "document_reference": "MLA/2026/3",
        "subject": address,
        "requested": ["freeze"],
        "confidential": "true",
    }
    bad = s.post(f"{ISSUER}/le/request", data={**form, "subject": "nope"}, timeout=60)
    assert bad.status_code == 400 and "not a Tron address" in bad.text
    assert "USDT-LE-" not in s.get(f"{ISSUER}/le/requests", timeout=60).text
    r = s.post(f"{ISSUER}/le/request", data=form, timeout=60)
    assert r.status_code == 200 and "executed" in r.text
    assert _blacklisted(served, address)


def test_delay_keeps_a_request_pending(served, holders):
    """With an answer delay the freeze is accepted but pending, and nothing is on the chain."""
    issuer = next(s for s in served["sandbox"].sites if s.kind == "issuer")
    portal = issuer.server.app.extensions["issuer_portal"]
    address = holders[4][0]
    portal.delay = 3600
    try:
        status, body = _ask(served, address, seat="seat-7")
    finally:
        portal.delay = 0
    assert status == 201 and body["status"] == "pending" and body["answer"]["txids"] == []
    assert not _blacklisted(served, address)
    assert _get(served, f"/api/le/requests/{body['id']}", seat="seat-7")[1]["status"] == "pending"
    # An hour later (as the worker would see it) it is carried out.
    assert portal.run_due(now=time.time() + 3601) == 1
    assert _blacklisted(served, address)
    done = _get(served, f"/api/le/requests/{body['id']}", seat="seat-7")[1]
    assert done["status"] == "executed" and len(done["answer"]["txids"]) == 1


def _key(world, seat: int, objective: str) -> dict:
    """A seat's answer key of an objective, read from the world."""
    import json

    (answer,) = _rows(
        world,
        "SELECT answer FROM seat_objectives WHERE seat = ? AND objective_id = ?",
        seat,
        objective,
    )[0]
    return json.loads(answer)


def test_classroom_judges_freeze_and_seize(served, world):
    """freeze: right for this seat's executed freeze of the suspect's address, wrong for
    another seat's reference or another address; seize: right for this seat's reissue of
    donor 1's USDT into the seat's Tron wallet, wrong to another wallet."""
    classroom = served["sandbox"].classroom.app.extensions["classroom"]
    key = _key(world, 8, "freeze-suspect")
    target = key["freeze_of"][0]
    _, other = _ask(served, target, seat="seat-9")
    assert other["status"] == "executed"
    assert not classroom.judge(8, "freeze-suspect", other["reference"])
    _, wrong = _ask(served, _holders(served, world)[0][0], seat="seat-8")
    assert not classroom.judge(8, "freeze-suspect", wrong["reference"])
    _, mine = _ask(served, target, seat="seat-8")
    assert mine["status"] == "executed"
    assert classroom.judge(8, "freeze-suspect", mine["reference"])
    assert not classroom.judge(8, "freeze-suspect", "USDT-LE-999999")

    seize = _key(world, 8, "seize-donor")
    (tron_wallet,) = _rows(world, "SELECT tron_address FROM seats WHERE n = 8")[0]
    assert seize["pay_to"] == tron_wallet
    donor = seize["seize_from"][0]
    assert served["tron"].get_contract(USDT).functions.balanceOf(donor) > 0
    _ask(served, donor, seat="seat-8")
    elsewhere = PrivateKey(bytes(range(13, 45))).public_key.to_base58check_address()
    _, astray = _ask(served, donor, ("reissue",), seat="seat-10", wallet=elsewhere)
    assert not classroom.judge(8, "seize-donor", astray["reference"])
    _, paid = _ask(served, donor, ("reissue",), seat="seat-8", wallet=tron_wallet)
    assert paid["status"] == "executed"
    assert classroom.judge(8, "seize-donor", paid["reference"])
    assert classroom.judge(8, "seize-donor", paid["answer"]["txids"][-1])
    assert not classroom.judge(9, "seize-donor", paid["reference"])


def test_tip_off_moves_funds_when_not_confidential(served, world):
    """A confidential request about donor 20 tips nobody off; a seat that asks without
    confidentiality sees the USDT leave for a fresh address before its freeze, and must
    freeze that address too."""
    classroom = served["sandbox"].classroom.app.extensions["classroom"]
    usdt = served["tron"].get_contract(USDT)
    addresses = [
        a
        for (a,) in _rows(
            world, "SELECT address FROM tron_accounts WHERE actor_id = ?", "donors-20"
        )
    ]
    held = {a: usdt.functions.balanceOf(a) for a in addresses}
    source = max(held, key=held.get)
    assert held[source] > 0
    _, quiet = _ask(served, source, ("status",), seat="seat-11")
    assert quiet["answer"]["items"]["status"]["usdt_balance"] == held[source]
    assert usdt.functions.balanceOf(source) == held[source]
    assert not classroom.judge(12, "freeze-tipped", quiet["reference"])

    _, careless = _ask(served, source, seat="seat-12", confidential=False)
    assert careless["status"] == "executed"
    assert usdt.functions.balanceOf(source) == 0  # moved before the freeze
    assert careless["answer"]["actions"][0]["amount"] == 0
    key = _key(world, 12, "freeze-tipped")
    (moved,) = set(key["freeze_of"]) - set(addresses)
    assert usdt.functions.balanceOf(moved) == held[source]
    _, follow = _ask(served, moved, seat="seat-12")
    assert follow["status"] == "executed" and _blacklisted(served, moved)
    assert classroom.judge(12, "freeze-tipped", follow["reference"])


def test_unfreeze_lifts_only_when_no_other_seat_holds_it(served, holders):
    """A seat unfreezes what it froze; while another seat's freeze of the address stands,
    the address stays blacklisted; the last unfreeze is a removeBlackList on the chain."""
    address = holders[3][0]
    for seat in ("seat-13", "seat-14"):
        assert _ask(served, address, seat=seat)[1]["status"] == "executed"
    _, first = _ask(served, address, ("unfreeze",), seat="seat-13")
    assert first["status"] == "executed" and first["answer"]["txids"] == []
    assert _blacklisted(served, address)
    _, last = _ask(served, address, ("unfreeze",), seat="seat-14")
    assert last["status"] == "executed" and len(last["answer"]["txids"]) == 1
    assert not _blacklisted(served, address)
    _, again = _ask(served, address, ("unfreeze",), seat="seat-14")
    assert again["status"] == "refused"


def test_its_worker_app_reads_alone_and_passes_on_what_changes_something(served):
    """Through the gateway the issuer's port is the workers': a logged-in seat's pages
    come from there even while the issuer's own process is away; a request (a change)
    needs that process and gets a 503 saying so."""
    sb = served["sandbox"]
    site = next(s for s in sb.sites if s.kind == "issuer")
    assert site.port != site.server.server_port  # the workers serve it, not its own part
    s = _login(served, "seat-2")
    replica = create_replica_app(sb.world, sb.state_dir, f"http://127.0.0.1:{free_port()}/")
    client = replica.test_client()
    client.set_cookie("le_session", s.cookies["le_session"], domain="localhost")
    listing = client.get("/le/requests")
    assert listing.status_code == 200 and "Sign in" not in listing.text
    sent = client.post("/le/request", data={"csrf": "x", "subject": "T"})
    assert sent.status_code == 503
    assert sent.text == "the issuer's own process does not answer; ask again soon\n"
