"""Tor's check service, check.torproject.org, as the sandbox serves it through its gateway.

Tools that test their proxy first (a crawler fetching ``https://check.torproject.org/`` or
its ``/api/ip``) get Tor's answers: the "Congratulations. This browser is configured to
use Tor." page and ``{"IsTor": true, "IP": "<exit address>"}``. The name is routed only
by the gateway (``Routes(services=...)``), over plain HTTP and over TLS on 443 with a
certificate of the sandbox's own CA (``tls.py``); it is reached from nowhere else.
"""

from __future__ import annotations

import hashlib

from flask import Flask, Response, jsonify, render_template_string

from ..wsgi_server import DEFAULT_SERVER

__all__ = ["NAME", "create_app", "exit_address"]

NAME = "check.torproject.org"
# The real service runs Apache; a tool that fingerprints it sees the same.
_SERVER = "Apache"

_PAGE = """<!doctype html>
<html>
<head>
  <meta charset="utf-8">
  <title>Congratulations. This browser is configured to use Tor.</title>
  <style>
    body { font-family: sans-serif; background: #fff; color: #333; text-align: center; }
    .content { max-width: 760px; margin: 60px auto; }
    h1.on { color: #68b030; font-size: 26px; }
    .onion { font-size: 64px; color: #7d4698; }
  </style>
</head>
<body>
  <div class="content">
    <div class="onion">&#9679;</div>
    <h1 class="on">
      Congratulations. This browser is configured to use Tor.
    </h1>
    <p>Your IP address appears to be:  <strong>{{ ip }}</strong></p>
    <p class="security">
      However, it does not appear to be Tor Browser.<br>
      This is the training sandbox's gateway: it reaches the exercise world and nothing else.
    </p>
  </div>
</body>
</html>
"""


def exit_address(seed: str) -> str:
    """An exit relay's address for a run: one of a well-known exit operator's /24."""
    host = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:2], "big") % 250 + 2
    return f"185.220.101.{host}"


def create_app(ip: str) -> Flask:
    """The check service's app: its page and ``/api/ip``, saying the exit is ``ip``."""
    app = Flask(__name__)

    @app.route("/")
    def page() -> str:
        """The "Congratulations" page."""
        return render_template_string(_PAGE, ip=ip)

    @app.route("/api/ip")
    def api_ip() -> Response:
        """Tor's JSON answer, in its key order."""
        return jsonify({"IsTor": True, "IP": ip})

    app.json.sort_keys = False  # type: ignore[attr-defined]  # the default provider has it

    @app.after_request
    def banner(response: Response) -> Response:
        """The real service's server banner."""
        response.headers["Server"] = _SERVER if response.status_code < 500 else DEFAULT_SERVER
        return response

    return app
