"""Profile pages: display name, handle, bio, location, joined, posts."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from ..common.helpers import page_of
from .timeline import PER_PAGE, display_name

bp = Blueprint("profiles", __name__)


@bp.route("/u/<handle>")
def profile(handle: str):
    """A member's profile and their posts, newest first."""
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    account = world.accounts.by_handle(site.id, handle)
    if account is None:
        abort(404)
    total = world.posts.count_of_account(account["id"])
    page = page_of(
        total, PER_PAGE, lambda limit, offset: world.posts.of_account(account["id"], limit, offset)
    )
    return render_template(
        "social/profile.html", member=account, name=display_name(account), page=page
    )
