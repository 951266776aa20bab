"""The swap service's law-enforcement portal: which order a deposit or payout belongs to.

The JSON API has the exchanges' shape (`POST /api/le/requests`, `GET /api/le/requests`,
`GET /api/le/requests/<n>`, the world's requesters' Bearer tokens); a small web form
takes the same fields and the token. A request names a subject (a deposit or payout
address or txid on either chain) and asks for `orders`; with legal process (court order,
subpoena, MLAT) the answer lists every order of the service that subject belongs to: the
story's, from the world, and the ones visitors made on the site (their txids unknown: no
one watches the live deposits). Malformed requests are refused with field errors and not
logged; the log (the site's state) shows each requester only its own requests.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from flask import Blueprint, current_app, jsonify, render_template, request, url_for

from sandbox.exchanges.policy import (
    COMPULSORY,
    LEGAL_BASES,
    REQUESTER_FIELDS,
    TRON_HEX,
    TXID,
    check_requester,
    requested_items,
    subject_kind,
)
from sandbox.ledger.codec.amounts import format_btc
from sandbox.tron import address as tron_address
from sandbox.world.requesters import Requester, read_requesters

bp = Blueprint("le", __name__)

ASKS = {"orders": "Swap orders: both legs, with addresses, txids and amounts"}
FIELDS = {
    **REQUESTER_FIELDS,
    "subject": "Subject (deposit or payout address or txid, Bitcoin or Tron)",
    "requested": "Information requested",
    "details": "Details / justification",
}
MAX_LENGTH = 2000
TRON_UNIT = 1_000_000


def _text(data: Mapping, name: str) -> str:
    """A form or JSON value as stripped text ("" when absent or not a string)."""
    value = data.get(name)
    if value is None or isinstance(value, list | dict):
        return ""
    return str(value).strip()[:MAX_LENGTH]


def clean_request(data: Mapping) -> tuple[dict, list[dict]]:
    """The request as submitted (normalised) and its field errors, [] when complete."""
    req: dict = {name: _text(data, name) for name in FIELDS if name != "requested"}
    asks = req["requested"] = requested_items(data)
    errors: list[dict] = []

    def error(name: str, message: str) -> None:
        errors.append({"field": name, "message": message})

    check_requester(req, FIELDS, error)
    subject = req["subject"]
    if subject:
        if TXID.match(subject) or subject.upper().startswith("BC1"):
            req["subject"] = subject = subject.lower()
        elif TRON_HEX.match(subject):
            req["subject"] = subject = tron_address.to_base58(subject)
        if subject_kind(subject) is None:
            error(
                "subject",
                "Subject is neither a valid Bitcoin or Tron address nor a transaction id "
                "(64 hexadecimal characters).",
            )
    if not asks:
        error("requested", "Ask for at least one item: orders.")
    elif unknown := [a for a in asks if a not in ASKS]:
        error("requested", f"Unknown item(s) {', '.join(unknown)}; one of: {', '.join(ASKS)}.")
    return req, errors


def _amount(asset: str, units: int | None) -> float | None:
    """An amount in its asset (BTC to 8 decimals, USDT to 6)."""
    if units is None:
        return None
    if asset == "BTC":
        return float(format_btc(units))
    return round(units / TRON_UNIT, 6)


def _world_order(row: dict) -> dict:
    """A story order of the world as the portal discloses it."""
    return {
        "order_id": row["order_id"],
        "created": row["created"],
        "from": {
            "chain": row["deposit_chain"],
            "asset": row["deposit_asset"],
            "address": row["deposit_address"],
            "txid": row["deposit_txid"],
            "amount": _amount(row["deposit_asset"], row["deposit_amount"]),
        },
        "to": {
            "chain": row["payout_chain"],
            "asset": row["payout_asset"],
            "address": row["payout_address"],
            "txid": row["payout_txid"],
            "amount": _amount(row["payout_asset"], row["payout_amount"]),
        },
        "rate": row["rate"],
    }


def _live_order(row: dict) -> dict:
    """An order a visitor made on the site, with the deposit and payout its watcher saw and
    made (marketplaces/swap/watcher.py; None while awaiting the deposit)."""
    return _world_order(row)


def answer(req: dict, reference: str) -> dict:
    """The service's answer to a clean request."""
    if req["legal_basis"] not in COMPULSORY:
        return {
            "reference": reference,
            "status": "refused",
            "reason": (
                f"Order records require legal process: a court order / production order, a "
                f"subpoena or an MLAT request; a {LEGAL_BASES[req['legal_basis']].lower()} "
                "is not sufficient."
            ),
            "orders": [],
        }
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    state = current_app.extensions["state"]
    subject = req["subject"]
    orders = [_world_order(r) for r in world.swap_orders.about(site.operator_id or "", subject)]
    orders += [_live_order(r) for r in state.swap_orders_about(site.id, subject)]
    found = len(orders)
    return {
        "reference": reference,
        "status": "answered",
        "reason": "" if found else f"No order of ours involves {subject}.",
        "orders": orders,
    }


def _requesters() -> dict[str, Requester]:
    """The world's requesters, read once per app."""
    ext = current_app.extensions
    if "swap_requesters" not in ext:
        ext["swap_requesters"] = {r.id: r for r in read_requesters(ext["world"].db.conn())}
    return ext["swap_requesters"]


def _by_token(token: str) -> Requester | None:
    """The requester whose API token this is, or None."""
    found = None
    for r in _requesters().values():
        if token and hmac.compare_digest(token.encode(), r.token.encode()):
            found = r
    return found


def _bearer() -> Requester | None:
    """The requester of the call's `Authorization: Bearer` token, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return _by_token(token.strip()) if scheme.lower() == "bearer" else None


def _unauthorised():
    """401 for a call without a valid token."""
    response = jsonify({"error": "send your requester token: Authorization: Bearer <token>"})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="law-enforcement portal"'
    return response


def submit(data: Mapping, requester: Requester) -> tuple[dict | None, list[dict]]:
    """Log a request with its answer: (its stored body, []), or (None, errors), not logged.

    Agency, officer and email the request leaves out are the requester's own."""
    own = {
        "agency": requester.agency,
        "officer_name": requester.officer_name,
        "officer_email": requester.officer_email,
    }
    given = {k: v for k, v in own.items() if not _text(data, k)}
    req, errors = clean_request(_Merged(data, given))
    if errors:
        return None, errors
    site = current_app.extensions["site"]
    state = current_app.extensions["state"]
    now = current_app.extensions["clock"]()
    number, reply = state.log_swap_request(
        site.id, requester.id, now, req, lambda n: answer(req, f"{site.id.upper()}-LE-{n:05d}")
    )
    return _body({"number": number, "request": req, "answer": reply}), []


class _Merged(Mapping):
    """A request's fields with defaults for the ones it leaves out (a form keeps getlist)."""

    def __init__(self, data: Mapping, defaults: dict):
        self.data, self.defaults = data, defaults

    def __getitem__(self, key):
        return self.defaults[key] if key in self.defaults else self.data[key]

    def __iter__(self):
        return iter({**dict.fromkeys(self.data), **self.defaults})

    def __len__(self) -> int:
        return len({**dict.fromkeys(self.data), **self.defaults})

    def getlist(self, key: str) -> list:
        """Every value of a field (a form's checkboxes; a JSON list as it is)."""
        getlist = getattr(self.data, "getlist", None)
        if getlist is not None:
            return getlist(key)
        value = self.data.get(key)
        return value if isinstance(value, list) else [] if value is None else [value]


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
        "links": {"self": url_for("le.api_get_request", number=number)},
    }


def _visible_to(requester: Requester) -> str | None:
    """Whose requests the caller may see: its own, or everyone's (None) for the instructor."""
    return None if requester.role == "instructor" else requester.id


@bp.post("/api/le/requests")
def api_create_request():
    """Submit a request: 201 with the answer, or 400 with the field errors (not logged)."""
    requester = _bearer()
    if requester is None:
        return _unauthorised()
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        error = {"field": "body", "message": "Send a JSON object with the request's fields."}
        return jsonify({"errors": [error]}), 400
    body, errors = submit(data, requester)
    if body is None:
        return jsonify({"errors": errors}), 400
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = body["links"]["self"]
    return response


@bp.get("/api/le/requests/<int:number>")
def api_get_request(number: int):
    """One logged request of the caller and its answer (404 for another's)."""
    requester = _bearer()
    if requester is None:
        return _unauthorised()
    site = current_app.extensions["site"]
    stored = current_app.extensions["state"].swap_request(site.id, number, _visible_to(requester))
    if stored is None:
        return jsonify({"error": f"no request {number}"}), 404
    return jsonify(_body(stored))


@bp.get("/api/le/requests")
def api_list_requests():
    """The caller's logged requests (all, for the instructor), newest first, no answers."""
    requester = _bearer()
    if requester is None:
        return _unauthorised()
    site = current_app.extensions["site"]
    rows = current_app.extensions["state"].swap_requests(site.id, _visible_to(requester))
    listed = [
        {
            "id": r["number"],
            "reference": r["answer"]["reference"],
            "status": r["answer"]["status"],
            "received": r["received"],
            "subject": r["request"]["subject"],
        }
        for r in rows
    ]
    return jsonify({"requests": listed})


@bp.get("/le")
def form():
    """The web form."""
    return render_template("swap/le.html", fields=FIELDS, bases=LEGAL_BASES, form={}, errors=[])


@bp.post("/le")
def submit_form():
    """Submit the web form with the requester's API token: the answer page, or 400/401."""
    requester = _by_token(request.form.get("token", "").strip())
    form_values = {k: request.form.get(k, "") for k in FIELDS}
    if requester is None:
        errors = [{"field": "token", "message": "The requester token was not accepted."}]
        page = render_template(
            "swap/le.html", fields=FIELDS, bases=LEGAL_BASES, form=form_values, errors=errors
        )
        return page, 401
    body, errors = submit(request.form, requester)
    if body is None:
        page = render_template(
            "swap/le.html", fields=FIELDS, bases=LEGAL_BASES, form=form_values, errors=errors
        )
        return page, 400
    return render_template("swap/le_answer.html", body=body)
