"""The issuer's request fields and its freeze policy, independent of the web.

`clean_request` turns a form or JSON body into a request dict and a list of field errors;
`basis_refusal` says why a legal basis does not justify an action.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..exchanges.policy import (
    LEGAL_BASES,
    REQUESTER_FIELDS,
    TRON_HEX,
    check_requester,
    is_tron_address,
    requested_items,
    unknown_items,
)
from ..i18n import Message
from ..tron import address as tron_address

__all__ = ["ACTIONS", "ASKS", "FIELDS", "LEGAL_BASES", "basis_refusal", "clean_request"]

ASKS = {
    "freeze": "Freeze (blacklist) the address",
    "unfreeze": "Unfreeze an address you had frozen",
    "reissue": "Destroy the frozen USDT and reissue it to a law-enforcement wallet",
    "status": "Blacklist status and USDT balance",
}
ACTIONS = ("freeze", "unfreeze", "reissue")  # the items carried out on the chain
# What compels the issuer to act on its contract: a court's order, directly or through MLA.
ACTING_BASES = ("court_order", "mlat")
FIELDS = {
    **REQUESTER_FIELDS,
    "subject": "Subject (Tron address)",
    "requested": "Action requested",
    "wallet": "Law-enforcement wallet (Tron address, for a reissue)",
    "confidential": "Do not notify the address holder",
    "details": "Details / justification",
}
# The address fields' short names, for the sentence that says one is not a Tron address.
ADDRESS_FIELDS = {"subject": Message("Subject"), "wallet": Message("Law-enforcement wallet")}
MAX_LENGTH = 2000
_TRUE = ("1", "true", "yes", "on")


def _text(data: Mapping, name: str) -> str:
    """A form or JSON value as stripped text ("" when absent or not a string)."""
    value = data.get(name)
    if value is None or isinstance(value, list | dict | bool):
        return ""
    return str(value).strip()[:MAX_LENGTH]


def _address(text: str) -> str:
    """A Tron address in its T... form (the 41... hex form names the same account)."""
    return tron_address.to_base58(text) if TRON_HEX.match(text) else text


def clean_request(data: Mapping) -> tuple[dict, list[dict]]:
    """The request as submitted (normalised) and its field errors, [] when it is complete."""
    req: dict = {
        name: _text(data, name) for name in FIELDS if name not in ("requested", "confidential")
    }
    asks = requested_items(data)
    req["requested"] = [a for a in ASKS if a in asks] + [a for a in asks if a not in ASKS]
    flag = data.get("confidential")
    req["confidential"] = flag is True or (isinstance(flag, str) and flag.lower() in _TRUE)
    errors: list[dict] = []

    def error(name: str, message: str) -> None:
        """Note one problem with a field."""
        errors.append({"field": name, "message": message})

    if flag is not None and not isinstance(flag, bool | str):
        error("confidential", Message("Confidential is true or false."))
    check_requester(req, FIELDS, error)
    for name in ("subject", "wallet"):
        if req[name]:
            req[name] = _address(req[name])
            if not is_tron_address(req[name]):
                error(
                    name,
                    Message(
                        "%(field)s %(address)s is not a Tron address: 34 base58 characters "
                        "starting with T, whose last 4 bytes are its checksum.",
                        field=ADDRESS_FIELDS[name],
                        address=repr(req[name]),
                    ),
                )
    unknown = [a for a in req["requested"] if a not in ASKS]
    if not req["requested"]:
        error("requested", Message("Choose at least one action requested."))
    elif unknown:
        error("requested", unknown_items(unknown, ASKS))
    if "reissue" in req["requested"] and not req["wallet"]:
        error(
            "wallet",
            Message("A reissue needs the law-enforcement wallet the USDT is reissued to."),
        )
    return req, errors


def basis_refusal(basis: str, ask: str) -> str:
    """Why a legal basis does not justify an action ("" when it does)."""
    if ask not in ACTIONS or basis in ACTING_BASES:
        return ""
    name = LEGAL_BASES.get(basis, basis).lower()
    what = {"freeze": "A freeze", "unfreeze": "An unfreeze", "reissue": "A reissue"}[ask]
    return (
        f"{what} requires a court order or an MLAT request; a {name} is not sufficient. "
        "Tether acts on its token contract only on a court's order."
    )
