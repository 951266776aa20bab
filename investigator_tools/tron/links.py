"""Cross-chain links: the orders a swap service's portal returned (`request HOST --ask
orders`), kept in the case so traces and the graph go on from one chain to the other.

An order (the portal's `answer.orders`) is {"order_id", "created", "from": {"chain",
"asset", "address", "txid", "amount"}, "to": {same}, "rate"}: value paid in on one chain
(the deposit) and paid out on the other (the payout).
"""

from __future__ import annotations

from ..case import Case
from ..chain.store import ensure_tron_schema
from ..errors import InputError, RemoteError

__all__ = ["CHAINS", "continue_across", "orders", "store_orders"]

CHAINS = {"btc": "btc", "bitcoin": "btc", "tron": "tron", "trx": "tron"}
SIDES = ("chain", "asset", "address", "txid", "amount")


def _chain(value, where: str) -> str:
    """A chain name as the case stores it (btc | tron), or RemoteError naming the order."""
    chain = CHAINS.get(str(value or "").strip().lower())
    if chain is None:
        raise RemoteError(f"{where}: unknown chain {value!r} (btc or tron)")
    return chain


def store_orders(case: Case, host: str, found: list) -> int:
    """Keep a portal's orders (a later answer about the same order replaces it); how many."""
    ensure_tron_schema(case)
    if not isinstance(found, list):
        raise RemoteError(f"{host}: answer.orders is not a list")
    rows = []
    for n, order in enumerate(found):
        where = f"{host}: order {n}"
        if not isinstance(order, dict) or not order.get("order_id"):
            raise RemoteError(f"{where}: no order_id")
        sides = []
        for side in ("from", "to"):
            part = order.get(side)
            if not isinstance(part, dict):
                raise RemoteError(f"{where} ({order['order_id']}): no {side!r} leg")
            chain = _chain(part.get("chain"), f"{where} {side}")
            sides += [chain] + [None if part.get(k) is None else str(part[k]) for k in SIDES[1:]]
        rows.append(
            (host, str(order["order_id"]), order.get("created"), *sides,
             None if order.get("rate") is None else str(order["rate"]), case.custody_id)
        )  # fmt: skip
    case.conn.executemany(
        "INSERT OR REPLACE INTO swap_orders VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows
    )
    return len(rows)


def orders(case: Case, *, address: str | None = None, txid: str | None = None) -> list[dict]:
    """Stored orders with a leg paying from or to an address, or a leg's txid."""
    ensure_tron_schema(case)
    if address is None and txid is None:
        rows = case.conn.execute("SELECT * FROM swap_orders ORDER BY host, order_id")
    elif address is not None:
        rows = case.conn.execute(
            "SELECT * FROM swap_orders WHERE from_address = ?1 OR to_address = ?1", (address,)
        )
    else:
        rows = case.conn.execute(
            "SELECT * FROM swap_orders WHERE from_txid = ?1 OR to_txid = ?1", (txid,)
        )
    return [_order(r) for r in rows]


def _order(r) -> dict:
    """A row as the portal's order shape, with the host it came from."""
    d = dict(r)
    out = {"host": d["host"], "order_id": d["order_id"], "created": d["created"], "rate": d["rate"]}
    for side in ("from", "to"):
        out[side] = {k: d[f"{side}_{k}"] for k in SIDES}
    return out


def _indexed(case: Case, chain: str, txid: str) -> bool:
    """Whether the case's index of chain has the transaction (both tables always exist)."""
    table = "tron_txs" if chain == "tron" else "chain_txs"
    row = case.conn.execute(f"SELECT 1 FROM {table} WHERE txid = ?", (txid,)).fetchone()
    return row is not None


def continue_across(case: Case, result: dict, run_trace, depth: int = 1) -> dict:
    """Add to a trace (either chain's as_dict) the swap orders its endpoints pay into, and
    the trace of each order's payout on the other chain (as far as depth crossings).

    run_trace(chain, txid) traces a payout forward (or, for a backward trace, the deposit
    back) with the caller's options.
    """
    chain = result.get("chain", "btc")
    back = result.get("direction") == "back"
    crossings = []
    addresses = {e.get("address") for e in result.get("endpoints", []) if e.get("address")}
    addresses |= {h.get("to") for h in result.get("hops", []) if h.get("to")}
    for out in result.get("hops", []):
        for o in out.get("outputs", []):
            if o.get("address"):
                addresses.add(o["address"])
    for address in sorted(a for a in addresses if a):
        for order in orders(case, address=address):
            near, far = ("to", "from") if back else ("from", "to")
            if order[near]["chain"] != chain or order[near]["address"] != address:
                continue
            crossing = {"order": order, "reached": address, "continued": None}
            leg = order[far]
            if depth > 0 and leg["txid"] and _indexed(case, leg["chain"], leg["txid"]):
                try:
                    sub = run_trace(leg["chain"], leg["txid"])
                except InputError as e:
                    crossing["note"] = str(e)
                else:
                    crossing["continued"] = continue_across(case, sub, run_trace, depth - 1)
            elif leg["txid"]:
                crossing["note"] = (
                    f"{leg['chain']} transaction {leg['txid']} is not in the case's index"
                )
            crossings.append(crossing)
    result["cross_chain"] = crossings
    return result
