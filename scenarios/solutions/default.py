"""Reference solution of `default` (Operation Nightshade): leaks, keys, a profile, a donation."""

from __future__ import annotations

import re

from scenarios.solutions._steps import (
    Unsolved,
    brief_url,
    linked_site,
    read_off,
    received,
    social_name,
)


def _site(ctx, name: str) -> str:
    """A site's URL from the link directory the brief starts from."""
    sites = ctx.memo.setdefault("sites", {})
    if name not in sites:
        sites[name] = linked_site(ctx, brief_url(ctx), name)
    return sites[name]


def _vendor(ctx) -> str:
    """The vendor handle the brief names in quotes."""
    named = re.search(r'vendor\s+"([^"]+)"', ctx.brief)
    if not named:
        raise Unsolved("the brief names no vendor")
    return named.group(1)


def nightshade_ip(ctx) -> str:
    """Apache's /server-status on Nightshade Market names the server's own address."""
    return read_off(
        ctx, "server_ip", _site(ctx, "Nightshade Market") + "server-status", "server IP"
    )


def kestrel_email(ctx) -> str:
    """The email in the user id of the PGP key on the vendor's profile."""
    url = f"{_site(ctx, 'Nightshade Market')}vendor/{_vendor(ctx)}"
    return read_off(ctx, "email", url, "email in the PGP key")


def kestrel_name(ctx) -> str:
    """The same handle's profile on Flock shows the real name."""
    return social_name(ctx, "flock.test", _vendor(ctx))


def cinder_address(ctx) -> str:
    """The donation address on the campaign's front page."""
    if "cinder" not in ctx.memo:
        site = _site(ctx, "Cinder Defence Fund")
        ctx.memo["cinder"] = read_off(ctx, "btc_address", site, "donation address")
    return ctx.memo["cinder"]


def cinder_total(ctx) -> str:
    """What the donation address received in all, per the explorer."""
    return f"{received(ctx, cinder_address(ctx)):.8f}"


SOLVERS = {
    "nightshade-ip": nightshade_ip,
    "kestrel-email": kestrel_email,
    "kestrel-name": kestrel_name,
    "cinder-address": cinder_address,
    "cinder-total": cinder_total,
}
