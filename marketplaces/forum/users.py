"""User profiles: handle, joined, post count, PGP key, recent posts."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

bp = Blueprint("users", __name__)


@bp.route("/user/<handle>")
def profile(handle: str):
    """A member's profile (a world account, else a trainee's account)."""
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    state = current_app.extensions["state"]
    account = world.accounts.by_handle(site.id, handle)
    if account is not None:
        return render_template(
            "forum/user.html",
            member=account,
            key=world.keys.get(account["pgp_fingerprint"]),
            post_count=world.posts.count_of_account(account["id"]),
            posts=world.posts.of_account(account["id"], limit=15),
            trainee=False,
        )
    user = state.user_by_handle(site.id, handle)
    if user is None:
        abort(404)
    posts = state.posts_of_user(site.id, user["id"])
    member = {**user, "role": "member", "joined": user["created"], "bio": "", "location": None}
    return render_template(
        "forum/user.html",
        member=member,
        key=None,
        post_count=len(posts),
        posts=posts[:15],
        trainee=True,
    )
