"""The waitress server of the services in `sandbox up`'s own process: keep-alive, held
half-requests, one banner, a prompt stop."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
import requests
from flask import Flask

from sandbox.portal_server import PortalServer


@pytest.fixture
def portal():
    """A small app on a PortalServer in a thread; stopped after the test."""
    app = Flask("portal")

    @app.get("/")
    def index():
        """A page."""
        return "portal page"

    server = PortalServer("127.0.0.1", 0, app, threads=2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(10)
    assert not thread.is_alive(), "the server's loop did not end"


def test_keep_alive_and_one_banner(portal):
    """Three requests on one connection; each answer has exactly one Server: nginx."""
    with socket.create_connection(("127.0.0.1", portal.server_port), timeout=10) as sock:
        reader = sock.makefile("rb")
        for _ in range(3):
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = reader.readline()
                assert line, "the server closed a keep-alive connection"
                head += line
            assert head.startswith(b"HTTP/1.1 200")
            assert [h for h in head.split(b"\r\n") if h.lower().startswith(b"server:")] == [
                b"Server: nginx"
            ]
            assert reader.read(len(b"portal page")) == b"portal page"


def test_held_half_requests_pin_no_thread(portal):
    """Many more half-sent requests than threads: a whole request is still answered."""
    held = []
    try:
        for _ in range(40):
            sock = socket.create_connection(("127.0.0.1", portal.server_port), timeout=30)
            sock.sendall(b"GET /hel")
            held.append(sock)
        r = requests.get(f"http://127.0.0.1:{portal.server_port}/", timeout=5)
        assert r.status_code == 200 and r.text == "portal page"
    finally:
        for sock in held:
            sock.close()


def test_stop_closes_idle_connections(portal):
    """An idle keep-alive connection is closed when the server stops."""
    sock = socket.create_connection(("127.0.0.1", portal.server_port), timeout=10)
    with sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(12) == b"HTTP/1.1 200"
        portal.shutdown()
        data = sock.recv(65536)
        while data:  # the rest of the answer, then the end of the stream
            data = sock.recv(65536)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{portal.server_port}/", timeout=5)


def test_a_taken_port_is_an_oserror():
    """Listening where something already listens: OSError at once, nothing left open."""
    with socket.create_server(("127.0.0.1", 0)) as busy, pytest.raises(OSError):
        PortalServer("127.0.0.1", busy.getsockname()[1], Flask("x"))


def hang_up_trigger(server) -> None:
    """Close the write end of a waitress server's wake-up pipe (a PortalServer's or a
    UiServer's), as a stray close elsewhere in the process would; wait until waitress has
    closed the trigger (it polls as hung up)."""
    trigger = server._server.trigger
    os.close(trigger.trigger)
    deadline = time.monotonic() + 10
    while not trigger._closed:
        assert time.monotonic() < deadline, "waitress kept a hung-up trigger"
        time.sleep(0.01)


def test_stop_still_stops_when_the_wake_up_pipe_is_gone(portal):
    """With waitress's trigger closed under it, shutdown still closes the listener and
    ends the loop (the CI once failed here with EBADF)."""
    assert requests.get(f"http://127.0.0.1:{portal.server_port}/", timeout=5).status_code == 200
    hang_up_trigger(portal)
    portal.shutdown()
    assert portal._stopped.is_set()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{portal.server_port}/", timeout=5)
