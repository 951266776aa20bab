"""Reference solution of `vendor-takedown`: PGP key, social profile, trace, KYC, seizure."""

from __future__ import annotations

import re

from investigator_tools import sweep
from scenarios.solutions._steps import (
    Unsolved,
    account_behind,
    bold,
    brief_url,
    exchange_reached,
    fetch,
    linked_site,
    page_text,
    read_off,
    social_name,
)

MARKET = "Larkspur Market"
SEED_WORDS = re.compile(r"seed words:\s*\n((?:[a-z]+[ \n]){11}[a-z]+)")


def _profile(ctx) -> str:
    """The URL of the target's vendor profile on the market (found via the directory)."""
    if "profile" not in ctx.memo:
        market = linked_site(ctx, brief_url(ctx), MARKET)
        ctx.memo["profile"] = f"{market}vendor/{bold(ctx.brief)}"
    return ctx.memo["profile"]


def pgp_email(ctx) -> str:
    """The email the extractors read out of the PGP key on the vendor profile."""
    return read_off(ctx, "email", _profile(ctx), "email (none in the PGP key's user id)")


def real_name(ctx) -> str:
    """Look the same handle up on the social network the brief names; read the profile name."""
    social = re.search(r"\(([a-z0-9-]+\.test)\)", ctx.brief)
    if not social:
        raise Unsolved("the brief names no social network")
    return social_name(ctx, social.group(1), bold(ctx.brief))


def camera_serial(ctx) -> str:
    """The EXIF body serial of a photo on one of the vendor's listings."""
    profile = page_text(fetch(ctx, _profile(ctx)))
    market = _profile(ctx).split("/vendor/", 1)[0]
    for link in profile.find_all("a", href=re.compile(r"^/listing/\d+$")):
        listing = page_text(fetch(ctx, market + link["href"]))
        for img in listing.find_all("img", src=re.compile(r"^/photos/")):
            return read_off(ctx, "camera_serial", market + img["src"], "EXIF camera serial")
    raise Unsolved("no listing of the vendor shows a photo")


def _published(ctx) -> str:
    """The Bitcoin address the vendor publishes on his profile."""
    return read_off(ctx, "btc_address", _profile(ctx), "Bitcoin address: none published")


def cashout_exchange(ctx) -> str:
    """The exchange the trace of the published address reaches."""
    return exchange_reached(ctx, _published(ctx))["label"]


def exchange_account(ctx) -> str:
    """KYC (court order) about the deposit address before the exchange's wallet."""
    return account_behind(ctx, _published(ctx))["account_id"]


def seize(ctx) -> str:
    """Sweep the wallet of the phone's recovery words into the evidence (training) wallet."""
    notes = ctx.artefacts.get("phone", b"").decode("utf-8", "replace")
    found = SEED_WORDS.search(notes)
    if not found:
        raise Unsolved("the phone's notes hold no recovery words")
    if not ctx.wallet_address:
        raise Unsolved("the seat has no training wallet to seize into")
    words = " ".join(found.group(1).split())
    report = sweep(ctx.case, ctx.explorer, to=ctx.wallet_address, mnemonic=words)
    if not report.get("txid"):
        raise Unsolved(f"the phone's wallet holds no coins: {report.get('message')}")
    return report["txid"]


SOLVERS = {
    "pgp-email": pgp_email,
    "real-name": real_name,
    "camera-serial": camera_serial,
    "cashout-exchange": cashout_exchange,
    "exchange-account": exchange_account,
    "seize": seize,
}
