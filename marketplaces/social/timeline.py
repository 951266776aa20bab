"""The public timeline, single posts and search over posts."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from ..common.helpers import page_of

bp = Blueprint("timeline", __name__)

PER_PAGE = 20


def display_name(account: dict) -> str:
    """The name a profile shows: the first part of its bio line ("Name · City · likes")."""
    bio = account.get("bio") or account.get("author_bio") or ""
    first = bio.split(" \u00b7 ")[0].strip()
    if " \u00b7 " in bio and first and len(first) <= 60:
        return first
    return account.get("handle") or account.get("author") or ""


def posts_page(query: str | None = None):
    """A page of the site's posts (matching query), newest first, with display names."""
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    total = world.posts.count_of_site(site.id, query)
    page = page_of(
        total,
        PER_PAGE,
        lambda limit, offset: world.posts.page_of_site(site.id, limit, offset, query),
    )
    for post in page.items:
        post["name"] = display_name(post)
    return page


@bp.route("/")
def index():
    """The newest posts."""
    return render_template("social/timeline.html", page=posts_page())


@bp.route("/post/<int:post_id>")
def post(post_id: int):
    """One post."""
    world = current_app.extensions["world"]
    row = world.posts.get(current_app.extensions["site"].id, post_id)
    if row is None:
        abort(404)
    row["name"] = display_name(row)
    return render_template("social/post.html", post=row)


@bp.route("/search")
def search():
    """Posts containing every word of ?q=."""
    query = (request.args.get("q") or "").strip()
    if len(query) > 200:
        abort(400, "Search text too long (200 characters at most).")
    page = posts_page(query) if query else None
    return render_template("social/search.html", query=query, page=page)
