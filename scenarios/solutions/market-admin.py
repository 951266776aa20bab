"""Reference solution of `market-admin`: server-status, PGP key, analytics id, open directory."""

from __future__ import annotations

import html
import re

from scenarios.solutions._steps import (
    Unsolved,
    bold,
    brief_url,
    exchange_reached,
    fetch,
    linked_site,
    page_text,
    read_off,
)

# The quote is matched back: a name such as O'Brien holds the other kind.
AUTHOR = re.compile(r"""<meta\s+name=["']author["']\s+content=(["'])(.+?)\1""", re.I)
PAYOUT = re.compile(r"COMMISSION_PAYOUT_ADDRESS',\s*'([^']+)'")


def _market(ctx) -> str:
    """The market's URL, from the link directory the brief names."""
    if "market" not in ctx.memo:
        ctx.memo["market"] = linked_site(ctx, brief_url(ctx), bold(ctx.brief))
    return ctx.memo["market"]


def server_ip(ctx) -> str:
    """The server's own address on Apache's /server-status page."""
    return read_off(
        ctx, "server_ip", _market(ctx) + "server-status", "server IP (no server-status)"
    )


def admin_email(ctx) -> str:
    """The email in the user id of the staff key at /pgp.txt."""
    return read_off(ctx, "email", _market(ctx) + "pgp.txt", "email in the PGP key")


def admin_name(ctx) -> str:
    """The market's analytics id, searched on the paste site: the blog head names its author."""
    analytics = read_off(ctx, "analytics_id", _market(ctx), "analytics id")
    paste_site = re.search(r"\(([a-z0-9-]+\.test)\)", ctx.brief)
    if not paste_site:
        raise Unsolved("the brief names no paste site")
    results = f"http://{paste_site.group(1)}/search?q={analytics}"
    soup = page_text(fetch(ctx, results))
    for a in soup.find_all("a", href=re.compile(r"^/p/\d+$")):
        raw = fetch(ctx, f"http://{paste_site.group(1)}/raw/{a['href'].rsplit('/', 1)[1]}")
        text = raw.body.decode("utf-8", "replace")
        author = AUTHOR.search(text)
        if author and analytics in text:
            return html.unescape(author.group(2))
    raise Unsolved(f"no paste with {analytics} names an author")


def commission_address(ctx) -> str:
    """The payout address in the configuration backup left in the open /uploads/ directory."""
    if "payout" not in ctx.memo:
        listing = page_text(fetch(ctx, _market(ctx) + "uploads/"))
        for a in listing.find_all("a", href=True):
            if a["href"].endswith(".bak"):
                backup = fetch(ctx, _market(ctx) + "uploads/" + a["href"].rsplit("/", 1)[-1])
                payout = PAYOUT.search(backup.body.decode("utf-8", "replace"))
                if payout:
                    ctx.memo["payout"] = payout.group(1)
                    break
        else:
            raise Unsolved("no configuration backup in /uploads/ names a payout address")
    return ctx.memo["payout"]


def commission_exchange(ctx) -> str:
    """Trace the commission address forward to an exchange."""
    return exchange_reached(ctx, commission_address(ctx))["label"]


SOLVERS = {
    "server-ip": server_ip,
    "admin-email": admin_email,
    "admin-name": admin_name,
    "commission-address": commission_address,
    "commission-exchange": commission_exchange,
}
