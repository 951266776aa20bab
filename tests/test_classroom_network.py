"""Trainees on other machines: `sandbox up --host ADDRESS` reached over a real network.

Each trainee host is a Linux network namespace with its own address, joined by a veth
pair to a bridge that carries the classroom address (the instructor's machine). From
inside every namespace, curl reaches the SOCKS port, the HTTP proxy, the explorer and
the classroom portal at that address, and what the gateway refuses is logged with the
trainee host's own address. Needs root (CI runs as root); skips when namespaces cannot
be made here.

Names carry the pytest pid (interface names are at most 15 characters), so concurrent
runs do not meet; what a crashed run left behind is removed before a new one starts.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from sandbox.gateway import log as gateway_log
from tests.processes import alive, read_until_ready, start_sandbox, stop
from tests.test_classroom import csrf_of

PREFIX = "sbx"  # every bridge, veth and namespace of these tests; then the owner's pid
TRAINEES = 3
CLEARNET_IP = "93.184.216.34"  # what a trainee's tool tries outside the sandbox
CLEARNET_NAME = "example.com"
INSTRUCTOR_PASSWORD = "correct-horse-42"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run `ip ARGS`; with check, a failure raises with ip's own message."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and done.returncode:
        raise AssertionError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done


def _owner(name: str) -> int | None:
    """The pid in one of our names (sbx<pid>...), None for anyone else's."""
    found = re.fullmatch(rf"{PREFIX}(\d+)\D.*", name)
    return int(found.group(1)) if found else None


def _remove(namespaces: list[str], links: list[str]) -> None:
    """Delete namespaces (their veth ends go with them) and host-side links; gone is fine."""
    for ns in namespaces:
        _ip("netns", "del", ns, check=False)
    for link in links:
        _ip("link", "del", link, check=False)


def _remove_stale() -> None:
    """Remove what an earlier run that crashed left: our names whose pid is gone."""
    listed = _ip("-o", "netns", "list", check=False).stdout.split("\n")
    namespaces = [line.split()[0] for line in listed if line.strip()]
    links = [entry["ifname"] for entry in json.loads(_ip("-j", "link", "show").stdout or "[]")]
    stale = lambda name: (pid := _owner(name)) is not None and not alive(pid)  # noqa: E731
    _remove([n for n in namespaces if stale(n)], [n for n in links if stale(n)])


def _free_subnet() -> ipaddress.IPv4Network:
    """A 10.213.x.0/24 no interface of this machine is on (another run's bridge, a VPN)."""
    used = [
        ipaddress.ip_interface(f"{a['local']}/{a['prefixlen']}").network
        for entry in json.loads(_ip("-j", "-4", "addr", "show").stdout or "[]")
        for a in entry.get("addr_info", [])
    ]
    start = os.getpid() % 250
    for step in range(250):
        net = ipaddress.ip_network(f"10.213.{(start + step) % 250 + 1}.0/24")
        if not any(net.overlaps(u) for u in used):
            return net
    raise AssertionError("no free 10.213.x.0/24 on this machine")


@dataclass(frozen=True)
class Classroom:
    """The bridge, its address (the instructor's machine) and the trainee hosts."""

    bridge: str
    address: str
    trainees: dict[str, str]  # namespace -> its address

    def run(self, ns: str, *command: str) -> subprocess.CompletedProcess:
        """A command inside a trainee's namespace."""
        return subprocess.run(
            ["ip", "netns", "exec", ns, *command], capture_output=True, text=True, timeout=60
        )

    def curl(self, ns: str, *args: str) -> tuple[int, str]:
        """(HTTP status, body) of curl inside a namespace; status 0 when nothing answered."""
        done = self.run(ns, "curl", "-sS", "--max-time", "20", "-w", "\n%{http_code}", *args)
        body, _, code = done.stdout.rpartition("\n")
        return int(code or 0), body


@pytest.fixture(scope="module")
def classroom():
    """A bridge with the classroom address and TRAINEES namespaces on it; removed after."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2's `ip`")
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    _remove_stale()
    tag = f"{PREFIX}{os.getpid()}"
    probe = _ip("netns", "add", f"{tag}-probe", check=False)
    if probe.returncode:
        pytest.skip(f"`ip netns add` is not permitted here: {probe.stderr.strip()}")
    _ip("netns", "del", f"{tag}-probe")
    net = _free_subnet()
    hosts = [str(h) for h in net.hosts()]
    bridge = f"{tag}br"
    trainees = {f"{tag}-t{i}": hosts[10 + i] for i in range(1, TRAINEES + 1)}
    namespaces, links = list(trainees), [bridge] + [f"{tag}h{i}" for i in range(1, TRAINEES + 1)]
    try:
        _ip("link", "add", bridge, "type", "bridge")
        _ip("addr", "add", f"{hosts[0]}/{net.prefixlen}", "dev", bridge)
        _ip("link", "set", bridge, "up")
        for i, (ns, address) in enumerate(trainees.items(), start=1):
            host_end, ns_end = f"{tag}h{i}", f"{tag}n{i}"
            _ip("netns", "add", ns)
            _ip("link", "add", host_end, "type", "veth", "peer", "name", ns_end, "netns", ns)
            _ip("link", "set", host_end, "master", bridge)
            _ip("link", "set", host_end, "up")
            _ip("-n", ns, "addr", "add", f"{address}/{net.prefixlen}", "dev", ns_end)
            _ip("-n", ns, "link", "set", ns_end, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        yield Classroom(bridge, hosts[0], trainees)
    finally:
        _remove(namespaces, links)


@dataclass(frozen=True)
class Served:
    """A running `sandbox up`: run.json's content, its state directory and what it printed."""

    run: dict
    state: Path
    output: str
    bind: str  # the --host it was given

    def at(self, key: str, address: str) -> str:
        """run.json's `key` as a trainee reaches it: at the classroom address."""
        return self.run[key].replace(self.bind, address, 1)


@pytest.fixture(scope="module", params=["classroom address", "0.0.0.0"])
def served(request, classroom, tiny_world, tmp_path_factory):
    """`sandbox up --host <the classroom address or every address>` on free ports, stopped
    with Ctrl-C's SIGINT at the end."""
    bind = classroom.address if request.param == "classroom address" else request.param
    state = tmp_path_factory.mktemp("classroom-net")
    ports = ("--socks-port", "--http-port", "--explorer-port", "--classroom-port")
    ports += ("--tron-port", "--tronscan-port")
    args = [arg for option in ports for arg in (option, "0")]
    proc = start_sandbox(
        "up",
        "--world",
        str(tiny_world),
        "--host",
        bind,
        "--state",
        str(state),
        "--instructor-password",
        INSTRUCTOR_PASSWORD,
        "--block-seconds",
        "0",
        "--no-tor-latency",
        *args,
    )
    try:
        output = read_until_ready(proc, 60)
        assert proc.poll() is None and "Ctrl-C stops everything" in output, output
        yield Served(json.loads((state / "run.json").read_text()), state, output, bind)
    finally:
        rest = stop(proc, signal.SIGINT, 30)
        assert proc.returncode == 0, rest


def _port(address: str) -> int:
    """The port of 'host:port' or 'http://host:port/'."""
    return int(address.rstrip("/").rsplit(":", 1)[1])


def test_up_advertises_the_address_it_listens_on(served):
    """run.json and the printed lines give the --host address (the classroom's, when it was
    named), never loopback, and `sandbox status` finds every part listening there."""
    run, at = served.run, served.bind
    assert run["socks"] == f"{at}:{_port(run['socks'])}"
    assert run["http_proxy"] == f"{at}:{_port(run['http_proxy'])}"
    assert run["explorer"] == f"http://{at}:{_port(run['explorer'])}/"
    assert run["classroom"] == f"http://{at}:{_port(run['classroom'])}/"
    assert f"curl --socks5-hostname {at}:{_port(run['socks'])} " in served.output
    assert f"export INVESTIGATE_PROXY=socks5h://{at}:{_port(run['socks'])}" in served.output
    hint = "Trainees on other machines: this machine's classroom address in place of 0.0.0.0"
    assert (hint in served.output) == (at == "0.0.0.0"), served.output
    status = subprocess.run(
        [sys.executable, "-m", "sandbox", "status", "--state", str(served.state), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    info = json.loads(status.stdout)
    assert info["running"] and info["socks_listening"] and info["http_proxy_listening"], info
    assert info["classroom_listening"] and all(s["listening"] for s in info["sites"]), info


def test_every_trainee_reaches_every_service(classroom, served):
    """From each namespace: a site's .onion over socks5h and over the HTTP proxy, the explorer
    and the classroom portal directly, and both by name through the proxy."""
    run, here = served.run, classroom.address
    wiki = next(s for s in run["sites"] if s["kind"] == "wiki")
    explorer = next(s for s in run["sites"] if s["kind"] == "explorer")
    assert wiki["address"].endswith(".onion")
    socks = f"socks5h://{served.at('socks', here)}"
    proxy = f"http://{served.at('http_proxy', here)}"
    explorer_url, classroom_url = served.at("explorer", here), served.at("classroom", here)
    assert explorer_url.startswith(f"http://{here}:") and classroom_url.startswith(
        f"http://{here}:"
    )
    for ns in classroom.trainees:
        status, body = classroom.curl(ns, "--proxy", socks, f"http://{wiki['address']}/")
        assert (status, wiki["name"] in body) == (200, True), (ns, status, body[:300])
        status, body = classroom.curl(ns, "--proxy", proxy, f"http://{wiki['address']}/")
        assert (status, wiki["name"] in body) == (200, True), (ns, status, body[:300])
        status, height = classroom.curl(ns, f"{explorer_url}api/blocks/tip/height")
        assert status == 200 and int(height) > 0, (ns, status, height)
        status, by_name = classroom.curl(
            ns, "--proxy", socks, f"http://{explorer['address']}/api/blocks/tip/height"
        )
        assert (status, by_name) == (200, height), (ns, status, by_name[:300])
        status, body = classroom.curl(ns, f"{classroom_url}join")
        assert status == 200 and "seat code" in body.lower(), (ns, status, body[:300])
        status, body = classroom.curl(ns, "--proxy", socks, f"http://{run['classroom_name']}/join")
        assert status == 200 and "seat code" in body.lower(), (ns, status, body[:300])


def test_containment_is_logged_with_each_trainees_address(classroom, served):
    """A CONNECT to a clearnet address over the HTTP proxy and a clearnet name over SOCKS are
    refused; the gateway logs each attempt, and each stream it served, with the trainee
    host's own address (not the loopback a local test shows), and the instructor's
    connection log page shows them per trainee."""
    here = classroom.address
    wiki = next(s for s in served.run["sites"] if s["kind"] == "wiki")
    names = {ns: f"trainee{i}" for i, ns in enumerate(classroom.trainees, start=1)}
    proxy = f"http://{served.at('http_proxy', here)}"
    for ns, name in names.items():
        socks = f"socks5h://{name}:pw@{served.at('socks', here)}"
        tried = classroom.run(
            ns, "curl", "-sS", "-w", "%{http_connect}", "--proxy", proxy, f"https://{CLEARNET_IP}/"
        )
        assert (tried.returncode, tried.stdout) == (56, "403"), (ns, tried)  # CONNECT refused
        tried = classroom.run(ns, "curl", "-sS", "--proxy", socks, f"http://{CLEARNET_NAME}/")
        assert tried.returncode == 97 and "(2)" in tried.stderr, (ns, tried)  # 0x02: not allowed
        status, _ = classroom.curl(ns, "--proxy", socks, f"http://{wiki['address']}/")
        assert status == 200, ns
    addresses = set(classroom.trainees.values())
    expected = {(a, d) for a in addresses for d in (CLEARNET_IP, CLEARNET_NAME)}
    # The gateway writes its log in batches: poll until every attempt's row is there.
    deadline = time.monotonic() + 30
    while True:
        connections, containment = gateway_log.latest(served.state / "gateway.db", limit=1000)
        refused = {(_host(r["client"]), r["destination"]) for r in containment}
        served_to = {
            (_host(r["client"]), r["visitor"])
            for r in connections
            if r["destination"] == wiki["address"] and r["outcome"] == "ok" and r["visitor"]
        }
        done = expected <= refused and len(served_to) >= len(names)
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert expected <= refused, (expected, refused)
    assert served_to == {(classroom.trainees[ns], name) for ns, name in names.items()}
    assert {r["visitor"] for r in containment if r["destination"] == CLEARNET_NAME} == set(
        names.values()
    )
    assert not any(_host(r["client"]).startswith("127.") for r in containment), containment
    # The instructor, on the classroom machine, reads the same on the portal.
    teacher = requests.Session()
    portal = served.at("classroom", here)
    r = teacher.get(f"{portal}instructor/login", timeout=10)
    r = teacher.post(
        f"{portal}instructor/login",
        data={"csrf": csrf_of(r.text), "password": INSTRUCTOR_PASSWORD},
        timeout=10,
    )
    assert r.status_code == 200, r.text[:300]
    for ns, name in names.items():
        page = teacher.get(f"{portal}instructor/connections?visitor={name}", timeout=10).text
        assert classroom.trainees[ns] in page and CLEARNET_NAME in page, (name, page[:500])
        others = set(classroom.trainees.values()) - {classroom.trainees[ns]}
        assert not any(f"{other}:" in page for other in others), (name, page[:500])


def _host(client: str | None) -> str:
    """The address of a 'host:port' client as the gateway logs it."""
    return (client or "").rpartition(":")[0].strip("[]")


def test_stale_leftovers_are_removed():
    """A namespace and a bridge named for a pid that no longer runs are removed; our own stay."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2's `ip`")
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = f"{PREFIX}{gone.pid}"
    if _ip("netns", "add", f"{dead}-t1", check=False).returncode:
        pytest.skip("`ip netns add` is not permitted here")
    mine = f"{PREFIX}{os.getpid()}-keep"
    try:
        _ip("link", "add", f"{dead}br", "type", "bridge")
        _ip("netns", "add", mine)
        _remove_stale()
        assert f"{dead}-t1" not in _ip("netns", "list").stdout
        assert _ip("link", "show", f"{dead}br", check=False).returncode != 0
        assert mine in _ip("netns", "list").stdout
    finally:
        _remove([f"{dead}-t1", mine], [f"{dead}br"])
        assert not Path(f"/run/netns/{mine}").exists()
