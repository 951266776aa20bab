"""A donation followed through an instant swap to the exchange, with the toolkit alone.

A campaign takes USDT on Tron, pools it, swaps part of the pool to bitcoin at a swap
service (a hidden site) and cashes the bitcoin out at an exchange. A trainee syncs both
chains, asks the swap service's law-enforcement portal about the pool's payment, and the
trace of the pool crosses from Tron to Bitcoin at the order and reaches the exchange.
Everything goes through the gateway, with `investigate` as a trainee runs it.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from investigator_tools.cli import cli as investigate
from sandbox.scenario import load_scenario
from sandbox.serve import Sandbox
from sandbox.world.build import build_world

from .course_secret import SECRET

pytestmark = pytest.mark.slow

SCENARIO = """\
version: 2
meta: {title: Swap trace, summary: USDT donations swapped to bitcoin and cashed out.}
world: {seed: 8, start: 2026-03-01, days: 3, background_users: 30, transactions: 600,
        tron_transactions: 400, btc_usdt: 50000, swap_fee: 0.01}
actors:
  - {id: harbor, kind: organisation, role: exchange, name: Harbor Exchange, domain: harborex.test}
  - {id: nimbus, kind: organisation, role: swap, name: NimbusSwap, balance: 3,
     tron: {USDT: 50000, TRX: 500}}
  - {id: emir, role: fundraiser, exchange: harbor, balance: 0.001, tron: {TRX: 2000}}
  - {id: donors, role: donor, count: 10, exchange: harbor, tron: {USDT: 800, TRX: 60}}
sites:
  - {id: fund, kind: donation, name: Dry Wells Fund, operator: emir, captcha: false}
  - {id: swapsite, kind: swap, name: NimbusSwap, operator: nimbus}
flows:
  - {id: gifts, kind: donation, from: donors, to: emir, site: fund, chain: tron,
     amount: {min: 200, max: 500}, count: 12, start_day: 0.2, end_day: 1}
  - {id: pool, kind: consolidation, from: emir, to: emir, site: fund, chain: tron, start_day: 1.2}
  - {id: change, kind: swap, from: emir, to: emir, via: nimbus, chain: tron, asset: USDT,
     amount: 1500, start_day: 1.5}
  - {id: out, kind: cash_out, from: emir, to: harbor, start_day: 2.2}
seats: {count: 1, wallet: 0}
objectives:
  - {id: where, question: "Where was the bitcoin cashed out?", answer: {flow: out, field: exchange}}
artefacts:
  - {id: brief, kind: brief, title: Brief, text: "Follow {fund.name}."}
"""


def _rows(world, sql: str) -> list[tuple]:
    """Rows of the world (the test's expectations come from it)."""
    conn = sqlite3.connect(f"file:{world}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """The world served; the gateway's proxy, a case file, the seat's token, the swap onion."""
    tmp = tmp_path_factory.mktemp("swap-trace")
    source = tmp / "swap-trace.yaml"
    source.write_text(SCENARIO)
    world = tmp / "world.db"
    build_world(load_scenario(str(source)), world, secret=SECRET)
    with Sandbox(
        world, socks_port=0, http_port=0, explorer_port=0, classroom_port=None, state=tmp / "st"
    ) as sb:
        host, port = sb.gateway.socks_address
        yield {
            "world": world,
            "case": tmp / "case.db",
            "proxy": f"socks5h://{host}:{port}",
            "token": _rows(world, "SELECT token FROM requesters WHERE id = 'seat-1'")[0][0],
            "swap": next(s.address for s in sb.sites if s.site_id == "swapsite"),
        }


def run(env, *args) -> dict:
    """`investigate ... --json` on the case through the gateway; its JSON."""
    result = CliRunner().invoke(
        investigate,
        ["--case", str(env["case"]), *map(str, args), "--json"],
        env={"INVESTIGATE_PROXY": env["proxy"]},
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output[result.output.index("{") :])


def test_a_pool_traced_through_the_swap_reaches_the_exchange(env):
    """Sync both chains, ask the swap service about the pool's payment to it: the pool's
    trace goes on from the order's bitcoin payout to Harbor Exchange."""
    (pool,) = _rows(
        env["world"],
        "SELECT DISTINCT to_address FROM tron_flow_events WHERE flow_id = 'pool'",
    )[0:1]
    pool = pool[0]
    (deposit_txid,) = _rows(
        env["world"],
        "SELECT t.txid FROM tron_flow_events f JOIN tron_txs t ON t.id = f.tx_id "
        "WHERE f.flow_id = 'change'",
    )[0]
    run(env, "sync", "--explorer", "http://explorer.test")
    run(env, "sync", "--tron", "http://api.trongrid.test")
    before = run(env, "trace", pool, "--hops", "4", "--tronscan", "http://tronscan.test")
    assert not before.get("cross_chain"), before  # no order known yet: nothing to cross
    answer = run(
        env,
        "request",
        env["swap"],
        "--subject", deposit_txid,
        "--ask", "orders",
        "--legal-basis", "court_order",
        "--document-ref", "CO-1",
        "--case-number", "OP-1",
        "--agency", "Cyber Unit",
        "--officer", "J. Smith",
        "--email", "j.smith@police.test",
        "--token", env["token"],
    )  # fmt: skip
    assert answer["linked_orders"] == 1, answer
    traced = run(env, "trace", pool, "--hops", "4", "--tronscan", "http://tronscan.test")
    [crossing] = traced["cross_chain"]
    assert crossing["order"]["from"]["txid"] == deposit_txid
    continued = crossing["continued"]
    assert continued["chain"] == "btc"
    labels = [s["label"] for s in continued["services"]]
    assert any("Harbor Exchange" in label for label in labels), continued
