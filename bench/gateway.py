"""Benchmark: page fetches direct vs. through the gateway's SOCKS port, in one run.

A Flask site on werkzeug's threaded server (the kind of server the sandbox's sites use)
serves a ~10 KB HTML page from its own process; the gateway runs in another process,
as it does in the classroom. Then 40 client threads (one keep-alive requests.Session
each) fetch the page a fixed number of times: first directly, then through the gateway
with socks5h://. Printed: requests/s, p50 and p95 latency for both, and the ratio.

    python bench/gateway.py                 # defaults: 40 clients, 4000 requests per phase
    python bench/gateway.py --requests 2000 --clients 20
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import threading
import time
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


def _serve_site(conn) -> None:
    """Child process: serve the page with Flask on werkzeug's threaded server."""
    import logging

    from flask import Flask, Response
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = Flask("bench_site")
    page = _page()

    @app.get("/")
    def index():
        """Return the page."""
        return Response(page, mimetype="text/html")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    conn.send(server.server_port)
    server.serve_forever()


def _serve_gateway(conn, site_port: int, onion: str, use_uvloop: bool) -> None:
    """Child process: run the gateway until told to stop, then report its fd count."""
    from sandbox.gateway import Gateway, GatewayConfig, Routes

    routes = Routes({onion: ("127.0.0.1", site_port)})
    config = GatewayConfig(socks_port=0, http_port=0, use_uvloop=use_uvloop)
    gateway = Gateway(routes, config).start_in_thread()
    conn.send(gateway.socks_address[1])
    conn.recv()
    gateway.stop()
    conn.send("stopped")


def _phase(url: str, proxies: dict | None, clients: int, total: int) -> tuple[float, list[float]]:
    """Fetch ``url`` ``total`` times from ``clients`` threads; return (seconds, latencies)."""
    import requests

    per_client = total // clients
    latencies: list[list[float]] = [[] for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    errors: list[BaseException] = []

    def client(index: int) -> None:
        """One keep-alive session fetching the page in a loop."""
        session = requests.Session()
        if proxies:
            session.proxies.update(proxies)
        mine = latencies[index]
        try:
            session.get(url, timeout=30).raise_for_status()  # connect before timing
            barrier.wait()
            for _ in range(per_client):
                t0 = time.perf_counter()
                response = session.get(url, timeout=30)
                mine.append(time.perf_counter() - t0)
                if response.status_code != 200 or len(response.content) < 9000:
                    raise RuntimeError(f"bad response {response.status_code}")
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
        finally:
            session.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed, [x for per in latencies for x in per]


def _summary(name: str, elapsed: float, latencies: list[float]) -> dict:
    """Print and return one phase's figures."""
    latencies.sort()
    rate = len(latencies) / elapsed
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000
    print(f"{name:<16} {rate:9.0f} req/s   p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
    return {"rate": rate, "p50": p50, "p95": p95}


def main() -> int:
    """Run both phases and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--requests", type=int, default=4000, help="per phase")
    parser.add_argument("--no-uvloop", action="store_true", help="gateway on stdlib asyncio")
    args = parser.parse_args()

    from sandbox.onion import OnionKey

    onion = OnionKey.from_seed(ONION_SEED).address
    mp = multiprocessing.get_context("spawn")
    site_conn, site_child = mp.Pipe()
    site = mp.Process(target=_serve_site, args=(site_child,), daemon=True)
    site.start()
    site_port = site_conn.recv()
    gw_conn, gw_child = mp.Pipe()
    gateway = mp.Process(
        target=_serve_gateway,
        args=(gw_child, site_port, onion, not args.no_uvloop),
        daemon=True,
    )
    gateway.start()
    socks_port = gw_conn.recv()
    try:
        direct_url = f"http://127.0.0.1:{site_port}/"
        onion_url = f"http://{onion}/"
        proxies = {"http": f"socks5h://127.0.0.1:{socks_port}"}
        warm = max(args.clients, args.requests // 10)
        _phase(direct_url, None, args.clients, warm)
        _phase(onion_url, proxies, args.clients, warm)
        loop_name = "stdlib asyncio" if args.no_uvloop else "uvloop if installed"
        print(f"{args.clients} clients, {args.requests} requests per phase, gateway on {loop_name}")
        direct = _summary("direct", *_phase(direct_url, None, args.clients, args.requests))
        via = _summary("via gateway", *_phase(onion_url, proxies, args.clients, args.requests))
        ratio = via["rate"] / direct["rate"]
        print(f"throughput ratio gateway/direct: {ratio:.2f}  (target >= 0.80)")
        print(f"p95 through the gateway: {via['p95']:.1f} ms  (target < 50 ms)")
        gw_conn.send("stop")
        gw_conn.recv()
    finally:
        for process in (gateway, site):
            process.terminate()
            process.join(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
