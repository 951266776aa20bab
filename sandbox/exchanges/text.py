"""Human labels for the answer's codes, shared by the HTML pages and the PDF."""

from __future__ import annotations

__all__ = ["MATCHES", "REASONS", "STATUS", "SUBSCRIBER_FIELDS"]

STATUS = {
    "answered": "Answered",
    "partially answered": "Partially answered",
    "refused": "Refused",
}
REASONS = {
    None: "",
    "incomplete": "Incomplete request",
    "malformed_subject": "Malformed subject",
    "no_records": "No responsive records",
    "operational_wallet": "Own operational wallet",
    "batched_withdrawal": "Batched withdrawal: name an address",
    "legal_basis": "Insufficient legal basis",
}
MATCHES = {
    "deposit_address": "a customer deposit address",
    "withdrawal_destination": "a destination address of a customer withdrawal",
    "operational_wallet": "our own operational (hot) wallet",
    "deposit_tx": "a customer deposit",
    "withdrawal_tx": "a withdrawal from our hot wallet",
    "operational_tx": "an internal movement of our own funds",
}
SUBSCRIBER_FIELDS = (
    ("name", "Full name"),
    ("birth_date", "Date of birth"),
    ("nationality", "Nationality"),
    ("document_number", "ID document number"),
    ("street", "Street"),
    ("city", "City"),
    ("country", "Country"),
    ("phone", "Phone"),
    ("email", "Email"),
    ("username", "Username"),
)
