"""The DDoS-protection queue real markets put in front of everything (EndGame-style).

A first visit gets a "you are in the queue" page with a meta refresh and a signed cookie
holding the time it joined; once the wait is over, the same cookie lets it through for
a few hours. Static files and what Apache itself serves (the planted leaks) skip it.
"""

from __future__ import annotations

import secrets
import time

from flask import current_app, render_template, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "dcap"
PASS_HOURS = 6
EXEMPT = {
    "static",
    "branding.logo",
    "branding.favicon",
    "leaks.server_status",
    "leaks.uploads_index",
    "leaks.uploads_file",
    "leaks.icon",
}


def _serializer() -> URLSafeTimedSerializer:
    """The signer of queue cookies, keyed with the app's secret."""
    return URLSafeTimedSerializer(current_app.secret_key, salt="ddos-queue")


def queue_gate():
    """Before each request: let queued-long-enough visitors in, show everyone else the queue."""
    site = current_app.extensions["site"]
    if not site.ddos_queue or request.endpoint in EXEMPT:
        return None
    wait = int(current_app.config["DDOS_QUEUE_SECONDS"])
    if wait <= 0:
        return None
    now = time.time()
    joined = None
    token = request.cookies.get(COOKIE)
    if token:
        try:
            joined = float(_serializer().loads(token, max_age=PASS_HOURS * 3600)["t"])
        except (BadSignature, KeyError, TypeError, ValueError):
            joined = None
    if joined is not None and now - joined >= wait:
        return None
    new = joined is None
    if new:
        joined = now
        token = _serializer().dumps({"t": joined, "n": secrets.token_hex(4)})
    remaining = max(1, int(wait - (now - joined) + 0.999))
    body = render_template(
        "queue.html",
        remaining=remaining,
        position=1 + secrets.randbelow(40),
        target=request.full_path if request.query_string else request.path,
    )
    response = current_app.response_class(body, status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(remaining)
    response.headers["Cache-Control"] = "no-store"
    if new:
        response.set_cookie(
            COOKIE, token, max_age=PASS_HOURS * 3600, httponly=True, samesite="Lax", path="/"
        )
    return response
