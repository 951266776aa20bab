"""`investigate address`, `path` and `exposure`: questions about one address, from the index."""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import InputError
from .graph import ChainGraph
from .labels import LabelBook
from .store import require_synced, resolve_target
from .trace import trace

__all__ = [
    "address_summary",
    "counterparty_shares",
    "exposure",
    "shortest_path",
    "tx_summary",
]

COUNTERPARTIES = 20
LOOKUP_TXS = 200  # explorer pages read for labels of an address's counterparties
MAX_PATH_TXS = 200_000


def _address_target(case, text: str) -> int:
    """The address id of an address argument."""
    kind, ref = resolve_target(case.conn, text)
    if kind != "address":
        raise InputError(f"{text}: give an address, not a transaction")
    return ref


def address_summary(
    case, address: str, labels: LabelBook | None = None, top: int = COUNTERPARTIES
) -> dict:
    """Balance, totals, activity and counterparties (with amounts) of an address.

    The `top` largest counterparties each way are listed; `received_from_rest` and
    `sent_to_rest` count and sum the others.
    """
    require_synced(case)
    conn = case.conn
    g = ChainGraph(conn)
    labels = labels or LabelBook(case)
    aid = _address_target(case, address)
    funding = sorted({o.tx_id for o in g.received(aid)})
    spending = g.spending_txs(aid)
    txs = sorted(set(funding) | set(spending))
    labels.lookup([g.txid(t) for t in txs[-LOOKUP_TXS:]])
    received = sum(o.value for o in g.received(aid))
    sent = conn.execute(
        "SELECT coalesce(sum(value), 0), count(*) FROM chain_inputs WHERE address_id = ?", (aid,)
    ).fetchone()
    senders: dict[int, float] = {}
    receivers: dict[int, float] = {}
    for side, _tx_id, party, amount in counterparty_shares(g, aid, funding, spending):
        sums = senders if side == "in" else receivers
        sums[party] = sums.get(party, 0) + amount
    first = g.tx(txs[0]) if txs else None
    last = g.tx(txs[-1]) if txs else None
    label = labels.get(aid)
    return {
        "address": g.address(aid),
        "label": label[0] if label else None,
        "category": label[1] if label else None,
        "label_source": label[2] if label else None,
        "balance": received - sent[0],
        "received": received,
        "sent": sent[0],
        "funded_outputs": len(g.received(aid)),
        "spent_outputs": sent[1],
        "tx_count": len(txs),
        "first_seen": {"txid": first.txid, "height": first.height, "time": first.time}
        if first
        else None,
        "last_seen": {"txid": last.txid, "height": last.height, "time": last.time}
        if last
        else None,
        "received_from": _parties(g, labels, senders, top),
        "sent_to": _parties(g, labels, receivers, top),
        "received_from_rest": _rest(senders, top),
        "sent_to_rest": _rest(receivers, top),
    }


def counterparty_shares(
    g: ChainGraph, aid: int, funding: list[int], spending: list[int]
) -> Iterator[tuple[str, int, int, float]]:
    """(side, tx id, counterparty's address id, amount) for every input or output of another
    address in the transactions that paid (`funding`, side "in") or spent (`spending`, side
    "out") the address: what it got in a transaction attributed to the payers pro rata to
    their inputs, and what a payee got attributed to the address by its share of the inputs."""
    for tx_id in funding:
        inputs = g.inputs(tx_id)
        total_in = sum(i.value for i in inputs)
        got = sum(o.value for o in g.outputs(tx_id) if o.address_id == aid)
        for i in inputs:
            if i.address_id and i.address_id != aid and total_in:
                yield "in", tx_id, i.address_id, got * i.value / total_in
    for tx_id in spending:
        inputs = g.inputs(tx_id)
        total_in = sum(i.value for i in inputs)
        mine = sum(i.value for i in inputs if i.address_id == aid)
        for o in g.outputs(tx_id):
            if o.address_id and o.address_id != aid and total_in:
                yield "out", tx_id, o.address_id, o.value * mine / total_in


def _parties(
    g: ChainGraph, labels: LabelBook, amounts: dict[int, float], top: int = COUNTERPARTIES
) -> list[dict]:
    """The largest counterparties with their amounts and labels."""
    out = []
    for aid, amount in sorted(amounts.items(), key=lambda kv: -kv[1])[:top]:
        label = labels.get(aid)
        out.append(
            {
                "address": g.address(aid),
                "amount": round(amount),
                "label": label[0] if label else None,
                "category": label[1] if label else None,
                "label_source": label[2] if label else None,
            }
        )
    return out


def _rest(amounts: dict[int, float], top: int) -> dict:
    """How many counterparties fall beyond the top ones, and their summed amount."""
    rest = sorted(amounts.values(), reverse=True)[top:]
    return {"count": len(rest), "amount": round(sum(rest))}


def tx_summary(case, txid: str, labels: LabelBook | None = None, top: int = COUNTERPARTIES) -> dict:
    """A transaction's inputs and outputs (address, amount, label), the largest `top` of each.

    Inputs are merged by address (a wallet spending several coins of one address); the
    ones beyond `top` are counted and summed in `inputs_rest` and `outputs_rest`.
    """
    require_synced(case)
    kind, tx_id = resolve_target(case.conn, txid)
    if kind != "tx":
        raise InputError(f"{txid}: give a txid, not an address or an output")
    g = ChainGraph(case.conn)
    labels = labels or LabelBook(case)
    info = g.tx(tx_id)
    labels.lookup([info.txid])
    paid_in: dict[int, float] = {}
    for i in g.inputs(tx_id):
        if i.address_id:
            paid_in[i.address_id] = paid_in.get(i.address_id, 0) + i.value
    paid_out: dict[int, float] = {}
    for o in g.outputs(tx_id):
        if o.address_id:
            paid_out[o.address_id] = paid_out.get(o.address_id, 0) + o.value
    return {
        "txid": info.txid,
        "height": info.height,
        "time": info.time,
        "fee": info.fee,
        "coinbase": info.n_in == 0,
        "inputs": _parties(g, labels, paid_in, top),
        "outputs": _parties(g, labels, paid_out, top),
        "inputs_rest": _rest(paid_in, top),
        "outputs_rest": _rest(paid_out, top),
    }


def shortest_path(
    case,
    source: str,
    target: str,
    *,
    hops: int = 6,
    labels: LabelBook | None = None,
    through_services: bool = False,
) -> dict:
    """The fewest-transaction money path from one address to another, within hops."""
    require_synced(case)
    g = ChainGraph(case.conn)
    labels = labels or LabelBook(case)
    src, dst = _address_target(case, source), _address_target(case, target)
    if src == dst:
        raise InputError("the two addresses are the same")
    # Breadth-first over outputs, a hop (one transaction) at a time: an output leads to
    # the transaction spending it, and on to that transaction's outputs. Money only flows
    # forward in time, so every path found is one the money could really have taken.
    parent: dict[tuple[int, int], tuple[int, int] | None] = {}
    level = []
    for o in g.received(src):
        parent[(o.tx_id, o.n)] = None
        level.append((o.tx_id, o.n))
    seen_txs: set[int] = set()
    found = None
    key: tuple[int, int] | None
    for _ in range(hops):
        steps = []
        for tx_id, n in level:
            spender = g.spenders(tx_id).get(n)
            if spender is not None and spender not in seen_txs:
                seen_txs.add(spender)
                steps.append(((tx_id, n), spender))
        if not steps or len(seen_txs) > MAX_PATH_TXS:
            break
        labels.lookup([g.txid(s) for _, s in steps])
        level = []
        for came_from, spender in steps:
            for o in g.outputs(spender):
                key = (o.tx_id, o.n)
                if key in parent or o.address_id is None:
                    continue
                parent[key] = came_from
                if o.address_id == dst:
                    found = key
                    break
                if labels.get(o.address_id) and not through_services:
                    continue  # a service's books, not the chain, say where its funds go
                level.append(key)
            if found:
                break
        if found:
            break
    result: dict = {
        "from": g.address(src),
        "to": g.address(dst),
        "max_hops": hops,
        "found": found is not None,
        "hops": 0,
        "steps": [],
        "transactions_searched": len(seen_txs),
    }
    if found is None:
        return result
    chain = []
    key = found
    while key is not None:
        chain.append(key)
        key = parent[key]
    chain.reverse()
    outputs = {}
    for tx_id, n in chain:
        outputs[(tx_id, n)] = next(o for o in g.outputs(tx_id) if o.n == n)
    path: list[dict] = []
    for prev, cur in zip(chain, chain[1:], strict=False):
        p, c = outputs[prev], outputs[cur]
        info = g.tx(c.tx_id)
        label = labels.get(c.address_id)
        path.append(
            {
                "hop": len(path) + 1,
                "txid": info.txid,
                "height": info.height,
                "time": info.time,
                "from": g.address(p.address_id),
                "from_amount": p.value,
                "to": g.address(c.address_id),
                "amount": c.value,
                "to_label": label[0] if label else None,
            }
        )
    result["hops"] = len(path)
    result["steps"] = path
    return result


def exposure(
    case,
    address: str,
    *,
    hops: int = 4,
    method: str = "haircut",
    labels: LabelBook | None = None,
) -> dict:
    """How much of an address's funds came from, and went to, labelled services."""
    require_synced(case)
    aid = _address_target(case, address)
    labels = labels or LabelBook(case)
    conn = case.conn
    received, sent = conn.execute(
        "SELECT (SELECT coalesce(sum(value), 0) FROM chain_outputs WHERE address_id = :a), "
        "(SELECT coalesce(sum(value), 0) FROM chain_inputs WHERE address_id = :a)",
        {"a": aid},
    ).fetchone()
    back = trace(case, address, direction="back", hops=hops, method=method, labels=labels)
    forward = trace(case, address, direction="forward", hops=hops, method=method, labels=labels)
    g = ChainGraph(conn)
    label = labels.get(aid)
    return {
        "address": g.address(aid),
        "label": label[0] if label else None,
        "method": method,
        "max_hops": hops,
        "received": received,
        "sent": sent,
        "incoming": _exposure_rows(back, back.total),
        "outgoing": _exposure_rows(forward, forward.total),
        "truncated": back.truncated or forward.truncated,
    }


def _exposure_rows(result, base: int) -> list[dict]:
    """Service endpoints of a trace, split into direct (one hop) and indirect amounts."""
    by: dict[str, dict] = {}
    for e in result.endpoints:
        if e["kind"] != "service":
            continue
        row = by.setdefault(
            e["label"],
            {"service": e["label"], "category": e["category"], "direct": 0, "indirect": 0},
        )
        row["direct" if e["hop"] <= 1 else "indirect"] += e["amount"]
    rows = sorted(by.values(), key=lambda r: -(r["direct"] + r["indirect"]))
    for r in rows:
        total = r["direct"] + r["indirect"]
        r["total"] = total
        r["share"] = round(total / base, 6) if base else 0.0
        r["direct_share"] = round(r["direct"] / base, 6) if base else 0.0
    return rows
