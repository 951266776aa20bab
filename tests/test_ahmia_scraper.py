"""A scraper written for Ahmia finds the sandbox's sites: the search engine serves
`/search/?q=` with Ahmia's result markup, through the gateway, with real clients."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from bs4 import BeautifulSoup

from sandbox.serve import Sandbox


@pytest.fixture(scope="module")
def served(tiny_world, tmp_path_factory):
    """The tiny world behind its gateway."""
    state = tmp_path_factory.mktemp("ahmia-state")
    with Sandbox(
        tiny_world, socks_port=0, http_port=0, explorer_port=0, state=state, classroom_port=None
    ) as sb:
        yield sb


def _proxies(sb: Sandbox) -> dict[str, str]:
    """socks5h: the gateway resolves the names, as Tor does."""
    url = "socks5h://{}:{}".format(*sb.gateway.socks_address)
    return {"http": url, "https": url}


def ahmia_scrape(base: str, query: str, proxies: dict) -> list[dict]:
    """What Ahmia scrapers do: GET /search/?q=, take `li.result h4 a`, read redirect_url."""
    page = requests.get(f"{base}/search/", params={"q": query}, proxies=proxies, timeout=30)
    page.raise_for_status()
    soup = BeautifulSoup(page.text, "html.parser")
    found = []
    for item in soup.select("li.result"):
        link = item.select_one("h4 a")
        href = link["href"]
        # Both ways scrapers read it: a query-string parser, and a plain split.
        parsed = parse_qs(urlsplit(href).query)["redirect_url"][0]
        assert href.split("redirect_url=")[1] == parsed, href
        assert urlsplit(href).path == "/search/redirect"
        found.append(
            {
                "title": link.get_text(strip=True),
                "url": parsed,
                "description": item.find("p").get_text(strip=True),
                "cite": item.find("cite").get_text(strip=True),
                "href": href,
            }
        )
    return found


def test_an_ahmia_scraper_finds_the_worlds_sites(served):
    """Searching each linked site's name finds it, under its own address."""
    engine = next(s for s in served.sites if s.kind == "search")
    base = f"http://{engine.address}"
    proxies = _proxies(served)
    wanted = [s for s in served.sites if s.kind in ("market", "shop", "forum")]
    assert wanted
    for site in wanted:
        results = ahmia_scrape(base, site.name, proxies)
        hosts = {urlsplit(r["url"]).hostname for r in results}
        assert site.address in hosts, (site.name, hosts)
        first = next(r for r in results if urlsplit(r["url"]).hostname == site.address)
        assert first["title"] and first["cite"].startswith(f"http://{site.address}")
    assert ahmia_scrape(base, "zzzyyyxxxnothing", proxies) == []


def test_the_redirect_leads_to_the_site(served):
    """Following a result's link (Ahmia's /search/redirect) lands on the site itself."""
    engine = next(s for s in served.sites if s.kind == "search")
    market = next(s for s in served.sites if s.kind == "market")
    proxies = _proxies(served)
    results = ahmia_scrape(f"http://{engine.address}", market.name, proxies)
    href = next(r["href"] for r in results if market.address in r["url"])
    landed = requests.get(f"http://{engine.address}{href}", proxies=proxies, timeout=30)
    assert landed.status_code == 200
    assert urlsplit(landed.url).hostname == market.address
    assert landed.history and landed.history[0].status_code == 302


def test_the_redirect_goes_nowhere_outside_the_world(served):
    """A redirect_url that is not an onion or .test page is refused with a 400."""
    engine = next(s for s in served.sites if s.kind == "search")
    proxies = _proxies(served)
    for target in ("http://example.com/", "javascript:alert(1)", "", "ftp://x.onion/"):
        r = requests.get(
            f"http://{engine.address}/search/redirect",
            params={"search_term": "x", "redirect_url": target},
            proxies=proxies,
            timeout=30,
            allow_redirects=False,
        )
        assert r.status_code == 400, (target, r.status_code)
        assert "redirect_url" in r.text
