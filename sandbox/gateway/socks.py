"""The SOCKS port: SOCKS5 (RFC 1928/1929) and SOCKS4/4a, answering the way Tor does.

One ``SocksConnection`` protocol object per client. It parses the handshake from its
buffer (``_socks_wire``), asks ``Routes`` what to do, and either replies with Tor's
failure code or dials the upstream and becomes a relay: bytes are passed on in
``data_received`` and flow control couples the two sockets (a full write buffer on
one side pauses reading on the other).

Replies, as Tor sends them (``extended`` = SocksPort ExtendedErrors, proposal 304):

================================  ==========  ==========  ===========================
situation                         SOCKS5      extended    outcome logged
================================  ==========  ==========  ===========================
routed name, upstream connected   0x00        0x00        ok
check.torproject.org (80, 443)    0x00        0x00        tor-check
unknown valid v3 onion            0x04        0xF0        unknown-onion
invalid onion (checksum, v2...)   0x01        0xF6        bad-address
clearnet, IP literal, localhost   0x02        0x02        refused (+ containment)
onion upstream down               0x04        0xF2        upstream-failed
.test upstream refused/timed out  0x05/0x06   same        upstream-failed
simulated intro failure           0x04        0xF2        circuit-failed
simulated rendezvous failure      0x01        0xF3        circuit-failed
simulated exit-circuit failure    0x01        0x01        circuit-failed
BIND, UDP ASSOCIATE               0x07        0x07        refused
RESOLVE of a world name           0x00 + IP   same        ok
RESOLVE_PTR of a mapped address   0x00 + name same        ok
RESOLVE of an IPv4 literal        0x00 + it   same        ok
RESOLVE of anything else          0x04        0x04        refused (+ containment
                                                          for clearnet, IPs, localhost)
malformed host name               0x01        0x01        malformed
================================  ==========  ==========  ===========================

RESOLVE (SOCKS5 and SOCKS4a) and RESOLVE_PTR (SOCKS5) are answered as Tor does with
``AutomapHostsOnResolve 1``: a world name (.onion or .test) gets a virtual IPv4 address
from ``VirtualAddrNetworkIPv4`` (``automap.py``), stable for the gateway's life, and a
CONNECT to that address reaches the name; RESOLVE_PTR of it gives the name back.

SOCKS4/4a gets 0x5A or 0x5B. An HTTP request on this port (first byte G, H, P or C)
gets Tor's ``501 Tor is not an HTTP Proxy`` page; other garbage is closed silently.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time

from . import _socks_wire as wire
from ._core import GatewayState, peer_host, peer_name, stream_outcome
from ._pages import TOR_NOT_AN_HTTP_PROXY
from .automap import ptr_address
from .routes import Decision

__all__ = ["SocksConnection"]

_logger = logging.getLogger("sandbox.gateway.socks")
_HTTP_FIRST_BYTES = b"GHPC"  # proto_socks.c: get, head, put/post, connect
_MAX_EARLY_DATA = 1 << 20  # optimistic data a client may send before our reply


class _State(enum.Enum):
    """Where a SOCKS connection is in its life."""

    START = enum.auto()
    GREETING = enum.auto()
    AUTH = enum.auto()
    REQUEST5 = enum.auto()
    REQUEST4 = enum.auto()
    CONNECTING = enum.auto()
    RELAY = enum.auto()
    CLOSED = enum.auto()


_HANDSHAKE = {_State.START, _State.GREETING, _State.AUTH, _State.REQUEST5, _State.REQUEST4}


class _Upstream(asyncio.Protocol):
    """The upstream half of a relay: forwards to the client connection that owns it."""

    __slots__ = ("owner",)

    def __init__(self, owner: SocksConnection):
        """Attach to the client connection."""
        self.owner = owner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Hand the transport to the owner at once, so no path can lose it."""
        self.owner.upstream_made(transport)

    def data_received(self, data: bytes) -> None:
        """Pass upstream bytes to the client."""
        owner = self.owner
        owner.last_active = time.monotonic()
        owner.bytes_down += len(data)
        try:
            owner.transport.write(data)
        except RuntimeError:  # uvloop: the client's transport closed in the same tick
            self.owner.abort()

    def eof_received(self) -> bool:
        """Half-close towards the client; keep the socket while the client still sends."""
        return self.owner.upstream_eof()

    def connection_lost(self, exc: Exception | None) -> None:
        """Close the client side too."""
        self.owner.upstream_lost(exc)

    def pause_writing(self) -> None:
        """Upstream is slow to read: stop reading from the client."""
        self.owner.transport.pause_reading()

    def resume_writing(self) -> None:
        """Upstream drained: read from the client again."""
        self.owner.transport.resume_reading()


class SocksConnection(asyncio.Protocol):
    """One client of the SOCKS port, from handshake to the end of its relay."""

    def __init__(self, ctx: GatewayState):
        """Start in the handshake state."""
        self.ctx = ctx
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.upstream: asyncio.Transport | None = None
        self.state = _State.START
        self.buf = bytearray()
        self.port_kind = "socks5"
        self.visitor: str | None = None
        self.client: str | None = None
        self.destination: str | None = None
        self.dest_port: int | None = None
        self.outcome: str | None = None
        self.started = time.time()
        self.last_active = time.monotonic()
        self.bytes_up = 0
        self.bytes_down = 0
        self.client_eof = False
        self.upstream_eof_seen = False
        self.client_closed = False
        self.upstream_closed = False
        self.finished = False
        self.admitted = False
        self.unlogged = False  # pushed out or refused by a connection cap: no log row
        self.received_any = False
        self.row_id: int | None = None
        self.early_paused = False
        self.timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task | None = None

    @property
    def client_name(self) -> str | None:
        """The client's 'host:port', looked up once, when first needed."""
        if self.client is None and self.transport is not None:
            self.client = peer_name(self.transport)
        return self.client

    # --- client side -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Register the client (or drop it over the cap) and arm the handshake timer."""
        self.transport = transport  # type: ignore[assignment]
        if not self.ctx.admit(self, peer_host(transport)):
            self.finished = True
            self.transport.abort()
            return
        self.admitted = True
        self.timer = self.loop.call_later(self.ctx.config.handshake_timeout, self._timed_out)

    def data_received(self, data: bytes) -> None:
        """Relay client bytes, or feed them to the handshake parser."""
        state = self.state
        if state is _State.RELAY:
            self.last_active = time.monotonic()
            self.bytes_up += len(data)
            try:
                self.upstream.write(data)  # type: ignore[union-attr]
            except RuntimeError:  # uvloop: the upstream transport closed in the same tick
                self.abort()
            return
        self.last_active = time.monotonic()
        if state is _State.CLOSED:
            return
        self.received_any = True
        self.buf += data
        if state is _State.CONNECTING:
            if len(self.buf) > _MAX_EARLY_DATA and not self.early_paused:
                self.early_paused = True
                self.transport.pause_reading()
            return
        try:
            self._handshake()
        except wire.SocksError as exc:
            self._malformed(str(exc), exc.reply)

    def eof_received(self) -> bool:
        """Forward a half-close once relaying; before that, EOF ends the connection."""
        self.client_eof = True
        if self.state is _State.RELAY:
            upstream = self.upstream
            if self.upstream_eof_seen or upstream is None:
                return False
            if upstream.can_write_eof():
                upstream.write_eof()
            return True
        return self.state is _State.CONNECTING

    def connection_lost(self, exc: Exception | None) -> None:
        """Tear down the upstream and log the connection."""
        self.client_closed = True
        self.state_closed()
        if self.outcome is None:
            self.outcome = "circuit-failed" if self.destination else "malformed"
        upstream = self.upstream
        if upstream is not None and not self.upstream_closed:
            # A clean close still delivers what the client sent last; an error drops it.
            if exc is None:
                upstream.close()
            else:
                upstream.abort()
        self._maybe_finish()

    def pause_writing(self) -> None:
        """Client is slow to read: stop reading from upstream."""
        if self.upstream is not None:
            self.upstream.pause_reading()

    def resume_writing(self) -> None:
        """Client drained: read from upstream again."""
        if self.upstream is not None:
            self.upstream.resume_reading()

    def abort(self) -> None:
        """Drop both sockets now (idle timeout or gateway shutdown)."""
        self.state_closed()
        if self.upstream is not None and not self.upstream_closed:
            self.upstream.abort()
        if self.transport is not None and not self.client_closed:
            self.transport.abort()

    def drop(self) -> None:
        """Abort without a log row: a connection cap pushed this handshake out."""
        self.unlogged = True
        self.abort()

    def state_closed(self) -> None:
        """Leave the handshake/relay states for good: stop the timer and the dial task."""
        self.state = _State.CLOSED
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        task = self.task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()

    # --- upstream side (called by _Upstream) -----------------------------------------

    def upstream_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the upstream transport, or drop it if the client is already gone."""
        if self.state is not _State.CONNECTING:
            self.upstream_closed = True
            transport.abort()  # type: ignore[attr-defined]  # a TCP transport; typed as its base
            return
        self.upstream = transport  # type: ignore[assignment]

    def upstream_eof(self) -> bool:
        """Forward upstream's half-close; close fully once both sides are done."""
        self.upstream_eof_seen = True
        if self.client_closed:
            return False
        if self.client_eof or not self.transport.can_write_eof():
            self.transport.close()
            return False
        self.transport.write_eof()
        return True

    def upstream_lost(self, exc: Exception | None) -> None:
        """Upstream is gone: close the client (abort on error) and log."""
        self.upstream_closed = True
        if self.state is _State.RELAY and not self.client_closed:
            if exc is None:
                self.transport.close()
            else:
                self.transport.abort()
        self._maybe_finish()

    # --- handshake ---------------------------------------------------------------

    def _handshake(self) -> None:
        """Consume complete handshake messages from the buffer, replying as Tor does."""
        buf = self.buf
        while self.state in _HANDSHAKE:
            state = self.state
            if state is _State.START:
                if len(buf) < 2:  # Tor decides on two bytes, not one
                    return
                first = buf[0]
                if first == 5:
                    self.state = _State.GREETING
                elif first == 4:
                    self.port_kind = "socks4a"
                    self.state = _State.REQUEST4
                elif first in _HTTP_FIRST_BYTES:
                    self._http_on_socks()
                    return
                else:
                    raise wire.SocksError(f"first byte 0x{first:02x} is neither SOCKS4 nor SOCKS5")
            elif state is _State.GREETING:
                parsed = wire.parse_greeting(buf)
                if parsed is None:
                    return
                used, methods = parsed
                del buf[:used]
                method = wire.choose_method(methods, self.ctx.prefer_no_auth)
                self.transport.write(bytes((5, method)))
                if method == wire.METHOD_NONE_ACCEPTABLE:
                    raise wire.SocksError("no acceptable SOCKS5 authentication method")
                self.state = _State.AUTH if method == wire.METHOD_USER_PASS else _State.REQUEST5
            elif state is _State.AUTH:
                parsed_auth = wire.parse_userpass(buf)
                if parsed_auth is None:
                    return
                used, username, _password = parsed_auth
                del buf[:used]
                # Any credentials are accepted; the username names the trainee.
                self.visitor = username or None
                self.transport.write(b"\x01\x00")
                self.state = _State.REQUEST5
            else:
                parse = wire.parse_request5 if state is _State.REQUEST5 else wire.parse_request4
                parsed_req = parse(buf)
                if parsed_req is None:
                    return
                used, request = parsed_req
                del buf[:used]
                self._request(request)

    def _http_on_socks(self) -> None:
        """Answer an HTTP request on the SOCKS port with Tor's 501 page and close."""
        self.outcome = "http-on-socks"
        self.transport.write(TOR_NOT_AN_HTTP_PROXY)
        self.state_closed()
        self.transport.close()

    def _malformed(self, why: str, reply: bytes | None) -> None:
        """Close a connection whose handshake is broken (after Tor's reply, if any)."""
        _logger.info("socks: malformed handshake from %s: %s", self.client_name, why)
        self.outcome = "malformed"
        if reply:
            self.transport.write(reply)
        self.state_closed()
        self.transport.close()

    def _timed_out(self) -> None:
        """Close a client that did not finish its handshake in time."""
        self.timer = None
        if self.state in _HANDSHAKE:
            self._malformed("handshake timeout", None)

    def _reply(self, code: int) -> bytes:
        """Return the reply bytes for a SOCKS5 code in this connection's SOCKS version."""
        if self.port_kind == "socks4a":
            return wire.reply4(code == wire.SUCCEEDED)
        return wire.reply5(code)

    def _ext(self, plain: int, extended: int) -> int:
        """Pick the proposal-304 code when the port has ExtendedErrors, else Tor's plain one."""
        return extended if self.ctx.extended_errors else plain

    def _fail(self, code: int, outcome: str) -> None:
        """Send a failure reply and close."""
        self.outcome = outcome
        if not self.client_closed:
            self.transport.write(self._reply(code))
            self.transport.close()
        self.state_closed()

    def _request(self, request: wire.Request) -> None:
        """Act on a complete request: refuse it at once or start dialling its upstream."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.port_kind == "socks4a":
            self.visitor = request.user_id
        if not self.ctx.identify(self, self.visitor):
            self.unlogged = True  # a client over its cap must not fill the log either
            self._fail(wire.GENERAL_FAILURE, "refused")
            return
        self.destination = request.host.lower()
        self.dest_port = request.port
        if request.command != wire.CMD_CONNECT:
            self._unsupported(request)
            return
        decision = self.ctx.decide(request.host)
        self.destination = decision.name
        if decision.kind == "refused":
            self.ctx.contain(decision, self.visitor, self.client_name)
            self._fail(wire.NOT_ALLOWED, "refused")
        elif decision.kind == "malformed":
            self._fail(wire.GENERAL_FAILURE, "malformed")
        elif decision.kind == "bad-address":
            self._fail(self._ext(wire.GENERAL_FAILURE, wire.HS_BAD_ADDRESS), "bad-address")
        else:
            # Reading goes on while dialling (early data is buffered, capped): pausing and
            # resuming would cost two syscalls per stream for clients that send nothing.
            self.state = _State.CONNECTING
            self.task = self.loop.create_task(self._open(decision))

    def _unsupported(self, request: wire.Request) -> None:
        """Answer Tor's RESOLVE commands; refuse BIND and UDP ASSOCIATE."""
        if request.command == wire.CMD_RESOLVE:
            self._resolve(request.host)
        elif request.command == wire.CMD_RESOLVE_PTR and self.port_kind == "socks5":
            self._resolve_ptr(request.host)
        else:
            self._fail(wire.COMMAND_NOT_SUPPORTED, "refused")

    def _resolve(self, host: str) -> None:
        """RESOLVE: a world name's virtual address, an IPv4 literal itself (as Tor answers
        one), else Tor's failed-resolve 0x04, logged as containment when it left the world."""
        if wire.is_ipv4(host):
            self._resolved(host)
            return
        decision = self.ctx.routes.resolve(host)
        self.destination = decision.name
        if decision.routed:
            self._resolved(self.ctx.automap.address_for(decision.name))
            return
        if decision.containment:
            self.ctx.contain(decision, self.visitor, self.client_name)
        self._fail(wire.HOST_UNREACHABLE, "refused")

    def _resolve_ptr(self, host: str) -> None:
        """RESOLVE_PTR: the name a virtual address stands for, else 0x04; asking about an
        address outside the virtual network is an attempt at the outside world."""
        address = ptr_address(host)
        name = self.ctx.automap.name_for(address) if address else None
        if name is not None:
            self.outcome = "ok"
            self.transport.write(wire.resolved5_name(name))
            self.transport.close()
            self.state_closed()
            return
        if address is not None and address not in self.ctx.automap:
            self.ctx.contain(self.ctx.routes.resolve(address), self.visitor, self.client_name)
        self._fail(wire.HOST_UNREACHABLE, "refused")

    def _resolved(self, address: str) -> None:
        """Send a successful RESOLVE answer and close, as Tor does."""
        self.outcome = "ok"
        if self.port_kind == "socks4a":
            self.transport.write(wire.resolved4(address))
        else:
            self.transport.write(wire.resolved5(address))
        self.transport.close()
        self.state_closed()

    async def _open(self, decision: Decision) -> None:
        """Simulate the circuit, then connect upstream and start relaying (or fail like Tor)."""
        plan = self.ctx.latency.plan(decision.is_onion)
        if plan.delay:
            await asyncio.sleep(plan.delay)
        if decision.kind == "unknown-onion":
            self._fail(self._ext(wire.HOST_UNREACHABLE, wire.HS_NOT_FOUND), "unknown-onion")
            return
        if plan.failure == "intro":
            self._fail(self._ext(wire.HOST_UNREACHABLE, wire.HS_INTRO_FAILED), "circuit-failed")
            return
        if plan.failure == "rendezvous":
            self._fail(self._ext(wire.GENERAL_FAILURE, wire.HS_REND_FAILED), "circuit-failed")
            return
        if plan.failure == "exit":
            self._fail(wire.GENERAL_FAILURE, "circuit-failed")
            return
        assert self.dest_port is not None  # set with the request that led here
        try:
            await self.ctx.dial(decision, lambda: _Upstream(self), self.dest_port)
        except OSError as exc:  # TimeoutError included
            self._upstream_failed(decision, exc)
            return
        if self.state is not _State.CONNECTING or self.upstream is None:
            return
        if self.upstream_closed:  # reset between connect and now
            self._upstream_failed(decision, ConnectionResetError("upstream closed at once"))
            return
        self._start_relay(decision)

    def _upstream_failed(self, decision: Decision, exc: BaseException) -> None:
        """Report an unreachable upstream with the code Tor gives for that situation."""
        _logger.info("socks: upstream of %s failed: %r", decision.name, exc)
        if self.upstream is not None:
            self.upstream.abort()
        if decision.is_onion:
            # Service down: introduction fails (hs_client.c), stream ends RESOLVEFAILED.
            code = self._ext(wire.HOST_UNREACHABLE, wire.HS_INTRO_FAILED)
        elif isinstance(exc, ConnectionRefusedError):
            code = wire.CONNECTION_REFUSED
        elif isinstance(exc, TimeoutError):
            code = wire.TTL_EXPIRED
        else:
            code = wire.GENERAL_FAILURE
        self._fail(code, "upstream-failed")

    def _start_relay(self, decision: Decision) -> None:
        """Send the success reply, flush early data, and let bytes flow both ways."""
        upstream = self.upstream
        assert upstream is not None
        self.state = _State.RELAY
        self.outcome = stream_outcome(decision)
        # Logged now, not at the end: the instructor sees open streams (browsers keep them).
        self.row_id = self.ctx.begin(
            started=self.started,
            visitor=self.visitor,
            client=self.client_name,
            port_kind=self.port_kind,
            destination=self.destination,
            dest_port=self.dest_port,
            outcome=self.outcome,
        )
        self.transport.write(self._reply(wire.SUCCEEDED))
        if self.buf:
            self.bytes_up += len(self.buf)
            upstream.write(bytes(self.buf))
            self.buf.clear()
        if self.client_eof:
            if upstream.can_write_eof():
                upstream.write_eof()
        elif self.early_paused:
            self.transport.resume_reading()

    def _maybe_finish(self) -> None:
        """Log and unregister once both sockets are closed."""
        if self.finished or not self.client_closed:
            return
        if self.upstream is not None and not self.upstream_closed:
            return
        self.finished = True
        self.ctx.release(self)
        if self.row_id is not None:
            self.ctx.finish(
                self.row_id,
                outcome=self.outcome or "ok",
                bytes_up=self.bytes_up,
                bytes_down=self.bytes_down,
            )
            return
        if not self.received_any or self.unlogged:
            return  # a connect without a byte (preconnect, port probe) is not a request
        self.ctx.record(
            started=self.started,
            visitor=self.visitor,
            client=self.client_name,
            port_kind=self.port_kind,
            destination=self.destination,
            dest_port=self.dest_port,
            outcome=self.outcome or "malformed",
            bytes_up=self.bytes_up,
            bytes_down=self.bytes_down,
        )
