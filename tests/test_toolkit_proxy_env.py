"""`sandbox up` prints the toolkit's INVESTIGATE_PROXY line for the port it chose, and the
toolkit, given only that variable, reaches the sites; its --help names the variable."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from investigator_tools.cli import cli as investigate
from tests.ports import free_port
from tests.processes import read_until_ready, start_sandbox, stop

ROOT = Path(__file__).resolve().parent.parent
EXPORT = re.compile(r"^\s*export INVESTIGATE_PROXY=(\S+)$", re.M)


def test_help_names_the_proxy_variable_and_its_default():
    """The group's --help and crawl's say INVESTIGATE_PROXY and Tor's default port."""
    for args in (["--help"], ["crawl", "--help"]):
        result = CliRunner().invoke(investigate, args)
        assert result.exit_code == 0
        text = " ".join(result.output.split())
        assert "INVESTIGATE_PROXY" in text and "socks5h://127.0.0.1:9050" in text, args


@pytest.mark.slow  # a real `sandbox up` process, started and stopped
def test_up_prints_the_export_line_the_toolkit_uses(tiny_world, tmp_path):
    """The banner's export line names the SOCKS port given to `sandbox up` (not 9050), and a
    crawl with only that variable set (no --proxy) reaches the wiki through it."""
    socks = free_port()
    proc = start_sandbox(
        "up",
        "--world",
        str(tiny_world),
        "--socks-port",
        str(socks),
        "--http-port",
        "0",
        "--explorer-port",
        "0",
        "--classroom-port",
        "0",
        "--tron-port",
        "0",
        "--tronscan-port",
        "0",
        "--state",
        str(tmp_path / "state"),
    )
    try:
        banner = read_until_ready(proc, 60)
        found = EXPORT.findall(banner)
        assert found == [f"socks5h://127.0.0.1:{socks}"], banner
        info = subprocess.run(
            [sys.executable, "-m", "sandbox", "info", str(tiny_world), "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        host = next(s["address"] for s in json.loads(info.stdout)["sites"] if s["kind"] == "wiki")
        crawl = subprocess.run(
            [
                sys.executable,
                "-c",
                "from investigator_tools.cli import cli; cli()",
                "--case",
                str(tmp_path / "case.db"),
                "crawl",
                f"http://{host}/",
                "--depth",
                "0",
                "--no-probe",
                "--json",
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            env=dict(os.environ, INVESTIGATE_PROXY=found[0], PYTHONPATH=str(ROOT)),
        )
        assert crawl.returncode == 0, crawl.stdout + crawl.stderr
        assert json.loads(crawl.stdout)["fetched"] >= 1
    finally:
        stop(proc, signal.SIGINT, 30)
