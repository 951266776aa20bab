"""bench/gateway.py runs end to end with either client library: a site, the gateway, clients.

A small run (4 clients in 2 processes); what it prints is checked, never its timings.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "gateway.py"


@pytest.mark.parametrize("client", ["http.client", "requests"])
def test_the_bench_fetches_directly_and_through_the_gateway(client):
    done = subprocess.run(
        [sys.executable, str(BENCH), "--clients", "4", "--client-processes", "2"]
        + ["--requests", "40", "--rounds", "1", "--client", client],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert f"4 clients ({client}, 2 processes) x 10 requests x 1 rounds" in done.stdout
    rates = re.findall(r"(direct|via gateway)\s+(\d+) req/s", done.stdout)
    assert [name for name, _ in rates] == ["direct", "via gateway"] * 2  # load, then alone
    assert all(int(rate) > 0 for _, rate in rates)
    assert re.search(r"throughput ratio gateway/direct under load: \d+\.\d\d", done.stdout)


def test_a_client_library_it_does_not_know_is_refused():
    done = subprocess.run(
        [sys.executable, str(BENCH), "--client", "curl"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "--client" in done.stderr
