"""`sandbox check`: every built-in scenario is solvable over the network; a broken one is named."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.scenario import builtin_scenarios, load_scenario

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
COURSES = [name for name in builtin_scenarios() if load_scenario(name).objectives]


def sandbox_check(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run `sandbox check` in a subprocess, as an instructor would."""
    return subprocess.run(
        [sys.executable, "-m", "sandbox", "check", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def test_every_builtin_course_scenario_is_checked():
    """The four course scenarios the README lists are built in and have objectives."""
    assert {"intro", "tf-donations", "vendor-takedown", "market-admin"} <= set(COURSES)


@pytest.mark.check
@pytest.mark.parametrize("name", COURSES)
def test_builtin_scenario_is_solvable(name):
    """The reference solution answers every objective of every distinct case (architecture rule 8)."""
    result = sandbox_check(name, "--all-seats")
    assert result.returncode == 0, result.stdout + result.stderr
    scenario = load_scenario(name)
    solved = re.search(r": solvable: (\d+)/(\d+) objectives", result.stdout)
    assert solved and solved.group(1) == solved.group(2), result.stdout
    assert int(solved.group(1)) % len(scenario.objectives) == 0
    assert "FAIL" not in result.stdout + result.stderr
    for objective in scenario.objectives:
        assert f" {objective.id}: " in result.stdout, objective.id


@pytest.mark.check
def test_unsolvable_scenario_fails_naming_the_objective():
    """An objective whose evidence is never planted fails the check by name."""
    result = sandbox_check(str(DATA / "unsolvable.yaml"), "--seat", "2")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "objective 'vendor-address' (seat 2) failed: could not be solved" in result.stderr
    assert "shows no Bitcoin address" in result.stderr
    assert "ok   seat 2 market-onion" in result.stdout  # what is planted is still found
    assert "NOT solvable" in result.stderr


def test_check_without_objectives_is_one_clear_error():
    """A scenario with no objectives cannot be checked: one message, exit 1."""
    result = sandbox_check(str(DATA / "tiny.yaml"))
    assert result.returncode == 1
    assert "tiny.yaml: check failed:" in result.stderr
    assert "has no objectives" in result.stderr


def test_check_names_a_missing_solution(tmp_path):
    """A `solution:` file that does not exist is named before anything is built."""
    text = (DATA / "unsolvable.yaml").read_text()
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("../../scenarios/solutions/intro.py", "nowhere.py"))
    result = sandbox_check(str(broken))
    assert result.returncode == 1
    assert "nowhere.py" in result.stderr


def test_solutions_use_only_the_toolkit():
    """Reference solutions import no engine code: they solve over the network (architecture rule 3)."""
    for path in (ROOT / "scenarios" / "solutions").glob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                top = node.module.split(".")[0]
                assert top not in ("sandbox", "marketplaces"), f"{path}: imports {node.module}"
                if top == "scenarios":
                    assert node.module == "scenarios.solutions._steps", path
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] not in ("sandbox", "marketplaces"), path


def test_market_admin_solution_reads_a_name_with_an_apostrophe():
    """The blog head quotes the author's name in double quotes; a name such as O'Brien is read
    whole, not cut at its apostrophe."""
    from types import SimpleNamespace

    from sandbox.check import load_solution
    from sandbox.world.content.social import analytics_snippet

    solvers = load_solution(ROOT / "scenarios" / "solutions" / "market-admin.py")
    author = solvers["admin-name"].__globals__["AUTHOR"]
    for name in ("Jamie O'Brien", "Ann Smith"):
        head = analytics_snippet(SimpleNamespace(name=name), "UA-1234567-1")
        assert author.search(head).group(2) == name
