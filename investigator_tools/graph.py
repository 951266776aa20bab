"""The case as a graph of entities and links: one model, drawn as HTML, GraphML and PNG.

`case_graph(case)` reads what the other commands stored in the case (captures, artefacts,
correlations, the chain index, labels, clusters, traces, exchange answers, sweeps) and
returns a networkx MultiDiGraph: one node per site, persona, PGP key, email, Bitcoin
address, shared identifier, cluster, service, transaction and KYC identity; one edge per
relation, keyed by its kind. Every node and edge carries its evidence (source URL,
capture time, SHA-256). Parts of the case that do not exist yet are simply absent.

`graph_render.write_graph` renders the model as an offline interactive page
(canvas, no network), GraphML for Gephi or Maltego (typed attributes) and a PNG.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .case import Case
from .errors import InputError

if TYPE_CHECKING:  # networkx is imported when a graph is built: `investigate --help` stays quick
    import networkx as nx

__all__ = [
    "EDGE_KINDS",
    "FORMATS",
    "NODE_TYPES",
    "case_graph",
    "graph_counts",
    "parse_formats",
    "stored_traces",
]

FORMATS = ("html", "graphml", "png")

# type -> (colour, what it is); the order is the legend's.
NODE_TYPES = {
    "site": ("#2f6fdf", "hidden service or .test site"),
    "persona": ("#e07b00", "handle on a site"),
    "pgp_key": ("#8e44ad", "PGP key"),
    "email": ("#c0392b", "email address"),
    "identifier": ("#7f8c8d", "identifier shared by sites"),
    "btc_address": ("#d4a017", "Bitcoin address"),
    "tron_address": ("#e8384f", "Tron address"),
    "cluster": ("#16a085", "wallet cluster"),
    "service": ("#1e8449", "exchange or labelled service"),
    "transaction": ("#566573", "transaction"),
    "identity": ("#e6007e", "KYC identity"),
}
# kind -> (colour, what it means)
EDGE_KINDS = {
    "found-on": ("#9aa7b8", "seen in a capture of the site"),
    "uses": ("#e0a060", "seen on a page the persona owns"),
    "pgp-uid": ("#a569bd", "email in the key's user id"),
    "shares-artefact": ("#e74c3c", "two sites or personas share an artefact"),
    "paid": ("#f39c12", "direct payment in the chain index"),
    "traced-flow": ("#d35400", "traced money flow (tainted amount)"),
    "member-of": ("#48c9b0", "address in a wallet cluster"),
    "labelled-as": ("#52be80", "address labelled as a service"),
    "kyc-identified-as": ("#ff2d95", "the exchange's KYC record for the subject"),
    "account-at": ("#f5a0c8", "customer of the exchange"),
    "kyc-matches": ("#ff2d95", "KYC detail equal to an artefact"),
    "swept": ("#117a65", "funds seized by a sweep"),
    "swap-order": ("#2e86c1", "a swap service's order: deposit on one chain, payout on the other"),
}
# Artefact kinds that become nodes of their own type, however often seen.
KEY_KINDS = {"pgp_key": "pgp_key", "pgp_signature": "pgp_key", "email": "email"}
PROFILE_SOURCES = {"url", "structure", "pgp_uid"}  # a username sighting that owns the page
EVIDENCE_KEPT = 25  # sightings written per node or edge into the HTML and GraphML
PAID_TXS_PER_ADDRESS = 2000  # bound the scan of a busy address (an exchange's hot wallet)


# -- small helpers ----------------------------------------------------------------------------


def _iso(timestamp: float | None) -> str | None:
    """A Unix time as an ISO 8601 UTC string."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _tables(conn: sqlite3.Connection) -> set[str]:
    """The names of the case's tables."""
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _short(text: str) -> str:
    """A label short enough for a drawing: long onions, addresses and hashes are cut."""
    if text.endswith(".onion") and len(text) > 30:
        return text[:12] + "….onion"
    if len(text) > 30 and " " not in text:
        return text[:10] + "…" + text[-6:]
    return text


def _json(text: str | None, default):
    """Parsed JSON, or default when the text is empty or not JSON."""
    if not text:
        return default
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default


# -- the model --------------------------------------------------------------------------------


class _Builder:
    """Collects nodes and edges, merging repeated sightings into one node or edge."""

    def __init__(self, conn: sqlite3.Connection):
        """Build on a case's connection."""
        self.conn = conn
        import networkx as nx

        self.tables = _tables(conn)
        self.g: nx.MultiDiGraph = nx.MultiDiGraph()
        self.profiles: dict[str, list[dict]] = defaultdict(list)  # persona -> own-page sightings

    def node(self, node_id: str, type_: str, label: str, **attrs) -> str:
        """Add a node (or complete an existing one); its id."""
        if node_id not in self.g:
            self.g.add_node(node_id, type=type_, label=label, evidence=[])
        data = self.g.nodes[node_id]
        for key, value in attrs.items():
            if value is not None and data.get(key) is None:
                data[key] = value
        return node_id

    def edge(
        self,
        source: str,
        target: str,
        kind: str,
        evidence: dict | None = None,
        key: str | None = None,
        **attrs,
    ):
        """Add an edge of a kind between two nodes, once; repeated calls add evidence."""
        if source == target:
            return
        key = key or kind
        if not self.g.has_edge(source, target, key=key):
            self.g.add_edge(source, target, key=key, kind=kind, evidence=[], count=0)
        data = self.g.edges[source, target, key]
        data["count"] += 1
        for key, value in attrs.items():
            if value is not None:
                data.setdefault(key, value)
        if evidence:
            data["evidence"].append(evidence)

    def evidence(self, node_id: str, item: dict) -> None:
        """Attach one piece of evidence to a node."""
        self.g.nodes[node_id]["evidence"].append(item)

    def has(self, *tables: str) -> bool:
        """Whether the case holds all these tables."""
        return all(t in self.tables for t in tables)


def case_graph(case: Case, traces: list[dict] | None = None) -> nx.MultiDiGraph:
    """The case's entities and their links, with evidence, as one graph.

    Traces stored in the case are drawn; `traces` adds results of `chain.trace.trace(...)
    .as_dict()` run in this session.
    """
    b = _Builder(case.conn)
    b.g.graph.update(
        case=str(case.path),
        generated_at=_iso(datetime.now(UTC).timestamp()),
        title=f"Case graph of {case.path.name}",
    )
    if b.has("captures"):
        _sites(b)
    if b.has("artefacts", "captures"):
        _artefacts(b)
    if b.has("correlations"):
        _correlations(b)
    _traces(b, stored_traces(case) + list(traces or []))
    if b.has("le_requests"):
        _requests(b)
    if b.has("sweeps"):
        _sweeps(b)
    if b.has("chain_addresses", "chain_outputs", "chain_inputs"):
        _chain(b)
    if b.has("swap_orders"):
        _swap_orders(b)
    if b.has("tron_sweeps"):
        _tron_sweeps(b)
    _tron_labels(b)
    for _, data in b.g.nodes(data=True):
        _summarise(data)
    for _, _, data in b.g.edges(data=True):
        _summarise(data)
    return b.g


def _summarise(data: dict) -> None:
    """Copy a node's or edge's first piece of evidence into plain attributes."""
    evidence = data.get("evidence") or []
    data["sightings"] = len(evidence)
    firsts = [e for e in evidence if e.get("sha256")]
    if firsts:
        first = min(firsts, key=lambda e: e.get("fetched_at") or "")
        data.setdefault("url", first.get("url"))
        data.setdefault("fetched_at", first.get("fetched_at"))
        data.setdefault("sha256", first.get("sha256"))


def _sighting(row) -> dict:
    """Evidence of an artefact or capture row: where, when, which hash."""
    row = dict(row)
    out = {
        "url": row["url"],
        "fetched_at": _iso(row["fetched_at"]),
        "sha256": row["sha256"],
        "capture_id": row["capture_id"],
    }
    context = row.get("context")
    if context:
        out["context"] = context[:200]
    return out


def _sites(b: _Builder) -> None:
    """One node per captured host, with how much was captured and when."""
    rows = b.conn.execute(
        "SELECT host, COUNT(*) AS n, MIN(fetched_at) AS first, MAX(fetched_at) AS last,"
        " SUM(size) AS bytes FROM captures GROUP BY host ORDER BY host"
    )
    for row in rows:
        host = row["host"]
        site = b.node(
            f"site:{host}",
            "site",
            _short(host),
            host=host,
            onion=host.endswith(".onion"),
            captures=row["n"],
            bytes=row["bytes"] or 0,
            first_capture=_iso(row["first"]),
            last_capture=_iso(row["last"]),
        )
        first = b.conn.execute(
            "SELECT id AS capture_id, url, fetched_at, sha256 FROM captures WHERE host = ?"
            " ORDER BY (url LIKE '%/') DESC, id LIMIT 1",
            (host,),
        ).fetchone()
        b.evidence(site, _sighting(first))


def _owners(rows: list) -> dict[int, set[str]]:
    """Capture id -> the personas (handle@host) whose page it is."""
    owners: dict[int, set[str]] = defaultdict(set)
    for row in rows:
        if row["kind"] != "username":
            continue
        details = _json(row["details"], {})
        sources = set(details.get("sources") or [details.get("source")])
        if sources & PROFILE_SOURCES:
            owners[row["capture_id"]].add(f"{row['normalized']}@{row['host']}")
    return owners


def _shared_families() -> dict[str, str]:
    """Artefact kind -> family, for identifiers that link sites (correlate's families)."""
    try:
        from .correlate import FAMILIES
    except ImportError:  # the correlation module is optional for drawing
        FAMILIES = {}
    skip = {"pgp_key", "email", "btc_address", "username"}
    return {
        kind: family for family, kinds in FAMILIES.items() if family not in skip for kind in kinds
    }


def _artefacts(b: _Builder) -> None:
    """PGP keys, emails, Bitcoin addresses, shared identifiers and the personas using them."""
    rows = b.conn.execute(
        "SELECT a.kind, a.value, a.normalized, a.capture_id, a.url, a.host, a.context,"
        " a.details, c.fetched_at, c.sha256 FROM artefacts a JOIN captures c"
        " ON c.id = a.capture_id ORDER BY a.id"
    ).fetchall()
    owners = _owners(rows)
    families = _shared_families()
    sites_of: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        if row["kind"] in families:
            sites_of[(families[row["kind"]], row["normalized"])].add(row["host"])
    for row in rows:
        if row["kind"] == "username" and row["capture_id"] in owners:
            persona = f"{row['normalized']}@{row['host']}"
            if persona in owners[row["capture_id"]]:
                b.profiles[persona].append(_sighting(row))
    for row in rows:
        kind = row["kind"]
        node = None
        if kind in KEY_KINDS:
            node = _key_node(b, row)
        elif kind == "btc_address":
            node = b.node(f"btc:{row['normalized']}", "btc_address", _short(row["normalized"]))
            b.g.nodes[node]["address"] = row["normalized"]
        elif kind in families and len(sites_of[(families[kind], row["normalized"])]) >= 2:
            family = families[kind]
            node = b.node(
                f"id:{family}:{row['normalized']}",
                "identifier",
                _short(row["value"]),
                family=family,
                value=row["normalized"],
            )
        if node is None:
            continue
        sighting = _sighting(row)
        b.evidence(node, sighting)
        b.edge(node, f"site:{row['host']}", "found-on", sighting)
        for persona in owners.get(row["capture_id"], ()):
            b.edge(_persona(b, persona), node, "uses", sighting)


def persona_id(persona: str) -> str:
    """The node id of a persona (handle@host)."""
    return f"persona:{persona}"


def _persona(b: _Builder, persona: str) -> str:
    """The node of a persona, tied to its site."""
    handle, _, host = persona.partition("@")
    node = persona_id(persona)
    if node not in b.g:
        b.node(node, "persona", f"{handle}@{_short(host)}", handle=handle, host=host)
        b.g.nodes[node]["evidence"].extend(b.profiles.get(persona, []))
    if f"site:{host}" in b.g:
        b.edge(node, f"site:{host}", "found-on")
    return node


def _key_node(b: _Builder, row) -> str:
    """The node of a PGP key (key or signature) or an email, with a key's user-id emails."""
    kind = KEY_KINDS[row["kind"]]
    if kind == "email":
        return _email(b, row["normalized"])
    details = _json(row["details"], {})
    fingerprint = details.get("fingerprint") or row["normalized"]
    node = b.node(
        f"pgp:{fingerprint.upper()}",
        "pgp_key",
        f"PGP {fingerprint[-16:]}",
        fingerprint=fingerprint.upper(),
        algorithm=details.get("algorithm"),
        created=details.get("created"),
    )
    for email in details.get("emails") or []:
        email_node = _email(b, email.lower())
        b.edge(node, email_node, "pgp-uid", _sighting(row))
    return node


def _email(b: _Builder, email: str) -> str:
    """The node of an email address."""
    local, _, domain = email.partition("@")
    return b.node(f"email:{email}", "email", f"{local}@{_short(domain)}", email=email)


def _correlations(b: _Builder) -> None:
    """An edge between every two personas (or sites) that share an artefact."""
    for row in b.conn.execute("SELECT * FROM correlations ORDER BY id"):
        personas = _json(row["personas"], [])
        sites = _json(row["sites"], [])
        evidence = _json(row["evidence"], [])
        by_site = {p.partition("@")[2] for p in personas}
        members = [_persona(b, p) for p in personas]
        # A site none of whose personas is known stands for itself.
        members += [f"site:{s}" for s in sites if s not in by_site and f"site:{s}" in b.g]
        members = sorted(set(members))
        for i, source in enumerate(members):
            for target in members[i + 1 :]:
                for item in evidence[:EVIDENCE_KEPT]:
                    b.edge(
                        source,
                        target,
                        "shares-artefact",
                        {k: item.get(k) for k in ("url", "fetched_at", "sha256", "context")},
                        key=f"shares-artefact:{row['family']}:{row['value']}",
                        family=row["family"],
                        value=row["value"],
                        strength=row["strength"],
                    )


def _btc(b: _Builder, address: str) -> str:
    """The node of a Bitcoin address."""
    node = b.node(f"btc:{address}", "btc_address", _short(address))
    b.g.nodes[node]["address"] = address
    return node


def _tron(b: _Builder, address: str) -> str:
    """The node of a Tron address."""
    node = b.node(f"tron:{address}", "tron_address", _short(address))
    b.g.nodes[node]["address"] = address
    return node


def _address_node(b: _Builder, chain: str | None, address: str) -> str:
    """The node of an address on either chain."""
    return _tron(b, address) if chain == "tron" else _btc(b, address)


def _service(b: _Builder, name: str, category: str | None = None, **attrs) -> str:
    """The node of an exchange or labelled service, by its name."""
    return b.node(f"service:{name.lower()}", "service", name, name=name, category=category, **attrs)


def _tx(b: _Builder, txid: str, **attrs) -> str:
    """The node of a transaction."""
    return b.node(f"tx:{txid}", "transaction", f"tx {txid[:10]}…", txid=txid, **attrs)


def stored_traces(case: Case) -> list[dict]:
    """Trace results kept in the case (a table of traces, each result as JSON), oldest first."""
    out = []
    tables = _tables(case.conn)
    for table in ("traces", "chain_traces"):
        if table not in tables:
            continue
        for row in case.conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
            record = dict(row)
            result = None
            for value in record.values():
                parsed = _json(value, None) if isinstance(value, str) else None
                if isinstance(parsed, dict) and "hops" in parsed:
                    result = parsed
                    break
            if result is None and "hops" in record:
                result = {**record, "hops": _json(record["hops"], [])}
                for key in ("endpoints", "start", "services"):
                    if isinstance(record.get(key), str):
                        result[key] = _json(record[key], [])
            if result is not None:
                result.setdefault("created", record.get("created") or record.get("created_at"))
                out.append(result)
    return out


def _crossed(results: list[dict]) -> list[dict]:
    """Traces with the traces they continued into across swap orders."""
    out = []
    for result in results:
        out.append(result)
        out += _crossed(
            [c["continued"] for c in result.get("cross_chain") or [] if c.get("continued")]
        )
    return out


def _tron_trace(b: _Builder, result: dict) -> None:
    """A Tron trace's transfers: address -> transaction -> address, with the tainted amounts."""
    method, target, asset = result.get("method"), result.get("target"), result.get("asset")
    for hop in result.get("hops") or []:
        if not hop.get("tainted"):
            continue
        tx = _tx(b, hop["txid"], chain="tron", time=_iso((hop.get("timestamp") or 0) / 1000))
        for end, is_from in (("from", True), ("to", False)):
            address = _tron(b, hop[end])
            if hop.get(f"{end}_label"):
                b.edge(address, _service(b, hop[f"{end}_label"]), "labelled-as")
            ends = (address, tx) if is_from else (tx, address)
            b.edge(
                *ends,
                "traced-flow",
                {"trace": target, "method": method, "hop": hop.get("hop"), "asset": asset},
                amount=int(hop["tainted"]),
                hop=int(hop.get("hop") or 0),
                method=method,
                trace=target,
                asset=asset,
            )


def _swap_orders(b: _Builder) -> None:
    """Swap orders: the deposit address -> the payout address, across chains."""
    for row in b.conn.execute("SELECT * FROM swap_orders ORDER BY host, order_id"):
        if not row["from_address"] or not row["to_address"]:
            continue
        evidence = {
            "host": row["host"],
            "order_id": row["order_id"],
            "created": row["created"],
            "from_txid": row["from_txid"],
            "to_txid": row["to_txid"],
        }
        b.edge(
            _address_node(b, row["from_chain"], row["from_address"]),
            _address_node(b, row["to_chain"], row["to_address"]),
            "swap-order",
            evidence,
            amount_in=row["from_amount"],
            amount_out=row["to_amount"],
            order_id=row["order_id"],
        )
        b.edge(
            _address_node(b, row["from_chain"], row["from_address"]),
            _service(b, row["host"], "swap"),
            "labelled-as",
        )


def _tron_sweeps(b: _Builder) -> None:
    """Tron sweeps: the swept address -> the sweep transaction -> the seizure address."""
    for row in b.conn.execute("SELECT * FROM tron_sweeps ORDER BY id"):
        evidence = {
            "txid": row["txid"],
            "status": row["status"],
            "fetched_at": _iso(row["created"]),
        }
        tx = _tx(b, row["txid"], sweep=True, chain="tron", status=row["status"])
        b.edge(
            _tron(b, row["from_address"]),
            tx,
            "swept",
            evidence,
            amount=row["amount"],
            asset=row["asset"],
        )
        b.edge(
            tx,
            _tron(b, row["to_address"]),
            "swept",
            evidence,
            amount=row["amount"],
            asset=row["asset"],
        )


def _tron_labels(b: _Builder) -> None:
    """Labels of the graph's Tron addresses (Tronscan's public tags and the analyst's)."""
    if not b.has("chain_labels"):
        return
    for node, data in list(b.g.nodes(data=True)):
        if data["type"] != "tron_address":
            continue
        row = b.conn.execute(
            "SELECT name, category FROM chain_labels WHERE address = ?", (data["address"],)
        ).fetchone()
        if row:
            b.edge(node, _service(b, row["name"], row["category"]), "labelled-as")


def _traces(b: _Builder, results: list[dict]) -> None:
    """Traced hops: address -> transaction -> address, with the tainted amounts."""
    for result in _crossed(results):
        if result.get("chain") == "tron":
            _tron_trace(b, result)
            continue
        method = result.get("method")
        target = result.get("target")
        for hop in result.get("hops") or []:
            tx = _tx(b, hop["txid"], height=hop.get("height"), time=_iso(hop.get("time")))
            if hop.get("fee") is not None:
                b.g.nodes[tx].setdefault("fee", hop["fee"])
            flows = [(i, True) for i in hop.get("inputs") or []]
            flows += [(o, False) for o in hop.get("outputs") or []]
            for item, is_input in flows:
                if not item.get("tainted") or not item.get("address"):
                    continue
                address = _btc(b, item["address"])
                if item.get("label"):
                    b.edge(address, _service(b, item["label"], item.get("category")), "labelled-as")
                ends = (address, tx) if is_input else (tx, address)
                b.edge(
                    *ends,
                    "traced-flow",
                    {"trace": target, "method": method, "hop": hop.get("hop")},
                    amount=int(item["tainted"]),
                    share=float(item.get("share") or 0.0),
                    hop=int(hop.get("hop") or 0),
                    method=method,
                    trace=target,
                )


def _answer(b: _Builder, capture_id: int | None) -> tuple[dict, dict | None]:
    """The exchange's answer (inner part) from its captured JSON, and the capture's evidence."""
    if capture_id is None:
        return {}, None
    row = b.conn.execute(
        "SELECT id AS capture_id, url, fetched_at, sha256, body FROM captures WHERE id = ?",
        (capture_id,),
    ).fetchone()
    if row is None:
        return {}, None
    body = _json(bytes(row["body"]).decode("utf-8", "replace"), {})
    return (body.get("answer") or {}) if isinstance(body, dict) else {}, _sighting(row)


def _requests(b: _Builder) -> None:
    """Exchange answers: the subject, the exchange, and the KYC identities disclosed."""
    for row in b.conn.execute("SELECT * FROM le_requests ORDER BY id"):
        answer, sighting = _answer(b, row["answer_capture_id"])
        exchange = answer.get("exchange") or {}
        service = _service(
            b, exchange.get("name") or row["exchange"], "exchange", domain=row["exchange"]
        )
        subject = row["subject"]
        subject_node = _tx(b, subject) if len(subject) == 64 else _btc(b, subject)
        for account in answer.get("accounts") or []:
            identity = _identity(b, row["exchange"], account, sighting)
            b.edge(
                subject_node,
                identity,
                "kyc-identified-as",
                sighting,
                exchange=exchange.get("name") or row["exchange"],
                reference=row["reference"],
                legal_basis=row["legal_basis"],
            )
            b.edge(identity, service, "account-at", sighting)
        if not answer.get("accounts") and row["status"]:
            b.g.nodes[subject_node].setdefault(
                "request_status", f"{row['exchange']}: {row['status']}"
            )


def _identity(b: _Builder, exchange: str, account: dict, sighting: dict | None) -> str:
    """The node of a KYC identity, linked to artefacts with the same email, phone or handle."""
    subscriber = account.get("subscriber") or {}
    name = subscriber.get("name") or account.get("account_id") or "unknown customer"
    node = b.node(
        f"identity:{exchange}:{account.get('account_id')}",
        "identity",
        name,
        exchange=exchange,
        account_id=account.get("account_id"),
        **{k: subscriber.get(k) for k in ("name", "birth_date", "nationality", "email", "phone")},
        username=subscriber.get("username"),
        document_number=subscriber.get("document_number"),
        address=", ".join(
            str(subscriber[k]) for k in ("street", "city", "country") if subscriber.get(k)
        )
        or None,
    )
    if sighting:
        b.evidence(node, sighting)
    email = (subscriber.get("email") or "").lower()
    if email and f"email:{email}" in b.g:
        b.edge(node, f"email:{email}", "kyc-matches", sighting, field="email")
    username = (subscriber.get("username") or "").lower()
    # Any profile of that handle on a captured site, even one not in the graph yet.
    for persona in sorted(b.profiles):
        if username and persona.partition("@")[0] == username:
            b.edge(node, _persona(b, persona), "kyc-matches", sighting, field="username")
    return node


def _sweeps(b: _Builder) -> None:
    """Sweeps: the swept addresses -> the sweep transaction -> the seizure address."""
    for row in b.conn.execute("SELECT * FROM sweeps ORDER BY id"):
        evidence = {
            "txid": row["txid"],
            "sha256": row["sha256"],
            "fetched_at": _iso(row["created"]),
            "status": row["status"],
        }
        tx = _tx(b, row["txid"], sweep=True, status=row["status"], fee=row["fee"])
        b.evidence(tx, evidence)
        for item in _json(row["inputs"], []):
            if item.get("address"):
                b.edge(_btc(b, item["address"]), tx, "swept", evidence, amount=item.get("value"))
        b.edge(tx, _btc(b, row["to_address"]), "swept", evidence, amount=row["amount"])


def _chain(b: _Builder) -> None:
    """Balances, clusters, labels and direct payments of the graph's Bitcoin addresses."""
    conn = b.conn
    ids: dict[int, str] = {}
    for node, data in list(b.g.nodes(data=True)):
        if data["type"] != "btc_address":
            continue
        row = conn.execute(
            "SELECT id, type FROM chain_addresses WHERE address = ?", (data["address"],)
        ).fetchone()
        if row is None:
            data["on_chain"] = False
            continue
        ids[row["id"]] = node
        received, sent, txs = conn.execute(
            "SELECT (SELECT coalesce(sum(value), 0) FROM chain_outputs WHERE address_id = :a),"
            " (SELECT coalesce(sum(value), 0) FROM chain_inputs WHERE address_id = :a),"
            " (SELECT count(*) FROM chain_outputs WHERE address_id = :a)",
            {"a": row["id"]},
        ).fetchone()
        data.update(
            on_chain=True,
            script=row["type"],
            received=received,
            balance=received - sent,
            outputs=txs,
        )
    if not ids:
        return
    labels = _labels(b, ids)
    if "chain_clusters" in b.tables:
        _clusters(b, ids, labels)
    _paid(b, ids, labels)


def _labels(b: _Builder, ids: dict[int, str]) -> dict[int, str]:
    """Label the graph's addresses; address id -> service node, for every labelled address."""
    services: dict[int, str] = {}
    if "chain_labels" not in b.tables:
        return services
    for row in b.conn.execute(
        "SELECT a.id, l.address, l.name, l.category, l.source, l.created FROM chain_labels l"
        " JOIN chain_addresses a ON a.address = l.address"
    ):
        service = f"service:{row['name'].lower()}"
        services[row["id"]] = service
        node = ids.get(row["id"])
        if node is not None:
            _service(b, row["name"], row["category"])
            b.edge(
                node,
                service,
                "labelled-as",
                {"label_source": row["source"], "fetched_at": _iso(row["created"])},
                label_source=row["source"],
            )
    return services


def _clusters(b: _Builder, ids: dict[int, str], labels: dict[int, str]) -> None:
    """Tie addresses to the wallet cluster they were last clustered into."""
    marks = ",".join("?" * len(ids))
    rows = b.conn.execute(
        f"SELECT address_id, cluster_id FROM chain_clusters WHERE address_id IN ({marks})",
        list(ids),
    ).fetchall()
    for address_id, cluster_id in rows:
        node = f"cluster:{cluster_id}"
        if node in b.g:  # a wallet's size and labels are read once, however many addresses
            b.edge(ids[address_id], node, "member-of")
            continue
        size = b.conn.execute(
            "SELECT count(*) FROM chain_clusters WHERE cluster_id = ?", (cluster_id,)
        ).fetchone()[0]
        names = sorted(
            {
                b.g.nodes[labels[a]]["label"] if labels[a] in b.g else labels[a].split(":", 1)[1]
                for (a,) in b.conn.execute(
                    "SELECT address_id FROM chain_clusters WHERE cluster_id = ?", (cluster_id,)
                )
                if a in labels
            }
        )
        b.node(
            node,
            "cluster",
            f"cluster {cluster_id} ({size})",
            size=size,
            cluster_id=cluster_id,
            labels=", ".join(names) or None,
        )
        b.edge(ids[address_id], node, "member-of")


def _paid(b: _Builder, ids: dict[int, str], labels: dict[int, str]) -> None:
    """Direct payments between the graph's addresses and to or from labelled services."""
    conn = b.conn
    blocks = "chain_blocks" in b.tables and "chain_txs" in b.tables
    for address_id, node in ids.items():
        spends = conn.execute(
            "SELECT DISTINCT tx_id FROM chain_inputs WHERE address_id = ? LIMIT ?",
            (address_id, PAID_TXS_PER_ADDRESS),
        ).fetchall()
        for (tx_id,) in spends:
            for out_id, value in conn.execute(
                "SELECT address_id, value FROM chain_outputs WHERE tx_id = ?", (tx_id,)
            ):
                target = ids.get(out_id)
                if target is None and out_id in labels and labels[out_id] in b.g:
                    target = labels[out_id]
                if target is None or out_id == address_id:
                    continue
                evidence = _chain_evidence(conn, tx_id) if blocks else None
                b.edge(node, target, "paid", evidence)
                data = b.g.edges[node, target, "paid"]
                data["amount"] = data.get("amount", 0) + value
    # Withdrawals from labelled services (exchange payouts) into the graph's addresses.
    if not labels:
        return
    for address_id, node in ids.items():
        for tx_id, value in conn.execute(
            "SELECT tx_id, value FROM chain_outputs WHERE address_id = ? LIMIT ?",
            (address_id, PAID_TXS_PER_ADDRESS),
        ).fetchall():
            payers = {
                labels[a]
                for (a,) in conn.execute(
                    "SELECT address_id FROM chain_inputs WHERE tx_id = ?", (tx_id,)
                )
                if a in labels and a not in ids and labels[a] in b.g
            }
            for service in payers:
                evidence = _chain_evidence(conn, tx_id) if blocks else None
                b.edge(service, node, "paid", evidence)
                data = b.g.edges[service, node, "paid"]
                data["amount"] = data.get("amount", 0) + value


def _chain_evidence(conn: sqlite3.Connection, tx_id: int) -> dict:
    """Where a transaction sits in the synced chain: txid, block, when the block was fetched."""
    row = conn.execute(
        "SELECT t.txid, t.height, b.hash, b.time, b.fetched_at FROM chain_txs t"
        " JOIN chain_blocks b ON b.height = t.height WHERE t.id = ?",
        (tx_id,),
    ).fetchone()
    if row is None:
        return {}
    return {
        "txid": row["txid"],
        "block": row["height"],
        "block_hash": row["hash"],
        "block_time": _iso(row["time"]),
        "fetched_at": _iso(row["fetched_at"]),
    }


def graph_counts(g: nx.MultiDiGraph) -> dict:
    """How many nodes of each type and edges of each kind."""
    nodes: dict[str, int] = defaultdict(int)
    edges: dict[str, int] = defaultdict(int)
    for _, data in g.nodes(data=True):
        nodes[data["type"]] += 1
    for _, _, data in g.edges(data=True):
        edges[data["kind"]] += 1
    return {
        "nodes": {t: nodes[t] for t in NODE_TYPES if nodes[t]},
        "edges": {k: edges[k] for k in EDGE_KINDS if edges[k]},
    }


def parse_formats(text: str | list[str] | tuple[str, ...]) -> list[str]:
    """The output formats asked for (comma-separated), checked."""
    items = text.split(",") if isinstance(text, str) else [p for t in text for p in t.split(",")]
    formats = []
    for item in items:
        item = item.strip().lower()
        if not item:
            continue
        if item not in FORMATS:
            raise InputError(f"--format {item!r}: one of {', '.join(FORMATS)}")
        if item not in formats:
            formats.append(item)
    if not formats:
        raise InputError(f"--format: name at least one of {', '.join(FORMATS)}")
    return formats
