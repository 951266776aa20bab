"""The issuer's law-enforcement portal: login, the request form, the answers.

Every page but the login needs a logged-in requester, who sees only its own requests (the
instructor's requester sees them all); every form carries the session's CSRF token. The
blueprint is named `le`, as the exchanges' is, so their login machinery works here.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from ..exchanges.access import check_csrf, current_requester, log_in, log_out, login_required

__all__ = ["bp"]

bp = Blueprint("le", __name__, url_prefix="/le")


def portal():
    """The app's Portal."""
    return current_app.extensions["issuer_portal"]


def visible_to() -> str | None:
    """Whose requests the logged-in requester may see: its own, or everyone's (None)."""
    requester = current_requester()
    assert requester is not None  # only asked behind the login
    return None if requester.role == "instructor" else requester.id


def _next_path() -> str:
    """Where to go after logging in: a path on this portal, the request log otherwise."""
    target = request.values.get("next", "")
    if target.startswith("/le/") and not target.startswith("//"):
        return target
    return url_for("le.index")


@bp.get("/login")
def login_form():
    """The portal's login form."""
    if current_requester() is not None:
        return redirect(_next_path())
    return render_template("issuer/login.html", next=_next_path(), failed=False)


@bp.post("/login")
def login():
    """Check a login and password; a fresh session on success, the form again otherwise."""
    check_csrf()
    found = portal().access.check_password(
        request.form.get("login", ""), request.form.get("password", "")
    )
    if found is None:
        return render_template("issuer/login.html", next=_next_path(), failed=True), 401
    log_in(found)
    return redirect(_next_path(), code=303)


@bp.post("/logout")
def logout():
    """End the session here and on the server."""
    check_csrf()
    log_out()
    return redirect(url_for("le.login_form"), code=303)


@bp.get("/request")
@login_required
def form():
    """The request form, the requester's agency filled in."""
    return render_template("issuer/request_form.html", errors=[], values={})


@bp.post("/request")
@login_required
def submit():
    """Answer a submitted form and show the answer; the form with its errors (400) when
    it is incomplete (nothing kept then)."""
    check_csrf()
    stored, errors = portal().submit(request.form, current_requester())
    if stored is None:
        values = {k: request.form.getlist(k) for k in request.form}
        page = render_template("issuer/request_form.html", errors=errors, values=values)
        return page, 400
    return redirect(url_for("le.show", number=stored["number"]), code=303)


@bp.get("/requests")
@login_required
def index():
    """The requests this requester made (every request, for the instructor)."""
    portal().run_due()
    return render_template("issuer/requests.html", rows=portal().log.listing(visible_to()))


@bp.get("/requests/<int:number>")
@login_required
def show(number: int):
    """One request and its answer (404 for another requester's)."""
    portal().run_due()
    stored = portal().log.get(number, visible_to())
    if stored is None:
        abort(404)
    return render_template("issuer/answer.html", req=stored["request"], ans=stored["answer"])
