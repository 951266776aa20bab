"""Hardening (architecture rule 8): connection caps, request timeouts, the containment rate limit, the
world check at start-up, and `sandbox status` from anywhere. Real servers on loopback."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from sandbox.gateway import ConnectionLog, Gateway, GatewayConfig
from sandbox.gateway.log import ADDRESS_SHARE, CONTAINMENT_BURST
from tests.ports import free_port
from tests.processes import READY, as_from_a_terminal, read_until_ready
from tests.test_classroom import build_course_world
from tests.test_gateway import (  # noqa: F401  (site, routes, start_gateway: fixtures)
    ONION,
    _get,
    _socks5,
    _socks_url,
    routes,
    site,
    start_gateway,
)

HOGS = 1100  # over the gateway's global cap of 1024
PER_CLIENT = GatewayConfig().max_per_client


@pytest.fixture(autouse=True, scope="module")
def enough_files():
    """This process holds both ends of every connection: give it the files for that."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 8192 if hard == resource.RLIM_INFINITY else min(hard, 8192)
    if wanted < 6 * HOGS:
        pytest.skip(f"the hard open-files limit {hard} is too low for {HOGS} connections")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _connect(address: tuple[str, int], source: str = "127.0.0.1") -> socket.socket:
    """A TCP connection from a chosen loopback source address."""
    sock = socket.socket()
    sock.settimeout(10)
    sock.bind((source, 0))
    sock.connect(address)
    return sock


def _settle(gateway: Gateway) -> int:
    """Wait until the gateway has taken in every pending connection; return how many it holds."""
    last, steady = -1, 0
    deadline = time.monotonic() + 30
    while steady < 5 and time.monotonic() < deadline:
        now = gateway.active_connections
        steady = steady + 1 if now == last else 0
        last = now
        time.sleep(0.1)
    return last


def _socks_connect(sock: socket.socket, user: str | None, host: str = ONION) -> int:
    """A SOCKS5 handshake and CONNECT to host:80 on an open socket; the reply code."""
    sock.sendall(b"\x05\x01\x02" if user else b"\x05\x01\x00")
    method = sock.recv(2)
    if user:
        assert method == b"\x05\x02"
        sock.sendall(b"\x01" + bytes([len(user)]) + user.encode() + b"\x02pw")
        assert sock.recv(2) == b"\x01\x00"
    sock.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host.encode() + struct.pack(">H", 80))
    reply = b""
    with contextlib.suppress(ConnectionResetError):
        while len(reply) < 10 and (chunk := sock.recv(10 - len(reply))):
            reply += chunk
    return reply[1] if len(reply) == 10 else -1


def _timed_get(gateway: Gateway, user: str | None) -> float:
    """Fetch a page through the gateway as another client; the seconds it took."""
    started = time.monotonic()
    response = _get(f"http://{ONION}/page", _socks_url(gateway, user))
    took = time.monotonic() - started
    assert response.status_code == 200
    return took


@pytest.mark.parametrize(
    "hog",
    ["silent sockets", "relays of one user name", "relays of one address"],
)
def test_one_client_cannot_lock_out_another(start_gateway, hog):  # noqa: F811
    """1,100 idle connections of one client: another client's page still comes in < 1 s."""
    gateway, _ = start_gateway()
    source = "127.0.0.2" if hog == "relays of one address" else "127.0.0.1"
    user = "hog" if hog == "relays of one user name" else None
    held = []
    granted = 0
    try:
        for _ in range(HOGS):
            sock = _connect(gateway.socks_address, source)
            held.append(sock)
            if hog != "silent sockets":
                granted += _socks_connect(sock, user) == 0
        _settle(gateway)
        if hog != "silent sockets":
            assert granted == PER_CLIENT, "the rest are refused, not queued"
        # The other client: its own user name on the same address, or another address.
        other = "trainee07" if user or hog == "silent sockets" else None
        assert _timed_get(gateway, other) < 1.0
    finally:
        for sock in held:
            sock.close()


def _refuse(gateway: Gateway, user: str, count: int) -> None:
    """Ask the gateway for a clearnet host ``count`` times as ``user``: refused each time."""
    for _ in range(count):
        sock, code = _socks5(gateway, "example.com", user=user)
        sock.close()
        assert code == 0x02


def test_containment_log_is_rate_limited_per_client(routes, tmp_path):  # noqa: F811
    """A client's flood of refused destinations: a few rows and a summary, all counted;
    another client (or a made-up user name per attempt) is still recorded."""
    path = tmp_path / "gateway.db"
    log = ConnectionLog(path)
    gateway = Gateway(routes, GatewayConfig(socks_port=0, http_port=0), log).start_in_thread()
    try:
        _refuse(gateway, "flood", 200)
        _refuse(gateway, "other", 1)
        for n in range(300):  # a fresh user name each time does not escape the address limit
            _refuse(gateway, f"rotating{n}", 1)
    finally:
        gateway.stop()
        log.close()
    db = sqlite3.connect(path)
    rows = db.execute("SELECT visitor, suppressed FROM containment").fetchall()
    db.close()
    flood = [s for v, s in rows if v == "flood"]
    plain = flood.count(0)
    assert plain <= CONTAINMENT_BURST + 1, "a row per event past the burst"
    assert plain + sum(flood) == 200, "every refused attempt is a row or counted in a summary"
    assert [s for v, s in rows if v == "other"] == [0]
    rotating = [s for v, s in rows if v and v.startswith("rotating")]
    assert rotating.count(0) <= CONTAINMENT_BURST * ADDRESS_SHARE + 1
    assert rotating.count(0) + sum(rotating) == 300


# --- the world check ----------------------------------------------------------------------


def _overwrite_middle(path: Path) -> None:
    """Overwrite 64 KiB in the middle of the file, as a bad copy would."""
    with path.open("r+b") as f:
        f.seek(path.stat().st_size // 2)
        f.write(bytes(range(256)) * 256)


def _truncate(path: Path) -> None:
    """Cut the file in half, as an interrupted copy would."""
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)


def _old_format(path: Path) -> None:
    """Make it a world of an older schema version."""
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '0' WHERE key = 'format'")
    db.commit()
    db.close()


def _missing_table(path: Path) -> None:
    """Make it a world built before a table was added (same format number)."""
    db = sqlite3.connect(path)
    db.execute("DROP TABLE artefacts")
    db.commit()
    db.close()


def _run(*args, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the sandbox CLI for real."""
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def _refused_in_one_line(result: subprocess.CompletedProcess, world: Path) -> None:
    """Exit 1, one line on stderr naming the world and how to rebuild it, nothing served."""
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(world) in lines[0] and "sandbox build" in lines[0] and f"--out {world}" in lines[0]
    assert "Traceback" not in result.stderr
    assert READY not in result.stdout and "SOCKS5 proxy" not in result.stdout


@pytest.mark.parametrize(
    "damage", [_overwrite_middle, _truncate, _old_format, _missing_table], ids=lambda f: f.__name__
)
def test_up_refuses_a_damaged_or_older_world(tiny_world, tmp_path, damage):
    """A corrupted, truncated or older-schema copy of a world is refused, never served."""
    world = tmp_path / "copy.db"
    shutil.copyfile(tiny_world, world)
    damage(world)
    ports = ["--socks-port", 0, "--http-port", 0, "--explorer-port", 0, "--classroom-port", 0]
    result = _run("up", "--world", world, *ports, "--state", tmp_path / "state")
    _refused_in_one_line(result, world)


def test_a_world_checked_once_is_hashed_again_after_any_write(tiny_world, tmp_path, monkeypatch):
    """The digest of a good world is noted so restarts are fast, but a later write to the
    file (here 64 KiB in the middle) makes the next start hash it again and refuse it."""
    from sandbox.errors import WorldError
    from sandbox.world.read import verify_world

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    world = tmp_path / "copy.db"
    shutil.copyfile(tiny_world, world)
    verify_world(world)
    assert str(world.resolve()) in (tmp_path / "cache/darkweb-sandbox/verified.json").read_text()
    verify_world(world)  # noted: not hashed again
    _overwrite_middle(world)
    with pytest.raises(WorldError, match="does not match its digest|damaged"):
        verify_world(world)


def test_gateway_and_serve_site_refuse_a_damaged_world(tiny_world, tmp_path):
    """The compose stack's commands check the world too."""
    world = tmp_path / "copy.db"
    shutil.copyfile(tiny_world, world)
    _overwrite_middle(world)
    state = tmp_path / "state"
    ports = ["--socks-port", 0, "--http-port", 0, "--explorer-port", 0, "--classroom-port", 0]
    _refused_in_one_line(_run("gateway", world, *ports, "--state", state), world)
    _refused_in_one_line(_run("serve-site", world, "wiki", "--port", 0, "--state", state), world)


# --- a real `sandbox up` under a stock open-files limit -----------------------------------------


def _stock_ulimit() -> None:
    """The child starts with a shell's default soft limit of 1024 open files, and takes
    Ctrl-C as from a terminal."""
    as_from_a_terminal()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))


@pytest.fixture(scope="module")
def course_up(tmp_path_factory):
    """`sandbox up` of a world with seats, as a subprocess, with its own runtime folder."""
    root = tmp_path_factory.mktemp("course-up")
    world = build_course_world(root / "course.db")
    env = dict(os.environ, PYTHONUNBUFFERED="1", XDG_RUNTIME_DIR=str(root / "runtime"))
    (root / "runtime").mkdir()
    ports = {"socks": free_port(), "explorer": free_port(), "classroom": free_port()}
    args = [
        *("up", "--world", world, "--socks-port", ports["socks"], "--http-port", 0),
        *("--explorer-port", ports["explorer"], "--classroom-port", ports["classroom"]),
        *("--state", root / "state"),
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        preexec_fn=_stock_ulimit,
    )
    try:
        banner = read_until_ready(proc, 90)
        assert READY in banner, banner
        yield {"proc": proc, "world": world, "env": env, "banner": banner, "root": root, **ports}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def test_up_says_where_the_seat_codes_are(course_up):
    """The banner points the instructor to `sandbox key WORLD`."""
    assert f"Seat codes and the answer key: sandbox key {course_up['world']}" in course_up["banner"]


def test_status_finds_the_running_sandbox_from_another_directory(course_up, tmp_path):
    """`sandbox status` in a directory with no world and no state still finds it."""
    result = _run("status", "--json", cwd=tmp_path, env=course_up["env"])
    assert result.returncode == 0, result.stdout + result.stderr
    info = json.loads(result.stdout)
    assert info["running"] and info["world"] == str(course_up["world"])
    assert info["socks"].endswith(f":{course_up['socks']}")
    named = _run("status", "--world", course_up["world"], cwd=tmp_path, env=course_up["env"])
    assert named.returncode == 0 and "running" in named.stdout
    other = _run("status", "--world", tmp_path / "other.db", cwd=tmp_path, env=course_up["env"])
    assert other.returncode == 1 and "not running" in other.stdout


def _hung_up(sock: socket.socket, timeout: float) -> bool:
    """Whether the peer closes the connection within ``timeout`` seconds (an answer allowed)."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        return False
    return True


def _half_request(address: tuple[str, int]) -> socket.socket:
    """A connection that sends half a request line and then nothing."""
    sock = socket.create_connection(address, timeout=10)
    sock.sendall(b"GET /hel")
    return sock


@pytest.mark.slow  # ~650 connections held: a load test
def test_held_half_requests_do_not_stop_the_servers(course_up):
    """~650 held half-requests (through the gateway and straight to the explorer and the
    classroom) under a 1024 soft limit: normal requests still succeed, no EMFILE, and the
    held connections are closed by the servers."""
    wiki = next(
        line.split("http://")[1].split("/")[0]
        for line in course_up["banner"].splitlines()
        if line.strip().startswith("wiki")
    )
    socks = ("127.0.0.1", course_up["socks"])
    classroom = ("127.0.0.1", course_up["classroom"])
    explorer = ("127.0.0.1", course_up["explorer"])
    held = []
    try:
        for n in range(350):  # 3 files each in the sandbox: client, upstream, the site's side
            sock = socket.create_connection(socks, timeout=10)
            held.append(sock)
            assert _socks_connect(sock, f"holder{n % 4}", wiki) == 0
            sock.sendall(b"GET /hel")
        held += [_half_request(classroom) for _ in range(150)]
        held += [_half_request(explorer) for _ in range(150)]
        proxy = {"http": f"socks5h://normal:pw@127.0.0.1:{course_up['socks']}"}
        assert requests.get(f"http://{wiki}/", proxies=proxy, timeout=10).status_code == 200
        assert requests.get(f"http://{classroom[0]}:{classroom[1]}/", timeout=10).ok
        tip = requests.get(f"http://{explorer[0]}:{explorer[1]}/api/blocks/tip/height", timeout=10)
        assert tip.status_code == 200 and int(tip.text) > 0
        # The servers hang up on held half-requests: they pin no thread for good.
        assert _hung_up(held[-1], 60) and _hung_up(held[400], 60)
    finally:
        for sock in held:
            sock.close()
    proc = course_up["proc"]
    assert proc.poll() is None, "the sandbox is still running"
    fd, chunks = proc.stdout.fileno(), []
    os.set_blocking(fd, False)
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    except BlockingIOError:
        pass  # all it has printed so far
    finally:
        os.set_blocking(fd, True)
    output = b"".join(chunks).decode(errors="replace")
    assert "Too many open files" not in output, output[-2000:]
