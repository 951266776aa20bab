"""A running sandbox: every site of a world on its own loopback port, behind the gateway.

`Sandbox(world).start()` serves the hidden services and the exchanges in gunicorn worker
processes (`sandbox/workers/`, a port each on 127.0.0.1), and the ports of the explorer,
the Tron node, the Tron explorer, the classroom and the issuer there too, whose own parts
(the live chains, the inject runner) run in this process on waitress (`portal_server.py`),
reached by the workers for what they cannot answer; it routes the sites'
`.onion`/`.test` names to them in the gateway, and writes `run.json` in the state
directory so `sandbox status` can tell what is running, with a pointer to it in a
per-user place (`running_dir`) so `sandbox status` finds it from any directory.
Trainees' writes live in the state directory too, never in the world.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

from .errors import WorldError
from .gateway import ConnectionLog, Gateway, GatewayConfig, LatencyModel
from .gateway import log as gateway_log
from .gateway.routes import Routes
from .leader import from_workers
from .open_files import ensure_open_files, open_files_needed
from .pids import alive
from .port_range import PortAllocator, PortRange
from .portal_server import PortalServer
from .torcheck import NAME as TORCHECK_NAME
from .torcheck import create_app as create_torcheck
from .torcheck import exit_address
from .torcheck.tls import CA_FILE, server_context
from .workers import (
    CLASSROOM,
    EXPLORER,
    ISSUER,
    TRON_EXPLORER,
    TRON_NODE,
    SiteWorkers,
    record,
)
from .workers import describe as describe_workers
from .workers.supervisor import THREADS, default_workers
from .world.store import open_world, site_rows
from .world.tron_store import has_tron
from .wsgi_server import BoundedWSGIServer

if TYPE_CHECKING:
    from .ledger.live.chain import LiveChain

RUN_FILE = "run.json"
CLASSROOM_NAME = "classroom.test"  # the portal's name through the gateway
TRONGRID_NAME = "api.trongrid.test"  # the Tron node's (java-tron API and TronGrid) name
TRONSCAN_NAME = "tronscan.test"  # the Tron explorer's name
# Kinds with a part in this process: the explorer makes the Bitcoin chain's live blocks,
# the issuer writes the Tron chain the node makes here and tells the inject runner of
# requests (the worker processes serve their ports, passing them what needs that). Every
# other kind (hidden services, exchanges) is served by the worker processes alone.
IN_PROCESS_KINDS = ("explorer", "issuer")
# The services whose port the workers serve, passing them what needs their own part here,
# as errors name them.
SERVICE_LABELS = {
    EXPLORER: "explorer",
    TRON_NODE: "tron node",
    TRON_EXPLORER: "tron explorer",
    CLASSROOM: "classroom",
    ISSUER: "issuer",
}


def running_dir() -> Path:
    """Where this user's running sandboxes leave a pointer to their run file."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) if runtime else Path.home() / ".cache"
    return base / "darkweb-sandbox" / "running"


def find_running(world: Path | None = None) -> Path | None:
    """The state directory of this user's newest running sandbox (of ``world``, if given).

    Pointers whose process is gone are removed on the way.
    """
    found: list[tuple[float, Path]] = []
    folder = running_dir()
    for pointer in folder.glob("*.json") if folder.is_dir() else ():
        try:
            info = json.loads(pointer.read_text())
            running = alive(int(info["pid"])) and Path(info["run"]).is_file()
        except (OSError, ValueError, KeyError, TypeError):
            running = False
        if not running:
            pointer.unlink(missing_ok=True)
            continue
        if world is None or Path(info["world"]) == Path(world).resolve():
            found.append((float(info.get("started", 0)), Path(info["run"]).parent))
    return max(found)[1] if found else None


def state_dir_for(world: Path) -> Path:
    """Where a world's runtime state lives: beside it, named after it."""
    return world.with_name(world.stem + ".state")


def site_app(
    world: Path, state: Path, site_id: str, kind: str, live_block_seconds: int | None = None
):
    """The WSGI app of a site: a hidden service, the explorer or an exchange's portal.

    live_block_seconds: the explorer's pace of live blocks (None: the environment's or the
    world's).
    """
    if kind == "explorer":
        from .explorer import create_app as explorer_app

        return explorer_app(world, state, live_block_seconds=live_block_seconds)
    if kind == "exchange":
        from .exchanges import create_app as exchange_app

        return exchange_app(world, site_id, state)
    if kind == "issuer":
        from .issuer import create_app as issuer_app

        return issuer_app(world, state)
    from marketplaces import create_site_app

    return create_site_app(world, site_id, state / "state.db")


def reachable(bound: str) -> str:
    """Where the gateway connects to a server bound to `bound`: loopback for a wildcard."""
    return "127.0.0.1" if bound in ("0.0.0.0", "", "::", "localhost") else bound


@dataclass
class SiteServer:
    """One site: its WSGI server in a thread of this process, or where another serves it
    (the explorer and the issuer: both, their own part here and their port in the workers)."""

    site_id: str
    kind: str
    name: str
    address: str
    server: PortalServer | None
    thread: threading.Thread | None = field(repr=False)
    # (host, port) of a site another process serves: the site workers on loopback, or a
    # container of docker-compose.yml.
    upstream: tuple[str, int] | None = None

    @property
    def host(self) -> str:
        """The host the gateway connects to (the explorer's port is on `--host`)."""
        if self.upstream:
            return self.upstream[0]
        assert self.server is not None  # a site served here has its server
        return reachable(self.server.server_address[0])

    @property
    def port(self) -> int:
        """The port it listens on."""
        if self.upstream:
            return self.upstream[1]
        assert self.server is not None  # a site served here has its server
        return self.server.server_port


@dataclass
class Sandbox:
    """The sites and the gateway of one world."""

    world: Path
    host: str = "127.0.0.1"
    socks_port: int = 9050
    http_port: int = 8118
    explorer_port: int = 3000
    state: Path | None = None
    latency: LatencyModel = field(default_factory=LatencyModel)
    # The classroom portal's port (0: a free one; None: no portal); `sandbox up` uses 8080.
    classroom_port: int | None = 0
    # The Tron node's port (0: a free one; None: not served), for worlds with a Tron chain.
    tron_port: int | None = 0
    # The Tron explorer's port (0: a free one; None: not served), also reached as tronscan.test.
    tronscan_port: int | None = 0
    instructor_password: str | None = None  # None: one is generated at start
    # site id -> (host, port): sites served by other processes, only routed here (compose).
    upstreams: dict[str, tuple[str, int]] = field(default_factory=dict)
    max_connections: int = 1024  # the gateway's cap on connections at once
    max_per_client: int = 256  # its cap per trainee (SOCKS user name, else source address)
    # Tor's VirtualAddrNetworkIPv4: the gateway's answers to SOCKS RESOLVE come from it.
    virtual_network: str = "127.192.0.0/10"
    sites: list[SiteServer] = field(default_factory=list)
    gateway: Gateway | None = None
    log: ConnectionLog | None = None
    # The classroom's own process's server (joining, answers, the instructor, the injects);
    # the worker processes serve its port and pass it what needs that.
    classroom: PortalServer | None = None
    # The Tron node's own process's server: it executes transactions and makes blocks; the
    # worker processes serve the node's port and pass it what needs that.
    tronnode: PortalServer | None = None
    # The ports the worker processes serve for the services with an own part here, by name
    # (SERVICE_LABELS).
    service_ports: dict[str, int] = field(default_factory=dict)
    # The listeners of the services' own parts here, by name, opened with the ports the
    # workers serve for them, until their servers take them.
    _own: dict[str, socket.socket] = field(default_factory=dict)
    tronscan: PortalServer | None = None
    live: LiveChain | None = None  # the explorer's live chain, when served here
    # The swap sites' payout watchers (marketplaces/swap/watcher.py), one thread each.
    swap_watchers: list[Any] = field(default_factory=list)
    pointer: Path | None = None  # this sandbox's file in running_dir(), once written
    # Tor's check service (plain HTTP and TLS), reached only through the gateway.
    torcheck: list[BoundedWSGIServer] = field(default_factory=list)
    ca_file: Path | None = None  # the sandbox CA's certificate, for tools that want HTTPS
    # Seconds between the explorer's live blocks (None: the environment's or the world's);
    # `sandbox check` asks for 0, a block right after each broadcast.
    live_block_seconds: int | None = None
    # Where the sites' internal ports come from (None: any free ports); `--site-ports A-B`.
    site_ports: PortRange | None = None
    # gunicorn worker processes serving the hidden services (None: one per core, at least 2).
    site_workers: int | None = None
    workers: SiteWorkers | None = None  # their master, once started

    def __post_init__(self):
        """Resolve paths."""
        self.world = Path(self.world).resolve()
        self.state = Path(self.state) if self.state else state_dir_for(self.world)

    @property
    def state_dir(self) -> Path:
        """The state directory: `state`, or the world's own (`state_dir_for`)."""
        assert self.state is not None  # __post_init__ resolved it
        return self.state

    def _app(self, site_id: str, kind: str):
        """The WSGI app of a site of this sandbox's world."""
        return site_app(self.world, self.state_dir, site_id, kind, self.live_block_seconds)

    def start(self) -> Sandbox:
        """Serve every site and start the gateway; returns when all are listening."""
        conn = open_world(self.world)
        rows = site_rows(conn)
        tron = has_tron(conn)
        conn.close()
        self.ensure_open_files()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        # The ports of the services the workers serve are opened here, before they start.
        record.await_orphan(record.folder(self.state_dir))
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        configs = {r["id"]: json.loads(r["config"] or "{}") for r in rows}
        ports = PortAllocator(self.site_ports)
        try:
            own = {
                r["id"]
                for r in rows
                if r["id"] not in self.upstreams and not configs[r["id"]].get("mirror_of")
            }
            hidden = [
                (r["id"], r["kind"])
                for r in rows
                if r["id"] in own and r["kind"] not in IN_PROCESS_KINDS
            ]
            where: dict[str, int] = {}  # the ports the workers serve, by site or service
            ports_asked = {
                EXPLORER: self.explorer_port
                if any(r["id"] in own and r["kind"] == "explorer" for r in rows)
                else None,
                TRON_NODE: self.tron_port if tron else None,
                TRON_EXPLORER: self.tronscan_port if tron else None,
                CLASSROOM: self.classroom_port,
            }
            services = {
                name: (self._listen(name, port), self._own_listener(name))
                for name, port in ports_asked.items()
                if port is not None
            }
            issuer = next((r["id"] for r in rows if r["id"] in own and r["kind"] == "issuer"), None)
            if issuer is not None:  # reached only through the gateway, as a site
                public = ports.listen("127.0.0.1", f"site {issuer}")
                services[ISSUER] = (public, self._own_listener(ISSUER))
            self.service_ports = {
                name: sock.getsockname()[1] for name, (sock, _) in services.items()
            }
            if hidden or services:  # the workers boot while this process loads its own
                self.workers = SiteWorkers(
                    self.world,
                    self.state_dir,
                    hidden,
                    ports=ports,
                    workers=self.site_workers,
                    services=services,
                ).start(wait=False)
                where = self.workers.site_ports
            for row in rows:
                site = (row["id"], row["kind"], row["name"], row["address"])
                if row["id"] in self.upstreams:
                    self.sites.append(SiteServer(*site, None, None, self.upstreams[row["id"]]))
                elif row["kind"] == "explorer" and EXPLORER in where:
                    self.sites.append(self._start_explorer(site, where[EXPLORER]))
                elif row["id"] == issuer:
                    self.sites.append(self._start_issuer(site, where[ISSUER]))
                elif row["id"] in where:
                    self.sites.append(
                        SiteServer(*site, None, None, ("127.0.0.1", where[row["id"]]))
                    )
                elif row["id"] in own:
                    self.sites.append(self._serve_here(row["id"], row["kind"], site, ports))
            served = {s.site_id: s for s in self.sites}
            for row in rows:
                original = configs[row["id"]].get("mirror_of")
                if original and row["id"] not in served:
                    site = (row["id"], row["kind"], row["name"], row["address"])
                    there = served[original]
                    self.sites.append(SiteServer(*site, None, None, (there.host, there.port)))
            table = {s.address: (s.host, s.port) for s in self.sites}
            if self.classroom_port is not None:
                table[CLASSROOM_NAME] = self._start_classroom()
            if TRON_NODE in services:
                table[TRONGRID_NAME] = self._start_tronnode()
                self._share_tron_chain()
            if TRON_EXPLORER in services:
                table[TRONSCAN_NAME] = self._start_tronscan()
            self._start_swap_watchers()
            routes = Routes(table, {TORCHECK_NAME: self._start_torcheck(ports)})
            for row in rows:
                if configs[row["id"]].get("online") is False:  # until a site_online inject
                    routes.withdraw(row["address"])
            config = GatewayConfig(
                host=self.host,
                socks_port=self.socks_port,
                http_port=self.http_port,
                latency=self.latency,
                max_connections=self.max_connections,
                max_per_client=self.max_per_client,
                virtual_network=self.virtual_network,
            )
            self.log = ConnectionLog(self.state_dir / "gateway.db")
            self.gateway = Gateway(routes, config, self.log)
            self.gateway.start_in_thread()
            if self.workers is not None:
                self.workers.wait_ready()
        except BaseException:
            self.stop()
            raise
        self._write_run_file()
        return self

    def _serve_here(
        self, site_id: str, kind: str, site: tuple[str, str, str, str], ports: PortAllocator
    ) -> SiteServer:
        """Serve a site that shares this process's chains on a thread of its own, reached
        only through the gateway."""
        app = self._app(site_id, kind)
        server = ports.bind(
            "127.0.0.1", f"site {site_id}", functools.partial(PortalServer, app=app)
        )
        thread = threading.Thread(target=server.serve_forever, name=f"site-{site_id}", daemon=True)
        thread.start()
        return SiteServer(*site, server, thread)

    def _start_explorer(self, site: tuple[str, str, str, str], port: int) -> SiteServer:
        """Start the explorer's own process's part: it takes broadcasts and mines the live
        blocks (its chain goes to the inject runner); the workers serve its port."""
        app = self._app(EXPLORER, "explorer")
        self.live = app.extensions["explorer"].live
        server = self._serve_own(EXPLORER, app, "explorer")
        return SiteServer(*site, server, None, (reachable(self.host), port))

    def _start_issuer(self, site: tuple[str, str, str, str], port: int) -> SiteServer:
        """Start the issuer's own process's part: it takes the requests and acts on the
        node's chain (handed over once the node runs); the workers serve its port."""
        app = self._app(site[0], "issuer")
        server = self._serve_own(ISSUER, app, "issuer_portal")
        return SiteServer(*site, server, None, ("127.0.0.1", port))

    def ensure_open_files(self) -> None:
        """Raise the open-files limit to what the caps need, or OSError saying what to do.

        Each gateway connection holds a client and an upstream socket (every site is served
        by the worker processes); the services' own parts here are reached by the workers
        alone, a kept-alive connection per worker thread at most.
        """
        forwarded = len(SERVICE_LABELS) * THREADS * (self.site_workers or default_workers())
        needed = 2 * self.max_connections + forwarded
        ensure_open_files(
            open_files_needed(needed),
            f"the sandbox (gateway cap of {self.max_connections} connections)",
            "start with a lower --max-connections",
        )

    def _start_classroom(self) -> tuple[str, int]:
        """Start the classroom portal's own process's part; the workers serve its port;
        returns its upstream for the gateway."""
        from .classroom import create_app

        if not self.instructor_password:
            self.instructor_password = secrets.token_urlsafe(9)
        app = create_app(
            self.world,
            self.state_dir,
            self.instructor_password,
            sandbox=self,
            live=self.live,
            gateway_log=functools.partial(gateway_log.latest, self.state_dir / "gateway.db"),
        )
        self.classroom = self._serve_own(CLASSROOM, app, "classroom")
        return reachable(self.host), self.service_ports[CLASSROOM]

    def _tron_chain(self) -> Any:
        """The node's live Tron chain when the node runs here, else None."""
        return _extension(self.tronnode.app, "tronnode").chain if self.tronnode else None

    @property
    def tron_live(self) -> Any:
        """The node's live Tron chain when the node runs here, else None (the inject runner
        moves USDT on it)."""
        return self._tron_chain()

    def _share_tron_chain(self) -> None:
        """Hand the node's live Tron chain to the issuer's portal (its freezes and reissues
        go into the next block); the exchanges' portals, in the worker processes, read it
        from tron.db."""
        chain = self._tron_chain()
        for site in self.sites:
            if site.kind == "issuer" and site.server is not None:
                _extension(site.server.app, "exchange_portal").tron_live = chain
            issuer = _extension(site.server.app, "issuer_portal") if site.server else None
            runner = _extension(self.classroom.app, "classroom").runner if self.classroom else None
            if issuer is not None and runner is not None:
                # A request that names a suspect's address without confidentiality may tip
                # it off (`when: disclosed` injects), before the issuer acts on it.
                issuer.on_request.append(runner.on_request)

    def _start_swap_watchers(self) -> None:
        """Start each swap site's payout watcher on the live chains served here (the workers
        serve the site; its watcher needs the chains, so it runs here on the same state)."""
        from marketplaces import create_site_app
        from marketplaces.swap.watcher import SwapWatcher

        for site in self.sites:
            if site.kind != "swap" or site.site_id in self.upstreams:
                continue
            app = create_site_app(self.world, site.site_id, self.state_dir / "state.db")
            watcher = SwapWatcher(
                site.site_id,
                _extension(app, "site").operator_id,
                _extension(app, "state"),
                _extension(app, "clock"),
                self.live,
                self._tron_chain(),
            )
            self.swap_watchers.append(watcher.start())

    def _start_torcheck(self, ports: PortAllocator) -> dict[int, tuple[str, int]]:
        """Serve check.torproject.org on two loopback ports, plain and TLS with a certificate
        of the sandbox CA (made in the state directory on first use); its upstream per port."""
        context = server_context(self.state_dir, TORCHECK_NAME)
        self.ca_file = self.state_dir / CA_FILE
        app = create_torcheck(exit_address(str(self.state_dir)))
        for tls in (None, context):
            factory = functools.partial(BoundedWSGIServer, app=app, tls=tls)
            server = ports.bind("127.0.0.1", TORCHECK_NAME, factory)
            threading.Thread(target=server.serve_forever, name="torcheck", daemon=True).start()
            self.torcheck.append(server)
        plain, secure = self.torcheck
        return {80: ("127.0.0.1", plain.server_port), 443: ("127.0.0.1", secure.server_port)}

    def _listen(self, name: str, port: int) -> socket.socket:
        """A service's port on the sandbox's host, opened before the workers that serve it
        start; OSError naming which port."""
        try:
            return socket.create_server((self.host, port), backlog=1024)
        except OSError as e:
            label = SERVICE_LABELS[name]
            raise OSError(e.errno, f"{label} port {self.host}:{port}: {e.strerror}") from e

    def _own_listener(self, name: str) -> str:
        """Open the loopback listener of a service's own part here (kept in _own until its
        server takes it); its URL, for the workers."""
        own = self._own[name] = socket.create_server(("127.0.0.1", 0), backlog=1024)
        return f"http://127.0.0.1:{own.getsockname()[1]}/"

    def _serve_own(self, name: str, app: Flask, extension: str) -> PortalServer:
        """Serve a service's own process's part on its listener in _own, in a thread; its
        extension is closed when that fails."""
        try:
            server = PortalServer("127.0.0.1", 0, from_workers(app), sock=self._own[name])
        except BaseException:
            app.extensions[extension].close()
            raise
        del self._own[name]  # the server closes it now
        threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
        return server

    def _start_tronnode(self) -> tuple[str, int]:
        """Start the Tron node's own process's part: it executes transactions and makes
        the blocks, the workers serve its port; returns the gateway's upstream."""
        from .tronnode import create_app

        self.tronnode = self._serve_own(
            TRON_NODE, create_app(self.world, self.state_dir), "tronnode"
        )
        return reachable(self.host), self.service_ports[TRON_NODE]

    def _start_tronscan(self) -> tuple[str, int]:
        """Start the Tron explorer's own process's part, sharing the node's live chain when
        the node runs here (one TronLive per tron.db): it answers what needs the accounts'
        state; the workers serve its port. Returns its upstream for the gateway."""
        from .tronscan import create_app

        app = create_app(self.world, self.state_dir, chain=self._tron_chain())
        self.tronscan = self._serve_own(TRON_EXPLORER, app, "tronscan")
        return reachable(self.host), self.service_ports[TRON_EXPLORER]

    def stop(self) -> None:
        """Stop the gateway and every site, and forget the run file."""
        for watcher in self.swap_watchers:  # before the chains they pay through close
            watcher.stop()
        self.swap_watchers = []
        if self.gateway is not None:
            self.gateway.stop()
            self.gateway = None
        if self.workers is not None:
            self.workers.stop()
            self.workers = None
        portals = [s for s in (self.tronscan, self.tronnode, self.classroom) if s is not None]
        portals += [site.server for site in self.sites if site.server is not None]
        _shutdown([*portals, *self.torcheck])
        self.torcheck = []
        # Each app's own threads and files once no request runs: the issuer's worker (it
        # broadcasts on the node's chain) and the explorer of the Tron chain before the node.
        for site in self.sites:
            issuer = _extension(site.server.app, "issuer_portal") if site.server else None
            if issuer is not None:
                issuer.close()
        for server, name in ((self.tronscan, "tronscan"), (self.tronnode, "tronnode")):
            if server is not None:
                _extension(server.app, name).close()
        self.tronscan = self.tronnode = None
        for sock in self._own.values():  # start() failed before a service's process served it
            sock.close()
        self._own = {}
        if self.classroom is not None:
            _extension(self.classroom.app, "classroom").close()
            self.classroom = None
        if self.log is not None:
            self.log.close()
            self.log = None
        for site in self.sites:
            explorer = _extension(site.server.app, "explorer") if site.server else None
            if explorer is not None:  # its live miner and witness signer run in threads
                explorer.close()

        self.sites = []
        self.live = None
        (self.state_dir / RUN_FILE).unlink(missing_ok=True)
        if self.pointer is not None:
            self.pointer.unlink(missing_ok=True)
            self.pointer = None

    def __enter__(self) -> Sandbox:
        """Start on entering a with block."""
        return self.start()

    def __exit__(self, *exc) -> None:
        """Stop on leaving it."""
        self.stop()

    def set_online(self, site_id: str, online: bool) -> None:
        """Take a site offline in the gateway (its onion stops resolving) or bring it back."""
        site = next((s for s in self.sites if s.site_id == site_id), None)
        if site is None or self.gateway is None:
            raise WorldError(f"site {site_id!r} is not running in this sandbox")
        routes = self.gateway.routes
        (routes.restore if online else routes.withdraw)(site.address)

    def describe(self) -> dict:
        """What is running, where: the content of run.json."""
        socks = self.gateway.socks_address if self.gateway else None
        http = self.gateway.http_address if self.gateway else None
        assert socks is not None and http is not None  # only a started sandbox is described
        socks_host, socks_port = socks
        http_host, http_port = http
        return {
            "pid": os.getpid(),
            "started": time.time(),
            "world": str(self.world),
            "state": str(self.state_dir),
            "socks": f"{socks_host}:{socks_port}",
            "http_proxy": f"{http_host}:{http_port}",
            "explorer": next(
                (f"http://{self.host}:{s.port}/" for s in self.sites if s.kind == "explorer"), None
            ),
            "classroom": (
                f"http://{self.host}:{self.service_ports[CLASSROOM]}/" if self.classroom else None
            ),
            "classroom_name": CLASSROOM_NAME if self.classroom else None,
            "tronnode": (
                f"http://{self.host}:{self.service_ports[TRON_NODE]}/" if self.tronnode else None
            ),
            "tronnode_name": TRONGRID_NAME if self.tronnode else None,
            "tronscan": (
                f"http://{self.host}:{self.service_ports[TRON_EXPLORER]}/"
                if self.tronscan
                else None
            ),
            "tronscan_name": TRONSCAN_NAME if self.tronscan else None,
            "ca_file": str(self.ca_file) if self.ca_file else None,
            "site_workers": (
                {"master": self.workers.process.pid, "workers": self.workers.workers}
                if self.workers and self.workers.process
                else None
            ),
            "sites": [
                {
                    "id": s.site_id,
                    "kind": s.kind,
                    "name": s.name,
                    "address": s.address,
                    "host": s.host,
                    "port": s.port,
                }
                for s in self.sites
            ],
        }

    def _write_run_file(self) -> None:
        """Record what runs where, for `sandbox status`, and point to it from `running_dir`."""
        path = self.state_dir / RUN_FILE
        described = self.describe()
        _write_json(path, described)
        pointer = {
            "pid": described["pid"],
            "started": described["started"],
            "world": described["world"],
            "run": str(path.resolve()),
        }
        # One per process and SOCKS port: tests run several sandboxes in one process.
        where = running_dir() / f"{described['pid']}-{described['socks'].rsplit(':', 1)[1]}.json"
        try:
            where.parent.mkdir(parents=True, exist_ok=True)
            _write_json(where, pointer)
        except OSError as e:  # a read-only home: status then needs --state, nothing else fails
            logging.getLogger(__name__).warning("cannot record the running sandbox: %s", e)
        else:
            self.pointer = where


def _write_json(path: Path, data: dict) -> None:
    """Replace a JSON file at once, never leaving half of it."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def _listening(address: str) -> bool:
    """Whether something accepts TCP connections at host:port."""
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def status(world: Path | None = None, state: Path | None = None) -> dict:
    """What `sandbox status` reports: whether the world's sandbox runs, and its parts' health.

    Without ``state``, the run file is looked for beside the world (world.db here by
    default), then among this user's running sandboxes (of that world, if one was named).
    """
    named = world is not None
    world = Path(world or "world.db").resolve()
    if state is None:
        state = state_dir_for(world)
        if not (state / RUN_FILE).is_file():
            state = find_running(world if named else None) or state
    path = Path(state) / RUN_FILE
    if not path.is_file():
        reason = f"no {path}, and no running sandbox recorded in {running_dir()}"
        return {"running": False, "world": str(world), "reason": reason}
    try:
        info = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise WorldError(f"{path}: unreadable run file ({e})") from e
    info["running"] = alive(info["pid"])
    if not info["running"]:
        info["reason"] = f"process {info['pid']} is gone (stale {path})"
        return info
    info["socks_listening"] = _listening(info["socks"])
    info["http_proxy_listening"] = _listening(info["http_proxy"])
    if info.get("classroom"):
        info["classroom_listening"] = _listening(info["classroom"].split("//", 1)[1].rstrip("/"))
    for site in info["sites"]:
        host = site.get("host", "127.0.0.1")
        if site["kind"] == "explorer" and info.get("explorer"):
            host = info["explorer"].split("//", 1)[1].rsplit(":", 1)[0]
        site["listening"] = _listening(f"{host}:{site['port']}")
    workers = describe_workers(Path(state))
    if workers is not None and info.get("site_workers"):
        info["site_workers"] = workers
    tor = _tor_status(state)
    if tor is not None:
        info["tor"] = tor
    return info


def _tor_status(state: Path) -> dict | None:
    """The private Tor network of `sandbox up --tor`, if one runs: its SOCKS port and processes."""
    from .tor.network import NETWORK_FILE

    path = state / "tor" / NETWORK_FILE
    try:
        network = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as e:
        raise WorldError(f"{path}: unreadable Tor network file ({e})") from e
    gone = sorted(name for name, pid in network["pids"].items() if not alive(pid))
    return {
        "socks": network["socks"],
        "socks_listening": _listening(network["socks"]),
        "processes": len(network["pids"]),
        "gone": gone,
        "onions": len(network["onions"]),
    }


def _shutdown(servers: list[PortalServer | BoundedWSGIServer]) -> None:
    """Stop serving and close the listening sockets, all servers at once: each notices
    within its poll interval (half a second), which one after another adds up."""
    stoppers = [threading.Thread(target=s.shutdown, name="shutdown") for s in servers]
    for t in stoppers:
        t.start()
    for t in stoppers:
        t.join()
    for s in servers:
        s.server_close()


def _extension(app: object, name: str) -> Any:
    """A Flask app's extension object (the classroom's, the explorer's), or None."""
    return app.extensions.get(name) if isinstance(app, Flask) else None
