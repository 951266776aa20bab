"""The swap flows' orders, planned from the scenario alone.

The Bitcoin-like ledger and the Tron chain are simulated apart (the Tron side in a process
of its own), yet each must make its leg of every swap order: both call plan_swaps and get
the same orders, times and amounts without talking to each other.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, time

from .model import Flow, Scenario

DAY = 86_400
UNIT = 1_000_000  # USDT's smallest unit is 10^-6
SAT = 100_000_000
# The service pays the other leg this long after the order (seconds): it waits for the deposit.
PAYOUT_DELAY = (15 * 60, 45 * 60)


@dataclass(frozen=True)
class SwapOrder:
    """One order of a swap flow: a deposit on one chain, a payout on the other."""

    order_id: str
    flow: Flow
    index: int
    created: int  # unix seconds: the deposit is made then
    payer: str  # actor (a member of `from`) paying the deposit
    payee: str  # actor (a member of `to`) receiving the payout
    service: str  # the swap service (`via`)
    deposit_chain: str  # btc | tron
    deposit_asset: str  # BTC | USDT
    deposit_amount: int  # satoshis or USDT units (10^-6)
    payout_chain: str
    payout_asset: str
    payout_amount: int
    payout_time: int  # unix seconds
    rate: float  # USDT per BTC the order was priced at (before the fee)


def other_chain(chain: str) -> tuple[str, str]:
    """The payout (chain, asset) of a swap whose deposit is on chain."""
    return ("tron", "USDT") if chain == "btc" else ("btc", "BTC")


def convert(amount: int, deposit_asset: str, rate: float, fee: float) -> int:
    """What a deposit of amount (smallest units) pays out on the other chain, less the fee."""
    if deposit_asset == "BTC":
        return int(amount / SAT * rate * (1 - fee) * UNIT) // 10_000 * 10_000  # whole cents
    return int(amount / UNIT / rate * (1 - fee) * SAT)


def plan_swaps(scenario: Scenario) -> list[SwapOrder]:
    """Every order of every swap flow, in time order (a pure function of the scenario)."""
    knobs = scenario.world
    start = int(datetime.combine(knobs.start, time(0), tzinfo=UTC).timestamp())
    counts = {a.id: a.count for a in scenario.actors}
    orders = []
    for flow in scenario.flows:
        if flow.kind != "swap" or flow.amount is None or flow.via is None:
            continue
        rng = random.Random(f"swap:{knobs.seed}:{flow.id}")
        end = flow.end_day if flow.end_day is not None else flow.start_day
        days = sorted(rng.uniform(flow.start_day, end) for _ in range(flow.count))
        payout_chain, payout_asset = other_chain(flow.chain)
        for i, day in enumerate(days):
            created = start + int(day * DAY)
            value = rng.uniform(flow.amount.min, flow.amount.max)
            if flow.asset == "BTC":
                amount = max(1000, int(round(value, 6) * SAT))
            else:
                amount = max(UNIT, int(round(value, 2) * UNIT))
            digest = hashlib.sha256(f"swap:{knobs.seed}:{flow.id}:{i}".encode()).hexdigest()
            orders.append(
                SwapOrder(
                    order_id=digest[:16],
                    flow=flow,
                    index=i,
                    created=created,
                    payer=_member(flow.source, counts, rng),
                    payee=_member(flow.target, counts, rng),
                    service=flow.via,
                    deposit_chain=flow.chain,
                    deposit_asset=flow.asset,
                    deposit_amount=amount,
                    payout_chain=payout_chain,
                    payout_asset=payout_asset,
                    payout_amount=convert(amount, flow.asset, knobs.btc_usdt, knobs.swap_fee),
                    payout_time=created + rng.randint(*PAYOUT_DELAY),
                    rate=knobs.btc_usdt,
                )
            )
    return sorted(orders, key=lambda o: (o.created, o.order_id))


def _member(actor_id: str, counts: dict[str, int], rng: random.Random) -> str:
    """The actor, or one member of its group (members are named id-1 .. id-count)."""
    count = counts.get(actor_id, 1)
    return actor_id if count == 1 else f"{actor_id}-{rng.randint(1, count)}"
