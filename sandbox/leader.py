"""A service's own process, reached over loopback HTTP from the worker processes serving it.

The workers answer what the stored files can tell (sandbox/workers); what has to run
where the service's state is kept (a broadcast, an account's state, a block being made)
they pass on with `Leader.forward` and return that process's answer as it is:

    leader = Leader("http://127.0.0.1:PORT/", "the explorer")
    pass_on_unless(app, leader, lambda r: r.method in ("GET", "HEAD"), plain_503)

The own part sees each request's client as the worker saw it (`X-Forwarded-For`, set by
the worker alone) once `from_workers(app)` has made it trust that header.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask, Request, Response, g, request
from flask.sessions import SessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from .errors import SandboxError

__all__ = ["Leader", "LeaderUnavailable", "catch_up_first", "from_workers", "pass_on_unless"]

# Hop-by-hop headers (RFC 9110 7.6.1) and what http.client and the worker's server set
# themselves: none of them is passed on, either way.
_NOT_PASSED = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "server",
        "date",
        "x-forwarded-for",  # the worker's own, never the client's
    )
)


class LeaderUnavailable(SandboxError):
    """The service's own process does not answer (starting, restarting or stopped)."""


class Leader:
    """A service's own process: a kept-alive connection to it per worker thread."""

    def __init__(self, url: str, what: str):
        """url: http://127.0.0.1:PORT/ of that process; what: its name in errors."""
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"{what}'s own process: expected http://HOST:PORT/, got {url!r}")
        self.host, self.port, self.what = parts.hostname, parts.port, what
        self._local = threading.local()

    def forward(self, incoming: Request) -> Response:
        """That process's answer to the request, headers and all; LeaderUnavailable when
        it cannot be reached. A request is sent again only when a kept-alive connection
        turns out closed, never twice on a fresh one."""
        path = incoming.full_path if incoming.query_string else incoming.path
        body = incoming.get_data()
        headers = {k: v for k, v in incoming.headers.items() if k.lower() not in _NOT_PASSED}
        headers["X-Forwarded-For"] = incoming.remote_addr or ""
        while True:
            conn = getattr(self._local, "conn", None)
            reused = conn is not None
            if conn is None:
                conn = self._local.conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=60
                )
            try:
                conn.request(incoming.method, path, body=body or None, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if reused:  # closed by the other side while idle: a new connection
                    continue
                raise LeaderUnavailable(
                    f"{self.what}'s own process does not answer; ask again soon"
                ) from None
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in _NOT_PASSED]
            return Response(data, status=answer.status, headers=kept)


def pass_on_unless(
    app: Flask,
    leader: Leader,
    answered_here: Callable[[Request], bool],
    unavailable: Callable[[str], Response],
) -> None:
    """Make app pass every request answered_here refuses to leader, first thing;
    unavailable(why) is the answer when leader cannot be reached (a 503 in the app's own
    shape). Registered before the app's other before_request functions run."""

    def _pass_on():
        if answered_here(request):
            return None
        g.passed_on = True
        try:
            return leader.forward(request)
        except LeaderUnavailable as e:
            return unavailable(str(e))

    app.session_interface = _SavedUnlessPassedOn(app.session_interface)

    app.before_request_funcs.setdefault(None, []).insert(0, _pass_on)


def catch_up_first(
    app: Flask,
    refresh: Callable[[], None],
    not_ready: type[Exception],
    unavailable: Callable[[str], Response],
    *,
    message: str | None = None,
    needs_none: frozenset[str] = frozenset(),
) -> None:
    """Make app bring its view of the files the own process writes up to date (refresh())
    before it answers a request itself (after pass_on_unless has passed on the rest). While
    refresh raises not_ready the answer is unavailable(message, else the error's text).
    Endpoints in needs_none read none of those files and skip it."""

    def _catch_up():
        if request.endpoint in needs_none:
            return None
        try:
            refresh()
        except not_ready as e:
            return unavailable(message or str(e))
        return None

    app.before_request(_catch_up)


class _SavedUnlessPassedOn(SessionInterface):
    """An app's session interface that saves nothing on an answer passed on: that answer
    carries the own process's cookies, which this process's session (a permanent one is
    sent again with every answer) would overwrite."""

    def __init__(self, inner: SessionInterface):
        self.inner = inner

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def open_session(self, app, request):
        return self.inner.open_session(app, request)

    def make_null_session(self, app):
        return self.inner.make_null_session(app)

    def is_null_session(self, obj) -> bool:
        return self.inner.is_null_session(obj)

    def save_session(self, app, session, response) -> None:
        if not g.get("passed_on"):
            self.inner.save_session(app, session, response)


def from_workers(app: Flask) -> Flask:
    """Make app, a service's own part, see each request's client as its worker saw it:
    the address a throttle counts (the classroom's) is the trainee's, not the worker's.
    Only for a server the workers alone reach (on loopback): the header is trusted."""
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # type: ignore[method-assign]
    return app
