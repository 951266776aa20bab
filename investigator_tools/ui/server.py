"""The workspace's server: waitress on 127.0.0.1 in a thread of `investigate ui`'s process."""

from __future__ import annotations

import logging
import socket
import threading

from waitress.server import create_server

from .app import create_app
from .collect import stop_crawl
from .context import Settings

__all__ = ["HOST", "UiServer"]

HOST = "127.0.0.1"  # never another interface: the token is the only other guard
THREADS = 4

logging.getLogger("waitress.queue").setLevel(logging.ERROR)


class UiServer:
    """The workspace app served on 127.0.0.1:port (0: a free port) until stop()."""

    def __init__(self, settings: Settings, port: int = 0):
        """Listen now (OSError if the port is taken); serve once start() runs."""
        self.settings = settings
        sock = socket.create_server((HOST, port))
        try:
            self.app = create_app(settings)
            self._server = create_server(
                self.app,
                sockets=[sock],
                threads=THREADS,
                ident="investigate-ui",
                clear_untrusted_proxy_headers=True,
                expose_tracebacks=False,
                asyncore_use_poll=True,  # select() fails past descriptor 1024
            )
        except BaseException:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        """The workspace's address, without the token."""
        return f"http://{HOST}:{self.port}/"

    @property
    def url(self) -> str:
        """The address to open: it carries the token."""
        return f"{self.base}?token={self.settings.token}"

    def start(self) -> UiServer:
        """Serve in a thread of its own."""
        self._thread = threading.Thread(target=self._server.run, name="investigate-ui", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the listener and every connection, from the server's own loop; wait for it,
        then for the threads running requests."""
        dispatchers = self._server._map  # waitress's socket map: listener, trigger, channels

        def close_all() -> None:
            for dispatcher in list(dispatchers.values()):
                dispatcher.close()

        if self._thread is None:
            close_all()
        else:
            # Closing every dispatcher empties the map, which ends waitress's loop.
            try:
                self._server.trigger.pull_trigger(close_all)
            except OSError:
                # Its pipe is gone (waitress closes a trigger that polls as hung up): close
                # them from here; the loop sees its map empty within its 1 s poll timeout.
                close_all()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.task_dispatcher.shutdown(timeout=5)
        stop_crawl(self.app)

    def __enter__(self) -> UiServer:
        """Start serving for a with block."""
        return self.start()

    def __exit__(self, *exc) -> None:
        """Stop at the end of the block."""
        self.stop()
