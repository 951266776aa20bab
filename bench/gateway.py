"""Benchmark: page fetches direct vs. through the gateway's SOCKS port, in one run.

A Flask site on gunicorn's gthread workers with keep-alive, set up as the sandbox's site
workers are (`sandbox/workers/gunicorn_app.py`), serves a ~10 KB HTML page from its own
processes; the gateway runs in another process, as it does in the classroom. Then 40
keep-alive clients, spread over 4 processes as trainees' browsers do not share one
interpreter, fetch the page a fixed number of times, directly and through the gateway with
socks5h (alternating, pooled over rounds); then one client alone, to show the latency the
gateway itself adds. Printed: requests/s, p50 and p95 latency for both, the throughput
ratio, and the gateway process's CPU time per request.

The clients share the 2 cores with the servers they measure, so by default they are the
standard library's http.client over PySocks (the socket layer requests uses for socks5h);
`--client requests` measures with requests itself, whose own CPU then bounds the figures.

    python bench/gateway.py                 # 40 clients, 20000 requests per phase, 3 rounds
    python bench/gateway.py --client requests --client-processes 1 --requests 3000
    python bench/gateway.py --requests 2000 --clients 20 --no-uvloop
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ONION_SEED = bytes(range(32))
_PARAGRAPH = (
    "<p>Vendor listing: high quality product, escrow accepted, ships worldwide. "
    "PGP key below; always encrypt your address. Feedback 4.9/5 over 312 orders.</p>\n"
)


def _page() -> bytes:
    """Return a ~10 KB HTML page."""
    body = _PARAGRAPH * (10_000 // len(_PARAGRAPH))
    return f"<!DOCTYPE html><html><head><title>market</title></head><body>{body}</body></html>".encode()


def _serve_site(conn, workers: int) -> None:
    """Child process: serve the page with Flask on gunicorn, as the sandbox's site workers."""
    import socket

    from flask import Flask, Response
    from gunicorn.app.base import BaseApplication

    from sandbox.workers.gunicorn_app import pool_settings

    app = Flask("bench_site")
    page = _page()

    @app.get("/")
    def index():
        """Return the page."""
        return Response(page, mimetype="text/html")

    listener = socket.create_server(("127.0.0.1", 0), backlog=1024)

    class Site(BaseApplication):
        """The page on gunicorn, with the site workers' settings."""

        def load_config(self):
            """The sandbox's sites' own pool settings: worker class, threads, keep-alive,
            timeouts and the workers' connection balance."""
            settings = pool_settings(workers) | {
                "bind": [f"fd://{listener.fileno()}"],
                "loglevel": "warning",
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self):
            """The Flask app."""
            return app

    conn.send(listener.getsockname()[1])
    Site().run()


def _serve_gateway(conn, site_port: int, onion: str, use_uvloop: bool, log_dir: str) -> None:
    """Child process: run the gateway (with its log) until told to stop; report CPU used."""
    import resource

    from sandbox.gateway import ConnectionLog, Gateway, GatewayConfig, Routes

    routes = Routes({onion: ("127.0.0.1", site_port)})
    config = GatewayConfig(socks_port=0, http_port=0, use_uvloop=use_uvloop)
    with ConnectionLog(Path(log_dir) / "gateway.db") as log:
        gateway = Gateway(routes, config, log).start_in_thread()
        conn.send(gateway.socks_address[1])
        while conn.recv() == "cpu":
            usage = resource.getrusage(resource.RUSAGE_SELF)
            conn.send(usage.ru_utime + usage.ru_stime)
        gateway.stop()
    conn.send("stopped")


def _session(url: str, proxies: dict | None, kind: str):
    """A keep-alive client for ``url``: ``get()`` returns (status, body length).

    "requests" is what trainees' scripts use. "http.client" is the standard library's
    client over PySocks (the socket layer requests itself uses for socks5h://): the same
    connections and requests for a fraction of the client's CPU, which shares the cores
    with the servers measured.
    """
    if kind == "requests":
        import requests

        session = requests.Session()
        if proxies:
            session.proxies.update(proxies)

        def get() -> tuple[int, int]:
            response = session.get(url, timeout=30)
            return response.status_code, len(response.content)

        return get, session.close

    import http.client
    from urllib.parse import urlsplit

    import socks

    target = urlsplit(url)
    proxy = urlsplit(proxies["http"]) if proxies else None

    def connect() -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=30)
        if proxy:
            sock = socks.socksocket()
            sock.set_proxy(socks.SOCKS5, proxy.hostname, proxy.port, rdns=True)
            sock.settimeout(30)
            sock.connect((target.hostname, target.port or 80))
            connection.sock = sock
        return connection

    holder = [connect()]

    def get() -> tuple[int, int]:
        holder[0].request("GET", target.path or "/")
        response = holder[0].getresponse()
        body = response.read()
        if response.will_close:
            holder[0].close()
            holder[0] = connect()
        return response.status, len(body)

    return get, lambda: holder[0].close()


def _client_process(url, proxies, kind, threads, per_client, barrier, results) -> None:
    """One client process: ``threads`` keep-alive clients fetching ``url`` in a loop."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[str] = []

    def client(index: int) -> None:
        get, close = _session(url, proxies, kind)
        mine = latencies[index]
        try:
            get()  # connect before timing
            barrier.wait()
            for _ in range(per_client):
                t0 = time.perf_counter()
                status, length = get()
                mine.append(time.perf_counter() - t0)
                if status != 200 or length < 9000:
                    raise RuntimeError(f"bad response {status}")
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            errors.append(repr(exc))
            barrier.abort()
        finally:
            close()

    pool = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    results.put((errors, [x for per in latencies for x in per]))


@dataclass(frozen=True)
class Load:
    """Who fetches: how many clients, over how many processes, with which client library."""

    clients: int
    processes: int = 1
    kind: str = "requests"


def _phase(url: str, proxies: dict | None, load: Load, total: int) -> tuple[float, list[float]]:
    """Fetch ``url`` ``total`` times from ``load``'s clients; return (seconds, latencies).

    Trainees' browsers do not share one interpreter lock: 40 client threads in one process
    queue behind each other's lock and add that wait to every latency, so the clients are
    spread over processes (forked: they inherit this module).
    """
    mp = multiprocessing.get_context("fork")
    processes = max(1, min(load.processes, load.clients))
    per_client = total // load.clients
    barrier = mp.Barrier(load.clients + 1)
    results = mp.Queue()
    shares = [load.clients // processes + (i < load.clients % processes) for i in range(processes)]
    workers = [
        mp.Process(
            target=_client_process,
            args=(url, proxies, load.kind, n, per_client, barrier, results),
        )
        for n in shares
    ]
    for worker in workers:
        worker.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=120)
    start = time.perf_counter()
    collected = [results.get(timeout=600) for _ in workers]
    elapsed = time.perf_counter() - start
    for worker in workers:
        worker.join()
    errors = [e for errs, _ in collected for e in errs]
    if errors:
        raise RuntimeError(f"{len(errors)} clients failed, first: {errors[0]}")
    return elapsed, [x for _, lat in collected for x in lat]


def _summary(name: str, elapsed: float, latencies: list[float]) -> dict:
    """Print and return one mode's figures."""
    latencies = sorted(latencies)
    rate = len(latencies) / elapsed
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000
    print(f"  {name:<14} {rate:8.0f} req/s   p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
    return {"rate": rate, "p50": p50, "p95": p95}


def _compare(label, direct_url, onion_url, proxies, load: Load, total, rounds, cpu) -> tuple:
    """Alternate direct and gateway phases; print pooled figures for each."""
    results = {"direct": [0.0, []], "via gateway": [0.0, []]}
    gateway_cpu = 0.0
    for _ in range(rounds):
        for name, url, prox in (("direct", direct_url, None), ("via gateway", onion_url, proxies)):
            before = cpu() if prox else 0.0
            elapsed, latencies = _phase(url, prox, load, total)
            if prox:
                gateway_cpu += cpu() - before
            results[name][0] += elapsed
            results[name][1] += latencies
    print(
        f"{label}: {load.clients} clients ({load.kind}, {load.processes} processes) "
        f"x {total // load.clients} requests x {rounds} rounds"
    )
    direct = _summary("direct", *results["direct"])
    via = _summary("via gateway", *results["via gateway"])
    requests_through = len(results["via gateway"][1])
    print(f"  gateway CPU per request: {gateway_cpu / requests_through * 1e6:.0f} us")
    return direct, via


def main() -> int:
    """Run the phases and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--requests", type=int, default=20000, help="per phase")
    parser.add_argument("--rounds", type=int, default=3, help="alternating direct/gateway")
    parser.add_argument("--no-uvloop", action="store_true", help="gateway on stdlib asyncio")
    parser.add_argument(
        "--client-processes", type=int, default=4, help="processes the clients are spread over"
    )
    parser.add_argument(
        "--client",
        choices=("requests", "http.client"),
        default="http.client",
        help="the client library (both over PySocks for socks5h)",
    )
    parser.add_argument("--site-workers", type=int, default=2, help="the site's gunicorn workers")
    args = parser.parse_args()

    from sandbox.onion import OnionKey

    onion = OnionKey.from_seed(ONION_SEED).address
    mp = multiprocessing.get_context("spawn")
    site_conn, site_child = mp.Pipe()
    # Not a daemon: a daemonic process may not fork gunicorn's workers.
    site = mp.Process(target=_serve_site, args=(site_child, args.site_workers))
    site.start()
    site_port = site_conn.recv()
    gw_conn, gw_child = mp.Pipe()
    log_dir = tempfile.mkdtemp(prefix="bench-gateway-")
    gateway = mp.Process(
        target=_serve_gateway,
        args=(gw_child, site_port, onion, not args.no_uvloop, log_dir),
        daemon=True,
    )
    gateway.start()
    socks_port = gw_conn.recv()

    def cpu() -> float:
        """CPU seconds the gateway process has used so far."""
        gw_conn.send("cpu")
        return gw_conn.recv()

    started = time.perf_counter()
    try:
        direct_url = f"http://127.0.0.1:{site_port}/"
        onion_url = f"http://{onion}/"
        proxies = {"http": f"socks5h://127.0.0.1:{socks_port}"}
        warm = max(args.clients, args.requests // 10)
        load = Load(args.clients, args.client_processes, args.client)
        _phase(direct_url, None, load, warm)
        _phase(onion_url, proxies, load, warm)
        loop_name = "stdlib asyncio" if args.no_uvloop else "uvloop (if installed)"
        print(
            f"gateway on {loop_name}; site: Flask on gunicorn gthread "
            f"({args.site_workers} workers), 10 KB page"
        )
        direct, via = _compare(
            "load",
            direct_url,
            onion_url,
            proxies,
            load,
            args.requests,
            args.rounds,
            cpu,
        )
        ratio = via["rate"] / direct["rate"]
        _, quiet_via = _compare(
            "single client", direct_url, onion_url, proxies, Load(1, 1, args.client), 300, 1, cpu
        )
        print(f"throughput ratio gateway/direct under load: {ratio:.2f}  (target >= 0.90)")
        print(
            f"p95 via gateway: {via['p95']:.1f} ms under load (direct {direct['p95']:.1f} ms), "
            f"{quiet_via['p95']:.1f} ms for a single client  (target < 50 ms)"
        )
        gw_conn.send("stop")
        gw_conn.recv()
    finally:
        for process in (gateway, site):
            process.terminate()
            process.join(5)
        shutil.rmtree(log_dir, ignore_errors=True)
    print(f"bench ran {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
