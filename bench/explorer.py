"""Benchmark the block explorer over real HTTP on a world of about 1,000,000 transactions.

The explorer runs in a child process behind werkzeug's threaded server, as `sandbox up`
serves it. Measured from this process:

* latency (p50/p95, one client, a new connection per request as the dev server answers
  HTTP/1.0) of GET /api/tx/:txid, GET /api/address/:a/txs and the address page, for
  random transactions and addresses (so the witness cache is mostly cold), and of what
  wallets ask (scripthash histories and UTXOs, merkle proofs, address search, mempool);
* requests per second with 20 concurrent clients on each of them.

Baselines measured in the same run: a static 200 answered by the same server (the cost of
HTTP and threading alone), and the same number of plain `SELECT raw FROM transactions
WHERE txid = ?` round trips on the world database (the cost of SQLite alone).

    python bench/explorer.py                          # builds the 1M world first (~3 min)
    python bench/explorer.py --world /tmp/world.db    # an existing world
    python bench/explorer.py --requests 200 --seconds 3
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from worlds import build_scaled_world  # noqa: E402

from sandbox.ledger.address import script_pubkey  # noqa: E402

SERVER = """
import logging, sys
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server
from sandbox.explorer import create_app

def static(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]

logging.getLogger("werkzeug").setLevel(logging.ERROR)
explorer = create_app(sys.argv[1], sys.argv[2], warm_witnesses=sys.argv[3] == "warm")
witnesses = explorer.extensions["explorer"].witnesses
if sys.argv[3] == "warm":
    witnesses.wait()
app = DispatcherMiddleware(explorer, {"/__static": static})
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, witnesses.seconds or 0, flush=True)
server.serve_forever()
"""


def sample(world: Path, count: int, seed: int = 7) -> tuple[list[str], list[str]]:
    """Random txids and random used addresses of the world."""
    rng = random.Random(seed)
    conn = sqlite3.connect(f"file:{world}?mode=ro", uri=True)
    top = conn.execute("SELECT max(id) FROM transactions").fetchone()[0]
    ids = rng.sample(range(1, top + 1), count)
    marks = ",".join("?" * len(ids))
    txids = [
        r[0] for r in conn.execute(f"SELECT txid FROM transactions WHERE id IN ({marks})", ids)
    ]
    rows = conn.execute(
        f"SELECT DISTINCT a.address FROM outputs o JOIN addresses a ON a.id = o.address_id "
        f"WHERE o.tx_id IN ({marks}) AND o.n = 0",
        ids,
    ).fetchall()
    conn.close()
    addresses = [r[0] for r in rows]
    rng.shuffle(txids)
    rng.shuffle(addresses)
    return txids, addresses


def get(port: int, path: str) -> int:
    """One GET on a new connection; returns the status after reading the whole body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def latency(port: int, paths: list[str]) -> list[float]:
    """Seconds each request took, one after another."""
    times = []
    for path in paths:
        started = time.perf_counter()
        status = get(port, path)
        times.append(time.perf_counter() - started)
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}")
    return times


def throughput(port: int, paths: list[str], clients: int, seconds: float) -> float:
    """Requests per second that `clients` concurrent clients complete in `seconds`."""
    done = [0] * clients
    stop = time.perf_counter() + seconds

    def client(k: int) -> None:
        """Request paths round-robin until time is up."""
        i = k
        while time.perf_counter() < stop:
            get(port, paths[i % len(paths)])
            done[k] += 1
            i += clients

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - started)


def sql_baseline(world: Path, txids: list[str]) -> list[float]:
    """Seconds of each plain SELECT by txid on the world (one connection, in process)."""
    conn = sqlite3.connect(f"file:{world}?mode=ro", uri=True)
    times = []
    for txid in txids:
        started = time.perf_counter()
        conn.execute("SELECT raw FROM transactions WHERE txid = ?", (txid,)).fetchone()
        times.append(time.perf_counter() - started)
    conn.close()
    return times


def pct(times: list[float], q: float) -> float:
    """The q-th percentile in milliseconds."""
    return statistics.quantiles(times, n=100, method="inclusive")[q - 1] * 1000


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, help="an existing world.db (default: build one)")
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=400, help="latency samples per endpoint")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each load run")
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        world = args.world or Path(tmp) / "world.db"
        if args.world is None:
            build_scaled_world(world, args.transactions)
        count = sqlite3.connect(f"file:{world}?mode=ro", uri=True).execute(
            "SELECT count(*) FROM transactions"
        )
        print(f"world: {world} ({count.fetchone()[0]:,} transactions)")
        txids, addresses = sample(world, args.requests * 3)
        print("\nwitnesses signed on demand only (fresh state, nothing precomputed):")
        with serve(world, Path(tmp) / "cold", warm=False) as (port, _):
            cold(port, txids, addresses, args)
        with serve(world, Path(tmp) / "warm", warm=True) as (port, seconds):
            print(
                f"\nafter precomputing the witnesses of many-input transactions "
                f"({seconds:.0f} s, once per state directory):"
            )
            run(port, world, txids, addresses, args)


@contextlib.contextmanager
def serve(world: Path, state: Path, warm: bool):
    """The explorer in a child process; yields (port, seconds spent warming)."""
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(world), str(state), "warm" if warm else "cold"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        port, seconds = server.stdout.readline().split()
        yield int(port), float(seconds)
    finally:
        server.terminate()
        server.wait(timeout=10)


def cold(port: int, txids, addresses, args) -> None:
    """Latency with every witness signed during the request."""
    n = args.requests
    print(f"{'endpoint':<34} {'p50 ms':>8} {'p95 ms':>8}")
    for name, paths in {
        "GET /api/tx/:txid": [f"/api/tx/{t}" for t in txids[:n]],
        "GET /api/address/:a/txs": [f"/api/address/{a}/txs" for a in addresses[:n]],
    }.items():
        times = latency(port, paths)
        print(f"{name:<34} {pct(times, 50):>8.2f} {pct(times, 95):>8.2f}", flush=True)


def wallet_endpoints(txids, addresses, n: int) -> dict[str, list[str]]:
    """What wallets (bdk, Electrum-style) ask: scripthash histories, UTXOs, merkle proofs."""
    hashes = [hashlib.sha256(script_pubkey(a)).hexdigest() for a in addresses[:n]]
    return {
        "GET /api/scripthash/:h/txs": [f"/api/scripthash/{h}/txs" for h in hashes],
        "GET /api/scripthash/:h/utxo": [f"/api/scripthash/{h}/utxo" for h in hashes[::-1]],
        "GET /api/tx/:t/merkle-proof": [f"/api/tx/{t}/merkle-proof" for t in txids[n : 2 * n]],
        "GET /api/tx/:t/merkleblock-proof": [
            f"/api/tx/{t}/merkleblock-proof" for t in txids[:n][::-1]
        ],
        "GET /api/address-prefix/:p": [f"/api/address-prefix/{a[:7]}" for a in addresses[:n]],
        "GET /api/mempool/recent": ["/api/mempool/recent"] * n,
    }


def run(port: int, world: Path, txids, addresses, args) -> None:
    """Measure every endpoint and the baselines; print one table."""
    n = args.requests
    endpoints = {
        "static 200 (baseline)": ["/__static/"] * n,
        "GET /api/tx/:txid": [f"/api/tx/{t}" for t in txids[:n]],
        "GET /api/address/:a/txs": [f"/api/address/{a}/txs" for a in addresses[:n]],
        "GET /address/:a (page)": [f"/address/{a}" for a in addresses[n : 2 * n]],
        **wallet_endpoints(txids, addresses, n),
    }
    latency(port, ["/__static/"] * 20 + [f"/api/tx/{t}" for t in txids[-20:]])  # warm up
    print(
        f"\n{'endpoint':<34} {'p50 ms':>8} {'p95 ms':>8} {'x static':>9} "
        f"{'req/s @' + str(args.clients):>10}"
    )
    base_p50 = None
    for name, paths in endpoints.items():
        times = latency(port, paths)
        p50, p95 = pct(times, 50), pct(times, 95)
        base_p50 = base_p50 or p50
        load_paths = paths if name.startswith("static") else paths[::-1]
        rps = throughput(port, load_paths, args.clients, args.seconds)
        print(f"{name:<34} {p50:>8.2f} {p95:>8.2f} {p50 / base_p50:>9.1f} {rps:>10.0f}", flush=True)
    sql = sql_baseline(world, txids[2 * n : 3 * n])
    print(
        f"{'SELECT by txid (baseline)':<34} {pct(sql, 50):>8.3f} {pct(sql, 95):>8.3f} "
        f"{'':>9} {len(sql) / sum(sql):>10.0f}"
    )
    print(
        "\nlatency: one client, a new connection per request; req/s: "
        f"{args.clients} concurrent clients for {args.seconds:g} s each; "
        "SELECT: in-process sqlite3, one connection"
    )


if __name__ == "__main__":
    main()
