"""The worlds benchmarks run on: the default scenario scaled to a number of transactions."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = """
import sys, time
sys.path[:0] = [{root!r}, {bench!r}]
from pathlib import Path
from worlds import scaled_default
from sandbox.world.build import build_world
scenario = scaled_default({transactions}, busy={busy})
started = time.perf_counter()
build_world(scenario, Path({out!r}))
print(time.perf_counter() - started)
"""


def scaled_default(transactions: int, busy: int = 0):
    """The default scenario with that many transactions, and background users in proportion.

    busy: that many donations to the campaign's one published address (its collector
    reuses it, as campaigns that post a static donation address do), for a busy address.
    """
    sys.path.insert(0, str(ROOT))
    from sandbox.scenario import load_scenario

    scenario = load_scenario(None)
    users = max(scenario.world.background_users, transactions // 60)
    world = replace(scenario.world, transactions=transactions, background_users=users)
    scenario = replace(scenario, world=world)
    return _busy_campaign(scenario, busy) if busy else scenario


def _busy_campaign(scenario, donations: int):
    """The scenario with its donation flow paid `donations` times to one reused address."""
    flow = next(f for f in scenario.flows if f.kind == "donation")
    donors = next(a for a in scenario.actors if a.id == flow.source)
    per_donor = float(flow.amount.max) * donations / donors.count  # enough for every draw
    actors = []
    for actor in scenario.actors:
        if actor.id == flow.target:
            actor = replace(actor, opsec=(*actor.opsec, "reuses_address"))
        elif actor is donors:
            actor = replace(actor, balance=max(actor.balance, 2 * per_donor))
        actors.append(actor)
    flows = tuple(replace(f, count=donations) if f is flow else f for f in scenario.flows)
    return replace(scenario, actors=tuple(actors), flows=flows)


def build_script(out: Path, transactions: int, busy: int = 0) -> str:
    """Python code that builds the scaled world into out and prints the seconds it took."""
    bench = str(Path(__file__).resolve().parent)
    return BUILD.format(
        root=str(ROOT), bench=bench, transactions=transactions, busy=busy, out=str(out)
    )


def build_scaled_world(out: Path, transactions: int, busy: int = 0) -> None:
    """Build the scaled default world in a child process, so its memory is freed after."""
    print(f"building a world of ~{transactions:,} transactions (a few minutes)...", flush=True)
    subprocess.run(
        [sys.executable, "-c", build_script(out, transactions, busy)],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
