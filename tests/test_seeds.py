"""Every built-in scenario builds for every seed from 1 to 50 (architecture rule 8). Slow: minutes.

The four course scenarios build here (about 4 minutes); the default scenario's 100,000
transactions take 15 s or more a build, so its 50 seeds are left to `python bench/seeds.py
default`, which builds any scenario for any seeds from the command line.
"""

from __future__ import annotations

import pytest

from sandbox.scenario import load_scenario
from sandbox.scenario.loader import builtin_scenarios
from sandbox.world.build import build_world
from tests.course_secret import SECRET

SEEDS = range(1, 51)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", [n for n in builtin_scenarios() if n != "default"])
def test_builtin_scenario_builds_for_the_seed(name, seed, tmp_path):
    """The scenario validates, so its world builds, with every payment of its story made."""
    scenario = load_scenario(name).with_seed(seed)
    info = build_world(scenario, tmp_path / "world.db", secret=SECRET)
    assert info["seed"] == seed and info["scenario"] == name
    assert info["counts"]["transactions"] >= scenario.world.transactions
