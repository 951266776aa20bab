"""A donation campaign that publishes one address, then gives every donor a new one.

`fresh_address_from_day` on a donation site: the ledger pays the published address before
that day and a fresh address per donor after it; the site then shows each visitor their
own address and warns them off the old one; the answer key tells the two apart.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from marketplaces import create_site_app
from marketplaces.common.world import World
from sandbox.scenario import load_scenario
from sandbox.world.answers import Answers
from sandbox.world.build import build_world
from tests.test_scenario import BASE, problems

SWITCH_DAY = 2
SCENARIO = """\
meta: {title: Switching campaign, locale: en_GB}
world: {seed: 5, start: 2026-03-01, days: 4, background_users: 40, transactions: 1500}
actors:
  - {id: coinvault, kind: organisation, role: exchange}
  - {id: fundraiser, role: fundraiser, exchange: coinvault, balance: 0.01}
  - {id: donors, role: donor, count: 8, balance: 0.3}
sites:
  - {id: fund, kind: donation, name: Switch Fund, operator: fundraiser, fresh_address_from_day: 2}
  - {id: wiki, kind: wiki, name: Wiki}
flows:
  - {id: gifts, kind: donation, from: donors, to: fundraiser, site: fund, count: 24,
     amount: {min: 0.01, max: 0.02}, start_day: 0.2, end_day: 3.6}
  - {id: pool, kind: consolidation, from: fundraiser, to: fundraiser, site: fund, start_day: 3.8}
"""


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """The switching campaign's scenario."""
    path = tmp_path_factory.mktemp("switch") / "switch.yaml"
    path.write_text(SCENARIO)
    return load_scenario(str(path))


@pytest.fixture(scope="module")
def world_path(scenario, tmp_path_factory) -> Path:
    """Its world, built once."""
    out = tmp_path_factory.mktemp("switch-world") / "switch.db"
    build_world(scenario, out)
    return out


@pytest.fixture
def conn(world_path):
    """A read-only connection to the world."""
    conn = sqlite3.connect(f"file:{world_path}?mode=ro", uri=True)
    yield conn
    conn.close()


def _donations(conn) -> list[tuple[int, str, str, str]]:
    """(block time, donor, address, its purpose) of every donation, in order."""
    return conn.execute(
        """
        SELECT b.time, fe.source_id, a.address, a.purpose FROM flow_events fe
        JOIN transactions t ON t.id = fe.tx_id JOIN blocks b ON b.height = t.height
        JOIN outputs o ON o.tx_id = t.id JOIN addresses a ON a.id = o.address_id
        JOIN wallets w ON w.id = a.wallet_id AND w.kind = 'donation'
        WHERE fe.flow_id = 'gifts' ORDER BY t.height, t.position
        """
    ).fetchall()


def test_published_address_until_the_switch_then_one_per_donor(conn):
    """Before the day every donation pays the published address; after it, the donor's own."""
    start = conn.execute("SELECT value FROM meta WHERE key = 'start_time'").fetchone()[0]
    switch = int(start) + SWITCH_DAY * 86_400
    rows = _donations(conn)
    before = [r for r in rows if r[0] < switch]
    after = [r for r in rows if r[0] >= switch + 3600]  # a block's time trails its events
    assert before and after
    assert {r[3] for r in before} == {"published"}
    assert {r[3] for r in after} == {f"donation:{r[1]}" for r in after}
    by_donor: dict[str, set[str]] = {}
    for _, donor, address, _ in after:
        by_donor.setdefault(donor, set()).add(address)
    assert all(len(addresses) == 1 for addresses in by_donor.values())  # one each, reused
    assert len({a for s in by_donor.values() for a in s}) == len(by_donor)  # never shared


def test_consolidation_spends_every_donation_address(conn):
    """The sweep takes the published and the fresh addresses' coins together."""
    spent = {
        r[0]
        for r in conn.execute(
            """
            SELECT a.address FROM flow_events fe JOIN inputs i ON i.tx_id = fe.tx_id
            JOIN outputs o ON o.tx_id = i.prev_tx_id AND o.n = i.prev_n
            JOIN addresses a ON a.id = o.address_id WHERE fe.flow_id = 'pool'
            """
        )
    }
    assert spent == {r[2] for r in _donations(conn)}


def test_answer_key_tells_published_from_all(conn, scenario):
    """published_address is the one address; donation_addresses lists every one paid."""
    answers = Answers(conn, scenario)
    published = answers.site("fund", "published_address")
    every = answers.site("fund", "donation_addresses")
    assert published in every and len(every) > 2
    assert every == sorted({r[2] for r in _donations(conn)})


def test_site_shows_own_address_and_names_the_old_one(world_path, conn, scenario, tmp_path):
    """After the switch the campaign page gives each visitor a new address and names the old."""
    published = Answers(conn, scenario).site("fund", "published_address")
    world = World(world_path)
    try:
        app = create_site_app(world, "fund", tmp_path / "state.db")
        app.config["TESTING"] = True
        pages = [BeautifulSoup(app.test_client().get("/").data, "lxml") for _ in range(2)]
        faq = app.test_client().get("/faq").get_data(as_text=True)
    finally:
        world.close()
    shown = [p.select_one(".panel .address").get_text(strip=True) for p in pages]
    assert shown[0] != shown[1] and published not in shown
    notice = pages[0].select_one("p.notice").get_text(" ", strip=True)
    assert f"Our old address {published} is no longer used" in notice
    assert "2026-03-03" in notice  # start + 2 days
    assert "Every donor gets a fresh address" in faq


@pytest.mark.parametrize(
    ("site", "message"),
    [
        (
            "{id: wiki, kind: wiki, name: W, fresh_address_from_day: 1}",
            "fresh_address_from_day is only for donation sites, not a wiki",
        ),
        (
            "{id: f2, kind: donation, name: F, operator: kestrel, fresh_address_per_donor: true,"
            " fresh_address_from_day: 1}",
            "fresh_address_per_donor: true already gives every donor a new address",
        ),
        (
            "{id: f2, kind: donation, name: F, operator: kestrel, fresh_address_from_day: 99}",
            "fresh_address_from_day 99 is after the world's last day",
        ),
    ],
)
def test_switch_day_validation(tmp_path, site, message):
    """A misplaced, doubled or too late switch day is reported at its line."""
    found = problems(tmp_path, BASE + f"  - {site}\n")
    assert len(found) == 1, found
    line, path, text = found[0]
    assert line == 25 and path.startswith("sites[") and message in text, found[0]
