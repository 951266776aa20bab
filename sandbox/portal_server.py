"""The production WSGI server of the services `sandbox up` runs in its own process.

The own parts of the explorer, the Tron node and explorer, the classroom and the issuer
keep that process's live chains and inject runner, so they cannot move to worker
processes; each gets a waitress server in a thread instead (their ports are served by the
workers, which pass them what needs them). waitress, rather than
werkzeug's development server: it keeps connections alive (Esplora and TronGrid clients
make hundreds of calls), reads every request head and body in its event loop before a
thread runs the app (held half-requests pin no thread), closes connections idle past
``REQUEST_TIMEOUT``, stops accepting past ``MAX_CONNECTIONS`` until some close, and sends
one ``Server: nginx`` header.
"""

from __future__ import annotations

import logging
import socket
import threading

from waitress.server import create_server

from .wsgi_server import DEFAULT_SERVER, MAX_CONNECTIONS, REQUEST_TIMEOUT

__all__ = ["PortalServer"]

THREADS = 8  # requests one service runs at once; waiting connections need no thread
MAX_BODY = 64 * 1024 * 1024  # the apps refuse far less; waitress must not buffer more
MAX_HEAD = 64 * 1024  # a request head past this is refused with 431, as gunicorn's sites do

# "Task queue depth is N" at every burst of a class: what a load test is for, not news.
logging.getLogger("waitress.queue").setLevel(logging.ERROR)


class PortalServer:
    """One app on waitress at host:port (0: a free port), served by ``serve_forever``."""

    def __init__(
        self,
        host: str,
        port: int,
        app,
        *,
        threads: int = THREADS,
        sock: socket.socket | None = None,
    ):
        """Listen now (OSError if the port is taken), or on sock, already listening at
        host:port; serve once serve_forever runs."""
        self.app = app
        sock = sock or socket.create_server((host, port), backlog=1024)
        try:
            self._server = create_server(
                app,
                sockets=[sock],
                threads=threads,
                ident=DEFAULT_SERVER,
                channel_timeout=REQUEST_TIMEOUT,
                cleanup_interval=1,
                connection_limit=MAX_CONNECTIONS,
                max_request_body_size=MAX_BODY,
                max_request_header_size=MAX_HEAD,
                clear_untrusted_proxy_headers=True,
                expose_tracebacks=False,
                # select() fails past descriptor 1024, which a busy sandbox passes.
                asyncore_use_poll=True,
            )
        except BaseException:
            sock.close()
            raise
        self.server_address = (host, sock.getsockname()[1])
        self._serving = False
        self._stopped = threading.Event()

    @property
    def server_port(self) -> int:
        """The port it listens on."""
        return self.server_address[1]

    def serve_forever(self) -> None:
        """Serve until shutdown() (run it in a thread of its own)."""
        self._serving = True
        try:
            self._server.run()
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Close the listener and every connection, from the server's own loop; wait for it."""
        dispatchers = self._server._map  # waitress's socket map: listener, trigger, channels

        def close_all() -> None:
            for dispatcher in list(dispatchers.values()):
                dispatcher.close()

        if self._stopped.is_set():  # stopped already
            return
        if not self._serving:  # never started: nothing runs the loop
            close_all()
            self._stopped.set()
            return
        try:
            self._server.trigger.pull_trigger(close_all)
        except OSError:
            # Its pipe is gone (waitress closes a trigger that polls as hung up): close them
            # from here; the loop sees its map empty within its 1 s poll timeout.
            close_all()
        self._stopped.wait(10)

    def server_close(self) -> None:
        """Let the app threads finish what they run and end them."""
        self._server.task_dispatcher.shutdown(timeout=5)
