"""Swap flows: each order's two legs land on their chains at the planned times and amounts.

tests/data/swap.yaml swaps BTC for USDT (to-usdt) and USDT for BTC (to-btc) through the
swap service `swapper`. The plan (scenario/swaps.py) is compared with what the chains hold,
read here with this test's own SQL; the answer key's payout fields with the payouts.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sandbox.errors import BuildError, ScenarioError
from sandbox.scenario import load_scenario
from sandbox.scenario.swaps import plan_swaps
from sandbox.world.build import build_world
from tests.course_secret import SECRET

DATA = Path(__file__).resolve().parent / "data"
USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, object]:
    """The swap world, built once: (its file, its scenario with the keyed seed)."""
    from sandbox.world.secret import keyed_seed

    scenario = load_scenario(DATA / "swap.yaml")
    out = tmp_path_factory.mktemp("swap") / "swap.db"
    build_world(scenario, out, secret=SECRET)
    return out, scenario.with_seed(keyed_seed(scenario.world.seed, SECRET))


def _rows(world: Path, sql: str, *args) -> list[tuple]:
    """Rows of a query on the world."""
    conn = sqlite3.connect(f"file:{world}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _btc_leg(world: Path, txid: str, address: str) -> tuple[int, int]:
    """(block time, value paid to address) of a Bitcoin transaction."""
    rows = _rows(
        world,
        "SELECT b.time, o.value FROM transactions t JOIN blocks b ON b.height = t.height"
        " JOIN outputs o ON o.tx_id = t.id JOIN addresses a ON a.id = o.address_id"
        " WHERE t.txid = ? AND a.address = ?",
        txid,
        address,
    )
    assert len(rows) == 1, (txid, address)
    return rows[0]


def _tron_leg(world: Path, txid: str) -> tuple[int, str, int]:
    """(timestamp ms, receiver, USDT units) of a Tron USDT transfer."""
    rows = _rows(
        world,
        "SELECT f.timestamp, f.to_address, f.value FROM trc20_transfers f"
        " JOIN tron_txs t ON t.id = f.tx_id WHERE t.txid = ? AND f.contract = ?"
        " AND t.result = 'SUCCESS'",
        txid,
        USDT,
    )
    assert len(rows) == 1, txid
    return rows[0][0], rows[0][1], int(rows[0][2])


def test_both_legs_are_on_their_chains_at_the_planned_times(built):
    """Every planned order has its deposit and payout, with the planned amounts, at (or in
    the first block after) the planned times, paid to the recorded addresses."""
    world, scenario = built
    plan = plan_swaps(scenario)
    assert {o.flow.id for o in plan} == {"to-usdt", "to-btc"}
    assert len(plan) == 5
    orders = {
        r[0]: r
        for r in _rows(
            world,
            "SELECT order_id, deposit_address, deposit_txid, deposit_amount, payout_address,"
            " payout_txid, payout_amount, created, rate FROM swap_orders",
        )
    }
    assert set(orders) == {o.order_id for o in plan}
    tron_of = dict(
        _rows(world, "SELECT actor_id, address FROM tron_accounts WHERE wallet = 'personal'")
    )
    for o in plan:
        _, d_addr, d_txid, d_amount, p_addr, p_txid, p_amount, created, rate = orders[o.order_id]
        assert (d_amount, p_amount, created, rate) == (
            o.deposit_amount,
            o.payout_amount,
            o.created,
            50000.0,
        )
        if o.deposit_chain == "btc":  # BTC in, USDT out: 50,000 USDT per BTC less 2%
            assert p_amount == int(d_amount / 1e8 * 50000 * 0.98 * 1e6) // 10_000 * 10_000
            time, value = _btc_leg(world, d_txid, d_addr)
            assert value == d_amount and o.created <= time < o.created + 3 * 3600
            ms, to, units = _tron_leg(world, p_txid)
            assert (to, units) == (p_addr, p_amount) and to == tron_of[o.payee]
            assert o.payout_time * 1000 - 3000 < ms <= o.payout_time * 1000 + 3000
        else:  # USDT in on Tron at its exact time, BTC out in the first block after
            assert p_amount == int(d_amount / 1e6 / 50000 * 0.98 * 1e8)
            ms, to, units = _tron_leg(world, d_txid)
            assert (to, units) == (d_addr, d_amount)
            assert o.created * 1000 - 3000 < ms <= o.created * 1000 + 3000
            time, value = _btc_leg(world, p_txid, p_addr)
            assert value == p_amount and o.payout_time <= time < o.payout_time + 3 * 3600


def test_answer_key_has_both_legs(built):
    """The flow fields count the deposits; payout_* the service's payouts on the other chain."""
    world, _ = built
    key = dict(_rows(world, "SELECT objective_id, answer FROM seat_objectives WHERE seat = 1"))
    payouts = sorted(
        r[0] for r in _rows(world, "SELECT payout_txid FROM swap_orders WHERE flow_id = 'to-usdt'")
    )
    import json

    assert json.loads(key["payout-tx"]) == payouts
    (usdt,) = _rows(world, "SELECT sum(deposit_amount) FROM swap_orders WHERE flow_id = 'to-btc'")[
        0
    ]
    (sat,) = _rows(world, "SELECT sum(payout_amount) FROM swap_orders WHERE flow_id = 'to-btc'")[0]
    assert json.loads(key["deposits"]) == pytest.approx(usdt / 1e6)
    assert json.loads(key["payout-btc"]) == pytest.approx(sat / 1e8)


def _with(tmp_path: Path, old: str, new: str) -> Path:
    """swap.yaml with one text replaced."""
    text = (DATA / "swap.yaml").read_text()
    assert old in text
    path = tmp_path / "case.yaml"
    path.write_text(text.replace(old, new))
    return path


def _line(path: Path, needle: str) -> int:
    """The line of the file that holds needle."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_validator_rejects_a_swap_through_a_non_swap_actor(tmp_path):
    """via must be a swap service; the message names the line."""
    path = _with(tmp_path, "to: payee, via: swapper", "to: payee, via: coinvault")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    line = _line(path, "via: coinvault")
    assert [str(p) for p in info.value.problems] == [
        f"{path}:{line}: flows[0].via: 'coinvault' is a exchange, not a swap service (role: swap)"
    ]


def test_validator_rejects_a_payout_to_an_actor_without_a_wallet_there(tmp_path):
    """A BTC -> USDT swap pays out on Tron: its `to` needs a Tron wallet."""
    path = _with(tmp_path, "{id: payee, role: user, tron: true}", "{id: payee, role: user}")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    line = _line(path, "to: payee")
    assert [str(p) for p in info.value.problems] == [
        f"{path}:{line}: flows[0].to: 'payee' has no Tron wallet, and a swap with chain: btc "
        "receives its payout on Tron; give the actor tron: true (or tron: {USDT: ..., TRX: ...})"
    ]


def test_funds_check_counts_the_payout_against_the_service(tmp_path):
    """The service pays USDT out of its own: too little for the payouts is refused."""
    path = _with(tmp_path, "tron: {USDT: 100000, TRX: 500}", "tron: {USDT: 100, TRX: 500}")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert len(info.value.problems) == 1
    problem = str(info.value.problems[0])
    assert "flows[0].amount: flow 'to-usdt' needs at least" in problem
    assert "USDT from 'swapper'" in problem


def test_a_deposit_the_payer_cannot_make_at_its_time_fails_the_build(tmp_path):
    """The payer's coins arrive after the order is due: the build fails naming the flow
    (the other chain made its leg on the plan's word, so the swap cannot wait)."""
    path = _with(
        tmp_path,
        "{id: seller, role: vendor, balance: 1, tron: true}",
        "{id: seller, role: vendor, tron: true}",
    )
    path.write_text(
        path.read_text()
        .replace(
            "flows:\n",
            "flows:\n  - {id: late, kind: transfer, from: receiver, to: seller, amount: 1, start_day: 2.5}\n",
        )
        .replace("{id: receiver, role: user}", "{id: receiver, role: user, balance: 2}")
    )
    scenario = load_scenario(path)
    with pytest.raises(BuildError, match=r"flow 'to-usdt' \(line \d+\): the deposit of swap order"):
        build_world(scenario, tmp_path / "w.db", secret=SECRET)
    assert not (tmp_path / "w.db").exists()


def test_validator_rejects_a_swap_site_run_by_another_role(tmp_path):
    """A swap site's operator is its swap service."""
    path = _with(tmp_path, "operator: swapper}", "operator: seller}")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    line = _line(path, "operator: seller")
    assert [str(p) for p in info.value.problems] == [
        f"{path}:{line}: sites[0].operator: 'seller' is a vendor, not a swap service (role: swap)"
    ]
