"""Channels the scenario writes: a feed run by an actor, a chat, a bot handing out addresses.

A channel's page shows its pinned posts on top, then its posts and chat lines in time
order, in the channel's language. A channel with a donation bot has a form that asks the
bot for an address: the visitor's session gets the address the bot's campaign gives that
session (marketplaces/common/donors.py), the same one every time it asks, another for
another session.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, session, url_for

from ..common import donors
from ..common.sessions import session_id

bp = Blueprint("channels", __name__)


def channel_of(channel_id: str) -> dict:
    """The site's channel with this id, or 404."""
    for channel in current_app.extensions["site"].channels:
        if channel["id"] == channel_id:
            return channel
    abort(404)


@bp.route("/c/")
def index():
    """Every channel of the site."""
    return render_template("social/channels.html", channels=current_app.extensions["site"].channels)


@bp.route("/c/<channel_id>")
def channel(channel_id: str):
    """A channel: pinned posts, then its posts and chat lines, oldest first."""
    found = channel_of(channel_id)
    lines = found["lines"]
    # The bot's answer to this session, once it asked (kept in the session, per channel).
    answer = session.get("bot", {}).get(channel_id)
    return render_template(
        "social/channel.html",
        channel=found,
        pinned=[line for line in lines if line.get("pinned")],
        lines=lines,
        answer=answer,
    )


@bp.route("/c/<channel_id>/donate", methods=["POST"])
def donate(channel_id: str):
    """Ask the channel's bot for a donation address; the page then shows the bot's reply."""
    found = channel_of(channel_id)
    bot = found.get("donation_bot")
    if bot is None:
        abort(404)
    ext = current_app.extensions
    world, state = ext["world"], ext["state"]
    campaign = world.sites.get(bot["site"])
    if campaign is None:
        abort(404)
    sid, now = session_id(), ext["clock"]()
    if bot["chain"] == "tron":
        address, _published = donors.usdt_address(world, state, campaign, sid, now)
    else:
        address = donors.btc_address(world, state, campaign, sid, now)
    if address is None:
        abort(503, "The bot does not answer right now.")
    answers = dict(session.get("bot", {}))
    answers[channel_id] = address
    session["bot"] = answers
    return redirect(url_for("channels.channel", channel_id=channel_id, _anchor="bot"), code=303)
