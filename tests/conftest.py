"""Shared fixtures: scenario files and worlds built once per test session."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.scenario import load_scenario
from sandbox.world.build import build_world
from tests.course_secret import SECRET

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def tiny_path() -> Path:
    """A small scenario that uses every site kind and every flow kind."""
    return DATA / "tiny.yaml"


@pytest.fixture(scope="session")
def tiny_world(tiny_path, tmp_path_factory) -> Path:
    """The tiny scenario's world, built once."""
    out = tmp_path_factory.mktemp("worlds") / "tiny.db"
    build_world(load_scenario(str(tiny_path)), out, secret=SECRET)
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
