"""The law-enforcement request portal: the form, the answers and the audit log's pages."""

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

from .pdf import answer_pdf

__all__ = ["bp"]

bp = Blueprint("le", __name__, url_prefix="/le")


def portal():
    """The app's Portal."""
    return current_app.extensions["exchange_portal"]


def stored_or_404(number: int) -> dict:
    """A logged request, or a 404."""
    stored = portal().audit.get(number)
    if stored is None:
        abort(404)
    return stored


@bp.get("/request")
def form():
    """The request form."""
    return render_template("exchanges/request_form.html")


@bp.post("/request")
def submit():
    """Answer a submitted form, log it, and show the answer (POST, then redirect, then GET)."""
    stored, _errors = portal().submit(request.form)
    return redirect(url_for("le.show", number=stored["number"]), code=303)


@bp.get("/requests")
def index():
    """Every request this exchange received, newest first."""
    return render_template("exchanges/requests.html", rows=portal().audit.list())


@bp.get("/requests/<int:number>")
def show(number: int):
    """One request and its answer."""
    stored = stored_or_404(number)
    return render_template("exchanges/answer.html", req=stored["request"], ans=stored["answer"])


@bp.get("/requests/<int:number>.json")
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
