"""The address a campaign shows each visitor, on its donation site or through a channel's bot.

A campaign publishes one address, or gives every donor a fresh one (from the start with
`fresh_address_per_donor`, or from `fresh_address_from_day` on). A fresh address belongs to
the visitor's session and is numbered in the campaign's sequence in the state file, which
the donation site and the bots of channels share: two visitors never get the same address,
wherever they ask.
"""

from __future__ import annotations

from .addresses import fresh_address, fresh_tron_address
from .state import StateStore
from .world import Site, World


def fresh_since(world: World, campaign: Site, now: int) -> int | None:
    """Since when every donor gets a new address (None: the campaign has one address now)."""
    config = campaign.config
    if config.get("fresh_address_per_donor"):
        return world.start
    if config.get("fresh_address_from_day") is None:
        return None
    since = world.start + int(config["fresh_address_from_day"] * 86_400)
    return since if now >= since else None


def operator_account(world: World, campaign: Site) -> dict | None:
    """The campaign's operator account on its site."""
    if campaign.operator_id:
        account = world.accounts.by_actor(campaign.id, campaign.operator_id)
        if account is not None:
            return account
    accounts = world.accounts.of_site(campaign.id)
    return accounts[0] if accounts else None


def btc_address(world: World, state: StateStore, campaign: Site, sid: str, now: int) -> str | None:
    """The Bitcoin address for this visitor: the published one, or the session's own (None
    for a campaign that takes only USDT)."""
    if "btc" not in campaign.config.get("donation_chains", ["btc"]):
        return None
    wallet = world.wallets.of_site(campaign.id, "donation")
    if fresh_since(world, campaign, now) is not None:
        wallet_id = wallet["id"] if wallet else 0

        def derive(number: int) -> str:
            """The number-th donor address of the donation wallet."""
            return fresh_address(world.seed, wallet_id, f"donation/{campaign.id}", number)

        return state.donor_address(campaign.id, sid, derive, now)
    account = operator_account(world, campaign)
    published = world.wallets.address(account["btc_address_id"]) if account else None
    if published is None and wallet is not None:
        published = world.wallets.published(wallet["id"])
    return published


def usdt_address(
    world: World, state: StateStore, campaign: Site, sid: str, now: int
) -> tuple[str | None, str | None]:
    """The USDT (TRC-20) address for this visitor, and the published one it replaced (None
    when the campaign takes no USDT, or shows its published address)."""
    if "tron" not in campaign.config.get("donation_chains", []) or not campaign.operator_id:
        return None, None
    published = world.wallets.tron_published(campaign.operator_id, campaign.id)
    if fresh_since(world, campaign, now) is None:
        return published, None

    def derive(number: int) -> str:
        """The number-th donor's own USDT address."""
        return fresh_tron_address(world.seed, campaign.id, number)

    # Its own namespace in the donor table, so a visitor's BTC and USDT numbers never mix.
    return state.donor_address(f"{campaign.id}/tron", sid, derive, now), published
