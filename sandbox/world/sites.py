"""The world's sites: onion keys and names, .test names, and the real IPs that leaks reveal."""

from __future__ import annotations

import hashlib
import json
import random
import string
from dataclasses import asdict

from ..onion import OnionKey
from ..scenario.model import Scenario
from .actors import _slug, uses_tron

# Documentation ranges (RFC 5737): they look like public IPs but route nowhere, ever.
_LEAK_NETS = ("192.0.2.", "198.51.100.", "203.0.113.")
_CONFIG_SKIP = ("id", "kind", "name", "operator", "onion", "domain", "line")
# The scenario's own texts: written into the config, their placeholders filled, once the
# world they name is built (sandbox/world/content/texts.py).
_CONFIG_TEXTS = ("description", "description_line", "language", "forum_boards", "channels")
_CONFIG_DEFAULTS = {"mirror_of": None, "online": True, "server": None}


def onion_seed(world_seed: int, site_id: str) -> bytes:
    """The 32-byte ed25519 seed of a site's onion key."""
    return hashlib.sha256(f"onion:{world_seed}:{site_id}".encode()).digest()


def make_sites(scenario: Scenario) -> list[dict]:
    """Every site row of the world, in the scenario's order."""
    seed = scenario.world.seed
    rng = random.Random(f"sites:{seed}")
    rows = []
    seed_bytes: bytes | None
    for site in scenario.sites:
        if site.onion:
            key = OnionKey.from_seed(onion_seed(seed, site.id))
            address, seed_bytes, public = key.address, key.seed, key.public_key
        else:
            address = site.domain or f"{_slug(site.name)}.test"
            seed_bytes = public = None
        analytics = None
        if "analytics_id" in site.mistakes:
            digits = "".join(rng.choices(string.digits, k=8))
            analytics = f"UA-{digits}-1"
        config = {k: v for k, v in asdict(site).items() if k not in _CONFIG_SKIP + _CONFIG_TEXTS}
        for knob, default in _CONFIG_DEFAULTS.items():  # absent unless set: old worlds unchanged
            if config.get(knob) == default:
                del config[knob]
        chains = sorted(
            {f.chain for f in scenario.flows if f.kind == "donation" and f.site == site.id}
        )
        if "tron" in chains:  # the campaign page then shows what it takes: USDT, maybe BTC
            config["donation_chains"] = chains
        rows.append(
            {
                "id": site.id,
                "name": site.name,
                "kind": site.kind,
                "operator_id": site.operator,
                "address": address,
                "onion_seed": seed_bytes,
                "onion_public_key": public,
                "server_ip": rng.choice(_LEAK_NETS) + str(rng.randint(2, 254)),
                "analytics_id": analytics,
                "config": json.dumps(config, sort_keys=True),
            }
        )
    return rows


EXPLORER_DOMAIN = "explorer.test"
ISSUER_DOMAIN = "tether.test"


def service_sites(scenario: Scenario, actors: list[dict]) -> list[dict]:
    """The clearnet services every world has: the block explorer and each exchange's portal,
    and the USDT issuer's portal in a world whose story uses Tron."""
    rng = random.Random(f"service-sites:{scenario.world.seed}")
    rows = [
        {
            "id": "explorer",
            "name": "Block Explorer",
            "kind": "explorer",
            "operator_id": None,
            "address": EXPLORER_DOMAIN,
            "server_ip": rng.choice(_LEAK_NETS) + str(rng.randint(2, 254)),
            "config": json.dumps({}),
        }
    ]
    for actor in actors:
        if actor["role"] == "exchange":
            rows.append(
                {
                    "id": actor["id"],
                    "name": actor["name"],
                    "kind": "exchange",
                    "operator_id": actor["id"],
                    "address": actor["domain"],
                    "server_ip": rng.choice(_LEAK_NETS) + str(rng.randint(2, 254)),
                    "config": json.dumps({}),
                }
            )
    if uses_tron(scenario):
        rows.append(
            {
                "id": "issuer",
                "name": "Tether",
                "kind": "issuer",
                "operator_id": None,
                "address": ISSUER_DOMAIN,
                "server_ip": rng.choice(_LEAK_NETS) + str(rng.randint(2, 254)),
                "config": json.dumps({}),
            }
        )
    return rows
