"""The JSON API for tools: submit a request, read one back, list them."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for

__all__ = ["bp"]

bp = Blueprint("api", __name__, url_prefix="/api/le")


def portal():
    """The app's Portal."""
    return current_app.extensions["exchange_portal"]


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
def create_request():
    """Submit a request: 201 with the answer, or 400 with the field errors (also logged)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        error = {"field": "body", "message": "Send a JSON object with the request's fields."}
        return jsonify({"errors": [error]}), 400
    stored, errors = portal().submit(data)
    body = _body(stored)
    if errors:
        return jsonify({"errors": errors, **body}), 400
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = body["links"]["self"]
    return response


@bp.get("/requests/<int:number>")
def get_request(number: int):
    """One logged request and its answer."""
    stored = portal().audit.get(number)
    if stored is None:
        return jsonify({"error": f"no request {number}"}), 404
    return jsonify(_body(stored))


@bp.get("/requests")
def list_requests():
    """Every logged request of this exchange, newest first, without the answers."""
    return jsonify({"requests": portal().audit.list()})
