"""Accounts on every site, their handles and PGP keys, and the rows collected for the other tables."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sandbox.pgp import PgpKey, make_key
from sandbox.world.content.handles import Handles
from sandbox.world.content.world import DAY, ActorRow, SiteRow, WorldSoFar, mail_onion

DONATION_BIOS = (
    "We are an independent collective. Every donation goes straight to the cause; "
    "we publish what we receive and what we spend.",
    "Volunteer-run fund. Donate in BTC to the address below, verify it with our PGP key "
    "before sending. We never ask for donations by PM.",
    "Support the movement. Our address is signed with our key; beware of impostors "
    "posting other addresses.",
)


@dataclass
class Account:
    """One row of `accounts`, kept mutable until sales and ratings are known."""

    id: int
    site_id: str
    actor_id: str
    handle: str
    role: str
    joined: int
    bio: str
    location: str | None = None
    email: str | None = None
    pgp_fingerprint: str | None = None
    btc_address_id: int | None = None
    sales: int = 0
    rating: float | None = None

    def row(self) -> tuple:
        """The values in the column order of `accounts`."""
        return (
            self.id, self.site_id, self.actor_id, self.handle, self.role, self.joined,
            self.bio, self.location, self.email, self.pgp_fingerprint, self.btc_address_id,
            self.sales, self.rating,
        )  # fmt: skip


@dataclass
class Rows:
    """Rows of the content tables, in id order, waiting to be inserted."""

    listings: list[tuple] = field(default_factory=list)
    photos: list[tuple] = field(default_factory=list)
    feedback: list[tuple] = field(default_factory=list)
    boards: list[tuple] = field(default_factory=list)
    threads: list[tuple] = field(default_factory=list)
    posts: list[tuple] = field(default_factory=list)
    links: list[tuple] = field(default_factory=list)
    photo_counter: dict[str, int] = field(default_factory=dict)  # actor -> next camera number


class Accounts:
    """Every account of the world, with the keys and handles given out so far."""

    def __init__(self, world: WorldSoFar):
        """Start empty; handles are checked against every actor's real user name."""
        self.world = world
        self.handles = Handles(list(world.actors.values()))
        self.all: list[Account] = []
        self._by_site_actor: dict[tuple[str, str], Account] = {}
        self._keys: dict[tuple[str, str], PgpKey] = {}
        # One fictional onion mail provider per world, as vendors use for contact addresses.
        self.mail_domain = mail_onion(world.seed)
        self.personas = personas(world)
        self.home = home_sites(world, self.personas)

    def get(self, site_id: str, actor_id: str) -> Account | None:
        """The actor's account on that site, if any."""
        return self._by_site_actor.get((site_id, actor_id))

    def on(self, site_id: str) -> list[Account]:
        """Accounts of one site in id order."""
        return [a for a in self.all if a.site_id == site_id]

    def handle_for(self, site: SiteRow, actor: ActorRow, style: str) -> str:
        """The actor's handle on the site: the user name only where the scenario puts it."""
        # A user name written in the scenario is the persona's handle on its home site; a
        # generated one is the person's everyday name, seen only on the social site.
        persona = actor.id in self.personas
        if (
            actor.has("reuses_username")
            or self.home.get(actor.id) == site.id
            or (site.kind == "social" and not persona)
        ):
            handle = self.handles.real(site.id, actor)
            if handle:
                return handle
        if site.kind == "social":
            style = "clearnet"
        rng = self.world.rng("handle", site.id, actor.id)
        return self.handles.invent(site.id, rng, style, actor)

    def add(
        self,
        site: SiteRow,
        actor: ActorRow,
        role: str,
        joined: int,
        bio: str,
        style: str = "member",
        **extra,
    ) -> Account:
        """Open an account for the actor (or return the one already there)."""
        existing = self.get(site.id, actor.id)
        if existing is not None:
            return existing
        handle = self.handle_for(site, actor, style)
        account = Account(len(self.all) + 1, site.id, actor.id, handle, role, joined, bio, **extra)
        self.all.append(account)
        self._by_site_actor[(site.id, actor.id)] = account
        return account

    def key_for(self, site: SiteRow, actor: ActorRow, account: Account) -> PgpKey:
        """The actor's PGP key for this site (one key everywhere for reuses_pgp_key), linked to the account."""
        scope = "*" if actor.has("reuses_pgp_key") else site.id
        key = self._keys.get((actor.id, scope))
        if key is None:
            rng = self.world.rng("pgp", actor.id, scope)
            if rng.random() < 0.75:
                created = self.world.start - rng.randrange(DAY, 365 * DAY)
            else:
                created = self.world.start + rng.randrange(0, 4 * DAY)
            handle = account.handle
            if actor.has("email_in_pgp") and actor.email:
                user_id = f"{handle} <{actor.email}>"
            elif rng.random() < 0.5:
                user_id = f"{handle} <{handle.lower()}@{self.mail_domain}>"
            else:
                user_id = handle
            seed = f"{self.world.seed}/{actor.id}/{scope}".encode()
            key = make_key(seed, user_id, created)
            self._keys[(actor.id, scope)] = key
        account.pgp_fingerprint = key.fingerprint
        if f"@{self.mail_domain}>" in key.user_id and account.role in ("vendor", "admin"):
            account.email = key.user_id.split("<", 1)[1].rstrip(">")
        return key

    def key_rows(self) -> list[tuple]:
        """Rows of `pgp_keys`, one per distinct key, in the order they were made."""
        return [
            (k.fingerprint, actor_id, k.user_id, k.created, k.public_armored, k.secret_armored)
            for (actor_id, _scope), k in self._keys.items()
        ]

    def key_of(self, actor_id: str, site_id: str) -> PgpKey | None:
        """The key an actor uses on a site, if one was made."""
        return self._keys.get((actor_id, "*")) or self._keys.get((actor_id, site_id))


def personas(world: WorldSoFar) -> set[str]:
    """Actors whose user name the scenario wrote itself: a pseudonym, not an everyday name."""
    return {a.id for a in world.scenario.actors if a.username and a.count == 1}


def home_sites(world: WorldSoFar, persona_ids: set[str]) -> dict[str, str]:
    """The one site where each persona goes by its scenario user name: the site it runs, else
    the first one featuring it."""
    home: dict[str, str] = {}
    kinds = {s.id: s.kind for s in world.sites}
    for site in world.scenario.sites:
        if site.operator in persona_ids and kinds.get(site.id) not in (None, "social", "paste"):
            home.setdefault(site.operator, site.id)
    for site in world.scenario.sites:
        if kinds.get(site.id) in (None, "social", "paste"):
            continue
        for actor_id in site.featured:
            if actor_id in persona_ids:
                home.setdefault(actor_id, site.id)
    return home


def joined_before(world: WorldSoFar, rng: random.Random, lo_days: int, hi_days: int) -> int:
    """A sign-up time between lo_days and hi_days before the world starts."""
    return world.start - rng.randrange(lo_days * DAY, hi_days * DAY)


def write_donation(world: WorldSoFar, book: Accounts, site: SiteRow) -> None:
    """The donation site's one account: its fundraiser, with the published donation address."""
    operator = world.actors.get(site.operator_id or "")
    if operator is None:
        return
    rng = world.rng("donation", site.id)
    account = book.add(
        site,
        operator,
        "operator",
        joined_before(world, rng, 60, 400),
        rng.choice(DONATION_BIOS),
        style="vendor",
    )
    book.key_for(site, operator, account)
    account.btc_address_id = world.published.get((operator.id, "donation", site.id))
