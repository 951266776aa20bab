"""Benchmark `investigate ui`: expanding a busy address on the money graph, in Chromium.

The world is served in this process (`Sandbox`: the explorer on a loopback port), its
chain synced into a fresh case first (not measured), and the workspace served over that
case. The address whose transaction count is closest to `--txs` (1,000 by default) is put
on the graph; then, in headless Chromium, its expansion is timed from the click to the
redrawn canvas (the request to the workspace, the index's counterparties, the drawing),
beside a baseline measured in the same run: the explorer API's answer about the same
address alone (`/api/address/:addr/txs`, one call, as a browser-only explorer would make
first), and all its transactions paged through the API.

    python bench/ui.py                        # builds the 1M world first (a few minutes)
                                              # with a donation address paid 1,000 times
    python bench/ui.py --world /tmp/world.db  # an existing world
    python bench/ui.py --world tests-tiny.db --txs 30 --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from worlds import build_scaled_world  # noqa: E402

from investigator_tools.case import Case  # noqa: E402
from investigator_tools.chain.sync import sync  # noqa: E402
from investigator_tools.esplora import Esplora  # noqa: E402
from investigator_tools.ui import Settings, UiServer  # noqa: E402
from sandbox.serve import Sandbox  # noqa: E402
from tests.chromium import start_chromium  # noqa: E402

TIMED_EXPAND = """
const done = arguments[arguments.length - 1];
const root = document.getElementById("money");
const started = performance.now();
const watch = new MutationObserver(() => {
  if (root.dataset.busy === "0") {
    watch.disconnect();
    requestAnimationFrame(() => done(performance.now() - started));
  }
});
watch.observe(root, { attributes: true, attributeFilter: ["data-busy"] });
document.getElementById("expand").click();
"""


def busiest_near(case: Case, txs: int) -> tuple[str, int]:
    """The address whose number of transactions (paid or spent) is closest to txs."""
    rows = case.conn.execute(
        "SELECT a.address, COUNT(DISTINCT t) AS n FROM chain_addresses a JOIN ("
        " SELECT address_id, tx_id AS t FROM chain_outputs UNION ALL"
        " SELECT address_id, tx_id FROM chain_inputs) u ON u.address_id = a.id"
        " GROUP BY a.id ORDER BY ABS(n - ?) LIMIT 1",
        (txs,),
    ).fetchone()
    return rows[0], rows[1]


def api_baseline(explorer: Esplora, address: str) -> tuple[float, float, int]:
    """(one /txs call, every page of /txs/chain, transactions paged) for the address."""
    started = time.perf_counter()
    first = explorer.json(f"address/{address}/txs")
    one = time.perf_counter() - started
    seen = len(first)
    last = first[-1]["txid"] if first else None
    while last:
        page = explorer.json(f"address/{address}/txs/chain/{last}")
        seen += len(page)
        last = page[-1]["txid"] if page else None
    return one, time.perf_counter() - started, seen


def expand_in_chromium(server: UiServer, address: str, top: int, runs: int) -> list[float]:
    """Seconds from the Expand click to the redrawn canvas, once per run."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = start_chromium(height=800)
    try:
        wait = WebDriverWait(driver, 600)
        driver.get(server.url)
        driver.get(server.base + "money/")
        root = driver.find_element(By.ID, "money")
        wait.until(lambda d: root.get_attribute("data-ready") == "1")
        top_box = driver.find_element(By.ID, "top")
        top_box.clear()
        top_box.send_keys(str(top))
        driver.find_element(By.ID, "add-target").send_keys(address)
        driver.find_element(By.ID, "add-button").click()
        wait.until(lambda d: d.find_element(By.ID, "sel-id").text == address)
        driver.set_script_timeout(600)
        times = []
        for _ in range(runs):
            # Timed in the page: from the click until the workspace is idle again and the
            # canvas has drawn the next frame.
            ms = driver.execute_async_script(TIMED_EXPAND)
            times.append(ms / 1000)
        return times
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, help="an existing world (default: build 1M)")
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--txs", type=int, default=1000, help="transactions of the address")
    parser.add_argument("--top", type=int, default=20, help="counterparties drawn each way")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        folder = Path(tmp)
        world = args.world
        if world is None:
            world = folder / "world.db"
            build_scaled_world(world, args.transactions, busy=args.txs)
        with Sandbox(
            world, socks_port=0, http_port=0, explorer_port=0, state=folder / "state"
        ) as sb:
            port = next(s.port for s in sb.sites if s.site_id == "explorer")
            explorer = Esplora(f"http://127.0.0.1:{port}/")
            with Case(folder / "case.db", operator="bench") as case:
                print("syncing the chain into the case (not measured)...", flush=True)
                sync(case, explorer)
                address, count = busiest_near(case, args.txs)
            print(f"address {address}: {count:,} transactions")
            one, every, paged = api_baseline(explorer, address)
            settings = Settings(folder / "case.db", explorer=explorer.url, operator="bench")
            with UiServer(settings, 0) as server:
                times = expand_in_chromium(server, address, args.top, args.runs)
    median = statistics.median(times)
    print(f"explorer API, one /address/:addr/txs call:  {one * 1000:8.1f} ms  (baseline)")
    print(f"explorer API, all {paged:,} transactions paged: {every * 1000:8.1f} ms")
    print(
        f"expand in Chromium (median of {len(times)}):    {median * 1000:8.1f} ms"
        f"  = {median / one:.1f}x the one call; " + ("under 1 s" if median < 1 else "OVER 1 s")
    )


if __name__ == "__main__":
    main()
