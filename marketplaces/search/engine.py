"""The search box and the results pages."""

from __future__ import annotations

from urllib.parse import quote_plus, urlsplit

from flask import Blueprint, abort, current_app, render_template, request
from flask import redirect as redirect_to

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
    return render_template(
        "search/results.html",
        query=query,
        search_term=quote_plus(query),
        page=page,
        results=results,
    )


@bp.route("/search/redirect")
def redirect():
    """Ahmia's click-through: on to ``redirect_url`` when it is a page of this world's sites."""
    target = request.args.get("redirect_url") or ""
    parts = urlsplit(target)
    host = (parts.hostname or "").lower()
    # Only the sites' own addresses: never an open redirect to a name outside the world.
    if parts.scheme != "http" or not host.endswith((".onion", ".test")):
        abort(400, "redirect_url must be the http:// address of an onion or .test page.")
    return redirect_to(target, code=302)
