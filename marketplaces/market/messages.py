"""Messages to vendors and to support: stored in the state file, shown back escaped."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from ..common.auth import login_required
from ..common.helpers import clean_text

bp = Blueprint("messages", __name__)

SUPPORT = "support"


def recipients() -> list[str]:
    """Who a trainee can write to: support and every vendor of the site."""
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    return [SUPPORT] + sorted(
        (a["handle"] for a in world.accounts.of_site(site.id, "vendor")), key=str.lower
    )


@bp.route("/messages", methods=["GET", "POST"])
@login_required
def inbox():
    """Sent messages and the form to write a new one."""
    site = current_app.extensions["site"]
    state = current_app.extensions["state"]
    allowed = recipients()
    if request.method == "POST":
        recipient = clean_text(request.form.get("to"), "Recipient", max_len=64)
        if recipient not in allowed:
            abort(400, "Unknown recipient.")
        subject = clean_text(request.form.get("subject"), "Subject", max_len=120)
        body = clean_text(request.form.get("body"), "Message", max_len=8000)
        state.add_message(
            site.id, g.user["id"], recipient, subject, body, current_app.extensions["clock"]()
        )
        return redirect(url_for("messages.inbox", sent=1))
    chosen = request.args.get("to", SUPPORT)
    return render_template(
        "market/messages.html",
        recipients=allowed,
        chosen=chosen if chosen in allowed else SUPPORT,
        messages=state.messages_of(site.id, g.user["id"]),
        sent=request.args.get("sent") == "1",
    )


@bp.route("/support")
def support():
    """Support: write to the staff through the messages page."""
    return redirect(url_for("messages.inbox", to=SUPPORT))
