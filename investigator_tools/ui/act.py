"""Act: law-enforcement requests to an exchange's portal (or the issuer's, or a swap
service's), prefilled from the graph's selected address or txid, sent with the toolkit's
`submit_request` through the proxy, the answers stored in the case and listed here; and
the seizure of a recovered key's or recovery words' coins (`sweep`), checked first (built
and signed, not sent) and broadcast only once confirmed."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, render_template, request

from ..errors import InputError
from ..request import ASKS, LEGAL_BASES, format_answer, list_requests, submit_request
from ..sweep import sweep
from ..targets import check_target
from .context import Settings, json_body, open_case
from .words import ASK_NAMES, LEGAL_BASIS_NAMES

bp = Blueprint("act", __name__, url_prefix="/act")

_REQUIRED = ("exchange", "subject", "legal_basis", "case_number", "agency", "officer", "email")
_OPTIONAL = ("document_ref", "details", "wallet")


@bp.get("/requests")
def requests_page():
    """The request form (prefilled with ?subject=) and the requests already sent."""
    rows = list_requests(open_case())  # times in Unix seconds: the page formats them
    return render_template(
        "requests.html",
        subject=request.args.get("subject", ""),
        asks=ASKS,
        legal_bases=LEGAL_BASES,
        ask_names=ASK_NAMES,
        legal_basis_names=LEGAL_BASIS_NAMES,
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


@bp.get("/sweep")
def sweep_page():
    """The sweep dialog."""
    return render_template("sweep.html", to=request.args.get("to", ""))


@bp.post("/api/sweep")
def sweep_coins():
    """Build and sign the sweep (confirm false: shown, not sent) or broadcast it (confirm
    true, at the fee rate the check showed). The key or words are never stored."""
    data = json_body()
    to = check_target(str(data.get("to") or ""), "to", ("btc",))
    wif, mnemonic = data.get("key") or None, data.get("mnemonic") or None
    if (wif is None) == (mnemonic is None):
        raise InputError("give a key (WIF) or recovery words, not both")
    for name, value in (("key", wif), ("mnemonic", mnemonic)):
        if value is not None and not isinstance(value, str):
            raise InputError(f"{name}: expected text")
    passphrase = data.get("passphrase") or ""
    fee_rate = data.get("fee_rate")
    if fee_rate is not None and (
        not isinstance(fee_rate, int | float) or isinstance(fee_rate, bool) or fee_rate <= 0
    ):
        raise InputError(f"fee_rate {fee_rate!r}: expected sat/vB, more than 0")
    confirm = data.get("confirm") is True
    settings: Settings = g.settings
    source = "--key ***" if wif else "--mnemonic ***"
    case = open_case(f"sweep {source} --to {to}" + ("" if confirm else " --dry-run"))
    report = sweep(
        case,
        settings.explorer_for(case),
        to=to,
        wif=wif.strip() if wif else None,
        mnemonic=" ".join(mnemonic.split()) if mnemonic else None,
        passphrase=passphrase,
        fee_rate=fee_rate,
        broadcast=confirm,
    )
    report.pop("raw_hex", None)
    return jsonify(report)
