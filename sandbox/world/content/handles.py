"""Handles: darknet pseudonyms, clearnet user names, and the register that keeps them unique."""

from __future__ import annotations

import random
import re

from sandbox.text import ascii_fold
from sandbox.world.content.world import ActorRow

VENDOR_ADJ = (
    "Green", "Frosty", "Dutch", "Royal", "Golden", "Silent", "Dark", "White", "Purple",
    "Cosmic", "Holy", "Lucky", "Happy", "Crazy", "Nordic", "Alpine", "Baltic", "Rapid",
    "Stealth", "Pure", "Secret", "Urban", "Smooth", "Cold", "Magic", "Honest", "Swift",
)  # fmt: skip
VENDOR_NOUN = (
    "Pharma", "Chem", "Labs", "Meds", "Garden", "Greens", "Dispensary", "Connect", "Plug",
    "Express", "Direct", "Supply", "Candy", "Pills", "Crystals", "Farm", "Apotheke",
    "Kitchen", "Factory", "Shop", "Store", "Market", "Depot", "Harvest", "Pharmacy",
)  # fmt: skip
PERSONA = (
    "Thumb", "Bear", "Wolf", "Fox", "Owl", "Ghost", "Shadow", "Ninja", "Panda", "Tiger",
    "Lion", "Dragon", "Viking", "Monk", "Wizard", "Pirate", "Rabbit", "Phantom", "Raven",
    "Hawk", "Cobra", "Falcon", "Badger", "Walrus", "Moose", "Gecko", "Mantis", "Otter",
)  # fmt: skip
TITLES = ("Dr", "Mr", "The", "Captain", "Lord", "King", "Uncle", "Big", "Lil", "Sir")
SUBSTANCES = (
    "xanax", "molly", "lsd", "shroom", "ketamine", "speed", "kush", "haze", "oxy", "dmt",
    "pill", "coke", "hash", "acid", "benzo", "blotter", "skunk", "crystal",
)  # fmt: skip
MEMBER_WORDS = (
    "silkroad", "survivor", "tails", "user", "anon", "crypto", "nomad", "quiet", "mouse",
    "night", "owl", "lost", "soul", "deep", "diver", "tor", "rider", "zero", "cool",
    "random", "guy", "psy", "traveler", "cyber", "punk", "onion", "peeler", "paranoid",
    "android", "free", "mind", "blue", "sky", "monero", "maxi", "stoned", "sloth",
    "ghost", "rider", "mellow", "fellow", "harm", "reducer", "bitcoin", "hodler",
)  # fmt: skip
SUFFIXES = ("", "", "", "420", "_uk", "_eu", "_official", "X", "99", "1337", "_nl", "_de", "007")


def _vendor_handle(rng: random.Random) -> str:
    """A vendor brand such as "DrGreenThumb", "xanaxking" or "DutchPharma_eu"."""
    style = rng.randrange(6)
    if style == 0:
        return rng.choice(TITLES) + rng.choice(VENDOR_ADJ) + rng.choice(PERSONA)
    if style == 1:
        return rng.choice(SUBSTANCES) + rng.choice(("king", "queen", "lord", "boss", "god"))
    if style == 2:
        return rng.choice(VENDOR_ADJ) + rng.choice(VENDOR_NOUN) + rng.choice(SUFFIXES)
    if style == 3:
        return f"{rng.choice(SUBSTANCES)}{rng.choice(VENDOR_NOUN).lower()}{rng.choice(SUFFIXES)}"
    if style == 4:
        return rng.choice(TITLES) + rng.choice(VENDOR_NOUN)
    return rng.choice(VENDOR_ADJ) + rng.choice(PERSONA) + rng.choice(SUFFIXES)


def member_handle(rng: random.Random) -> str:
    """A forum pseudonym such as "silkroad_survivor", "quietmouse77" or "LSDreamer"."""
    style = rng.randrange(5)
    a, b = rng.sample(MEMBER_WORDS, 2)
    if style == 0:
        return f"{a}_{b}"
    if style == 1:
        return f"{a}{b}{rng.randrange(10, 100)}"
    if style == 2:
        return a.capitalize() + b.capitalize()
    if style == 3:
        return f"{rng.choice(SUBSTANCES)}_{a}"
    return rng.choice(VENDOR_ADJ) + rng.choice(PERSONA) + str(rng.randrange(1, 1000))


def _clearnet_handle(rng: random.Random, actor: ActorRow) -> str:
    """A user name built from a real name, such as "anna.k_88" or "mmueller84"."""
    parts = [p for p in re.split(r"[^a-z]+", ascii_fold(actor.name).lower()) if p] or ["user"]
    first, last = parts[0], parts[-1]
    year = rng.randrange(60, 100) if rng.random() < 0.5 else rng.randrange(0, 10)
    style = rng.randrange(5)
    if style == 0:
        return f"{first}.{last[0]}_{year:02d}"
    if style == 1:
        return f"{first[0]}{last}{year:02d}"
    if style == 2:
        return f"{first}_{last}"
    if style == 3:
        return f"{first}{rng.randrange(1, 1000)}"
    return f"{last}.{first}"


class Handles:
    """Hands out handles, unique within a site and never an accidental match across sites."""

    def __init__(self, actors: list[ActorRow]):
        """Reserve every actor's real user name so no invented handle collides with one."""
        self._taken: set[str] = {a.username.lower() for a in actors}
        self._per_site: dict[str, set[str]] = {}

    def _free(self, site_id: str, handle: str) -> bool:
        """Whether handle is unused on this site."""
        return handle.lower() not in self._per_site.setdefault(site_id, set())

    def _claim(self, site_id: str, handle: str) -> str:
        """Record handle as used on this site."""
        self._per_site.setdefault(site_id, set()).add(handle.lower())
        return handle

    def real(self, site_id: str, actor: ActorRow) -> str | None:
        """The actor's own user name on this site, or None if someone already holds it there."""
        if not self._free(site_id, actor.username):
            return None
        return self._claim(site_id, actor.username)

    def invent(self, site_id: str, rng: random.Random, style: str, actor: ActorRow) -> str:
        """A fresh handle of style vendor, member or clearnet, unused anywhere so far."""
        make = {"vendor": _vendor_handle, "member": member_handle}.get(style)
        for attempt in range(200):
            handle = _clearnet_handle(rng, actor) if make is None else make(rng)
            if attempt > 20:
                handle += str(rng.randrange(10, 10_000))
            if handle.lower() not in self._taken and self._free(site_id, handle):
                self._taken.add(handle.lower())
                return self._claim(site_id, handle)
        raise RuntimeError("no free handle")  # pragma: no cover - 200 draws never all collide
