"""The law-enforcement request portal: login, the form, the answers and the audit log's pages.

Every page but the login needs a logged-in requester, who sees only its own requests
(the instructor's requester sees them all); every form carries the session's CSRF token.
"""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)

from .access import check_csrf, current_requester, log_in, log_out, login_required
from .pdf import answer_pdf

__all__ = ["bp"]

bp = Blueprint("le", __name__, url_prefix="/le")


def portal():
    """The app's Portal."""
    return current_app.extensions["exchange_portal"]


def visible_to() -> str | None:
    """Whose requests the logged-in requester may see: its own, or everyone's (None)."""
    requester = current_requester()
    assert requester is not None  # only asked behind the login
    return None if requester.role == "instructor" else requester.id


def stored_or_404(number: int) -> dict:
    """A logged request the requester may see, or a 404 (another's is not even confirmed)."""
    stored = portal().audit.get(number, visible_to())
    if stored is None:
        abort(404)
    return stored


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
    return render_template("exchanges/login.html", next=_next_path(), failed=False)


@bp.post("/login")
def login():
    """Check a login and password; a fresh session on success, the form again otherwise."""
    check_csrf()
    found = portal().access.check_password(
        request.form.get("login", ""), request.form.get("password", "")
    )
    if found is None:
        page = render_template("exchanges/login.html", next=_next_path(), failed=True)
        return page, 401
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
    return render_template("exchanges/request_form.html")


@bp.post("/request")
@login_required
def submit():
    """Answer a submitted form, log it, and show the answer (POST, then redirect, then GET)."""
    check_csrf()
    stored, _errors = portal().submit(request.form, current_requester())
    return redirect(url_for("le.show", number=stored["number"]), code=303)


@bp.get("/requests")
@login_required
def index():
    """The requests this requester made here (every request, for the instructor)."""
    return render_template("exchanges/requests.html", rows=portal().audit.list(visible_to()))


@bp.get("/requests/<int:number>")
@login_required
def show(number: int):
    """One request and its answer."""
    stored = stored_or_404(number)
    return render_template("exchanges/answer.html", req=stored["request"], ans=stored["answer"])


@bp.get("/requests/<int:number>.json")
@login_required
def download_json(number: int):
    """One request and its answer as a JSON file."""
    stored = stored_or_404(number)
    body = json.dumps(
        {"request": stored["request"], "answer": stored["answer"]}, indent=2, ensure_ascii=False
    )
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": _attachment(stored, "json")},
    )


@bp.get("/requests/<int:number>.pdf")
@login_required
def download_pdf(number: int):
    """One request and its answer as a PDF letter."""
    stored = stored_or_404(number)
    return Response(
        answer_pdf(stored),
        mimetype="application/pdf",
        headers={"Content-Disposition": _attachment(stored, "pdf")},
    )


def _attachment(stored: dict, ext: str) -> str:
    """A Content-Disposition naming the file after the exchange's reference."""
    return f'attachment; filename="{stored["answer"]["reference"]}.{ext}"'
