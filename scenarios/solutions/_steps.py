"""Investigation steps the reference solutions share, built on the trainee's toolkit only.

A step does what a trainee would do with `investigate` or a browser: crawl a page through
the gateway, read what the extractors found, follow money on the explorer, ask an
exchange. None of them reads the world: `sandbox check` runs them to prove that a
scenario's answers can be found over the network.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from investigator_tools import crawl, extract, submit_request, sync, trace
from investigator_tools.chain.labels import LabelBook

ONION_URL = re.compile(r"https?://[a-z2-7]{56}\.onion/?")
SITE_URL = re.compile(r"https?://[a-z0-9.-]+\.(?:onion|test)/?")


class Unsolved(Exception):
    """The evidence an objective needs was not found where a trainee would look."""


def bold(text: str) -> str:
    """The first **bold** phrase of a Markdown text (how briefs name the target)."""
    found = re.search(r"\*\*(.+?)\*\*", text)
    if not found:
        raise Unsolved("the brief names no target in **bold**")
    return found.group(1).strip()


def brief_url(ctx, hint: str = "") -> str:
    """The first site URL the brief gives (the link directory, usually)."""
    found = SITE_URL.search(ctx.brief)
    if not found:
        raise Unsolved(f"the brief gives no site URL {hint}".strip())
    return found.group(0).rstrip("/") + "/"


def fetch(ctx, url: str):
    """Capture one page into the case (no link following) and return the capture."""
    crawl(ctx.case, [url], proxy=ctx.proxy, depth=0, max_pages=5, rate=0, probe=False)
    host = urlsplit(url).hostname
    for capture in reversed(ctx.case.captures(host)):
        if capture.url.rstrip("/") == url.rstrip("/"):
            return capture
    raise Unsolved(f"{url} could not be fetched")


def page_text(capture) -> BeautifulSoup:
    """A captured page, parsed."""
    return BeautifulSoup(capture.body, "lxml")


def linked_site(ctx, directory_url: str, name: str) -> str:
    """The URL a link directory (or any page) gives for the site called name."""
    soup = page_text(fetch(ctx, directory_url))
    for a in soup.find_all("a", href=True):
        if name.lower() in a.get_text(" ", strip=True).lower() and SITE_URL.match(a["href"]):
            return SITE_URL.match(a["href"]).group(0).rstrip("/") + "/"
    raise Unsolved(f"{directory_url} lists no site called {name!r}")


def social_name(ctx, host: str, handle: str) -> str:
    """The name a social site's profile page of a handle shows (its heading)."""
    url = f"http://{host}/u/{handle}"
    capture = fetch(ctx, url)
    heading = page_text(capture).find("h1") if capture.status == 200 else None
    if heading is None:
        raise Unsolved(f"{url}: HTTP {capture.status}, no profile of {handle} there")
    return heading.get_text(strip=True)


def read_off(ctx, kind: str, url: str, what: str) -> str:
    """Fetch a page; the first value of an artefact kind the extractors find on it."""
    fetch(ctx, url)
    extract(ctx.case)
    row = ctx.case.conn.execute(
        "SELECT value FROM artefacts WHERE kind = ? AND url = ? ORDER BY id LIMIT 1",
        (kind, url),
    ).fetchone()
    if row is None:
        raise Unsolved(f"{url} shows no {what}")
    return row[0]


def synced(ctx) -> None:
    """Bring the case's copy of the chain up to the explorer's tip, once per solution."""
    if not ctx.memo.get("synced"):
        sync(ctx.case, ctx.explorer)
        ctx.memo["synced"] = True


def services(ctx, address: str, hops: int = 8) -> list[dict]:
    """Labelled services an address's money reaches, largest share first."""
    synced(ctx)
    result = trace(
        ctx.case, address, direction="forward", hops=hops, labels=LabelBook(ctx.case, ctx.explorer)
    )
    ctx.memo.setdefault("traces", {})[address] = result
    return result.services()


def first_service(ctx, address: str, category: str = "exchange", hops: int = 8) -> dict:
    """The endpoint of the service (of a category) that received most of an address's money."""
    reached = [s for s in services(ctx, address, hops) if s["category"] == category]
    if not reached:
        raise Unsolved(f"no {category} reached within {hops} hops of {address}")
    result = ctx.memo["traces"][address]
    label = reached[0]["label"]
    return next(e for e in result.endpoints if e["kind"] == "service" and e["label"] == label)


def exchange_reached(ctx, address: str, hops: int = 8) -> dict:
    """The exchange endpoint an address's money reaches most (traced once per address)."""
    reached = ctx.memo.setdefault("exchange_reached", {})
    if address not in reached:
        reached[address] = first_service(ctx, address, hops=hops)
    return reached[address]


def account_behind(ctx, address: str, hops: int = 8) -> dict:
    """KYC (court order) about the deposit through which an address's money reached an exchange."""
    endpoint = exchange_reached(ctx, address, hops)
    deposit = deposit_before(ctx, address, endpoint)
    return kyc(ctx, exchange_domain(ctx, endpoint["label"]), deposit)


def deposit_before(ctx, address: str, endpoint: dict) -> str:
    """The traced input of the transaction into a service's wallet: the customer's deposit."""
    result = ctx.memo["traces"][address]
    hop = next((h for h in result.hops if h["txid"] == endpoint["txid"]), None)
    tainted = [i for i in (hop or {}).get("inputs", ()) if i["tainted"] > 0]
    if not tainted:
        raise Unsolved(f"the trace of {address} shows no deposit into {endpoint['label']}")
    return max(tainted, key=lambda i: i["tainted"])["address"]


def spends(ctx, address: str) -> list[dict]:
    """The transactions that spend from an address, oldest first."""
    txs = ctx.explorer.json(f"address/{address}/txs")
    out = [
        tx
        for tx in txs
        if any(v.get("prevout", {}).get("scriptpubkey_address") == address for v in tx["vin"])
    ]
    if not out:
        raise Unsolved(f"nothing was ever spent from {address}")
    return sorted(out, key=lambda tx: tx["status"].get("block_height", 1 << 30))


def received(ctx, address: str) -> float:
    """BTC an address has received in all, from the explorer."""
    stats = ctx.explorer.address(address)["chain_stats"]
    return stats["funded_txo_sum"] / 1e8


def exchange_domain(ctx, name: str) -> str:
    """The portal host the brief gives for an exchange called name, e.g. coinvault.test."""
    found = re.search(re.escape(name) + r"\s*\(([a-z0-9.-]+\.test)\)", ctx.brief, re.I)
    if not found:
        raise Unsolved(f"the brief gives no portal for the exchange {name!r}")
    return found.group(1)


def agency(ctx) -> dict:
    """The seat's agency, officer, email and portal API token, as its brief gives them."""
    found = {
        "agency": re.search(r"^- Agency: (.+)$", ctx.brief, re.M),
        "officer": re.search(r"^- Officer: (.+)$", ctx.brief, re.M),
        "email": re.search(r"^- Officer's email: `([^`]+)`$", ctx.brief, re.M),
        "token": re.search(r"^- API token\b.*`(le_[0-9a-f]+)`$", ctx.brief, re.M),
    }
    missing = [name for name, m in found.items() if m is None]
    if missing:
        raise Unsolved(f"the brief gives no {', '.join(missing)} for the exchanges' portals")
    return {
        "agency": found["agency"].group(1).strip(),
        "officer": found["officer"].group(1).strip(),
        "email": found["email"].group(1),
        "token": found["token"].group(1),
    }


def le_request(ctx, host: str, subject: str, asks: list[str], **options) -> dict:
    """A court-ordered request to a law-enforcement portal (an exchange's, the issuer's, a
    swap service's) with the seat's agency and token; the stored record."""
    papers = agency(ctx)
    return submit_request(
        ctx.case,
        host,
        subject,
        legal_basis="court_order",
        case_number="CHECK-1",
        agency=papers["agency"],
        officer=papers["officer"],
        email=papers["email"],
        asks=asks,
        document_ref="CO-CHECK-1",
        proxy=ctx.proxy,
        token=papers["token"],
        **options,
    )


def kyc(ctx, exchange_host: str, subject: str) -> dict:
    """An exchange's KYC answer about an address or transaction (a court-order request)."""
    record = le_request(ctx, exchange_host, subject, ["kyc"])
    accounts = (record.get("answer") or {}).get("accounts") or []
    if not accounts:
        raise Unsolved(f"{exchange_host} holds no account for {subject}")
    return accounts[0]
