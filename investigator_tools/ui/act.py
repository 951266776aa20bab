"""Act: law-enforcement requests to an exchange's portal (or the issuer's, or a swap
service's), prefilled from the graph's selected address or txid, sent with the toolkit's
`submit_request` through the proxy; the answers are stored in the case and listed here."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, render_template, request

from ..errors import InputError
from ..report import utc
from ..request import ASKS, LEGAL_BASES, format_answer, list_requests, submit_request
from .context import Settings, json_body, open_case

bp = Blueprint("act", __name__, url_prefix="/act")

_REQUIRED = ("exchange", "subject", "legal_basis", "case_number", "agency", "officer", "email")
_OPTIONAL = ("document_ref", "details", "wallet")


@bp.get("/requests")
def requests_page():
    """The request form (prefilled with ?subject=) and the requests already sent."""
    rows = [{**r, "submitted_at": utc(r["submitted_at"])} for r in list_requests(open_case())]
    return render_template(
        "requests.html",
        subject=request.args.get("subject", ""),
        asks=ASKS,
        legal_bases=LEGAL_BASES,
        requests=rows,
    )


@bp.post("/api/request")
def send():
    """Send one request; the token is passed on to the portal, never stored."""
    data = json_body()
    fields: dict[str, str] = {}
    for key in _REQUIRED:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{key}: expected a non-empty string")
        fields[key] = value.strip()
    extra: dict[str, str | None] = {}
    for key in _OPTIONAL:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise InputError(f"{key}: expected a string")
        extra[key] = value.strip() if value and value.strip() else None
    asks = data.get("asks")
    if not isinstance(asks, list) or not all(isinstance(a, str) for a in asks):
        raise InputError('asks: expected a list such as ["kyc", "transactions"]')
    token = data.get("token")
    if not isinstance(token, str):
        raise InputError("token: expected the API token the portal issued to your agency")
    settings: Settings = g.settings
    case = open_case(
        f"request {fields['exchange']} --subject {fields['subject']} --ask {','.join(asks)}"
        " --token ***"
    )
    record = submit_request(
        case,
        fields["exchange"],
        fields["subject"],
        legal_basis=fields["legal_basis"],
        case_number=fields["case_number"],
        agency=fields["agency"],
        officer=fields["officer"],
        email=fields["email"],
        asks=asks,
        document_ref=extra["document_ref"],
        details=extra["details"],
        wallet=extra["wallet"],
        proxy=settings.proxy,
        token=token,
        confidential=bool(data.get("confidential")),
    )
    return jsonify({"record": record, "lines": format_answer(record)})
