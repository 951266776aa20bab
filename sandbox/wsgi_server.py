"""A threaded WSGI server that speaks TLS: Tor's check service (check.torproject.org).

The web services themselves run elsewhere: the hidden services on gunicorn
(`sandbox/workers/`), the others on waitress (`sandbox/portal_server.py`); both take this
module's banner, caps and timeouts, so every server of the sandbox answers alike.

werkzeug's threaded server gives each connection a thread for as long as the client keeps
it open, with no timeout and no cap: a few hundred clients that send half a request line
pin as many threads and descriptors until the process fails with EMFILE. This one

* closes a connection that has not sent a complete request head within
  ``request_timeout`` seconds (also the keep-alive wait between requests), and gives any
  read or write of a body ``io_timeout`` seconds to make progress;
* serves at most ``max_connections`` connections at once. A new one over the cap takes the
  place of the connection that has waited longest for its request head (an idle
  keep-alive or a held half-request); when every connection is busy with a request it
  gets ``503`` with Retry-After instead of a thread.

Every response carries exactly one ``Server`` header: the one the app set (a site's
Apache or nginx banner), else ``DEFAULT_SERVER``, a production stack's banner. werkzeug's
own (``Werkzeug/x Python/y``, which gave the game away and came as a second header) is
never sent, nor named in the WSGI environ.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import sys
import threading
import time
from collections import OrderedDict

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

__all__ = ["BoundedWSGIServer"]

# What the explorer, the exchanges, the issuer and the classroom run behind, as a real one
# would: nginx as the reverse proxy, no version (server_tokens off).
DEFAULT_SERVER = "nginx"
MAX_CONNECTIONS = 256
REQUEST_TIMEOUT = 10.0
IO_TIMEOUT = 30.0
_BUSY_PAGE = b"The server is busy with other requests; try again in a few seconds.\n"
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nServer: nginx\r\nRetry-After: 5\r\n"
    b"Content-Type: text/plain\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_BUSY_PAGE), _BUSY_PAGE)
)

_logger = logging.getLogger("sandbox.wsgi_server")


class _Handler(WSGIRequestHandler):
    """werkzeug's handler, telling the server when it waits for a request head, and sending
    one Server header per response."""

    server: BoundedWSGIServer
    timeout = IO_TIMEOUT  # StreamRequestHandler sets it on the socket: every read and write
    # werkzeug's is a property naming itself; it also becomes the environ's SERVER_SOFTWARE.
    server_version = DEFAULT_SERVER
    _banner_due = False  # a response head has started and has no Server header yet

    def version_string(self) -> str:
        """The banner of http.server's own error pages (400, 414, ...): no Python version."""
        return DEFAULT_SERVER

    def send_response(self, code: int, message: str | None = None) -> None:
        """Start a response head without the banner: the app's headers may bring their own."""
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())
        self._banner_due = True

    def send_header(self, keyword: str, value: str) -> None:
        """Send a header; of Server headers only the first (the app's), none after it."""
        if keyword.lower() == "server":
            if not self._banner_due:
                return
            self._banner_due = False
        super().send_header(keyword, value)

    def end_headers(self) -> None:
        """End the head, adding the default banner when nothing set one."""
        if self._banner_due:
            self.send_header("Server", self.version_string())
        super().end_headers()

    def setup(self) -> None:
        """Speak TLS first when the server has a certificate: the handshake runs here, in
        the connection's thread under its timeout, not in the loop that accepts."""
        tls = self.server.tls
        if tls is not None:
            raw = self.request
            raw.settimeout(IO_TIMEOUT)
            self.request = tls.wrap_socket(raw, server_side=True)
            self.server.note_busy(raw)  # from here on the TLS socket is the one that waits
        super().setup()

    def finish(self) -> None:
        """Flush and close; a TLS socket leaves the waiting list with its connection."""
        try:
            super().finish()
        finally:
            if self.server.tls is not None:
                self.server.note_busy(self.connection)

    def handle_one_request(self) -> None:
        """Wait for the next request (evictable meanwhile), then serve it."""
        self.server.note_waiting(self.connection)
        super().handle_one_request()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """werkzeug's access log line, not even formatted when its logger would drop it (the
        sandbox sets it to WARNING): decoding the path and the date cost every request more
        than a small answer's own work."""
        if _access_log_off():
            return
        super().log_request(code, size)

    def parse_request(self) -> bool:
        """Parse the head; from here on the connection serves a request."""
        ok = super().parse_request()
        self.server.note_busy(self.connection)
        return ok


class BoundedWSGIServer(ThreadedWSGIServer):
    """A thread per connection, with a cap on connections and a deadline on request heads."""

    def __init__(
        self,
        host: str,
        port: int,
        app,
        *,
        max_connections: int = MAX_CONNECTIONS,
        request_timeout: float = REQUEST_TIMEOUT,
        tls: ssl.SSLContext | None = None,
    ):
        """Listen on host:port (0: a free port) and serve ``app`` (over TLS with ``tls``)."""
        if max_connections < 1 or request_timeout <= 0:
            raise ValueError("max_connections must be >= 1 and request_timeout > 0")
        self.max_connections = max_connections
        self.request_timeout = request_timeout
        self.refused = 0
        self.tls = tls
        self._lock = threading.Lock()
        self._open = 0
        # Connections waiting for a request head, oldest wait first, with when it began.
        self._waiting: OrderedDict[socket.socket, float] = OrderedDict()
        super().__init__(host, port, app, _Handler)

    @property
    def open_connections(self) -> int:
        """Connections being served right now."""
        return self._open

    def note_waiting(self, sock: socket.socket) -> None:
        """A connection starts waiting for a request head."""
        with self._lock:
            self._waiting[sock] = time.monotonic()
            self._waiting.move_to_end(sock)

    def note_busy(self, sock: socket.socket) -> None:
        """A connection has sent its request head."""
        with self._lock:
            self._waiting.pop(sock, None)

    def process_request(self, request, client_address) -> None:
        """Start a thread for a new connection, making room or answering 503 at the cap."""
        with self._lock:
            admitted = self._open < self.max_connections or self._evict_oldest()
            if admitted:
                self._open += 1
                self._waiting[request] = time.monotonic()
        if not admitted:
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread could be started: not served, not counted
            self._forget(request)
            raise

    def process_request_thread(self, request, client_address) -> None:
        """Serve a connection in its thread; count it out when it ends."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._forget(request)

    def service_actions(self) -> None:
        """Close connections waiting for a request head past ``request_timeout``."""
        deadline = time.monotonic() - self.request_timeout
        stale = []
        with self._lock:
            for sock, since in self._waiting.items():
                if since > deadline:
                    break
                stale.append(sock)
            for sock in stale:
                del self._waiting[sock]
        for sock in stale:
            _hang_up(sock)

    def handle_error(self, request, client_address) -> None:
        """A TLS client that hung up or spoke no TLS is not a server error: no traceback."""
        if isinstance(sys.exc_info()[1], ssl.SSLError | ConnectionError | TimeoutError):
            _logger.debug("%s: %s dropped: %s", self.port, client_address, sys.exc_info()[1])
            return
        super().handle_error(request, client_address)

    def _evict_oldest(self) -> bool:
        """Close the connection that has waited longest for a request head (lock held)."""
        if not self._waiting:
            return False
        sock, _since = self._waiting.popitem(last=False)
        _hang_up(sock)
        return True

    def _forget(self, request: socket.socket) -> None:
        """A connection is over."""
        with self._lock:
            self._open -= 1
            self._waiting.pop(request, None)

    def _refuse(self, request: socket.socket) -> None:
        """Answer 503 without a thread: every slot serves a request."""
        self.refused += 1
        if self.refused in (1, 10, 100) or self.refused % 1000 == 0:
            _logger.warning(
                "%s:%s: %d connections refused at the cap of %d",
                self.host,
                self.port,
                self.refused,
                self.max_connections,
            )
        with contextlib.suppress(OSError):
            request.settimeout(1.0)
            request.sendall(_BUSY)
        self.shutdown_request(request)


def _access_log_off() -> bool:
    """Whether werkzeug's logger drops INFO lines: its level set above INFO, or disabled.

    An unset level (NOTSET) is not off: werkzeug sets it to INFO at its first line.
    """
    logger = logging.getLogger("werkzeug")
    if logger.disabled:
        return True
    return logger.level != logging.NOTSET and not logger.isEnabledFor(logging.INFO)


def _hang_up(sock: socket.socket) -> None:
    """Wake the thread blocked reading the socket with an end of file; it then closes it."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
