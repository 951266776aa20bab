"""Tor's name resolution through the gateway: SOCKS RESOLVE and RESOLVE_PTR answered as
Tor answers them with AutomapHostsOnResolve, and Debian's torsocks with curl on top."""

from __future__ import annotations

import ipaddress
import json
import shutil
import socket
import struct
import subprocess
import threading

import pytest
import requests

from sandbox.gateway import ConnectionLog, Gateway, GatewayConfig, Routes
from sandbox.gateway.automap import Automap
from sandbox.onion import OnionKey
from sandbox.serve import Sandbox
from tests.test_gateway import _events, _recv_all, _recv_exact, _Server, _Site

ONION = OnionKey.from_seed(b"\x01" * 32).address
UNKNOWN_ONION = OnionKey.from_seed(b"\x02" * 32).address
TOR_VIRTUAL = ipaddress.IPv4Network("127.192.0.0/10")


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    """A gateway (default virtual network) onto one echoing site, as an onion and a .test."""
    server = _Server(("127.0.0.1", 0), _Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    routes = Routes({ONION: server.server_address, "shop.test": server.server_address})
    log = ConnectionLog(tmp_path_factory.mktemp("resolve") / "gateway.db")
    gateway = Gateway(routes, GatewayConfig(socks_port=0, http_port=0), log).start_in_thread()
    yield gateway, log
    gateway.stop()
    log.close()
    server.shutdown()
    server.server_close()


def _handshake(gateway: Gateway, user: str | None) -> socket.socket:
    """Open a SOCKS5 connection through method negotiation (user name as identity)."""
    sock = socket.create_connection(gateway.socks_address, timeout=10)
    if user:
        sock.sendall(b"\x05\x01\x02")
        assert _recv_exact(sock, 2) == b"\x05\x02"
        sock.sendall(b"\x01" + bytes([len(user)]) + user.encode() + b"\x02pw")
        assert _recv_exact(sock, 2) == b"\x01\x00"
    else:
        sock.sendall(b"\x05\x01\x00")
        assert _recv_exact(sock, 2) == b"\x05\x00"
    return sock


def _request(command: int, host: str, port: int = 0) -> bytes:
    """A SOCKS5 request for a host name, or an IPv4 literal as address type 1."""
    try:
        address = b"\x01" + ipaddress.IPv4Address(host).packed
    except ValueError:
        address = b"\x03" + bytes([len(host)]) + host.encode()
    return bytes([5, command, 0]) + address + struct.pack(">H", port)


def resolve(gateway: Gateway, name: str, user: str | None = None) -> tuple[int, str | None]:
    """SOCKS5 RESOLVE (0xF0): (reply code, the IPv4 address Tor put in the bound address)."""
    with _handshake(gateway, user) as sock:
        sock.sendall(_request(0xF0, name))
        reply = _recv_all(sock)
    assert reply[0] == 5 and len(reply) == 10, reply
    if reply[1] != 0:
        return reply[1], None
    assert reply[3] == 1 and reply[8:10] == b"\0\0", reply
    return 0, str(ipaddress.IPv4Address(reply[4:8]))


def resolve_ptr(gateway: Gateway, address: str, user: str | None = None) -> tuple[int, str | None]:
    """SOCKS5 RESOLVE_PTR (0xF1): (reply code, the host name in the bound address)."""
    with _handshake(gateway, user) as sock:
        sock.sendall(_request(0xF1, address))
        reply = _recv_all(sock)
    assert reply[0] == 5, reply
    if reply[1] != 0:
        return reply[1], None
    assert reply[3] == 3, reply
    return 0, reply[5 : 5 + reply[4]].decode()


def get_via_address(gateway: Gateway, address: str, host: str) -> dict:
    """CONNECT to an IPv4 address (address type 1), then GET /; the echo site's JSON."""
    with _handshake(gateway, None) as sock:
        sock.sendall(_request(1, address, 80))
        reply = _recv_exact(sock, 10)
        assert reply[1] == 0, reply
        sock.sendall(f"GET /via HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        answer = _recv_all(sock)
    return json.loads(answer.partition(b"\r\n\r\n")[2])


def test_resolve_gives_a_stable_virtual_address_that_connect_reaches(gw):
    """A world name resolves into 127.192.0.0/10, the same each time; CONNECT to it works."""
    gateway, _log = gw
    code, shop = resolve(gateway, "shop.test")
    assert code == 0 and ipaddress.IPv4Address(shop) in TOR_VIRTUAL
    assert resolve(gateway, "SHOP.test.") == (0, shop)
    code, onion = resolve(gateway, ONION)
    assert code == 0 and onion != shop and ipaddress.IPv4Address(onion) in TOR_VIRTUAL
    assert not shop.endswith((".0", ".255")) and not onion.endswith((".0", ".255"))
    assert get_via_address(gateway, shop, "shop.test")["path"] == "/via"
    assert get_via_address(gateway, onion, ONION)["host"] == ONION


def test_resolve_ptr_gives_the_name_back(gw):
    """RESOLVE_PTR of a handed-out address (literal or in-addr.arpa) names the world site."""
    gateway, _log = gw
    _, shop = resolve(gateway, "shop.test")
    assert resolve_ptr(gateway, shop) == (0, "shop.test")
    arpa = ".".join(reversed(shop.split("."))) + ".in-addr.arpa"
    assert resolve_ptr(gateway, arpa) == (0, "shop.test")
    unused = str(TOR_VIRTUAL.network_address + 7)
    assert resolve_ptr(gateway, unused, user="ptr-inside") == (4, None)
    assert _events(gw[1], "ptr-inside") == []


def test_names_outside_the_world_are_refused_and_logged(gw):
    """A clearnet name or an outside address: Tor's failed resolve (0x04), contained."""
    gateway, log = gw
    assert resolve(gateway, "example.com", user="res-out") == (4, None)
    assert resolve_ptr(gateway, "8.8.8.8", user="res-out") == (4, None)
    events = _events(log, "res-out")
    assert sorted(e["destination"] for e in events) == ["8.8.8.8", "example.com"]


def test_unknown_onions_answer_as_before(gw):
    """An onion that is not in the world: 0x04, as Tor's failed resolve, no containment."""
    gateway, log = gw
    assert resolve(gateway, UNKNOWN_ONION, user="res-unknown") == (4, None)
    assert _events(log, "res-unknown") == []


def test_an_unmapped_virtual_address_is_not_a_way_out(gw):
    """CONNECT to a virtual address never handed out is refused like any IP literal."""
    gateway, log = gw
    with _handshake(gateway, "conn-unmapped") as sock:
        sock.sendall(_request(1, str(TOR_VIRTUAL.network_address + 9), 80))
        assert _recv_exact(sock, 10)[1] == 0x02
    assert len(_events(log, "conn-unmapped")) == 1


def test_socks4a_resolve_and_the_http_proxy_on_a_virtual_address(gw):
    """tor-resolve's SOCKS4a RESOLVE (port 0) gets the address; the HTTP proxy honours it."""
    gateway, _log = gw
    with socket.create_connection(gateway.socks_address, timeout=10) as sock:
        sock.sendall(b"\x04\xf0\x00\x00\x00\x00\x00\x01\x00shop.test\x00")
        reply = _recv_all(sock)
    address = str(ipaddress.IPv4Address(reply[4:8]))
    assert reply[:4] == b"\x00\x5a\x00\x00" and resolve(gateway, "shop.test") == (0, address)
    proxy = "http://{}:{}".format(*gateway.http_address)
    r = requests.get(f"http://{address}/proxied", proxies={"http": proxy}, timeout=10)
    assert r.status_code == 200 and r.json()["path"] == "/proxied"


def test_a_bad_virtual_network_is_refused():
    """Tor's rule: an IPv4 network, /16 or larger; anything else names the problem."""
    with pytest.raises(ValueError, match="/16 network or larger"):
        GatewayConfig(virtual_network="10.192.0.0/24")
    with pytest.raises(ValueError, match="virtual address network 'nowhere'"):
        Automap("nowhere")


def test_sandbox_up_refuses_a_bad_virtual_network(sandbox, tiny_world):
    """`sandbox up --virtual-addr-network` names a bad value and exits non-zero."""
    result = sandbox("up", "--world", str(tiny_world), "--virtual-addr-network", "1.2.3.4/30")
    assert result.exit_code == 2
    assert "--virtual-addr-network" in result.output and "/16 network" in result.output


@pytest.fixture(scope="module")
def served(tiny_world, tmp_path_factory):
    """The tiny world with a virtual network outside 127/8: torsocks refuses loopback."""
    state = tmp_path_factory.mktemp("torsocks-state")
    with Sandbox(
        tiny_world,
        socks_port=0,
        http_port=0,
        explorer_port=0,
        state=state,
        classroom_port=None,
        virtual_network="10.192.0.0/10",
    ) as sb:
        yield sb


def _torsocks_curl(sb: Sandbox, tmp_path, url: str) -> subprocess.CompletedProcess:
    """curl under Debian's torsocks, configured for the sandbox's SOCKS port."""
    host, port = sb.gateway.socks_address
    conf = tmp_path / "torsocks.conf"
    conf.write_text(f"TorAddress {host}\nTorPort {port}\nOnionAddrRange 127.42.42.0/24\n")
    return subprocess.run(
        ["torsocks", "curl", "-sS", "-m", "20", url],
        env={"PATH": "/usr/bin:/bin", "TORSOCKS_CONF_FILE": str(conf)},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.skipif(not shutil.which("torsocks"), reason="torsocks is not installed")
def test_torsocks_curl_reaches_an_onion_and_a_test_site(served, tmp_path):
    """torsocks maps the onion itself and RESOLVEs the .test name through the gateway."""
    wiki = next(s for s in served.sites if s.kind == "wiki")
    social = next(s for s in served.sites if s.address.endswith(".test") and s.kind == "social")
    # The onion first: it proves torsocks hooks curl before a virtual address is used.
    onion = _torsocks_curl(served, tmp_path, f"http://{wiki.address}/")
    assert onion.returncode == 0, onion.stderr
    assert wiki.name in onion.stdout
    test = _torsocks_curl(served, tmp_path, f"http://{social.address}/")
    assert test.returncode == 0, test.stderr
    assert social.name in test.stdout
    served.log.flush()
    destinations = {r.destination for r in served.log.recent(50) if r.outcome == "ok"}
    assert {wiki.address, social.address} <= destinations
