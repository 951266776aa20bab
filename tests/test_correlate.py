"""Correlation: kestrel's sites and personas tied together, each link with its evidence."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from investigator_tools.case import Case
from investigator_tools.cli import cli as investigate
from investigator_tools.correlate import correlate


@pytest.fixture(scope="module")
def world(tiny_world):
    """The tiny world's answer key, read-only."""
    conn = sqlite3.connect(f"file:{tiny_world}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def case(tiny_crawl, tmp_path_factory):
    """A copy of the session's crawl of the tiny world."""
    case = Case(tiny_crawl.copy_to(tmp_path_factory.mktemp("correlate-case")))
    case.sites = tiny_crawl.sites
    yield case
    case.close()


@pytest.fixture(scope="module")
def result(case):
    """The correlation of the crawled case (extraction runs first, by itself)."""
    return correlate(case)


def link(result, family: str, value: str):
    """The link of one shared value."""
    return next(x for x in result.links if x.family == family and x.value == value)


def test_kestrel_is_linked_across_sites_with_evidence(case, result):
    """His handle joins the market, his shop and the social site; evidence names the captures."""
    market, shop, social = (case.sites[s] for s in ("market", "shop", "social"))
    handle = link(result, "username", "kestrel")
    assert {market, shop, social} <= set(handle.sites) and handle.strength == "strong"
    assert {f"kestrel@{market}", f"kestrel@{shop}", f"kestrel@{social}"} <= set(handle.personas)
    captures = {c.id: c for c in case.captures()}
    for item in handle.evidence:
        capture = captures[item["capture_id"]]
        assert item["url"] == capture.url and item["sha256"] == capture.sha256
        assert item["fetched_at"].startswith("20") and item["site"] in handle.sites
    assert result.linking(f"kestrel@{market}", f"kestrel@{shop}")


def test_shared_email_analytics_and_camera(case, result, world):
    """The email of his keys, the shop's analytics id and his camera link the same sites."""
    market, shop, social = (case.sites[s] for s in ("market", "shop", "social"))
    user_id = world.execute("SELECT user_id FROM pgp_keys WHERE actor_id = 'kestrel'").fetchone()[0]
    email = user_id.split("<")[1].rstrip(">").lower()
    assert {market, shop} <= set(link(result, "email", email).sites)
    ua = world.execute("SELECT analytics_id FROM sites WHERE id = 'shop'").fetchone()[0]
    assert set(link(result, "analytics_id", ua).sites) == {shop, social}
    serial = world.execute(
        "SELECT camera_make, camera_serial FROM photos WHERE camera_serial IS NOT NULL"
    ).fetchone()
    camera = link(result, "camera_serial", f"{serial[0].lower()}:{serial[1]}")
    assert set(camera.sites) == {market, shop}
    assert f"kestrel@{market}" in camera.personas  # photos belong to the pages showing them


def test_kestrel_cluster(case, result):
    """One cluster holds kestrel's personas on the market and the shop and the social site."""
    market, shop, social = (case.sites[s] for s in ("market", "shop", "social"))
    cluster = next(c for c in result.clusters if f"kestrel@{market}" in c["members"])
    assert {f"kestrel@{shop}", f"kestrel@{social}"} <= set(cluster["members"])
    assert any(v.startswith("camera_serial:") for v in cluster["via"])
    # The market as a whole is not kestrel's: other vendors' artefacts stay out of his cluster.
    assert market not in cluster["members"]


def test_server_status_ties_the_market_to_its_other_vhosts(result, case, world):
    """The market's server IP is shared with the clearnet vhost its server-status lists."""
    ip = world.execute("SELECT server_ip FROM sites WHERE id = 'market'").fetchone()[0]
    server = link(result, "server_ip", ip)
    others = [s for s in server.sites if s != case.sites["market"]]
    assert case.sites["market"] in server.sites and others
    assert all(s.endswith(".test") for s in others)
    assert all(e["url"].endswith("/server-status") for e in server.evidence)


def test_single_site_values_are_not_links(result):
    """Every link joins two sites or more."""
    assert all(len(x.sites) >= 2 for x in result.links)


def test_correlations_are_stored(case, result):
    """The latest correlation is kept in the case for reports."""
    rows = case.conn.execute("SELECT family, value, sites, evidence FROM correlations").fetchall()
    assert len(rows) == len(result.links)
    assert all(json.loads(r["evidence"]) for r in rows)


def test_cli_correlate(case):
    """`investigate correlate` prints links and clusters; --json has the evidence."""
    runner = CliRunner()
    table = runner.invoke(investigate, ["--case", str(case.path), "correlate"])
    assert table.exit_code == 0, table.output
    assert "kestrel" in table.stdout and "cluster 1" in table.stdout
    out = runner.invoke(
        investigate, ["--case", str(case.path), "correlate", "--family", "email", "--json"]
    )
    payload = json.loads(out.stdout)
    assert payload["links"] and {x["family"] for x in payload["links"]} == {"email"}
    bad = runner.invoke(investigate, ["--case", str(case.path), "correlate", "--family", "shoe"])
    assert bad.exit_code == 1 and "expected one of" in bad.output


def test_correlation_of_a_hand_made_case(tmp_path):
    """Two sites sharing a PGP signer and an email are linked; a mention alone is weak."""
    with Case(tmp_path / "h.db") as case:
        case.capture(
            "http://a.test/user/alice",
            "a.test",
            200,
            "text/html",
            b"<p>Contact alice@mail.test, ping @zed99</p>",
        )
        case.capture(
            "http://b.test/about",
            "b.test",
            200,
            "text/html",
            b"<table><tr><th>Seller</th><td>alice</td></tr></table><p>alice@mail.test @zed99</p>",
        )
        case.capture("http://c.test/", "c.test", 200, "text/plain", b"nothing here")
        result = correlate(case)
        email = link(result, "email", "alice@mail.test")
        assert email.sites == ["a.test", "b.test"]
        assert email.personas == ["alice@a.test", "alice@b.test"]
        assert link(result, "username", "alice").strength == "strong"
        assert link(result, "username", "zed99").strength == "weak"
        assert result.clusters[0]["sites"] == ["a.test", "b.test"]
