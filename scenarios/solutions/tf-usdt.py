"""Reference solution of `tf-usdt`: campaign channel -> site -> USDT pool -> OTC broker, swap
service and exchange -> KYC -> the issuer's freeze.

Every Tron step uses the toolkit's Tron index (`investigate sync --tron`), Tronscan's public
tags, and the portals' law-enforcement APIs, all through the gateway.
"""

from __future__ import annotations

import re
import time

from investigator_tools.tron import TronLabels, TronNode, address_summary, sync_tron, trace
from scenarios.solutions._steps import (
    ONION_URL,
    SITE_URL,
    Unsolved,
    bold,
    brief_url,
    exchange_domain,
    fetch,
    kyc,
    le_request,
    linked_site,
    page_text,
)

USDT = 1_000_000  # USDT has 6 decimals
TRON_ADDRESS = re.compile(r"\bT[1-9A-HJ-NP-Za-km-z]{33}\b")


def _brief_host(ctx, what: str) -> str:
    """The URL the brief gives for a Tron service (the node, Tronscan)."""
    for url in SITE_URL.findall(ctx.brief):
        if what in url:
            return url.rstrip("/")
    raise Unsolved(f"the brief gives no URL for {what}")


def tron(ctx) -> TronLabels:
    """The seat's Tron index, synced once from the node the brief names; Tronscan's labels."""
    if "tron" not in ctx.memo:
        node = TronNode(_brief_host(ctx, "trongrid"), proxy=ctx.proxy)
        sync_tron(ctx.case, node)
        ctx.memo["tron"] = TronLabels(ctx.case, _brief_host(ctx, "tronscan"), ctx.proxy)
    return ctx.memo["tron"]


def _channels(ctx) -> dict[str, object]:
    """Every channel page of the social network the brief names, by channel name."""
    if "channels" not in ctx.memo:
        social = _brief_host(ctx, "birlik")
        listing = page_text(fetch(ctx, f"{social}/c/"))
        ctx.memo["channels"] = {
            a.get_text(strip=True): page_text(fetch(ctx, social + a["href"]))
            for a in listing.select(".status .who a[href]")
        }
    return ctx.memo["channels"]


def site_address(ctx) -> str:
    """The campaign's channel pins its site; the first pinned onion is the site (the later
    one is its backup)."""
    name = bold(ctx.brief)
    for title, page in _channels(ctx).items():
        if name not in title:
            continue
        for pinned in page.select(".status.pinned .text"):
            found = ONION_URL.search(pinned.get_text())
            if found:
                return found.group(0).split("//", 1)[1].rstrip("/")
        raise Unsolved(f"the channel {title!r} pins no onion address")
    raise Unsolved(f"no channel on Birlik is called after {name!r}")


def published_address(ctx) -> str:
    """The campaign's site names the USDT address it dropped."""
    if "published" not in ctx.memo:
        site = f"http://{site_address(ctx)}/"
        for notice in page_text(fetch(ctx, site)).select("p.notice"):
            if "old USDT address" in notice.get_text():
                ctx.memo["published"] = notice.select_one(".address").get_text(strip=True)
                break
        else:
            raise Unsolved(f"{site} names no old USDT address")
    return ctx.memo["published"]


def _outgoing(ctx, address: str) -> list[dict]:
    """The USDT transfers an address sent, oldest first, from a one-hop forward trace."""
    result = trace(ctx.case, address, hops=1, method="poison", labels=tron(ctx), min_amount=0)
    return [h for h in result.hops if h["from"] == address]


def pool(ctx) -> str:
    """Where the published address's USDT went: the campaign's pool."""
    if "pool" not in ctx.memo:
        sent = _outgoing(ctx, published_address(ctx))
        if not sent:
            raise Unsolved(f"no USDT ever left {published_address(ctx)}")
        ctx.memo["pool"] = sent[0]["to"]
    return ctx.memo["pool"]


def total_raised(ctx) -> str:
    """Every donation address emptied into the pool: what it received is what was raised."""
    received = address_summary(ctx.case, pool(ctx), tron(ctx))["usdt"]["received"]
    return f"{received / USDT:.6f}"


def _payments(ctx) -> list[dict]:
    """The pool's outgoing USDT payments, with where each one went next."""
    if "payments" not in ctx.memo:
        labels = tron(ctx)
        out = []
        for leg in _outgoing(ctx, pool(ctx)):
            # One hop on: an exchange sweeps a customer's deposit into its hot wallet.
            onward = trace(ctx.case, leg["txid"], hops=1, method="haircut", labels=labels)
            out.append({**leg, "services": onward.services()})
        ctx.memo["payments"] = out
    return ctx.memo["payments"]


def _cash_out(ctx) -> dict:
    """The payment whose USDT reached an exchange's hot wallet (a deposit, swept)."""
    for payment in _payments(ctx):
        exchanges = [s for s in payment["services"] if s["category"] == "exchange"]
        if exchanges:
            return {**payment, "exchange": exchanges[0]["label"].split(":")[0].strip()}
    raise Unsolved(f"no USDT from {pool(ctx)} reached an exchange")


def cashout_exchange(ctx) -> str:
    """The exchange the pool's deposit was swept into (its hot wallet's public tag)."""
    return _cash_out(ctx)["exchange"]


def account_holder(ctx) -> str:
    """KYC (court order) about the deposit address the pool paid."""
    payment = _cash_out(ctx)
    host = exchange_domain(ctx, payment["exchange"])
    return kyc(ctx, host, payment["to"])["subscriber"]["name"]


def _swap_host(ctx) -> str:
    """The instant swap service's onion, from the link directory."""
    if "swap_host" not in ctx.memo:
        url = linked_site(ctx, brief_url(ctx), _swap_name(ctx))
        ctx.memo["swap_host"] = url.split("//", 1)[1].rstrip("/")
    return ctx.memo["swap_host"]


def _swap_name(ctx) -> str:
    """The swap service the brief names."""
    found = re.search(r"instant swap service \*?\*?([A-Z][A-Za-z]+)", ctx.brief)
    if not found:
        raise Unsolved("the brief names no instant swap service")
    return found.group(1)


def _swap_order(ctx) -> dict:
    """The swap service's order for one of the pool's payments (asked about each, by txid)."""
    if "swap_order" not in ctx.memo:
        for payment in _payments(ctx):
            if payment["services"]:
                continue  # an exchange's deposit, not a swap's
            record = le_request(ctx, _swap_host(ctx), payment["txid"], ["orders"])
            found = (record.get("answer") or {}).get("orders") or []
            if found:
                ctx.memo["swap_order"] = {**found[0], "payment": payment}
                break
        else:
            raise Unsolved(f"{_swap_host(ctx)} has no order for any payment from {pool(ctx)}")
    return ctx.memo["swap_order"]


def swap_payout(ctx) -> str:
    """The Bitcoin address the swap service paid the order out to."""
    return _swap_order(ctx)["to"]["address"]


def otc_address(ctx) -> str:
    """The pool's payment that is neither the exchange deposit nor the swap's deposit, to a
    wallet an OTC desk advertises in the social network's chats."""
    swap_txid = _swap_order(ctx)["payment"]["txid"]
    left = {p["to"] for p in _payments(ctx) if not p["services"] and p["txid"] != swap_txid}
    advertised = {
        address
        for page in _channels(ctx).values()
        for line in page.select(".status .text")
        for address in TRON_ADDRESS.findall(line.get_text())
    }
    desks = left & advertised
    if len(desks) != 1:
        raise Unsolved(f"{len(desks)} of the pool's payments go to a desk advertised on Birlik")
    return desks.pop()


def _issuer(ctx, subject: str, asks: list[str], wallet: str | None = None) -> dict:
    """A court-ordered, confidential request to the USDT issuer the brief names; its answer."""
    host = exchange_domain(ctx, "Tether")
    record = le_request(ctx, host, subject, asks, wallet=wallet, confidential=True)
    answer = record.get("answer") or {}
    if answer.get("status") == "refused":
        raise Unsolved(f"Tether refused {asks} of {subject}: {answer.get('reason')}")
    return answer


def freeze(ctx) -> str:
    """Freeze the pool, where what is left of the money sits; wait until it is blacklisted."""
    if "freeze" not in ctx.memo:
        answer = _issuer(ctx, pool(ctx), ["freeze"])
        deadline = time.monotonic() + 60
        while not _blacklisted(ctx, pool(ctx)):
            if time.monotonic() > deadline:
                raise Unsolved(
                    f"Tether's freeze {answer.get('reference')} of {pool(ctx)} never took effect"
                )
            time.sleep(1)
        ctx.memo["freeze"] = answer["reference"]
    return ctx.memo["freeze"]


def _blacklisted(ctx, address: str) -> bool:
    """Whether the issuer says the address is on its blacklist now."""
    status = (_issuer(ctx, address, ["status"]).get("items") or {}).get("status") or {}
    return bool(status.get("blacklisted"))


def seize(ctx) -> str:
    """Have the frozen USDT reissued to the seat's Tron training wallet (from the brief)."""
    freeze(ctx)
    found = re.search(
        r"^- Tron training wallet address: `(T[1-9A-HJ-NP-Za-km-z]{33})`", ctx.brief, re.M
    )
    if not found:
        raise Unsolved("the brief gives no Tron training wallet")
    return _issuer(ctx, pool(ctx), ["reissue"], wallet=found.group(1))["reference"]


SOLVERS = {
    "site-address": site_address,
    "usdt-address": published_address,
    "pool-wallet": pool,
    "total-raised": total_raised,
    "otc-address": otc_address,
    "swap-payout": swap_payout,
    "cashout-exchange": cashout_exchange,
    "account-holder": account_holder,
    "freeze": freeze,
    "seize": seize,
}
