"""A site that moves to a new address: `mirror_of` and `online: false`.

A mirror is a second onion address of a site, serving the same pages; `online: false`
keeps it unreachable until a `site_online` inject, so an instructor can move a campaign to
a new address mid-class (`site_offline` on the old one). The link directory never lists
a mirror: the campaign announces it.
"""

from __future__ import annotations

import pytest
import requests
import yaml

from sandbox.compose import compose_file, site_service
from sandbox.scenario import load_scenario
from sandbox.serve import Sandbox
from sandbox.world.build import build_world
from tests.test_scenario import BASE, one

SCENARIO = """\
meta: {title: Moving campaign, locale: en_GB}
world: {seed: 4, start: 2026-03-01, days: 3, background_users: 20, transactions: 300}
actors:
  - {id: coinvault, kind: organisation, role: exchange}
  - {id: fundraiser, role: fundraiser, exchange: coinvault, balance: 0.01}
  - {id: donors, role: donor, count: 5, balance: 0.3}
sites:
  - {id: fund, kind: donation, name: Moving Fund, operator: fundraiser, captcha: false}
  - {id: fund-new, kind: donation, name: Moving Fund, operator: fundraiser, mirror_of: fund,
     online: false}
  - {id: atlas, kind: wiki, name: Atlas, captcha: false}
flows:
  - {id: gifts, kind: donation, from: donors, to: fundraiser, site: fund, count: 6,
     amount: {min: 0.01, max: 0.02}, start_day: 0.2, end_day: 2}
"""


@pytest.fixture(scope="module")
def scenario_path(tmp_path_factory):
    """The scenario file."""
    path = tmp_path_factory.mktemp("mirror") / "mirror.yaml"
    path.write_text(SCENARIO)
    return path


@pytest.fixture(scope="module")
def sandbox(scenario_path, tmp_path_factory):
    """Its world, served (no classroom, no Tron node)."""
    world = tmp_path_factory.mktemp("mirror-world") / "world.db"
    build_world(load_scenario(str(scenario_path)), world)
    with Sandbox(
        world, socks_port=0, http_port=0, explorer_port=0, classroom_port=None, tron_port=None,
        tronscan_port=None, state=tmp_path_factory.mktemp("mirror-state"),
    ) as sb:  # fmt: skip
        yield sb


def _get(sb: Sandbox, site_id: str, path: str = "/") -> requests.Response:
    """GET a page of a site through the gateway's SOCKS port."""
    host, port = sb.gateway.socks_address
    proxies = {"http": f"socks5h://{host}:{port}"}
    address = next(s.address for s in sb.sites if s.site_id == site_id)
    return requests.get(f"http://{address}{path}", proxies=proxies, timeout=20)


def test_mirror_is_offline_until_brought_up_then_serves_the_same_pages(sandbox):
    """online: false answers like an unknown onion; once up, the mirror is the same site."""
    sb = sandbox
    mirror = next(s for s in sb.sites if s.site_id == "fund-new")
    original = next(s for s in sb.sites if s.site_id == "fund")
    assert mirror.address.endswith(".onion") and mirror.address != original.address
    page = _get(sb, "fund")
    assert page.status_code == 200 and "Moving Fund" in page.text
    with pytest.raises(requests.exceptions.ConnectionError, match="0x04"):
        _get(sb, "fund-new")
    sb.set_online("fund-new", True)
    sb.set_online("fund", False)
    moved = _get(sb, "fund-new")
    assert moved.status_code == 200
    assert moved.text.count("Moving Fund") == page.text.count("Moving Fund")
    faq = _get(sb, "fund-new", "/faq")
    assert faq.status_code == 200
    with pytest.raises(requests.exceptions.ConnectionError, match="0x04"):
        _get(sb, "fund")
    sb.set_online("fund", True)


def test_the_directory_lists_the_site_but_never_its_mirror(sandbox):
    """The wiki lists the campaign's first address only."""
    sb = sandbox
    text = _get(sb, "atlas").text
    for path in ("/", "/links", "/directory"):
        response = _get(sb, "atlas", path)
        if response.status_code == 200:
            text += response.text
    assert next(s.address for s in sb.sites if s.site_id == "fund") in text
    assert next(s.address for s in sb.sites if s.site_id == "fund-new") not in text


def test_compose_routes_a_mirror_to_its_sites_container(scenario_path, tmp_path):
    """Under docker-compose a mirror has no container: the gateway routes it to the site's."""
    spec = compose_file(str(scenario_path), out_dir=tmp_path)
    assert not any("fund-new" in name for name in spec["services"])
    text = yaml.safe_dump(spec)
    assert f"--route=fund-new={site_service('fund')}:" in text
    assert site_service("fund") in spec["services"]


@pytest.mark.parametrize(
    ("site", "message"),
    [
        ("{id: m, kind: donation, name: M, mirror_of: nowhere}", "no site 'nowhere'"),
        ("{id: m, kind: donation, name: M, mirror_of: m}", "cannot be a mirror of itself"),
        ("{id: m, kind: market, name: M, mirror_of: fund}", "so it is a donation like 'fund'"),
        ("{id: m, kind: donation, name: M, online: maybe}", "expected true or false"),
    ],
)
def test_mirror_validation(tmp_path, site, message):
    """A mirror names another site of its kind; online is a boolean."""
    line, _, text = one(tmp_path, BASE + f"  - {site}\n")
    assert line == 25 and message in text
