"""A campaign that raises USDT on Tron: one published address, then one per donor.

`fresh_address_from_day` holds on Tron as on the Bitcoin-like ledger: the Tron chain pays
the published address before that day and each donor's own after it; the campaign page
shows a USDT (TRC-20) address, each visitor their own after the switch, and warns donors
off the old one; the answer key gives `tron_published_address` and
`tron_donation_addresses`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from marketplaces import create_site_app
from marketplaces.common.world import World
from sandbox.scenario import load_scenario
from sandbox.tron import address as tron_address
from sandbox.world.answers import Answers
from sandbox.world.build import build_world

SWITCH_DAY = 2
SCENARIO = """\
meta: {title: USDT campaign, locale: en_GB}
world: {seed: 9, start: 2026-03-01, days: 4, background_users: 20, transactions: 300,
        tron_transactions: 400}
actors:
  - {id: coinvault, kind: organisation, role: exchange}
  - {id: fundraiser, role: fundraiser, exchange: coinvault, tron: {TRX: 3000}}
  - {id: donors, role: donor, count: 8, tron: {USDT: 500, TRX: 60}}
sites:
  - {id: fund, kind: donation, name: Tether Fund, operator: fundraiser, fresh_address_from_day: 2}
flows:
  - {id: gifts, kind: donation, from: donors, to: fundraiser, site: fund, chain: tron,
     count: 20, amount: {min: 10, max: 40}, start_day: 0.2, end_day: 3.6}
  - {id: pool, kind: consolidation, from: fundraiser, to: fundraiser, site: fund, chain: tron,
     start_day: 3.8}
"""


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """The USDT campaign's scenario."""
    path = tmp_path_factory.mktemp("usdt-fund") / "usdt-fund.yaml"
    path.write_text(SCENARIO)
    return load_scenario(str(path))


@pytest.fixture(scope="module")
def world_path(scenario, tmp_path_factory) -> Path:
    """Its world, built once."""
    out = tmp_path_factory.mktemp("usdt-fund-world") / "fund.db"
    build_world(scenario, out)
    return out


@pytest.fixture
def conn(world_path):
    """A read-only connection to the world."""
    conn = sqlite3.connect(f"file:{world_path}?mode=ro", uri=True)
    yield conn
    conn.close()


def _donations(conn) -> list[tuple[int, str, str, str]]:
    """(time in ms, donor, address paid, that address's purpose) of every donation."""
    return conn.execute(
        """
        SELECT t.timestamp, e.source_id, e.to_address, a.purpose FROM tron_flow_events e
        JOIN tron_txs t ON t.id = e.tx_id JOIN tron_accounts a ON a.address = e.to_address
        WHERE e.flow_id = 'gifts' ORDER BY t.id
        """
    ).fetchall()


def test_published_address_until_the_switch_then_one_per_donor(conn):
    """Before the day every USDT donation pays the published address; after, the donor's own."""
    start_ms = 1000 * int(
        conn.execute("SELECT value FROM meta WHERE key = 'start_time'").fetchone()[0]
    )
    switch = start_ms + SWITCH_DAY * 86_400_000
    rows = _donations(conn)
    before = [r for r in rows if r[0] < switch]
    after = [r for r in rows if r[0] >= switch]
    assert before and after
    assert {r[3] for r in before} == {"donation:fund"}
    assert {r[3] for r in after} == {f"donation:{r[1]}" for r in after}
    assert len({r[2] for r in after}) == len({r[1] for r in after})  # one address per donor


def test_answer_key_gives_the_published_and_every_usdt_address(conn, scenario):
    """tron_published_address is the one address; tron_donation_addresses every one paid."""
    answers = Answers(conn, scenario)
    published = answers.site("fund", "tron_published_address")
    every = answers.site("fund", "tron_donation_addresses")
    assert tron_address.is_address(published)
    assert published in every and len(every) > 2
    assert every == sorted({r[2] for r in _donations(conn)})


def test_site_shows_a_usdt_address_per_visitor_and_names_the_old_one(
    world_path, conn, scenario, tmp_path
):
    """After the switch each visitor gets a USDT address of their own, valid and never the
    published one; the page warns donors off the published address."""
    published = Answers(conn, scenario).site("fund", "tron_published_address")
    world = World(world_path)
    try:
        app = create_site_app(world, "fund", tmp_path / "state.db")
        app.config["TESTING"] = True
        first = app.test_client()
        pages = [BeautifulSoup(c.get("/").data, "lxml") for c in (first, app.test_client())]
        again = BeautifulSoup(first.get("/").data, "lxml")
    finally:
        world.close()
    shown = [p.select_one(".address.usdt").get_text(strip=True) for p in pages]
    assert shown[0] != shown[1] and published not in shown
    assert all(tron_address.is_address(a) for a in shown)
    assert again.select_one(".address.usdt").get_text(strip=True) == shown[0]  # same session
    notice = pages[0].select_one("p.notice").get_text(" ", strip=True)
    assert f"Our old USDT address {published} is no longer used" in notice
    assert "Donations are paused" not in pages[0].get_text()
