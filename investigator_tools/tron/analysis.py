"""Analyses of the case's Tron index: an address's summary, traces of USDT or TRX, clusters.

Tron keeps balances, not coins: a trace follows the value an address holds. Taint passes an
address as the method says, transfer by transfer in chain order:

* poison  - once an address holds any taint, everything it sends is tainted in full;
* haircut - what it sends carries the tainted share of its balance at that moment;
* fifo    - value leaves in the order it came in (lots), so taint leaves with its lots.

A trace stops at labelled services (exchanges, OTC desks, swap services, the issuer: their
books, not the chain, say where value goes next), at the hop limit, and where value stays.
A reverted transfer moved nothing and is never followed.
"""

from __future__ import annotations

import heapq
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from ..case import Case
from ..chain.codec.tron import is_tron_address, tron_address
from ..chain.store import ensure_tron_schema, tron_tip
from ..errors import InputError
from .labels import TronLabels

__all__ = [
    "ASSETS",
    "METHODS",
    "TronTrace",
    "address_summary",
    "cluster_of",
    "is_tron_target",
    "require_tron",
    "trace",
    "units",
    "which_chain",
]

METHODS = ("poison", "haircut", "fifo")
ASSETS = ("USDT", "TRX")
SERVICE_STOPS = ("exchange", "swap", "otc", "issuer", "mixer", "service", "market")


def units(amount: float) -> str:
    """An amount of USDT or TRX (both 6 decimals) in whole units."""
    return f"{amount / 1_000_000:,.6f}".rstrip("0").rstrip(".")


def is_tron_target(text: str) -> bool:
    """Whether text names a Tron address (T..., valid checksum)."""
    return is_tron_address(text.strip())


def require_tron(case: Case) -> None:
    """InputError unless the case has a Tron index."""
    ensure_tron_schema(case)
    if tron_tip(case.conn) is None:
        raise InputError(f"{case.path}: no Tron index yet; run `investigate sync --tron URL` first")


def _address(text: str) -> str:
    """A T... address from the user, or InputError naming it."""
    try:
        return tron_address(text)
    except ValueError as e:
        raise InputError(f"{text!r} is not a Tron address: {e}") from None


def _is_stop(label) -> bool:
    """Whether a label marks a service a trace stops at (an analyst's `suspect` does not)."""
    return label is not None and (label[1] or "service") in SERVICE_STOPS


# -- address ---------------------------------------------------------------------------------


def address_summary(case: Case, text: str, labels: TronLabels, node=None) -> dict:
    """Balances, first funder, counts, delegations, labels and blacklist state of an address."""
    require_tron(case)
    address = _address(text)
    conn = case.conn
    out: dict = {"chain": "tron", "address": address}
    label = labels.get(address)
    out["label"], out["category"] = (label[0], label[1]) if label else (None, None)
    for asset in ASSETS:
        row = conn.execute(
            "SELECT coalesce(sum(CASE WHEN to_address = ?1 THEN amount ELSE 0 END), 0), "
            "coalesce(sum(CASE WHEN from_address = ?1 THEN amount ELSE 0 END), 0), "
            "count(CASE WHEN to_address = ?1 THEN 1 END), count(CASE WHEN from_address = ?1 "
            "THEN 1 END) FROM tron_transfers WHERE ok = 1 AND asset = ?2 "
            "AND (from_address = ?1 OR to_address = ?1)",
            (address, asset),
        ).fetchone()
        out[asset.lower()] = {
            "received": row[0],
            "sent": row[1],
            "balance_index": row[0] - row[1],
            "transfers_in": row[2],
            "transfers_out": row[3],
        }
    activation = conn.execute(
        "SELECT a.funder, t.txid, t.block, t.timestamp FROM tron_activations a "
        "JOIN tron_txs t ON t.id = a.tx_id WHERE a.address = ?",
        (address,),
    ).fetchone()
    out["first_funder"] = dict(activation) if activation else None
    if activation:
        funder_label = labels.get(activation[0])
        out["first_funder"]["label"] = funder_label[0] if funder_label else None
    seen = conn.execute(
        "SELECT min(t.timestamp), max(t.timestamp), count(DISTINCT t.id) FROM tron_transfers f "
        "JOIN tron_txs t ON t.id = f.tx_id WHERE f.from_address = ?1 OR f.to_address = ?1",
        (address,),
    ).fetchone()
    out["first_seen_ms"], out["last_seen_ms"], out["transactions"] = seen[0], seen[1], seen[2]
    out["reverted"] = conn.execute(
        "SELECT count(*) FROM tron_transfers WHERE ok = 0 AND from_address = ?", (address,)
    ).fetchone()[0]
    out["energy_from"] = [
        dict(r)
        for r in conn.execute(
            "SELECT owner, resource, sum(amount) AS amount FROM tron_delegations "
            "WHERE receiver = ? GROUP BY owner, resource",
            (address,),
        )
    ]
    out["energy_to"] = conn.execute(
        "SELECT count(DISTINCT receiver) FROM tron_delegations WHERE owner = ?", (address,)
    ).fetchone()[0]
    last = conn.execute(
        "SELECT event FROM tron_blacklist WHERE address = ? AND event != 'DestroyedBlackFunds' "
        "ORDER BY tx_id DESC, idx DESC LIMIT 1",
        (address,),
    ).fetchone()
    out["blacklisted"] = bool(last and last[0] == "AddedBlackList") or labels.blacklisted.get(
        address, False
    )
    out["counterparties"] = [
        dict(r)
        for r in conn.execute(
            "SELECT other, asset, sum(amount) AS amount, count(*) AS transfers FROM ("
            "SELECT to_address AS other, asset, -amount AS amount FROM tron_transfers "
            "WHERE from_address = ?1 AND ok = 1 UNION ALL SELECT from_address, asset, amount "
            "FROM tron_transfers WHERE to_address = ?1 AND ok = 1) "
            "GROUP BY other, asset ORDER BY abs(sum(amount)) DESC LIMIT 10",
            (address,),
        )
    ]
    for c in out["counterparties"]:
        lab = labels.get(c["other"])
        c["label"] = lab[0] if lab else None
    if node is not None:
        account = node.account(address)
        out["node"] = {
            "activated": bool(account),
            "trx": int(account.get("balance", 0)),
            "usdt": node.usdt_balance(address),
        }
    return out


# -- trace -----------------------------------------------------------------------------------


@dataclass
class TronTrace:
    """A finished trace."""

    target: str
    direction: str
    method: str
    asset: str
    max_hops: int
    total: int
    start: list[dict]
    hops: list[dict] = field(default_factory=list)
    endpoints: list[dict] = field(default_factory=list)
    truncated: bool = False
    chain: str = "tron"

    def services(self) -> list[dict]:
        """Endpoints at labelled services, summed by label (largest first)."""
        by: dict[str, dict] = {}
        for e in self.endpoints:
            if e["kind"] != "service":
                continue
            s = by.setdefault(
                e["label"],
                {"label": e["label"], "category": e["category"], "amount": 0, "hop": e["hop"]},
            )
            s["amount"] += e["amount"]
        return sorted(by.values(), key=lambda s: -s["amount"])

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return {**self.__dict__, "services": self.services()}


Key = tuple[int, int]  # (tx_id, idx): a transfer's place in chain order


class _Holder:
    """What a traced address holds: its balance, its taint and, for fifo, its lots."""

    def __init__(self, balance: int):
        self.balance = balance
        self.taint = 0.0
        self.lots: list[list[float]] = [[float(balance), 0.0]] if balance > 0 else []
        self.hop = 0

    def receive(self, amount: int, taint: float) -> None:
        self.balance += amount
        self.taint += taint
        self.lots.append([float(amount), taint])

    def send(self, amount: int, method: str) -> float:
        """The taint an outgoing amount carries (and take it off the holder)."""
        if method == "poison":
            carried = float(amount) if self.taint > 0 else 0.0
        elif method == "haircut":
            share = self.taint / self.balance if self.balance > 0 else 0.0
            carried = min(self.taint, amount * share)
        else:
            carried, left = 0.0, float(amount)
            while left > 0 and self.lots:
                lot = self.lots[0]
                take = min(left, lot[0])
                part = lot[1] * take / lot[0] if lot[0] else 0.0
                carried += part
                lot[0] -= take
                lot[1] -= part
                left -= take
                if lot[0] <= 0:
                    self.lots.pop(0)
        self.balance -= amount
        if method != "poison":
            self.taint = max(0.0, self.taint - carried)
        return carried


def _balance_before(conn, address: str, asset: str, key: Key) -> int:
    """An address's balance of asset just before transfer key (from the index)."""
    row = conn.execute(
        "SELECT coalesce(sum(CASE WHEN to_address = ?1 THEN amount ELSE -amount END), 0) "
        "FROM tron_transfers WHERE ok = 1 AND asset = ?2 AND (from_address = ?1 OR "
        "to_address = ?1) AND (tx_id, idx) < (?3, ?4)",
        (address, asset, key[0], key[1]),
    ).fetchone()
    return max(0, row[0])


def _transfers(conn, address: str, asset: str, after: Key, back: bool = False) -> list[sqlite3.Row]:
    """An address's successful transfers of asset after (or, back, before) a key."""
    compare, order = ("<", "DESC") if back else (">", "ASC")
    return conn.execute(
        "SELECT f.tx_id, f.idx, f.from_address, f.to_address, f.amount, t.txid, t.timestamp "
        "FROM tron_transfers f JOIN tron_txs t ON t.id = f.tx_id WHERE f.ok = 1 AND "
        f"f.asset = ?2 AND (f.from_address = ?1 OR f.to_address = ?1) AND (f.tx_id, f.idx) "
        f"{compare} (?3, ?4) ORDER BY f.tx_id {order}, f.idx {order}",
        (address, asset, after[0], after[1]),
    ).fetchall()


def _starts(conn, target: str, asset: str, back: bool) -> tuple[list[sqlite3.Row], str | None]:
    """The transfers a trace starts from: a txid's, or an address's received (forward) /
    sent (back) ones; and the address named, if one was."""
    text = target.strip()
    if len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text):
        rows = conn.execute(
            "SELECT f.tx_id, f.idx, f.from_address, f.to_address, f.amount, t.txid, t.timestamp "
            "FROM tron_transfers f JOIN tron_txs t ON t.id = f.tx_id WHERE t.txid = ? "
            "AND f.asset = ? AND f.ok = 1 ORDER BY f.idx",
            (text.lower(), asset),
        ).fetchall()
        if not rows:
            raise InputError(f"transaction {text} moved no {asset} in the Tron index (sync first?)")
        return rows, None
    address = _address(text)
    column = "from_address" if back else "to_address"
    rows = conn.execute(
        "SELECT f.tx_id, f.idx, f.from_address, f.to_address, f.amount, t.txid, t.timestamp "
        f"FROM tron_transfers f JOIN tron_txs t ON t.id = f.tx_id WHERE f.{column} = ? "
        "AND f.asset = ? AND f.ok = 1 ORDER BY f.tx_id, f.idx",
        (address, asset),
    ).fetchall()
    if not rows:
        what = "sent" if back else "received"
        raise InputError(f"address {address} never {what} {asset} in the Tron index")
    return rows, address


def trace(
    case: Case,
    target: str,
    *,
    direction: str = "forward",
    hops: int = 6,
    method: str = "haircut",
    asset: str = "USDT",
    labels: TronLabels | None = None,
    min_amount: float = 1.0,
    max_transfers: int = 20000,
) -> TronTrace:
    """Trace the USDT (or TRX) of a Tron address or transaction, forward or back."""
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; one of: {', '.join(METHODS)}")
    if direction not in ("forward", "back"):
        raise InputError(f"unknown direction {direction!r}; forward or back")
    asset = asset.upper()
    if asset not in ASSETS:
        raise InputError(f"unknown asset {asset!r}; one of: {', '.join(ASSETS)}")
    if hops < 1:
        raise InputError("--hops must be at least 1")
    require_tron(case)
    labels = labels or TronLabels(case)
    back = direction == "back"
    rows, named = _starts(case.conn, target, asset, back)
    result = TronTrace(
        target=target,
        direction=direction,
        method=method,
        asset=asset,
        max_hops=hops,
        total=sum(r["amount"] for r in rows),
        start=[_leg(r, labels, float(r["amount"])) for r in rows],
    )
    walk = _walk_back if back else _walk_forward
    walk(case.conn, rows, named, hops, method, asset, labels, min_amount, max_transfers, result)
    return result


def _leg(r, labels: TronLabels, taint: float) -> dict:
    """A transfer as a hop lists it."""
    d = {
        "txid": r["txid"],
        "timestamp": r["timestamp"],
        "from": r["from_address"],
        "to": r["to_address"],
        "amount": r["amount"],
        "tainted": round(taint),
    }
    for end in ("from", "to"):
        label = labels.get(d[end])
        if label:
            d[f"{end}_label"] = label[0]
    return d


def _endpoint(kind: str, hop: int, address: str, amount: float, labels, txid=None) -> dict:
    """Where a trace stops: a service, a holder (value stays), the hop limit."""
    label = labels.get(address)
    return {
        "kind": kind,
        "hop": hop,
        "address": address,
        "txid": txid,
        "label": label[0] if label else None,
        "category": label[1] if label else None,
        "amount": round(amount),
    }


def _walk_forward(conn, rows, named, max_hops, method, asset, labels, min_amount, limit, result):
    """Follow taint from the start transfers' recipients, transfer by transfer."""
    holders: dict[str, _Holder] = {}
    heap: list[tuple[Key, str]] = []  # (next transfer, address whose list it is in)
    queued: dict[str, list] = {}
    done: set[Key] = set()

    def taint(address: str, key: Key, amount: int, carried: float, hop: int, txid: str) -> None:
        """address received carried taint in transfer key: stop there or follow it."""
        label = labels.get(address)
        if _is_stop(label):
            result.endpoints.append(_endpoint("service", hop, address, carried, labels, txid))
            return
        holder = holders.get(address)
        if holder is None:
            if hop >= max_hops:
                result.endpoints.append(_endpoint("hop-limit", hop, address, carried, labels, txid))
                return
            holder = holders[address] = _Holder(_balance_before(conn, address, asset, key))
            holder.hop = hop
            queued[address] = list(reversed(_transfers(conn, address, asset, key)))
            if queued[address]:
                heapq.heappush(heap, ((queued[address][-1][0], queued[address][-1][1]), address))
        holder.receive(amount, carried)

    for r in rows:
        key = (r["tx_id"], r["idx"])
        done.add(key)
        taint(r["to_address"], key, r["amount"], float(r["amount"]), 0, r["txid"])
    count = 0
    while heap:
        key, address = heapq.heappop(heap)
        pending = queued[address]
        r = pending.pop()
        if pending:
            heapq.heappush(heap, ((pending[-1][0], pending[-1][1]), address))
        if key in done:
            continue
        done.add(key)
        count += 1
        if count > limit:
            result.truncated = True
            break
        src, dst, amount = r["from_address"], r["to_address"], r["amount"]
        carried = 0.0
        if src in holders:
            carried = holders[src].send(amount, method)
        if dst in holders and (carried < min_amount or dst == src):
            holders[dst].receive(amount, carried if dst == src else 0.0)
            continue
        if carried >= min_amount:
            hop = holders[src].hop + 1
            result.hops.append({"hop": hop, **_leg(r, labels, carried)})
            taint(dst, key, amount, carried, hop, r["txid"])
    for address, holder in holders.items():
        held = min(holder.taint, float(max(holder.balance, 0)))
        if held >= min_amount:
            result.endpoints.append(_endpoint("held", holder.hop, address, held, labels))


def _walk_back(conn, rows, named, max_hops, method, asset, labels, min_amount, limit, result):
    """Follow where the start transfers' value came from, in reverse chain order."""
    # (sender, the transfer it sent, the taint to explain, hop)
    todo: list[tuple[Key, str, float, int]] = []
    for r in rows:
        todo.append(((r["tx_id"], r["idx"]), r["from_address"], float(r["amount"]), 0))
    count = 0
    while todo:
        key, address, amount, hop = todo.pop()
        label = labels.get(address)
        if hop > 0 and _is_stop(label):
            result.endpoints.append(_endpoint("service", hop, address, amount, labels))
            continue
        if hop >= max_hops:
            result.endpoints.append(_endpoint("hop-limit", hop, address, amount, labels))
            continue
        count += 1
        if count > limit:
            result.truncated = True
            break
        sources = _sources(conn, address, asset, key, amount, method)
        if not sources:
            result.endpoints.append(_endpoint("origin", hop, address, amount, labels))
            continue
        for r, share in sources:
            if share < min_amount:
                continue
            result.hops.append({"hop": hop + 1, **_leg(r, labels, share)})
            todo.append(((r["tx_id"], r["idx"]), r["from_address"], share, hop + 1))


def _sources(conn, address, asset, key: Key, amount: float, method: str):
    """The incoming transfers an amount address sent at key came from, with their shares."""
    history = _transfers(conn, address, asset, (0, -2))
    history = [r for r in history if (r["tx_id"], r["idx"]) < key]
    incoming = [r for r in history if r["to_address"] == address]
    if not incoming:
        return []
    if method == "poison":
        return [(r, float(r["amount"])) for r in incoming]
    if method == "haircut":
        total = sum(r["amount"] for r in incoming)
        return [(r, amount * r["amount"] / total) for r in incoming]
    lots: list[list] = []  # fifo: replay the lots; the amount sent at key leaves from the front
    for r in history:
        if r["to_address"] == address:
            lots.append([r, float(r["amount"])])
        else:
            left = float(r["amount"])
            while left > 0 and lots:
                take = min(left, lots[0][1])
                lots[0][1] -= take
                left -= take
                if lots[0][1] <= 0:
                    lots.pop(0)
    out, left = [], amount
    for r, size in lots:
        if left <= 0:
            break
        take = min(left, size)
        out.append((r, take))
        left -= take
    return out


# -- clusters --------------------------------------------------------------------------------


class _Union:
    """Union-find over addresses, with the reasons of each join."""

    def __init__(self):
        self.parent: dict[str, str] = {}
        self.reasons: list[tuple[str, str, str]] = []

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str, why: str) -> None:
        self.reasons.append((a, b, why))
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb


def _clusters(case: Case, labels: TronLabels) -> _Union:
    """Join addresses by the Tron heuristics (see cluster_of)."""
    conn = case.conn
    uf = _Union()
    # Deposit sweeps: an address all of whose value went to one exchange wallet, and that
    # the exchange fed (activation or energy), is one of that exchange's deposit addresses.
    rows = conn.execute(
        "SELECT from_address, min(to_address), count(DISTINCT to_address) FROM tron_transfers "
        "WHERE ok = 1 GROUP BY from_address HAVING count(DISTINCT to_address) = 1"
    ).fetchall()
    fed = defaultdict(set)
    for r in conn.execute("SELECT address, funder FROM tron_activations"):
        fed[r[0]].add(r[1])
    for r in conn.execute("SELECT receiver, owner FROM tron_delegations"):
        fed[r[0]].add(r[1])
    # Tronscan is asked about the few wallets value is swept into and their feeders; every
    # other address counts with the labels already known (a world has many thousands).
    for source, sink, _ in rows:
        label = labels.get(sink)
        if label is None or label[1] != "exchange" or labels.get(source, ask=False):
            continue
        owner = label[0].split(":")[0].strip().lower()
        feeders = [labels.get(f) for f in fed.get(source, ())]
        if any(f and f[0].split(":")[0].strip().lower() == owner for f in feeders):
            uf.union(source, sink, f"deposit address swept into {label[0]}")
    # First funder / activator, and energy delegator (not when a service did it: exchanges
    # activate their customers' withdrawal addresses; a service's own wallets join above).
    funders = conn.execute("SELECT address, funder FROM tron_activations").fetchall()
    delegations = conn.execute("SELECT DISTINCT receiver, owner FROM tron_delegations").fetchall()
    for giver in {f for _, f in funders} | {o for _, o in delegations}:
        labels.get(giver)  # the few that activate or delegate: asked once each
    for address, funder in funders:
        if not labels.get(funder, ask=False) and not labels.get(address, ask=False):
            uf.union(address, funder, "activated (first TRX) by")
    for receiver, owner in delegations:
        given, got = labels.get(owner, ask=False), labels.get(receiver, ask=False)
        if not given and not got:
            uf.union(receiver, owner, "energy delegated by")
        elif given and got and given[0].split(":")[0] == got[0].split(":")[0]:
            uf.union(receiver, owner, "energy delegated within one service")
    return uf


def cluster_of(case: Case, text: str, labels: TronLabels) -> dict:
    """The addresses the Tron heuristics put with an address, and why.

    Heuristics: deposit addresses swept into the same exchange wallet that fed them
    (activation or energy) belong to that exchange; an address activated (first TRX) or
    given energy by an unlabelled address is controlled by it; so addresses that fund each
    other's activation and are swept together end up in one cluster.
    """
    require_tron(case)
    address = _address(text)
    uf = _clusters(case, labels)
    root = uf.find(address)
    members = sorted(a for a in list(uf.parent) if uf.find(a) == root)
    evidence = [
        {"address": a, "joined_to": b, "because": why}
        for a, b, why in uf.reasons
        if uf.find(a) == root
    ]
    out_members = []
    for m in members:
        label = labels.get(m)
        out_members.append(
            {
                "address": m,
                "label": label[0] if label else None,
                "category": label[1] if label else None,
            }
        )
    named = sorted({m["label"] for m in out_members if m["label"]})
    return {
        "chain": "tron",
        "address": address,
        "size": len(members),
        "members": out_members,
        "labels": named,
        "evidence": evidence,
    }


def which_chain(case: Case, target: str, chain: str | None = None) -> str:
    """btc or tron: what --chain says, else what the target's form and the indexes say (a
    64-hex txid is looked up in both; found in both, InputError asks for --chain)."""
    if chain:
        return chain
    text = target.strip()
    if is_tron_address(text):
        return "tron"
    if len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text):
        ensure_tron_schema(case)
        txid = text.lower()
        tron = case.conn.execute("SELECT 1 FROM tron_txs WHERE txid = ?", (txid,)).fetchone()
        btc = case.conn.execute("SELECT 1 FROM chain_txs WHERE txid = ?", (txid,)).fetchone()
        if tron and btc:
            raise InputError(f"{txid} is in both the Bitcoin and the Tron index: give --chain")
        return "tron" if tron else "btc"
    return "btc"
