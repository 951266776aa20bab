"""The workers' gunicorn worker class in pieces (sandbox/workers/head_worker.py); its
behaviour over real connections is in test_site_workers.py."""

from __future__ import annotations

import email.utils
import time

from sandbox.workers.head_worker import _HeadHeld, http_date


class _Recorder:
    """A socket that records each sendall."""

    def __init__(self):
        self.writes: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.writes.append(bytes(data))


def test_the_head_goes_out_with_the_first_piece_of_the_body():
    sock = _Recorder()
    held = _HeadHeld(sock)
    held.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
    assert sock.writes == []
    held.sendall(b"one")
    held.sendall(b"two")
    held.flush()
    assert sock.writes == [b"HTTP/1.1 200 OK\r\n\r\none", b"two"]


def test_a_head_without_a_body_goes_out_once_flushed():
    sock = _Recorder()
    held = _HeadHeld(sock)
    held.flush()  # nothing written: nothing to send
    assert sock.writes == []
    held.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
    held.flush()
    held.flush()
    assert sock.writes == [b"HTTP/1.1 204 No Content\r\n\r\n"]


def test_the_date_header_is_now_and_a_given_time_as_gunicorn_writes_it():
    sent = email.utils.parsedate_to_datetime(http_date())
    assert abs(sent.timestamp() - time.time()) < 2
    assert http_date() == http_date()
    assert http_date(1e9) == "Sun, 09 Sep 2001 01:46:40 GMT"
