"""Reference solution of `tf-donations`: campaign site -> consolidation -> peel chain -> KYC."""

from __future__ import annotations

from scenarios.solutions._steps import (
    Unsolved,
    account_behind,
    bold,
    brief_url,
    exchange_reached,
    linked_site,
    read_off,
    received,
    spends,
)


def donation_address(ctx) -> str:
    """Find the campaign on the link directory and read the address its front page shows."""
    if "donation" not in ctx.memo:
        site = linked_site(ctx, brief_url(ctx), bold(ctx.brief))
        ctx.memo["donation"] = read_off(ctx, "btc_address", site, "donation address")
    return ctx.memo["donation"]


def campaign_wallet(ctx) -> str:
    """The single output of the first transaction spending from the donation address."""
    if "wallet" not in ctx.memo:
        sweep = spends(ctx, donation_address(ctx))[0]
        outputs = [
            v["scriptpubkey_address"] for v in sweep["vout"] if v.get("scriptpubkey_address")
        ]
        if len(outputs) != 1:
            raise Unsolved(f"{sweep['txid']} is no consolidation ({len(outputs)} outputs)")
        ctx.memo["wallet"] = outputs[0]
    return ctx.memo["wallet"]


def total_raised(ctx) -> str:
    """What the donation address received in all, per the explorer."""
    return f"{received(ctx, donation_address(ctx)):.8f}"


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
