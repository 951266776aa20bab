"""Seats of a course: the code a trainee joins with, the case bound to it and its wallet.

Seat n (1-based) gets:

- a code such as "KT4-9QX", drawn from the world seed in an alphabet without the look-alike
  characters 0 O 1 I L; codes of one world are unique;
- bindings: `{"subject": "<group>-<k>"}` when the seats name a group, one of `cases` when
  they give cases, `{}` otherwise. Which member or case is drawn from the world seed (so,
  like the code, from the course secret): a shuffled order of them, dealt to seats 1, 2,
  ... and again from the start, so every case has as many seats as it can and
  neighbouring seats never share one (given two or more);
- a training wallet: the first address of the personal wallet of actor `trainees-n`, and
  its private key as compressed mainnet WIF (None for both when seats.wallet is 0).
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field

from ..ledger.keys import Key
from ..scenario.model import Scenario
from .actors import TRAINEES, trainees_group

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0 O 1 I L


@dataclass(frozen=True)
class Seat:
    """One trainee's seat: join code, case bindings and funded training wallet."""

    n: int
    code: str
    bindings: dict[str, str] = field(default_factory=dict)
    wallet_address: str | None = None
    wallet_wif: str | None = None


def seat_codes(seed: int, count: int) -> list[str]:
    """count distinct join codes ("ABC-DEF"), the same for the same world seed."""
    rng = random.Random(f"seats:{seed}")
    codes: list[str] = []
    seen: set[str] = set()
    while len(codes) < count:
        raw = "".join(rng.choice(CODE_ALPHABET) for _ in range(6))
        code = f"{raw[:3]}-{raw[3:]}"
        if code not in seen:
            seen.add(code)
            codes.append(code)
    return codes


def case_order(seed: int, cases: int) -> list[int]:
    """The order (0-based case numbers) in which seats 1, 2, ... are dealt their cases."""
    order = list(range(cases))
    random.Random(f"seat-cases:{seed}").shuffle(order)
    return order


def seat_bindings(scenario: Scenario, n: int) -> dict[str, str]:
    """The variables of seat n (1-based): the group member or case it investigates."""
    seats = scenario.seats
    if seats.group:
        size = scenario.actor(seats.group).count
        k = case_order(scenario.world.seed, size)[(n - 1) % size]
        return {"subject": f"{seats.group}-{k + 1}"}
    if seats.cases:
        k = case_order(scenario.world.seed, len(seats.cases))[(n - 1) % len(seats.cases)]
        return dict(seats.cases[k])
    return {}


def recovery_actors(scenario: Scenario) -> frozenset[str]:
    """Actors whose wallet recovery words a phone_notes artefact hands out, for any seat."""
    found = set()
    for art in scenario.artefacts:
        if art.kind != "phone_notes" or not art.actor:
            continue
        if not art.actor.startswith("$"):
            found.add(art.actor)
            continue
        for n in range(1, seat_count(scenario) + 1):
            found.add(seat_bindings(scenario, n).get(art.actor[1:]))
    return frozenset(found - {None})


def seat_count(scenario: Scenario) -> int:
    """How many seats the world has: seats.count for a course, 0 without objectives."""
    return scenario.seats.count if scenario.objectives else 0


def make_seats(conn: sqlite3.Connection, scenario: Scenario) -> list[Seat]:
    """Every seat of a built world (its ledger must already hold the trainees' wallets)."""
    count = seat_count(scenario)
    codes = seat_codes(scenario.world.seed, count)
    funded = trainees_group(scenario) is not None
    seats = []
    for n, code in enumerate(codes, 1):
        address = wif = None
        if funded:
            row = conn.execute(
                "SELECT a.address, a.secret FROM addresses a JOIN wallets w ON w.id = a.wallet_id"
                " WHERE w.actor_id = ? AND w.kind = 'personal' ORDER BY a.id LIMIT 1",
                (f"{TRAINEES}-{n}",),
            ).fetchone()
            if row is not None:
                address, wif = row[0], Key(bytes(row[1])).wif()
        seats.append(Seat(n, code, seat_bindings(scenario, n), address, wif))
    return seats
