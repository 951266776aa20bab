"""`<state>/site-workers/`: which processes serve the sites, and which of them died.

Written by three processes: the supervisor (`sandbox up`) records the gunicorn master it
starts; each worker records itself once its apps are loaded; the master records a worker
that exits while it is not stopping (a crash, a kill, a timeout). `sandbox status` reads it
from yet another process, so every write is one small file replaced at once or one line
appended.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import time
from pathlib import Path

from ..pids import alive

FOLDER = "site-workers"
MASTER = "master.json"
EXITS = "exits.jsonl"
LOG = "gunicorn.log"
# A traceback's last line: the exception's (dotted) name and its message.
_EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*(Error|Exception)(: |$)")


def folder(state: Path, site: str | None = None) -> Path:
    """The record's directory in a state directory: `sandbox up`'s, or that of a container
    serving one site (`sandbox serve-site`; the containers share the state volume)."""
    return Path(state) / (f"{FOLDER}-{site}" if site else FOLDER)


def reset(where: Path) -> Path:
    """Start a fresh record for a new run in its directory; returns it."""
    where.mkdir(parents=True, exist_ok=True)
    for path in where.glob("*.json*"):
        path.unlink()
    return where


def _replace(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def master_started(where: Path, pid: int, sites: dict[str, int]) -> None:
    """The supervisor (this process) started a gunicorn master serving these sites
    (id -> port)."""
    record = {"pid": pid, "parent": os.getpid(), "started": time.time(), "sites": sites}
    _replace(where / MASTER, record)


def await_orphan(where: Path, timeout: float = 5.0) -> None:
    """Wait until the master of a previous run whose supervisor was killed (kill -9, a
    crash) has let go of the ports; it stops itself within about a second, so a
    `sandbox up` started again at once would otherwise find its ports taken. One still
    there after timeout is killed with its workers."""
    try:
        master = json.loads((where / MASTER).read_text())
        pid, parent = int(master["pid"]), int(master["parent"])
    except (OSError, ValueError, KeyError, TypeError):
        return  # no previous run, or one recorded before parents were
    if not _is_master(pid) or alive(parent):
        return  # gone, or a live supervisor's: its ports are its own
    deadline = time.monotonic() + timeout
    while _is_master(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _is_master(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)  # the master leads its own session (supervisor)
        while _is_master(pid) and time.monotonic() < deadline + timeout:
            time.sleep(0.05)


def _is_master(pid: int) -> bool:
    """Whether pid runs a sites' gunicorn master (not a process that reused the pid)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return alive(pid) and b"sandbox.workers" in command


def worker_ready(where: Path, pid: int) -> None:
    """A worker has loaded every site's app and takes requests."""
    _replace(where / f"worker-{pid}.json", {"pid": pid, "ready": time.time()})


def process_died(where: Path, role: str, pid: int, how: str) -> None:
    """A worker or the master ended without being asked to: it is being replaced."""
    (where / f"worker-{pid}.json").unlink(missing_ok=True)
    line = json.dumps({"role": role, "pid": pid, "at": time.time(), "how": how})
    with open(where / EXITS, "a") as f:
        f.write(line + "\n")


def worker_gone(where: Path, pid: int) -> None:
    """A worker stopped with the master (no crash)."""
    (where / f"worker-{pid}.json").unlink(missing_ok=True)


def ready_workers(where: Path) -> list[int]:
    """The pids of workers that recorded themselves ready and still run."""
    pids = []
    for path in where.glob("worker-*.json"):
        try:
            pid = int(json.loads(path.read_text())["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # replaced or removed while being read
        if alive(pid):
            pids.append(pid)
    return sorted(pids)


def log_tail(where: Path, lines: int = 12) -> str:
    """The last lines of the master's log, led by its last exception line when they miss
    it (workers failing together end the log with the master's own lines)."""
    try:
        every = (where / LOG).read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    tail = every[-lines:]
    errors = [line for line in every if _EXCEPTION_LINE.match(line)]
    if errors and errors[-1] not in tail:
        tail = [errors[-1], "...", *tail]
    return "\n".join(tail)


def describe(state: Path) -> dict | None:
    """What `sandbox status` reports of `sandbox up`'s workers: the master, its live
    workers, the restarts so far. None when the state directory has no record."""
    where = folder(state)
    try:
        master = json.loads((where / MASTER).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        return {"error": f"{where / MASTER}: unreadable ({e})"}
    exits = []
    try:
        with open(where / EXITS) as f:
            exits = [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as e:
        return {"error": f"{where / EXITS}: unreadable ({e})"}
    return {
        "master": master["pid"],
        "master_alive": alive(master["pid"]),
        "workers": ready_workers(where),
        "restarts": len(exits),
        "last_exits": exits[-5:],
        "log": str(where / LOG),
    }
