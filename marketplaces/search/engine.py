"""The search box and the results pages."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from ..common.helpers import page_of
from .index import SearchIndex, highlight

bp = Blueprint("engine", __name__)

PER_PAGE = 10


@bp.route("/")
def index():
    """The front page: a search box and how many pages are indexed."""
    return render_template("search/index.html", size=current_app.extensions["index"].size)


@bp.route("/search")
@bp.route("/search/")
def search():
    """Results for ?q=, best first, paged."""
    query = (request.args.get("q") or "").strip()
    if len(query) > 200:
        abort(400, "Search text too long (200 characters at most).")
    index: SearchIndex = current_app.extensions["index"]
    if not query:
        return render_template("search/index.html", size=index.size)
    total, _ = index.search(query, 1, 0)
    page = page_of(total, PER_PAGE, lambda limit, offset: index.search(query, limit, offset)[1])
    results = [
        {
            **r,
            "title_parts": highlight(r["title"], query),
            "body_parts": highlight(r["body"], query),
        }
        for r in page.items
    ]
    return render_template("search/results.html", query=query, page=page, results=results)
