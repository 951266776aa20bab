"""The workspace's names, in the page's language, for the toolkit's own codes that a page
shows: what a law-enforcement request asks for and on which legal basis. The codes stay
what the portal's API takes; only their names are translated."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

__all__ = ["ASK_NAMES", "LEGAL_BASIS_NAMES"]

ASK_NAMES = {
    "kyc": _l("KYC (who holds the account)"),
    "transactions": _l("transactions"),
    "logins": _l("logins (IP addresses)"),
    "freeze": _l("freeze"),
    "unfreeze": _l("unfreeze"),
    "reissue": _l("reissue"),
    "status": _l("status of a request"),
    "orders": _l("swap orders"),
}

LEGAL_BASIS_NAMES = {
    "court_order": _l("court order"),
    "subpoena": _l("subpoena"),
    "mlat": _l("MLAT (mutual legal assistance)"),
    "emergency": _l("emergency"),
    "informal": _l("informal request"),
}
