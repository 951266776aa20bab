"""Fixed answers: Tor's reply to HTTP on its SOCKS port, and the HTTP proxy's error pages."""

from __future__ import annotations

import html

# Tor's answer (proto_socks.c, SOCKS_PROXY_IS_NOT_AN_HTTP_PROXY_MSG), word for word but
# for its closing link to torproject.org: the classroom has no internet, so the page
# names the sandbox's own instructions instead. Tor sends strlen(reply) + 1 bytes, so
# the terminating NUL goes out on the wire too.
TOR_NOT_AN_HTTP_PROXY = (
    b"HTTP/1.0 501 Tor is not an HTTP Proxy\r\n"
    b"Content-Type: text/html; charset=iso-8859-1\r\n\r\n"
    b"<html>\n"
    b"<head>\n"
    b"<title>This is a SOCKS Proxy, Not An HTTP Proxy</title>\n"
    b"</head>\n"
    b"<body>\n"
    b"<h1>This is a SOCKs proxy, not an HTTP proxy.</h1>\n"
    b"<p>\n"
    b"It appears you have configured your web browser to use this Tor port as\n"
    b"an HTTP proxy.\n"
    b"</p><p>\n"
    b"This is not correct: This port is configured as a SOCKS proxy, not\n"
    b"an HTTP proxy. If you need an HTTP proxy tunnel, use the HTTPTunnelPort\n"
    b"configuration option in place of, or in addition to, SOCKSPort.\n"
    b"Please configure your client accordingly.\n"
    b"</p>\n"
    b"<p>\n"
    b"See the proxy settings that `sandbox up` printed for more information.\n"
    b"</p>\n"
    b"</body>\n"
    b"</html>\n"
    b"\0"
)

# Privoxy's status lines for the same situations (cgi.c error_response, jcc.c CSUCCEED).
CONNECT_ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
STATUS = {
    400: "400 Invalid header received from client",
    403: "403 Request blocked by the sandbox gateway",
    502: "502 No data received from server or forwarder",
    503: "503 Forwarding failure",
    504: "504 Connection timeout",
}


def error_response(status: int, title: str, message: str, *, close: bool = True) -> bytes:
    """Return a complete HTTP/1.1 error response with a small explanatory HTML page."""
    line = STATUS[status]
    body = (
        '<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8">'
        f"<title>{html.escape(line)} (sandbox gateway)</title></head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n<p>{html.escape(message)}</p>\n"
        "<p>This proxy is the training sandbox's gateway. It reaches the onion services"
        " and <code>.test</code> sites of the exercise world, and nothing else.</p>\n"
        "</body>\n</html>\n"
    ).encode()
    head = (
        f"HTTP/1.1 {line}\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Cache-Control: no-cache\r\n"
        f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n"
    ).encode()
    return head + body
