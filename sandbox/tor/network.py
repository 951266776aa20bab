"""A private Tor network of real `tor` processes on loopback, serving the world's onion services.

`PrivateTorNetwork(state_dir, sites, seeds).start()` runs 3 directory authorities and 5
relays (keys from `tor-gencert` and `tor --list-fingerprint`), one onion-service host that
publishes every site as a v3 onion service with the world's own ed25519 key (so the
addresses are the ones the built-in gateway answers for), and one client whose SOCKS port
trainees use. Every torrc has `TestingTorNetwork 1`, `UseDefaultFallbackDirs 0` and
`DirAuthority` lines naming only our authorities, which replace Tor's built-in ones: no
process ever contacts the public Tor network. Keys and ports are kept in `<state_dir>`
between runs, so the torrc lines handed to trainees stay valid as long as the ports are free.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SandboxError
from ..onion import OnionKey

__all__ = [
    "PrivateTorNetwork",
    "TorError",
    "TorNotInstalled",
    "authority_torrc",
    "client_torrc",
    "find_tor",
    "network_lines",
    "onion_sites",
    "onion_torrc",
    "relay_torrc",
    "trainee_torrc",
]

AUTHORITIES = 3
RELAYS = 5
LAYOUT_FILE = "layout.json"
NETWORK_FILE = "network.json"
# Kept between runs: identity keys (so fingerprints and DirAuthority lines stay the same).
_KEEP = {"keys", "fingerprint", "fingerprint-ed25519", "torrc"}


class TorError(SandboxError):
    """The private Tor network could not be set up or did not come up."""


class TorNotInstalled(TorError):
    """The `tor` or `tor-gencert` program is missing."""


def find_tor() -> tuple[str, str]:
    """Paths of `tor` and `tor-gencert`, or TorNotInstalled saying how to get them."""
    # Debian puts tor in /usr/sbin, which is not on every user's PATH.
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    tor, gencert = shutil.which("tor", path=path), shutil.which("tor-gencert", path=path)
    if not tor or not gencert:
        missing = " and ".join(n for n, p in (("tor", tor), ("tor-gencert", gencert)) if not p)
        raise TorNotInstalled(f"{missing} not found: install Debian's tor (apt-get install tor)")
    return tor, gencert


@dataclass
class Node:
    """One tor process of the network and what others need to know about it."""

    nickname: str
    role: str  # "authority", "relay", "onion" (the onion-service host) or "client"
    directory: Path
    or_port: int | None = None
    dir_port: int | None = None
    socks_port: int | None = None
    fingerprint: str | None = None  # relay identity (RSA), hex
    v3ident: str | None = None  # authority's v3 identity (its certificate's fingerprint), hex
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def log(self) -> Path:
        """Tor's notice-level log of this node."""
        return self.directory / "notice.log"

    def to_json(self) -> dict:
        """Its layout entry: name, role and ports."""
        return {
            "nickname": self.nickname,
            "role": self.role,
            "or_port": self.or_port,
            "dir_port": self.dir_port,
            "socks_port": self.socks_port,
        }


# --- torrc text (pure functions, so the tests can check it without running tor) -------------


def dir_authority_line(node: Node, address: str) -> str:
    """The `DirAuthority` line that names one of our authorities."""
    return (
        f"DirAuthority {node.nickname} orport={node.or_port} no-v2 v3ident={node.v3ident} "
        f"{address}:{node.dir_port} {node.fingerprint}"
    )


def network_lines(authorities: list[Node], address: str) -> list[str]:
    """The lines every member of the private network has, trainees' Tor Browsers included."""
    return [
        # Allows private addresses, fast bootstrapping and our own authorities.
        "TestingTorNetwork 1",
        # Setting DirAuthority replaces Tor's default authorities; this drops the fallbacks.
        "UseDefaultFallbackDirs 0",
        # Eight relays: do not wait for more descriptors than a small network has.
        "PathsNeededToBuildCircuits 0.67",
        *(dir_authority_line(a, address) for a in authorities),
    ]


def _common(node: Node, authorities: list[Node], address: str, owner_pid: int) -> list[str]:
    """Lines every tor process of ours has: the network, its data directory, logging."""
    return [
        f"# {node.role} {node.nickname} of the sandbox's private Tor network",
        *network_lines(authorities, address),
        f"DataDirectory {node.directory}",
        f"Nickname {node.nickname}",
        "RunAsDaemon 0",
        # tor exits by itself when the sandbox dies, even from kill -9: no orphans.
        f"__OwningControllerProcess {owner_pid}",
        f"Log notice file {node.log}",
        "SafeLogging 0",
        "ControlPort 0",
    ]


def _relay_common(node: Node, address: str) -> list[str]:
    """Lines of authorities and relays: where they listen and that they skip reachability tests."""
    return [
        f"Address {address}",
        f"ORPort {address}:{node.or_port}",
        "SocksPort 0",
        # No reachability self-test: the network has no consensus to test with at first.
        "AssumeReachable 1",
        f"ContactInfo {node.nickname}@sandbox.test",
    ]


def authority_torrc(node: Node, authorities: list[Node], address: str, owner_pid: int) -> str:
    """The torrc of a directory authority."""
    lines = [
        *_common(node, authorities, address, owner_pid),
        *_relay_common(node, address),
        f"DirPort {address}:{node.dir_port}",
        "AuthoritativeDirectory 1",
        "V3AuthoritativeDirectory 1",
        # Votes as fast as Tor allows at first, then every 20 s (chutney's settings); the
        # onion-service time period is 24 intervals long in a testing network.
        "TestingV3AuthInitialVotingInterval 6",
        "TestingV3AuthInitialVoteDelay 2",
        "TestingV3AuthInitialDistDelay 2",
        "V3AuthVotingInterval 20",
        "V3AuthVoteDelay 4",
        "V3AuthDistDelay 4",
        "V3AuthNIntervalsValid 2",
        # Every relay gets the flags at once instead of after hours of uptime.
        "TestingDirAuthVoteExit *",
        "TestingDirAuthVoteGuard *",
        "TestingDirAuthVoteHSDir *",
        "TestingMinExitFlagThreshold 0",
        "ExitPolicy reject *:*",
    ]
    return "\n".join(lines) + "\n"


def relay_torrc(node: Node, authorities: list[Node], address: str, owner_pid: int) -> str:
    """The torrc of a relay: also an exit, but only to loopback (the sandbox's own ports)."""
    lines = [
        *_common(node, authorities, address, owner_pid),
        *_relay_common(node, address),
        "ExitRelay 1",
        "ExitPolicyRejectPrivate 0",
        "ExitPolicy accept 127.0.0.0/8:*",
        "ExitPolicy reject *:*",
        "IPv6Exit 0",
    ]
    return "\n".join(lines) + "\n"


def onion_torrc(
    node: Node,
    authorities: list[Node],
    address: str,
    owner_pid: int,
    services: list[tuple[Path, str, int]],
) -> str:
    """The torrc of the onion-service host: one HiddenServiceDir per site, port 80 to its server."""
    lines = [*_common(node, authorities, address, owner_pid), "SocksPort 0"]
    for directory, host, port in services:
        lines += [f"HiddenServiceDir {directory}", f"HiddenServicePort 80 {host}:{port}"]
    return "\n".join(lines) + "\n"


def client_torrc(
    node: Node, authorities: list[Node], address: str, owner_pid: int, socks_host: str
) -> str:
    """The torrc of the client whose SOCKS port trainees use."""
    lines = [
        *_common(node, authorities, address, owner_pid),
        f"SocksPort {socks_host}:{node.socks_port}",
    ]
    return "\n".join(lines) + "\n"


def trainee_torrc(authorities: list[Node], address: str) -> str:
    """The torrc lines a trainee's own Tor Browser needs to join the private network."""
    lines = [
        "# Sandbox private Tor network: add to Tor Browser's torrc",
        "# (Browser/TorBrowser/Data/Tor/torrc; delete the cached-* files next to it first)",
        *network_lines(authorities, address),
        "UseBridges 0",
    ]
    return "\n".join(lines) + "\n"


# --- the network -------------------------------------------------------------------------------


def _free_ports(host: str, count: int) -> list[int]:
    """Distinct TCP ports free on host right now."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _port_free(host: str, port: int) -> bool:
    """Whether a TCP port can be bound on host."""
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def onion_sites(sandbox) -> tuple[dict[str, tuple[str, int]], dict[str, bytes]]:
    """The onion sites of a running Sandbox: {address: (ip, port)} and {address: seed}."""
    from ..world.store import open_world, site_rows

    conn = open_world(sandbox.world)
    try:
        seeds = {
            row["address"]: bytes(row["onion_seed"])
            for row in site_rows(conn)
            if row["onion_seed"] is not None
        }
    finally:
        conn.close()
    sites = {s.address: ("127.0.0.1", s.port) for s in sandbox.sites if s.address in seeds}
    return sites, {a: seeds[a] for a in sites}


class PrivateTorNetwork:
    """3 authorities, 5 relays, an onion-service host and a client, all real tor on loopback."""

    def __init__(
        self,
        state_dir: str | Path,
        sites: dict[str, tuple[str, int]],
        seeds: dict[str, bytes],
        *,
        address: str = "127.0.0.1",
        socks_host: str = "127.0.0.1",
        socks_port: int = 0,
        authorities: int = AUTHORITIES,
        relays: int = RELAYS,
    ):
        """Describe the network; nothing runs until start()."""
        self.dir = Path(state_dir)
        self.sites = dict(sites)
        self.keys = {}
        for onion, seed in seeds.items():
            key = OnionKey.from_seed(seed)
            if key.address != onion:
                raise TorError(f"seed of {onion} yields {key.address}, not that address")
            self.keys[onion] = key
        missing = sorted(set(self.sites) - set(self.keys))
        if missing:
            raise TorError(f"no onion key for {', '.join(missing)}")
        self.address = address
        self.socks_host = socks_host
        self.requested_socks_port = socks_port
        self.counts = (authorities, relays)
        self.nodes: list[Node] = []
        self.started: float | None = None
        self.timings: dict[str, float] = {}  # seconds from start(): bootstrapped, first_page
        self._lock = threading.Lock()

    # - layout and keys -

    @property
    def authorities(self) -> list[Node]:
        """The directory authorities."""
        return [n for n in self.nodes if n.role == "authority"]

    @property
    def client(self) -> Node:
        """The client whose SOCKS port trainees use."""
        return next(n for n in self.nodes if n.role == "client")

    @property
    def socks_address(self) -> tuple[str, int]:
        """Host and port of the client's SOCKS port."""
        port = self.client.socks_port
        assert port is not None  # the client node is always made with one
        return self.socks_host, port

    @property
    def socks_url(self) -> str:
        """The socks5h:// URL of the client, for requests and curl."""
        host = "127.0.0.1" if self.socks_host in ("0.0.0.0", "") else self.socks_host
        return f"socks5h://{host}:{self.client.socks_port}"

    def _layout(self) -> list[Node]:
        """The nodes and their ports: last run's when still usable, else new ones."""
        n_auth, n_relay = self.counts
        path = self.dir / LAYOUT_FILE
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError):
            saved = None
        if (
            saved
            and saved.get("address") == self.address
            and saved.get("counts")
            == [
                n_auth,
                n_relay,
            ]
        ):
            nodes = [
                Node(e["nickname"], e["role"], self.dir / e["nickname"], *_ports(e))
                for e in saved["nodes"]
            ]
            client = next(n for n in nodes if n.role == "client")
            if self.requested_socks_port:
                client.socks_port = self.requested_socks_port
            # Reuse only if every port is still free: otherwise start over with new keys,
            # since an authority's certificate names its DirPort.
            if all(
                _port_free(self.address, p)
                for n in nodes
                if n.role in ("authority", "relay")
                for p in (n.or_port, n.dir_port)
                if p
            ) and _port_free(self.socks_host, client.socks_port or 0):
                return nodes
        for entry in self.dir.iterdir() if self.dir.is_dir() else ():
            if entry.is_dir():
                shutil.rmtree(entry)
        ports = iter(_free_ports(self.address, 2 * n_auth + n_relay))
        nodes = [
            Node(f"sbauth{i}", "authority", self.dir / f"sbauth{i}", next(ports), next(ports))
            for i in range(1, n_auth + 1)
        ]
        nodes += [
            Node(f"sbrelay{i}", "relay", self.dir / f"sbrelay{i}", next(ports))
            for i in range(1, n_relay + 1)
        ]
        nodes.append(Node("sbonion", "onion", self.dir / "sbonion"))
        socks = self.requested_socks_port or _free_ports(self.socks_host, 1)[0]
        nodes.append(Node("sbclient", "client", self.dir / "sbclient", socks_port=socks))
        return nodes

    def _make_keys(self, node: Node, tor: str, gencert: str) -> None:
        """Create (or read back) a relay's identity and an authority's v3 certificate."""
        keys = node.directory / "keys"
        keys.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(node.directory, 0o700)
        if node.role == "authority":
            cert = keys / "authority_certificate"
            if not cert.exists():
                subprocess.run(
                    [
                        gencert,
                        "--create-identity-key",
                        "-m",
                        "12",
                        "-a",
                        f"{self.address}:{node.dir_port}",
                        "-i",
                        str(keys / "authority_identity_key"),
                        "-s",
                        str(keys / "authority_signing_key"),
                        "-c",
                        str(cert),
                        "--passphrase-fd",
                        "0",
                    ],
                    input=b"\n",  # an empty passphrase
                    capture_output=True,
                    check=True,
                    timeout=120,
                )
            node.v3ident = next(
                line.split()[1]
                for line in cert.read_text().splitlines()
                if line.startswith("fingerprint ")
            )
        fingerprint = node.directory / "fingerprint"
        if not fingerprint.exists():
            subprocess.run(
                [
                    tor,
                    "--quiet",
                    "--ignore-missing-torrc",
                    "-f",
                    os.devnull,
                    "--defaults-torrc",
                    os.devnull,
                    "--DataDirectory",
                    str(node.directory),
                    "--Nickname",
                    node.nickname,
                    "--ORPort",
                    "1",
                    "--list-fingerprint",
                ],
                capture_output=True,
                check=True,
                timeout=120,
            )
        node.fingerprint = fingerprint.read_text().split()[1]

    def _clean(self, node: Node) -> None:
        """Drop last run's cached consensus and state, keeping the identity keys."""
        node.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(node.directory, 0o700)
        for entry in node.directory.iterdir():
            if entry.name in _KEEP:
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def _write_services(self, node: Node) -> list[tuple[Path, str, int]]:
        """Write each site's HiddenServiceDir from the world's seed; returns the torrc entries."""
        services = []
        for onion, (host, port) in sorted(self.sites.items()):
            key = self.keys[onion]
            hs = node.directory / "hs" / onion.removesuffix(".onion")
            hs.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Tor refuses a HiddenServiceDir others can read.
            os.chmod(hs.parent, 0o700)
            os.chmod(hs, 0o700)
            for name, data in (
                ("hs_ed25519_secret_key", key.secret_key_file()),
                ("hs_ed25519_public_key", key.public_key_file()),
                ("hostname", key.hostname_file().encode()),
            ):
                path = hs / name
                path.write_bytes(data)
                os.chmod(path, 0o600)
            services.append((hs, host, port))
        return services

    # - running -

    def start(self) -> PrivateTorNetwork:
        """Set up keys and torrcs and launch every tor process; returns without waiting."""
        tor, gencert = find_tor()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.started = time.monotonic()
        self.timings = {}
        self.nodes = self._layout()
        for node in self.nodes:
            self._clean(node)
        relays = [n for n in self.nodes if n.role in ("authority", "relay")]
        errors = []

        def keys(node: Node) -> None:
            """Make one node's keys, remembering a failure for the main thread."""
            try:
                self._make_keys(node, tor, gencert)
            except (subprocess.SubprocessError, OSError, StopIteration, IndexError) as e:
                detail = getattr(e, "stderr", b"") or b""
                errors.append(f"{node.nickname}: {e} {detail.decode(errors='replace')}".strip())

        # RSA key generation takes a moment per node: do them side by side.
        threads = [threading.Thread(target=keys, args=(n,)) for n in relays]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise TorError("cannot make the private network's keys: " + "; ".join(errors))
        self.timings["keys"] = time.monotonic() - self.started
        self._save_layout()
        pid = os.getpid()
        auths = self.authorities
        for node in self.nodes:
            if node.role == "authority":
                text = authority_torrc(node, auths, self.address, pid)
            elif node.role == "relay":
                text = relay_torrc(node, auths, self.address, pid)
            elif node.role == "onion":
                text = onion_torrc(node, auths, self.address, pid, self._write_services(node))
            else:
                text = client_torrc(node, auths, self.address, pid, self.socks_host)
            (node.directory / "torrc").write_text(text)
        try:
            for node in self.nodes:
                with (node.directory / "stdout.log").open("wb") as out:
                    node.process = subprocess.Popen(
                        [tor, "-f", str(node.directory / "torrc"), "--defaults-torrc", os.devnull],
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        # Not in the terminal's process group: Ctrl-C reaches only the sandbox,
                        # which stops tor itself (SIGINT would keep relays up for 30 s).
                        start_new_session=True,
                    )
        except BaseException:
            self.stop()
            raise
        time.sleep(0.3)
        self._check_alive()
        self._write_network_file()
        return self

    def _save_layout(self) -> None:
        """Remember the ports, so the next run keeps the same DirAuthority lines."""
        data = {
            "address": self.address,
            "counts": list(self.counts),
            "nodes": [n.to_json() for n in self.nodes],
        }
        (self.dir / LAYOUT_FILE).write_text(json.dumps(data, indent=2))

    def _write_network_file(self) -> None:
        """Record the running network for other tools: SOCKS port, pids, trainee torrc."""
        data = {
            "socks": "{}:{}".format(*self.socks_address),
            "pids": {n.nickname: n.process.pid for n in self.nodes if n.process},
            "onions": sorted(self.sites),
            "trainee_torrc": self.trainee_torrc(),
        }
        (self.dir / NETWORK_FILE).write_text(json.dumps(data, indent=2))

    def trainee_torrc(self) -> str:
        """The torrc lines a trainee's Tor Browser needs to join this network."""
        return trainee_torrc(self.authorities, self.address)

    def _check_alive(self) -> None:
        """TorError naming the first tor process that exited, with the end of its log."""
        for node in self.nodes:
            if node.process is not None and node.process.poll() is not None:
                raise TorError(
                    f"tor {node.role} {node.nickname} exited with {node.process.returncode}:\n"
                    + _tail(node)
                )

    def bootstrapped(self) -> bool:
        """Whether the client has a consensus and can build circuits."""
        try:
            return "Bootstrapped 100%" in self.client.log.read_text(errors="replace")
        except OSError:
            return False

    def wait_ready(self, onion: str, timeout: float = 180.0, path: str = "/") -> float:
        """Poll until an onion page comes through the client; returns seconds since start()."""
        import requests

        proxies = {"http": self.socks_url, "https": self.socks_url}
        started = self.started
        if started is None:
            raise TorError("the private Tor network is not started")
        deadline = time.monotonic() + timeout
        last = "nothing tried yet"
        while True:
            self._check_alive()
            now = time.monotonic()
            if "bootstrapped" not in self.timings and self.bootstrapped():
                self.timings["bootstrapped"] = now - started
            if "bootstrapped" in self.timings:
                try:
                    requests.get(
                        f"http://{onion}{path}",
                        proxies=proxies,
                        timeout=max(5.0, min(60.0, deadline - now)),
                    )
                except requests.RequestException as e:
                    last = f"{type(e).__name__}: {e}"
                else:
                    self.timings["first_page"] = time.monotonic() - started
                    return self.timings["first_page"]
            else:
                last = "the client has not bootstrapped yet"
            if time.monotonic() >= deadline:
                raise TorError(
                    f"{onion} not reachable through the private Tor network after "
                    f"{timeout:.0f} s ({last}); logs in {self.dir}\nclient:\n{_tail(self.client)}"
                )
            time.sleep(1.0)

    def stop(self) -> None:
        """Stop every tor process (SIGTERM, then SIGKILL after 10 s)."""
        with self._lock:
            running = [(n, n.process) for n in self.nodes if n.process is not None]
            for _, process in running:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for node, process in running:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                node.process = None
            (self.dir / NETWORK_FILE).unlink(missing_ok=True)

    def __enter__(self) -> PrivateTorNetwork:
        """Start on entering a with block."""
        return self.start()

    def __exit__(self, *exc) -> None:
        """Stop on leaving it."""
        self.stop()


def _ports(entry: dict) -> tuple[int | None, int | None, int | None]:
    """A layout entry's OR, directory and SOCKS ports."""
    return entry.get("or_port"), entry.get("dir_port"), entry.get("socks_port")


def _tail(node: Node, lines: int = 15) -> str:
    """The last lines of a node's log (and its stdout, where tor reports config errors)."""
    out = []
    for path in (node.log, node.directory / "stdout.log"):
        with contextlib.suppress(OSError):
            out += path.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join(out)
