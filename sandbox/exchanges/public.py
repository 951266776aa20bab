"""The exchange's public face: home page with fees, and its law-enforcement policy."""

from __future__ import annotations

from flask import Blueprint, render_template

__all__ = ["bp"]

bp = Blueprint("public", __name__)

FEES = (
    ("Buy or sell by bank transfer (SEPA)", "0.50 %"),
    ("Buy by debit or credit card", "1.49 %"),
    ("Trading, maker / taker", "0.10 % / 0.20 %"),
    ("Bitcoin deposit", "free"),
    ("Bitcoin withdrawal", "0.00010 BTC"),
    ("EUR withdrawal to your bank", "free"),
)


@bp.get("/")
def home():
    """The marketing home page: buy bitcoin, fees."""
    return render_template("exchanges/home.html", fees=FEES)


@bp.get("/law-enforcement")
def law_enforcement():
    """How law enforcement asks for records and what each legal basis gets."""
    return render_template("exchanges/law_enforcement.html")
