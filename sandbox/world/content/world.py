"""What the content generator reads from world.db, and the seeded randomness it draws from."""

from __future__ import annotations

import hashlib
import json
import random
import re
import sqlite3
from dataclasses import dataclass, field

from faker import Faker

from sandbox.scenario.model import CLEARNET_KINDS, Scenario

DAY = 86_400


def natural_key(text: str) -> tuple:
    """Sort key that puts "bg-2" before "bg-10"."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def derive(seed: int, *parts: object) -> int:
    """A 64-bit number derived from the world seed and a path of labels."""
    text = "\x1f".join([str(seed), *(str(p) for p in parts)])
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


@dataclass(frozen=True)
class ActorRow:
    """One row of `actors`, with the OPSEC traits decoded."""

    id: str
    grp: str
    role: str
    kind: str
    name: str
    username: str
    email: str | None
    city: str | None
    country: str | None
    locale: str
    opsec: frozenset[str]
    background: bool

    def has(self, trait: str) -> bool:
        """Whether the actor made this OPSEC mistake."""
        return trait in self.opsec

    @property
    def person(self) -> bool:
        """Organisations (exchanges, the mixer) get no forum or social presence."""
        return self.kind == "person"


@dataclass(frozen=True)
class SiteRow:
    """One row of `sites`, with its content knobs decoded from `config`."""

    id: str
    name: str
    kind: str
    operator_id: str | None
    address: str
    analytics_id: str | None
    config: dict

    def knob(self, name: str, default=None):
        """A knob of the site's config, or default when absent or empty."""
        value = self.config.get(name)
        return default if value in (None, 0, "", [], ()) else value

    def has_mistake(self, mistake: str) -> bool:
        """Whether the scenario planted this mistake on the site."""
        return mistake in (self.config.get("mistakes") or ())

    @property
    def hidden(self) -> bool:
        """A hidden service, as opposed to a .test clearnet site."""
        return self.kind not in CLEARNET_KINDS and self.address.endswith(".onion")


@dataclass
class WorldSoFar:
    """The already built part of the world the content is written for."""

    seed: int
    scenario: Scenario
    start: int
    end: int
    actors: dict[str, ActorRow]
    sites: list[SiteRow]
    published: dict[tuple[str, str, str], int]  # (actor, wallet kind, site or "") -> address id
    _fakers: dict[str, Faker] = field(default_factory=dict)

    def rng(self, *parts: object) -> random.Random:
        """An independent random stream for this purpose, stable whatever else is generated."""
        return random.Random(derive(self.seed, *parts))

    def faker(self, locale: str, *parts: object) -> Faker:
        """A Faker of this locale reseeded for this purpose (instances are cached per locale)."""
        fake = self._fakers.get(locale)
        if fake is None:
            try:
                fake = Faker(locale)
            except AttributeError:
                # An unknown locale falls back to the scenario's default rather than failing.
                fake = Faker("en_US")
            self._fakers[locale] = fake
        fake.seed_instance(derive(self.seed, "faker", *parts))
        return fake

    def when(self, rng: random.Random, lo: float = 0.0, hi: float = 1.0) -> int:
        """A moment between fractions lo and hi of the world's span."""
        span = self.end - self.start
        return self.start + int(span * (lo + (hi - lo) * rng.random()))

    def members_of(self, ids: tuple[str, ...] | list[str]) -> list[ActorRow]:
        """The actors named by ids, expanding group ids into their members."""
        out: list[ActorRow] = []
        for actor_id in ids:
            if actor_id in self.actors:
                out.append(self.actors[actor_id])
            else:
                out += [a for a in self.actors.values() if a.grp == actor_id]
        return list({a.id: a for a in out}.values())  # each once, in first-seen order

    @property
    def scenario_groups(self) -> set[str]:
        """Ids of the actors written in the scenario (as opposed to generated ones)."""
        return {a.id for a in self.scenario.actors}

    def named_persons(self) -> list[ActorRow]:
        """People of the scenario's story, in id order."""
        groups = self.scenario_groups
        return [a for a in self.actors.values() if a.person and a.grp in groups]

    def story_people(self, roles: tuple[str, ...] = (), per_group: int = 20) -> list[ActorRow]:
        """Named people (of these roles): single actors, and up to per_group of each group plus its careless members."""
        careless = {"reuses_username", "posts_personal_details"}
        taken: dict[str, int] = {}
        out = []
        for actor in self.named_persons():
            if roles and actor.role not in roles:
                continue
            if taken.get(actor.grp, 0) < per_group or actor.opsec & careless:
                out.append(actor)
                taken[actor.grp] = taken.get(actor.grp, 0) + 1
        return out

    def background(self) -> list[ActorRow]:
        """Background users, in id order."""
        return [a for a in self.actors.values() if a.background and a.person]

    def site_vendors(self, site: SiteRow) -> list[ActorRow]:
        """The vendors of a market: its featured actors, then its generated vendors."""
        featured = self.members_of(list(site.config.get("featured") or ()))
        generated = [a for a in self.actors.values() if a.grp == f"{site.id}-vendors"]
        ids = {a.id for a in featured}
        return featured + [a for a in generated if a.id not in ids]


def load_world(conn: sqlite3.Connection, scenario: Scenario, seed: int) -> WorldSoFar:
    """Read the actors, sites, published addresses and time span the builder stored."""
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    start = int(float(meta["start_time"]))
    end = int(float(meta["end_time"]))
    actors: dict[str, ActorRow] = {}
    rows = conn.execute(
        "SELECT id, grp, role, kind, name, username, email, city, country, locale, opsec,"
        " background FROM actors"
    ).fetchall()
    for row in sorted(rows, key=lambda r: natural_key(r[0])):
        aid, grp, role, kind, name, username, email, city, country, locale, opsec, bg = row
        actors[aid] = ActorRow(
            aid, grp, role, kind, name, username, email, city, country, locale,
            frozenset(json.loads(opsec or "[]")), bool(bg),
        )  # fmt: skip
    sites = [
        SiteRow(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6] or "{}"))
        for r in conn.execute(
            "SELECT id, name, kind, operator_id, address, analytics_id, config FROM sites"
            " ORDER BY id"
        )
    ]
    # Two plain scans joined and sorted here: without an index on addresses.wallet_id (the
    # builder adds it after the content) an SQL join rescans addresses once per wallet.
    wallets = {
        w: (actor_id, kind, site_id or "")
        for w, actor_id, kind, site_id in conn.execute(
            "SELECT id, actor_id, kind, site_id FROM wallets"
        )
    }
    published: dict[tuple[str, str, str], int] = {}
    addresses = conn.execute("SELECT wallet_id, id FROM addresses WHERE purpose = 'published'")
    for wallet_id, address_id in sorted(addresses):
        if wallet_id in wallets:
            published.setdefault(wallets[wallet_id], address_id)
    return WorldSoFar(seed, scenario, start, end, actors, sites, published)


def mail_onion(seed: int) -> str:
    """The v3 onion name of the world's one fictional mail provider."""
    from sandbox.onion import OnionKey

    return OnionKey.from_seed(hashlib.sha256(f"mail-provider/{seed}".encode()).digest()).address
