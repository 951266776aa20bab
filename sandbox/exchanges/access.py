"""Who is asking a portal: requester logins, server-side sessions, API tokens and CSRF.

The requesters come from the world (see sandbox/world/requesters.py). A web login opens a
session: a row in `<state_dir>/exchanges.db` whose random id the signed Flask cookie
carries, so logging out deletes the row and a copied cookie is worth nothing. The row also
keeps a fingerprint of the requester's credentials, so a rebuilt world (new credentials)
logs every old session out. The JSON API takes the requester's token as a Bearer token.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from pathlib import Path

from flask import abort, current_app, g, jsonify, redirect, request, session, url_for

from ..i18n import Message
from ..wal import connect_wal
from ..world.requesters import Requester, read_requesters
from ..world.store import open_world

__all__ = [
    "Access",
    "check_csrf",
    "csrf_token",
    "current_requester",
    "login_required",
    "token_required",
    "visible_to",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS le_sessions (
    id TEXT PRIMARY KEY,          -- random, carried by the signed cookie
    exchange_id TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,    -- of the credentials it logged in with
    created REAL NOT NULL         -- wall-clock time
);
"""


def _fingerprint(r: Requester) -> str:
    """A digest of a requester's credentials (never the credentials themselves)."""
    return hashlib.sha256(f"{r.id}\0{r.login}\0{r.password}\0{r.token}".encode()).hexdigest()


class Access:
    """One exchange's requesters and web sessions."""

    def __init__(self, world_path: Path, exchange_id: str, db_path: Path):
        """Read the requesters of the world; create the sessions table if needed."""
        conn = open_world(world_path)
        try:
            self.requesters = {r.id: r for r in read_requesters(conn)}
        finally:
            conn.close()
        self.exchange_id = exchange_id
        self.db_path = db_path
        db = connect_wal(db_path, isolation_level=None)
        try:
            db.executescript(SCHEMA)
        finally:
            db.close()

    def check_password(self, login: str, password: str) -> Requester | None:
        """The requester whose login and password these are, or None."""
        found = next((r for r in self.requesters.values() if r.login == login.strip()), None)
        expected = found.password if found else secrets.token_urlsafe(16)  # same time either way
        ok = hmac.compare_digest(password.encode(), expected.encode())
        return found if ok and found else None

    def by_token(self, token: str) -> Requester | None:
        """The requester whose API token this is, or None."""
        for r in self.requesters.values():
            if hmac.compare_digest(token.encode(), r.token.encode()):
                return r
        return None

    def open_session(self, requester: Requester) -> str:
        """A new session id for a requester who just logged in."""
        sid = secrets.token_urlsafe(32)
        self._execute(
            "INSERT INTO le_sessions VALUES (?, ?, ?, ?, ?)",
            (sid, self.exchange_id, requester.id, _fingerprint(requester), time.time()),
        )
        return sid

    def session_requester(self, sid: str) -> Requester | None:
        """The requester of a live session of this exchange, or None."""
        row = self._execute(
            "SELECT requester_id, fingerprint FROM le_sessions WHERE id = ? AND exchange_id = ?",
            (sid, self.exchange_id),
        )
        if row is None:
            return None
        requester = self.requesters.get(row[0])
        if requester is None or not hmac.compare_digest(row[1], _fingerprint(requester)):
            return None
        return requester

    def close_session(self, sid: str) -> None:
        """Revoke a session: its cookie no longer logs anyone in."""
        self._execute("DELETE FROM le_sessions WHERE id = ?", (sid,))

    def _execute(self, sql: str, args: tuple):
        """Run one statement on the state file; its first row, if any."""
        db = connect_wal(self.db_path, isolation_level=None)
        try:
            return db.execute(sql, args).fetchone()
        finally:
            db.close()


def _access() -> Access:
    """The app's Access."""
    return current_app.extensions["exchange_portal"].access


def current_requester() -> Requester | None:
    """Who is logged in to the web pages (or authenticated the API call), or None."""
    if "requester" not in g:
        sid = session.get("sid")
        g.requester = _access().session_requester(sid) if isinstance(sid, str) else None
    return g.requester


def visible_to() -> str | None:
    """Whose requests the caller may see: its own, or everyone's (None) for the instructor
    (asked only behind login_required or token_required)."""
    requester = current_requester()
    assert requester is not None
    return None if requester.role == "instructor" else requester.id


def log_in(requester: Requester) -> None:
    """Start a fresh session (a new id and CSRF token: nothing carries over from before)."""
    session.clear()
    session["sid"] = _access().open_session(requester)
    session["csrf"] = secrets.token_urlsafe(24)
    g.requester = requester


def log_out() -> None:
    """Revoke the session server-side and clear the cookie."""
    sid = session.get("sid")
    if isinstance(sid, str):
        _access().close_session(sid)
    session.clear()
    g.requester = None


def csrf_token() -> str:
    """This browser session's CSRF token (created on first use), for every form."""
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def check_csrf() -> None:
    """Refuse (400) a form whose csrf field is not the session's token."""
    sent = request.form.get("csrf") or ""
    token = session.get("csrf") or ""
    if (
        not isinstance(token, str)
        or not token
        or not hmac.compare_digest(sent.encode(), token.encode())
    ):
        abort(
            400,
            Message("The form expired or did not come from this portal: reload it and try again."),
        )


def login_required(view):
    """A page only a logged-in requester sees; others go to the login form."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        """Send anyone not logged in to the login page."""
        if current_requester() is None:
            if request.method == "GET":
                return redirect(url_for("le.login_form", next=request.full_path.rstrip("?")))
            abort(403, Message("Log in to the law-enforcement portal first."))
        return view(*args, **kwargs)

    return wrapped


def token_required(view):
    """An API call that needs `Authorization: Bearer <token>`; 401 without a valid one."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        """Refuse a call without the requester's token."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        requester = None
        if scheme.lower() == "bearer" and token.strip():
            requester = _access().by_token(token.strip())
        if requester is None:
            message = (
                "the API token was not accepted"
                if token.strip()
                else "send your requester token: Authorization: Bearer <token>"
            )
            response = jsonify({"error": message})
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer realm="law-enforcement portal"'
            return response
        g.requester = requester
        return view(*args, **kwargs)

    return wrapped
