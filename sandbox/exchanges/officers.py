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

from .access import check_csrf, current_requester, login_required, visible_to
from .le_app import add_login_routes
from .pdf import answer_pdf

__all__ = ["bp"]

bp = Blueprint("le", __name__, url_prefix="/le")
add_login_routes(bp)


def portal():
    """The app's Portal."""
    return current_app.extensions["exchange_portal"]


def stored_or_404(number: int) -> dict:
    """A logged request the requester may see, or a 404 (another's is not even confirmed)."""
    stored = portal().get(number, visible_to())
    if stored is None:
        abort(404)
    return stored


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
    return render_template("exchanges/requests.html", rows=portal().listing(visible_to()))


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
