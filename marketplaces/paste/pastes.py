"""Recent pastes, one paste (and its raw text), an author's pastes, and search."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from ..common.helpers import page_of

bp = Blueprint("pastes", __name__)

PER_PAGE = 25


def title_of(body: str) -> str:
    """A paste's title: its first non-empty line, shortened."""
    for line in body.splitlines():
        line = line.strip(" #/*<>!-")
        if any(c.isalnum() for c in line):
            return line if len(line) <= 60 else line[:57] + "..."
    return "Untitled"


def _decorate(rows: list[dict]) -> list[dict]:
    """Add title and size to paste rows."""
    for row in rows:
        row["title"] = title_of(row["body"])
        row["size"] = len(row["body"].encode())
    return rows


def load_paste(paste_id: int) -> dict:
    """A paste of this site, or 404."""
    row = current_app.extensions["world"].posts.get(current_app.extensions["site"].id, paste_id)
    if row is None:
        abort(404)
    return _decorate([row])[0]


def pastes_page(query: str | None = None):
    """A page of pastes (matching query), newest first."""
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    total = world.posts.count_of_site(site.id, query)
    page = page_of(
        total,
        PER_PAGE,
        lambda limit, offset: _decorate(world.posts.page_of_site(site.id, limit, offset, query)),
    )
    return page


@bp.route("/")
def index():
    """The newest pastes."""
    return render_template("paste/index.html", page=pastes_page(), query="")


@bp.route("/p/<int:paste_id>")
def paste(paste_id: int):
    """One paste."""
    return render_template("paste/paste.html", paste=load_paste(paste_id))


@bp.route("/raw/<int:paste_id>")
def raw(paste_id: int):
    """One paste as plain text."""
    return current_app.response_class(load_paste(paste_id)["body"], mimetype="text/plain")


@bp.route("/u/<handle>")
def author(handle: str):
    """An author's profile and pastes."""
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    account = world.accounts.by_handle(site.id, handle)
    if account is None:
        abort(404)
    total = world.posts.count_of_account(account["id"])
    page = page_of(
        total,
        PER_PAGE,
        lambda limit, offset: _decorate(world.posts.of_account(account["id"], limit, offset)),
    )
    return render_template("paste/author.html", member=account, page=page)


@bp.route("/search")
def search():
    """Pastes containing every word of ?q=."""
    query = (request.args.get("q") or "").strip()
    if len(query) > 200:
        abort(400, "Search text too long (200 characters at most).")
    page = pastes_page(query) if query else None
    return render_template("paste/index.html", page=page, query=query)
