"""Registration, login and logout of trainees (markets and forums), with the CAPTCHA when on."""

from __future__ import annotations

import functools

from flask import (
    Blueprint,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from . import captcha
from .helpers import HANDLE, clean_text
from .state import HandleTaken

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """A local path to go to after logging in (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for(current_app.config["HOME_ENDPOINT"])
    return target


def login_required(view):
    """Send visitors who are not logged in to the login page first."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        """Check the session, then run the view."""
        if g.user is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def load_user() -> None:
    """Before each request: the logged-in trainee (or None) as g.user."""
    state = current_app.extensions["state"]
    uid = session.get("uid")
    g.user = state.user(current_app.extensions["site"].id, uid) if isinstance(uid, int) else None


def start_session(uid: int) -> None:
    """Log uid in under a new session id (the old one is dropped: no session fixation)."""
    old = session.sid
    session.clear()
    if old:
        current_app.extensions["state"].delete_session(current_app.extensions["site"].id, old)
    session.sid = None
    session["uid"] = uid


def _form(template: str, error: str | None = None, status: int = 200, **values):
    """Render a login or registration form with a fresh CAPTCHA when the site uses one."""
    site = current_app.extensions["site"]
    challenge = captcha.new_challenge() if site.captcha else None
    body = render_template(
        template, error=error, challenge=challenge, next=request.values.get("next", ""), **values
    )
    return body, status


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Open a trainee account on this site."""
    site = current_app.extensions["site"]
    world = current_app.extensions["world"]
    state = current_app.extensions["state"]
    if request.method == "GET":
        return _form("auth/register.html")
    handle = clean_text(request.form.get("handle"), "Username", max_len=64)
    password = clean_text(request.form.get("password"), "Password", max_len=256)
    confirm = clean_text(request.form.get("confirm"), "Password confirmation", max_len=256)
    if site.captcha and not captcha.check_answer():
        return _form("auth/register.html", "Wrong CAPTCHA, try again.", 400, handle=handle)
    if not HANDLE.match(handle):
        error = "Usernames are 3-24 letters, digits, '_' or '-'."
        return _form("auth/register.html", error, 400, handle=handle)
    if len(password) < 8:
        return _form(
            "auth/register.html", "Passwords need 8 characters or more.", 400, handle=handle
        )
    if password != confirm:
        return _form("auth/register.html", "The passwords do not match.", 400, handle=handle)
    if world.accounts.handle_taken(site.id, handle) or handle.lower() in ("support", "admin"):
        return _form("auth/register.html", "That username is taken.", 400, handle=handle)
    try:
        uid = state.create_user(site.id, handle, password, current_app.extensions["clock"]())
    except HandleTaken:
        return _form("auth/register.html", "That username is taken.", 400, handle=handle)
    start_session(uid)
    session["flash"] = f"Welcome, {handle}. Your account is ready."
    return redirect(safe_next(request.form.get("next")))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log a trainee in."""
    site = current_app.extensions["site"]
    state = current_app.extensions["state"]
    if request.method == "GET":
        return _form("auth/login.html")
    handle = clean_text(request.form.get("handle"), "Username", max_len=64)
    password = clean_text(request.form.get("password"), "Password", max_len=256)
    if site.captcha and not captcha.check_answer():
        return _form("auth/login.html", "Wrong CAPTCHA, try again.", 400, handle=handle)
    user = state.check_login(site.id, handle, password)
    if user is None:
        return _form("auth/login.html", "Wrong username or password.", 200, handle=handle)
    start_session(user["id"])
    return redirect(safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out (POST, with the CSRF token)."""
    session.clear()
    return redirect(url_for(current_app.config["HOME_ENDPOINT"]))
