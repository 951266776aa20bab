"""`investigate cluster`: group addresses into wallets (co-spend and change heuristics).

Co-spend (always on): the inputs of one transaction are signed by one wallet, so their
addresses belong together; a union-find joins them. CoinJoin-like transactions are
excluded (always), since there many wallets sign one transaction: a transaction with at
least COINJOIN_EQUAL_OUTPUTS outputs of one same value and as many inputs is skipped.

Change heuristics (each off unless asked for) name the output of a payment that goes
back to the payer, and join its address to the payer's cluster; they can be wrong,
which is why they are switchable and explained (`--explain`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..errors import InputError
from .graph import ChainGraph
from .labels import LabelBook
from .store import local_tip, require_synced, resolve_target

__all__ = ["CHANGE_HEURISTICS", "COINJOIN_EQUAL_OUTPUTS", "ClusterResult", "cluster", "members"]

COINJOIN_EQUAL_OUTPUTS = 3
ROUND_SATS = 100_000  # 0.001 BTC: payments are often round in BTC, change rarely is
EXAMPLES = 3

CHANGE_HEURISTICS = {
    "address-reuse": (
        "An output paying back one of the transaction's own input addresses is change "
        "(a wallet that reuses addresses). It joins nothing new, but it settles which "
        "output is change, so the other heuristics do not guess another one."
    ),
    "round-amount": (
        f"Payments tend to be round amounts (multiples of {ROUND_SATS:,} sat); when exactly "
        "one output is not round and the others are, that one is change."
    ),
    "script-type": (
        "Wallets send change to an address of their own script type: when all inputs are "
        "of one type and exactly one output is of that type, that output is change."
    ),
    "fresh-address": (
        "Wallets make a fresh address for each change: when exactly one output address "
        "appears on the chain for the first time in this transaction and the others were "
        "seen before, that one is change. Weak where payees also get fresh addresses: check "
        "its merges against the others."
    ),
}

COSPEND = (
    "Co-spend: all inputs of a transaction are controlled by one wallet, so their "
    "addresses are joined (union-find)."
)
COINJOIN = (
    f"CoinJoin exclusion: transactions with {COINJOIN_EQUAL_OUTPUTS} or more outputs of one "
    "same value and at least as many inputs are signed by many wallets; they are left out "
    "of co-spend and change clustering."
)


@dataclass
class ClusterResult:
    """A finished clustering."""

    change: list[str]
    tip_height: int
    addresses: int
    clusters: int  # with at least two addresses
    clustered_addresses: int
    largest: int
    cospend_txs: int
    coinjoin_excluded: int
    seconds: float
    heuristics: dict = field(default_factory=dict)  # name -> counts and examples
    top: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return dict(self.__dict__)

    def explain(self) -> list[str]:
        """What each rule did, in words."""
        lines = [COSPEND, f"  used {self.cospend_txs:,} transactions with 2+ inputs.", COINJOIN]
        lines.append(f"  excluded {self.coinjoin_excluded:,} CoinJoin-like transactions.")
        for name in self.change:
            h = self.heuristics[name]
            lines.append(f"{name}: {CHANGE_HEURISTICS[name]}")
            lines.append(
                f"  named change in {h['found']:,} transactions; {h['merged']:,} joined a "
                f"change address to its payer's cluster; {h['conflicts']:,} left alone "
                "because the heuristics disagreed."
            )
            for ex in h["examples"]:
                lines.append(f"  e.g. {ex['txid']} output {ex['n']} ({ex['address']})")
        if not self.change:
            lines.append("No change heuristic was used (--change to add some).")
        return lines


class _UnionFind:
    """Disjoint sets of integer ids 0..n, with path halving and union by size."""

    def __init__(self, n: int):
        """n + 1 singleton sets."""
        self.parent = list(range(n + 1))
        self.size = [1] * (n + 1)

    def find(self, x: int) -> int:
        """The representative of x's set."""
        parent = self.parent
        while parent[x] != x:
            parent[x] = x = parent[parent[x]]
        return x

    def union(self, a: int, b: int) -> bool:
        """Join the sets of a and b; whether they were apart."""
        a, b = self.find(a), self.find(b)
        if a == b:
            return False
        if self.size[a] < self.size[b]:
            a, b = b, a
        self.parent[b] = a
        self.size[a] += self.size[b]
        return True


def _parse_change(change) -> list[str]:
    """The change heuristics asked for, checked."""
    names = []
    for item in change or ():
        for name in str(item).split(","):
            name = name.strip()
            if not name:
                continue
            if name not in CHANGE_HEURISTICS:
                raise InputError(
                    f"unknown change heuristic {name!r}; one of: {', '.join(CHANGE_HEURISTICS)}"
                )
            if name not in names:
                names.append(name)
    return names


def cluster(case, change=(), labels: LabelBook | None = None, top: int = 10) -> ClusterResult:
    """Cluster every address of the index; the result is stored in the case."""
    started = time.perf_counter()
    require_synced(case)
    names = _parse_change(change)
    conn = case.conn
    n_addresses = conn.execute("SELECT coalesce(max(id), 0) FROM chain_addresses").fetchone()[0]
    coinjoins = {
        r[0]
        for r in conn.execute(
            "SELECT id FROM chain_txs WHERE equal_outputs >= ? AND n_in >= equal_outputs",
            (COINJOIN_EQUAL_OUTPUTS,),
        )
    }
    uf = _UnionFind(n_addresses)
    cospend = _cospend(conn, uf, coinjoins)
    stats = {name: {"found": 0, "merged": 0, "conflicts": 0, "examples": []} for name in names}
    if names:
        _change(conn, uf, coinjoins, names, stats)
    clusters = _store(case, uf, n_addresses)
    sizes = sorted(clusters.values(), reverse=True)
    tip = local_tip(conn)
    assert tip is not None  # require_synced saw it
    result = ClusterResult(
        change=names,
        tip_height=tip[0],
        addresses=n_addresses,
        clusters=len(sizes),
        clustered_addresses=sum(sizes),
        largest=sizes[0] if sizes else 1,
        cospend_txs=cospend,
        coinjoin_excluded=len(coinjoins),
        seconds=0.0,
        heuristics=stats,
    )
    result.top = _top(case, uf, clusters, labels or LabelBook(case), top)
    result.seconds = round(time.perf_counter() - started, 3)
    case.set_meta(
        "chain.cluster",
        {k: v for k, v in result.as_dict().items() if k not in ("top", "heuristics")},
    )
    return result


def _cospend(conn, uf: _UnionFind, coinjoins: set[int]) -> int:
    """Join the input addresses of every non-CoinJoin transaction; how many had 2+ inputs."""
    parent, size = uf.parent, uf.size
    current = first = None
    skip = False
    # The table is stored in (tx_id, n) order, so this is a plain scan (no sort) that groups
    # inputs by transaction; without ORDER BY, SQLite may read a covering index instead.
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: millions of sqlite3.Row objects cost seconds
    cursor.execute("SELECT tx_id, address_id FROM chain_inputs ORDER BY tx_id, n")
    while rows := cursor.fetchmany(65536):
        for tx_id, aid in rows:
            if tx_id != current:
                current, first, skip = tx_id, aid, tx_id in coinjoins
            elif not skip and aid != first and aid is not None:
                if first is None:
                    first = aid
                    continue
                # _UnionFind.union inlined: this loop runs once per input of the chain.
                a = first
                while parent[a] != a:
                    parent[a] = a = parent[parent[a]]
                b = aid
                while parent[b] != b:
                    parent[b] = b = parent[parent[b]]
                if a != b:
                    if size[a] < size[b]:
                        a, b = b, a
                    parent[b] = a
                    size[a] += size[b]
    return conn.execute(
        "SELECT count(*) FROM chain_txs WHERE n_in >= 2 "
        "AND NOT (equal_outputs >= ? AND n_in >= equal_outputs)",
        (COINJOIN_EQUAL_OUTPUTS,),
    ).fetchone()[0]


def _is_round(value: int) -> bool:
    """Whether an amount looks chosen by a person."""
    return value % ROUND_SATS == 0


def _change(conn, uf: _UnionFind, coinjoins: set[int], names: list[str], stats: dict) -> None:
    """Apply the chosen change heuristics to every payment-like transaction."""
    g = ChainGraph(conn)
    cursor = conn.cursor()
    cursor.row_factory = None
    ins: dict[int, list[tuple[int, str]]] = {}
    for tx_id, aid, typ in cursor.execute(
        "SELECT i.tx_id, i.address_id, a.type FROM chain_inputs i "
        "JOIN chain_addresses a ON a.id = i.address_id "
        "WHERE i.tx_id IN (SELECT id FROM chain_txs WHERE n_out >= 2 AND n_in >= 1)"
    ):
        ins.setdefault(tx_id, []).append((aid, typ))
    current: int | None = None
    outs: list[tuple] = []
    query = (
        "SELECT o.tx_id, o.n, o.value, o.address_id, a.type, a.first_tx_id FROM chain_outputs o "
        "JOIN chain_addresses a ON a.id = o.address_id "
        "WHERE o.tx_id IN (SELECT id FROM chain_txs WHERE n_out >= 2 AND n_in >= 1) "
        "ORDER BY o.tx_id, o.n"
    )
    for row in [*cursor.execute(query), (None,) * 6]:
        if row[0] != current:
            if current is not None and current not in coinjoins and current in ins:
                _decide(g, uf, current, ins[current], outs, names, stats)
            current, outs = row[0], []
        outs.append(row)


def _decide(g: ChainGraph, uf, tx_id: int, inputs, outs, names, stats) -> None:
    """Name the change output of one transaction, and join it if the heuristics agree."""
    if len(outs) < 2:
        return
    in_ids = {aid for aid, _ in inputs}
    picks: dict[str, int] = {}
    if "address-reuse" in names:
        reused = [o for o in outs if o[3] in in_ids]
        if reused:
            stats["address-reuse"]["found"] += 1
            return  # the change is known and already in the cluster: nothing to guess
    if "round-amount" in names:
        odd = [o for o in outs if not _is_round(o[2])]
        if len(odd) == 1:
            picks["round-amount"] = odd[0][1]
    if "script-type" in names:
        types = {typ for _, typ in inputs}
        if len(types) == 1:
            same = [o for o in outs if o[4] in types]
            if len(same) == 1:
                picks["script-type"] = same[0][1]
    if "fresh-address" in names:
        fresh = [o for o in outs if o[5] == tx_id]
        if len(fresh) == 1 and len(outs) - 1 == len({o[3] for o in outs if o[5] != tx_id}):
            picks["fresh-address"] = fresh[0][1]
    if not picks:
        return
    for name in picks:
        stats[name]["found"] += 1
    if len(set(picks.values())) > 1:
        for name in picks:
            stats[name]["conflicts"] += 1
        return
    n = next(iter(picks.values()))
    out = next(o for o in outs if o[1] == n)
    if uf.union(next(iter(in_ids)), out[3]):
        for name in picks:
            stats[name]["merged"] += 1
            if len(stats[name]["examples"]) < EXAMPLES:
                stats[name]["examples"].append(
                    {"txid": g.txid(tx_id), "n": n, "address": g.address(out[3])}
                )


def _store(case, uf: _UnionFind, n_addresses: int) -> dict[int, int]:
    """Write the cluster id (its root's address id) of every address in a cluster of 2+."""
    conn = case.conn
    parent, size = uf.parent, uf.size
    rows = []
    for aid in range(1, n_addresses + 1):
        root = parent[aid]
        if root == aid and size[aid] == 1:
            continue  # a singleton: most addresses, and nothing to store
        while parent[root] != root:
            root = parent[root]
        rows.append((aid, root))
    with conn:
        conn.execute("BEGIN")
        conn.execute("DROP TABLE IF EXISTS chain_clusters")
        conn.execute(
            "CREATE TABLE chain_clusters (address_id INTEGER PRIMARY KEY, cluster_id INTEGER "
            "NOT NULL)"
        )
        conn.executemany("INSERT INTO chain_clusters VALUES (?, ?)", rows)
    # The index for "which addresses are in cluster X" is built when first needed (members).
    return {root: size[root] for root in {r for _, r in rows}}


def _top(case, uf: _UnionFind, clusters: dict[int, int], labels: LabelBook, top: int) -> list:
    """The largest clusters, with a sample address and the labels found in them."""
    g = ChainGraph(case.conn)
    named: dict[int, list[str]] = {}
    for aid, (name, _, _) in labels.by_id.items():
        if aid < len(uf.parent):
            found = named.setdefault(uf.find(aid), [])
            if name not in found:
                found.append(name)
    return [
        {"cluster": cid, "size": count, "sample": g.address(cid), "labels": named.get(cid, [])}
        for cid, count in sorted(clusters.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    ]


def members(case, target: str, labels: LabelBook | None = None, limit: int = 1000) -> dict:
    """The cluster of an address (as last computed): its addresses, labels and totals."""
    require_synced(case)
    conn = case.conn
    meta = case.get_meta("chain.cluster")
    if meta is None:
        raise InputError("no clustering yet; run `investigate cluster` first")
    kind, ref = resolve_target(conn, target)
    if kind != "address":
        raise InputError(f"{target}: give an address to show its cluster")
    labels = labels or LabelBook(case)
    g = ChainGraph(conn)
    conn.execute("CREATE INDEX IF NOT EXISTS chain_clusters_cluster ON chain_clusters(cluster_id)")
    row = conn.execute(
        "SELECT cluster_id FROM chain_clusters WHERE address_id = ?", (ref,)
    ).fetchone()
    ids = [ref]
    if row is not None:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT address_id FROM chain_clusters WHERE cluster_id = ? ORDER BY address_id",
                (row[0],),
            )
        ]
    received = sent = 0
    listed: list[dict] = []
    for aid in ids:
        r, s = conn.execute(
            "SELECT (SELECT coalesce(sum(value), 0) FROM chain_outputs WHERE address_id = :a), "
            "(SELECT coalesce(sum(value), 0) FROM chain_inputs WHERE address_id = :a)",
            {"a": aid},
        ).fetchone()
        received += r
        sent += s
        if len(listed) < limit:
            label = labels.get(aid)
            listed.append(
                {
                    "address": g.address(aid),
                    "received": r,
                    "balance": r - s,
                    "label": label[0] if label else None,
                }
            )
    return {
        "address": g.address(ref),
        "cluster": row[0] if row else None,
        "size": len(ids),
        "change_heuristics": meta["change"],
        "computed_at_height": meta["tip_height"],
        "received": received,
        "balance": received - sent,
        "labels": sorted({m["label"] for m in listed if m["label"]}),
        "addresses": listed,
    }
