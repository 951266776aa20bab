"""The request form's fields and the exchange's disclosure policy, independent of the web.

`clean_request` turns a submitted form or JSON body into a request dict plus a list of
field errors. `allowed` says which legal bases justify which disclosure, and why not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from ..i18n import Message
from ..ledger.address import is_valid_address
from ..tron import address as tron_address

__all__ = [
    "ASKS",
    "COMPULSORY",
    "FIELDS",
    "LEGAL_BASES",
    "REQUESTER_FIELDS",
    "allowed",
    "check_requester",
    "clean_request",
    "is_tron_address",
    "requested_items",
    "subject_chain",
    "subject_kind",
    "unknown_items",
]

LEGAL_BASES = {
    "court_order": "Court order / production order",
    "subpoena": "Subpoena",
    "mlat": "MLAT request",
    "emergency": "Emergency disclosure request",
    "informal": "Informal request without legal process",
}
ASKS = {
    "kyc": "Subscriber information (KYC)",
    "transactions": "Transaction history",
    "logins": "Login IP history",
    "freeze": "Freeze of the account",
}
# Legal process that compels production of stored customer records.
COMPULSORY = ("court_order", "subpoena", "mlat")
# Who asks and on what legal basis: the first fields of every law-enforcement portal's form.
REQUESTER_FIELDS = {
    "agency": "Agency",
    "officer_name": "Officer name",
    "officer_email": "Officer email",
    "case_number": "Case number",
    "legal_basis": "Legal basis",
    "document_reference": "Document reference",
}
FIELDS = {
    **REQUESTER_FIELDS,
    "subject": "Subject (Bitcoin or Tron address, or txid)",
    "requested": "Information requested",
    "details": "Details / justification",
}
MAX_LENGTH = 2000
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
TXID = re.compile(r"^[0-9a-fA-F]{64}$")
TRON_HEX = re.compile(r"^41[0-9a-fA-F]{40}$")  # a Tron address in java-tron's hex form


def is_tron_address(subject: str) -> bool:
    """Whether subject is a Tron address in its T... form (34 base58 characters, checksum)."""
    return len(subject) == 34 and subject.startswith("T") and tron_address.is_address(subject)


def subject_kind(subject: str) -> str | None:
    """ "address" or "txid" when the subject is a valid one of these, else None."""
    if TXID.match(subject):
        return "txid"
    if is_valid_address(subject) or is_tron_address(subject):
        return "address"
    return None


def subject_chain(subject: str) -> str:
    """ "tron" for a Tron address, else "btc" (a txid may be of either chain)."""
    return "tron" if is_tron_address(subject) else "btc"


def _subject_problem(subject: str) -> Message:
    """Why a subject is neither a valid address nor a txid, as precisely as it can tell."""
    if subject.startswith("T") and 30 <= len(subject) <= 40:
        return Message(
            "Subject %(subject)s is not a valid Tron address: a Tron address is 34 base58 "
            "characters starting with T, whose last 4 bytes are its checksum.",
            subject=repr(subject),
        )
    return Message(
        "Subject is neither a valid Bitcoin or Tron address nor a transaction id "
        "(64 hexadecimal characters)."
    )


def _text(data: Mapping, name: str) -> str:
    """A form or JSON value as stripped text ("" when absent or not a string)."""
    value = data.get(name)
    if value is None or isinstance(value, list | dict):
        return ""
    return str(value).strip()[:MAX_LENGTH]


def requested_items(data: Mapping) -> list[str]:
    """The requested items, from checkboxes, a JSON list or a comma-separated string."""
    getlist = getattr(data, "getlist", None)
    raw = getlist("requested") if getlist else data.get("requested")
    if isinstance(raw, str):
        raw = raw.split(",")
    if not isinstance(raw, list | tuple):
        return []
    return [str(x).strip() for x in raw if str(x).strip()]


def unknown_items(unknown: list[str], known: Mapping[str, str]) -> Message:
    """The error for requested items a portal does not know, naming the ones it does."""
    return Message(
        "Unknown item(s) %(unknown)s; one of: %(known)s.",
        unknown=", ".join(unknown),
        known=", ".join(known),
    )


def check_requester(
    req: dict, fields: Mapping[str, str], error: Callable[[str, str], None]
) -> None:
    """Report what every portal's request needs: the agency, officer, case and subject, a
    valid email, and a legal basis with its document's reference (every portal's form).
    The messages are Messages: English text, translated on the page that shows them."""
    for name in ("agency", "officer_name", "officer_email", "case_number", "subject"):
        if not req[name]:
            error(name, Message("%(field)s is required.", field=Message(fields[name])))
    if req["officer_email"] and not EMAIL.match(req["officer_email"]):
        error("officer_email", Message("Officer email is not a valid email address."))
    basis = req["legal_basis"]
    if not basis:
        error("legal_basis", Message("Legal basis is required."))
    elif basis not in LEGAL_BASES:
        error(
            "legal_basis",
            Message(
                "Unknown legal basis %(basis)s; one of: %(known)s.",
                basis=repr(basis),
                known=", ".join(LEGAL_BASES),
            ),
        )
    elif basis != "informal" and not req["document_reference"]:
        error(
            "document_reference",
            Message(
                "Document reference is required for a %(basis)s (the number of the order, "
                "subpoena or request).",
                basis=Message(LEGAL_BASES[basis]).lower(),
            ),
        )


def clean_request(data: Mapping) -> tuple[dict, list[dict]]:
    """The request as submitted (normalised) and its field errors, [] when it is complete."""
    req: dict = {name: _text(data, name) for name in FIELDS if name != "requested"}
    asks = requested_items(data)
    req["requested"] = [a for a in ASKS if a in asks] + [a for a in asks if a not in ASKS]
    errors: list[dict] = []

    def error(name: str, message: str) -> None:
        """Note one problem with a field."""
        errors.append({"field": name, "message": message})

    check_requester(req, FIELDS, error)
    if req["legal_basis"] == "emergency" and not req["details"]:
        error(
            "details",
            Message("Describe the emergency: the imminent risk of death or serious injury."),
        )
    if req["subject"]:
        # Txids and bech32 addresses are case-insensitive; the world stores them in lower case.
        if TXID.match(req["subject"]) or req["subject"].upper().startswith("BC1"):
            req["subject"] = req["subject"].lower()
        elif TRON_HEX.match(req["subject"]):  # the hex form names the same account
            req["subject"] = tron_address.to_base58(req["subject"])
        if subject_kind(req["subject"]) is None:
            error("subject", _subject_problem(req["subject"]))
    unknown = [a for a in req["requested"] if a not in ASKS]
    if not req["requested"]:
        error("requested", Message("Tick at least one item of information requested."))
    elif unknown:
        error("requested", unknown_items(unknown, ASKS))
    return req, errors


def allowed(basis: str, ask: str) -> tuple[bool, str]:
    """Whether a legal basis justifies one requested item, and the reason when it does not."""
    name = LEGAL_BASES.get(basis, basis)
    if ask == "freeze":
        if basis == "court_order":
            return True, ""
        return False, (
            f"A freeze requires a court order; a {name.lower()} is not sufficient. "
            "We have preserved the records and will act on a court order."
        )
    if basis in COMPULSORY:
        return True, ""
    if basis == "emergency":
        if ask == "kyc":
            return True, ""
        return False, (
            f"{ASKS[ask]} is not disclosed on an emergency request; it requires a court "
            "order / production order, a subpoena or an MLAT request."
        )
    return False, (
        f"{ASKS[ask]} requires legal process: a court order / production order, a subpoena "
        "or an MLAT request."
    )
