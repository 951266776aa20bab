"""`investigate trace`: where the money went (forward) or came from (back), hop by hop.

A trace follows "tainted" satoshis through the transaction graph. How taint passes a
transaction is the method:

* poison  - any tainted input taints every output in full (the widest net);
* haircut - outputs get the tainted share of the inputs' value, pro rata;
* fifo    - satoshis keep their order: the first satoshis in are the first ones out, so
            taint lands on the outputs whose value range overlaps the tainted ranges.

Transactions are visited in chain order (forward) or reverse chain order (back), so every
transaction is handled once, with all the taint that reaches it. A hop is one transaction.
The trace stops at labelled addresses (exchanges, markets, mixers: services whose books,
not the chain, say where funds go next), at unspent outputs, at coinbases and at the hop limit.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from .graph import ChainGraph, Output
from .labels import LabelBook
from .store import require_synced, resolve_target

__all__ = ["METHODS", "TraceResult", "trace"]

METHODS = ("poison", "haircut", "fifo")
PREFETCH = 48  # transactions whose explorer pages are read for labels in one go

Ranges = list[tuple[int, int]]


@dataclass
class TraceResult:
    """A finished trace."""

    target: str
    direction: str
    method: str
    max_hops: int
    total: int  # satoshis traced from the start
    start: list[dict]
    hops: list[dict] = field(default_factory=list)
    endpoints: list[dict] = field(default_factory=list)
    truncated: bool = False

    def services(self) -> list[dict]:
        """Endpoints at labelled addresses, summed by label (largest first)."""
        by: dict[str, dict] = {}
        for e in self.endpoints:
            if e["kind"] != "service":
                continue
            s = by.setdefault(
                e["label"],
                {"label": e["label"], "category": e["category"], "amount": 0, "hop": e["hop"]},
            )
            s["amount"] += e["amount"]
            s["hop"] = min(s["hop"], e["hop"])
        out = sorted(by.values(), key=lambda s: -s["amount"])
        for s in out:
            s["share"] = round(s["amount"] / self.total, 6) if self.total else 0.0
        return out

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return {
            "target": self.target,
            "direction": self.direction,
            "method": self.method,
            "max_hops": self.max_hops,
            "total": self.total,
            "start": self.start,
            "hops": self.hops,
            "endpoints": self.endpoints,
            "services": self.services(),
            "truncated": self.truncated,
        }


# -- taint arithmetic --------------------------------------------------------------------------


def _merge(ranges: Ranges) -> Ranges:
    """Sorted ranges with touching ones joined."""
    out: Ranges = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _clip(ranges: Ranges, start: int, end: int) -> Ranges:
    """The parts of absolute ranges inside [start, end), relative to start."""
    return [
        (max(a, start) - start, min(b, end) - start) for a, b in ranges if a < end and b > start
    ]


def _amount(taint) -> float:
    """The satoshis a taint stands for (ranges for fifo, a number otherwise)."""
    return float(sum(b - a for a, b in taint)) if isinstance(taint, list) else float(taint)


def _add(old, new):
    """Two taints of one output together."""
    if old is None:
        return new
    if isinstance(new, list):
        return _merge(old + new)
    return old + new


def _full(value: int, method: str):
    """The taint of a whole output."""
    return [(0, value)] if method == "fifo" else float(value)


def _spread(method: str, sources: list[tuple[int, Any]], targets: list[int]) -> list:
    """Taint of each target value, given (value, taint or None) of the sources.

    Forward, sources are a transaction's inputs and targets its outputs; back, the reverse
    (a fifo mapping works both ways: satoshi k of the inputs is satoshi k of the outputs).
    """
    if method == "poison":
        hit = any(t is not None and _amount(t) > 0 for _, t in sources)
        return [float(v) if hit else 0.0 for v in targets]
    if method == "haircut":
        total = sum(v for v, _ in sources)
        tainted = sum(_amount(t) for _, t in sources if t is not None)
        ratio = tainted / total if total else 0.0
        return [v * ratio for v in targets]
    absolute: Ranges = []
    offset = 0
    for value, taint in sources:
        if taint is not None:
            absolute += [(offset + a, offset + b) for a, b in taint]
        offset += value
    absolute = _merge(absolute)
    out, offset = [], 0
    for value in targets:
        out.append(_clip(absolute, offset, offset + value))
        offset += value
    return out


# -- the walk ----------------------------------------------------------------------------------


class _Walk:
    """State shared by the forward and backward walks."""

    def __init__(self, graph: ChainGraph, labels: LabelBook, method: str, min_amount: float):
        """Walk graph with a method, ignoring taint below min_amount satoshis."""
        self.g = graph
        self.labels = labels
        self.method = method
        self.min_amount = min_amount

    def out_json(self, o: Output, taint=None, extra: dict | None = None) -> dict:
        """An output (or spent output) as a hop lists it."""
        label = self.labels.get(o.address_id)
        amount = _amount(taint) if taint is not None else 0.0
        d = {
            "n": o.n,
            "address": self.g.address(o.address_id),
            "value": o.value,
            "tainted": round(amount),
            "share": round(amount / o.value, 6) if o.value else 0.0,
        }
        if label:
            d["label"], d["category"] = label[0], label[1]
        if extra:
            d.update(extra)
        return d

    def endpoint(self, kind: str, hop: int, o: Output, taint) -> dict:
        """Where a trace stops: a service, an unspent output, a coinbase or the hop limit."""
        label = self.labels.get(o.address_id)
        return {
            "kind": kind,
            "hop": hop,
            "txid": self.g.txid(o.tx_id),
            "n": o.n,
            "address": self.g.address(o.address_id),
            "label": label[0] if label else None,
            "category": label[1] if label else None,
            "amount": round(_amount(taint)),
        }

    def prefetch(self, heap: list, first: int) -> None:
        """Read the explorer's pages of the next transactions of the walk, in one go."""
        ids = [first] + [abs(i) for i, _ in heap[: PREFETCH - 1]]
        self.labels.lookup([self.g.txid(i) for i in ids])


def trace(
    case,
    target: str,
    *,
    direction: str = "forward",
    hops: int = 6,
    method: str = "haircut",
    labels: LabelBook | None = None,
    min_amount: float = 1.0,
    max_txs: int = 5000,
) -> TraceResult:
    """Trace the money of an address, a transaction or an outpoint (TXID:N)."""
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; one of: {', '.join(METHODS)}")
    if direction not in ("forward", "back"):
        raise InputError(f"unknown direction {direction!r}; forward or back")
    if hops < 1:
        raise InputError("--hops must be at least 1")
    require_synced(case)
    g = ChainGraph(case.conn)
    labels = labels or LabelBook(case)
    kind, ref = resolve_target(case.conn, target)
    if kind == "address":
        starts = g.received(ref)
    elif kind == "tx":
        starts = g.outputs(ref)
    else:
        starts = [o for o in g.outputs(ref[0]) if o.n == ref[1]]
    walk = _Walk(g, labels, method, min_amount)
    result = TraceResult(
        target=target,
        direction=direction,
        method=method,
        max_hops=hops,
        total=sum(o.value for o in starts),
        start=[{"txid": g.txid(o.tx_id), **walk.out_json(o, float(o.value))} for o in starts],
    )
    if direction == "forward":
        _forward(walk, starts, hops, max_txs, result)
    else:
        _back(walk, starts, hops, max_txs, result)
    return result


def _forward(walk: _Walk, starts: list[Output], max_hops: int, max_txs: int, result) -> None:
    """Follow tainted outputs to the transactions that spend them, in chain order."""
    g, method = walk.g, walk.method
    pending: dict[
        int, dict[tuple[int, int], tuple[Output, Any]]
    ] = {}  # spender -> input key -> taint
    hop_of: dict[int, int] = {}
    heap: list[tuple[int, None]] = []

    def follow(o: Output, taint, hop: int) -> None:
        """Send an output's taint on to its spender, or end the trace there."""
        spender = g.spenders(o.tx_id).get(o.n)
        if spender is None:
            result.endpoints.append(walk.endpoint("unspent", hop, o, taint))
            return
        if spender not in pending:
            pending[spender] = {}
            heapq.heappush(heap, (spender, None))
        key = (o.tx_id, o.n)
        pending[spender][key] = (o, _add(pending[spender].get(key, (o, None))[1], taint))
        hop_of[spender] = min(hop_of.get(spender, hop + 1), hop + 1)

    for o in starts:
        follow(o, _full(o.value, method), 0)
    done = 0
    while heap:
        tx_id, _ = heapq.heappop(heap)
        hop = hop_of[tx_id]
        incoming = pending.pop(tx_id)
        if hop > max_hops or done >= max_txs:
            result.truncated |= done >= max_txs
            for o, taint in incoming.values():
                result.endpoints.append(walk.endpoint("hop-limit", hop - 1, o, taint))
            continue
        walk.prefetch(heap, tx_id)
        done += 1
        inputs = g.inputs(tx_id)
        sources = [(i.value, incoming.get((i.tx_id, i.n), (None, None))[1]) for i in inputs]
        outputs = g.outputs(tx_id)
        taints = _spread(method, sources, [o.value for o in outputs])
        spenders = g.spenders(tx_id)
        entry = _hop(walk, tx_id, hop, inputs, sources, outputs, taints)
        for o, taint in zip(outputs, taints, strict=True):
            if _amount(taint) < walk.min_amount or o.address_id is None:
                continue
            if walk.labels.get(o.address_id):
                result.endpoints.append(walk.endpoint("service", hop, o, taint))
            elif o.n in spenders:
                follow(o, taint, hop)
            else:
                result.endpoints.append(walk.endpoint("unspent", hop, o, taint))
        result.hops.append(entry)


def _back(walk: _Walk, starts: list[Output], max_hops: int, max_txs: int, result) -> None:
    """Follow tainted outputs back to the inputs that funded them, in reverse chain order."""
    g, method = walk.g, walk.method
    pending: dict[int, dict[int, object]] = {}  # creating tx -> output n -> traced taint
    hop_of: dict[int, int] = {}
    heap: list[tuple[int, None]] = []  # negated ids: a max-heap

    def follow(o: Output, taint, hop: int) -> None:
        """Ask where an output's (traced part of) value came from: its transaction's inputs."""
        if o.tx_id not in pending:
            pending[o.tx_id] = {}
            heapq.heappush(heap, (-o.tx_id, None))
        pending[o.tx_id][o.n] = _add(pending[o.tx_id].get(o.n), taint)
        hop_of[o.tx_id] = min(hop_of.get(o.tx_id, hop + 1), hop + 1)

    for o in starts:
        follow(o, _full(o.value, method), 0)
    done = 0
    while heap:
        neg, _ = heapq.heappop(heap)
        tx_id = -neg
        hop = hop_of[tx_id]
        traced = pending.pop(tx_id)
        outputs = g.outputs(tx_id)
        if hop > max_hops or done >= max_txs:
            result.truncated |= done >= max_txs
            for o in outputs:
                if o.n in traced:
                    result.endpoints.append(walk.endpoint("hop-limit", hop - 1, o, traced[o.n]))
            continue
        walk.prefetch(heap, tx_id)
        done += 1
        inputs = g.inputs(tx_id)
        taints_out = [traced.get(o.n) for o in outputs]
        if not inputs:
            for o, taint in zip(outputs, taints_out, strict=True):
                if taint is not None:
                    result.endpoints.append(walk.endpoint("coinbase", hop, o, taint))
            result.hops.append(_hop(walk, tx_id, hop, [], [], outputs, taints_out))
            continue
        sources = [(o.value, t) for o, t in zip(outputs, taints_out, strict=True)]
        if method == "haircut":
            # Value in = value out + fee: spread the traced amount over the inputs pro rata.
            total_in = sum(i.value for i in inputs)
            traced_total = sum(_amount(t) for _, t in sources if t is not None)
            in_taints = [i.value * traced_total / total_in if total_in else 0.0 for i in inputs]
        else:
            in_taints = _spread(method, sources, [i.value for i in inputs])
        entry = _hop(
            walk,
            tx_id,
            hop,
            inputs,
            list(zip([i.value for i in inputs], in_taints, strict=True)),
            outputs,
            taints_out,
        )
        for i, taint in zip(inputs, in_taints, strict=True):
            if _amount(taint) < walk.min_amount:
                continue
            if walk.labels.get(i.address_id):
                result.endpoints.append(walk.endpoint("service", hop, i, taint))
            else:
                follow(i, taint, hop)
        result.hops.append(entry)


def _hop(walk: _Walk, tx_id: int, hop: int, inputs, sources, outputs, taints) -> dict:
    """One transaction of the trace: what went in and out of it, and how much of it traced."""
    info = walk.g.tx(tx_id)
    ins = [walk.out_json(i, t) for i, (_, t) in zip(inputs, sources, strict=True)]
    for d, i in zip(ins, inputs, strict=True):
        d["txid"] = walk.g.txid(i.tx_id)
    outs = [
        walk.out_json(o, t if t is not None else 0.0) for o, t in zip(outputs, taints, strict=True)
    ]
    return {
        "hop": hop,
        "txid": info.txid,
        "height": info.height,
        "time": info.time,
        "fee": info.fee,
        "coinjoin_like": info.equal_outputs >= 3,
        "tainted_in": sum(d["tainted"] for d in ins),
        "tainted_out": sum(d["tainted"] for d in outs),
        "inputs": ins,
        "outputs": outs,
    }
