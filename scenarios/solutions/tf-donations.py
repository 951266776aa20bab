"""Reference solution of `tf-donations`: campaign site -> consolidation -> peel chain -> KYC."""

from __future__ import annotations

from scenarios.solutions._steps import (
    Unsolved,
    account_behind,
    bold,
    brief_url,
    exchange_reached,
    fetch,
    linked_site,
    page_text,
    spends,
)


def donation_address(ctx) -> str:
    """Find the campaign on the link directory; its front page names the address it used."""
    if "donation" not in ctx.memo:
        site = linked_site(ctx, brief_url(ctx), bold(ctx.brief))
        notices = page_text(fetch(ctx, site)).select("p.notice")
        old = [n.select_one(".address") for n in notices if "old address" in n.get_text()]
        if not old or old[0] is None:
            raise Unsolved(f"{site} names no old donation address")
        ctx.memo["donation"] = old[0].get_text(strip=True)
    return ctx.memo["donation"]


def consolidation(ctx) -> dict:
    """The first transaction spending from the published address: many inputs, one output."""
    if "sweep" not in ctx.memo:
        sweep = spends(ctx, donation_address(ctx))[0]
        outputs = [v for v in sweep["vout"] if v.get("scriptpubkey_address")]
        if len(outputs) != 1:
            raise Unsolved(f"{sweep['txid']} is no consolidation ({len(outputs)} outputs)")
        ctx.memo["sweep"] = sweep
    return ctx.memo["sweep"]


def campaign_wallet(ctx) -> str:
    """The address the donations were consolidated into."""
    return consolidation(ctx)["vout"][0]["scriptpubkey_address"]


def total_raised(ctx) -> str:
    """What the consolidation spent: every donation, on the published and the fresh addresses."""
    sats = sum(v["prevout"]["value"] for v in consolidation(ctx)["vin"])
    return f"{sats / 100_000_000:.8f}"


def cashout_exchange(ctx) -> str:
    """Trace the consolidated wallet forward, through the peel chain, to an exchange."""
    return exchange_reached(ctx, campaign_wallet(ctx), hops=10)["label"]


def account_holder(ctx) -> str:
    """Ask that exchange (court order) who holds the deposit address the chain ended in."""
    return account_behind(ctx, campaign_wallet(ctx), hops=10)["subscriber"]["name"]


SOLVERS = {
    "donation-address": donation_address,
    "campaign-wallet": campaign_wallet,
    "total-raised": total_raised,
    "cashout-exchange": cashout_exchange,
    "account-holder": account_holder,
}
