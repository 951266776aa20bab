"""The gunicorn master and workers that serve a world's hidden services and exchanges, and
the ports of the sandbox's own services (their `create_replica_app`, which pass what they
cannot answer to the service's own part in `sandbox up`'s process, sandbox.leader).

`python -m sandbox.workers CONFIG` runs it; `supervisor.SiteWorkers` starts it. The
supervisor opens one listening socket per site and hands them over as inherited file
descriptors (`fd://N`), so the ports outlive a master it has to restart. Every worker
loads every site's app and picks the app by the port a connection came in on.

gunicorn, rather than another server: its pre-fork master restarts a worker that crashes
or hangs (past `timeout`), its gthread workers keep connections alive between requests
(idle ones wait in a poller, not in a thread), and it takes inherited sockets as they are.
Its gthread worker is extended to read request heads in the poller too (head_worker.py).
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from gunicorn.app.base import BaseApplication

from ..wsgi_server import DEFAULT_SERVER
from . import record
from .balance import ConnectionCounts
from .head_worker import HEAD_TIMEOUT, HeadFirstWorker
from .supervisor import SERVICES, THREADS

# Seconds an idle connection waits for its next request: as long as a new one may take
# to send its head (head_worker.py closes both from one queue in deadline order).
KEEPALIVE = int(HEAD_TIMEOUT)
TIMEOUT = 30  # a worker silent this long is killed and replaced (a request stuck in a loop)
GRACEFUL = 3  # seconds in-flight requests get when the sandbox stops


class SiteDispatcher:
    """One worker's apps, chosen by the local port of the connection."""

    def __init__(self, world: Path, state: Path, sites: list[dict], started: float):
        """sites: the config's entries (id, kind, port, and the URL of the service's own
        process as leader, for the sandbox's SERVICES); started: when the sandbox started
        serving (the exchanges' clocks begin then)."""
        from marketplaces import create_site_app
        from marketplaces.common.state import StateStore
        from marketplaces.common.world import World

        shared_world, store = World(world), StateStore(state / "state.db")
        self.apps = {}
        for site in sites:
            if site["kind"] in SERVICES:
                app = _service_app(site["kind"], world, state, site["leader"])
            elif site["kind"] == "exchange":
                app = _exchange_app(world, site["id"], state, started)
            else:
                app = create_site_app(shared_world, site["id"], store)
            self.apps[site["port"]] = app

    def __call__(self, environ, start_response):
        # The port the connection came in on: gunicorn takes SERVER_PORT from the listener
        # (a TCP one), never from the Host header; asking the socket is a system call.
        app = self.apps.get(int(environ["SERVER_PORT"]))
        # gunicorn names itself in the environ and in a Server header of its own, which a
        # site's banner would then follow: the banner is the app's, or the stack's default.
        environ["SERVER_SOFTWARE"] = DEFAULT_SERVER
        response = getattr(start_response, "__self__", None)

        def start(status, headers, exc_info=None):
            banners = [v for k, v in headers if k.lower() == "server"]
            if response is not None:
                response.version = banners[0] if banners else DEFAULT_SERVER
            kept = [(k, v) for k, v in headers if k.lower() != "server"]
            return start_response(status, kept, exc_info)

        if app is None:  # a listener the config did not name: never expected
            start("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"no site on this port\n"]
        return app(environ, start)


def pool_settings(workers: int) -> dict:
    """The gunicorn settings of a pool of the sandbox's workers (the sites', and
    bench/gateway.py's stand-in site): the worker class, its threads, keep-alive and
    timeouts, and the workers' shared connection counts (balance.py), a seat given to each
    worker at fork and freed when it exits (`pre_fork`, `child_exit`)."""
    counts = ConnectionCounts(workers + 1)  # one spare: a seat is freed only once reaped

    def pre_fork(server, worker) -> None:
        worker.seat = counts.seat()

    def child_exit(server, worker) -> None:
        counts.free(worker.seat)

    return {
        "workers": workers,
        "worker_class": HeadFirstWorker,
        "threads": THREADS,
        "keepalive": KEEPALIVE,
        "timeout": TIMEOUT,
        "graceful_timeout": GRACEFUL,
        "pre_fork": pre_fork,
        "child_exit": child_exit,
    }


class SitesApplication(BaseApplication):
    """gunicorn configured from the supervisor's JSON config, not from the command line."""

    def __init__(self, config: dict):
        self.config = config
        self.state = Path(config["state"])
        super().__init__()

    def load_config(self) -> None:
        """gunicorn's settings, and the hooks that keep the record in `<state>/site-workers`."""
        where, parent = Path(self.config["record"]), self.config["parent"]

        def worker_ready(worker) -> None:
            record.worker_ready(where, worker.pid)

        settings = pool_settings(self.config["workers"])
        free_seat = settings["child_exit"]

        def child_exit(server, worker) -> None:
            free_seat(server, worker)
            # The master closes its listeners first when asked to stop: an exit while it
            # still listens was not asked for.
            if server.LISTENERS:
                record.process_died(where, "worker", worker.pid, "exited; replaced")
            else:
                record.worker_gone(where, worker.pid)

        def when_ready(server) -> None:
            threading.Thread(target=_follow_parent, args=(parent,), daemon=True).start()

        settings |= {
            "bind": [f"fd://{site['fd']}" for site in self.config["sites"]],
            "errorlog": str(where / record.LOG),
            "loglevel": "warning",
            "accesslog": None,
            "proc_name": "sandbox-sites",
            # Every connection comes from the gateway on loopback carrying a trainee's own
            # headers: none of them may claim a scheme or an address.
            "forwarded_allow_ips": "",
            "post_worker_init": worker_ready,
            "child_exit": child_exit,
            "when_ready": when_ready,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)
        # Imported once in the master, shared by every worker it forks (a faster boot).
        for kind in {site["kind"] for site in self.config["sites"]}:
            importlib.import_module(_module_of(kind))

    def load(self):
        """The worker's WSGI app: every site's."""
        config = self.config
        return SiteDispatcher(Path(config["world"]), self.state, config["sites"], config["started"])


def _module_of(kind: str) -> str:
    """The package serving a kind of site or service."""
    if kind in SERVICES or kind == "exchange":
        return "sandbox." + {"exchange": "exchanges"}.get(kind, kind)
    return f"marketplaces.{kind}"


def _service_app(name: str, world: Path, state: Path, leader: str | None):
    """The app a worker runs for one of the sandbox's own services."""
    assert leader is not None  # the supervisor names each one's own process
    return importlib.import_module(_module_of(name)).create_replica_app(world, state, leader)


def _exchange_app(world: Path, site_id: str, state: Path, started: float):
    """An exchange's portal, reading the live Tron chain as the node's process writes it."""
    from ..exchanges import create_app
    from ..tron.live.chain import TronReplica
    from ..world.store import open_world
    from ..world.tron_store import has_tron

    conn = open_world(world)
    try:
        tron = has_tron(conn)
    finally:
        conn.close()
    chain = TronReplica(world, state) if tron else None
    return create_app(world, site_id, state, chain, started=started)


def _follow_parent(parent: int) -> None:
    """Stop the master soon after the supervisor is gone (killed without a chance to stop
    us): nobody waits for answers any more, and a `sandbox up` started again at once on
    the same state needs the ports, so quickly (SIGINT), not gracefully."""
    while os.getppid() == parent:
        time.sleep(0.1)
    os.kill(os.getpid(), signal.SIGINT)


def main(argv: list[str]) -> None:
    """Run the master until SIGTERM: `python -m sandbox.workers CONFIG`."""
    if len(argv) != 1:
        sys.exit("usage: python -m sandbox.workers CONFIG.json")
    config = json.loads(Path(argv[0]).read_text())
    SitesApplication(config).run()
