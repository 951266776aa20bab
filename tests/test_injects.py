"""The inject runner against a running tiny world: every action seen through the gateway."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
import requests

from sandbox.errors import InjectError, SandboxError
from sandbox.gateway.routes import Routes
from sandbox.scenario import load_scenario
from sandbox.serve import Sandbox
from sandbox.world.build import build_world
from tests.serving import serve_with_injects

DATA = Path(__file__).parent / "data"
SEATS = (1, 2)

# (id, trigger, at_minutes, objective_id, action, config for seat n)
INJECTS = [
    ("hello", "at", 1, None, "message", lambda n: {"text": "Hello class"}),
    ("yours", "at", 2, None, "message", lambda n: {"text": f"Seat {n}: check your brief"}),
    ("later", "at", 600, None, "message", lambda n: {"text": "Not yet"}),
    ("tip", "solved", None, "vendor-name", "message", lambda n: {"text": f"Well done seat {n}"}),
    ("down", "manual", None, None, "site_offline", lambda n: {"site": "market"}),
    ("up", "manual", None, None, "site_online", lambda n: {"site": "market"}),
    ("down-social", "manual", None, None, "site_offline", lambda n: {"site": "social"}),
    ("up-social", "manual", None, None, "site_online", lambda n: {"site": "social"}),
    (
        "scam",
        "manual",
        None,
        None,
        "exit_scam",
        lambda n: {"site": "market", "text": "Wallet upgrade in progress, back in 48 hours."},
    ),
    (
        "post",
        "manual",
        None,
        None,
        "forum_post",
        lambda n: {
            "site": "forum",
            "actor": "kestrel",
            "title": "Taking a break, friends",
            "text": "Shop closed until further notice. Stay safe.",
        },
    ),
    (
        "move",
        "manual",
        None,
        None,
        "move_funds",
        lambda n: {"actor": "admin", "to": "coinvault", "amount": 0.01},
    ),
    (
        "sweep",
        "manual",
        None,
        None,
        "move_funds",
        lambda n: {"actor": "buyers-1", "to": "kestrel", "amount": None},
    ),
    (
        "broke",
        "manual",
        None,
        None,
        "move_funds",
        lambda n: {"actor": "fundraiser", "to": "coinvault", "amount": 0.01},
    ),
]

TABLE = """
CREATE TABLE IF NOT EXISTS injects (
    id TEXT PRIMARY KEY, position INTEGER NOT NULL, trigger TEXT NOT NULL, at_minutes REAL,
    objective_id TEXT, action TEXT NOT NULL, config TEXT NOT NULL
)
"""


@pytest.fixture(scope="module")
def course_world(tiny_world, tmp_path_factory):
    """A copy of the tiny world with an injects table, as `sandbox build` writes it."""
    path = tmp_path_factory.mktemp("injects") / "course.db"
    shutil.copy(tiny_world, path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(TABLE)
        conn.execute("DELETE FROM injects")
        for position, (iid, trigger, at, objective, action, cfg) in enumerate(INJECTS):
            config = json.dumps({str(n): cfg(n) for n in SEATS})
            conn.execute(
                "INSERT INTO injects VALUES (?, ?, ?, ?, ?, ?, ?)",
                (iid, position, trigger, at, objective, action, config),
            )
    conn.close()
    return path


@pytest.fixture(scope="module")
def running(course_world, tmp_path_factory):
    """The injects world served, with its progress store and inject runner."""
    yield from serve_with_injects(course_world, tmp_path_factory.mktemp("injects-state"))


def _proxies(sb: Sandbox) -> dict:
    """requests' proxies for the gateway's SOCKS port, names resolved by the gateway."""
    host, port = sb.gateway.socks_address
    url = f"socks5h://{host}:{port}"
    return {"http": url, "https": url}


def _address(sb: Sandbox, site_id: str) -> str:
    """The host name of a running site."""
    return next(s.address for s in sb.sites if s.site_id == site_id)


def _get(sb: Sandbox, site_id: str, path: str = "/") -> requests.Response:
    """GET a page of a site through the gateway."""
    return requests.get(f"http://{_address(sb, site_id)}{path}", proxies=_proxies(sb), timeout=20)


def _outcomes(sb: Sandbox, destination: str, outcome: str) -> list:
    """The gateway log's rows for a destination with an outcome (waiting briefly for them)."""
    deadline = time.monotonic() + 5
    while True:
        rows = [
            r
            for r in sb.log.recent(1000)
            if r["destination"] == destination and r["outcome"] == outcome
        ]
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def _world(path):
    """A read-only connection to a world."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def test_site_offline_fails_like_an_unknown_onion_and_online_restores(running):
    """site_offline: the onion fails with SOCKS 0x04 (descriptor not found); site_online: back."""
    sb, progress, injects = running
    onion = _address(sb, "market")
    assert _get(sb, "market").status_code == 200
    injects.fire("down")
    assert progress.fired("down", None)
    assert sb.gateway.routes.resolve(onion).kind == "unknown-onion"
    with pytest.raises(requests.exceptions.ConnectionError, match="0x04"):
        _get(sb, "market")
    assert _outcomes(sb, onion, "unknown-onion")
    injects.fire("up")
    assert _get(sb, "market").status_code == 200


def test_test_site_offline_refuses_connections(running):
    """A .test site taken offline refuses connections (SOCKS 0x05) and comes back."""
    sb, _, injects = running
    name = _address(sb, "social")
    assert _get(sb, "social").status_code == 200
    injects.fire("down-social")
    with pytest.raises(requests.exceptions.ConnectionError, match="0x05"):
        _get(sb, "social")
    assert _outcomes(sb, name, "upstream-failed")
    assert not sb.log.containment_events()  # a site of the world going down is no escape
    injects.fire("up-social")
    assert _get(sb, "social").status_code == 200


def _until(check, seconds: float = 5.0):
    """Poll check() until it returns a truthy value (site notices are cached for a second)."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_exit_scam_page_on_every_request(running):
    """exit_scam: every page of the market is a 503 with the notice; site_online lifts it."""
    sb, progress, injects = running
    assert _get(sb, "market").status_code == 200
    injects.fire("scam")
    page = _until(lambda: [r for r in [_get(sb, "market")] if r.status_code == 503])
    assert page, "the market never showed the exit-scam page"
    page = page[0]
    assert "Withdrawals paused for maintenance" in page.text
    assert "Wallet upgrade in progress, back in 48 hours." in page.text
    # Each worker process re-reads the notice within a second (NOTICE_SECONDS).
    for path in ("/listing/1", "/login", "/orders"):
        assert _until(lambda path=path: _get(sb, "market", path).status_code == 503), path
    post = lambda: requests.post(  # noqa: E731
        f"http://{_address(sb, 'market')}/order/1",
        data={"quantity": "1"},
        proxies=_proxies(sb),
        timeout=20,
    )
    assert _until(lambda: post().status_code == 503)
    assert _get(sb, "shop").status_code == 200  # only that site
    injects.fire("up")
    assert _until(lambda: _get(sb, "market").status_code == 200)


def test_forum_post_appears_on_the_forum(running):
    """forum_post: a new thread by the actor's forum handle, on the board and readable."""
    sb, progress, injects = running
    [fired] = injects.fire("post")
    assert progress.fired("post", None)
    thread = _get(sb, "forum", fired.detail)
    assert thread.status_code == 200
    assert "Taking a break, friends" in thread.text
    assert "Shop closed until further notice. Stay safe." in thread.text
    assert ">kestrel</a>" in thread.text  # kestrel's account on the forum
    conn = _world(sb.world)
    board = conn.execute("SELECT min(id) FROM boards WHERE site_id = 'forum'").fetchone()[0]
    conn.close()
    listing = _get(sb, "forum", f"/board/{board}")
    assert "Taking a break, friends" in listing.text
    login = requests.post(
        f"http://{_address(sb, 'forum')}/login",
        data={"handle": "kestrel", "password": "!"},
        proxies=_proxies(sb),
        timeout=20,
        allow_redirects=False,
    )
    assert login.status_code != 302  # nobody can log in as the actor


def _explorer(sb: Sandbox, path: str):
    """GET the explorer's Esplora API directly."""
    response = requests.get(sb.describe()["explorer"].rstrip("/") + path, timeout=20)
    response.raise_for_status()
    return response.json()


def test_move_funds_is_a_real_transaction_on_the_explorer(running):
    """move_funds: a signed, mined tx to the actor's deposit address, in the exchange's records."""
    sb, progress, injects = running
    [fired] = injects.fire("move")
    tx = _explorer(sb, f"/api/tx/{fired.detail}")
    assert tx["status"]["confirmed"]
    conn = _world(sb.world)
    owner = dict(
        conn.execute(
            "SELECT a.address, w.actor_id || '/' || w.kind || '/' || coalesce(a.purpose, '')"
            " FROM addresses a JOIN wallets w ON w.id = a.wallet_id"
        ).fetchall()
    )
    conn.close()
    assert tx["vin"] and all(
        owner[i["prevout"]["scriptpubkey_address"]].startswith("admin/personal/") for i in tx["vin"]
    )
    paid = tx["vout"][0]
    assert paid["value"] == 1_000_000
    assert owner[paid["scriptpubkey_address"]].startswith("coinvault/deposit/deposit:")
    for out in tx["vout"][1:]:  # change goes back to the admin's wallet
        assert owner[out["scriptpubkey_address"]].startswith("admin/personal/")
    spent = sum(i["prevout"]["value"] for i in tx["vin"])
    assert spent == sum(o["value"] for o in tx["vout"]) + tx["fee"]
    assert progress.fired("move", None)
    # The exchange's records see the live deposit: by its txid, and in the account's history.
    request = {
        "agency": "National Crime Agency",
        "officer_name": "DC Jo Smith",
        "officer_email": "jo.smith@nca.gov.test",
        "case_number": "OP-ADMIN-1",
        "legal_basis": "court_order",
        "document_reference": "CO/2026/0043",
        "subject": fired.detail,
        "requested": ["kyc", "transactions"],
    }
    portal = f"http://{_address(sb, 'coinvault')}/api/le/requests"
    token = _world(sb.world).execute("SELECT token FROM requesters WHERE id = 'analyst'")
    auth = {"Authorization": f"Bearer {token.fetchone()[0]}"}
    r = requests.post(portal, json=request, headers=auth, proxies=_proxies(sb), timeout=20)
    assert r.status_code == 201, r.text
    answer = r.json()["answer"]
    assert (answer["status"], answer["subject"]["match"]) == ("answered", "deposit_tx")
    (account,) = answer["accounts"]
    deposit = {d["txid"]: d for d in account["deposits"]}[fired.detail]
    assert (deposit["value"], deposit["address"]) == (1_000_000, paid["scriptpubkey_address"])
    assert deposit["block_height"] == tx["status"]["block_height"]


def test_move_everything_and_then_nothing_is_left(running):
    """move_funds with no amount sweeps the wallet; a second sweep fails and is not recorded."""
    sb, progress, injects = running
    [fired] = injects.fire("sweep")
    tx = _explorer(sb, f"/api/tx/{fired.detail}")
    assert len(tx["vout"]) == 1
    conn = _world(sb.world)
    purpose = conn.execute(
        "SELECT w.actor_id, w.kind FROM addresses a JOIN wallets w ON w.id = a.wallet_id"
        " WHERE a.address = ?",
        (tx["vout"][0]["scriptpubkey_address"],),
    ).fetchone()
    conn.close()
    assert purpose == ("kestrel", "personal")
    address = tx["vin"][0]["prevout"]["scriptpubkey_address"]
    assert _explorer(sb, f"/api/address/{address}/utxo") == []
    progress.reset()
    with pytest.raises(InjectError, match="buyers-1.*no coins"):
        injects.fire("sweep")
    assert not progress.fired("sweep", None)


def test_failing_action_raises_and_records_nothing(running):
    """An actor without coins: a clear InjectError (a SandboxError), no fired row."""
    _, progress, injects = running
    with pytest.raises(InjectError, match="fundraiser.*no coins") as info:
        injects.fire("broke")
    assert isinstance(info.value, SandboxError)
    assert not progress.fired("broke", None)
    with pytest.raises(InjectError, match="no inject"):
        injects.fire("nope")


def test_at_injects_fire_at_their_time_and_once(running):
    """`at` injects: nothing before the start, each once when due, per seat when configs differ."""
    _, progress, injects = running
    progress.reset()
    assert injects.tick() == []
    started = progress.start(time.time() - 90)  # 1.5 minutes in
    assert [(f.inject, f.seat) for f in injects.tick()] == [("hello", None)]
    assert injects.tick() == []
    assert [m["text"] for m in progress.messages(2) if m["seat"] is None] == ["Hello class"]
    fired = injects.tick(now=started + 150)
    assert [(f.inject, f.seat) for f in fired] == [("yours", 1), ("yours", 2)]
    assert injects.tick(now=started + 150) == []
    assert [m["text"] for m in progress.messages(2) if m["seat"] == 2] == [
        "Seat 2: check your brief"
    ]
    rows = {r["id"]: r for r in injects.list()}
    assert rows["hello"]["fired_all"] and rows["yours"]["fired_seats"] == [1, 2]
    assert rows["yours"]["per_seat"] and not rows["hello"]["per_seat"]
    assert not rows["later"]["fired"] and rows["later"]["due"] == started + 600 * 60
    assert rows["move"]["summary"] == "admin moves 0.01 BTC to coinvault"


def test_solved_injects_fire_for_that_seat_only(running):
    """solved injects: the seat that solved gets its message, once; other seats nothing."""
    _, progress, injects = running
    progress.reset()
    assert [(f.inject, f.seat) for f in injects.on_solved(1, "vendor-name")] == [("tip", 1)]
    assert injects.on_solved(1, "vendor-name") == []
    assert injects.on_solved(2, "another-objective") == []
    assert [m["text"] for m in progress.messages(1)] == ["Well done seat 1"]
    assert progress.messages(2) == []
    assert progress.fired("tip", 1) and not progress.fired("tip", 2)


def test_manual_fire_per_seat_and_unknown_seat(running):
    """fire() of a per-seat inject fires it for every seat, or one; an unknown seat is refused."""
    _, progress, injects = running
    progress.reset()
    assert [(f.inject, f.seat) for f in injects.fire("yours")] == [("yours", 1), ("yours", 2)]
    assert [(f.inject, f.seat) for f in injects.fire("yours", 2)] == [("yours", 2)]
    texts = [m["text"] for m in progress.messages(2)]
    assert texts == ["Seat 2: check your brief"] * 2
    with pytest.raises(InjectError, match="no seat 9"):
        injects.fire("yours", 9)


def test_routes_withdraw_survives_update_and_restore(running):
    """Routes.withdraw keeps a site down across update(); restore brings it back; unknown names fail."""
    sb, _, _ = running
    routes = Routes({_address(sb, "market"): ("127.0.0.1", 1)})
    onion = _address(sb, "market")
    routes.withdraw(onion)
    routes.update({onion: ("127.0.0.1", 2)})
    assert routes.resolve("www." + onion).kind == "unknown-onion"
    assert routes.withdrawn() == [onion]
    routes.restore(onion)
    assert routes.resolve(onion).upstream == ("127.0.0.1", 2)
    with pytest.raises(KeyError):
        routes.withdraw("nowhere.test")


# -- the course world of tests/data/course.yaml, as `sandbox build` makes it ------------------


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course scenario's world running, with its progress store and inject runner."""
    out = tmp_path_factory.mktemp("course") / "course.db"
    build_world(load_scenario(str(DATA / "course.yaml")), out)
    yield from serve_with_injects(out, out.with_name("course.state"))


def test_course_world_timed_injects(course):
    """The course's forum post (per seat) fires at 10 minutes, its exit scam (class) at 30."""
    sb, progress, injects = course
    started = progress.start(time.time() - 11 * 60)
    fired = injects.tick()
    conn = _world(sb.world)
    seats = [r[0] for r in conn.execute("SELECT n FROM seats ORDER BY n")]
    assert len(seats) == 6
    assert [(f.inject, f.seat) for f in fired] == [("post", n) for n in seats]
    bindings = json.loads(conn.execute("SELECT bindings FROM seats WHERE n = 2").fetchone()[0])
    handle = conn.execute(
        "SELECT handle FROM accounts WHERE site_id = 'market' AND actor_id = ?",
        (bindings["subject"],),
    ).fetchone()[0]
    conn.close()
    page = _get(sb, "forum", fired[1].detail)
    assert f"Where is {handle}?" in page.text and "Staff" in page.text  # the admin posts
    assert injects.tick() == []
    fired = injects.tick(now=started + 30 * 60)
    assert [(f.inject, f.seat) for f in fired] == [("exit", None)]
    page = _until(lambda: [r for r in [_get(sb, "market")] if r.status_code == 503])
    assert page and "Withdrawals are paused for maintenance." in page[0].text


def test_course_world_move_funds_per_seat(course):
    """The course's move_funds for seat 1 spends seat 1's suspect's coins into the exchange."""
    sb, progress, injects = course
    [fired] = injects.fire("move", 1)
    tx = _explorer(sb, f"/api/tx/{fired.detail}")
    conn = _world(sb.world)
    subject = json.loads(conn.execute("SELECT bindings FROM seats WHERE n = 1").fetchone()[0])[
        "subject"
    ]
    owners = {
        i["prevout"]["scriptpubkey_address"]: conn.execute(
            "SELECT w.actor_id FROM addresses a JOIN wallets w ON w.id = a.wallet_id"
            " WHERE a.address = ?",
            (i["prevout"]["scriptpubkey_address"],),
        ).fetchone()[0]
        for i in tx["vin"]
    }
    deposit = conn.execute(
        "SELECT w.actor_id, a.purpose FROM addresses a JOIN wallets w ON w.id = a.wallet_id"
        " WHERE a.address = ?",
        (tx["vout"][0]["scriptpubkey_address"],),
    ).fetchone()
    conn.close()
    assert set(owners.values()) == {subject}
    assert deposit == ("bitbarn", f"deposit:{subject}")
    assert tx["vout"][0]["value"] == 2_000_000
    assert progress.fired("move", 1) and not progress.fired("move", 2)
