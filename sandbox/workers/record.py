"""`<state>/site-workers/`: which processes serve the sites, and which of them died.

Written by three processes: the supervisor (`sandbox up`) records the gunicorn master it
starts; each worker records itself once its apps are loaded; the master records a worker
that exits while it is not stopping (a crash, a kill, a timeout). `sandbox status` reads it
from yet another process, so every write is one small file replaced at once or one line
appended.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ..pids import alive

FOLDER = "site-workers"
MASTER = "master.json"
EXITS = "exits.jsonl"
LOG = "gunicorn.log"


def folder(state: Path) -> Path:
    """The record's directory in a state directory."""
    return Path(state) / FOLDER


def reset(state: Path) -> Path:
    """Start a fresh record for a new run; returns its directory."""
    where = folder(state)
    where.mkdir(parents=True, exist_ok=True)
    for path in where.glob("*.json*"):
        path.unlink()
    return where


def _replace(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def master_started(state: Path, pid: int, sites: dict[str, int]) -> None:
    """The supervisor started a gunicorn master serving these sites (id -> port)."""
    _replace(folder(state) / MASTER, {"pid": pid, "started": time.time(), "sites": sites})


def worker_ready(state: Path, pid: int) -> None:
    """A worker has loaded every site's app and takes requests."""
    _replace(folder(state) / f"worker-{pid}.json", {"pid": pid, "ready": time.time()})


def process_died(state: Path, role: str, pid: int, how: str) -> None:
    """A worker or the master ended without being asked to: it is being replaced."""
    (folder(state) / f"worker-{pid}.json").unlink(missing_ok=True)
    line = json.dumps({"role": role, "pid": pid, "at": time.time(), "how": how})
    with open(folder(state) / EXITS, "a") as f:
        f.write(line + "\n")


def worker_gone(state: Path, pid: int) -> None:
    """A worker stopped with the master (no crash)."""
    (folder(state) / f"worker-{pid}.json").unlink(missing_ok=True)


def ready_workers(state: Path) -> list[int]:
    """The pids of workers that recorded themselves ready and still run."""
    pids = []
    for path in folder(state).glob("worker-*.json"):
        try:
            pid = int(json.loads(path.read_text())["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # replaced or removed while being read
        if alive(pid):
            pids.append(pid)
    return sorted(pids)


def describe(state: Path) -> dict | None:
    """What `sandbox status` reports: the master, its live workers, the restarts so far.

    None when this state directory has no record (sites served in the process itself).
    """
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
        "workers": ready_workers(state),
        "restarts": len(exits),
        "last_exits": exits[-5:],
        "log": str(where / LOG),
    }
