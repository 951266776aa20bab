"""Build every built-in scenario for many seeds: what validates must build, whatever the seed.

Each build runs in its own child process, with the course secret given (so a failure can be
rebuilt as it was) or a fresh one per build. Prints one line per scenario: how many seeds
built, the slowest build, and each failure with its first line of error; exits 1 on any.

    python bench/seeds.py                                   # every built-in, seeds 1-50
    python bench/seeds.py intro tf-donations --seeds 1-10
    python bench/seeds.py default --transactions 300000 --seeds 1-3   # scaled up
    python bench/seeds.py --random-secret                    # a fresh secret per build
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "5eed5eed5eed5eed5eed5eed5eed5eed"
BUILD = """
import sys
sys.path.insert(0, {root!r})
from dataclasses import replace
from pathlib import Path
from sandbox.errors import BuildError
from sandbox.scenario import load_scenario
from sandbox.world.build import build_world
scenario = load_scenario({scenario!r}).with_seed({seed})
if {transactions}:
    users = max(scenario.world.background_users, {transactions} // 60)
    world = replace(scenario.world, transactions={transactions}, background_users=users)
    scenario = replace(scenario, world=world)
secret = bytes.fromhex({secret!r}) if {secret!r} else None
try:
    build_world(scenario, Path({out!r}), secret=secret)
except BuildError as e:
    sys.exit(str(e))
"""


def seed_range(text: str) -> list[int]:
    """ "1-50" or "7" as a list of seeds."""
    low, _, high = text.partition("-")
    return list(range(int(low), int(high or low) + 1))


def build(scenario: str, seed: int, transactions: int, secret: str, out: Path) -> tuple:
    """Build one world in a child process: (seconds, error text or None)."""
    code = BUILD.format(
        root=str(ROOT),
        scenario=scenario,
        seed=seed,
        transactions=transactions,
        secret=secret,
        out=str(out),
    )
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    out.unlink(missing_ok=True)
    if result.returncode:
        lines = (result.stderr.strip() or f"exit status {result.returncode}").splitlines()
        return seconds, lines[-1] if "Traceback" in lines[0] else lines[0]
    return seconds, None


def main() -> int:
    """Build, report, exit 1 when any build failed."""
    sys.path.insert(0, str(ROOT))
    from sandbox.scenario.loader import builtin_scenarios

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", help="built-in names or files (default: all)")
    parser.add_argument("--seeds", default="1-50", help="seed range (default: 1-50)")
    parser.add_argument("--transactions", type=int, default=0, help="scale to this many")
    parser.add_argument("--random-secret", action="store_true", help="a fresh secret per build")
    args = parser.parse_args()
    names = args.scenarios or sorted(builtin_scenarios())
    secret = "" if args.random_secret else SECRET
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            seeds = seed_range(args.seeds)
            errors, slowest = [], 0.0
            for seed in seeds:
                seconds, error = build(name, seed, args.transactions, secret, Path(tmp) / "w.db")
                slowest = max(slowest, seconds)
                if error:
                    errors.append((seed, error))
                    print(f"  {name} seed {seed}: {error}", flush=True)
            failed += len(errors)
            print(
                f"{name}: {len(seeds) - len(errors)}/{len(seeds)} seeds built"
                f" (seeds {args.seeds}, secret {secret or 'random'}), slowest {slowest:.1f} s",
                flush=True,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
