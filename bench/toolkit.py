"""Benchmark the investigator's toolkit on a world of about 1,000,000 transactions.

The explorer runs in a child process behind werkzeug's threaded server, as `sandbox up`
serves it (many-input witnesses signed ahead, as it does in the background). Measured:

* sync: `investigate sync` of the whole chain into a fresh case (download, parse, verify,
  insert, index), beside a baseline measured in the same run: a plain download of the
  same raw blocks with the same endpoints and the same number of threads, nothing else;
* clustering: co-spend clustering (union-find, CoinJoin exclusion) of the synced index,
  beside a plain `SELECT tx_id, address_id FROM chain_inputs` read to the end.
* Tron (`--tron`): on a world of about 1,000,000 Tron transactions served by the Tron node
  in a child process, `investigate sync --tron` of the whole chain into a fresh case
  (blocks, USDT events, parse, checks, insert, index) beside a plain download of the same
  blocks and events with the same calls and threads; then forward USDT traces (haircut,
  6 hops) from the busiest receiving addresses beside a plain read of `tron_transfers`.

    python bench/toolkit.py                          # builds the 1M world first (~3 min)
    python bench/toolkit.py --world /tmp/world.db    # an existing world
    python bench/toolkit.py --world /tmp/world.db --blocks 2000   # a bounded run
    python bench/toolkit.py --tron                   # builds a 1M-Tron-transaction world
    python bench/toolkit.py --tron --tron-world /tmp/tron.db --crawl-only
    python bench/toolkit.py --tron --tron-world /tmp/tron.db --tron-blocks 300000 --crawl-only
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from worlds import build_scaled_world  # noqa: E402

from investigator_tools.case import Case  # noqa: E402
from investigator_tools.chain.cluster import cluster  # noqa: E402
from investigator_tools.chain.sync import WINDOW, sync  # noqa: E402
from investigator_tools.esplora import Esplora  # noqa: E402

SERVER = """
import logging, sys
from werkzeug.serving import make_server
from sandbox.explorer import create_app

logging.getLogger("werkzeug").setLevel(logging.ERROR)
app = create_app(sys.argv[1], sys.argv[2])
app.extensions["explorer"].witnesses.wait()
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


class ExplorerProcess:
    """The explorer of a world, served by a child process on a free port."""

    def __init__(self, world: Path, state: Path):
        """Start it and wait until it listens (after signing the many-input witnesses)."""
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(world), str(state)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("the explorer did not start")
        self.url = f"http://127.0.0.1:{int(line.split()[0])}/"

    def stop(self) -> None:
        """Stop the child."""
        self.proc.terminate()
        self.proc.wait(timeout=30)


def plain_download(explorer: Esplora, end: int, workers: int) -> tuple[float, int]:
    """Fetch raw blocks 0..end exactly as the sync does, and drop them; (seconds, bytes)."""
    total = 0
    lock = threading.Lock()

    def window(low: int) -> None:
        """One window of heights: its hashes, then its raw blocks."""
        nonlocal total
        high = min(low + WINDOW - 1, end)
        hashes = {b["height"]: b["id"] for b in explorer.json(f"blocks/{high}")}
        size = sum(len(explorer.block_raw(hashes[h])) for h in range(low, high + 1))
        with lock:
            total += size

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(window, range(0, end + 1, WINDOW)))
    return time.perf_counter() - started, total


def plain_select(case: Case) -> tuple[float, int]:
    """Read every (tx_id, address_id) of the inputs table; (seconds, rows)."""
    started = time.perf_counter()
    rows = 0
    cursor = case.conn.cursor()
    cursor.row_factory = None
    cursor.execute("SELECT tx_id, address_id FROM chain_inputs ORDER BY tx_id, n")
    while batch := cursor.fetchmany(65536):
        rows += len(batch)
    return time.perf_counter() - started, rows


def chain_section(world: Path, tmp: Path, blocks: int | None, workers: int) -> None:
    """Sync and clustering, each beside its baseline."""
    started = time.perf_counter()
    server = ExplorerProcess(world, tmp / "state")
    print(f"explorer ready in {time.perf_counter() - started:.1f} s at {server.url}", flush=True)
    try:
        explorer = Esplora(server.url)
        tip = explorer.tip_height()
        end = tip if blocks is None else min(tip, blocks - 1)
        base_s, size = plain_download(explorer, end, workers)
        case = Case(tmp / "case.db", operator="bench")
        case.begin("bench sync")
        report = sync(case, explorer, workers=workers, until=end)
    finally:
        server.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    txs = report.total_transactions
    print()
    print(f"{'sync':<30}{'seconds':>10}{'tx/s':>12}{'ratio':>8}")
    print(f"{'plain download (baseline)':<30}{base_s:>10.1f}{txs / base_s:>12,.0f}{1:>8.2f}")
    print(
        f"{'investigate sync':<30}{report.seconds:>10.1f}{txs / report.seconds:>12,.0f}"
        f"{report.seconds / base_s:>8.2f}"
    )
    print(
        f"  {end + 1:,} blocks, {txs:,} transactions, {size / 2**20:,.0f} MiB of raw blocks, "
        f"{workers} download threads, peak RSS {rss:,.0f} MiB"
    )
    select_s, rows = plain_select(case)
    result = cluster(case)
    print()
    print(f"{'co-spend clustering':<30}{'seconds':>10}{'rows':>12}{'ratio':>8}")
    print(f"{'plain SELECT (baseline)':<30}{select_s:>10.2f}{rows:>12,}{1:>8.2f}")
    print(
        f"{'investigate cluster':<30}{result.seconds:>10.2f}{rows:>12,}"
        f"{result.seconds / select_s:>8.2f}"
    )
    print(
        f"  {result.addresses:,} addresses, {result.clusters:,} clusters of 2+, largest "
        f"{result.largest:,}; {result.coinjoin_excluded:,} CoinJoin-like txs excluded; "
        f"target < 10 s: {'met' if result.seconds < 10 else 'NOT met'}",
        flush=True,
    )
    case.close()


def crawl_section(tmp: Path, listings: int) -> None:
    """Pages per second of `investigate crawl` through the gateway on a market of ~1,000 pages.

    The sandbox runs as `sandbox up` in a child process; latency simulation is off. The
    baseline fetches the very pages the crawl captured, one after another through the same
    SOCKS proxy with a plain requests session: what the crawler adds is parsing, hashing,
    storing and the frontier.
    """
    import json
    import os
    from dataclasses import replace

    import requests

    from investigator_tools.crawl import crawl
    from sandbox.scenario import load_scenario
    from sandbox.world.build import build_world as build

    scenario = load_scenario(str(ROOT / "tests" / "data" / "tiny.yaml"))
    sites = tuple(
        replace(s, listings=listings, vendors=40, ddos_queue=False) if s.kind == "market" else s
        for s in scenario.sites
    )
    world = tmp / "crawl.db"
    build(replace(scenario, sites=sites), world)
    socks = _free_port()
    up = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "up",
            "--world",
            str(world),
            "--socks-port",
            str(socks),
            "--http-port",
            str(_free_port()),
            "--explorer-port",
            str(_free_port()),
            # Every other service on a free port too: a busy default (8080, 8090) would stop it.
            "--classroom-port",
            "0",
            "--tron-port",
            "0",
            "--tronscan-port",
            "0",
            "--state",
            str(tmp / "crawl-state"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    try:
        while "Ctrl-C stops everything" not in (up.stdout.readline() or "Ctrl-C stops everything"):
            pass
        info = json.loads(
            subprocess.run(
                [sys.executable, "-m", "sandbox", "info", str(world), "--json"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        market = next(s["address"] for s in info["sites"] if s["kind"] == "market")
        proxy = f"socks5h://127.0.0.1:{socks}"
        case = Case(tmp / "crawl-case.db")
        case.begin("bench crawl")
        result = crawl(
            case,
            [f"http://{market}/"],
            proxy=proxy,
            depth=100,
            max_pages=listings + 200,
            rate=0,
            images=False,
            probe=False,
        )
        urls = [c.url for c in case.captures(market)]
        session = requests.Session()
        session.proxies = {"http": proxy}
        started = time.perf_counter()
        fetched = sum(len(session.get(url, timeout=30).content) for url in urls)
        plain = time.perf_counter() - started
        case.close()
    finally:
        up.terminate()
        up.wait(timeout=30)
    print()
    print(
        f"{'crawl through the gateway':<30}{'pages':>10}{'seconds':>10}{'pages/s':>10}{'ratio':>8}"
    )
    print(
        f"{'plain GETs (baseline)':<30}{len(urls):>10,}{plain:>10.2f}"
        f"{len(urls) / plain:>10.1f}{1:>8.2f}"
    )
    print(
        f"{'investigate crawl':<30}{result.fetched:>10,}{result.elapsed:>10.2f}"
        f"{result.rate:>10.1f}{(result.rate) / (len(urls) / plain):>8.2f}"
    )
    print(f"  {fetched / 2**20:.1f} MiB fetched by the baseline")
    print(f"  target >= 100 pages/s: {'met' if result.rate >= 100 else 'NOT met'}", flush=True)


def tron_section(world: Path, tmp: Path, workers: int, blocks: int | None = None) -> None:
    """Tron sync and trace of the toolkit against a plain download and a plain read (of the
    first `blocks` blocks only, when given)."""
    from tron import serve  # bench/tron.py: the Tron node in a child process

    from investigator_tools.tron import TronNode, sync_tron, trace
    from investigator_tools.tron.sync import WINDOW

    with serve(world, tmp / "tron-state") as port:
        node = TronNode(f"http://127.0.0.1:{port}/")
        head, _ = node.head()
        if blocks is not None:
            head = min(head, blocks - 1)
        contract = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"

        def window(low: int) -> int:
            """Download one window as the sync does (blocks, then its events), and drop it."""
            blocks = node.blocks(low, min(low + WINDOW, head + 1))
            stamps = [int(b["block_header"]["raw_data"].get("timestamp", 0)) for b in blocks]
            if any(b.get("transactions") for b in blocks):
                return len(blocks) + len(node.events(contract, min(stamps), max(stamps)))
            return len(blocks)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            items = sum(pool.map(window, range(0, head + 1, WINDOW)))
        plain = time.perf_counter() - started
        case = Case(tmp / "tron-case.db")
        case.begin("bench tron sync")
        report = sync_tron(case, node, workers=workers, until=head)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(f"{'Tron sync':<34}{'blocks':>10}{'txs':>10}{'seconds':>10}{'ratio':>8}")
    print(f"{'plain download (baseline)':<34}{head + 1:>10,}{'':>10}{plain:>10.2f}{1:>8.2f}")
    print(
        f"{'investigate sync --tron':<34}{report.blocks:>10,}{report.transactions:>10,}"
        f"{report.seconds:>10.2f}{report.seconds / plain:>8.2f}"
    )
    print(f"  {items:,} blocks and events downloaded by the baseline; peak RSS {peak:,.0f} MiB")
    conn = case.conn
    started = time.perf_counter()
    rows = sum(1 for _ in conn.execute("SELECT * FROM tron_transfers"))
    read = time.perf_counter() - started
    busiest = [
        r[0]
        for r in conn.execute(
            "SELECT to_address FROM tron_transfers WHERE asset = 'USDT' AND ok = 1 "
            "GROUP BY to_address ORDER BY count(*) DESC LIMIT 20"
        )
    ]
    seconds, hops = [], 0
    for address in busiest[10:15]:  # below the services' hot wallets, where traces stop at once
        started = time.perf_counter()
        result = trace(case, address, hops=6, method="haircut", min_amount=1.0)
        seconds.append(time.perf_counter() - started)
        hops += len(result.hops)
    case.close()
    print(
        f"{'Tron trace (haircut, 6 hops)':<34}{'traces':>10}{'hops':>10}{'seconds':>10}{'ratio':>8}"
    )
    print(f"{'plain read of tron_transfers':<34}{rows:>10,}{'rows':>10}{read:>10.2f}{1:>8.2f}")
    mean = sum(seconds) / max(1, len(seconds))
    print(
        f"{'investigate trace (mean)':<34}{len(seconds):>10}{hops:>10,}{mean:>10.2f}{mean / read:>8.2f}"
    )


def _free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, help="an existing world (built if absent)")
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--blocks", type=int, help="sync only the first N blocks (bounded run)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--pages", type=int, default=1000, help="listings of the crawled market")
    parser.add_argument("--crawl-only", action="store_true", help="skip the chain sections")
    parser.add_argument("--tron", action="store_true", help="also the Tron sync and trace")
    parser.add_argument("--tron-world", type=Path, help="a world with many Tron transactions")
    parser.add_argument("--tron-transactions", type=int, default=1_000_000)
    parser.add_argument("--tron-blocks", type=int, help="sync only the first N Tron blocks")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if not args.crawl_only:
            world = args.world or tmp / "world.db"
            if not world.exists():
                build_scaled_world(world, args.transactions)
            chain_section(world, tmp, args.blocks, args.workers)

        if args.tron:
            tron_world = args.tron_world or tmp / "tron-world.db"
            if not tron_world.exists():
                from tron import build

                print(f"building a world of ~{args.tron_transactions:,} Tron transactions...")
                build(args.tron_transactions, tron_world, tmp)
            tron_section(tron_world, tmp, args.workers, args.tron_blocks)
        crawl_section(tmp, args.pages)


if __name__ == "__main__":
    main()
