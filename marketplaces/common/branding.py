"""Site branding: an accent colour and a generated SVG logo per site."""

from __future__ import annotations

import colorsys
import hashlib

from flask import Blueprint, current_app, render_template

from .world import Site

bp = Blueprint("branding", __name__)

LIGHT_PAGES = ("wiki", "search", "social", "paste")  # pale background: darker accent
LIGHT_HEADERS = ("wiki", "social", "paste")  # pale header: dark site name
SHAPES = ("hexagon", "diamond", "circle", "shield", "square")


def _hash(site: Site) -> bytes:
    """A stable digest of the site for picking colours and shapes."""
    return hashlib.sha256(f"branding:{site.id}:{site.name}".encode()).digest()


def accent(site: Site) -> str:
    """The site's accent colour as #rrggbb (bright enough for a dark theme)."""
    digest = _hash(site)
    hue = digest[0] / 255
    lightness = 0.36 if site.kind in LIGHT_PAGES else 0.58
    r, g, b = colorsys.hls_to_rgb(hue, lightness, 0.62)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def initials(name: str) -> str:
    """One or two letters standing for the site's name."""
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:2].upper()
    return (words[0][0] + words[1][0]).upper()


def logo_context(site: Site) -> dict:
    """What the logo template draws: shape, colours, initials and name."""
    digest = _hash(site)
    return {
        "shape": SHAPES[digest[1] % len(SHAPES)],
        "accent": accent(site),
        "initials": initials(site.name),
        "name": site.name,
        "width": 64 + 13 * len(site.name),
        "ink": "#202124" if site.kind in LIGHT_HEADERS else "#e6e6e6",
    }


@bp.route("/logo.svg")
def logo():
    """The site's logo."""
    site = current_app.extensions["site"]
    body = render_template("branding/logo.svg", **logo_context(site))
    response = current_app.response_class(body, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for a favicon: the logo's mark alone."""
    site = current_app.extensions["site"]
    ctx = logo_context(site) | {"width": 48, "name": ""}
    body = render_template("branding/logo.svg", **ctx)
    return current_app.response_class(body, mimetype="image/svg+xml")
