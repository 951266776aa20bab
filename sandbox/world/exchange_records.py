"""What each exchange knows beyond the chain: customer accounts and their login history.

`write_exchange_records` runs after the ledger and the content are stored. It reads who
deposited to or withdrew from each exchange, derives every row from the world seed alone
and inserts `exchange_accounts` and `exchange_logins`. IPs come only from the
documentation ranges (RFC 5737 and 2001:db8::/32), so nothing points at a real host.

The planted correlations: a suspect with OPSEC traits mostly logs in through VPN exits
but now and then from his real home IP; a market's operator now and then from the
market server's own IP (`sites.server_ip`), which the market's leaks reveal.
"""

from __future__ import annotations

import ipaddress
import json
import random
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from ..scenario.model import Scenario
from .actors import COUNTRIES
from .sites import service_sites

__all__ = ["account_prefix", "write_exchange_records"]

DOC_NETS = ("192.0.2.", "198.51.100.", "203.0.113.")
VPN_EXITS = 14
VPN_COUNTRIES = ("NL", "CH", "SE", "RO", "IS", "PA", "DE", "FI", "LU", "CZ")
HOSTING_COUNTRIES = ("NL", "DE", "FI", "RO", "MD", "IS", "RU")
SUSPECT_ROLES = ("vendor", "admin", "fundraiser", "mixer")
DAY = 86_400
ISO = {name: code for code, name in COUNTRIES.items()}

DESKTOP_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.3 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/121.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:122.0) Gecko/20100101 Firefox/122.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.66",
)
# Tor Browser's fixed user agent: careful users log in with it through their VPN.
TOR_BROWSER_AGENT = "Mozilla/5.0 (Windows NT 10.0; rv:115.0) Gecko/20100101 Firefox/115.0"
MOBILE_AGENTS = (
    "{app}/4.{minor}.0 (iPhone; iOS 17.3.1; Scale/3.00)",
    "{app}/4.{minor}.0 (iPhone; iOS 16.7.5; Scale/3.00)",
    "{app}/4.{minor}.0 (Android 14; Pixel 7)",
    "{app}/4.{minor}.0 (Android 13; SM-S911B)",
    "{app}/4.{minor}.0 (Android 12; M2101K6G)",
)


@dataclass
class Customer:
    """One actor's relationship with one exchange, as read from the ledger."""

    exchange_id: str
    actor: sqlite3.Row
    activity: list[int] = field(default_factory=list)  # times of deposits and withdrawals
    volume: int = 0  # satoshis in and out


@dataclass
class Person:
    """The network identity of an actor, shared by every exchange he uses."""

    home_ip: str
    country: str
    mobile_ips: list[str]
    desktop_agent: str
    mobile_model: int
    vpn: bool  # a suspect: logs in through VPN exits
    slips_home: bool  # OPSEC traits: the real home IP shows up now and then
    server_ips: list[tuple[str, str]]  # (ip, country) of the markets he operates


def account_prefix(exchange_id: str) -> str:
    """Two capital letters naming an exchange in its account ids ("coinvault" -> "CV")."""
    words = [w for w in exchange_id.replace("_", "-").split("-") if w]
    if len(words) > 1:
        return (words[0][0] + words[1][0]).upper()
    word = words[0] if words else "ex"
    return (word[0] + word[len(word) // 2]).upper()


def write_exchange_records(conn: sqlite3.Connection, scenario: Scenario, seed: int) -> None:
    """Generate every exchange's accounts and logins from the stored world (the caller commits)."""
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    start, end = int(meta["start_time"]), int(meta["end_time"])
    prev = conn.row_factory
    conn.row_factory = sqlite3.Row
    try:
        customers = _customers(conn)
        people, vpn = _people(conn, scenario, customers, seed)
    finally:
        conn.row_factory = prev
    names = dict(conn.execute("SELECT id, name FROM actors WHERE role = 'exchange'"))
    accounts, logins = [], []
    used: dict[str, set[int]] = defaultdict(set)
    for c in sorted(customers.values(), key=lambda c: (c.exchange_id, c.actor["id"])):
        rng = random.Random(f"exchange-records:{seed}:{c.exchange_id}:{c.actor['id']}")
        account = _account(rng, c, used[c.exchange_id], start)
        accounts.append(account)
        app = "".join(w.capitalize() for w in names.get(c.exchange_id, "Exchange").split())
        person = people[c.actor["id"]]
        if account[6] != "dormant":
            logins.extend(_logins(rng, c, person, vpn, account[3], (start, end), app))
    conn.executemany("INSERT INTO exchange_accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?)", accounts)
    conn.executemany("INSERT INTO exchange_logins VALUES (?, ?, ?, ?, ?, ?)", logins)


def _customers(conn: sqlite3.Connection) -> dict[tuple[str, str], Customer]:
    """Everyone who banks with, deposited to or was paid by an exchange, with activity times."""
    actors = {r["id"]: r for r in conn.execute("SELECT * FROM actors ORDER BY id")}
    exchanges = {a["id"] for a in actors.values() if a["role"] == "exchange"}
    customers: dict[tuple[str, str], Customer] = {}

    def customer(exchange_id: str, actor_id: str) -> Customer | None:
        """The (exchange, actor) record, created on first sight."""
        actor = actors.get(actor_id)
        if actor is None or actor_id in exchanges or exchange_id not in exchanges:
            return None
        key = (exchange_id, actor_id)
        if key not in customers:
            customers[key] = Customer(exchange_id, actor)
        return customers[key]

    for a in actors.values():
        if a["exchange_id"]:
            customer(a["exchange_id"], a["id"])
    block_time = dict(conn.execute("SELECT height, time FROM blocks"))
    # Deposits: any output paying an exchange's deposit address, whatever the tx kind.
    deposits = conn.execute(
        """
        SELECT w.actor_id AS exchange_id, a.purpose, o.value, t.height
        FROM wallets w JOIN addresses a ON a.wallet_id = w.id
        JOIN outputs o ON o.address_id = a.id JOIN transactions t ON t.id = o.tx_id
        WHERE w.kind = 'deposit' AND a.purpose LIKE 'deposit:%'
        """
    )
    for r in deposits:
        c = customer(r["exchange_id"], r["purpose"].split(":", 1)[1])
        if c is not None:
            c.activity.append(block_time[r["height"]])
            c.volume += r["value"]
    # Withdrawals: outputs of an exchange's withdrawal batches to wallets it does not own.
    withdrawals = conn.execute(
        """
        SELECT pw.actor_id AS exchange_id, ow.actor_id AS customer, o.value, t.height
        FROM transactions t
        JOIN inputs i ON i.tx_id = t.id AND i.n = 0
        JOIN outputs po ON po.tx_id = i.prev_tx_id AND po.n = i.prev_n
        JOIN addresses pa ON pa.id = po.address_id JOIN wallets pw ON pw.id = pa.wallet_id
        JOIN outputs o ON o.tx_id = t.id
        JOIN addresses oa ON oa.id = o.address_id JOIN wallets ow ON ow.id = oa.wallet_id
        WHERE t.kind = 'withdrawal' AND ow.actor_id != pw.actor_id
        """
    )
    for r in withdrawals:
        c = customer(r["exchange_id"], r["customer"])
        if c is not None:
            c.activity.append(block_time[r["height"]])
            c.volume += r["value"]
    return customers


def _people(
    conn: sqlite3.Connection,
    scenario: Scenario,
    customers: dict[tuple[str, str], Customer],
    seed: int,
) -> tuple[dict[str, Person], list[tuple[str, str]]]:
    """A home IP, mobile IPs and devices per customer (the same at every exchange), and VPN exits."""
    rng = random.Random(f"exchange-people:{seed}")
    sites = conn.execute(
        "SELECT id, kind, operator_id, server_ip FROM sites ORDER BY id"
    ).fetchall()
    # Server IPs stay out of the pool so no innocent customer shares one by chance.
    # The explorer's and exchanges' rows are stored after this runs; derive their IPs too.
    actors = [dict(r) for r in conn.execute("SELECT * FROM actors ORDER BY rowid")]
    taken = {s["server_ip"] for s in [*sites, *service_sites(scenario, actors)]}
    pool = [n + str(h) for n in DOC_NETS for h in range(1, 255) if n + str(h) not in taken]
    rng.shuffle(pool)
    vpn = [(pool.pop(), rng.choice(VPN_COUNTRIES)) for _ in range(VPN_EXITS)]
    markets: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for s in sites:
        if s["kind"] == "market" and s["operator_id"]:
            markets[s["operator_id"]].append((s["server_ip"], rng.choice(HOSTING_COUNTRIES)))
    known = {c.actor["id"]: c.actor for c in customers.values()}
    operators = {s["operator_id"] for s in sites if s["operator_id"]}

    def suspect(a: sqlite3.Row) -> bool:
        """Whether an actor hides behind a VPN: a darknet operator or seller."""
        return not a["background"] and (a["role"] in SUSPECT_ROLES or a["id"] in operators)

    # Suspects first: their home IPs are the planted clue and must be IPv4 and unique.
    order = sorted(known.values(), key=lambda a: (not suspect(a), a["id"]))
    v6_used: set[str] = set()
    people = {}
    for a in order:
        home = pool.pop() if pool else _fresh_v6(rng, 0x0100, v6_used)
        opsec = json.loads(a["opsec"] or "[]")
        people[a["id"]] = Person(
            home_ip=home,
            country=ISO.get(a["country"] or "", a["country"] or "ZZ"),
            mobile_ips=[_fresh_v6(rng, 0xC000, v6_used) for _ in range(rng.randint(1, 3))],
            desktop_agent=TOR_BROWSER_AGENT if suspect(a) else rng.choice(DESKTOP_AGENTS),
            mobile_model=rng.randrange(len(MOBILE_AGENTS)),
            vpn=suspect(a),
            slips_home=suspect(a) and bool(opsec),
            server_ips=markets.get(a["id"], []),
        )
    return people, vpn


def _fresh_v6(rng: random.Random, block: int, used: set[str]) -> str:
    """An unused address in 2001:db8::/32; block separates home ISPs from mobile carriers."""
    while True:
        sub = block + rng.randrange(0x3F00)
        host = rng.getrandbits(64) | 1
        ip = str(ipaddress.IPv6Address((0x20010DB8 << 96) | (sub << 80) | host))
        if ip not in used:
            used.add(ip)
            return ip


def _account(rng: random.Random, c: Customer, used: set[int], start: int) -> tuple:
    """The exchange_accounts row: opened some time before the customer's first activity."""
    first = min(c.activity) if c.activity else start - rng.randint(7, 60) * DAY
    opened = first - rng.randint(3 * DAY, 700 * DAY)
    number = rng.randint(1_000_000, 9_999_999)
    while number in used:
        number = rng.randint(1_000_000, 9_999_999)
    used.add(number)
    account_id = f"{account_prefix(c.exchange_id)}-{number:07d}"
    # Verified (ID document) is the minimum for fiat; big or lucky accounts did enhanced checks.
    enhanced = rng.random() < (0.6 if c.volume >= 1_000_000_000 else 0.15)
    tier, level = ("Verified Plus", 3) if enhanced else ("Verified", 2)
    status = "active" if c.activity or rng.random() < 0.8 else "dormant"
    return (c.exchange_id, c.actor["id"], account_id, opened, tier, level, status, c.actor["iban"])


def _logins(
    rng: random.Random,
    c: Customer,
    p: Person,
    vpn: list[tuple[str, str]],
    opened: int,
    span: tuple[int, int],
    app: str,
) -> list[tuple]:
    """Login rows over the world's time range, plus one before each deposit or withdrawal."""
    start, end = span
    gap = (1.5 if p.vpn else 5.0) * DAY
    times = []
    t = start + rng.expovariate(1 / gap)
    while t < end:
        times.append(int(t))
        t += rng.expovariate(1 / gap)
    times += [a - rng.randint(120, 5400) for a in c.activity]
    times = sorted(x for x in times if opened < x < end)
    mobile_agent = MOBILE_AGENTS[p.mobile_model].format(app=app, minor=rng.randint(8, 19))
    rows = []
    for n, when in enumerate(times):
        ip, agent, country = _source(rng, p, vpn, mobile_agent)
        if p.vpn and p.slips_home and n == len(times) // 2:
            ip, agent, country = p.home_ip, p.desktop_agent, p.country
        if p.server_ips and n == len(times) // 3:
            ip, country = p.server_ips[0]
            agent = p.desktop_agent
        rows.append((c.exchange_id, c.actor["id"], when, ip, agent, country))
    return rows


def _source(
    rng: random.Random, p: Person, vpn: list[tuple[str, str]], mobile_agent: str
) -> tuple[str, str, str]:
    """Where one login came from: home, a phone, a VPN exit or (operators) their server."""
    roll = rng.random()
    if p.vpn:
        if p.server_ips and roll < 0.08:
            ip, country = rng.choice(p.server_ips)
            return ip, p.desktop_agent, country
        if p.slips_home and roll < 0.12:
            return p.home_ip, p.desktop_agent, p.country
        ip, country = rng.choice(vpn)
        return ip, p.desktop_agent, country
    if roll < 0.6:
        return p.home_ip, p.desktop_agent, p.country
    if roll < 0.95:
        return rng.choice(p.mobile_ips), mobile_agent, p.country
    ip, country = rng.choice(vpn)
    return ip, p.desktop_agent, country
