"""Benchmark the Tron chain: a world of about 1,000,000 Tron transactions, and its node.

* Build: the default scenario with `tron_transactions` at the size asked, built in a child
  process as `sandbox build` builds it (both chains; the Tron simulation in a process of its
  own). Prints the whole build's seconds, the Tron simulation's, the peak memory of any
  process of the build, and the ratio of the Tron simulation to a baseline measured in the
  same run: a plain executemany of the same Tron rows (read back from the world) into an
  empty file with the same tables and indexes. Also the CPU seconds of the simulation's
  processes, and the machine's load average around the build and the baseline: the
  simulation needs both cores (the Bitcoin side builds beside it), the baseline one, so
  other work on the machine moves the ratio.
* Node: the world served by the Tron node as `sandbox up` serves it (java-tron API and
  TronGrid: gunicorn worker processes answer the reads from the files and pass the rest to
  the node's own process, on waitress; all under a child process); 20 concurrent clients,
  each on one keep-alive connection as tronpy's HTTP client, ask for random accounts'
  `/v1/accounts/:a/transactions/trc20` and random transactions'
  `/wallet/gettransactionbyid`. Prints p50/p95 of each, and of a static 200 answered by
  the node's own process alone (the cost of HTTP and threads), the CPU time per request
  of the node's processes, and the clients' own (they share the cores with the node, so
  they are lean: see `Client`). The clients are threads of this process unless
  --client-processes spreads them over several (20 trainees' tronpy are 20 processes;
  threads of one share its GIL, which then queues their answers too).

    python bench/tron.py                              # builds the 1M world (several minutes)
    python bench/tron.py --transactions 100000
    python bench/tron.py --runs 3                     # three builds; the medians
    python bench/tron.py --world /tmp/world.db        # an existing world: node figures only
    python bench/tron.py --world /tmp/world.db --client-processes 4
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import re
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.world.build import TRON_TABLES  # noqa: E402
from sandbox.world.schema import create_indexes, create_tables  # noqa: E402

BATCH = 50_000

# Runs in the child: builds the world, timing the Tron simulation in its own process.
BUILD = """
import json, sys, time
sys.path[:0] = [{root!r}]
from dataclasses import replace
from pathlib import Path
import sandbox.tron.sim.simulate as simulate
from sandbox.scenario import load_scenario
from sandbox.world.build import build_world

real = simulate.simulate_tron
def cpu():
    import resource
    return sum(
        r.ru_utime + r.ru_stime
        for r in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )
def timed(conn, *args, **kwargs):
    started, cpu_started = time.perf_counter(), cpu()
    summary = real(conn, *args, **kwargs)
    conn.commit()
    with open({timing!r}, "w") as f:
        # the CPU time of this process and of the ones it forked (the sealer, the writer)
        json.dump({{"seconds": time.perf_counter() - started, "cpu": cpu() - cpu_started}}, f)
    return summary
simulate.simulate_tron = timed  # the build's child process looks it up when it starts

scenario = load_scenario(None)
scenario = replace(scenario, world=replace(scenario.world, tron_transactions={size}))
started = time.perf_counter()
build_world(scenario, Path({out!r}))
print(time.perf_counter() - started)
"""

SERVER = """
import logging, socket, sys
sys.path[:0] = [{root!r}]
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from sandbox.tronnode import create_app
from sandbox.portal_server import PortalServer
from sandbox.workers import SiteWorkers

def static(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]

logging.getLogger("werkzeug").setLevel(logging.ERROR)
world, state = sys.argv[1], sys.argv[2]
node = create_app(world, state, produce=False)
own = PortalServer("127.0.0.1", 0, DispatcherMiddleware(node, {{"/__static": static}}))
public = socket.create_server(("127.0.0.1", 0), backlog=1024)
leader = "http://127.0.0.1:%d/" % own.server_port
workers = SiteWorkers(world, state, [], services={{"tronnode": (public, leader)}}).start()
print(public.getsockname()[1], own.server_port, flush=True)
try:
    own.serve_forever()
finally:
    workers.stop()
"""


def build(size: int, out: Path, tmp: Path) -> tuple[float, float, float]:
    """Build the world in a child; (build seconds, Tron simulation seconds, the CPU seconds
    of its processes)."""
    timing = tmp / "tron-timing.json"
    code = BUILD.format(root=str(ROOT), timing=str(timing), size=size, out=str(out))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"the build failed:\n{result.stderr}")
    timed = json.loads(timing.read_text())
    seconds = float(result.stdout.strip().splitlines()[-1])
    return seconds, timed["seconds"], timed["cpu"]


def baseline(world: Path, out: Path) -> tuple[float, int]:
    """executemany of the world's Tron rows into an empty file with the same tables and
    indexes, the pragmas the build uses; (seconds spent writing, rows)."""
    source = sqlite3.connect(f"file:{world}?mode=ro", uri=True)
    target = sqlite3.connect(out)
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-131072"):
        target.execute(f"PRAGMA {pragma}")
    create_tables(target)
    seconds, rows = 0.0, 0
    for table in TRON_TABLES:
        cursor = source.execute(f"SELECT * FROM {table}")
        marks = ",".join("?" * len(cursor.description))
        while batch := cursor.fetchmany(BATCH):
            started = time.perf_counter()
            target.executemany(f"INSERT INTO {table} VALUES ({marks})", batch)
            seconds += time.perf_counter() - started
            rows += len(batch)
    started = time.perf_counter()
    create_indexes(target)
    target.commit()
    seconds += time.perf_counter() - started
    source.close()
    target.close()
    return seconds, rows


def sample(world: Path, count: int, seed: int = 13) -> tuple[list[str], list[str]]:
    """Random txids and random addresses that received or sent USDT."""
    rng = random.Random(seed)
    conn = sqlite3.connect(f"file:{world}?mode=ro", uri=True)
    top = conn.execute("SELECT max(id) FROM tron_txs").fetchone()[0]
    ids = rng.sample(range(1, top + 1), min(count, top))
    marks = ",".join("?" * len(ids))
    txids = [r[0] for r in conn.execute(f"SELECT txid FROM tron_txs WHERE id IN ({marks})", ids)]
    rows = conn.execute(
        f"SELECT to_address FROM trc20_transfers WHERE tx_id IN ({marks})", ids
    ).fetchall()
    conn.close()
    addresses = sorted({r[0] for r in rows})
    rng.shuffle(txids)
    rng.shuffle(addresses)
    return txids, addresses


class Client:
    """One client: a keep-alive HTTP/1.1 connection, as tronpy's, made cheaply.

    The clients share the node's two cores, so what they spend is taken from the node:
    http.client spent 0.22 to 0.26 ms of CPU on each answer (its header parsing is the
    email package's), a third of what the node spends on a TRC-20 page, and the p95 it
    measured was a fifth to a third higher than this client's in the same run. This one
    sends requests built once and reads each answer by its Content-Length, as a load
    generator such as wrk does (0.05 to 0.1 ms); the answer is still read whole and its
    status checked.
    """

    def __init__(self, port: int):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def call(self, message: bytes) -> float:
        """Seconds one request takes (the whole answer read); a 200, else exit."""
        started = time.perf_counter()
        self.sock.sendall(message)
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._receive()
        head, self.buffer = self.buffer[:end].lower(), self.buffer[end + 4 :]
        found = LENGTH.search(head)
        if found is None:
            raise SystemExit(f"an answer without Content-Length: {head[:200]!r}")
        length = int(found[1])
        while len(self.buffer) < length:
            self._receive()
        self.buffer = self.buffer[length:]
        if head[9:12] != b"200":
            raise SystemExit(f"{message.split(b' HTTP/')[0]!r} answered {head[9:12]!r}")
        if b"connection: close" in head:  # not expected: connect again for the next one
            self.sock.close()
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        return time.perf_counter() - started

    def _receive(self) -> None:
        data = self.sock.recv(262144)
        if not data:
            raise SystemExit("the server closed a connection before answering")
        self.buffer += data


LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)")


def message(method: str, path: str, body: bytes | None) -> bytes:
    """A request as bytes, ready to send."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + (body or b"")


def concurrent(
    port: int, calls: list[tuple[str, str, bytes | None]], clients: int, processes: int = 1
) -> tuple[list[float], float, float]:
    """Every call made by `clients` threads at once, spread over `processes` client
    processes (one: every thread in this one); (each call's seconds, calls per second, the
    clients' CPU seconds)."""
    groups = [list(range(k, clients, processes)) for k in range(min(processes, clients))]
    started = time.perf_counter()
    if len(groups) == 1:
        times, cpu = _clients(port, calls, clients, groups[0])
    else:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(len(groups), mp_context=context) as pool:
            futures = [pool.submit(_clients, port, calls, clients, g) for g in groups]
            parts = [f.result() for f in futures]
        times, cpu = [t for part, _ in parts for t in part], sum(c for _, c in parts)
    return times, len(calls) / (time.perf_counter() - started), cpu


def _clients(
    port: int, calls: list[tuple[str, str, bytes | None]], clients: int, mine: list[int]
) -> tuple[list[float], float]:
    """Clients `mine` (of `clients`), a thread each, client k making every clients-th call
    from the k-th on one keep-alive connection; (each call's seconds, this process's CPU
    seconds meanwhile)."""
    cpu = time.process_time()
    times: list[float] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        messages = [message(*call) for call in calls[k::clients]]
        conn = Client(port)
        try:
            made = [conn.call(m) for m in messages]
        finally:
            conn.close()
        with lock:
            times.extend(made)

    threads = [threading.Thread(target=client, args=(k,)) for k in mine]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, time.process_time() - cpu


def process_cpu(pid: int) -> float:
    """CPU seconds a process and every process under it have used (user and system), from
    /proc: the node's own process, the gunicorn master and its workers."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += process_cpu(int(child))
    except (FileNotFoundError, ProcessLookupError):  # a process that ended meanwhile
        pass
    return total


def pct(times: list[float], q: int) -> float:
    """The q-th percentile in milliseconds."""
    return statistics.quantiles(times, n=100, method="inclusive")[q - 1] * 1000


@contextlib.contextmanager
def serve(world: Path, state: Path):
    """The Tron node in a child process; yields its port (bench/toolkit.py serves it too)."""
    with served(world, state) as (port, _own, _pid):
        yield port


@contextlib.contextmanager
def served(world: Path, state: Path):
    """The Tron node as `sandbox up` serves it, under a child process: its port served by
    gunicorn workers that answer the reads and pass the rest to the node's own process;
    yields (that port, the own process's port, the child's pid)."""
    state.mkdir(parents=True, exist_ok=True)
    code = SERVER.format(root=str(ROOT))
    server = subprocess.Popen(
        [sys.executable, "-c", code, str(world), str(state)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline() if server.stdout else ""
        if not line:
            raise SystemExit("the Tron node did not start")
        port, own = (int(x) for x in line.split())
        yield port, own, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def node(world: Path, state: Path, requests: int, clients: int, processes: int = 1) -> None:
    """Latency of the two endpoints under `clients` concurrent clients (threads spread over
    `processes` client processes)."""
    txids, addresses = sample(world, requests)
    Call = tuple[str, str, bytes | None]
    trc20: list[Call] = [
        ("GET", f"/v1/accounts/{a}/transactions/trc20?limit=20", None)
        for a in (addresses * (requests // max(1, len(addresses)) + 1))[:requests]
    ]
    by_id: list[Call] = [
        ("POST", "/wallet/gettransactionbyid", json.dumps({"value": t}).encode())
        for t in txids[:requests]
    ]
    with served(world, state) as (port, own, pid):
        # Every call once first: the workers are fresh processes, whose first touch of each
        # page of the mapped world costs a page fault (a sandbox that has run a while has
        # paid them).
        concurrent(port, trc20 + by_id, clients, processes)
        print(
            f"\nnode, {clients} concurrent clients, a keep-alive connection each, "
            f"in {min(processes, clients)} client process(es):"
        )
        print(
            f"{'endpoint':<44} {'requests':>8} {'p50 ms':>7} {'p95 ms':>7} {'req/s':>7} "
            f"{'CPU ms':>7} {'client':>7}"
        )
        static: list[Call] = [("GET", "/__static", None)] * requests
        for name, at, calls, note in (
            ("GET /v1/accounts/:a/transactions/trc20", port, trc20, "target: p95 under 20 ms"),
            ("POST /wallet/gettransactionbyid", port, by_id, "target: p95 under 20 ms"),
            ("baseline: a static 200, one process", own, static, "HTTP and threads alone"),
        ):
            cpu = process_cpu(pid)
            times, rate, client_cpu = concurrent(at, calls, clients, processes)
            cpu = (process_cpu(pid) - cpu) / len(times) * 1000
            print(
                f"{name:<44} {len(times):>8} {pct(times, 50):>7.1f} {pct(times, 95):>7.1f} "
                f"{rate:>7.0f} {cpu:>7.2f} {client_cpu / len(times) * 1000:>7.3f}   ({note})",
                flush=True,
            )
        print(
            "  (the node's port is served by gunicorn workers, as `sandbox up` serves it; the"
            " baseline by the node's own process (waitress) alone. CPU ms: the CPU time per"
            " request of the node's processes, all their threads; client: the clients' own, on"
            " the same cores)"
        )


def measure_build(size: int, runs: int, world: Path, tmp: Path) -> None:
    """Build the world runs times (the last one stays at world), each followed by its
    baseline; print each run's figures, then the medians."""
    print(f"building the default world with tron_transactions: {size:,}")
    figures = []
    for run in range(1, runs + 1):
        world.unlink(missing_ok=True)
        loads = [os.getloadavg()[0]]
        seconds, tron_seconds, tron_cpu = build(size, world, tmp)
        loads.append(os.getloadavg()[0])
        base_seconds, rows = baseline(world, tmp / "baseline.db")
        loads.append(os.getloadavg()[0])
        (tmp / "baseline.db").unlink()
        figures.append((seconds, tron_seconds, tron_cpu, base_seconds))
        if runs > 1:
            print(
                f"run {run}: build {seconds:.1f} s, Tron simulation {tron_seconds:.1f} s, "
                f"baseline {base_seconds:.1f} s, ratio {tron_seconds / base_seconds:.2f}x; "
                "load average before, after the build, after the baseline: "
                + ", ".join(f"{x:.1f}" for x in loads)
            )
    seconds, tron_seconds, tron_cpu, base_seconds = (
        statistics.median(column) for column in zip(*figures, strict=True)
    )
    ratio = statistics.median(f[1] / f[3] for f in figures)
    count = sqlite3.connect(world).execute("SELECT count(*) FROM tron_txs").fetchone()[0]
    median = f"median of {runs} runs, " if runs > 1 else ""
    print(f"Tron transactions: {count:,} ({rows:,} rows in the Tron tables)")
    print(f"whole build (both chains): {seconds:.1f} s")
    print(f"Tron simulation: {tron_seconds:.1f} s ({count / tron_seconds:,.0f} tx/s)")
    print(
        f"  CPU of its processes (executor, sealer, writer): {tron_cpu:.1f} s "
        f"(on {os.cpu_count()} cores, {tron_cpu / (os.cpu_count() or 1):.1f} s at best)"
    )
    print(f"baseline executemany of the same rows: {base_seconds:.1f} s")
    print(f"ratio Tron simulation / baseline ({median}each run's own): {ratio:.2f}x")
    print("  (target: at most 3x)")
    # The largest resident set of any finished descendant: a builder or its Tron child.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(f"peak memory of the build: {peak / 2**20:,.0f} MiB (target: under 2048 MiB)")
    if runs == 1:
        print(
            "load average (1 min) before the build, after it, after the baseline: "
            + ", ".join(f"{x:.1f}" for x in loads)
            + "  (other work on the machine slows the build, on both cores, more than"
            " the baseline, on one)"
        )


def main() -> None:
    """Build (unless given a world), compare with the baseline, measure the node."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, help="an existing world.db (default: build one)")
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="build (and measure the baseline) this many times; the figures are the medians"
        " (the machine's other work moves a single run's ratio by a tenth either way)",
    )
    parser.add_argument("--requests", type=int, default=2000, help="requests per endpoint")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument(
        "--client-processes",
        type=int,
        default=1,
        help="spread the clients over this many processes (1: threads of one process, whose"
        " own GIL then queues the answers as the server's does)",
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs {args.runs}: at least one build is needed")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        world = args.world or tmp / "world.db"
        if args.world is None:
            measure_build(args.transactions, args.runs, world, tmp)
        node(world, tmp / "state", args.requests, args.clients, args.client_processes)


if __name__ == "__main__":
    main()
