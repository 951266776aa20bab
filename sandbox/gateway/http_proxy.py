"""The HTTP proxy port, like Privoxy in front of Tor (default 8118).

* ``CONNECT host:port`` opens a tunnel (``HTTP/1.1 200 Connection established``).
* ``GET http://x.onion/path HTTP/1.1`` (absolute URI) is forwarded in origin form to
  the site's upstream, Host kept; keep-alive works across requests to the same or
  different sites; bodies stream in their own framing (Content-Length or chunked).
* ``Proxy-Authorization: Basic`` credentials are accepted; the username is the visitor.

Errors are answered the way Privoxy answers them when Tor fails (cgi.c error_response),
each with a small page explaining what happened:

=========================================  =================================  ===========
situation                                  status                             outcome
=========================================  =================================  ===========
clearnet, IP literal, localhost, unknown   403 Request blocked                refused
unknown onion, invalid onion               503 Forwarding failure             (same)
simulated circuit failure                  503 Forwarding failure             circuit-failed
upstream refused                           503 Forwarding failure             upstream-failed
upstream timed out                         504 Connection timeout             upstream-failed
upstream closed without answering          502 No data received               upstream-failed
unparseable request                        400 Invalid header                 malformed
=========================================  =================================  ===========

One log row is written per upstream stream (a keep-alive run of requests to one site,
or one tunnel) and one per refused request.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import time
from urllib.parse import urlsplit

from ..errors import SandboxError
from . import _http_wire as hw
from ._core import GatewayState, peer_host, peer_name, stream_outcome
from ._pages import CONNECT_ESTABLISHED, CONTINUE, error_response
from .routes import Decision

__all__ = ["HttpProxyConnection"]

_logger = logging.getLogger("sandbox.gateway.http")
_TUNNEL_CHUNK = 1 << 18


class _Failure(SandboxError):
    """A request that ends with an error page, a log outcome and a closed connection."""

    def __init__(
        self,
        status: int,
        title: str,
        message: str,
        outcome: str,
        decision: Decision | None = None,
        port: int | None = None,
    ):
        """Keep what to answer and what to log."""
        super().__init__(message)
        self.status, self.title, self.message, self.outcome = status, title, message, outcome
        self.decision, self.port = decision, port


class _Stream:
    """One upstream connection used for one or more requests, logged as one row."""

    __slots__ = ("decision", "port", "reader", "writer", "up", "down", "outcome", "row_id")

    def __init__(self, decision: Decision, port: int, reader, writer, row_id: int | None):
        """Start counting."""
        self.decision, self.port, self.reader, self.writer = decision, port, reader, writer
        self.up = 0
        self.down = 0
        self.outcome = stream_outcome(decision)
        self.row_id = row_id


class HttpProxyConnection:
    """One client of the HTTP proxy port."""

    def __init__(
        self, ctx: GatewayState, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ):
        """Wrap the client's streams."""
        self.ctx = ctx
        self.reader = reader
        self.writer = writer
        self.client = peer_name(writer.transport)
        self.visitor: str | None = None
        self.stream: _Stream | None = None
        self.last_active = time.monotonic()
        self.started = time.time()
        self.task = asyncio.current_task()

    def _touch(self) -> None:
        """Note traffic, so the idle sweeper leaves a busy transfer alone."""
        self.last_active = time.monotonic()

    def abort(self) -> None:
        """Drop the client and its upstream now (idle timeout or shutdown)."""
        if self.stream is not None:
            self.stream.writer.transport.abort()
        self.writer.transport.abort()
        if self.task is not None:
            self.task.cancel()

    def drop(self) -> None:
        """Abort a connection a cap pushed out while it waited for its first request."""
        self.abort()

    async def run(self) -> None:
        """Serve requests until the client or an error closes the connection."""
        if not self.ctx.admit(self, peer_host(self.writer.transport)):
            self.writer.transport.abort()
            return
        clean = False
        try:
            await self._serve()
            clean = True
        except (OSError, RuntimeError, asyncio.IncompleteReadError, hw.HttpError):
            pass  # the client or upstream went away; RuntimeError: uvloop's closed transport
        except asyncio.CancelledError:
            pass  # aborted by the idle sweeper or by shutdown
        except Exception:
            _logger.exception("http proxy: unexpected error serving %s", self.client)
        finally:
            self._end_stream()
            self.ctx.release(self)
            transport = self.writer.transport
            if clean:
                transport.close()
            else:
                transport.abort()

    async def _serve(self) -> None:
        """Read requests one after another (keep-alive) and dispatch them."""
        first = True
        while True:
            timeout = self.ctx.config.handshake_timeout if first else self.ctx.config.idle_timeout
            try:
                head = await asyncio.wait_for(hw.read_head(self.reader), timeout)
            except TimeoutError:
                return  # browsers preconnect to proxies and may never send a request
            except hw.HttpError as exc:
                self._log_request(None, None, "malformed")
                await self._send(error_response(400, exc.title, exc.message))
                return
            if head is None:
                return
            if first:
                self._take_visitor(head)
                if not self.ctx.identify(self, self.visitor):
                    message = (
                        f"{self.visitor or self.client} already has "
                        f"{self.ctx.config.max_per_client} connections open through the "
                        "gateway. Close some (or wait for idle ones to time out) and retry."
                    )
                    await self._send(error_response(503, "Too many connections", message))
                    return
            first = False
            self.last_active = time.monotonic()
            if not await self._dispatch(head):
                return

    async def _dispatch(self, head: hw.Head) -> bool:
        """Handle one request; return True to keep the client connection open."""
        parts = head.start.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            self._log_request(None, None, "malformed")
            await self._send(error_response(400, "Bad request line", "Not an HTTP/1.x request."))
            return False
        method, target, version = parts
        self._take_visitor(head)
        try:
            if method.upper() == "CONNECT":
                await self._tunnel(target)
                return False
            return await self._forward(head, method, target, version)
        except _Failure as fail:
            await self._refuse(fail)
            return False
        except hw.HttpError as exc:
            self._log_request(None, None, "malformed")
            await self._send(error_response(exc.status, exc.title, exc.message))
            return False

    def _take_visitor(self, head: hw.Head) -> None:
        """Record the Basic Proxy-Authorization username as the visitor's identity."""
        value = head.get("proxy-authorization")
        if not value:
            return
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() != "basic":
            return
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode(
                "utf-8", "replace"
            )
        except (binascii.Error, ValueError):
            return
        self.visitor = decoded.partition(":")[0] or None

    # --- CONNECT -----------------------------------------------------------------

    async def _tunnel(self, target: str) -> None:
        """Open a CONNECT tunnel and relay both ways until both sides are done."""
        host, port = _split_authority(target)
        self._end_stream()
        stream = await self._open(host, port)
        self.stream = stream
        await self._send(CONNECT_ESTABLISHED)
        up = asyncio.ensure_future(self._pump(self.reader, stream.writer, stream, True))
        down = asyncio.ensure_future(self._pump(stream.reader, self.writer, stream, False))
        try:
            await asyncio.gather(up, down)
        finally:
            up.cancel()
            down.cancel()

    async def _pump(self, reader, writer, stream: _Stream, upward: bool) -> None:
        """Copy one direction of a tunnel, then half-close it."""
        try:
            while data := await reader.read(_TUNNEL_CHUNK):
                self.last_active = time.monotonic()
                if upward:
                    stream.up += len(data)
                else:
                    stream.down += len(data)
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof() and not writer.transport.is_closing():
                writer.write_eof()
        except (OSError, RuntimeError):
            # One side broke: tear both down so the other pump ends too.
            self.writer.transport.abort()
            stream.writer.transport.abort()

    # --- plain forwarding -------------------------------------------------------------

    async def _forward(self, head: hw.Head, method: str, target: str, version: str) -> bool:
        """Forward one absolute-URI request and its response; True to keep the client."""
        url = _absolute_url(target)
        host = url.hostname or ""
        port = _url_port(url)
        request_kind, request_len = hw.body_framing(head, response=False)
        stream = self.stream
        if stream is not None and not _same_site(stream, host, port, self.ctx):
            self._end_stream()
            stream = None
        reused = stream is not None
        if stream is None:
            stream = self.stream = await self._open(host, port)
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        headers = head.forwardable()
        if head.get("host") is None:
            headers.insert(0, ("Host", url.netloc.rpartition("@")[2]))
        expects = head.get("expect")
        if expects and expects.lower() == "100-continue":
            # Answer the client's Expect ourselves, so nobody waits for a 100 that won't come.
            headers = [(k, v) for k, v in headers if k.lower() != "expect"]
            if request_kind != "none":
                await self._send(CONTINUE)
        # HTTP/1.0 clients cannot read chunked responses: ask upstream in their version.
        up_version = "HTTP/1.0" if version == "HTTP/1.0" else "HTTP/1.1"
        if up_version == "HTTP/1.0":
            headers.append(("Connection", "keep-alive"))
        request_head = hw.encode_head(f"{method} {path} {up_version}", headers)
        response = await self._exchange(stream, request_head, request_kind, request_len, method)
        if response is None and reused and request_kind == "none":
            # A kept-alive upstream may have closed meanwhile: retry once on a fresh one.
            self._end_stream()
            stream = self.stream = await self._open(host, port)
            response = await self._exchange(stream, request_head, request_kind, 0, method)
        if response is None:
            stream.outcome = "upstream-failed"
            self._end_stream()
            message = f"{host} closed the connection without sending any data."
            await self._send(error_response(502, "No data received", message))
            return False
        return await self._relay_response(stream, response, method, version, head)

    async def _exchange(
        self, stream: _Stream, request_head: bytes, kind: str, length: int, method: str
    ) -> hw.Head | None:
        """Send a request head and body upstream; return the final response head or None."""
        try:
            stream.writer.write(request_head)
            stream.up += len(request_head)
            stream.up += await hw.copy_body(self.reader, stream.writer, kind, length, self._touch)
            await stream.writer.drain()
            while True:
                response = await asyncio.wait_for(
                    hw.read_head(stream.reader), self.ctx.config.idle_timeout
                )
                if response is None:
                    return None
                stream.down += len(hw.encode_head(response.start, response.headers))
                status = _status_code(response)
                if 100 <= status < 200 and status != 101:
                    await self._send(hw.encode_head(response.start, response.headers))
                    continue
                return response
        except (OSError, RuntimeError, hw.HttpError, asyncio.IncompleteReadError):
            return None

    async def _relay_response(
        self, stream: _Stream, response: hw.Head, method: str, version: str, request: hw.Head
    ) -> bool:
        """Send a response head and body to the client; decide keep-alive on both sides."""
        status = _status_code(response)
        if method.upper() == "HEAD" or status in (204, 304):
            kind, length = "none", 0
        else:
            kind, length = hw.body_framing(response, response=True)
        client_keep = _wants_keep_alive(request, version) and kind != "close"
        upstream_keep = _wants_keep_alive(response, response.start[:8]) and kind != "close"
        headers = response.forwardable()
        if version == "HTTP/1.0" or not client_keep:
            headers.append(("Connection", "keep-alive" if client_keep else "close"))
        self.writer.write(hw.encode_head(response.start, headers))
        try:
            stream.down += await hw.copy_body(stream.reader, self.writer, kind, length, self._touch)
        except (OSError, RuntimeError):
            stream.outcome = "upstream-failed"
            self._end_stream()
            raise
        await self.writer.drain()
        self.last_active = time.monotonic()
        if not upstream_keep:
            self._end_stream()
        return client_keep

    # --- opening streams and failing -----------------------------------------------

    async def _open(self, host: str, port: int) -> _Stream:
        """Decide, simulate the circuit and dial; raise _Failure the way Privoxy reports it."""
        decision = self.ctx.decide(host)
        if decision.kind == "refused":
            self.ctx.contain(decision, self.visitor, self.client)
            raise _Failure(403, "Request blocked", _refusal(decision), "refused", decision, port)
        if decision.kind == "malformed":
            raise hw.HttpError(400, "Bad host", f"{host!r} is not a valid host name.")
        if decision.kind == "bad-address":
            raise _Failure(
                503,
                "Forwarding failure",
                f"{decision.name} is not a valid onion address ({decision.reason}). "
                "Tor would answer SOCKS error 0xF6 (bad address).",
                "bad-address",
                decision,
                port,
            )
        plan = self.ctx.latency.plan(decision.is_onion)
        if plan.delay:
            await asyncio.sleep(plan.delay)
        if decision.kind == "unknown-onion":
            raise _Failure(
                503,
                "Forwarding failure",
                f"The onion service {decision.name} could not be reached: its descriptor "
                "cannot be found. Check the address; the service may be offline.",
                "unknown-onion",
                decision,
                port,
            )
        if plan.failure:
            raise _Failure(
                503,
                "Forwarding failure",
                f"The Tor circuit to {decision.name} failed ({plan.failure}). Try again.",
                "circuit-failed",
                decision,
                port,
            )
        try:
            reader, writer = await self.ctx.open_stream(decision, port)
        except TimeoutError:
            raise _Failure(
                504,
                "Connection timeout",
                f"{decision.name} did not answer in time.",
                "upstream-failed",
                decision,
                port,
            ) from None
        except OSError as exc:
            raise _Failure(
                503,
                "Forwarding failure",
                f"{decision.name} is unreachable right now ({exc.strerror or exc}).",
                "upstream-failed",
                decision,
                port,
            ) from None
        row_id = self.ctx.begin(
            started=time.time(),
            visitor=self.visitor,
            client=self.client,
            port_kind="http",
            destination=decision.name,
            dest_port=port,
            outcome=stream_outcome(decision),
        )
        return _Stream(decision, port, reader, writer, row_id)

    async def _refuse(self, fail: _Failure) -> None:
        """Log a failed request and send its error page."""
        self._log_request(fail.decision, fail.port, fail.outcome)
        await self._send(error_response(fail.status, fail.title, fail.message))

    def _log_request(self, decision: Decision | None, port: int | None, outcome: str) -> None:
        """Log a request that opened no stream."""
        self.ctx.record(
            started=time.time(),
            visitor=self.visitor,
            client=self.client,
            port_kind="http",
            destination=decision.name if decision else None,
            dest_port=port,
            outcome=outcome,
        )

    def _end_stream(self) -> None:
        """Close the current upstream stream (if any) and log it."""
        stream, self.stream = self.stream, None
        if stream is None:
            return
        stream.writer.transport.close()
        self.ctx.finish(
            stream.row_id, outcome=stream.outcome, bytes_up=stream.up, bytes_down=stream.down
        )

    async def _send(self, data: bytes) -> None:
        """Write to the client and wait for the buffer to drain."""
        with contextlib.suppress(OSError, RuntimeError):
            self.writer.write(data)
            await self.writer.drain()


def _refusal(decision: Decision) -> str:
    """Explain a refused destination to the trainee."""
    return (
        f"{decision.name} is outside the exercise world ({decision.reason}). "
        "The sandbox reaches only the onion services and .test sites of the scenario; "
        "this attempt has been logged for the instructor."
    )


def _status_code(response: hw.Head) -> int:
    """Return the status code of a status line (0 when unparseable)."""
    parts = response.start.split(" ", 2)
    try:
        return int(parts[1])
    except (IndexError, ValueError):
        return 0


def _wants_keep_alive(head: hw.Head, version: str) -> bool:
    """Tell whether a message's sender keeps the connection open afterwards."""
    tokens = head.tokens("connection") | head.tokens("proxy-connection")
    if version.startswith("HTTP/1.0"):
        return "keep-alive" in tokens
    return "close" not in tokens


def _absolute_url(target: str):
    """Parse an absolute http:// request target, or raise HttpError explaining the problem."""
    url = urlsplit(target)
    if url.scheme.lower() == "http" and url.hostname:
        return url
    if url.scheme.lower() == "https":
        raise hw.HttpError(
            400, "Use CONNECT", "https:// goes through CONNECT, not plain forwarding."
        )
    raise hw.HttpError(
        400,
        "Not a proxy request",
        "This is the sandbox gateway's HTTP proxy port: configure it as your browser's "
        "HTTP proxy, and requests will carry absolute URLs.",
    )


def _url_port(url) -> int:
    """Return the port of an http URL (80 when absent)."""
    try:
        return url.port or 80
    except ValueError:
        raise hw.HttpError(400, "Bad port", "The URL's port is not a number in 1-65535.") from None


def _split_authority(target: str) -> tuple[str, int]:
    """Split a CONNECT target 'host:port' (IPv6 in brackets), or raise HttpError."""
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host:
        raise hw.HttpError(400, "Bad CONNECT target", f"{target[:100]!r} is not host:port.")
    return host.strip("[]"), int(port)


def _same_site(stream: _Stream, host: str, port: int, ctx: GatewayState) -> bool:
    """Tell whether a request can reuse the open upstream stream."""
    if stream.port != port or stream.writer.transport.is_closing():
        return False
    decision = ctx.decide(host)
    return decision.routed and decision.site == stream.decision.site
