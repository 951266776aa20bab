"""Honest server headers: every response of every served name carries exactly one Server
header, the one the site runs, and never names Werkzeug or Python: a fingerprinting tool
must not see a Python test server."""

from __future__ import annotations

import re
import socket
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from sandbox.errors import ScenarioError
from sandbox.scenario import load_scenario
from sandbox.serve import Sandbox
from sandbox.world.build import build_world
from tests.course_secret import SECRET

_GIVEAWAY = re.compile(rb"werkzeug|python", re.IGNORECASE)
_HREF = re.compile(r'href="(/[^"#?]*)"')
_PAGES_PER_NAME = 8


@pytest.fixture(scope="module")
def tron_world(tmp_path_factory):
    """tf-donations: the issuer's portal, the Tron node and explorer, a swap-less world."""
    out = tmp_path_factory.mktemp("headers") / "tf.db"
    build_world(load_scenario("tf-donations"), out, secret=SECRET)
    return out


@pytest.fixture(scope="module", params=["tiny", "tf-donations"])
def served(request, tiny_world, tron_world, tmp_path_factory):
    """A world served on free ports, with its classroom, Tron node and Tron explorer."""
    world = tiny_world if request.param == "tiny" else tron_world
    state = tmp_path_factory.mktemp("headers-state")
    with Sandbox(world, socks_port=0, http_port=0, explorer_port=0, state=state) as sb:
        yield sb


def _proxies(sb: Sandbox) -> dict[str, str]:
    """requests' settings for the gateway's HTTP proxy."""
    url = "http://{}:{}".format(*sb.gateway.http_address)
    return {"http": url}


def _check(response: requests.Response, where: str) -> str:
    """Assert one Server header and no giveaway in the head or body; return the banner."""
    banners = response.raw.headers.getlist("Server")
    assert len(banners) == 1, (where, banners)
    head = "\r\n".join(f"{k}: {v}" for k, v in response.raw.headers.items()).encode()
    assert not _GIVEAWAY.search(head), (where, head)
    found = _GIVEAWAY.search(response.content)
    assert not found, (where, response.content[max(0, found.start() - 80) : found.end() + 80])
    return banners[0]


def _walk(sb: Sandbox, name: str) -> list[str]:
    """Fetch a name's home page, the pages it links to and a 404; return every banner."""
    proxies = _proxies(sb)
    home = requests.get(f"http://{name}/", proxies=proxies, timeout=30)
    banners = [_check(home, f"{name}/")]
    links = []
    for path in _HREF.findall(home.text):
        if path not in links and path != "/" and not path.startswith("//"):
            links.append(path)
    for path in links[:_PAGES_PER_NAME]:
        url = urljoin(f"http://{name}/", path)
        r = requests.get(url, proxies=proxies, timeout=30, allow_redirects=False)
        banners.append(_check(r, url))
    missing = requests.get(f"http://{name}/no/such/page-1a2b", proxies=proxies, timeout=30)
    assert missing.status_code in (404, 302, 303), (name, missing.status_code)
    banners.append(_check(missing, f"{name} 404"))
    return banners


def test_every_served_name_sends_one_honest_server_header(served):
    """Sites, explorer, exchanges, issuer, classroom, Tron node and explorer: one banner each,
    the site's own, never Werkzeug's."""
    names = served.gateway.routes.names()
    assert "classroom.test" in names
    seen: dict[str, set[str]] = {}
    for name in names:
        seen[name] = set(_walk(served, name))
    for site in served.sites:
        expected = {"nginx"} if site.kind not in ("market", "shop", "forum") else None
        if expected is not None and site.kind in ("explorer", "exchange", "issuer"):
            assert seen[site.address] == expected, (site.site_id, seen[site.address])
    assert seen["classroom.test"] == {"nginx"}


def test_a_site_that_plants_an_apache_leak_says_apache_once(served, tiny_world):
    """A careless site's Apache banner replaces the default instead of joining it."""
    careless = [s for s in served.sites if s.kind == "market"]
    if served.world != tiny_world.resolve() or not careless:
        pytest.skip("only the tiny world's market plants the Apache leak")
    r = requests.get(f"http://{careless[0].address}/", proxies=_proxies(served), timeout=30)
    assert _check(r, "market") == "Apache/2.4.62 (Debian)"


def test_the_servers_own_error_pages_name_no_python(served):
    """A request the server itself refuses (a Content-Length that is no number) gets the
    server's own error page (400): one nginx banner, nginx's page, no Python; on the
    explorer's port and on a hidden service's (both served by the gunicorn workers)."""
    explorer = next(s for s in served.sites if s.kind == "explorer")
    hidden = next(s for s in served.sites if s.kind not in ("explorer", "exchange", "issuer"))
    for site in (explorer, hidden):
        with socket.create_connection((site.host, site.port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1."), head
        assert b" 400 " in head.split(b"\r\n", 1)[0], head
        servers = [line for line in head.split(b"\r\n") if line.lower().startswith(b"server:")]
        assert servers == [b"Server: nginx"], head
        assert b"<hr><center>nginx</center>" in body, body
        assert not _GIVEAWAY.search(answer), answer


def test_direct_ports_send_one_banner(served):
    """The explorer's and the classroom's own ports answer with one nginx banner too."""
    for server in (served.classroom, next(s for s in served.sites if s.kind == "explorer")):
        host, port = (
            (server.host, server.port)
            if hasattr(server, "site_id")
            else (
                server.server_address[0],
                server.server_port,
            )
        )
        r = requests.get(f"http://{host}:{port}/", timeout=30)
        assert _check(r, f"{host}:{port}") == "nginx"
        assert urlsplit(r.url).port == port


def test_the_scenario_names_a_sites_server(tiny_path, tmp_path):
    """`server:` on a site is the one banner it sends (careless or not); a banner that could
    break a response head is refused naming the file and line."""
    text = tiny_path.read_text(encoding="utf-8")
    given = text.replace(
        "    name: Test Market\n", "    name: Test Market\n    server: LiteSpeed\n"
    )
    assert given != text
    scenario = tmp_path / "litespeed.yaml"
    scenario.write_text(given, encoding="utf-8")
    world = tmp_path / "litespeed.db"
    build_world(load_scenario(str(scenario)), world, secret=SECRET)
    with Sandbox(world, socks_port=0, http_port=0, explorer_port=0, state=tmp_path / "s") as sb:
        market = next(s for s in sb.sites if s.kind == "market")
        r = requests.get(f"http://{market.address}/", proxies=_proxies(sb), timeout=30)
        assert _check(r, "market") == "LiteSpeed"
        leak = requests.get(f"http://{market.address}/server-status", proxies=_proxies(sb))
        assert _check(leak, "market /server-status") == "LiteSpeed"

    broken = tmp_path / "broken.yaml"
    broken.write_text(given.replace("server: LiteSpeed", 'server: "nginx\\r\\nX-Evil: 1"'))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(str(broken))
    message = str(caught.value)
    assert "broken.yaml:" in message and "server" in message, message
