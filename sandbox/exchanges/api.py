"""The JSON API for tools: submit a request, read one back, list them.

Every call needs the requester's token (`Authorization: Bearer <token>`); a requester
reads and lists only its own requests, the instructor's requester every request.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request, url_for

from .access import token_required

__all__ = ["bp"]

bp = Blueprint("api", __name__, url_prefix="/api/le")


def portal():
    """The app's Portal."""
    return current_app.extensions["exchange_portal"]


def visible_to() -> str | None:
    """Whose requests the caller may see: its own, or everyone's (None) for the instructor."""
    return None if g.requester.role == "instructor" else g.requester.id


def _body(stored: dict) -> dict:
    """A logged request as the API returns it."""
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
            "json": url_for("le.download_json", number=number),
            "pdf": url_for("le.download_pdf", number=number),
        },
    }


@bp.post("/requests")
@token_required
def create_request():
    """Submit a request: 201 with the answer, or 400 with the field errors (also logged)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        error = {"field": "body", "message": "Send a JSON object with the request's fields."}
        return jsonify({"errors": [error]}), 400
    stored, errors = portal().submit(data, g.requester)
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
    """One logged request of the caller and its answer (404 for another's)."""
    stored = portal().audit.get(number, visible_to())
    if stored is None:
        return jsonify({"error": f"no request {number}"}), 404
    return jsonify(_body(stored))


@bp.get("/requests")
@token_required
def list_requests():
    """The caller's logged requests (all, for the instructor), newest first, no answers."""
    return jsonify({"requests": portal().audit.list(visible_to())})
