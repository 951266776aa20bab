"""The market's front page, category pages and search."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import Blueprint, abort, current_app, render_template, request

from ..common.helpers import page_of

bp = Blueprint("catalog", __name__)

PER_PAGE = 20


def slugify(text: str) -> str:
    """A URL-safe name of a category."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "other"


@dataclass
class Category:
    """A top-level category with its sub-categories, as the menu shows them."""

    name: str
    slug: str
    count: int = 0
    subs: list[dict] = field(default_factory=list)


class Catalog:
    """The site's categories (`Top > Sub` or flat), their slugs and listing counts."""

    def __init__(self, counts: dict[str, int]):
        """Build the menu from the listing count of each category."""
        tops: dict[str, Category] = {}
        self.members: dict[str, tuple[str, list[str]]] = {}
        for category in sorted(counts):
            top, _, sub = (p.strip() for p in category.partition(">"))
            node = tops.setdefault(top, Category(top, slugify(top)))
            node.count += counts[category]
            self.members.setdefault(node.slug, (top, []))[1].append(category)
            if sub:
                slug = slugify(category)
                node.subs.append({"name": sub, "slug": slug, "count": counts[category]})
                self.members[slug] = (f"{top} > {sub}", [category])
        self.tree = sorted(tops.values(), key=lambda c: c.name)
        self.total = sum(counts.values())

    def lookup(self, slug: str) -> tuple[str, list[str]] | None:
        """Title and member categories of a slug."""
        return self.members.get(slug)


def listing_rows(categories=None, query: str | None = None):
    """A page of listings (with a thumbnail each) in these categories matching the query."""
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    total = world.listings.count(site.id, categories, query)
    page = page_of(
        total,
        PER_PAGE,
        lambda limit, offset: world.listings.page(site.id, categories, query, limit, offset),
    )
    thumbs = world.photos.first_of([row["id"] for row in page.items])
    return page, thumbs


@bp.route("/")
def home():
    """Front page: categories with counts, announcements, featured vendors, latest listings."""
    world = current_app.extensions["world"]
    site = current_app.extensions["site"]
    vendors = world.accounts.of_site(site.id, "vendor")
    featured = sorted(vendors, key=lambda v: (-(v["sales"] or 0), v["handle"]))[:6]
    latest = world.listings.page(site.id, limit=12)
    admin = next(iter(world.accounts.of_site(site.id, "admin")), None)
    return render_template(
        "market/home.html",
        catalog=current_app.extensions["catalog"],
        featured=featured,
        latest=latest,
        thumbs=world.photos.first_of([row["id"] for row in latest]),
        vendor_count=len(vendors),
        admin=admin,
    )


@bp.route("/category/<slug>")
def category(slug: str):
    """Listings of a category (or of all its sub-categories), paged."""
    catalog: Catalog = current_app.extensions["catalog"]
    found = catalog.lookup(slug)
    if found is None:
        abort(404)
    title, members = found
    page, thumbs = listing_rows(members)
    return render_template(
        "market/category.html", catalog=catalog, title=title, slug=slug, page=page, thumbs=thumbs
    )


@bp.route("/search")
def search():
    """Listings whose title or description contains every word of ?q=, paged."""
    catalog: Catalog = current_app.extensions["catalog"]
    query = (request.args.get("q") or "").strip()
    if len(query) > 100:
        abort(400, "Search text too long (100 characters at most).")
    page = thumbs = None
    if query:
        page, thumbs = listing_rows(None, query)
    return render_template(
        "market/search.html", catalog=catalog, query=query, page=page, thumbs=thumbs
    )
