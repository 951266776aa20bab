"""The link directory: the `links` rows of this site, by category, and a safety blurb."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("directory", __name__)

ORDER = (
    "Link lists",
    "Search engines",
    "Marketplaces",
    "Vendor shops",
    "Forums",
    "Donations",
    "Social",
    "Pastebins",
)


def grouped(links: list[dict]) -> list[tuple[str, list[dict]]]:
    """Links grouped by category, in the directory's order."""
    groups: dict[str, list[dict]] = {}
    for link in links:
        groups.setdefault(link["category"], []).append(link)
    rank = {name: n for n, name in enumerate(ORDER)}
    return sorted(groups.items(), key=lambda kv: (rank.get(kv[0], len(ORDER)), kv[0]))


@bp.route("/")
def index():
    """Every listed hidden service, with its onion address as a link."""
    world = current_app.extensions["world"]
    links = world.links.of_site(current_app.extensions["site"].id)
    return render_template("wiki/index.html", groups=grouped(links), count=len(links))
