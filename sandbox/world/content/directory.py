"""Link directories (wikis) and search engines: what they list about every hidden service."""

from __future__ import annotations

import random

from sandbox.world.content.accounts import Rows
from sandbox.world.content.market import site_slots
from sandbox.world.content.texts import Texts, scenario_site
from sandbox.world.content.world import SiteRow, WorldSoFar

CATEGORY = {
    "market": "Marketplaces",
    "shop": "Vendor shops",
    "forum": "Forums",
    "donation": "Donations",
    "wiki": "Link lists",
    "search": "Search engines",
    "social": "Social",
    "paste": "Pastebins",
    "swap": "Exchangers",
}
BLURB = {
    "market": (
        "Escrow marketplace, {goods}. Accepts {currencies}.",
        "Large multi-vendor market with escrow and vendor bonds. {currencies} only.",
        "Established market: {goods}. Escrow, disputes, PGP 2FA.",
    ),
    "shop": (
        "Single-vendor shop: {goods}. Pays in {currencies}.",
        "Autoshop of a trusted vendor, {goods}.",
    ),
    "forum": (
        "Discussion forum: OPSEC, harm reduction, vendor reviews.",
        "Community forum for buyers and vendors. Scam reports, news.",
    ),
    "donation": (
        "Donation page. Accepts {currencies}.",
        "Fundraising site; verify the address with their PGP key.",
    ),
    "wiki": ("Curated list of working onion links.", "Hidden wiki style link directory."),
    "search": ("Search engine for onion services.", "Crawler-based onion search."),
    "social": ("Social network.",),
    "paste": ("Anonymous pastebin.",),
    "swap": (
        "Instant BTC <-> USDT (TRC-20) swaps. No account, no KYC.",
        "Exchanger: Bitcoin to Tether on Tron and back, minutes, no registration.",
    ),
}
SCAM_WARNING = " Check the signed mirror list before logging in."


def describe(site: SiteRow, rng: random.Random, detailed: bool) -> str:
    """A one-line description of a site, longer for a search engine's index."""
    currencies = ", ".join(site.config.get("currencies") or ("BTC",))
    goods = "various goods"
    if site.kind in ("market", "shop"):
        names = sorted({c.split(">")[0].strip() for c, _ in site_slots(site)})
        goods = ", ".join(names[:4])
    text = rng.choice(BLURB.get(site.kind, ("Hidden service.",))).format(
        goods=goods, currencies=currencies
    )
    if detailed:
        features = []
        if site.config.get("captcha"):
            features.append("captcha login")
        if site.config.get("ddos_queue"):
            features.append("DDoS protection queue")
        if site.kind in ("market", "shop") and site.config.get("categories"):
            features.append("categories: " + ", ".join(site.config["categories"]))
        if features:
            joined = "; ".join(features)
            text += f" {joined[0].upper()}{joined[1:]}."
    elif site.kind == "market":
        text += SCAM_WARNING
    return text


def write_links(world: WorldSoFar, rows: Rows, texts: Texts, site: SiteRow) -> None:
    """A wiki lists every other hidden service; a search engine indexes all of them, itself too.

    A site the scenario describes is listed with its own description.
    """
    rng = world.rng("links", site.id)
    search = site.kind == "search"
    for target in world.sites:
        if not target.hidden or (target.id == site.id and not search):
            continue
        if target.config.get("mirror_of"):
            continue  # a mirror's address is for the campaign to announce, not the directory
        link_id = len(rows.links) + 1
        # Drawn either way, so a description leaves the other sites' blurbs as they were.
        blurb = describe(target, rng, detailed=search)
        declared = scenario_site(world, target)
        if declared.description:
            index = world.scenario.sites.index(declared)
            where = texts.where(declared.description_line, f"sites[{index}].description")
            texts.row("links", "description", link_id, declared.description, where)
        rows.links.append(
            (link_id, site.id, target.id, target.name, blurb, CATEGORY.get(target.kind, "Other"))
        )
