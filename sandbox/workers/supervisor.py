"""Start the sites' gunicorn master from `sandbox up`, restart it if it dies, stop it on exit.

The listening sockets are opened here and inherited by the master, so a restarted master
serves the same ports and connections that arrive meanwhile wait in the backlog. The
master gets its own session: Ctrl-C reaches `sandbox up`, which stops it in order.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

import sandbox

from ..errors import SandboxError
from ..port_range import PortAllocator
from . import record

READY_TIMEOUT = 30.0  # seconds for every worker to load its apps (a cold start on a busy laptop)
# More master restarts than this within RESTART_WINDOW seconds: something is broken for good.
MAX_RESTARTS = 5
RESTART_WINDOW = 60.0
THREADS = 8  # requests a worker serves at once (idle keep-alive connections need no thread)


# The sandbox's own services the workers can serve besides the sites: each on a port given
# as a listening socket, most passing what they cannot answer to their own process
# (sandbox.leader). A service's id and kind are its name.
TRON_NODE = "tronnode"
EXPLORER = "explorer"
TRON_EXPLORER = "tronscan"
CLASSROOM = "classroom"
ISSUER = "issuer"
SERVICES = (TRON_NODE, EXPLORER, TRON_EXPLORER, CLASSROOM, ISSUER)


class WorkersError(SandboxError, OSError):
    """The sites' gunicorn master could not start: it exited before its workers were ready."""


def default_workers() -> int:
    """One worker per core, at least two (a crash then leaves one serving)."""
    return max(2, min(os.cpu_count() or 2, 8))


class SiteWorkers:
    """The gunicorn master serving a world's hidden services, watched by a thread."""

    def __init__(
        self,
        world: Path,
        state: Path,
        sites: list[tuple[str, str]],
        *,
        host: str = "127.0.0.1",
        ports: PortAllocator | None = None,
        workers: int | None = None,
        record_dir: Path | None = None,
        services: dict[str, tuple[socket.socket, str]] | None = None,
    ):
        """sites: (site id, kind) of each site to serve, on host at ports from `ports`;
        record_dir: where they are recorded (default `<state>/site-workers`); services:
        name (one of SERVICES) -> the listening socket to serve it on (closed by stop())
        and the URL of its own process (sandbox.leader)."""
        self.world, self.state = Path(world), Path(state)
        self.record = record_dir or record.folder(self.state)
        self.sites = sites
        self.services = services or {}
        unknown = set(self.services) - set(SERVICES)
        if unknown:
            raise ValueError(f"no such service: {', '.join(sorted(unknown))}")
        self.host = host
        self.ports = ports or PortAllocator()
        self.workers = workers or default_workers()
        self.sockets: dict[str, socket.socket] = {}
        self.process: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self._restarts: deque[float] = deque(maxlen=MAX_RESTARTS)

    @property
    def site_ports(self) -> dict[str, int]:
        """Each site's port."""
        return {site: sock.getsockname()[1] for site, sock in self.sockets.items()}

    def start(self, wait: bool = True) -> SiteWorkers:
        """Listen and start the master; with wait, also wait_ready()."""
        record.await_orphan(self.record)
        where = record.reset(self.record)
        try:
            for site_id, _kind in self.sites:
                self.sockets[site_id] = self.ports.listen(self.host, f"site {site_id}")
            kinds: dict[str, str] = dict(self.sites)
            leaders: dict[str, str] = {}
            for name, (sock, leader) in self.services.items():
                self.sockets[name], kinds[name], leaders[name] = sock, name, leader
            config = {
                "world": str(self.world),
                "state": str(self.state),
                "record": str(self.record),
                "parent": os.getpid(),
                "workers": self.workers,
                # When the world's clock starts: one for every worker, restarted ones too.
                "started": time.time(),
                "sites": [
                    {
                        "id": s,
                        "kind": kinds[s],
                        "fd": sock.fileno(),
                        "port": sock.getsockname()[1],
                        "leader": leaders.get(s),
                    }
                    for s, sock in self.sockets.items()
                ],
            }
            (where / "config.json").write_text(json.dumps(config, indent=2))
            self._spawn()
            if wait:
                self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self) -> None:
        """Start a master on the listening sockets."""
        where = self.record
        # The child finds this very package even when it was put on sys.path by hand.
        root = str(Path(sandbox.__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        with open(where / record.LOG, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sandbox.workers", str(where / "config.json")],
                pass_fds=[sock.fileno() for sock in self.sockets.values()],
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
            )
        record.master_started(self.record, self.process.pid, self.site_ports)

    def wait_ready(self) -> None:
        """Block until every worker has loaded its apps, then watch the master (restart it
        when it dies); WorkersError if it exits first (the caller then stops us)."""
        assert self.process is not None
        deadline = time.monotonic() + READY_TIMEOUT
        while len(record.ready_workers(self.record)) < self.workers:
            code = self.process.poll()
            if code is not None:
                raise WorkersError(
                    f"the sites' server exited ({code}) before it was ready; "
                    f"{self.record / record.LOG} ends with:\n{record.log_tail(self.record)}"
                )
            if time.monotonic() > deadline:
                raise WorkersError(
                    f"the sites' {self.workers} workers were not ready after {READY_TIMEOUT:.0f} s;"
                    f" see {self.record / record.LOG}"
                )
            time.sleep(0.02)
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="site-workers", daemon=True)
            self._watcher.start()

    def _watch(self) -> None:
        """Restart the master whenever it ends without being asked to."""
        while True:
            process = self.process
            assert process is not None
            code = process.wait()
            with self._lock:
                if self._stopping.is_set():
                    return
                now = time.monotonic()
                self._restarts.append(now)
                if len(self._restarts) == MAX_RESTARTS and now - self._restarts[0] < RESTART_WINDOW:
                    record.process_died(self.record, "master", process.pid, f"exit {code}; gave up")
                    return
                record.process_died(self.record, "master", process.pid, f"exit {code}; restarted")
                self._spawn()

    def stop(self) -> None:
        """Stop the master (its workers finish their requests) and close the sockets."""
        with self._lock:
            self._stopping.set()
            process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # a worker ignoring its graceful timeout
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._watcher is not None:
            self._watcher.join()
            self._watcher = None
        for sock in self.sockets.values():
            sock.close()
        self.sockets = {}
