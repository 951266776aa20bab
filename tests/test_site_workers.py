"""The hidden services in gunicorn worker processes: keep-alive, one banner, supervision.

A worker killed is replaced and `sandbox status` says so; a master killed is restarted on
the same ports; `--site-ports` keeps the internal ports in a range; a state file the
workers cannot open stops the start with the reason; nothing is left running.
"""

from __future__ import annotations

import email.utils
import json
import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest
import requests

from sandbox.pids import alive
from sandbox.port_range import PortRange, PortRangeError
from sandbox.serve import Sandbox
from sandbox.workers import WorkersError, describe
from tests.ports import free_port
from tests.processes import read_until_ready, start_sandbox, stop, wait_listening


@pytest.fixture(scope="module")
def running(tiny_world, tmp_path_factory):
    """The tiny world served on free ports, its sites by two workers."""
    state = tmp_path_factory.mktemp("state")
    with Sandbox(
        tiny_world, socks_port=0, http_port=0, explorer_port=0, state=state, site_workers=2
    ) as sandbox:
        yield sandbox


def _hidden(sandbox: Sandbox):
    """The sites the workers serve (every kind but the in-process ones)."""
    return [s for s in sandbox.sites if s.server is None and s.kind != "explorer"]


def _raw_exchange(sock: socket.socket, host: str, requests_: int) -> list[bytes]:
    """Send requests_ GETs of / on one connection, one after another; the response heads."""
    heads = []
    reader = sock.makefile("rb")
    for _ in range(requests_):
        sock.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = reader.readline()
            assert line, f"connection closed after {len(heads)} responses"
            head += line
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        reader.read(length)
        heads.append(head)
    return heads


def _wait(predicate, what: str, timeout: float = 30):
    """Poll until predicate() is true; fail naming what was awaited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_sites_are_served_by_worker_processes(running):
    """Two workers, children of a master that is not this process, serve every hidden site."""
    info = describe(running.state_dir)
    assert info["master_alive"] and info["master"] != os.getpid()
    assert len(info["workers"]) == 2 and os.getpid() not in info["workers"]
    assert info["restarts"] == 0
    socks = "socks5h://{}:{}".format(*running.gateway.socks_address)
    for site in _hidden(running):
        r = requests.get(f"http://{site.address}/", proxies={"http": socks}, timeout=20)
        assert r.status_code in (200, 503), (site.site_id, r.status_code)  # 503: a DDoS queue


def test_keep_alive_and_one_server_header(running):
    """Three requests on one connection, each answer with exactly one Server header, the
    site's own banner or nginx, never gunicorn's, and one Date header, now."""
    for site in _hidden(running):
        with socket.create_connection(("127.0.0.1", site.port), timeout=10) as sock:
            heads = _raw_exchange(sock, site.address, 3)
        for head in heads:
            banners = [line for line in head.split(b"\r\n") if line.lower().startswith(b"server:")]
            assert len(banners) == 1, (site.site_id, head)
            assert b"gunicorn" not in head.lower(), head
            (date,) = [line for line in head.split(b"\r\n") if line.lower().startswith(b"date:")]
            sent = email.utils.parsedate_to_datetime(date.split(b":", 1)[1].strip().decode())
            assert abs(sent.timestamp() - time.time()) < 5, date  # formatted once a second


def test_the_port_picks_the_site_whatever_the_host_header_says(running):
    """A request on one site's port naming another site's port in its Host header is
    answered by the site whose port it came in on."""
    one, other = (next(s for s in _hidden(running) if s.kind == k) for k in ("wiki", "forum"))
    own = requests.get(f"http://127.0.0.1:{one.port}/", timeout=20)
    elsewhere = requests.get(f"http://127.0.0.1:{other.port}/", timeout=20)
    claimed = requests.get(
        f"http://127.0.0.1:{one.port}/",
        headers={"Host": f"127.0.0.1:{other.port}"},
        timeout=20,
    )
    assert own.text != elsewhere.text
    assert claimed.status_code == own.status_code and claimed.text == own.text


def test_a_head_request_then_a_get_on_one_connection(running):
    """An answer's head is written with its body: a HEAD answer (no body) still goes out
    whole, and the connection carries the next request."""
    site = next(s for s in _hidden(running) if s.kind == "wiki")
    with socket.create_connection(("127.0.0.1", site.port), timeout=10) as sock:
        sock.sendall(f"HEAD / HTTP/1.1\r\nHost: {site.address}\r\n\r\n".encode())
        reader = sock.makefile("rb")
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = reader.readline()
            assert line, head
            head += line
        assert head.startswith(b"HTTP/1.1 200") and b"content-length:" in head.lower()
        (get,) = _raw_exchange(sock, site.address, 1)
    assert get.startswith(b"HTTP/1.1 200")


def test_keep_alive_through_the_gateway(running):
    """A SOCKS connection carries several requests to a site: the keep-alive goes through."""
    import socks as pysocks  # PySocks, requests[socks]'s own

    site = next(s for s in _hidden(running) if s.kind == "wiki")
    host, port = running.gateway.socks_address
    sock = pysocks.socksocket()
    sock.set_proxy(pysocks.SOCKS5, host, port, rdns=True)
    sock.settimeout(20)
    sock.connect((site.address, 80))
    with sock:
        heads = _raw_exchange(sock, site.address, 3)
    assert all(head.startswith(b"HTTP/1.1 200") for head in heads), heads


def test_held_half_requests_pin_no_thread(running):
    """Far more half-sent requests than the workers have threads: a whole request is still
    answered at once, one sent in pieces is served, and the held ones are hung up on."""
    site = next(s for s in _hidden(running) if s.kind == "wiki")
    held = []
    try:
        for _ in range(60):  # 2 workers x 8 threads: stock gthread would be stuck
            sock = socket.create_connection(("127.0.0.1", site.port), timeout=30)
            sock.sendall(b"GET /hel")
            held.append(sock)
        assert requests.get(f"http://127.0.0.1:{site.port}/", timeout=5).status_code == 200
        with socket.create_connection(("127.0.0.1", site.port), timeout=10) as slow:
            for piece in (b"GET / HT", b"TP/1.1\r\nHost: ", site.address.encode(), b"\r\n\r\n"):
                slow.sendall(piece)
                time.sleep(0.2)
            assert slow.recv(12) == b"HTTP/1.1 200"
        for sock in (held[0], held[-1]):  # closed by the site within its head deadline
            assert sock.recv(1) == b""
    finally:
        for sock in held:
            sock.close()


def _held_by_each_worker(sandbox: Sandbox, socks: list[socket.socket]) -> list[int]:
    """How many of socks (connected to the workers) each worker holds."""
    ours = {sock.getsockname()[1] for sock in socks}
    return sorted(
        sum(
            1
            for c in psutil.Process(pid).net_connections("tcp")
            if c.raddr and c.raddr.port in ours
        )
        for pid in describe(sandbox.state_dir)["workers"]
    )


def _answered(sock: socket.socket, host: str) -> bool:
    """One request on sock answered 200."""
    return _raw_exchange(sock, host, 1)[0].startswith(b"HTTP/1.1 200")


def test_new_connections_go_to_the_worker_holding_fewer(running):
    """Connections opened one after another, each asking at once as a browser's does, are
    spread evenly over the two workers (gunicorn alone gave each to whichever worker woke
    first: 5:25 here)."""
    site = next(s for s in _hidden(running) if s.kind == "wiki")
    socks = []
    try:
        for _ in range(30):
            socks.append(socket.create_connection(("127.0.0.1", site.port), timeout=10))
            assert _answered(socks[-1], site.address)
        fewer, more = _held_by_each_worker(running, socks)
        assert fewer + more == 30 and more - fewer <= 2, (fewer, more)
    finally:
        for sock in socks:
            sock.close()


def test_connections_opened_in_a_burst_and_left_idle_are_spread_too(running):
    """Thirty connections opened back to back, none asking anything yet (a crawler's pool
    warming up): still spread evenly, though no request wakes either worker between them."""
    site = next(s for s in _hidden(running) if s.kind == "wiki")
    socks = []
    try:
        for _ in range(30):
            socks.append(socket.create_connection(("127.0.0.1", site.port), timeout=10))
        deadline = time.monotonic() + 5
        while sum(held := _held_by_each_worker(running, socks)) < 30:
            assert time.monotonic() < deadline, f"only {held} of 30 accepted"
            time.sleep(0.05)
        fewer, more = held
        assert more - fewer <= 2, (fewer, more)
    finally:
        for sock in socks:
            sock.close()


def test_a_connection_left_to_a_stopped_worker_is_taken_by_another(running):
    """A worker that cannot take connections (stopped, here) holds fewer than the other:
    the other leaves each new connection to it for a moment, then takes it itself."""
    site = next(s for s in _hidden(running) if s.kind == "wiki")
    stopped = describe(running.state_dir)["workers"][0]
    socks = []
    os.kill(stopped, signal.SIGSTOP)
    try:
        for _ in range(12):
            socks.append(socket.create_connection(("127.0.0.1", site.port), timeout=10))
            assert _answered(socks[-1], site.address)
        assert _held_by_each_worker(running, socks) == [0, 12]
    finally:
        os.kill(stopped, signal.SIGCONT)
        for sock in socks:
            sock.close()


def _status(sandbox: Sandbox) -> tuple[dict, str]:
    """`sandbox status` of the running sandbox: its JSON and its text."""
    args = [sys.executable, "-m", "sandbox", "status", "--state", str(sandbox.state_dir)]
    as_json = subprocess.run([*args, "--json"], capture_output=True, text=True, check=False)
    as_text = subprocess.run(args, capture_output=True, text=True, check=False)
    return json.loads(as_json.stdout), as_text.stdout


def test_a_killed_worker_is_replaced_and_reported(running):
    """SIGKILL a worker: the master starts another, the site keeps answering, and `sandbox
    status` reports the restart."""
    before = describe(running.state_dir)
    victim = before["workers"][0]
    os.kill(victim, signal.SIGKILL)
    _wait(lambda: victim not in describe(running.state_dir)["workers"], "the worker's end")
    _wait(lambda: len(describe(running.state_dir)["workers"]) == 2, "a new worker")
    after = describe(running.state_dir)
    assert after["restarts"] == before["restarts"] + 1
    assert after["last_exits"][-1]["pid"] == victim
    assert after["last_exits"][-1]["role"] == "worker"
    info, text = _status(running)
    assert info["site_workers"]["restarts"] == after["restarts"]
    assert f"worker {victim}" in text and "restarted" in text
    site = _hidden(running)[0]
    assert requests.get(f"http://127.0.0.1:{site.port}/", timeout=20).status_code in (200, 503)


def test_a_killed_master_is_restarted_on_the_same_ports(running):
    """SIGKILL the master (and its workers): `sandbox up` starts a new one on the very ports."""
    before = describe(running.state_dir)
    ports = {s.site_id: s.port for s in _hidden(running)}
    os.killpg(before["master"], signal.SIGKILL)  # its own session: master and workers
    _wait(
        lambda: (
            describe(running.state_dir)["master"] != before["master"]
            and len(describe(running.state_dir)["workers"]) == 2
        ),
        "a new master and its workers",
    )
    after = describe(running.state_dir)
    assert after["master_alive"] and not alive(before["master"])
    assert any(e["role"] == "master" and e["pid"] == before["master"] for e in after["last_exits"])
    assert {s.site_id: s.port for s in _hidden(running)} == ports
    for site in _hidden(running):
        r = requests.get(f"http://127.0.0.1:{site.port}/", timeout=20)
        assert r.status_code in (200, 503), site.site_id


def test_site_ports_keep_internal_ports_in_the_range(tiny_world, tmp_path):
    """--site-ports: every site's internal port (workers' and in-process ones) is in it."""
    first = _free_block(40)
    ports = PortRange(first, first + 39)
    with Sandbox(
        tiny_world,
        socks_port=0,
        http_port=0,
        explorer_port=0,
        state=tmp_path,
        site_ports=ports,
        site_workers=2,
    ) as sandbox:
        internal = [s for s in sandbox.sites if s.kind != "explorer"]
        assert internal and all(ports.first <= s.port <= ports.last for s in internal)
        assert {s.site_id for s in internal} >= {s.site_id for s in _hidden(sandbox)}
        site = _hidden(sandbox)[0]
        assert requests.get(f"http://127.0.0.1:{site.port}/", timeout=20).status_code in (200, 503)


def _free_block(size: int) -> int:
    """The first port of size consecutive ports free right now, below the ephemeral range
    (the ports outgoing connections take, many of them in use while tests run)."""
    for first in range(20000, 32000, size):
        try:
            socks = [socket.create_server(("127.0.0.1", p)) for p in range(first, first + size)]
        except OSError:
            continue
        for s in socks:
            s.close()
        return first
    raise AssertionError("no block of free ports")


def test_a_range_too_small_is_one_error_and_nothing_runs(tiny_world, tmp_path):
    """Two ports for all the sites: PortRangeError naming the range, no process left."""
    first = _free_block(2)
    sandbox = Sandbox(
        tiny_world,
        socks_port=0,
        http_port=0,
        explorer_port=0,
        state=tmp_path,
        site_ports=PortRange(first, first + 1),
    )
    with pytest.raises(PortRangeError, match=f"--site-ports {first}-{first + 1}: no free port"):
        sandbox.start()
    assert sandbox.workers is None and sandbox.gateway is None
    assert describe(tmp_path) is None or not describe(tmp_path)["master_alive"]


def test_a_bad_site_ports_value_is_refused(sandbox, tiny_world, tmp_path):
    """`sandbox up --site-ports 9-2`: exit 2 and the rule, before anything starts."""
    result = sandbox("up", "--world", tiny_world, "--state", tmp_path, "--site-ports", "9-2")
    assert result.exit_code == 2
    assert "port range '9-2': need 1 <= A <= B <= 65535" in result.output


def test_workers_that_cannot_start_stop_the_start_with_the_reason(tiny_world, tmp_path):
    """A damaged state.db: the workers cannot load the sites; start fails with the log's
    reason, leaves no master, and the file is left as it was."""
    damaged = b"this is not a database" * 100
    (tmp_path / "state.db").write_bytes(damaged)
    sandbox = Sandbox(
        tiny_world, socks_port=0, http_port=0, explorer_port=0, state=tmp_path, site_workers=2
    )
    with pytest.raises(WorkersError, match="exited") as raised:
        sandbox.start()
    assert "not a database" in str(raised.value)
    assert (tmp_path / "state.db").read_bytes() == damaged
    master = json.loads((tmp_path / "site-workers" / "master.json").read_text())["pid"]
    assert not alive(master)


def test_the_log_tail_keeps_the_reason_when_the_master_has_the_last_lines(tmp_path):
    """Two workers failing end the log with the master's exit lines: the tail shown to the
    user still leads with the exception that stopped them."""
    from sandbox.workers import record

    traceback = ["Traceback (most recent call last):", '  File "x.py", line 1, in <module>']
    lines = [
        *traceback,
        "sqlite3.DatabaseError: file is not a database",
        *(f"[ERROR] Worker (pid:{n}) exited with code 3" for n in range(20)),
    ]
    (tmp_path / record.LOG).write_text("\n".join(lines) + "\n")
    tail = record.log_tail(tmp_path).splitlines()
    assert tail[:2] == ["sqlite3.DatabaseError: file is not a database", "..."]
    assert tail[2:] == lines[-12:]
    (tmp_path / record.LOG).write_text("\n".join(lines[-5:]) + "\n")
    assert record.log_tail(tmp_path).splitlines() == lines[-5:]  # nothing to lead with
    assert record.log_tail(tmp_path / "missing") == "(no log)"


@pytest.mark.slow  # a real `sandbox up` process, killed
def test_workers_follow_a_killed_sandbox_up(tiny_world, tmp_path):
    """`sandbox up` killed with SIGKILL (no chance to stop anything): its site workers end
    by themselves within seconds, and are not left serving."""
    state = tmp_path / "state"
    proc = start_sandbox(
        "up",
        "--world",
        str(tiny_world),
        "--socks-port",
        str(free_port()),
        "--http-port",
        str(free_port()),
        "--explorer-port",
        "0",
        "--classroom-port",
        "0",
        "--tron-port",
        "0",
        "--tronscan-port",
        "0",
        "--state",
        str(state),
        "--site-workers",
        "2",
    )
    try:
        output = read_until_ready(proc, 60)
        info = describe(state)
        assert info is not None and info["master_alive"], output
        processes = [info["master"], *info["workers"]]
        proc.kill()
        proc.wait(timeout=10)
        _wait(lambda: not any(alive(p) for p in processes), "the workers to end")
    finally:
        stop(proc, signal.SIGINT, 10)


@pytest.mark.slow  # a real `sandbox up` process
def test_sandbox_up_told_to_stop_while_it_starts_stops_cleanly(tiny_world, tmp_path):
    """SIGTERM the moment `sandbox up`'s SOCKS port listens, its site workers still
    starting: it finishes starting, then stops everything and exits 0, instead of dying of
    the signal."""
    socks = free_port()
    proc = start_sandbox(
        "up", "--world", str(tiny_world), "--socks-port", str(socks),
        "--http-port", str(free_port()), "--explorer-port", "0", "--classroom-port", "0",
        "--tron-port", "0", "--tronscan-port", "0", "--state", str(tmp_path / "state"),
    )  # fmt: skip
    try:
        wait_listening(socks, proc)
    finally:
        output = stop(proc, signal.SIGTERM, 30)
    assert proc.returncode == 0, output
    assert "sandbox stopped." in output


def test_containers_sharing_a_state_volume_keep_their_own_records(tiny_world, tmp_path):
    """Two `serve-site` masters on one state directory (docker-compose's shared volume):
    each waits for its own workers, in its own record, and both serve."""
    from sandbox.workers import SiteWorkers, record
    from sandbox.world.store import open_world, site_rows

    conn = open_world(tiny_world)
    kinds = {r["id"]: r["kind"] for r in site_rows(conn) if r["kind"] in ("wiki", "forum")}
    conn.close()
    started = []
    try:
        for site_id, kind in kinds.items():
            workers = SiteWorkers(
                tiny_world,
                tmp_path,
                [(site_id, kind)],
                workers=2,
                record_dir=record.folder(tmp_path, site_id),
            )
            started.append(workers.start())
        for workers in started:
            (site_id,) = workers.site_ports
            port = workers.site_ports[site_id]
            assert len(record.ready_workers(record.folder(tmp_path, site_id))) == 2
            assert requests.get(f"http://127.0.0.1:{port}/", timeout=20).status_code == 200
    finally:
        for workers in started:
            workers.stop()
    assert len(started) == 2
