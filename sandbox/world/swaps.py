"""The swap services' order records: each order's two legs, joined after both chains are made."""

from __future__ import annotations

import sqlite3

from ..errors import BuildError
from ..scenario.model import Scenario
from ..scenario.swaps import plan_swaps

# Each leg with its txid and address, from the chain that made it.
LEGS_SQL = """
SELECT l.order_id, l.leg, t.txid, a.address, l.amount
FROM swap_legs l JOIN transactions t ON t.id = l.tx_id JOIN addresses a ON a.id = l.address_id
WHERE l.chain = 'btc'
UNION ALL
SELECT l.order_id, l.leg, t.txid, l.address, l.amount
FROM swap_legs l JOIN tron_txs t ON t.id = l.tx_id
WHERE l.chain = 'tron'
"""


def write_swap_orders(conn: sqlite3.Connection, scenario: Scenario) -> int:
    """Join the legs both simulations made into swap_orders; the number of orders.

    Raises BuildError naming the flow when a planned leg is missing on its chain.
    """
    legs = {
        (o, leg): (txid, address, amount)
        for o, leg, txid, address, amount in conn.execute(LEGS_SQL)
    }
    rows = []
    for order in plan_swaps(scenario):
        got = []
        for leg in ("deposit", "payout"):
            found = legs.get((order.order_id, leg))
            if found is None:
                raise BuildError(
                    f"flow '{order.flow.id}' (line {order.flow.line}): swap order "
                    f"{order.order_id} has no {leg} on its chain"
                )
            got.append(found)
        (d_txid, d_addr, d_amount), (p_txid, p_addr, p_amount) = got
        rows.append(
            (
                order.order_id,
                order.flow.id,
                order.service,
                order.created,
                order.rate,
                scenario.world.swap_fee,
                order.payer,
                order.payee,
                order.deposit_chain,
                order.deposit_asset,
                d_addr,
                d_txid,
                d_amount,
                order.payout_chain,
                order.payout_asset,
                p_addr,
                p_txid,
                p_amount,
                order.payout_time,
            )
        )
    conn.executemany(f"INSERT INTO swap_orders VALUES ({','.join('?' * 19)})", rows)
    return len(rows)
