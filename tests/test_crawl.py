"""The crawler and its network layer, end to end through the gateway of a running tiny world."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from investigator_tools.case import Case
from investigator_tools.cli import cli as investigate
from investigator_tools.crawl import crawl, links, login_form, parse_login
from investigator_tools.errors import InputError, NetworkError
from investigator_tools.extract.onions import onion_from_key
from investigator_tools.net import Client, RateLimiter, load_cookies
from sandbox.gateway import LatencyModel
from sandbox.scenario import load_scenario
from sandbox.serve import Sandbox
from sandbox.world.build import build_world

LOGIN = ("trainee7", "correct horse 42")


# -- helpers shared with test_extract and test_correlate ----------------------------------


@contextmanager
def serve(world: Path, state: Path):
    """A world's sites behind a gateway on free ports."""
    with Sandbox(world, socks_port=0, http_port=0, explorer_port=0, state=state) as sandbox:
        yield sandbox


def socks(sandbox: Sandbox) -> str:
    """The gateway's SOCKS port as a proxy URL (remote name resolution)."""
    host, port = sandbox.gateway.socks_address
    return f"socks5h://{host}:{port}"


def address(sandbox: Sandbox, site_id: str) -> str:
    """The host name of a site of the running world."""
    return next(s.address for s in sandbox.sites if s.site_id == site_id)


def human(sandbox: Sandbox):
    """A CAPTCHA 'solver' that plays the human: it reads the answer the site keeps."""

    def solve(image: bytes) -> str:
        """The answer of the newest challenge (the crawler asks one at a time)."""
        assert image.startswith(b"\x89PNG")
        conn = sqlite3.connect(sandbox.state / "state.db")
        try:
            return conn.execute("SELECT answer FROM captchas ORDER BY id DESC LIMIT 1").fetchone()[
                0
            ]
        finally:
            conn.close()

    return solve


def start_urls(sandbox: Sandbox) -> list[str]:
    """The wiki, the market, the shop, the forum and the social site."""
    return [f"http://{address(sandbox, s)}/" for s in ("wiki", "market", "shop", "forum", "social")]


def crawl_everything(case: Case, sandbox: Sandbox, **options):
    """Crawl the tiny world's sites deeply enough to reach every planted leak."""
    settings = dict(
        proxy=socks(sandbox),
        depth=3,
        max_pages=2000,
        rate=0,
        captcha=human(sandbox),
        login=LOGIN,
    )
    settings.update(options)
    return crawl(case, start_urls(sandbox), **settings)


# -- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox(tiny_world, tmp_path_factory):
    """The tiny world, served for this module."""
    with serve(tiny_world, tmp_path_factory.mktemp("crawl-state")) as running:
        yield running


@pytest.fixture(scope="module")
def crawled(sandbox, tmp_path_factory):
    """A case with the whole tiny world crawled into it, and the crawl's result."""
    case = Case(tmp_path_factory.mktemp("crawl-case") / "case.db", operator="tester")
    case.begin("test crawl")
    result = crawl_everything(case, sandbox)
    yield case, result
    case.close()


# -- the full crawl ----------------------------------------------------------------------


def test_crawl_reaches_every_site(crawled, sandbox):
    """Every start site is captured, nothing failed, and the frontier is empty."""
    case, result = crawled
    assert result.failed == [] and result.pending == 0 and not result.stopped
    hosts = {c.host for c in case.captures()}
    for site in ("wiki", "market", "shop", "forum", "social"):
        assert address(sandbox, site) in hosts
    assert result.fetched > 200 and result.images > 20
    print(f"\ncrawl: {result.fetched} fetches in {result.elapsed:.2f} s = {result.rate:.0f}/s")


def test_crawl_passes_the_login_wall_with_captcha(crawled, sandbox):
    """The market's protected pages are captured logged in, after registering through a CAPTCHA."""
    case, result = crawled
    market = address(sandbox, "market")
    assert market in result.logins
    events = case.conn.execute("SELECT host, event FROM crawl_events").fetchall()
    assert (market, "register") in {tuple(e) for e in events}
    inbox = [c for c in case.captures(market) if "/messages?to=" in c.url]
    assert inbox, "the vendor's message page was not reached"
    for capture in inbox:
        assert capture.status == 200
        assert b"Logged in as" in capture.body and b'name="password"' not in capture.body


def test_crawl_probes_leaks_and_skips_logout(crawled, sandbox):
    """server-status is fetched on the market; no logout URL is ever requested."""
    case, _ = crawled
    urls = {c.url for c in case.captures()}
    assert f"http://{address(sandbox, 'market')}/server-status" in urls
    assert not any("logout" in u for u in urls)
    absent = case.conn.execute(
        "SELECT COUNT(*) FROM crawl_frontier WHERE kind = 'probe' AND capture_id IS NULL"
    ).fetchone()[0]
    assert absent > 0  # 404 probes are not stored as captures


def test_captures_are_hashed_once_each(crawled):
    """Every capture's SHA-256 matches its body, and no URL was captured twice."""
    case, _ = crawled
    assert case.verify() == []
    for capture in case.captures():
        assert hashlib.sha256(capture.body).hexdigest() == capture.sha256
        assert capture.via and capture.via.startswith("socks5h://")
    dupes = case.conn.execute(
        "SELECT url, COUNT(*) FROM captures GROUP BY url HAVING COUNT(*) > 1"
    ).fetchall()
    assert dupes == []


def test_second_run_fetches_nothing_new(crawled, sandbox):
    """Running the same crawl again continues the (empty) frontier: no fetch, no capture."""
    case, _ = crawled
    before = len(case.captures())
    again = crawl_everything(case, sandbox)
    assert again.fetched == 0 and again.captured == 0
    assert len(case.captures()) == before


def test_login_wall_retries_a_mistyped_captcha(sandbox, tmp_path):
    """A wrong CAPTCHA answer gets a fresh challenge; without credentials the wall is reported."""
    page = f"http://{address(sandbox, 'market')}/messages?to=kestrel"
    answers = []
    solve = human(sandbox)

    def clumsy(image: bytes) -> str:
        """Mistype the first CAPTCHA, then read them right."""
        answers.append(solve(image))
        return "WRONG1" if len(answers) == 1 else answers[-1]

    options = dict(proxy=socks(sandbox), depth=0, rate=0, probe=False, images=False)
    with Case(tmp_path / "wall.db") as case:
        walled = crawl(case, [page], **options)
        assert walled.login_walls == [page] and walled.logins == []
    with Case(tmp_path / "in.db") as case:
        result = crawl(
            case, [page], captcha=clumsy, login=("trainee8", "another pass 9"), **options
        )
        assert result.logins == [address(sandbox, "market")]
        assert len(answers) == 3  # the mistyped one, the login (unknown user), the registration
        capture = next(c for c in case.captures() if c.url == page)
        assert b"Logged in as" in capture.body
        events = [r[0] for r in case.conn.execute("SELECT event FROM crawl_events ORDER BY id")]
        assert events == ["captcha", "register"]


def test_fetching_ahead_stores_what_one_fetch_at_a_time_stores(sandbox, tmp_path):
    """Fetches in flight ahead of the page being stored (the default) change nothing: the same
    pages, in the same order, the login wall passed through its CAPTCHAs the same way."""
    market = [f"http://{address(sandbox, 'market')}/"]
    runs = []
    for threads, user in ((0, "oneatatime"), (4, "fourahead")):
        with Case(tmp_path / f"threads-{threads}.db") as case:
            result = crawl(
                case,
                market,
                proxy=socks(sandbox),
                depth=2,
                rate=0,
                captcha=human(sandbox),
                login=(user, "a long pass 77"),
                threads=threads,
            )
            assert result.failed == [] and result.logins == [address(sandbox, "market")]
            captures = case.captures()
            inbox = [c for c in captures if "/messages?to=" in c.url]
            assert inbox and all(b"Logged in as" in c.body for c in inbox)
            events = [r[0] for r in case.conn.execute("SELECT event FROM crawl_events ORDER BY id")]
            runs.append(([(c.url, c.status) for c in captures], events, result.fetched))
    assert runs[0] == runs[1]


# -- resuming ----------------------------------------------------------------------------


def test_interrupted_crawl_resumes_without_duplicates(sandbox, tmp_path):
    """Stop after N fetches, run again: the two runs add up to one uninterrupted crawl."""
    shop = [f"http://{address(sandbox, 'shop')}/"]
    options = dict(proxy=socks(sandbox), depth=2, rate=0, max_pages=1000)
    with Case(tmp_path / "whole.db") as whole:
        full = crawl(whole, shop, **options)
        whole_urls = sorted(c.url for c in whole.captures())
    with Case(tmp_path / "parts.db") as parts:
        first = crawl(parts, shop, **{**options, "max_pages": 12})
        assert first.stopped and first.fetched == 12 and first.pending > 0
        second = crawl(parts, shop, **options)
        assert not second.stopped and second.pending == 0
        assert first.fetched + second.fetched == full.fetched
        assert first.captured + second.captured == full.captured
        part_urls = sorted(c.url for c in parts.captures())
        assert part_urls == whole_urls and len(set(part_urls)) == len(part_urls)
        assert parts.verify() == []


def test_ctrl_c_mid_crawl_loses_nothing(sandbox, tmp_path):
    """A KeyboardInterrupt during a crawl keeps what was stored; the next run completes it."""
    shop = [f"http://{address(sandbox, 'shop')}/"]

    def interrupt(fetched: int, pending: int, url: str) -> None:
        """The trainee presses Ctrl-C after the 7th page."""
        if fetched == 7:
            raise KeyboardInterrupt

    with Case(tmp_path / "ctrl-c.db") as case:
        with pytest.raises(KeyboardInterrupt):
            crawl(case, shop, proxy=socks(sandbox), rate=0, progress=interrupt)
        kept = len(case.captures())
        assert 0 < kept <= 7
        rest = crawl(case, shop, proxy=socks(sandbox), rate=0)
        assert rest.pending == 0 and rest.fetched > 0
        urls = [c.url for c in case.captures()]
        assert len(urls) == len(set(urls)) == kept + rest.captured


def test_depth_can_be_raised_later(sandbox, tmp_path):
    """Links beyond --depth are parked; a later run with more depth picks them up."""
    wiki = [f"http://{address(sandbox, 'wiki')}/"]
    with Case(tmp_path / "depth.db") as case:
        shallow = crawl(case, wiki, proxy=socks(sandbox), depth=0, rate=0, probe=False)
        deeper = crawl(case, wiki, proxy=socks(sandbox), depth=1, rate=0, probe=False)
        assert shallow.fetched >= 1 and deeper.fetched > 0
        assert shallow.offsite  # the wiki links to other sites that were not crawled
        assert len({c.url for c in case.captures()}) == len(case.captures())


# -- errors ------------------------------------------------------------------------------


def test_unknown_onion_is_a_clear_network_error(sandbox, tmp_path):
    """A valid but unknown onion: NetworkError naming the URL; the CLI exits 1 with it."""
    url = f"http://{onion_from_key(os.urandom(32))}/"
    with Case(tmp_path / "x.db") as case, pytest.raises(NetworkError) as info:
        crawl(case, [url], proxy=socks(sandbox), rate=0)
    assert url in str(info.value) and "unknown onion" in str(info.value)
    from click.testing import CliRunner

    result = CliRunner().invoke(
        investigate, ["--case", str(tmp_path / "y.db"), "crawl", url, "--proxy", socks(sandbox)]
    )
    assert result.exit_code == 1
    assert url in result.output and "error:" in result.output


def test_proxy_down_and_bad_onion(tmp_path):
    """No proxy listening, or an onion with a bad checksum: a clear error, no traceback."""
    good = f"http://{onion_from_key(b'k' * 32)}/"
    with Case(tmp_path / "x.db") as case:
        with pytest.raises(NetworkError, match="cannot reach the proxy"):
            crawl(case, [good], proxy="socks5h://127.0.0.1:9", rate=0)
        bad = good.replace(good[10], "a" if good[10] != "a" else "b", 1)
        with pytest.raises(InputError, match="not a valid v3 onion"):
            crawl(case, [bad], proxy="socks5h://127.0.0.1:9")
    with pytest.raises(InputError, match="socks5h"):
        Client("socks5://127.0.0.1:9050")


def test_refused_destination_through_http_proxy(sandbox):
    """The gateway's HTTP proxy refusing the clearnet is a NetworkError naming the URL."""
    host, port = sandbox.gateway.http_address
    with Client(f"http://{host}:{port}", rate=0) as client:
        page = client.get(f"http://{address(sandbox, 'wiki')}/")
        assert page.status == 200 and page.is_html
        with pytest.raises(NetworkError, match=r"http://example\.com/"):
            client.get("http://example.com/")


# -- cookies -----------------------------------------------------------------------------


def test_cookie_files(tmp_path):
    """Netscape cookies.txt and JSON exports load; garbage gets one clear error."""
    netscape = tmp_path / "cookies.txt"
    netscape.write_text(
        "# Netscape HTTP Cookie File\n"
        "market.onion\tFALSE\t/\tFALSE\t0\tsession\tabc123\n"
        "#HttpOnly_.chirper.test\tTRUE\t/\tFALSE\t1999999999\tsid\txyz\n"
    )
    jar = load_cookies(netscape)
    assert {(c.domain, c.name, c.value) for c in jar} == {
        ("market.onion", "session", "abc123"),
        (".chirper.test", "sid", "xyz"),
    }
    exported = tmp_path / "cookies.json"
    exported.write_text(json.dumps([{"name": "a", "value": "1", "domain": "x.test", "path": "/"}]))
    assert [c.name for c in load_cookies(exported)] == ["a"]
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("this is not a cookie file\nnor is this\n")
    with pytest.raises(InputError, match=r"garbage\.txt, line 1"):
        load_cookies(garbage)
    broken = tmp_path / "broken.json"
    broken.write_text('[{"name": "a", "value": ')
    with pytest.raises(InputError, match=r"broken\.json.*not valid JSON"):
        load_cookies(broken)


def test_cli_rejects_garbage_cookies(tmp_path):
    """`investigate crawl --cookies garbage` exits 1 with the file named, before any fetch."""
    from click.testing import CliRunner

    garbage = tmp_path / "cookies.txt"
    garbage.write_bytes(b"\x00\x01garbage\tonly two\n")
    result = CliRunner().invoke(
        investigate,
        ["--case", str(tmp_path / "c.db"), "crawl", "http://x.test/", "--cookies", str(garbage)],
    )
    assert result.exit_code == 1
    assert "error:" in result.output and str(garbage) in result.output


def test_cookies_are_sent(sandbox, tmp_path):
    """Imported cookies go to their site: a forged queue cookie is visible in the request."""
    jar_file = tmp_path / "c.json"
    social = address(sandbox, "social")
    jar_file.write_text(json.dumps([{"name": "tag", "value": "v1", "domain": social, "path": "/"}]))
    with Client(socks(sandbox), rate=0, cookies=jar_file) as client:
        page = client.get(f"http://{social}/")
        assert page.status == 200
        assert client.session.cookies.get("tag", domain=social) == "v1"


@pytest.mark.slow  # simulated circuit failures, retried with their delays
def test_circuit_failures_are_retried(tiny_world, tmp_path):
    """With Tor-like latency and one circuit in two failing, the crawl still gets every page.

    Keep-alive carries many pages over one circuit, so a crawl opens only a few: at one in
    five, a crawl could open none that failed."""
    latency = LatencyModel(enabled=True, mean_ms=2, jitter_ms=1, circuit_failure_rate=0.5, seed=7)
    flaky = Sandbox(tiny_world, socks_port=0, http_port=0, explorer_port=0, state=tmp_path)
    flaky.latency = latency
    with flaky, Case(tmp_path / "f.db") as case:
        shop = f"http://{address(flaky, 'shop')}/"
        result = crawl(case, [shop], proxy=socks(flaky), rate=0, depth=1, images=False)
        assert result.failed == [] and result.fetched > 10
        failures = sqlite3.connect(tmp_path / "gateway.db").execute(
            "SELECT COUNT(*) FROM connections WHERE outcome = 'circuit-failed'"
        )
        assert failures.fetchone()[0] > 0  # there were failures, and they were retried


# -- the DDoS queue ---------------------------------------------------------------------


@pytest.mark.slow  # builds a world of its own and waits out the queue
def test_ddos_queue_is_waited_out(tiny_path, tmp_path):
    """A market behind a DDoS queue (503 + Retry-After + cookie) is crawled after the wait."""
    scenario = yaml.safe_load(tiny_path.read_text())
    scenario["world"].update(transactions=300, background_users=10)  # builds faster
    for site in scenario["sites"]:
        if site["id"] == "market":
            site["ddos_queue"] = True
    path = tmp_path / "queued.yaml"
    path.write_text(yaml.safe_dump(scenario))
    world = tmp_path / "queued.db"
    build_world(load_scenario(str(path)), world)
    with serve(world, tmp_path / "state") as running, Case(tmp_path / "q.db") as case:
        market = f"http://{address(running, 'market')}/"
        result = crawl(case, [market], proxy=socks(running), depth=0, rate=0, probe=False)
        assert result.queue_waited >= 1 and result.failed == []
        home = next(c for c in case.captures() if c.url == market)
        assert home.status == 200 and b"You are in the queue" not in home.body
    # Fetching ahead waits for the queue to let us in: one place in the line, not one per
    # page in flight (each would be told to wait its own Retry-After).
    with serve(world, tmp_path / "state2") as running, Case(tmp_path / "q2.db") as case:
        market = f"http://{address(running, 'market')}/"
        starts = [market, market + "login", market + "register", market + "?page=2"]
        deeper = crawl(case, starts, proxy=socks(running), depth=1, rate=0, probe=False)
        assert deeper.failed == [] and deeper.fetched > 10
        assert deeper.queue_waited < 2 * result.queue_waited
        assert not any(b"You are in the queue" in c.body for c in case.captures())


# -- small parts -------------------------------------------------------------------------


def test_links_skip_logout_clearnet_and_lookalikes():
    """Links: logout, clearnet, bad-checksum onions and Apache sort links are not followed."""
    from bs4 import BeautifulSoup

    good = onion_from_key(b"g" * 32)
    bad = good[:5] + ("a" if good[5] != "a" else "b") + good[6:]
    html = f"""
      <a href="/vendor/x">v</a> <a href="/logout">out</a> <a href="http://{good}/p">ok</a>
      <a href="http://{bad}/p">phish</a> <a href="https://example.com/">clear</a>
      <a href="?C=N;O=D">sort</a> <img src="/photos/1/IMG_1.JPG"> <a href="mailto:a@b.test">m</a>
      <a href="/captcha/3.png">c</a> <a href="/pic.jpg">pic</a>
    """
    found = dict(links("http://site.test/dir/", BeautifulSoup(html, "html.parser")))
    assert found == {
        "http://site.test/vendor/x": "page",
        f"http://{good}/p": "page",
        "http://site.test/photos/1/IMG_1.JPG": "image",
        "http://site.test/pic.jpg": "image",
    }


def test_login_form_detection_and_parse_login():
    """A POST form with a password field is a login wall; --login needs USER:PASSWORD."""
    from bs4 import BeautifulSoup

    wall = '<form method="post"><input name="handle"><input type="password" name="p"></form>'
    search = '<form method="get"><input name="q"></form>'
    assert login_form(BeautifulSoup(wall, "html.parser")) is not None
    assert login_form(BeautifulSoup(search, "html.parser")) is None
    assert parse_login("bob:pa:ss") == ("bob", "pa:ss")
    with pytest.raises(InputError):
        parse_login("bob")


def test_rate_limiter_paces_each_host():
    """At 4 requests/s, the second request to a host waits about 0.25 s; other hosts do not."""
    waits = []
    limiter = RateLimiter(4.0, sleep=waits.append)
    limiter.wait("a.onion")
    limiter.wait("b.onion")
    limiter.wait("a.onion")
    assert len(waits) == 1 and 0.2 < waits[0] <= 0.25
    RateLimiter(0, sleep=waits.append).wait("a.onion")
    assert len(waits) == 1


def test_cli_crawl_json(sandbox, tmp_path):
    """`investigate crawl --json` prints the run and logs the command in the custody chain."""
    from click.testing import CliRunner

    case_path = tmp_path / "cli.db"
    wiki = f"http://{address(sandbox, 'wiki')}/"
    args = ["--case", str(case_path), "crawl", wiki, "--proxy", socks(sandbox), "--depth", "0"]
    result = CliRunner().invoke(investigate, [*args, "--rate", "0", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["fetched"] >= 1 and report["failed"] == []
    with Case(case_path) as case:
        # Every capture points at the custody entry of the command that took it.
        logged = {entry["id"] for entry in case.custody()}
        taken = {r[0] for r in case.conn.execute("SELECT custody_id FROM captures")}
        assert taken and taken <= logged
        assert case.captures()[0].url == wiki
