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
scenario = scaled_default({transactions})
started = time.perf_counter()
build_world(scenario, Path({out!r}))
print(time.perf_counter() - started)
"""


def scaled_default(transactions: int):
    """The default scenario with that many transactions, and background users in proportion."""
    sys.path.insert(0, str(ROOT))
    from sandbox.scenario import load_scenario

    scenario = load_scenario(None)
    users = max(scenario.world.background_users, transactions // 60)
    world = replace(scenario.world, transactions=transactions, background_users=users)
    return replace(scenario, world=world)


def build_script(out: Path, transactions: int) -> str:
    """Python code that builds the scaled world into out and prints the seconds it took."""
    bench = str(Path(__file__).resolve().parent)
    return BUILD.format(root=str(ROOT), bench=bench, transactions=transactions, out=str(out))


def build_scaled_world(out: Path, transactions: int) -> None:
    """Build the scaled default world in a child process, so its memory is freed after."""
    print(f"building a world of ~{transactions:,} transactions (a few minutes)...", flush=True)
    subprocess.run(
        [sys.executable, "-c", build_script(out, transactions)],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
