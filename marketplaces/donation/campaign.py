"""The campaign page and its FAQ."""

from __future__ import annotations

import math

from flask import Blueprint, current_app, render_template

from sandbox.ledger.codec.amounts import COIN

from ..common import donors
from ..common.sessions import session_id

bp = Blueprint("campaign", __name__)


def goal_for(raised_btc: float) -> float:
    """A round fundraising goal comfortably above what was raised."""
    target = max(0.5, raised_btc * 1.6)
    magnitude = 10 ** math.floor(math.log10(target))
    return math.ceil(target / magnitude) * magnitude


def operator_account() -> dict | None:
    """The campaign's operator account on this site."""
    return donors.operator_account(current_app.extensions["world"], current_app.extensions["site"])


def fresh_since() -> int | None:
    """Since when every donor gets a new address (None: the campaign has one address)."""
    extensions = current_app.extensions
    return donors.fresh_since(extensions["world"], extensions["site"], extensions["clock"]())


def donation_address() -> str | None:
    """The Bitcoin address shown to this visitor: the published one, or a fresh one per
    session (None for a campaign that takes only USDT)."""
    ext = current_app.extensions
    return donors.btc_address(ext["world"], ext["state"], ext["site"], session_id(), ext["clock"]())


def usdt_address() -> tuple[str | None, str | None]:
    """The USDT (TRC-20) address shown to this visitor, and the published one it replaced
    (None when the campaign never switched): the campaign's Tron address, or a fresh one per
    session once every donor gets their own."""
    ext = current_app.extensions
    return donors.usdt_address(
        ext["world"], ext["state"], ext["site"], session_id(), ext["clock"]()
    )


@bp.route("/")
def index():
    """The campaign: cause, progress bar, donation address, PGP key.

    The progress bar (raised total, goal, number of donations) shows only when the site's
    `show_totals` knob is on: off, it would hand out the answer to a total-raised objective
    (and the goal and percentage would narrow it down).
    """
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    wallet = world.wallets.of_site(site.id, "donation")
    progress = None
    if site.config.get("show_totals", True):
        received, payments = world.wallets.received(wallet["id"]) if wallet else (0, 0)
        raised = received / COIN
        goal = goal_for(raised)
        progress = {
            "raised": raised,
            "payments": payments,
            "goal": goal,
            "percent": min(100, round(100 * raised / goal)) if goal else 0,
        }
    account = operator_account()
    since = fresh_since()
    address = donation_address()
    usdt, old_usdt = usdt_address()
    switched = since is not None and not site.config.get("fresh_address_per_donor")
    return render_template(
        "donation/index.html",
        operator=account,
        key=current_app.extensions["files"].operator_key(),
        address=address,
        usdt=usdt,
        old_usdt=old_usdt if switched else None,
        fresh=since is not None,
        since=since,
        # A campaign that switched warns donors off the address it used to publish.
        old_address=(
            world.wallets.published(wallet["id"]) if switched and wallet and address else None
        ),
        progress=progress,
    )


@bp.route("/faq")
def faq():
    """Questions donors ask."""
    return render_template("donation/faq.html", fresh=fresh_since() is not None)
