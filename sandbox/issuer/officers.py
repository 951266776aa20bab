"""The issuer's law-enforcement portal: login, the request form, the answers.

Every page but the login needs a logged-in requester, who sees only its own requests (the
instructor's requester sees them all); every form carries the session's CSRF token. The
blueprint is named `le`, as the exchanges' is, so their login machinery works here.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from ..exchanges.access import check_csrf, current_requester, login_required, visible_to
from ..exchanges.le_app import add_login_routes

__all__ = ["bp"]

bp = Blueprint("le", __name__, url_prefix="/le")
add_login_routes(bp)


def portal():
    """The app's Portal."""
    return current_app.extensions["issuer_portal"]


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
    return render_template("issuer/requests.html", rows=portal().listing(visible_to()))


@bp.get("/requests/<int:number>")
@login_required
def show(number: int):
    """One request and its answer (404 for another requester's)."""
    stored = portal().get(number, visible_to())
    if stored is None:
        abort(404)
    return render_template("issuer/answer.html", req=stored["request"], ans=stored["answer"])
