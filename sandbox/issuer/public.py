"""The issuer's public face: home page and its law-enforcement freeze policy."""

from __future__ import annotations

from flask import Blueprint, render_template

__all__ = ["bp"]

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    """The home page: what USDT is, and where law enforcement asks."""
    return render_template("issuer/home.html")


@bp.get("/law-enforcement")
def law_enforcement():
    """What the issuer freezes, on which legal basis, and how seized USDT is returned."""
    return render_template("issuer/law_enforcement.html")
