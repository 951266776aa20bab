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
  its private key as compressed mainnet WIF (None for both when seats.wallet is 0);
- its own share of every suspect's coins it may seize or see moved (`stashes`);
- in a world whose story uses Tron, a Tron training wallet: the personal Tron address of
  `trainees-n`, holding a little TRX for fees, and its private key (hex).

Seats that share a case share its actors. So that every seat can seize what it is asked
to, whatever the others did, the coins an actor holds at the end of the world are split
between the seats whose sweep objective, phone_notes artefact or move_funds inject names
it: the first such seat keeps the actor's personal wallet, the k-th further one gets the
actor's k-th stash wallet (its own recovery words, see ledger/hd.py), funded in the last
block by a payment from the personal wallet (see ledger/sim/simulate.py).
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field

from ..errors import BuildError
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
    # actor -> (stash number k >= 1, wallets.id) where this seat's share of its coins lies;
    # absent: the actor's personal wallet
    stashes: dict[str, tuple[int, int]] = field(default_factory=dict)
    # the seat's Tron training wallet (a world whose story uses Tron): T... address and
    # private key as 64 hex digits, as Tron wallets import it
    tron_address: str | None = None
    tron_key: str | None = None


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
            if (actor := seat_bindings(scenario, n).get(art.actor[1:])) is not None:
                found.add(actor)
    return frozenset(found)


# What each seat's share of a suspect's coins must hold beyond what move_funds takes:
# above dust after the fee of a sweep and of a move (satoshis).
SHARE_MARGIN = 20_000


@dataclass(frozen=True)
class StashPlan:
    """How an actor's coins are shared between seats: stash wallets and what each needs."""

    stashes: int  # stash wallets besides the personal one
    need: int  # satoshis every share must hold at least
    why: str  # the objectives and injects that take the coins, for messages


def _takers(scenario: Scenario) -> list[tuple[str, str, int]]:
    """(actor reference, what names it, move amount in sat) of everything that takes coins."""
    found = [
        (o.answer.id, f"objective '{o.id}' (line {o.line})", 0)
        for o in scenario.objectives
        if o.answer.of == "actor" and o.answer.field == "sweep"
    ]
    found += [
        (a.actor, f"artefact '{a.id}' (line {a.line})", 0)
        for a in scenario.artefacts
        if a.kind == "phone_notes" and a.actor
    ]
    found += [
        (i.actor, f"inject '{i.id}' (line {i.line})", round((i.amount or 0) * 100_000_000))
        for i in scenario.injects
        if i.action == "move_funds" and i.actor
    ]
    return found


def seat_shares(scenario: Scenario) -> dict[str, list[int]]:
    """Actor -> the seats, in order, whose sweep, phone notes or move_funds take its coins.

    Raises BuildError naming the objective when seats share an actor to sweep but a seat
    is not handed that actor's recovery words (then no seat could be given its own).
    """
    takers = _takers(scenario)
    shares: dict[str, list[int]] = {}
    phones: dict[int, set[str]] = {}
    for n in range(1, seat_count(scenario) + 1):
        bindings = seat_bindings(scenario, n)
        for ref, what, _ in takers:
            actor = bindings.get(ref[1:]) if ref.startswith("$") else ref
            if actor is None:
                continue
            seats = shares.setdefault(actor, [])
            if not seats or seats[-1] != n:
                seats.append(n)
            if what.startswith("artefact"):
                phones.setdefault(n, set()).add(actor)
    for o in scenario.objectives:
        if o.answer.of != "actor" or o.answer.field != "sweep":
            continue
        for n in range(1, seat_count(scenario) + 1):
            ref = o.answer.id
            actor = seat_bindings(scenario, n).get(ref[1:]) if ref.startswith("$") else ref
            seats = shares.get(actor or "", [])
            if len(seats) > 1 and actor not in phones.get(n, set()):
                listed = ", ".join(map(str, seats[:4])) + (", ..." if len(seats) > 4 else "")
                raise BuildError(
                    f"objective '{o.id}' (line {o.line}): seats {listed} share {actor!r}'s "
                    f"coins, but no phone_notes artefact hands seat {n} that actor's recovery "
                    "words, so they cannot each seize their own share; add a phone_notes "
                    "artefact for the same actor, or give each seat its own case"
                )
    return shares


def stash_plans(scenario: Scenario) -> dict[str, StashPlan]:
    """Actor -> its stash plan, for every actor whose coins two or more seats take."""
    plans = {}
    takers = _takers(scenario)
    for actor, seats in seat_shares(scenario).items():
        if len(seats) < 2:
            continue
        need, why = 0, []
        for n in seats:
            bindings = seat_bindings(scenario, n)
            mine = [
                (what, amount)
                for ref, what, amount in takers
                if (bindings.get(ref[1:]) if ref.startswith("$") else ref) == actor
            ]
            need = max(need, SHARE_MARGIN + sum(amount for _, amount in mine))
            why += [what for what, _ in mine if what not in why]
        plans[actor] = StashPlan(len(seats) - 1, need, ", ".join(why))
    return plans


def seat_count(scenario: Scenario) -> int:
    """How many seats the world has: seats.count for a course, 0 without objectives."""
    return scenario.seats.count if scenario.objectives else 0


def make_seats(conn: sqlite3.Connection, scenario: Scenario) -> list[Seat]:
    """Every seat of a built world (its ledger must already hold the trainees' wallets)."""
    count = seat_count(scenario)
    codes = seat_codes(scenario.world.seed, count)
    funded = trainees_group(scenario) is not None
    stash_ids: dict[str, list[int]] = {}
    for wallet_id, actor in conn.execute(
        "SELECT id, actor_id FROM wallets WHERE kind = 'stash' ORDER BY id"
    ):
        stash_ids.setdefault(actor, []).append(wallet_id)
    mine: dict[int, dict[str, tuple[int, int]]] = {}
    for actor, sharing in seat_shares(scenario).items():
        for k, n in enumerate(sharing[1:], 1):
            if k > len(stash_ids.get(actor, ())):
                raise BuildError(f"actor {actor!r} has no stash wallet {k} for seat {n}")
            mine.setdefault(n, {})[actor] = (k, stash_ids[actor][k - 1])
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
        tron = conn.execute(
            "SELECT address, secret FROM tron_accounts WHERE actor_id = ? AND wallet = 'personal'"
            " ORDER BY address LIMIT 1",
            (f"{TRAINEES}-{n}",),
        ).fetchone()
        seats.append(
            Seat(
                n,
                code,
                seat_bindings(scenario, n),
                address,
                wif,
                mine.get(n, {}),
                tron[0] if tron else None,
                bytes(tron[1]).hex() if tron else None,
            )
        )
    return seats
