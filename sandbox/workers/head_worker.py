"""gunicorn's gthread worker, reading each request head in its event loop first.

Stock gthread hands a connection to a thread as soon as it is readable, and the thread
then blocks, with no timeout, until the request head is complete: a few dozen held
half-requests (a trainee's slowloris, through the gateway) pin every thread of every
worker and the sites stop for the whole class. Here a connection reaches a thread only
with a whole head (or more than any head may be) in hand; until then it waits in the
event loop, like an idle keep-alive connection, and is closed when its deadline passes.
Body reads and answer writes in the thread give up after ``IO_TIMEOUT`` seconds without
progress.

A connection's socket stays blocking for its whole life, and that timeout is the
kernel's (SO_RCVTIMEO, SO_SNDTIMEO): stock gthread switches the socket between blocking
and not around every request (three ioctls), and Python's own socket timeout polls before
each read and write (two polls for an answer's two writes). Those were five of a small
answer's ten system calls, each also handing the GIL to another thread. The event loop
reads with MSG_DONTWAIT instead. Files are written as any answer is, not by sendfile:
Python's socket.sendfile on a blocking socket waits without end for a client that has
stopped reading.

A worker holding more connections than another leaves a new one to the others for
``YIELD`` seconds, and takes it then only if none did (balance.py says why).
"""

from __future__ import annotations

import email.utils
import errno
import selectors
import socket
import struct
import threading
import time
from functools import partial

from gunicorn import util
from gunicorn.http import wsgi
from gunicorn.workers.gthread import TConn, ThreadWorker

from ..wsgi_server import DEFAULT_SERVER, IO_TIMEOUT, REQUEST_TIMEOUT
from .balance import Seat

# Seconds a connection may take to send a request head. gthread closes idle keep-alive
# connections from one queue in order of their deadline, so both waits are equally long.
HEAD_TIMEOUT = REQUEST_TIMEOUT
MAX_HEAD = 64 * 1024  # past this the parser decides (431/400), in a thread
# Seconds a worker holding more connections than another leaves a new one to the others:
# enough for an idle worker to wake and take it, short enough not to be felt if none does.
YIELD = 0.002
_IO_TIMEVAL = struct.pack("ll", int(IO_TIMEOUT), int(IO_TIMEOUT % 1 * 1_000_000))


class HeadFirstWorker(ThreadWorker):
    """A gthread worker whose threads only ever parse requests whose head has arrived."""

    seat: Seat | None = None  # its place in the workers' connection counts (balance.py)

    def init_process(self) -> None:
        """Make gunicorn's own error pages nginx's, in this worker process, its Date header
        cheaper, an answer's head go out with its body, and write files without sendfile
        (see the module's docstring), then run."""
        # gunicorn writes a request it refuses (a malformed head, 431, a crashed app) with
        # util.write_error: no Server header and its own page, where every answer of the
        # sites says nginx. There is no setting for it; this process serves only us.
        util.write_error = write_nginx_error
        util.http_date = http_date
        wsgi.Response = OneWriteResponse
        self.cfg.set("sendfile", False)
        super().init_process()

    def accept(self, server, listener) -> None:
        """Take a new connection into the event loop, to wait for its first head; or, when
        another worker holds fewer connections, leave it to that one for a moment."""
        if self.seat is not None and self.seat.another_holds_fewer(self.nr_conns):
            with self._lock:
                self.poller.unregister(listener)
            timer = threading.Timer(YIELD, self._after_yield, (server, listener))
            timer.daemon = True
            timer.start()
            return
        self._take(server, listener)

    def _after_yield(self, server, listener) -> None:
        """Take the connection left to the others if none of them did (one busy with its
        requests, or gone), and watch the listener again."""
        if not self.alive:  # stopping: its connections are the others' now
            return
        try:
            self._take(server, listener)
            with self._lock:
                self.poller.register(listener, selectors.EVENT_READ, partial(self.accept, server))
        except (OSError, ValueError):  # it stopped meanwhile: its poller is closed
            pass

    def _take(self, server, listener) -> None:
        """Accept a connection if one is waiting (another worker may have taken it)."""
        try:
            sock, client = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        conn = TConn(self.cfg, sock, client, server)
        conn.timeout = time.time() + HEAD_TIMEOUT
        self.nr_conns += 1
        if self.seat is not None:
            self.seat.publish(self.nr_conns)
        with self._lock:
            self._keep.append(conn)
            self.poller.register(
                conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn)
            )

    def murder_keepalived(self) -> None:
        """gthread's, run once a turn of the event loop; then tell the other workers how
        many connections this one holds now."""
        super().murder_keepalived()
        if self.seat is not None:
            self.seat.publish(self.nr_conns)

    def on_client_socket_readable(self, conn, client) -> None:
        """Buffer what arrived; hand the connection to a thread once its head is whole."""
        head = getattr(conn, "head", None)
        if head is None:
            head = conn.head = bytearray()
        try:
            data = conn.sock.recv(MAX_HEAD, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        with self._lock:
            if conn not in self._keep:  # its deadline passed meanwhile: already closed
                return
            if data and b"\r\n\r\n" not in head + data and len(head) + len(data) < MAX_HEAD:
                head += data
                return  # still waiting, still under its deadline
            self.poller.unregister(conn.sock)
            self._keep.remove(conn)
        if not data:  # the client hung up
            self.nr_conns -= 1
            conn.close()
            return
        buffered = bytes(head) + data
        conn.head = bytearray()
        if conn.parser is None:  # its first request: its parser, kept across keep-alive ones
            conn.init()  # and blocking from now on
            for option in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
                conn.sock.setsockopt(socket.SOL_SOCKET, option, _IO_TIMEVAL)
        conn.initialized = True
        conn.parser.unreader.unread(buffered)
        self._wrap_future(self.tpool.submit(self.handle, conn), conn)

    def finish_request(self, fs) -> None:
        """gthread's, but a kept-alive connection's socket stays blocking: back to the event
        loop, which reads it with MSG_DONTWAIT."""
        if fs.cancelled():
            self.nr_conns -= 1
            fs.conn.close()
            return
        try:
            keepalive, conn = fs.result()
            if keepalive and self.alive:
                conn.set_timeout()
                with self._lock:
                    self._keep.append(conn)
                    self.poller.register(
                        conn.sock,
                        selectors.EVENT_READ,
                        partial(self.on_client_socket_readable, conn),
                    )
            else:
                self.nr_conns -= 1
                conn.close()
        except Exception:  # as gthread: whatever went wrong, the socket is closed
            self.nr_conns -= 1
            fs.conn.close()


class OneWriteResponse(wsgi.Response):
    """gunicorn's answer, its head written with the first piece of its body: gunicorn
    writes them apart, two system calls (each handing the GIL to another thread) and two
    segments the client wakes up for, where a small answer needs one of each."""

    def __init__(self, req, sock, cfg):
        super().__init__(req, _HeadHeld(sock), cfg)

    def close(self) -> None:
        """gunicorn's, then the head if no body followed it (HEAD, 204, an empty body)."""
        super().close()
        self.sock.flush()


class _HeadHeld:
    """A connection's socket for one answer: the first write (the head) is held until the
    next, and both go out in one."""

    def __init__(self, sock: socket.socket):
        self._sock = sock
        self._head: bytes | None = None
        self._sent = False

    def sendall(self, data: bytes) -> None:
        if self._sent:
            self._sock.sendall(data)
        elif self._head is None:
            self._head = bytes(data)
        else:
            self._sent = True
            self._sock.sendall(self._head + data)

    def flush(self) -> None:
        if not self._sent and self._head is not None:
            self._sent = True
            self._sock.sendall(self._head)


_date: tuple[int, str] = (0, "")


def http_date(timestamp: float | None = None) -> str:
    """gunicorn's util.http_date, formatted once a second rather than for each answer (the
    email package takes 4 us a time)."""
    global _date
    if timestamp is not None:
        return email.utils.formatdate(timestamp, usegmt=True)
    second, text = _date
    now = int(time.time())
    if second != now:  # two threads may both format it: the same text
        text = email.utils.formatdate(now, usegmt=True)
        _date = (now, text)
    return text


def write_nginx_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """An error page as nginx (server_tokens off) sends it; gunicorn's detail, which names
    its parser, is left out as nginx leaves its own out."""
    title = f"{status_int} {reason}"
    body = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>{DEFAULT_SERVER}</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    head = (
        f"HTTP/1.1 {title}\r\nServer: {DEFAULT_SERVER}\r\nContent-Type: text/html\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    util.write_nonblock(sock, (head + body).encode("latin-1"))
