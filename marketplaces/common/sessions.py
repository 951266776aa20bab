"""Server-side sessions kept in the state file, and the CSRF token every POST form carries."""

from __future__ import annotations

import hmac
import re
import secrets

from flask import Flask, abort, current_app, request, session
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from .state import StateStore

_SID = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


class StateSession(CallbackDict, SessionMixin):
    """A session dict whose only cookie is a random id; the data stays in the state file."""

    def __init__(self, initial=None, sid: str | None = None):
        """Wrap the stored data; any change marks the session modified."""

        def on_update(_self):
            """Remember that the session must be written back."""
            _self.modified = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.new = sid is None
        self.modified = False


class StateSessionInterface(SessionInterface):
    """Flask's session API backed by the `sessions` table of the state store."""

    def __init__(self, state: StateStore, site_id: str):
        """Sessions of one site in one state store."""
        self.state = state
        self.site_id = site_id

    def open_session(self, app: Flask, request) -> StateSession:
        """The stored session named by the cookie, or a new empty one."""
        sid = request.cookies.get(self.get_cookie_name(app))
        if sid and _SID.match(sid):
            data = self.state.load_session(self.site_id, sid)
            if data is not None:
                return StateSession(data, sid)
        return StateSession()

    def save_session(self, app: Flask, session: StateSession, response) -> None:
        """Write a changed session back and (re)send its cookie."""
        name = self.get_cookie_name(app)
        if not session.modified:
            return
        if not session:
            if session.sid:
                self.state.delete_session(self.site_id, session.sid)
                response.delete_cookie(name, path="/")
            return
        if session.sid is None:
            session.sid = secrets.token_urlsafe(32)
        self.state.save_session(self.site_id, session.sid, dict(session))
        response.set_cookie(
            name,
            session.sid,
            max_age=30 * 86_400,
            path="/",
            httponly=True,
            samesite="Lax",
        )
        response.vary.add("Cookie")


def session_id() -> str:
    """The current visitor's session id, creating the session if there is none yet."""
    if session.sid is None:
        session.sid = secrets.token_urlsafe(32)
    session.setdefault("seen", True)
    session.modified = True
    return session.sid


def csrf_token() -> str:
    """The session's CSRF token for forms (made on first use)."""
    token = session.get("csrf")
    if not token:
        session_id()
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def check_csrf() -> None:
    """Refuse a POST whose form does not carry the session's CSRF token (400)."""
    if request.method != "POST" or request.routing_exception is not None:
        return  # not a form post, or not a route at all (404/405 come first)
    if request.endpoint in current_app.config.get("CSRF_EXEMPT", ()):
        return  # a JSON call of a tool, with no cookie (the view authenticates it if needed)
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, "The form expired or was not sent from this site. Reload the page and retry.")
