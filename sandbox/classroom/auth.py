"""Who is asking: the trainee's seat, the instructor's login, and CSRF tokens.

Both roles live in Flask's session cookie, signed with a per-state secret, so a forged
or tampered cookie is simply an empty session. A trainee's cookie carries the seat and
the token of their join, which classroom.db holds until a rejoin, leave or release
replaces it. The instructor's carries a MAC of the password (a new password, a new
`sandbox up`, logs every old cookie out) and a session id that logging out deletes, so
a copied cookie is worthless once its owner has left.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from pathlib import Path

from flask import abort, current_app, g, jsonify, redirect, request, session, url_for

from ..keyfile import load_key

__all__ = [
    "client",
    "csrf_token",
    "current_seat",
    "instructor_mac",
    "instructor_required",
    "is_instructor",
    "load_secret",
    "password_ok",
    "trainee_required",
]

SECRET_FILE = "classroom.secret"


def load_secret(state_dir: Path) -> bytes:
    """The state's cookie-signing secret, created (readable by its owner only) on first use."""
    return load_key(Path(state_dir) / SECRET_FILE)


def instructor_mac(secret: bytes, password: str) -> str:
    """What an instructor's cookie carries: a MAC of the password, never the password."""
    return hmac.new(secret, b"instructor:" + password.encode(), hashlib.sha256).hexdigest()


def password_ok(given: str) -> bool:
    """Whether a typed password is the instructor's, compared in constant time."""
    expected = current_app.extensions["classroom"].password.encode()
    return hmac.compare_digest(given.encode(), expected)


def csrf_token() -> str:
    """This session's CSRF token (created on first use), for every form and script."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def check_csrf() -> None:
    """Refuse a POST whose form field or X-CSRF-Token header is not the session's token."""
    sent = request.form.get("csrf") or request.headers.get("X-CSRF-Token") or ""
    token = session.get("csrf") or ""
    if not token or not hmac.compare_digest(sent.encode(), token.encode()):
        abort(400, "The form expired or did not come from this page: reload it and try again.")


def current_seat():
    """The trainee's Seat, or None when the cookie names no current join."""
    if "seat_obj" in g:
        return g.seat_obj
    classroom = current_app.extensions["classroom"]
    seat = None
    n, token = session.get("seat"), session.get("tok")
    if isinstance(n, int) and isinstance(token, str):
        current = classroom.progress.token(n)
        if current is not None and hmac.compare_digest(current, token):
            seat = classroom.course.seats.get(n)
    g.seat_obj = seat
    return seat


def is_instructor() -> bool:
    """Whether the cookie carries the current password's MAC and an open instructor session."""
    if "is_instructor" in g:
        return g.is_instructor
    classroom = current_app.extensions["classroom"]
    mac, sid = session.get("inst"), session.get("isid")
    g.is_instructor = (
        isinstance(mac, str)
        and isinstance(sid, str)
        and hmac.compare_digest(mac, classroom.instructor_mac)
        and classroom.progress.instructor_session(sid)
    )
    return g.is_instructor


def client() -> str:
    """Who is asking, for throttling: the remote address."""
    return request.remote_addr or "-"


def trainee_required(view):
    """A view only a seated trainee sees; others are sent to the join page."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        """Redirect to the join form unless a trainee is seated."""
        if current_seat() is None:
            if request.method == "GET":
                return redirect(url_for("trainee.join_form"))
            abort(403, "Join with your seat code first.")
        return view(*args, **kwargs)

    return wrapped


def instructor_required(view):
    """A view only the logged-in instructor sees: 403 for a trainee, the login form otherwise."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        """Refuse anyone but the instructor."""
        if is_instructor():
            return view(*args, **kwargs)
        wants_json = request.path.endswith(".json") or request.accept_mimetypes.best == (
            "application/json"
        )
        if current_seat() is not None:
            if wants_json:
                return jsonify(error="instructor only"), 403
            abort(403, "This page is for the instructor only.")
        if wants_json or request.method != "GET":
            return jsonify(error="log in as the instructor first"), 403
        return redirect(url_for("instructor.login_form", next=request.full_path))

    return wrapped
