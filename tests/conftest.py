"""Shared fixtures: scenario files and worlds built once per test session; no leftover processes."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.scenario import load_scenario
from sandbox.world.build import build_world
from tests.processes import RUN_MARKER, leftovers

DATA = Path(__file__).parent / "data"
LEFTOVER_GRACE = 10.0  # seconds a child may take to finish exiting after its test ended


def pytest_configure(config):
    """Mark this run in the environment, so children that detach are still known as ours."""
    os.environ.setdefault(RUN_MARKER, str(os.getpid()))


def pytest_sessionfinish(session, exitstatus):
    """Fail the run if any process it started is still alive at the end; then kill them.

    Every test must stop what it starts (servers, `sandbox up`, dockerd, gpg-agent, tor,
    Chromium): a leftover holds ports and files and slows the machine for the next run.
    """
    deadline = time.monotonic() + LEFTOVER_GRACE
    left = leftovers()
    while left and time.monotonic() < deadline:
        time.sleep(0.25)
        left = leftovers()
    if not left:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"{len(left)} process(es) started by the tests are still running (now killed):"]
    lines += [f"  pid {pid}: {command[:200]}" for pid, command in sorted(left.items())]
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if reporter:
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line, red=True, bold=True)
    else:
        print("\n".join(lines))
    if session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def tiny_path() -> Path:
    """A small scenario that uses every site kind and every flow kind."""
    return DATA / "tiny.yaml"


@pytest.fixture(scope="session")
def tiny_world(tiny_path, tmp_path_factory) -> Path:
    """The tiny scenario's world, built once."""
    out = tmp_path_factory.mktemp("worlds") / "tiny.db"
    build_world(load_scenario(str(tiny_path)), out)
    return out


@pytest.fixture
def tiny_db(tiny_world):
    """A read-only connection to the tiny world."""
    conn = sqlite3.connect(f"file:{tiny_world}?mode=ro", uri=True)
    yield conn
    conn.close()


@pytest.fixture
def runner() -> CliRunner:
    """A click test runner."""
    return CliRunner()


@pytest.fixture
def sandbox(runner):
    """Invoke the `sandbox` CLI with arguments; returns click's result."""

    def run(*args: str):
        """Run one sandbox command."""
        return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)

    return run
