"""bench/classroom_load.py starts: its options, and the course world it loads for 200 seats.

The bench imports locust, which patches the standard library for gevent on import, so
it runs in child processes here, never in the test process. No timings.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.scenario import load_scenario
from sandbox.world.build import build_world
from tests.course_secret import SECRET

# Looked up, not imported: importing locust would patch this process for gevent.
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None,
    reason="the bench extra (pip install .[bench]) is not installed",
)

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench" / "classroom_load.py"


def _bench(*args: str) -> subprocess.CompletedProcess:
    """Run the bench with args; its exit status and output."""
    return subprocess.run(
        [sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=120
    )


def test_help_names_the_class_sizes_and_the_phase_length():
    done = _bench("--help")
    assert done.returncode == 0, done.stderr
    assert "--users" in done.stdout and "--seconds" in done.stdout


@pytest.mark.parametrize("users", ["40,many", "0,100"])
def test_a_bad_class_size_is_refused_before_anything_starts(users):
    done = _bench("--users", users, "--seconds", "1")
    assert done.returncode == 2
    assert "--users" in done.stderr
    assert "login password check" not in done.stdout  # nothing measured, nothing built


def test_the_bench_course_builds_for_200_seats(tmp_path):
    """The course scenario as the bench rewrites it: every seat of a case gets its share."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); "
        "import classroom_load; print(classroom_load.course_yaml(200))"
    )
    written = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    scenario = tmp_path / "course.yaml"
    scenario.write_text(written.stdout)
    build_world(load_scenario(str(scenario)), tmp_path / "course.db", secret=SECRET)
