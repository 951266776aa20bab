"""Benchmark the classroom portal: 40 trainees browsing and submitting at once.

The portal runs in a child process on werkzeug's threaded server (what `sandbox up`
uses), over the world of tests/data/course.yaml built with one seat per trainee. Each
simulated trainee (a thread with its own requests session) joins with its seat code and
then loops: reads the case page, polls /me.json as the page's script does, and submits
answers (a wrong one or two, then the right one from the key) until every objective is
solved or locked, downloading an artefact now and then. One more client plays the
instructor's open board, polling /instructor/board.json every 2 s. The baseline is the
same number of clients on the same server hitting the constant /healthz endpoint.

Prints requests per second, latency percentiles and errors for both, and their ratio.
An error is a connection failure, a 5xx or any status a real trainee would not get.

    python bench/classroom.py                      # 40 trainees, 15 s per phase
    python bench/classroom.py --trainees 40 --seconds 30 --think 0
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-password"
SERVE = """
import sys, logging
sys.path.insert(0, {root!r})
from werkzeug.serving import make_server
from sandbox.classroom import create_app
logging.getLogger("werkzeug").setLevel(logging.WARNING)
app = create_app({world!r}, {state!r}, {password!r})
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def build(out: Path, seats: int) -> Path:
    """tests/data/course.yaml with one seat per trainee, built into out."""
    from sandbox.scenario import load_scenario
    from sandbox.world.build import build_world

    scenario = load_scenario(str(ROOT / "tests" / "data" / "course.yaml"))
    scenario = replace(scenario, seats=replace(scenario.seats, count=seats))
    build_world(scenario, out)
    return out


def read_key(world: Path) -> tuple[dict[int, str], dict[int, dict[str, object]], dict]:
    """Seat codes, the key per seat, and each objective's comparison and attempts."""
    conn = sqlite3.connect(world)
    try:
        codes = dict(conn.execute("SELECT n, code FROM seats"))
        key: dict[int, dict[str, object]] = {}
        for seat, objective, answer in conn.execute(
            "SELECT seat, objective_id, answer FROM seat_objectives"
        ):
            key.setdefault(seat, {})[objective] = json.loads(answer)
        objectives = {
            r[0]: {"compare": r[1], "attempts": r[2]}
            for r in conn.execute("SELECT id, compare, attempts FROM objectives ORDER BY position")
        }
    finally:
        conn.close()
    return codes, key, objectives


def right_answer(value) -> str:
    """How a trainee would type a key value."""
    if isinstance(value, list):
        return "\n".join(map(str, value))
    if isinstance(value, dict):  # a sweep: the bench broadcasts nothing, so a txid-shaped guess
        return "00" * 32
    return str(value)


@dataclass
class Stats:
    """Latencies and errors of one phase, from every client."""

    latencies: list[float] = field(default_factory=list)
    kinds: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, error: str | None = None) -> None:
        """Record one request."""
        with self.lock:
            self.latencies.append(seconds)
            self.kinds.setdefault(kind, []).append(seconds)
            if error:
                self.errors.append(f"{kind}: {error}")


def timed(stats: Stats, kind: str, call, ok=(200,)):
    """Run one request, record its latency and whether its status was expected."""
    started = time.perf_counter()
    try:
        r = call()
    except requests.RequestException as e:
        stats.add(kind, time.perf_counter() - started, type(e).__name__)
        return None
    elapsed = time.perf_counter() - started
    stats.add(kind, elapsed, None if r.status_code in ok else f"HTTP {r.status_code}")
    return r


def trainee(url, code, key, objectives, stats, think, seed, stop):
    """One trainee: join, then read, poll and answer until the time is up."""
    rng = random.Random(seed)
    s = requests.Session()
    r = timed(stats, "join form", lambda: s.get(f"{url}/join", timeout=30))
    if r is None:
        return
    csrf = CSRF.search(r.text).group(1)
    r = timed(
        stats,
        "join",
        lambda: s.post(
            f"{url}/join",
            data={"csrf": csrf, "code": code, "name": f"Trainee {code}", "pin": f"pin-{code}"},
            timeout=30,
        ),
    )
    if r is None:
        return
    csrf = CSRF.search(r.text).group(1)
    pending = [o for o, spec in objectives.items() if spec["compare"] != "sweep"]
    rng.shuffle(pending)
    wrong_left = {o: rng.randint(0, 2) for o in pending}
    while not stop.is_set():
        timed(stats, "case page", lambda: s.get(f"{url}/", timeout=30))
        timed(stats, "me.json", lambda: s.get(f"{url}/me.json", timeout=30))
        if pending:
            objective = pending[0]
            if wrong_left[objective] > 0:
                wrong_left[objective] -= 1
                text = f"guess {rng.random():.6f}"
            else:
                text = right_answer(key[objective])
                pending.pop(0)
            timed(
                stats,
                "submit",
                lambda o=objective, t=text: s.post(
                    f"{url}/objectives/{o}/answer",
                    data={"csrf": csrf, "answer": t},
                    timeout=30,
                    allow_redirects=False,
                ),
                ok=(303,),
            )
        elif rng.random() < 0.3:
            timed(stats, "artefact", lambda: s.get(f"{url}/artefacts/notes", timeout=30))
        if think:
            stop.wait(rng.uniform(0, 2 * think))


def board_watcher(url, stats, stop):
    """The instructor's open board: a poll of board.json every 2 seconds."""
    s = requests.Session()
    csrf = CSRF.search(s.get(f"{url}/instructor/login", timeout=30).text).group(1)
    s.post(f"{url}/instructor/login", data={"csrf": csrf, "password": PASSWORD}, timeout=30)
    while not stop.is_set():
        timed(stats, "board.json", lambda: s.get(f"{url}/instructor/board.json", timeout=30))
        stop.wait(2.0)


def start_clock(url: str) -> None:
    """The instructor starts the exercise clock (answers are refused before it runs)."""
    s = requests.Session()
    csrf = CSRF.search(s.get(f"{url}/instructor/login", timeout=30).text).group(1)
    r = s.post(f"{url}/instructor/login", data={"csrf": csrf, "password": PASSWORD}, timeout=30)
    csrf = CSRF.search(r.text).group(1)
    s.post(f"{url}/instructor/clock/start", data={"csrf": csrf}, timeout=30).raise_for_status()


def baseline_client(url, stats, think, seed, stop):
    """The same pace of requests on the constant /healthz."""
    rng = random.Random(seed)
    s = requests.Session()
    while not stop.is_set():
        for _ in range(3):  # a trainee's round trip is about three requests
            timed(stats, "healthz", lambda: s.get(f"{url}/healthz", timeout=30))
        if think:
            stop.wait(rng.uniform(0, 2 * think))


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far, None where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_phase(targets, seconds: float) -> float:
    """Run client threads for a bounded time; returns the measured wall time."""
    stop = threading.Event()
    threads = [threading.Thread(target=t, args=(*a, stop), daemon=True) for t, a in targets]
    started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    return time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) of values, in milliseconds."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] * 1000


def report(name: str, stats: Stats, wall: float, cpu: float | None) -> dict:
    """Print one phase's figures (cpu: the server's CPU seconds in it) and return them."""
    n = len(stats.latencies)
    figures = {
        "requests": n,
        "rps": n / wall,
        "p50": percentile(stats.latencies, 50),
        "p95": percentile(stats.latencies, 95),
        "p99": percentile(stats.latencies, 99),
        "errors": len(stats.errors),
    }
    print(
        f"{name:<10} {n:>7} requests in {wall:5.1f} s  {figures['rps']:8.1f} req/s  "
        f"p50 {figures['p50']:6.1f} ms  p95 {figures['p95']:6.1f} ms  "
        f"p99 {figures['p99']:6.1f} ms  errors {figures['errors']}"
    )
    if cpu is not None and n:
        print(
            f"    server CPU {cpu:.1f} s ({cpu / wall:.0%} of a core), "
            f"{cpu / n * 1000:.2f} ms per request"
        )
    for kind, values in sorted(stats.kinds.items()):
        print(
            f"    {kind:<11} {len(values):>7}  p50 {percentile(values, 50):6.1f} ms  "
            f"p95 {percentile(values, 95):6.1f} ms"
        )
    for error in sorted(set(stats.errors))[:10]:
        print(f"    error: {error} (x{stats.errors.count(error)})")
    return figures


def main() -> None:
    """Build the world, serve the portal, run the baseline and the trainees, print figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trainees", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    parser.add_argument(
        "--think", type=float, default=0.25, help="mean pause between a trainee's rounds (s)"
    )
    parser.add_argument("--world", type=Path, help="a built course world (default: build one)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-classroom-"))
    if args.world is not None and not args.world.is_file():
        sys.exit(f"{args.world}: no such world (build one with `sandbox build`)")
    world = args.world or build(tmp / "course.db", args.trainees)
    codes, key, objectives = read_key(world)
    if len(codes) < args.trainees:
        sys.exit(f"{world} has {len(codes)} seats, fewer than {args.trainees} trainees")
    code = SERVE.format(root=str(ROOT), world=str(world), state=str(tmp / "state"),
                        password=PASSWORD)  # fmt: skip
    server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        url = f"http://127.0.0.1:{port}"
        start_clock(url)
        print(
            f"classroom portal {url} (werkzeug threaded, own process); {args.trainees} trainees, "
            f"{len(objectives)} objectives, think {args.think} s, {args.seconds:g} s per phase"
        )
        base = Stats()
        cpu = cpu_seconds(server.pid)
        wall = run_phase(
            [(baseline_client, (url, base, args.think, i)) for i in range(args.trainees)],
            args.seconds,
        )
        cpu_after = cpu_seconds(server.pid)
        baseline = report("baseline", base, wall, cpu_after - cpu if cpu is not None else None)
        load = Stats()
        targets = [
            (trainee, (url, codes[n], key[n], objectives, load, args.think, n))
            for n in sorted(codes)[: args.trainees]
        ]
        targets.append((board_watcher, (url, load)))
        wall = run_phase(targets, args.seconds)
        cpu = cpu_seconds(server.pid)
        portal = report("classroom", load, wall, cpu - cpu_after if cpu is not None else None)
        print(
            f"ratio to baseline: {portal['rps'] / baseline['rps']:.2f}x requests per second, "
            f"{portal['p95'] / max(baseline['p95'], 1e-9):.2f}x p95 latency"
        )
        verdict = portal["errors"] == 0 and portal["p95"] < 200
        print(
            f"target (zero errors, p95 < 200 ms): {'met' if verdict else 'NOT met'} "
            f"({portal['errors']} errors, p95 {portal['p95']:.1f} ms)"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
