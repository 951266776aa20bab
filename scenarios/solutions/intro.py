"""Reference solution of `intro`: directory -> market -> vendor profile -> explorer trace."""

from __future__ import annotations

from scenarios.solutions._steps import (
    bold,
    brief_url,
    exchange_reached,
    linked_site,
    read_off,
)

MARKET = "Copperleaf Market"


def market_onion(ctx) -> str:
    """Read the market's .onion address off the link directory named in the brief."""
    if "market" not in ctx.memo:
        ctx.memo["market"] = linked_site(ctx, brief_url(ctx), MARKET)
    return ctx.memo["market"].split("//", 1)[1].rstrip("/")


def vendor_address(ctx) -> str:
    """Open the target's vendor profile and read the Bitcoin address it publishes."""
    if "address" not in ctx.memo:
        url = f"http://{market_onion(ctx)}/vendor/{bold(ctx.brief)}"
        ctx.memo["address"] = read_off(ctx, "btc_address", url, "Bitcoin address: none published")
    return ctx.memo["address"]


def cashout_exchange(ctx) -> str:
    """Trace the published address forward to the exchange that received the money."""
    return exchange_reached(ctx, vendor_address(ctx))["label"]


SOLVERS = {
    "market-onion": market_onion,
    "vendor-address": vendor_address,
    "cashout-exchange": cashout_exchange,
}
