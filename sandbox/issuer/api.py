"""The JSON API for tools: submit a request, read one back, list them.

The same shape as the exchanges' (sandbox/exchanges/api.py): `Authorization: Bearer
<token>`; a requester reads and lists only its own requests, the instructor every one.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request, url_for

from ..exchanges.access import token_required

__all__ = ["bp"]

bp = Blueprint("api", __name__, url_prefix="/api/le")


def portal():
    """The app's Portal."""
    return current_app.extensions["issuer_portal"]


def visible_to() -> str | None:
    """Whose requests the caller may see: its own, or everyone's (None) for the instructor."""
    return None if g.requester.role == "instructor" else g.requester.id


def _body(stored: dict) -> dict:
    """A stored request as the API returns it."""
    number = stored["number"]
    return {
        "id": number,
        "reference": stored["answer"]["reference"],
        "status": stored["answer"]["status"],
        "reason": stored["answer"]["reason"],
        "request": stored["request"],
        "answer": stored["answer"],
        "links": {
            "self": url_for("api.get_request", number=number),
            "html": url_for("le.show", number=number),
        },
    }


@bp.post("/requests")
@token_required
def create_request():
    """Submit a request: 201 with the answer, or 400 with the field errors (nothing kept)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        error = {"field": "body", "message": "Send a JSON object with the request's fields."}
        return jsonify({"errors": [error]}), 400
    stored, errors = portal().submit(data, g.requester)
    if stored is None:
        return jsonify({"errors": errors}), 400
    body = _body(stored)
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = body["links"]["self"]
    return response


@bp.get("/requests/<int:number>")
@token_required
def get_request(number: int):
    """One request of the caller and its answer (404 for another's)."""
    portal().run_due()
    stored = portal().log.get(number, visible_to())
    if stored is None:
        return jsonify({"error": f"no request {number}"}), 404
    return jsonify(_body(stored))


@bp.get("/requests")
@token_required
def list_requests():
    """The caller's requests (all, for the instructor), newest first, no answers."""
    portal().run_due()
    return jsonify({"requests": portal().log.listing(visible_to())})
