"""What both proxy ports share: the connection registry, logging helpers and the dialer.

``dial`` is the gateway's only way out: it takes a ``Decision`` that ``Routes`` made and
connects to the upstream written in it. No other code in the gateway opens a socket, and
no client-supplied name ever reaches a resolver.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Protocol as TypingProtocol

from .automap import Automap
from .latency import LatencyModel
from .log import ConnectionLog, ConnectionRecord, ContainmentRecord
from .routes import Decision, Routes

SERVICE_PORTS = frozenset({80})  # the virtual port every site of the world serves

_logger = logging.getLogger("sandbox.gateway")

# Tor-like isolation and behaviour flags of a SocksPort line that the gateway accepts.
# Circuits are simulated, so isolation has nothing to isolate: these are accepted no-ops.
NOOP_SOCKS_FLAGS = frozenset(
    flag.lower()
    for flag in (
        "IsolateClientAddr",
        "IsolateSOCKSAuth",
        "IsolateClientProtocol",
        "IsolateDestPort",
        "IsolateDestAddr",
        "KeepAliveIsolateSOCKSAuth",
        "NoIsolateClientAddr",
        "NoIsolateSOCKSAuth",
        "NoIsolateClientProtocol",
        "NoIsolateDestPort",
        "NoIsolateDestAddr",
        "NoKeepAliveIsolateSOCKSAuth",
        "NoIPv4Traffic",
        "IPv4Traffic",
        "IPv6Traffic",
        "NoIPv6Traffic",
        "PreferIPv6",
        "NoPreferIPv6",
        "NoDNSRequest",
        "DNSRequest",
        "NoOnionTraffic",
        "OnionTraffic",
        "OnionTrafficOnly",
        "CacheIPv4DNS",
        "CacheIPv6DNS",
        "CacheDNS",
        "NoCacheIPv4DNS",
        "NoCacheIPv6DNS",
        "NoCacheDNS",
        "UseIPv4Cache",
        "UseIPv6Cache",
        "UseDNSCache",
        "NoUseIPv4Cache",
        "NoUseIPv6Cache",
        "NoUseDNSCache",
        "PreferIPv6Automap",
        "NoPreferIPv6Automap",
        "GroupWritable",
        "WorldWritable",
        "RelaxDirModeCheck",
    )
)


class Tracked(TypingProtocol):
    """A client connection the registry can time out and abort."""

    last_active: float

    def abort(self) -> None:
        """Drop the connection and its upstream at once."""

    def drop(self) -> None:
        """Abort a connection the caps pushed out; it leaves no log row."""


class GatewayState:
    """Shared state of one running gateway, used only on its event loop's thread.

    Connection caps: at most ``max_connections`` in all; at most ``max_per_client``
    still in their handshake per source address, and at most ``max_per_client``
    established per client, a client being its SOCKS (or proxy-auth) user name, or its
    source address when it gives none, so trainees behind one NAT address keep their own
    share. A newcomer over a handshake cap takes the place of the connection that has
    waited longest for its handshake: a client holding idle sockets cannot lock others out.
    """

    def __init__(self, routes: Routes, config, log: ConnectionLog | None):
        """Keep the routing table, the configuration and the log."""
        self.routes = routes
        self.config = config
        self.log = log
        self.latency: LatencyModel = config.latency
        self.extended_errors: bool = config.extended_errors_enabled
        self.prefer_no_auth: bool = config.prefer_no_auth
        # One map for the gateway's life: a name RESOLVEd once keeps its address (Tor's too).
        self.automap = Automap(config.virtual_network)
        self.active: set[Tracked] = set()
        # Connections still in their handshake -> source address, oldest first; and per address.
        self.pending: OrderedDict[Tracked, str] = OrderedDict()
        self.pending_by_address: dict[str, OrderedDict[Tracked, None]] = {}
        self.established: Counter[str] = Counter()  # client -> connections past the handshake
        self.client_of: dict[Tracked, str] = {}
        self.rejected_over_cap = 0
        self.rejected_per_client = 0
        self.evicted = 0

    def decide(self, host: str) -> Decision:
        """What a CONNECT to ``host`` does: a virtual address stands for the name it was
        handed out for (AutomapHostsOnResolve); anything else goes to ``Routes`` as is."""
        name = self.automap.name_for(host) if host[:1].isdigit() else None
        return self.routes.resolve(name or host)

    def admit(self, conn: Tracked, address: str | None) -> bool:
        """Register a new client connection, making room under the caps, or refuse it."""
        address = address or "?"
        waiting = self.pending_by_address.get(address)
        if waiting is not None and len(waiting) >= self.config.max_per_client:
            self._evict(next(iter(waiting)))
        if len(self.active) >= self.config.max_connections:
            if self.pending:
                self._evict(next(iter(self.pending)))
            else:
                self.rejected_over_cap += 1
                if _worth_a_warning(self.rejected_over_cap):
                    _logger.warning(
                        "gateway: %d connections refused at the cap of %d",
                        self.rejected_over_cap,
                        self.config.max_connections,
                    )
                return False
        self.active.add(conn)
        self.pending[conn] = address
        self.pending_by_address.setdefault(address, OrderedDict())[conn] = None
        return True

    def identify(self, conn: Tracked, visitor: str | None) -> bool:
        """End a connection's handshake; False when its client is at its own cap."""
        address = self._unpend(conn) or "?"
        client = f"user {visitor}" if visitor else f"address {address}"
        if self.established[client] >= self.config.max_per_client:
            self.rejected_per_client += 1
            if _worth_a_warning(self.rejected_per_client):
                _logger.warning(
                    "gateway: %s is at its cap of %d connections (%d refused so far)",
                    client,
                    self.config.max_per_client,
                    self.rejected_per_client,
                )
            return False
        self.established[client] += 1
        self.client_of[conn] = client
        return True

    def release(self, conn: Tracked) -> None:
        """Forget a finished client connection."""
        self.active.discard(conn)
        self._unpend(conn)
        client = self.client_of.pop(conn, None)
        if client is not None:
            self.established[client] -= 1
            if not self.established[client]:
                del self.established[client]

    def _unpend(self, conn: Tracked) -> str | None:
        """Take a connection off the handshake lists; return its address if it was on them."""
        address = self.pending.pop(conn, None)
        if address is not None:
            waiting = self.pending_by_address[address]
            waiting.pop(conn, None)
            if not waiting:
                del self.pending_by_address[address]
        return address

    def _evict(self, conn: Tracked) -> None:
        """Drop a connection still in its handshake to make room for a newcomer."""
        self.evicted += 1
        if _worth_a_warning(self.evicted):
            _logger.warning("gateway: %d idle handshakes dropped to admit others", self.evicted)
        self.release(conn)
        conn.drop()

    def sweep_idle(self, now: float) -> int:
        """Abort connections with no traffic for longer than the idle timeout."""
        limit = self.config.idle_timeout
        stale = [c for c in self.active if now - c.last_active > limit]
        for conn in stale:
            conn.abort()
        return len(stale)

    def abort_all(self) -> None:
        """Abort every open client connection (gateway shutdown)."""
        for conn in list(self.active):
            conn.abort()

    def record(
        self,
        *,
        started: float,
        visitor: str | None,
        client: str | None,
        port_kind: str,
        destination: str | None,
        dest_port: int | None,
        outcome: str,
        bytes_up: int = 0,
        bytes_down: int = 0,
    ) -> None:
        """Queue one connection row for the log."""
        if self.log is None:
            return
        record = ConnectionRecord(
            started,
            time.time(),
            visitor,
            client,
            port_kind,
            destination,
            dest_port,
            outcome,
            bytes_up,
            bytes_down,
        )
        try:
            self.log.connection(record)
        except RuntimeError:  # the caller closed the log before stopping the gateway
            _logger.debug("gateway: log closed, dropped %r", record)

    def begin(
        self,
        *,
        started: float,
        visitor: str | None,
        client: str | None,
        port_kind: str,
        destination: str | None,
        dest_port: int | None,
        outcome: str = "ok",
    ) -> int | None:
        """Log a stream as open (no end yet); return its row id for ``finish``."""
        if self.log is None:
            return None
        record = ConnectionRecord(
            started, None, visitor, client, port_kind, destination, dest_port, outcome
        )
        try:
            return self.log.connection(record)
        except RuntimeError:
            return None

    def finish(self, row_id: int | None, *, outcome: str, bytes_up: int, bytes_down: int) -> None:
        """Complete an open stream's row with its end time, outcome and byte counts."""
        if self.log is None or row_id is None:
            return
        try:
            self.log.finish(
                row_id, ended=time.time(), outcome=outcome, bytes_up=bytes_up, bytes_down=bytes_down
            )
        except RuntimeError:
            _logger.debug("gateway: log closed, dropped the end of row %s", row_id)

    def contain(self, decision: Decision, visitor: str | None, client: str | None) -> None:
        """Queue a containment event for a refused destination."""
        _logger.info("gateway: refused %s for %s (%s)", decision.name, client, decision.reason)
        if self.log is not None:
            record = ContainmentRecord(time.time(), visitor, client, decision.name, decision.reason)
            try:
                self.log.containment(record)
            except RuntimeError:
                _logger.warning("gateway: log closed, containment event lost: %r", record)

    async def dial(
        self, decision: Decision, factory: Callable[[], asyncio.BaseProtocol], port: int
    ) -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]:
        """Connect to the upstream ``Routes`` chose for ``decision``; the gateway's only exit."""
        if not decision.routed:
            raise PermissionError(f"{decision.name!r} is not routed: {decision.reason}")
        if decision.ports is not None:  # a service of the sandbox: one upstream per port
            upstream = decision.ports.get(port)
            if upstream is None:
                raise ConnectionRefusedError(f"{decision.name} serves no port {port}")
            loop = asyncio.get_running_loop()
            async with asyncio.timeout(self.config.connect_timeout):
                return await loop.create_connection(factory, *upstream)
        if decision.upstream is None:  # a withdrawn .test site: its host refuses connections
            raise ConnectionRefusedError(f"{decision.name} is offline")
        if port not in SERVICE_PORTS:
            # Like an onion service with only `HiddenServicePort 80`: other virtual ports
            # are refused, so a browser's HTTPS attempt fails fast and it falls back.
            raise ConnectionRefusedError(f"{decision.name} serves no port {port}")
        host, port = decision.upstream
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.config.connect_timeout):
            return await loop.create_connection(factory, host, port)

    async def open_stream(
        self, decision: Decision, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Like ``asyncio.open_connection``, but through ``dial``."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=2**16, loop=loop)
        transport, protocol = await self.dial(
            decision, lambda: asyncio.StreamReaderProtocol(reader, loop=loop), port
        )
        writer = asyncio.StreamWriter(transport, protocol, reader, loop)  # type: ignore[arg-type]  # dial gives TCP
        return reader, writer


def stream_outcome(decision: Decision) -> str:
    """The outcome a connected stream is logged with: a check of the proxy, or ok."""
    return "tor-check" if decision.service else "ok"


def _worth_a_warning(count: int) -> bool:
    """Warn on the 1st, 10th, 100th and every 1000th occurrence, not on each."""
    return count in (1, 10, 100) or count % 1000 == 0


def peer_name(transport: asyncio.BaseTransport) -> str | None:
    """Return 'host:port' of a transport's peer, or None when unknown."""
    peer = transport.get_extra_info("peername")
    if not peer:
        return None
    host, port = peer[0], peer[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def peer_host(transport: asyncio.BaseTransport) -> str | None:
    """Return the host of a transport's peer, or None when unknown."""
    peer = transport.get_extra_info("peername")
    return peer[0] if peer else None
