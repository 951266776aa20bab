"""Everyone in the world: the scenario's actors, generated vendors, pools and background users."""

from __future__ import annotations

import json
import random
import re
from datetime import date, timedelta

from faker import Faker

from ..scenario.model import Actor, Scenario, TronWallet

TRAINEES = "trainees"  # the group whose member n holds seat n's training wallet

BACKGROUND_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "nl_NL", "es_ES", "it_IT", "pl_PL")
POOL_NAMES = ("Hashforge Pool", "Minerva Mining", "BlockYard")
COUNTRIES = {
    "US": "United States",
    "GB": "United Kingdom",
    "DE": "Germany",
    "FR": "France",
    "NL": "Netherlands",
    "ES": "Spain",
    "IT": "Italy",
    "PL": "Poland",
    "AT": "Austria",
    "CH": "Switzerland",
    "BE": "Belgium",
    "SE": "Sweden",
    "NO": "Norway",
    "DK": "Denmark",
    "FI": "Finland",
    "PT": "Portugal",
    "CZ": "Czechia",
    "RU": "Russia",
    "UA": "Ukraine",
    "TR": "Türkiye",
    "CA": "Canada",
    "AU": "Australia",
    "IE": "Ireland",
    "RO": "Romania",
    "HU": "Hungary",
    "GR": "Greece",
    "BR": "Brazil",
    "MX": "Mexico",
    "IN": "India",
    "JP": "Japan",
    "CN": "China",
    "IR": "Iran",
    "SA": "Saudi Arabia",
    "EG": "Egypt",
}
COLUMNS = (
    "id",
    "grp",
    "role",
    "kind",
    "name",
    "username",
    "email",
    "phone",
    "birth_date",
    "nationality",
    "country",
    "city",
    "street",
    "document_number",
    "iban",
    "locale",
    "opsec",
    "exchange_id",
    "domain",
    "background",
)


class _Identities:
    """Deterministic Faker identities, one seeded Faker per locale."""

    def __init__(self, seed: int, start: date):
        """Identities for a world seed; ages are counted from the world's start."""
        self.seed = seed
        self.start = start
        self._fakers: dict[str, Faker] = {}

    def faker(self, locale: str, key: str) -> Faker:
        """The Faker of a locale, reseeded for one actor so rows do not depend on order."""
        fk = self._fakers.get(locale)
        if fk is None:
            fk = self._fakers[locale] = Faker(locale)
            for provider in fk.get_providers():
                # Some locales (it_IT) build their city list from a set, whose order
                # changes with PYTHONHASHSEED; sorted, the same seed gives the same city.
                cities = getattr(provider, "cities", None)
                if isinstance(cities, list):
                    provider.cities = sorted(cities)
        fk.seed_instance(f"{self.seed}:{key}")
        return fk

    def person(self, key: str, locale: str, rng: random.Random, name: str | None = None) -> dict:
        """A person's KYC-grade identity; email and handle follow the name when it is given."""
        fk = self.faker(locale, key)
        first, last = fk.first_name(), fk.last_name()
        if name:
            first, _, last = name.partition(" ")
            last = last or first
        code = locale.split("_")[-1].upper()
        birth = self.start - timedelta(days=rng.randint(19 * 365, 64 * 365))
        handle = _slug(f"{first[0]}{last}")[:10] + str(rng.randint(1, 99))
        return {
            "name": f"{first} {last}",
            "username": handle,
            "email": f"{_slug(first)}.{_slug(last)}{rng.randint(1, 999)}@"
            + rng.choice(("mailbox.test", "webpost.test", "inboxly.test", "freemail.test")),
            "phone": fk.phone_number(),
            "birth_date": birth.isoformat(),
            "nationality": COUNTRIES.get(code, code),
            "country": COUNTRIES.get(code, code),
            "city": fk.city(),
            "street": fk.street_address(),
            "document_number": f"{rng.choice('CPKLMN')}{rng.choice('ABCDEFGHJ')}"
            f"{rng.randint(1_000_000, 9_999_999)}",
            "iban": fk.iban(),
        }

    def organisation(self, key: str, locale: str, suffix: str) -> dict:
        """An organisation's name and contact details."""
        fk = self.faker(locale, key)
        name = f"{fk.last_name()} {suffix}"
        code = locale.split("_")[-1].upper()
        return {
            "name": name,
            "username": _slug(name),
            "email": f"compliance@{_slug(name)}.test",
            "phone": fk.phone_number(),
            "country": COUNTRIES.get(code, code),
            "city": fk.city(),
            "street": fk.street_address(),
        }


def _slug(text: str) -> str:
    """Lowercase ASCII letters and digits only."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", ascii_text.lower()) or "x"


def trainees_group(scenario: Scenario) -> Actor | None:
    """The `trainees` group of a course (one member per seat), or None without one.

    It exists when the scenario has objectives and its seats get a funded wallet; member n
    buys seats.wallet BTC at an exchange and its first receive address is seat n's wallet.
    """
    seats = scenario.seats
    if not scenario.objectives or seats.wallet <= 0 or seats.count < 1:
        return None
    return Actor(id=TRAINEES, role="user", count=seats.count, balance=seats.wallet)


TRAINEE_TRX = 100.0  # TRX in each seat's Tron training wallet: fees of a few USDT transfers


def uses_tron(scenario: Scenario) -> bool:
    """Whether the story happens on the Tron chain too (a Tron flow, or a Tron wallet of an
    actor other than an exchange, which always has one): then the world has the USDT
    issuer's portal and each seat a Tron training wallet."""
    return any(f.chain == "tron" for f in scenario.flows) or any(
        a.tron is not None and a.role != "exchange" for a in scenario.actors
    )


def with_tron_trainees(scenario: Scenario) -> Scenario:
    """The scenario the Tron chain is made from: with the `trainees` group holding a Tron
    wallet (TRAINEE_TRX each) when the story uses Tron, so every seat has a Tron address
    that reissued or swept USDT can be paid to."""
    from dataclasses import replace

    group = trainees_group(scenario)
    if group is None or not uses_tron(scenario):
        return scenario
    tron_group = replace(group, tron=TronWallet(trx=TRAINEE_TRX))
    return replace(scenario, actors=(*scenario.actors, tron_group))


def with_trainees(scenario: Scenario) -> Scenario:
    """The scenario with its `trainees` group added to the actors (the ledger funds them)."""
    from dataclasses import replace

    group = trainees_group(scenario)
    return scenario if group is None else replace(scenario, actors=(*scenario.actors, group))


def make_actors(scenario: Scenario) -> list[dict]:
    """Every actor row of the world, in a stable order."""
    knobs = scenario.world
    rng = random.Random(f"actors:{knobs.seed}")
    ids = _Identities(knobs.seed, knobs.start)
    exchanges = sorted(a.id for a in scenario.actors if a.role == "exchange")
    rows: list[dict] = []

    def add(
        aid, grp, role, kind, locale, identity, opsec=(), exchange=None, domain=None, background=0
    ):
        """Append one actor row."""
        row = dict.fromkeys(COLUMNS)
        row.update(identity)
        row.update(
            id=aid,
            grp=grp,
            role=role,
            kind=kind,
            locale=locale,
            opsec=json.dumps(list(opsec)),
            exchange_id=exchange,
            domain=domain,
            background=background,
        )
        rows.append(row)

    for a in scenario.actors:
        locale = a.locale or scenario.meta.locale
        members = [a.id] if a.count == 1 else [f"{a.id}-{n}" for n in range(1, a.count + 1)]
        for aid in members:
            if a.kind == "organisation":
                suffix = {"exchange": "Exchange", "mixer": "Mixer"}.get(a.role, "Group")
                identity = ids.organisation(aid, locale, suffix)
            else:
                identity = ids.person(aid, locale, rng, a.name)
            if a.name:
                identity["name"] = a.name
            if a.username:
                identity["username"] = a.username
            domain = a.domain
            if a.role == "exchange" and not domain:
                domain = f"{_slug(identity['name'])}.test"
            exchange = a.exchange
            if exchange is None and a.role not in ("exchange", "mixer") and exchanges:
                exchange = rng.choice(exchanges)
            add(aid, a.id, a.role, a.kind, locale, identity, a.opsec, exchange, domain)

    for site in scenario.sites:
        for n in range(1, site.vendors + 1):
            locale = rng.choice(BACKGROUND_LOCALES)
            aid = f"{site.id}-vendor-{n}"
            exchange = rng.choice(exchanges) if exchanges else None
            add(
                aid,
                f"{site.id}-vendors",
                "vendor",
                "person",
                locale,
                ids.person(aid, locale, rng),
                exchange=exchange,
            )

    for n, name in enumerate(POOL_NAMES, 1):
        identity = ids.organisation(f"pool-{n}", "en_US", "Pool")
        identity["name"] = name
        add(f"pool-{n}", f"pool-{n}", "miner", "organisation", "en_US", identity)

    for n in range(1, knobs.background_users + 1):
        locale = scenario.meta.locale if rng.random() < 0.5 else rng.choice(BACKGROUND_LOCALES)
        aid = f"bg-{n}"
        exchange = rng.choice(exchanges) if exchanges else None
        add(
            aid,
            "background",
            "user",
            "person",
            locale,
            ids.person(aid, locale, rng),
            exchange=exchange,
            background=1,
        )
    trainees = trainees_group(scenario)
    if trainees is not None:
        # Last, with a random stream of their own: every other row is as without a course.
        trng = random.Random(f"trainees:{knobs.seed}")
        locale = scenario.meta.locale
        for n in range(1, trainees.count + 1):
            aid = f"{TRAINEES}-{n}"
            identity = ids.person(aid, locale, trng)
            identity["username"] = f"trainee{n}"
            add(aid, TRAINEES, "user", "person", locale, identity)
    return rows
