"""The JSON API of a law-enforcement portal (the exchanges' and the issuer's): submit a
request, read one back, list them.

Every call needs the requester's token (`Authorization: Bearer <token>`); a requester
reads and lists only its own requests, the instructor's requester every request. The
app's portal (le_app.py) answers `submit`, `get` and `listing`.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request, url_for

from .access import token_required, visible_to

__all__ = ["bp"]

bp = Blueprint("api", __name__, url_prefix="/api/le")


def portal():
    """The app's portal."""
    return current_app.extensions["exchange_portal"]


def _body(stored: dict) -> dict:
    """A stored request as the API returns it."""
    number = stored["number"]
    links = {
        "self": url_for("api.get_request", number=number),
        "html": url_for("le.show", number=number),
    }
    if "le.download_json" in current_app.view_functions:  # the exchanges' letters
        links["json"] = url_for("le.download_json", number=number)
        links["pdf"] = url_for("le.download_pdf", number=number)
    return {
        "id": number,
        "reference": stored["answer"]["reference"],
        "status": stored["answer"]["status"],
        "reason": stored["answer"]["reason"],
        "request": stored["request"],
        "answer": stored["answer"],
        "links": links,
    }


@bp.post("/requests")
@token_required
def create_request():
    """Submit a request: 201 with the answer, or 400 with the field errors (with the logged
    refusal where the portal logs refusals)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        error = {"field": "body", "message": "Send a JSON object with the request's fields."}
        return jsonify({"errors": [error]}), 400
    stored, errors = portal().submit(data, g.requester)
    if stored is None:
        return jsonify({"errors": errors}), 400
    body = _body(stored)
    if errors:
        return jsonify({"errors": errors, **body}), 400
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = body["links"]["self"]
    return response


@bp.get("/requests/<int:number>")
@token_required
def get_request(number: int):
    """One request of the caller and its answer (404 for another's)."""
    stored = portal().get(number, visible_to())
    if stored is None:
        return jsonify({"error": f"no request {number}"}), 404
    return jsonify(_body(stored))


@bp.get("/requests")
@token_required
def list_requests():
    """The caller's requests (all, for the instructor), newest first, no answers."""
    return jsonify({"requests": portal().listing(visible_to())})
