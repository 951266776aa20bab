"""Reading what a `sandbox up` subprocess prints, for the tests that run the real command."""

from __future__ import annotations

import subprocess
import time

READY = "Ctrl-C stops everything"  # the last line `sandbox up` prints once it serves


def read_until_ready(proc: subprocess.Popen, timeout: float) -> str:
    """The output up to the ready line, or up to its end or the timeout if that comes first."""
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if READY in line:
            break
    return "".join(lines)
