"""The end-of-run check for leftover processes finds what the tests leave behind."""

from __future__ import annotations

import os
import subprocess
import time

from tests.processes import RUN_MARKER, alive, end, leftovers


def _gone(pid: int) -> bool:
    """Wait briefly for a process to disappear (or become a zombie)."""
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def test_the_run_is_marked_for_its_children():
    """conftest puts the run's marker in the environment every child inherits."""
    assert os.environ.get(RUN_MARKER)


def test_a_child_left_running_is_found_and_then_not():
    """A sleep the test started is reported while it lives, and not once it is killed."""
    proc = subprocess.Popen(["sleep", "300"])
    try:
        found = leftovers()
        assert proc.pid in found and "sleep 300" in found[proc.pid]
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.pid not in leftovers()


def test_an_orphan_that_detached_is_found_by_the_marker():
    """A daemon whose parent exited (reparented away from pytest) is still found, by its env."""
    out = subprocess.run(
        ["sh", "-c", "setsid sleep 301 >/dev/null 2>&1 </dev/null & echo $!"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    pid = int(out.stdout.strip())
    try:
        assert alive(pid)
        assert pid in leftovers() and "sleep 301" in leftovers()[pid]
        # Another run's marker does not claim it: only this run's processes are reported.
        assert pid not in leftovers(root=-1, marker="another-run")
    finally:
        end(pid, timeout=10)
    assert _gone(pid) and pid not in leftovers()
