"""The gateway against real clients: requests/PySocks, curl, raw sockets, on free ports."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import hashlib
import http.client
import http.server
import json
import os
import shutil
import socket
import struct
import subprocess
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import socks
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.gateway import (
    ConnectionLog,
    Gateway,
    GatewayBindError,
    GatewayConfig,
    LatencyModel,
    Routes,
)
from sandbox.onion import OnionKey

ONION = OnionKey.from_seed(b"\x01" * 32).address
UNKNOWN_ONION = OnionKey.from_seed(b"\x02" * 32).address
OFFLINE_ONION = OnionKey.from_seed(b"\x03" * 32).address
# A typo in the address: same length and alphabet, wrong checksum.
BAD_ONION = ONION[:10] + ("a" if ONION[10] != "a" else "b") + ONION[11:]
HTTP_501 = b"HTTP/1.0 501 Tor is not an HTTP Proxy\r\n"


# --- a real upstream site ----------------------------------------------------------------


class _Site(http.server.BaseHTTPRequestHandler):
    """Echoes what it received as JSON; /big and /chunked stream larger bodies."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        """Stay quiet."""

    def _send(self, body: bytes, content_type: str = "application/json") -> None:
        """Send a 200 with a Content-Length body."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _echo(self, body: bytes = b"") -> None:
        """Answer with the request's essentials."""
        info = {
            "method": self.command,
            "host": self.headers.get("Host"),
            "path": self.path,
            "peer_port": self.client_address[1],
            "proxy_authorization": self.headers.get("Proxy-Authorization"),
            "body_len": len(body),
            "body_sha": hashlib.sha256(body).hexdigest(),
        }
        self._send(json.dumps(info).encode())

    def do_GET(self) -> None:
        """Serve /big?n=N, /chunked, or an echo."""
        url = urlsplit(self.path)
        if url.path == "/big":
            size = int(parse_qs(url.query)["n"][0])
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            block = b"x" * 65536
            left = size
            try:
                while left:
                    n = min(left, len(block))
                    self.wfile.write(block[:n])
                    left -= n
            except OSError:
                pass
            return
        if url.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        self._echo()

    do_HEAD = do_GET

    def do_POST(self) -> None:
        """Echo the body's length and hash (Content-Length or chunked)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._echo(body)


class _Server(http.server.ThreadingHTTPServer):
    """Threaded test site that does not block interpreter exit."""

    daemon_threads = True


@pytest.fixture(scope="module")
def site():
    """A real HTTP site on a free port of 127.0.0.1."""
    server = _Server(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    """Return a port of 127.0.0.1 that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def routes(site):
    """The world: one onion, one .test site, one onion whose server is down."""
    return Routes(
        {
            ONION: site,
            "explorer.test": site,
            OFFLINE_ONION: ("127.0.0.1", _closed_port()),
            "down.test": ("127.0.0.1", _closed_port()),
        }
    )


class _Started:
    """Start gateways in threads and stop them all at the end of a test or module."""

    def __init__(self, routes, tmp):
        """Remember where logs go."""
        self.routes, self.tmp, self.running, self.logs = routes, tmp, [], []

    def __call__(self, **settings) -> tuple[Gateway, ConnectionLog]:
        """Start one gateway on free ports with the given config settings."""
        log = ConnectionLog(self.tmp / f"gateway-{len(self.logs)}.db")
        config = GatewayConfig(socks_port=0, http_port=0, **settings)
        gateway = Gateway(self.routes, config, log).start_in_thread()
        self.running.append(gateway)
        self.logs.append(log)
        return gateway, log

    def close(self) -> None:
        """Stop gateways, then close logs."""
        for gateway in self.running:
            gateway.stop()
        for log in self.logs:
            log.close()


@pytest.fixture(scope="module")
def gw(routes, tmp_path_factory):
    """One shared gateway (default config) and its log."""
    starter = _Started(routes, tmp_path_factory.mktemp("gw"))
    yield starter()
    starter.close()


@pytest.fixture
def start_gateway(routes, tmp_path):
    """Factory for gateways with special settings, stopped after the test."""
    starter = _Started(routes, tmp_path)
    yield starter
    starter.close()


def _socks_url(gateway: Gateway, user: str | None = None) -> dict:
    """Return requests proxies for the gateway's SOCKS port with remote DNS."""
    host, port = gateway.socks_address
    auth = f"{user}:pw@" if user else ""
    url = f"socks5h://{auth}{host}:{port}"
    return {"http": url, "https": url}


class _Response:
    """What a test needs from a requests response, kept after its socket is closed."""

    def __init__(self, response: requests.Response):
        """Copy status and body."""
        self.status_code = response.status_code
        self.ok = response.ok
        self.content = response.content
        self.text = response.text

    def json(self):
        """Decode the body as JSON."""
        return json.loads(self.content)


def _get(url: str, proxies: dict) -> _Response:
    """GET through a proxy with requests, then really close the client socket.

    urllib3's SOCKS connections stay open until garbage-collected even after the session
    is closed; the gateway logs a stream when it ends, so tests close them for sure.
    """
    with requests.Session() as session:
        response = session.get(url, proxies=proxies, timeout=30)
        result = _Response(response)
        response.close()
    del response, session
    gc.collect()
    return result


# --- raw SOCKS helpers ---------------------------------------------------------------------


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    """Read exactly n bytes (or fewer if the peer closes)."""
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _recv_all(sock: socket.socket, timeout: float = 5.0) -> bytes:
    """Read until the peer closes."""
    sock.settimeout(timeout)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _socks5(
    gateway: Gateway,
    host: str,
    port: int = 80,
    *,
    atyp: int = 3,
    command: int = 1,
    user: str | None = None,
) -> tuple[socket.socket, int]:
    """Do a SOCKS5 handshake by hand; return the socket and the reply code."""
    sock = socket.create_connection(gateway.socks_address, timeout=10)
    sock.sendall(b"\x05\x01\x02" if user else b"\x05\x01\x00")
    method = _recv_exact(sock, 2)
    if user:
        assert method == b"\x05\x02"
        sock.sendall(b"\x01" + bytes([len(user)]) + user.encode() + b"\x02pw")
        assert _recv_exact(sock, 2) == b"\x01\x00"
    else:
        assert method == b"\x05\x00"
    if atyp == 1:
        address = socket.inet_pton(socket.AF_INET, host)
    elif atyp == 4:
        address = socket.inet_pton(socket.AF_INET6, host)
    else:
        address = bytes([len(host)]) + host.encode()
    sock.sendall(bytes([5, command, 0, atyp]) + address + struct.pack(">H", port))
    reply = _recv_exact(sock, 10)
    assert len(reply) == 10 and reply[0] == 5, reply
    assert reply[2:] == b"\x00\x01\x00\x00\x00\x00\x00\x00", "Tor's bound address 0.0.0.0:0"
    return sock, reply[1]


def _socks5_code(gateway: Gateway, host: str, port: int = 80, **kw) -> int:
    """Return the SOCKS5 reply code for a destination, closing the socket."""
    sock, code = _socks5(gateway, host, port, **kw)
    sock.close()
    return code


def _get_over(sock: socket.socket, host: str, path: str = "/") -> bytes:
    """Send a one-shot HTTP/1.0 GET over an open stream and return the whole response."""
    sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
    return _recv_all(sock)


def _rows(log: ConnectionLog, *, finished: bool = True, **match) -> list[dict]:
    """Return log rows matching the given column values, waiting a little for them.

    A stream's row is completed (end time, bytes) when both its sockets have closed,
    which happens on the gateway's thread shortly after the client hangs up.
    """
    deadline = time.monotonic() + 5
    while True:
        rows = [
            r
            for r in log.recent(10000)
            if all(r[k] == v for k, v in match.items()) and (r.ended is not None or not finished)
        ]
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.02)


def _events(log: ConnectionLog, visitor: str) -> list[dict]:
    """Return a visitor's containment events (written before the refusal is sent)."""
    return [e for e in log.containment_events() if e["visitor"] == visitor]


def _fd_count() -> int:
    """Return the number of open file descriptors of this process."""
    return len(os.listdir("/proc/self/fd"))


def _wait_fds(baseline: int, timeout: float = 10.0) -> int:
    """Wait for the fd count to come back to baseline; return the last count."""
    deadline = time.monotonic() + timeout
    count = _fd_count()
    while count > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
        count = _fd_count()
    return count


# --- real clients ----------------------------------------------------------------------------


def test_requests_socks5h_reaches_onion_and_test_sites(gw):
    """requests with socks5h:// reaches a routed onion (also via www.) and a .test site."""
    gateway, log = gw
    proxies = _socks_url(gateway)
    for host in (ONION, f"www.{ONION}", "explorer.test"):
        response = _get(f"http://{host}/page?q=1", proxies)
        assert response.status_code == 200
        assert response.json()["host"] == host
        assert response.json()["path"] == "/page?q=1"
    rows = _rows(log, destination="explorer.test", port_kind="socks5")
    assert rows and rows[0]["outcome"] == "ok"
    assert rows[0]["bytes_up"] > 0 and rows[0]["bytes_down"] > 0
    assert rows[0]["ended"] >= rows[0]["started"]


def test_open_stream_is_logged_at_once(gw):
    """A stream shows in the log while open (no end yet) and is completed when it closes."""
    gateway, log = gw
    sock, code = _socks5(gateway, ONION, user="frank")
    assert code == 0
    rows = _rows(log, visitor="frank", finished=False)
    assert len(rows) == 1 and rows[0].ended is None and rows[0].outcome == "ok"
    sock.sendall(f"GET / HTTP/1.0\r\nHost: {ONION}\r\n\r\n".encode())
    _recv_all(sock)
    sock.close()
    (row,) = _rows(log, visitor="frank")
    assert row.id == rows[0].id and row.ended >= row.started and row.bytes_down > 0


def test_socks5_username_is_the_visitor(gw):
    """SOCKS5 username/password: any credentials pass, the username is logged."""
    gateway, log = gw
    response = _get(f"http://{ONION}/", _socks_url(gateway, "alice"))
    assert response.status_code == 200
    assert _rows(log, visitor="alice", destination=ONION, outcome="ok")


def test_socks4a_with_pysocks(gw):
    """PySocks SOCKS4a (remote DNS) with a user id: served, user id logged as visitor."""
    gateway, log = gw
    sock = socks.socksocket()
    sock.set_proxy(socks.SOCKS4, *gateway.socks_address, rdns=True, username="bob")
    sock.settimeout(10)
    sock.connect((ONION, 80))
    response = _get_over(sock, ONION)
    sock.close()
    assert response.startswith(b"HTTP/1.0 200") or response.startswith(b"HTTP/1.1 200")
    assert json.loads(response.split(b"\r\n\r\n", 1)[1])["host"] == ONION
    assert _rows(log, visitor="bob", port_kind="socks4a", outcome="ok")


def test_socks4_plain_ip_is_refused(gw):
    """SOCKS4 with an IP address gets 0x5B and a containment event; nothing is dialled."""
    gateway, log = gw
    sock = socket.create_connection(gateway.socks_address, timeout=10)
    sock.sendall(b"\x04\x01\x00\x50" + socket.inet_aton("93.184.216.34") + b"carol\x00")
    assert _recv_exact(sock, 8) == b"\x00\x5b\x00\x00\x00\x00\x00\x00"
    assert _recv_all(sock) == b""
    sock.close()
    events = _events(log, "carol")
    assert events and events[0]["destination"] == "93.184.216.34"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_socks5_hostname(gw):
    """curl --socks5-hostname fetches an onion page."""
    gateway, _ = gw
    host, port = gateway.socks_address
    out = subprocess.run(
        [
            "curl",
            "-sS",
            "--max-time",
            "10",
            "--socks5-hostname",
            f"{host}:{port}",
            f"http://{ONION}/c",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out)["host"] == ONION


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_http_proxy_plain_and_connect(gw):
    """curl --proxy http:// works for plain forwarding and, with -p, through CONNECT."""
    gateway, _ = gw
    host, port = gateway.http_address
    for extra in ([], ["--proxytunnel"]):
        out = subprocess.run(
            ["curl", "-sS", "--max-time", "10", "--proxy", f"http://{host}:{port}", *extra]
            + [f"http://{ONION}/x", "http://explorer.test/y"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        first, second = out.replace("}{", "}\n{").splitlines()
        assert json.loads(first)["host"] == ONION
        assert json.loads(second)["host"] == "explorer.test"


def test_curl_refused_destination_gets_socks_error(gw):
    """curl reports SOCKS 0x02 (not allowed) for a clearnet name."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    gateway, _ = gw
    host, port = gateway.socks_address
    result = subprocess.run(
        [
            "curl",
            "-sS",
            "--max-time",
            "10",
            "--socks5-hostname",
            f"{host}:{port}",
            "http://example.com/",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 97  # curl: CURLE_PROXY, the SOCKS handshake failed


# --- HTTP proxy port ----------------------------------------------------------------------


def test_http_proxy_connect_tunnel(gw):
    """CONNECT gets Privoxy's 200 line, then the tunnel carries a request both ways."""
    gateway, log = gw
    sock = socket.create_connection(gateway.http_address, timeout=10)
    sock.sendall(f"CONNECT {ONION}:80 HTTP/1.1\r\nHost: {ONION}:80\r\n\r\n".encode())
    assert _recv_exact(sock, 39) == b"HTTP/1.1 200 Connection established\r\n\r\n"
    response = _get_over(sock, ONION, "/tunnel")
    sock.close()
    assert json.loads(response.split(b"\r\n\r\n", 1)[1])["path"] == "/tunnel"
    rows = _rows(log, port_kind="http", destination=ONION, outcome="ok")
    assert any(r["bytes_down"] > 0 for r in rows)


def test_http_proxy_keep_alive_across_sites(gw):
    """Absolute-URI requests on one client connection: same and different sites, bodies too."""
    gateway, _ = gw
    conn = http.client.HTTPConnection(*gateway.http_address, timeout=10)
    seen = []
    for url in (f"http://{ONION}/1", f"http://{ONION}/2", "http://explorer.test/3"):
        conn.request("GET", url)
        response = conn.getresponse()
        assert response.status == 200
        seen.append(json.loads(response.read()))
        seen[-1]["client_sock"] = id(conn.sock)
    assert len({s["client_sock"] for s in seen}) == 1, "one client connection throughout"
    assert [s["path"] for s in seen] == ["/1", "/2", "/3"], "origin-form upstream"
    assert seen[0]["host"] == ONION and seen[2]["host"] == "explorer.test", "Host kept"
    assert seen[0]["peer_port"] == seen[1]["peer_port"], "upstream connection reused"

    body = os.urandom(300_000)
    conn.request("POST", f"http://{ONION}/upload", body=body)
    echoed = json.loads(conn.getresponse().read())
    assert echoed["body_len"] == len(body)
    assert echoed["body_sha"] == hashlib.sha256(body).hexdigest()

    conn.request("POST", "http://explorer.test/chunky", body=iter([b"abc", b"defg"]))
    echoed = json.loads(conn.getresponse().read())
    assert echoed["body_len"] == 7

    conn.request("GET", f"http://{ONION}/chunked")
    response = conn.getresponse()
    assert response.read() == b"hello chunked world"

    conn.request("HEAD", f"http://{ONION}/head")
    response = conn.getresponse()
    assert response.status == 200 and response.read() == b""

    conn.request("GET", f"http://{ONION}/big?n=3000000")
    assert len(conn.getresponse().read()) == 3_000_000
    conn.close()


def test_http_proxy_authorization_is_the_visitor(gw):
    """Proxy-Authorization Basic: username logged, header not passed upstream."""
    gateway, log = gw
    host, port = gateway.http_address
    proxy = f"http://dave:secret@{host}:{port}"
    response = _get(f"http://{ONION}/auth", {"http": proxy})
    assert response.json()["proxy_authorization"] is None
    _get("http://example.com/", {"http": proxy})
    assert _rows(log, visitor="dave", port_kind="http", outcome="ok")
    assert _events(log, "dave")


def test_http_proxy_errors_are_pages(gw):
    """Refused names get 403, unknown/bad onions and dead upstreams 503, with a page."""
    gateway, log = gw
    proxies = {"http": "http://{}:{}".format(*gateway.http_address)}
    cases = {
        "http://example.com/": (403, "refused"),
        "http://93.184.216.34/": (403, "refused"),
        "http://[2606:2800:220:1::1]/": (403, "refused"),
        "http://localhost/": (403, "refused"),
        "http://nowhere.test/": (403, "refused"),
        f"http://{UNKNOWN_ONION}/": (503, "unknown-onion"),
        f"http://{BAD_ONION}/": (503, "bad-address"),
        f"http://{OFFLINE_ONION}/": (503, "upstream-failed"),
    }
    for url, (status, outcome) in cases.items():
        response = _get(url, proxies)
        assert response.status_code == status, url
        assert "sandbox" in response.text and "<html>" in response.text
        host = urlsplit(url).hostname
        assert _rows(log, port_kind="http", destination=host, outcome=outcome), url
    sock = socket.create_connection(gateway.http_address, timeout=10)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert _recv_all(sock).startswith(b"HTTP/1.1 400")
    sock.close()


# --- Tor's answers -------------------------------------------------------------------------


def test_unknown_onion_without_and_with_extended_errors(gw, start_gateway):
    """Unknown valid onion: 0x04 (Tor's RESOLVEFAILED); 0xF0 with ExtendedErrors."""
    gateway, log = gw
    assert _socks5_code(gateway, UNKNOWN_ONION) == 0x04
    assert _socks5_code(gateway, BAD_ONION) == 0x01
    assert _rows(log, destination=UNKNOWN_ONION, outcome="unknown-onion", port_kind="socks5")
    assert _rows(log, destination=BAD_ONION, outcome="bad-address")

    extended, _ = start_gateway(extended_errors=True)
    assert _socks5_code(extended, UNKNOWN_ONION) == 0xF0
    assert _socks5_code(extended, BAD_ONION) == 0xF6
    assert _socks5_code(extended, "abcdefghijklmnop.onion") == 0xF6  # v2 is gone
    assert _socks5_code(extended, ONION) == 0x00

    flagged, _ = start_gateway(
        socks_flags=("ExtendedErrors", "IsolateDestAddr", "IsolateSOCKSAuth")
    )
    assert _socks5_code(flagged, UNKNOWN_ONION) == 0xF0
    undone, _ = start_gateway(extended_errors=True, socks_flags=("NoExtendedErrors",))
    assert _socks5_code(undone, UNKNOWN_ONION) == 0x04


def test_offline_upstream_codes(gw, start_gateway):
    """A routed site whose server is down: onion 0x04 (0xF2 extended), .test 0x05 refused."""
    gateway, log = gw
    assert _socks5_code(gateway, OFFLINE_ONION) == 0x04
    assert _socks5_code(gateway, "down.test") == 0x05
    assert _rows(log, destination="down.test", outcome="upstream-failed")
    extended, _ = start_gateway(extended_errors=True)
    assert _socks5_code(extended, OFFLINE_ONION) == 0xF2


@pytest.mark.parametrize(
    ("host", "atyp"),
    [
        ("example.com", 3),
        ("93.184.216.34", 1),
        ("93.184.216.34", 3),
        ("2606:2800:220:1:248:1893:25c8:1946", 4),
        ("localhost", 3),
        ("127.0.0.1", 1),
        ("nowhere.test", 3),
    ],
)
def test_refused_destinations_are_contained(gw, host, atyp):
    """Clearnet names, IP literals, localhost and unknown .test names: 0x02, logged."""
    gateway, log = gw
    visitor = f"v{atyp}{abs(hash(host)) % 10**6}"
    assert _socks5_code(gateway, host, atyp=atyp, user=visitor) == 0x02
    events = _events(log, visitor)
    assert len(events) == 1 and events[0]["destination"] == host
    assert _rows(log, visitor=visitor, outcome="refused")


class _RecordingRoutes(Routes):
    """Real routes that remember every decision they hand out."""

    def __init__(self, mapping):
        """Start with an empty record."""
        super().__init__(mapping)
        self.decisions = []

    def resolve(self, name):
        """Resolve and record."""
        decision = super().resolve(name)
        self.decisions.append(decision)
        return decision


def test_loopback_listener_never_sees_a_connection(site, tmp_path):
    """Asking for 127.0.0.2:port (a live listener) by IP or name is refused, never dialled."""
    listener = socket.socket()
    try:
        listener.bind(("127.0.0.2", 0))
    except OSError:
        pytest.skip("127.0.0.2 is not usable here")
    listener.listen(16)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    routes = _RecordingRoutes({ONION: site})
    with ConnectionLog(tmp_path / "log.db") as log:
        gateway = Gateway(routes, GatewayConfig(socks_port=0, http_port=0), log)
        with gateway:
            assert _socks5_code(gateway, "127.0.0.2", port, atyp=1) == 0x02
            assert _socks5_code(gateway, "127.0.0.2", port, atyp=3) == 0x02
            sock = socket.create_connection(gateway.socks_address, timeout=5)
            sock.sendall(
                b"\x04\x01" + struct.pack(">H", port) + socket.inet_aton("127.0.0.2") + b"\0"
            )
            assert _recv_exact(sock, 8)[1] == 0x5B
            sock.close()
            sock = socket.create_connection(gateway.http_address, timeout=5)
            sock.sendall(f"CONNECT 127.0.0.2:{port} HTTP/1.1\r\n\r\n".encode())
            assert _recv_all(sock).startswith(b"HTTP/1.1 403")
            sock.close()
            proxies = {"http": "http://{}:{}".format(*gateway.http_address)}
            response = _get(f"http://127.0.0.2:{port}/", proxies)
            assert response.status_code == 403
            # The same gateway does reach its routed site, so dialling itself works.
            assert _socks5_code(gateway, ONION) == 0x00
        with pytest.raises(TimeoutError):
            listener.accept()
    listener.close()
    asked = [d for d in routes.decisions if d.name == "127.0.0.2"]
    assert len(asked) == 5 and all(d.kind == "refused" and d.upstream is None for d in asked)
    assert len(log.containment_events()) == 5


def test_http_on_socks_port_gets_tors_501(gw):
    """GET/CONNECT on the SOCKS port: Tor's exact 501 page (with its NUL), then close."""
    gateway, log = gw
    for request in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"CONNECT x.onion:80 HTTP/1.1\r\n\r\n"):
        sock = socket.create_connection(gateway.socks_address, timeout=10)
        sock.sendall(request)
        answer = _recv_all(sock)
        sock.close()
        assert answer.startswith(HTTP_501)
        assert b"This is a SOCKS Proxy, Not An HTTP Proxy" in answer
        assert answer.endswith(b"</html>\n\0")
    assert len(_rows(log, outcome="http-on-socks")) >= 2


def test_bind_and_udp_associate_not_supported(gw):
    """BIND and UDP ASSOCIATE get 0x07; SOCKS4 BIND gets 0x5B."""
    gateway, _ = gw
    assert _socks5_code(gateway, ONION, command=2) == 0x07
    assert _socks5_code(gateway, ONION, command=3) == 0x07
    sock = socket.create_connection(gateway.socks_address, timeout=10)
    sock.sendall(b"\x04\x02\x00\x50\x00\x00\x00\x01\x00" + ONION.encode() + b"\x00")
    assert _recv_exact(sock, 8)[1] == 0x5B
    sock.close()


def test_method_negotiation(gw, start_gateway):
    """No acceptable method: 0xFF then close; PreferSOCKSNoAuth picks 0x00 over 0x02."""
    gateway, _ = gw
    sock = socket.create_connection(gateway.socks_address, timeout=10)
    sock.sendall(b"\x05\x01\x80")
    assert _recv_all(sock) == b"\x05\xff"
    sock.close()
    sock = socket.create_connection(gateway.socks_address, timeout=10)
    sock.sendall(b"\x05\x02\x00\x02")
    assert _recv_exact(sock, 2) == b"\x05\x02", "Tor prefers username/password"
    sock.close()
    prefer, _ = start_gateway(socks_flags=("PreferSOCKSNoAuth",))
    sock = socket.create_connection(prefer.socks_address, timeout=10)
    sock.sendall(b"\x05\x02\x00\x02")
    assert _recv_exact(sock, 2) == b"\x05\x00"
    sock.close()


def test_half_close_and_early_data(gw):
    """Request sent with the SOCKS request, then write side shut: the answer still comes."""
    gateway, _ = gw
    sock = socket.create_connection(gateway.socks_address, timeout=10)
    name = ONION.encode()
    request = f"GET /early HTTP/1.0\r\nHost: {ONION}\r\n\r\n".encode()
    sock.sendall(
        b"\x05\x01\x00" + b"\x05\x01\x00\x03" + bytes([len(name)]) + name + b"\x00\x50" + request
    )
    sock.shutdown(socket.SHUT_WR)
    answer = _recv_all(sock)
    sock.close()
    assert answer[:2] == b"\x05\x00" and answer[2:4] == b"\x05\x00"
    assert json.loads(answer[12:].split(b"\r\n\r\n", 1)[1])["path"] == "/early"


def test_large_download_through_socks(gw):
    """A 20 MB body arrives intact and the byte counts are logged."""
    gateway, log = gw
    size = 20_000_000
    response = _get(f"http://{ONION}/big?n={size}", _socks_url(gateway, "big"))
    assert len(response.content) == size
    rows = _rows(log, visitor="big")
    assert rows and rows[0]["bytes_down"] > size and rows[0]["bytes_up"] > 0


# --- robustness -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sturdy(routes, tmp_path_factory):
    """A gateway with a short handshake timeout, for abuse tests."""
    starter = _Started(routes, tmp_path_factory.mktemp("sturdy"))
    yield starter(handshake_timeout=0.3)
    starter.close()


def _still_serves(gateway: Gateway) -> None:
    """Assert a normal request still works."""
    response = _get(f"http://{ONION}/ok", _socks_url(gateway))
    assert response.status_code == 200


def _baseline(gateway: Gateway, log: ConnectionLog) -> int:
    """Exercise the gateway and the log once, then return the fd count."""
    _still_serves(gateway)
    log.recent(1)
    return _fd_count()


def _send_garbage(gateway: Gateway, data: bytes) -> None:
    """Send bytes to the SOCKS port, shut the write side, read until the gateway closes."""
    sock = socket.create_connection(gateway.socks_address, timeout=10)
    try:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        _recv_all(sock)
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        sock.close()


def test_abuse_then_serve_and_no_fd_leak(sturdy):
    """Random, truncated, silent and RST clients: still serving, fds back to baseline."""
    gateway, log = sturdy
    baseline = _baseline(gateway, log)

    @settings(max_examples=60, deadline=None, database=None)
    @given(st.binary(min_size=1, max_size=600))
    def random_bytes(data: bytes) -> None:
        """Whatever a client sends, the gateway answers or closes."""
        _send_garbage(gateway, data)

    random_bytes()
    _send_garbage(gateway, b"\x05\x01\x00\x05\x01\x00\x09garbage")  # unknown ATYP
    _send_garbage(gateway, b"\x04\x01\x00\x50\x00\x00\x00\x01" + b"u" * 600)  # no NUL

    half = socket.create_connection(gateway.socks_address, timeout=10)
    half.sendall(b"\x05")  # a greeting cut in half
    half.close()

    silent = socket.create_connection(gateway.socks_address, timeout=10)
    t0 = time.monotonic()
    assert _recv_all(silent) == b"", "closed without a reply after the handshake timeout"
    assert time.monotonic() - t0 < 5
    silent.close()

    garbage = socket.create_connection(gateway.socks_address, timeout=10)
    garbage.sendall(b"\x16\x03\x01\x02\x00\x01\x00")  # a TLS ClientHello on the SOCKS port
    assert _recv_all(garbage) == b""
    garbage.close()

    waiting = socket.create_connection(gateway.socks_address, timeout=10)
    waiting.sendall(b"\x05\x01\x00\x05\x01\x00\x03")  # greeting, then half a request
    assert _recv_exact(waiting, 2) == b"\x05\x00"
    assert _recv_all(waiting) == b""
    waiting.close()

    for _ in range(3):
        rst, code = _socks5(gateway, ONION)
        assert code == 0
        rst.sendall(f"GET /big?n=50000000 HTTP/1.1\r\nHost: {ONION}\r\n\r\n".encode())
        assert len(_recv_exact(rst, 100_000)) == 100_000
        rst.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        rst.close()

    sock = socket.create_connection(gateway.http_address, timeout=10)
    sock.sendall(f"CONNECT {ONION}:80 HTTP/1.1\r\n\r\n".encode())
    _recv_exact(sock, 39)
    sock.sendall(f"GET /big?n=50000000 HTTP/1.1\r\nHost: {ONION}\r\n\r\n".encode())
    _recv_exact(sock, 100_000)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()

    _still_serves(gateway)
    assert _wait_fds(baseline) <= baseline
    deadline = time.monotonic() + 5
    while gateway.active_connections and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gateway.active_connections == 0
    assert _rows(log, outcome="malformed")


def test_connection_cap(start_gateway):
    """Over max_connections, a newcomer takes a silent handshake's place, else is dropped."""
    gateway, _ = start_gateway(max_connections=2)
    silent = socket.create_connection(gateway.socks_address, timeout=10)
    relay, code = _socks5(gateway, ONION)
    assert code == 0
    deadline = time.monotonic() + 5
    while gateway.active_connections < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    newcomer, code = _socks5(gateway, ONION)  # pushes the silent one out
    assert code == 0
    with contextlib.suppress(ConnectionResetError):
        assert _recv_all(silent) == b""
    extra = socket.create_connection(gateway.socks_address, timeout=10)
    with contextlib.suppress(ConnectionResetError):
        assert _recv_all(extra) == b"", "both slots relay: nobody to push out"
    for sock in (silent, extra, relay, newcomer):
        sock.close()
    deadline = time.monotonic() + 5
    while gateway.active_connections and time.monotonic() < deadline:
        time.sleep(0.01)
    _still_serves(gateway)


def test_idle_relay_is_closed(start_gateway):
    """A relayed connection with no traffic past idle_timeout is closed."""
    gateway, _ = start_gateway(idle_timeout=0.3)
    sock, code = _socks5(gateway, ONION)
    assert code == 0
    t0 = time.monotonic()
    assert _recv_all(sock, timeout=10) == b""
    assert time.monotonic() - t0 < 5
    sock.close()


# --- latency model ------------------------------------------------------------------------------


def test_latency_model_delays_and_fails_at_the_configured_rate(start_gateway):
    """Seeded failures: the same count as the model predicts; each stream waits its delay."""
    settings_ = {"enabled": True, "mean_ms": 30.0, "jitter_ms": 20.0, "seed": 7}
    rate = 0.3
    expected = LatencyModel(circuit_failure_rate=rate, **settings_)
    plans = [expected.plan(onion=True) for _ in range(40)]
    latency = LatencyModel(circuit_failure_rate=rate, **settings_)
    gateway, log = start_gateway(latency=latency, extended_errors=True)
    codes = []
    for plan in plans:
        t0 = time.monotonic()
        codes.append(_socks5_code(gateway, ONION))
        assert time.monotonic() - t0 >= plan.delay - 0.002
    predicted = {"intro": 0xF2, "rendezvous": 0xF3, None: 0x00}
    assert codes == [predicted[p.failure] for p in plans]
    failures = sum(code != 0 for code in codes)
    assert failures == sum(p.failure is not None for p in plans) and 0 < failures < 40
    assert len(_rows(log, outcome="circuit-failed")) == failures

    off = LatencyModel(enabled=False, circuit_failure_rate=1.0)
    assert off.plan(onion=True).delay == 0 and off.plan(onion=True).failure is None
    plain, _ = start_gateway(latency=LatencyModel(circuit_failure_rate=1.0, **settings_))
    assert _socks5_code(plain, "explorer.test") == 0x01
    assert {_socks5_code(plain, ONION) for _ in range(12)} == {0x01, 0x04}
    proxies = {"http": "http://{}:{}".format(*plain.http_address)}
    assert _get(f"http://{ONION}/", proxies).status_code == 503


def test_latency_model_statistics():
    """The delay distribution has about the configured mean and a long right tail."""
    model = LatencyModel(enabled=True, mean_ms=400, jitter_ms=300, seed=1)
    delays = sorted(model.delay() for _ in range(20000))
    mean = sum(delays) / len(delays)
    assert 0.36 < mean < 0.44
    assert delays[len(delays) // 2] < mean < delays[int(len(delays) * 0.99)] / 2
    with pytest.raises(ValueError):
        LatencyModel(circuit_failure_rate=1.5)


# --- routes, config, log, life cycle ----------------------------------------------------------


def test_routes_decisions():
    """Routing table: onion subdomains, .test names, refusals with reasons, updates."""
    routes = Routes({ONION.upper() + ".": ("127.0.0.1", 1), "Shop.test": ("127.0.0.1", 2)})
    assert routes.resolve(f"a.b.{ONION}").upstream == ("127.0.0.1", 1)
    assert routes.resolve(f"a.b.{ONION}").site == ONION
    assert routes.resolve("www.shop.test").upstream == ("127.0.0.1", 2)
    assert routes.resolve(UNKNOWN_ONION).kind == "unknown-onion"
    assert routes.resolve(BAD_ONION).kind == "bad-address"
    assert routes.resolve("[::1]").kind == "refused"
    assert "IPv6" in routes.resolve("::1").reason
    assert routes.resolve("foo.localhost").kind == "refused"
    assert routes.resolve("exa mple.com").kind == "malformed"
    assert ONION in routes and "example.com" not in routes
    routes.update({"shop.test": ("127.0.0.1", 3)})
    assert routes.resolve(ONION).kind == "unknown-onion"
    assert routes.resolve("shop.test").upstream == ("127.0.0.1", 3)
    for bad in (
        {"example.com": ("127.0.0.1", 1)},
        {BAD_ONION: ("127.0.0.1", 1)},
        {"a.test": ("h", 0)},
    ):
        with pytest.raises(ValueError):
            Routes(bad)


def test_config_flags_and_socks_port_line():
    """torrc-style SocksPort lines; unknown flags rejected as Tor does."""
    config = GatewayConfig.from_socks_port(
        "127.0.0.1:0 ExtendedErrors IsolateDestPort SessionGroup=3"
    )
    assert config.socks_port == 0 and config.extended_errors_enabled
    with pytest.raises(ValueError, match="Bogus"):
        GatewayConfig(socks_flags=("Bogus",))


def test_bind_failure_names_the_address(routes, start_gateway):
    """A port in use raises GatewayBindError naming it; no half-started gateway remains."""
    gateway, _ = start_gateway()
    host, port = gateway.socks_address
    other = Gateway(routes, GatewayConfig(socks_port=0, http_port=port))
    with pytest.raises(GatewayBindError, match=f"{host}:{port}") as info:
        other.start_in_thread()
    assert isinstance(info.value, OSError)
    assert other.socks_address is None


def test_log_survives_restart(tmp_path, routes):
    """Rows persist across log and gateway restarts; new rows are appended."""
    path = tmp_path / "log.db"
    for round_ in range(2):
        with (
            ConnectionLog(path) as log,
            Gateway(routes, GatewayConfig(socks_port=0, http_port=0), log) as gateway,
        ):
            proxies = _socks_url(gateway, f"r{round_}")
            assert _get(f"http://{ONION}/", proxies).ok
            _socks5_code(gateway, "example.com")
    with ConnectionLog(path) as log:
        rows = log.recent(100)
        assert {"r0", "r1"} <= {r.visitor for r in rows}
        assert all(r.ended is not None for r in rows)
        assert len({r.id for r in rows}) == len(rows), "ids continue after a restart"
        assert len(log.containment_events()) == 2


def test_async_start_and_stop(routes):
    """async with Gateway(...) serves on the caller's loop and closes cleanly."""

    async def main() -> bytes:
        """Talk SOCKS5 with asyncio streams."""
        async with Gateway(routes, GatewayConfig(socks_port=0, http_port=0)) as gateway:
            reader, writer = await asyncio.open_connection(*gateway.socks_address)
            name = ONION.encode()
            writer.write(b"\x05\x01\x00\x05\x01\x00\x03" + bytes([len(name)]) + name + b"\x00\x50")
            writer.write(f"GET /a HTTP/1.0\r\nHost: {ONION}\r\n\r\n".encode())
            data = await reader.read()
            writer.close()
            await writer.wait_closed()
        assert gateway.socks_address is None
        return data

    data = asyncio.run(main())
    assert data[:4] == b"\x05\x00\x05\x00" and b'"path": "/a"' in data


@pytest.mark.parametrize("use_uvloop", [False, True])
def test_both_event_loops(start_gateway, use_uvloop):
    """The gateway behaves the same on stdlib asyncio and on uvloop."""
    if use_uvloop:
        pytest.importorskip("uvloop")
    gateway, _ = start_gateway(use_uvloop=use_uvloop)
    _still_serves(gateway)
    assert _socks5_code(gateway, UNKNOWN_ONION) == 0x04
    sock = socket.create_connection(gateway.socks_address, timeout=10)
    sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
    assert _recv_all(sock).startswith(HTTP_501)
    sock.close()


def test_basic_auth_header_format(gw):
    """A hand-built Proxy-Authorization header (as privoxy users send) names the visitor."""
    gateway, log = gw
    sock = socket.create_connection(gateway.http_address, timeout=10)
    token = base64.b64encode(b"erin:x").decode()
    sock.sendall(
        f"GET http://{ONION}/ HTTP/1.0\r\nProxy-Authorization: Basic {token}\r\n\r\n".encode()
    )
    answer = _recv_all(sock)  # an HTTP/1.0 client without keep-alive: closed after the answer
    sock.close()
    assert answer.split(b" ", 2)[1] == b"200" and b"Connection: close" in answer
    assert _rows(log, visitor="erin", outcome="ok")


def test_sites_serve_only_port_80(gw):
    """Port 443 (a browser's HTTPS upgrade) is refused, as by `HiddenServicePort 80`.

    The gateway once relayed any port to the site's HTTP server, so Chromium's TLS
    handshake reached it as garbage.
    """
    gateway, log = gw
    assert _socks5_code(gateway, ONION, 443) == 0x04  # Tor: the service closes the circuit
    assert _socks5_code(gateway, "explorer.test", 443) == 0x05  # connection refused
    assert _socks5_code(gateway, ONION, 80) == 0x00
