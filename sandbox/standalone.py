"""What the containers of docker-compose.yml run: one site of a world, or the gateway.

`serve_site` serves one site's app on a port of all interfaces (`sandbox serve-site`);
`start_gateway` starts a Sandbox whose sites live in other containers, routed by host
name, with the explorer and the classroom portal in its own process (`sandbox gateway`).
Both run until SIGTERM (`docker stop`) or Ctrl-C.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

from .errors import WorldError
from .open_files import ensure_open_files, open_files_needed
from .port_range import PortAllocator, PortRange
from .portal_server import PortalServer
from .serve import IN_PROCESS_KINDS, Sandbox, site_app
from .workers import SiteWorkers, record
from .world.store import open_world, site_rows
from .wsgi_server import MAX_CONNECTIONS


def parse_route(text: str) -> tuple[str, tuple[str, int]]:
    """'SITE=HOST:PORT' -> (site, (host, port)), or ValueError saying what is wrong."""
    site, sep, upstream = text.partition("=")
    host, colon, port = upstream.rpartition(":")
    if not sep or not site or not colon or not host or not port.isdigit():
        raise ValueError(f"route {text!r}: expected SITE=HOST:PORT, e.g. nightshade=site-a:80")
    number = int(port)
    if not 0 < number < 65536:
        raise ValueError(f"route {text!r}: port must be 1-65535")
    return site, (host, number)


def site_kind(world: Path, site_id: str) -> str:
    """A site's kind, or WorldError naming the world's sites when it has no such site."""
    conn = open_world(world)
    try:
        rows = {r["id"]: r["kind"] for r in site_rows(conn)}
    finally:
        conn.close()
    if site_id not in rows:
        raise WorldError(f"{world}: no site {site_id!r} (sites: {', '.join(rows)})")
    return rows[site_id]


def stop_requested() -> threading.Event:
    """An event SIGTERM sets, its handler installed now: called before the services start,
    a SIGTERM that comes while they start (`docker stop` at once) stops them once started
    instead of killing the process with its workers still running."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    return stopping


def wait_for_stop(stopping: threading.Event) -> None:
    """Block until stopping is set (SIGTERM, see stop_requested) or Ctrl-C."""
    try:
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass


def serve_site(world: Path, site_id: str, state: Path, host: str = "0.0.0.0", port: int = 80):
    """Serve one site of a world until stopped; trainees' writes go to the state directory.

    A hidden service runs in gunicorn workers, as under `sandbox up`; the explorer, an
    exchange or the issuer on a threaded server in this process (their chains live here).
    """
    stopping = stop_requested()
    world = Path(world).resolve()
    state = Path(state)
    kind = site_kind(world, site_id)
    state.mkdir(parents=True, exist_ok=True)
    if kind not in IN_PROCESS_KINDS:
        ports = PortAllocator(PortRange(port, port)) if port else None
        workers = SiteWorkers(
            world,
            state,
            [(site_id, kind)],
            host=host,
            ports=ports,
            record_dir=record.folder(state, site_id),  # the containers share the state volume
        ).start()
        print(f"{kind} {site_id} of {world} on {host}:{workers.site_ports[site_id]}", flush=True)
        try:
            wait_for_stop(stopping)
        finally:
            workers.stop()
        return
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    ensure_open_files(
        open_files_needed(MAX_CONNECTIONS),
        f"site {site_id} (at most {MAX_CONNECTIONS} connections)",
    )
    app = site_app(world, state, site_id, kind)
    server = PortalServer(host, port, app)
    thread = threading.Thread(target=server.serve_forever, name=f"site-{site_id}", daemon=True)
    thread.start()
    print(f"{kind} {site_id} of {world} on {host}:{server.server_port}", flush=True)
    try:
        wait_for_stop(stopping)
    finally:
        server.shutdown()
        server.server_close()
        explorer = app.extensions.get("explorer")
        if explorer is not None:  # its live miner runs in threads
            explorer.close()


def start_gateway(
    world: Path,
    routes: dict[str, tuple[str, int]],
    route_host: str | None = None,
    local: tuple[str, ...] = ("explorer", "issuer"),
    **settings,
) -> Sandbox:
    """Start a Sandbox that routes some sites to other hosts and serves the others itself.

    routes maps site ids to (host, port); route_host ('site-{id}:80') names the upstream
    of every other site whose kind is not in `local`. Raises WorldError for a route to no
    site of the world.
    """
    conn = open_world(world)
    try:
        sites = {r["id"]: r["kind"] for r in site_rows(conn)}
    finally:
        conn.close()
    unknown = sorted(set(routes) - set(sites))
    if unknown:
        raise WorldError(f"{world}: --route to no site of the world: {', '.join(unknown)}")
    upstreams = dict(routes)
    if route_host:
        for site_id, kind in sites.items():
            if site_id not in upstreams and kind not in local:
                upstreams[site_id] = parse_route(f"{site_id}={route_host.format(id=site_id)}")[1]
    return Sandbox(world, upstreams=upstreams, **settings).start()
