"""The money graph a trainee draws in `investigate ui`: its nodes, links, layout and notes.

Nodes are Bitcoin addresses, transactions and folded nodes (the counterparties beyond the
largest ones, summed); links carry amounts in satoshis (Tron's nodes and links, in USDT or
TRX, are drawn by `workspace_tron` into the same tables). Each link keeps the time and
amount of every payment it sums, so the page can show only the links of a time window.
Expanding a node reads the case's chain index (`chain.analysis`: `address_summary`,
`tx_summary`), so labels and amounts are the toolkit's own. Annotations (free text and tags) on nodes and links are kept here too,
and the report lists them. Labels are not copied: they are read from `chain_labels` when
the graph is read, so a label set on the command line shows at once.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .case import Case
from .chain.analysis import COUNTERPARTIES, address_summary, counterparty_shares, tx_summary
from .chain.cluster import cluster, members
from .chain.graph import ChainGraph
from .chain.labels import LabelBook
from .chain.store import address_id, ensure_schema, local_tip
from .errors import InputError
from .targets import check_target

__all__ = [
    "MAX_DRAWN",
    "SCHEMA",
    "add_target",
    "add_path",
    "node_kind",
    "put_edge",
    "put_node",
    "put_node_if_new",
    "read_view",
    "save_view",
    "writing",
    "add_trace",
    "collapse_cluster",
    "ensure_tables",
    "uncollapse",
    "annotate",
    "latest_picture",
    "list_annotations",
    "expand",
    "read_graph",
    "save_layout",
    "save_picture",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS workspace_nodes (
    id TEXT PRIMARY KEY,          -- the address, the txid, rest:<node>:<in|out>[:<asset>],
                                  -- cluster:<id>
    kind TEXT NOT NULL,           -- address | tx | rest | cluster | tron | tron_tx
    data TEXT NOT NULL,           -- JSON: what the expansion said (rest: count, amount)
    x REAL,                       -- where the trainee left it on the canvas
    y REAL,
    expanded INTEGER NOT NULL DEFAULT 0,
    collapsed_into TEXT,          -- the cluster node (cluster:<id>) drawn in its place
    added REAL NOT NULL,
    custody_id INTEGER
);
CREATE TABLE IF NOT EXISTS workspace_edges (
    id TEXT PRIMARY KEY,          -- <source>><target>, on Tron <source>><target>#<asset>
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    amount INTEGER,               -- satoshis; on Tron the asset's 6-decimal units
    added REAL NOT NULL,
    custody_id INTEGER,
    asset TEXT,                   -- NULL: bitcoin; USDT | TRX
    times TEXT                    -- JSON [[unix seconds, amount], ...] of the payments summed
);
CREATE TABLE IF NOT EXISTS traces (
    id INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    direction TEXT NOT NULL,      -- forward | back
    method TEXT NOT NULL,         -- poison | haircut | fifo
    result TEXT NOT NULL,         -- the trace's JSON (chain.trace's or tron.analysis's as_dict)
    drawn INTEGER NOT NULL,       -- transactions put on the graph
    created REAL NOT NULL,
    custody_id INTEGER
);
CREATE TABLE IF NOT EXISTS workspace_pictures (
    id INTEGER PRIMARY KEY,
    png BLOB NOT NULL,            -- the canvas as drawn, for the report (the latest is shown)
    sha256 TEXT NOT NULL,
    created REAL NOT NULL,
    operator TEXT,
    custody_id INTEGER
);
CREATE TABLE IF NOT EXISTS annotations (
    target_kind TEXT NOT NULL,    -- node | edge
    target TEXT NOT NULL,         -- a workspace node's or edge's id
    note TEXT NOT NULL,
    tags TEXT NOT NULL,           -- JSON list of strings
    updated REAL NOT NULL,
    operator TEXT,
    custody_id INTEGER,
    PRIMARY KEY (target_kind, target)
);
"""

MAX_DRAWN = 150  # transactions of a trace drawn on the canvas (the report lists them all)
MAX_NOTE = 10_000
MAX_PICTURE = 6 * 1024 * 1024  # bytes of PNG
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TAG = 40
MAX_TAGS = 20


# Columns added since the tables were first made: a case from before gets them on opening.
_ADDED_COLUMNS = (("workspace_edges", "asset", "TEXT"), ("workspace_edges", "times", "TEXT"))
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@contextmanager
def writing(case: Case) -> Iterator[None]:
    """One write transaction, locked at its start (the CLI may write the case meanwhile)."""
    case.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        case.conn.execute("ROLLBACK")
        raise
    case.conn.execute("COMMIT")


def ensure_tables(case: Case) -> None:
    """The workspace tables and the chain tables it reads labels from."""
    ensure_schema(case)
    case.ensure(SCHEMA)
    have = {r[1] for r in case.conn.execute("PRAGMA table_info(workspace_edges)")}
    for table, column, kind in _ADDED_COLUMNS:
        if column not in have:
            case.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def node_kind(case: Case, node_id: str) -> str | None:
    """The kind of a node of the graph (address, tx, rest, cluster, tron, tron_tx), or None."""
    ensure_tables(case)
    row = case.conn.execute("SELECT kind FROM workspace_nodes WHERE id = ?", (node_id,)).fetchone()
    return row[0] if row else None


def put_node(case: Case, node_id: str, kind: str, data: dict, merge: bool = False) -> None:
    """Add a node, or refresh what is known of it (its place and notes are kept); merge: keep
    the facts it had that data does not name."""
    update = "json_patch(data, excluded.data)" if merge else "excluded.data"
    case.conn.execute(
        "INSERT INTO workspace_nodes (id, kind, data, added, custody_id) VALUES (?, ?, ?, ?, ?)"
        f" ON CONFLICT(id) DO UPDATE SET data = {update}",
        (node_id, kind, json.dumps(data), time.time(), case.custody_id),
    )


def put_edge(
    case: Case,
    source: str,
    target: str,
    amount: int | None,
    times: list | None = None,
    asset: str | None = None,
) -> str:
    """Add a link (or update its amount and payments); its id."""
    edge_id = f"{source}>{target}" + (f"#{asset}" if asset else "")
    case.conn.execute(
        "INSERT INTO workspace_edges (id, source, target, amount, added, custody_id, asset, times)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET amount = excluded.amount,"
        " times = excluded.times",
        (
            edge_id,
            source,
            target,
            amount,
            time.time(),
            case.custody_id,
            asset,
            None if times is None else json.dumps(times),
        ),
    )
    return edge_id


def add_target(case: Case, text: str, labels: LabelBook | None = None) -> dict:
    """Put an address or a txid on the graph; it must be in the case's chain index."""
    value = check_target(text, "address or txid", ("btc", "txid"))
    ensure_tables(case)
    if len(value) == 64 and ":" not in value and not value.lower().startswith("bc1"):
        summary = tx_summary(case, value.lower(), labels, top=0)
        node = {"id": summary["txid"], "kind": "tx"}
        data = {k: summary[k] for k in ("height", "time", "fee", "coinbase")}
    else:
        summary = address_summary(case, value, labels, top=0)
        node = {"id": summary["address"], "kind": "address"}
        data = {k: summary[k] for k in ("balance", "received", "sent", "tx_count")}
    with writing(case):
        put_node(case, node["id"], node["kind"], data)
    return node


def expand(
    case: Case, node_id: str, labels: LabelBook | None = None, top: int = COUNTERPARTIES
) -> dict:
    """Add a node's counterparties (an address's payers and payees, a transaction's inputs
    and outputs): the `top` largest each way, the rest folded into one node per side; each
    link with the time and amount of every payment it sums."""
    kind = node_kind(case, node_id)
    if kind is None:
        raise InputError(f"{node_id!r} is not on the graph: add it first")
    if top < 1 or top > 200:
        raise InputError(f"top {top}: expected 1 to 200 counterparties")
    if kind == "rest":
        raise InputError(f"{node_id}: a folded node stands for many; expand its parent more")
    if kind == "cluster":
        raise InputError(f"{node_id}: a cluster stands for many; uncollapse it first")
    if kind in ("tron", "tron_tx"):
        raise InputError(f"{node_id}: a Tron node; expand it with the Tron index")
    if kind == "tx":
        s = tx_summary(case, node_id, labels, top)
        ins, outs = s["inputs"], s["outputs"]
        ins_rest, outs_rest = s["inputs_rest"], s["outputs_rest"]
        paid: dict[str, dict[str, list]] = {"in": {}, "out": {}}
        when = s["time"]
    else:
        s = address_summary(case, node_id, labels, top)
        ins, outs = s["received_from"], s["sent_to"]
        ins_rest, outs_rest = s["received_from_rest"], s["sent_to_rest"]
        paid = _payments(case, node_id)
        when = None
    added = []

    def times(side: str, parties: list[str], amount: int) -> list:
        """The payments a link sums: a transaction's one, or an address's with a party."""
        if when is not None:
            return [[when, amount]]
        return sorted(p for party in parties for p in paid[side].get(party, ()))

    drawn = {"in": {p["address"] for p in ins}, "out": {p["address"] for p in outs}}
    with writing(case):
        for party in ins:
            put_node_if_new(case, party["address"])
            put_edge(
                case,
                party["address"],
                node_id,
                party["amount"],
                times("in", [party["address"]], party["amount"]),
            )
            added.append(party["address"])
        for party in outs:
            put_node_if_new(case, party["address"])
            put_edge(
                case,
                node_id,
                party["address"],
                party["amount"],
                times("out", [party["address"]], party["amount"]),
            )
            added.append(party["address"])
        for side, rest in (("in", ins_rest), ("out", outs_rest)):
            others = [a for a in paid[side] if a not in drawn[side]]
            folded = times(side, others, rest["amount"])
            rest_id = f"rest:{node_id}:{side}"
            if not rest["count"]:
                case.conn.execute("DELETE FROM workspace_nodes WHERE id = ?", (rest_id,))
                case.conn.execute(
                    "DELETE FROM workspace_edges WHERE source = ? OR target = ?", (rest_id, rest_id)
                )
                continue
            put_node(case, rest_id, "rest", {**rest, "side": side, "of": node_id})
            if side == "in":
                put_edge(case, rest_id, node_id, rest["amount"], folded)
            else:
                put_edge(case, node_id, rest_id, rest["amount"], folded)
            added.append(rest_id)
        case.conn.execute("UPDATE workspace_nodes SET expanded = 1 WHERE id = ?", (node_id,))
    return {"node": node_id, "added": added}


def _payments(case: Case, address: str) -> dict[str, dict[str, list]]:
    """When an address was paid by each payer and paid each payee, and how much each time
    ({"in"|"out": {party: [[time, amount], ...]}}), attributed pro rata to the inputs as
    `address_summary` does (a link's payments then add up to its amount)."""
    g = ChainGraph(case.conn)
    aid = address_id(case.conn, address)
    out: dict[str, dict[str, list]] = {"in": {}, "out": {}}
    if aid is None:
        return out
    funding = sorted({o.tx_id for o in g.received(aid)})
    # One payment per transaction and party: a party's inputs (or outputs) in it summed.
    paid: dict[tuple[str, int, int], float] = {}
    for side, tx_id, party, amount in counterparty_shares(g, aid, funding, g.spending_txs(aid)):
        paid[side, tx_id, party] = paid.get((side, tx_id, party), 0) + amount
    for (side, tx_id, party), amount in paid.items():
        out[side].setdefault(g.address(party) or "", []).append([g.tx(tx_id).time, round(amount)])
    return out


def add_trace(case: Case, result: dict, max_drawn: int = MAX_DRAWN) -> dict:
    """Draw a trace (`chain.trace.trace(...).as_dict()`): each hop's transaction, with links
    carrying the traced (tainted) amounts; the trace itself is kept for the report."""
    ensure_tables(case)
    hops = sorted(result["hops"], key=lambda h: h["hop"])[:max_drawn]
    added: list[str] = []
    with writing(case):
        for hop in hops:
            txid = hop["txid"]
            put_node(case, txid, "tx", {k: hop.get(k) for k in ("height", "time", "fee", "hop")})
            added.append(txid)
            when = hop.get("time")
            for i in hop["inputs"]:
                if i.get("tainted") and i.get("address"):
                    put_node_if_new(case, i["address"])
                    put_edge(case, i["address"], txid, i["tainted"], [[when, i["tainted"]]])
            for o in hop["outputs"]:
                if o.get("tainted") and o.get("address"):
                    put_node_if_new(case, o["address"])
                    put_edge(case, txid, o["address"], o["tainted"], [[when, o["tainted"]]])
        record_trace(case, result, len(hops))
    return {
        "drawn": len(hops),
        "hops": len(result["hops"]),
        "added": added,
        "services": result.get("services") or [],
        "deposits": _deposits(result),
        "truncated": bool(result.get("truncated")) or len(hops) < len(result["hops"]),
    }


def add_path(case: Case, result: dict) -> dict:
    """Draw a money path (`chain.analysis.shortest_path`): each step's transaction between
    the address it spent from and the one it paid."""
    ensure_tables(case)
    added: list[str] = []
    with writing(case):
        for step in result["steps"]:
            txid = step["txid"]
            put_node(case, txid, "tx", {"height": step["height"], "time": step["time"]})
            for address in (step["from"], step["to"]):
                put_node_if_new(case, address)
            when = step["time"]
            put_edge(case, step["from"], txid, step["from_amount"], [[when, step["from_amount"]]])
            put_edge(case, txid, step["to"], step["amount"], [[when, step["amount"]]])
            added += [step["from"], txid, step["to"]]
    return {"found": result["found"], "hops": result["hops"], "added": list(dict.fromkeys(added))}


def record_trace(case: Case, result: dict, drawn: int) -> None:
    """Keep a trace's result in the case (the report shows it), with how many hops it drew."""
    case.conn.execute(
        "INSERT INTO traces (target, direction, method, result, drawn, created, custody_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            result["target"],
            result["direction"],
            result["method"],
            json.dumps(result),
            drawn,
            time.time(),
            case.custody_id,
        ),
    )


def _deposits(result: dict) -> list[dict]:
    """For each service a trace reached: the address whose coins carried most of the traced
    money into the service's transaction (a customer's deposit: what to ask the service about)."""
    by_txid = {h["txid"]: h for h in result["hops"]}
    out: dict[tuple[str, str], dict] = {}
    for end in result.get("endpoints") or []:
        hop = by_txid.get(end.get("txid"))
        if end.get("kind") != "service" or hop is None:
            continue
        tainted = [i for i in hop["inputs"] if i.get("tainted") and i.get("address")]
        if not tainted:
            continue
        deposit = max(tainted, key=lambda i: i["tainted"])
        key = (end["label"], deposit["address"])
        entry = out.setdefault(
            key, {"service": end["label"], "deposit": deposit["address"], "amount": 0}
        )
        entry["amount"] += end.get("amount") or 0
    return sorted(out.values(), key=lambda d: -d["amount"])


def put_node_if_new(case: Case, address: str, kind: str = "address") -> None:
    """An address node, unless the graph has it already (its data is kept)."""
    case.conn.execute(
        "INSERT OR IGNORE INTO workspace_nodes (id, kind, data, added, custody_id)"
        " VALUES (?, ?, '{}', ?, ?)",
        (address, kind, time.time(), case.custody_id),
    )


def collapse_cluster(case: Case, address: str, labels: LabelBook | None = None) -> dict:
    """Draw the graph's addresses of an address's wallet cluster (`chain.cluster`, co-spend;
    clustered again first if the index grew since) as one node with the cluster's size."""
    if node_kind(case, address) != "address":
        raise InputError(f"{address!r} is not an address on the graph")
    known = case.get_meta("chain.cluster")
    tip = local_tip(case.conn)
    if known is None or tip is None or known.get("tip_height") != tip[0]:
        cluster(case, change=known.get("change", ()) if known else (), labels=labels)
    found = members(case, address, labels)
    if found["cluster"] is None:
        raise InputError(f"{address}: no other address was spent with it (a cluster of one)")
    node_id = f"cluster:{found['cluster']}"
    ids = {m["address"] for m in found["addresses"]}
    on_graph = [
        r[0]
        for r in case.conn.execute(
            "SELECT id FROM workspace_nodes WHERE kind = 'address' AND collapsed_into IS NULL"
        )
        if r[0] in ids
    ]
    data = {k: found[k] for k in ("size", "received", "balance", "labels")}
    with writing(case):
        put_node(case, node_id, "cluster", {**data, "drawn": len(on_graph)})
        case.conn.executemany(
            "UPDATE workspace_nodes SET collapsed_into = ? WHERE id = ?",
            [(node_id, a) for a in on_graph],
        )
    return {"node": node_id, "collapsed": on_graph, **data}


def uncollapse(case: Case, node_id: str) -> list[str]:
    """Draw a collapsed cluster's addresses again; which ones."""
    if node_kind(case, node_id) != "cluster":
        raise InputError(f"{node_id!r} is not a cluster node of the graph")
    with writing(case):
        shown = [
            r[0]
            for r in case.conn.execute(
                "SELECT id FROM workspace_nodes WHERE collapsed_into = ?", (node_id,)
            )
        ]
        case.conn.execute(
            "UPDATE workspace_nodes SET collapsed_into = NULL WHERE collapsed_into = ?", (node_id,)
        )
        case.conn.execute("DELETE FROM workspace_nodes WHERE id = ?", (node_id,))
        case.conn.execute(
            "DELETE FROM annotations WHERE target_kind = 'node' AND target = ?", (node_id,)
        )
    return shown


def save_layout(case: Case, positions: dict) -> int:
    """Store where nodes sit on the canvas ({id: [x, y]}); how many were on the graph."""
    ensure_tables(case)
    rows = []
    for node_id, where in positions.items():
        if (
            not isinstance(where, list | tuple)
            or len(where) != 2
            or not all(isinstance(v, int | float) for v in where)
        ):
            raise InputError(f"position of {node_id!r}: expected [x, y] numbers, got {where!r}")
        rows.append((float(where[0]), float(where[1]), str(node_id)))
    with writing(case):
        before = case.conn.total_changes
        case.conn.executemany("UPDATE workspace_nodes SET x = ?, y = ? WHERE id = ?", rows)
        return case.conn.total_changes - before


def save_picture(case: Case, png: bytes) -> dict:
    """Keep a picture of the graph as drawn (a PNG) for the report."""
    ensure_tables(case)
    if not png.startswith(PNG_SIGNATURE):
        raise InputError("picture: not a PNG image")
    if len(png) > MAX_PICTURE:
        raise InputError(f"picture: {len(png)} bytes, at most {MAX_PICTURE}")
    digest = hashlib.sha256(png).hexdigest()
    case.conn.execute(
        "INSERT INTO workspace_pictures (png, sha256, created, operator, custody_id)"
        " VALUES (?, ?, ?, ?, ?)",
        (png, digest, time.time(), case.operator, case.custody_id),
    )
    return {"sha256": digest, "size": len(png)}


def latest_picture(case: Case) -> dict | None:
    """The last picture kept of the graph: its PNG, SHA-256, time and who kept it."""
    ensure_tables(case)
    row = case.conn.execute(
        "SELECT png, sha256, created, operator FROM workspace_pictures ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return dict(row) if row else None


def _tags(tags) -> list[str]:
    """Tags checked: short strings, no duplicates, in the order given."""
    if not isinstance(tags, list):
        raise InputError(f"tags: expected a list of strings, got {tags!r}")
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise InputError(f"tag {tag!r}: expected a non-empty string")
        tag = tag.strip()
        if len(tag) > MAX_TAG:
            raise InputError(f"tag {tag[:20]!r}...: longer than {MAX_TAG} characters")
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise InputError(f"{len(out)} tags: at most {MAX_TAGS}")
    return out


def annotate(case: Case, target_kind: str, target: str, note: str, tags) -> dict | None:
    """Set the note and tags of a node or link of the graph (both empty: remove them)."""
    ensure_tables(case)
    table = {"node": "workspace_nodes", "edge": "workspace_edges"}.get(target_kind)
    if table is None:
        raise InputError(f"kind {target_kind!r}: expected node or edge")
    if not isinstance(note, str):
        raise InputError("note: expected text")
    if len(note) > MAX_NOTE:
        raise InputError(f"note: {len(note)} characters, at most {MAX_NOTE}")
    clean = _tags(tags)
    if case.conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (target,)).fetchone() is None:
        raise InputError(f"{target_kind} {target!r} is not on the graph")
    with writing(case):
        if not note.strip() and not clean:
            case.conn.execute(
                "DELETE FROM annotations WHERE target_kind = ? AND target = ?",
                (target_kind, target),
            )
            return None
        case.conn.execute(
            "INSERT OR REPLACE INTO annotations VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                target_kind,
                target,
                note.strip(),
                json.dumps(clean),
                time.time(),
                case.operator,
                case.custody_id,
            ),
        )
    return {"kind": target_kind, "target": target, "note": note.strip(), "tags": clean}


def list_annotations(case: Case) -> list[dict]:
    """Every annotation, nodes first, with the link's ends and amount for a link."""
    ensure_tables(case)
    rows = case.conn.execute(
        "SELECT a.*, e.source, e.target AS edge_target, e.amount, e.asset FROM annotations a"
        " LEFT JOIN workspace_edges e ON a.target_kind = 'edge' AND e.id = a.target"
        " ORDER BY a.target_kind DESC, a.target"
    )
    out = []
    for r in rows:
        item = {
            "kind": r["target_kind"],
            "target": r["target"],
            "note": r["note"],
            "tags": json.loads(r["tags"]),
            "updated": r["updated"],
            "operator": r["operator"],
        }
        if r["target_kind"] == "edge":
            # The report shows amount as bitcoin: a Tron link's (USDT, TRX) is given apart.
            btc = r["asset"] is None
            item.update(
                source=r["source"], to=r["edge_target"], amount=r["amount"] if btc else None
            )
            if not btc and r["amount"] is not None:
                item.update(asset=r["asset"], asset_amount=r["amount"])
        out.append(item)
    return out


def read_graph(case: Case) -> dict:
    """The whole workspace graph: nodes (with labels and notes) and links (with amounts).

    Addresses collapsed into a cluster are left out, their links drawn to the cluster
    node instead (parallel links summed, links inside the cluster dropped).
    """
    ensure_tables(case)
    notes = {(a["kind"], a["target"]): a for a in list_annotations(case)}
    nodes = []
    alias: dict[str, str] = {}
    for r in case.conn.execute(
        "SELECT n.*, l.name AS label, l.category, l.source AS label_source"
        " FROM workspace_nodes n LEFT JOIN chain_labels l ON l.address = n.id ORDER BY n.added"
    ):
        if r["collapsed_into"]:
            alias[r["id"]] = r["collapsed_into"]
            continue
        note = notes.get(("node", r["id"]))
        nodes.append(
            {
                "id": r["id"],
                "kind": r["kind"],
                "data": json.loads(r["data"]),
                "position": None if r["x"] is None else {"x": r["x"], "y": r["y"]},
                "expanded": bool(r["expanded"]),
                "label": r["label"],
                "category": r["category"],
                "label_source": r["label_source"],
                "note": note["note"] if note else "",
                "tags": note["tags"] if note else [],
            }
        )
    edges: dict[str, dict] = {}
    for r in case.conn.execute("SELECT * FROM workspace_edges ORDER BY added, id"):
        source, target = alias.get(r["source"], r["source"]), alias.get(r["target"], r["target"])
        if source == target:
            continue  # a payment inside a collapsed cluster
        edge_id = (
            r["id"]
            if (source, target) == (r["source"], r["target"])
            else f"{source}>{target}" + (f"#{r['asset']}" if r["asset"] else "")
        )
        edge = edges.get(edge_id)
        if edge is None:
            note = notes.get(("edge", edge_id))
            edge = edges[edge_id] = {
                "id": edge_id,
                "source": source,
                "target": target,
                "amount": 0,
                "asset": r["asset"],
                "times": None,
                "merged": 0,
                "note": note["note"] if note else "",
                "tags": note["tags"] if note else [],
            }
        edge["amount"] = (edge["amount"] or 0) + (r["amount"] or 0)
        if r["times"] is not None:
            edge["times"] = sorted((edge["times"] or []) + json.loads(r["times"]))
        edge["merged"] += 1
    return {"nodes": nodes, "edges": list(edges.values()), "view": read_view(case)}


def _date(value, name: str) -> str | None:
    """A YYYY-MM-DD date of the view, or None."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not DATE.fullmatch(value):
        raise InputError(f"{name} {value!r}: expected a date YYYY-MM-DD")
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{name} {value!r}: no such date") from None
    return value


def save_view(case: Case, view: dict) -> dict:
    """Keep how the graph is viewed: the time window of the links shown ({"from", "to"})."""
    ensure_tables(case)
    if not isinstance(view, dict):
        raise InputError("view: expected an object {from, to}")
    unknown = sorted(set(view) - {"from", "to"})
    if unknown:
        raise InputError(f"view: unknown setting {unknown[0]!r} (from, to)")
    clean = {"from": _date(view.get("from"), "from"), "to": _date(view.get("to"), "to")}
    if clean["from"] and clean["to"] and clean["from"] > clean["to"]:
        raise InputError(f"from {clean['from']} is after to {clean['to']}")
    case.set_meta("workspace.view", clean)
    return clean


def read_view(case: Case) -> dict:
    """The saved view of the graph (no window: both dates None)."""
    return case.get_meta("workspace.view") or {"from": None, "to": None}
