"""Child processes of the tests: reading `sandbox up`, stopping children, finding leftovers.

Every child a test starts must be gone when the run ends. `stop` signals a child and, if
it does not exit in time, kills its whole process group, so a test that fails or times
out leaves nothing behind. `leftovers` finds what is still alive: descendants of the test
run, and orphans (a daemon that detached, an agent GnuPG started) recognised by the
marker variable every child inherits from the run's environment.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

READY = "Ctrl-C stops everything"  # the last line `sandbox up` prints once it serves
RUN_MARKER = "SANDBOX_TEST_RUN"  # set by conftest to the pytest pid; inherited by children


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Wait until 127.0.0.1:port accepts connections, failing if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port} after {timeout} s")


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


def as_from_a_terminal() -> None:
    """In the child before it runs: SIGINT at its default, as a terminal's foreground command
    gets it. A test run started in the background by a script ignores SIGINT, and its children
    would inherit that: Ctrl-C (the signal the tests stop `sandbox up` with) would do nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_sandbox(*args: str, env: dict | None = None) -> subprocess.Popen:
    """`python -m sandbox ARGS` in a process group of its own, output piped as text."""
    return subprocess.Popen(
        [sys.executable, "-m", "sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env or dict(os.environ, PYTHONUNBUFFERED="1"),
        start_new_session=True,  # its group can be killed whole: tor, workers and all
        preexec_fn=as_from_a_terminal,
    )


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL a child started in its own session, and everything in its process group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    proc.wait(timeout=30)


def stop(proc: subprocess.Popen, sig: int = signal.SIGINT, timeout: float = 30) -> str:
    """Signal a child and collect the rest of its output; kill it if it does not exit in time.

    A child that ignores the signal is killed (with its group) and the test fails, saying so.
    """
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        rest, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        rest, _ = proc.communicate()
        raise AssertionError(
            f"pid {proc.pid} did not exit within {timeout} s of {signal.Signals(sig).name}; "
            f"killed. Its output:\n{rest}"
        ) from None
    return rest or ""


def _parent(pid: int) -> int | None:
    """The parent pid of a live, non-zombie process; None if it is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    state, ppid = fields[0], int(fields[1])
    return None if state in ("Z", "X") else ppid


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (works for processes not our children)."""
    return _parent(pid) is not None


def end(pid: int, timeout: float = 60) -> None:
    """SIGTERM a process that is not our child, wait for it to go, SIGKILL it if it stays."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not alive(pid):
            return


def _carries_marker(pid: int, marker: str) -> bool:
    """Whether a process's environment holds RUN_MARKER=marker (inherited from the run)."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"{RUN_MARKER}={marker}".encode() in environ.split(b"\0")


def _command(pid: int) -> str:
    """A process's command line, for a report."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip() or "?"


def leftovers(root: int | None = None, marker: str | None = None) -> dict[int, str]:
    """Live processes of a test run (pid -> command line), the run itself excluded.

    A process belongs to the run when root (default: this process) is among its ancestors,
    or when its environment carries the run's marker (orphans that detached or were left
    behind by a parent that exited).
    """
    root = os.getpid() if root is None else root
    marker = marker if marker is not None else os.environ.get(RUN_MARKER, str(root))
    ancestors, pid = set(), os.getpid()
    while pid and pid not in ancestors:  # never report the run or what started it
        ancestors.add(pid)
        pid = _parent(pid) or 0
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            ppid = _parent(int(entry.name))
            if ppid is not None:
                parents[int(entry.name)] = ppid
    found = {}
    for pid in parents:
        if pid in ancestors:
            continue
        up, seen = parents.get(pid), set()
        while up is not None and up not in seen and up != root:
            seen.add(up)
            up = parents.get(up)
        if up == root or _carries_marker(pid, marker):
            found[pid] = _command(pid)
    return found
