"""The private Tor network mode: real tor processes publishing the world's onions."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from sandbox.onion import OnionKey
from sandbox.serve import Sandbox
from sandbox.tor import PrivateTorNetwork, TorNotInstalled, find_tor, onion_sites
from sandbox.tor.network import (
    Node,
    authority_torrc,
    client_torrc,
    onion_torrc,
    relay_torrc,
    trainee_torrc,
)
from tests.ports import free_port
from tests.processes import read_until_ready, start_sandbox, stop

READY_TIMEOUT = 180  # seconds; it forms in about 20 s here


def _fake_network(tmp_path: Path) -> tuple[list[Node], list[Node]]:
    """Authorities and relays with made-up ports and fingerprints, for torrc text checks."""
    auths = [
        Node(f"sbauth{i}", "authority", tmp_path / f"a{i}", 5000 + i, 7000 + i, None, "A" * 40)
        for i in range(1, 4)
    ]
    for a in auths:
        a.v3ident = "B" * 40
    relays = [Node(f"sbrelay{i}", "relay", tmp_path / f"r{i}", 6000 + i) for i in range(1, 6)]
    return auths, relays


def test_torrc_names_only_private_authorities(tmp_path):
    """Every generated torrc: TestingTorNetwork 1, our three loopback authorities, no fallbacks."""
    auths, relays = _fake_network(tmp_path)
    onion = Node("sbonion", "onion", tmp_path / "o")
    client = Node("sbclient", "client", tmp_path / "c", socks_port=9999)
    texts = {
        "authority": authority_torrc(auths[0], auths, "127.0.0.1", 1),
        "relay": relay_torrc(relays[0], auths, "127.0.0.1", 1),
        "onion": onion_torrc(onion, auths, "127.0.0.1", 1, [(tmp_path / "hs", "127.0.0.1", 8001)]),
        "client": client_torrc(client, auths, "127.0.0.1", 1, "127.0.0.1"),
        "trainee": trainee_torrc(auths, "127.0.0.1"),
    }
    for role, text in texts.items():
        lines = text.splitlines()
        assert "TestingTorNetwork 1" in lines, role
        assert "UseDefaultFallbackDirs 0" in lines, role
        dir_auths = [line for line in lines if line.startswith("DirAuthority ")]
        assert len(dir_auths) == 3, role
        for line, auth in zip(dir_auths, auths, strict=True):
            assert f" 127.0.0.1:{auth.dir_port} {auth.fingerprint}" in line, role
            assert f"orport={auth.or_port}" in line and f"v3ident={auth.v3ident}" in line, role
        # Nothing that could reach the public network: no other authority or fallback.
        for word in ("FallbackDir ", "AlternateDirAuthority", "AlternateBridgeAuthority"):
            assert word not in text, (role, word)
        addresses = set(re.findall(r"\b\d{1,3}(?:\.\d{1,3}){3}\b", text))
        assert addresses <= {"127.0.0.1", "127.0.0.0"}, (role, addresses)
    assert "AuthoritativeDirectory 1" in texts["authority"]
    assert "TestingDirAuthVoteHSDir *" in texts["authority"]
    assert "ExitPolicy accept 127.0.0.0/8:*\nExitPolicy reject *:*" in texts["relay"]
    assert (
        f"HiddenServiceDir {tmp_path / 'hs'}\nHiddenServicePort 80 127.0.0.1:8001"
        in (texts["onion"])
    )
    assert "SocksPort 127.0.0.1:9999" in texts["client"]
    assert "DataDirectory" not in texts["trainee"]  # the Tor Browser keeps its own


def test_onion_service_directories_hold_the_worlds_keys(tmp_path):
    """The HiddenServiceDir of a site has Tor's key files from the world's seed, mode 0700."""
    key = OnionKey.from_seed(b"\x07" * 32)
    network = PrivateTorNetwork(
        tmp_path, {key.address: ("127.0.0.1", 8001)}, {key.address: key.seed}
    )
    node = Node("sbonion", "onion", tmp_path / "sbonion")
    [(hs, host, port)] = network._write_services(node)
    assert (host, port) == ("127.0.0.1", 8001)
    assert (hs / "hostname").read_text() == key.address + "\n"
    assert (hs / "hs_ed25519_secret_key").read_bytes() == key.secret_key_file()
    assert (hs / "hs_ed25519_public_key").read_bytes() == key.public_key_file()
    assert hs.stat().st_mode & 0o777 == 0o700


def test_a_seed_must_match_its_address(tmp_path):
    """A seed that yields another onion address is refused before anything runs."""
    key, other = OnionKey.from_seed(b"\x01" * 32), OnionKey.from_seed(b"\x02" * 32)
    with pytest.raises(Exception, match="yields"):
        PrivateTorNetwork(tmp_path, {key.address: ("127.0.0.1", 1)}, {key.address: other.seed})


def _need_tor() -> None:
    """Install Debian's tor when missing and possible; else skip saying why."""
    try:
        find_tor()
        return
    except TorNotInstalled as e:
        reason = str(e)
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "tor"]):
            subprocess.run(cmd, env=env, capture_output=True, timeout=600, check=False)
        if shutil.which("systemctl"):
            # The package starts Debian's own tor, which joins the public network: stop it.
            subprocess.run(
                ["systemctl", "disable", "--now", "tor"], capture_output=True, check=False
            )
        try:
            find_tor()
            return
        except TorNotInstalled:
            reason += "; apt-get install tor failed"
    pytest.skip(f"private Tor network not tested: {reason}")


@pytest.fixture(scope="module")
def private_tor(tiny_world, tmp_path_factory):
    """The tiny world's sandbox and a private Tor network publishing its onions."""
    _need_tor()
    state = tmp_path_factory.mktemp("torstate")
    with Sandbox(
        tiny_world, socks_port=0, http_port=0, explorer_port=0, classroom_port=None, state=state
    ) as sandbox:
        sites, seeds = onion_sites(sandbox)
        network = PrivateTorNetwork(state / "tor", sites, seeds)
        try:
            network.start()
            yield sandbox, network
        finally:
            network.stop()


@pytest.mark.tor
def test_a_world_onion_through_real_tor(private_tor, capsys):
    """The wiki's page comes through the real Tor client's SOCKS port, under the world's address."""
    sandbox, network = private_tor
    wiki = next(s for s in sandbox.sites if s.kind == "wiki")
    seconds = network.wait_ready(wiki.address, READY_TIMEOUT)
    with capsys.disabled():
        print(
            f"\nprivate Tor network: client bootstrapped after "
            f"{network.timings.get('bootstrapped', 0):.1f} s, first onion page after "
            f"{seconds:.1f} s (keys {network.timings['keys']:.1f} s)"
        )
    proxies = {"http": network.socks_url}
    r = requests.get(f"http://{wiki.address}/", proxies=proxies, timeout=60)
    assert r.status_code == 200
    assert wiki.name in r.text
    # The onion service really is Tor's, not the gateway's: Tor wrote the same hostname.
    hs = network.dir / "sbonion" / "hs" / wiki.address.removesuffix(".onion")
    assert (hs / "hostname").read_text().strip() == wiki.address


@pytest.mark.tor
def test_every_onion_of_the_world_is_published(private_tor):
    """Each onion site of the world answers through Tor; .test sites are not published."""
    sandbox, network = private_tor
    wiki = next(s for s in sandbox.sites if s.kind == "wiki")
    network.wait_ready(wiki.address, READY_TIMEOUT)
    onions = [s for s in sandbox.sites if s.address.endswith(".onion")]
    assert onions and set(network.sites) == {s.address for s in onions}
    for site in onions:
        r = requests.get(f"http://{site.address}/", proxies={"http": network.socks_url}, timeout=90)
        assert r.status_code == 200, site.site_id
        assert site.name in r.text or "queue" in r.text.lower(), site.site_id


@pytest.mark.tor
def test_no_tor_process_talks_to_the_public_network(private_tor):
    """Every torrc names only our authorities, and every address in the logs is loopback."""
    sandbox, network = private_tor
    network.wait_ready(next(iter(network.sites)), READY_TIMEOUT)
    for node in network.nodes:
        text = (node.directory / "torrc").read_text()
        assert "TestingTorNetwork 1" in text and "UseDefaultFallbackDirs 0" in text
        log = node.log.read_text(errors="replace")
        addresses = set(re.findall(r"\b\d{1,3}(?:\.\d{1,3}){3}\b", log))
        # Version strings (0.4.9.11) look like addresses too; anything else must be loopback.
        outside = {a for a in addresses if not a.startswith(("127.", "0."))}
        assert not outside, (node.nickname, outside)


def _status(world: Path, state: Path, *args: str) -> subprocess.CompletedProcess:
    """`sandbox status` of a world, as a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "sandbox", "status", "--world", str(world), "--state", str(state)]
        + list(args),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.tor
def test_up_tor_cli_prints_the_torrc_and_stops_tor_on_sigterm(tiny_world, tmp_path, capsys):
    """`up --tor` prints the SOCKS port and torrc, `status` sees a relay die, SIGTERM stops all."""
    _need_tor()
    state = tmp_path / "state"
    tor_socks = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    args = ["--world", str(tiny_world), "--state", str(state), "--tor"]
    args += ["--socks-port", str(free_port()), "--http-port", str(free_port())]
    args += ["--explorer-port", "0", "--classroom-port", "0", "--tor-socks-port", str(tor_socks)]
    proc = start_sandbox("up", *args, env=env)
    try:
        text = read_until_ready(proc, READY_TIMEOUT)
        assert f"Tor SOCKS5     127.0.0.1:{tor_socks}" in text, text
        assert "TestingTorNetwork 1" in text and "UseDefaultFallbackDirs 0" in text
        assert text.count("DirAuthority sbauth") == 3
        with capsys.disabled():
            print("\n" + next(x for x in text.splitlines() if x.startswith("Tor network formed")))
        network = json.loads((state / "tor" / "network.json").read_text())
        wiki = re.search(r"wiki\s+http://(\w+\.onion)/", text).group(1)
        url = f"socks5h://127.0.0.1:{tor_socks}"
        r = requests.get(f"http://{wiki}/", proxies={"http": url}, timeout=60)
        assert r.status_code == 200
        status = _status(tiny_world, state)
        assert status.returncode == 0, status.stdout + status.stderr
        tor_line = next(x for x in status.stdout.splitlines() if "Tor SOCKS5" in x)
        count = len(network["pids"])
        assert f"127.0.0.1:{tor_socks}" in tor_line and " up " in tor_line, tor_line
        assert f"{count} of {count} tor processes" in tor_line, tor_line
        os.kill(network["pids"]["sbrelay5"], signal.SIGKILL)
        time.sleep(0.5)
        status = _status(tiny_world, state, "--json")
        assert status.returncode == 1, status.stdout + status.stderr  # a relay died: not healthy
        assert json.loads(status.stdout)["tor"]["gone"] == ["sbrelay5"]
    finally:
        rest = stop(proc, signal.SIGTERM, 60)
    assert proc.returncode == 0, text + rest
    assert "sandbox stopped." in rest
    for pid in network["pids"].values():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not (state / "tor" / "network.json").exists()
