"""Shared fixtures: scenario files and worlds built once per test session; no leftover processes."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli
from sandbox.scenario import load_scenario
from sandbox.world.build import build_world
from tests.course_secret import SECRET
from tests.processes import RUN_MARKER, end, leftovers

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parent.parent
DOCKERD_PID = ROOT / "build" / "dockerd.pid"  # written by .ci/docker.sh when it starts dockerd
LEFTOVER_GRACE = 10.0  # seconds a child may take to finish exiting after its test ended


def pytest_configure(config):
    """Mark this run in the environment, so children that detach are still known as ours;
    explorers mine a live block right after each broadcast unless a test sets a pace."""
    os.environ.setdefault(RUN_MARKER, str(os.getpid()))
    # Worlds default to a block a minute; tests that broadcast and then read the result
    # need not wait. Tests of the pace pass live_block_seconds or unset this.
    os.environ.setdefault("SANDBOX_LIVE_BLOCK_SECONDS", "0")
    # `sandbox up`'s banner speaks the environment's language; the tests that read it expect
    # English whatever the machine's LANG (tests/test_i18n_interfaces.py asks for the others).
    os.environ["SANDBOX_LANG"] = "en"


COMPONENT_MARKERS = ("browser", "docker", "tor", "check")  # each also makes a test slow


def pytest_collection_modifyitems(config, items):
    """A test that needs Chromium, Docker, tor or a whole `sandbox check` is slow too."""
    for item in items:
        if any(item.get_closest_marker(m) for m in COMPONENT_MARKERS):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(trylast=True)  # after pytest's own, which tears the session fixtures down
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
    build_world(load_scenario(str(tiny_path)), out, secret=SECRET)
    return out


@dataclass(frozen=True)
class CrawledCase:
    """A closed case file holding one crawl of a world, and the world's site addresses."""

    path: Path
    sites: dict[str, str]  # site id -> .onion/.test host name

    def copy_to(self, folder: Path) -> Path:
        """A copy of the case file in folder, for a test module that writes to its case."""
        target = folder / "case.db"
        source, copy = sqlite3.connect(self.path), sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            source.close()
            copy.close()
        return target


@pytest.fixture(scope="session")
def tiny_crawl(tiny_world, tmp_path_factory) -> CrawledCase:
    """The tiny world crawled once for the session: every site, logged in, two links deep.

    The crawl, extraction, correlation and report tests all start from it; each copies it
    (`copy_to`) before writing, so they do not see one another's artefacts.
    """
    from investigator_tools.case import Case
    from tests.test_crawl import crawl_everything, serve, start_urls

    folder = tmp_path_factory.mktemp("tiny-crawl")
    with serve(tiny_world, folder / "state") as sandbox:
        with Case(folder / "case.db", operator="trainee7@classroom") as case:
            case.begin("investigate crawl " + " ".join(start_urls(sandbox)))
            crawl_everything(case, sandbox, depth=2)
        sites = {s.site_id: s.address for s in sandbox.sites}
    return CrawledCase(folder / "case.db", sites)


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


def _docker_answers() -> bool:
    """Whether a Docker daemon answers here."""
    docker = shutil.which("docker")
    return bool(docker) and (
        subprocess.run([docker, "info"], capture_output=True, timeout=60).returncode == 0
    )


@pytest.fixture(scope="session")
def docker_daemon():
    """A Docker daemon for the `docker` tests: installed and started by .ci/docker.sh if need be.

    Skips when Docker cannot run here (not root, no kernel support: docker.sh exits 3). A
    daemon this fixture started is stopped at the end of the session; one that answered
    before is the machine's own and is left running.
    """
    ran_before = _docker_answers()
    if not ran_before:
        DOCKERD_PID.unlink(missing_ok=True)
        for step in ("install", "daemon"):
            made = subprocess.run(
                [str(ROOT / ".ci" / "docker.sh"), step], capture_output=True, text=True, timeout=900
            )
            if made.returncode == 3:
                pytest.skip(f"Docker cannot run on this machine: {made.stderr.strip()[-600:]}")
            assert made.returncode == 0, made.stdout + made.stderr
    yield
    if not ran_before and DOCKERD_PID.exists():
        end(int(DOCKERD_PID.read_text()), timeout=60)
        DOCKERD_PID.unlink(missing_ok=True)
