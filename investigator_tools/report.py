"""`investigate report`: the case written up as a self-contained HTML report, with exports.

The report opens with the integrity check of every capture (`Case.verify()`), then the
case summary, the chain of custody, the captures, the artefacts with their source URL,
capture time and SHA-256, the correlations with their evidence, traces, exchange requests
and answers, sweeps, the notes and tags written on `investigate ui`'s money graph, and the
case graph. Beside it: CSV and JSON exports of every table of
the case (capture bodies left out, referenced by their SHA-256), the graph as HTML,
GraphML and PNG, optionally a PDF, and SHA256SUMS of every file written.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from .case import Case
from .chain.codec.amounts import format_btc
from .correlate import stored_correlations
from .errors import InputError
from .graph import case_graph, graph_counts, stored_traces
from .graph_render import templates, write_graph
from .spreadsheet import safe_cell
from .workspace import latest_picture, list_annotations

__all__ = ["ReportResult", "collect", "export_tables", "write_report"]

SIGHTINGS_SHOWN = 10  # per artefact value in the HTML; the CSV has them all
TAMPERED = re.compile(r"^capture (\d+) ")


@dataclass
class ReportResult:
    """What a report run wrote, and what it found about the captures' integrity."""

    out: Path
    files: dict[str, Path] = field(default_factory=dict)
    tables: list[dict] = field(default_factory=list)
    captures: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return {
            "out": str(self.out),
            "files": {k: str(v) for k, v in self.files.items()},
            "tables": self.tables,
            "captures": self.captures,
            "verified": not self.problems,
            "problems": self.problems,
        }


def utc(timestamp: float | None) -> str:
    """A Unix time as a readable UTC time."""
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _tables(case: Case) -> list[str]:
    """The case's tables, in creation order."""
    return [
        r[0]
        for r in case.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY rowid"
        )
    ]


def _json(text, default):
    """Parsed JSON, or default."""
    if not text:
        return default
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default


# -- what the report says -----------------------------------------------------------------


def collect(case: Case, traces: list[dict] | None = None) -> dict:
    """Everything the report shows, read from the case (nothing is changed)."""
    tables = set(_tables(case))
    problems = case.verify()
    tampered = {int(m.group(1)) for p in problems if (m := TAMPERED.match(p))}
    captures = _captures(case, tampered)
    custody = _custody(case)
    all_traces = _flatten(stored_traces(case) + list(traces or []))
    data: dict = {
        "case": str(case.path),
        "case_name": case.path.name,
        "generated_at": utc(datetime.now(UTC).timestamp()),
        "generated_by": case.operator,
        "problems": problems,
        "tampered": sorted(tampered),
        "captures": captures,
        "custody": custody,
        "artefacts": _artefacts(case, tampered) if "artefacts" in tables else [],
        "unextracted": _unextracted(case, tables),
        "correlations": _correlations(case) if "correlations" in tables else [],
        "chain": _chain(case, tables),
        "traces": [_trace(t) for t in all_traces if t.get("chain") != "tron"],
        "tron": _tron(case, tables, [t for t in all_traces if t.get("chain") == "tron"]),
        "requests": _requests(case) if "le_requests" in tables else [],
        "sweeps": _sweeps(case) if "sweeps" in tables else [],
        "annotations": _annotations(case) if "annotations" in tables else [],
        "picture": _picture(case) if "workspace_pictures" in tables else None,
    }
    operators = sorted({e["operator"] for e in custody})
    data["summary"] = {
        "operators": operators,
        "opened": custody[0]["time"] if custody else "",
        "last_command": custody[-1]["time"] if custody else "",
        "commands": len(custody),
        "captures": len(captures),
        "sites": len({c["host"] for c in captures}),
        "artefacts": sum(a["sightings"] for a in data["artefacts"]),
        "distinct_artefacts": len(data["artefacts"]),
        "correlations": len(data["correlations"]),
        "traces": len(data["traces"]) + len(data["tron"]["traces"]),
        "requests": len(data["requests"]),
        "sweeps": len(data["sweeps"]),
    }
    data["empty"] = not (
        captures
        or data["chain"]["blocks"]
        or data["tron"]["blocks"]
        or data["requests"]
        or data["sweeps"]
    )
    return data


def _custody(case: Case) -> list[dict]:
    """The chain of custody with, for each command, how many captures it took."""
    made: dict[int, int] = defaultdict(int)
    for custody_id, n in case.conn.execute(
        "SELECT custody_id, COUNT(*) FROM captures GROUP BY custody_id"
    ):
        made[custody_id] = n
    return [
        {**entry, "time": utc(entry["time"]), "captures": made.get(entry["id"], 0)}
        for entry in case.custody()
    ]


def _captures(case: Case, tampered: set[int]) -> list[dict]:
    """Every capture without its body, flagged when its body no longer matches its hash."""
    rows = case.conn.execute(
        "SELECT id, url, host, fetched_at, status, content_type, sha256, size, via, custody_id"
        " FROM captures ORDER BY id"
    )
    return [
        {**dict(r), "fetched_at": utc(r["fetched_at"]), "tampered": r["id"] in tampered}
        for r in rows
    ]


def _artefacts(case: Case, tampered: set[int]) -> list[dict]:
    """Each distinct artefact (kind, value) with every sighting: URL, capture time, SHA-256."""
    rows = case.conn.execute(
        "SELECT a.kind, a.value, a.normalized, a.capture_id, a.url, a.host, a.context,"
        " c.fetched_at, c.sha256 FROM artefacts a JOIN captures c ON c.id = a.capture_id"
        " ORDER BY a.kind, a.normalized, c.fetched_at, a.id"
    )
    grouped: dict[tuple[str, str], dict] = {}
    for r in rows:
        item = grouped.setdefault(
            (r["kind"], r["normalized"]),
            {"kind": r["kind"], "value": r["normalized"], "sites": set(), "seen": []},
        )
        item["sites"].add(r["host"])
        item["seen"].append(
            {
                "url": r["url"],
                "fetched_at": utc(r["fetched_at"]),
                "sha256": r["sha256"],
                "capture_id": r["capture_id"],
                "context": (r["context"] or "")[:240],
                "tampered": r["capture_id"] in tampered,
            }
        )
    out = []
    for item in grouped.values():
        out.append(
            {
                "kind": item["kind"],
                "value": item["value"],
                "sites": sorted(item["sites"]),
                "sightings": len(item["seen"]),
                "shown": item["seen"][:SIGHTINGS_SHOWN],
                "tampered": any(s["tampered"] for s in item["seen"]),
            }
        )
    # Artefacts seen on several sites first: they are what ties the case together.
    out.sort(key=lambda a: (a["kind"], -len(a["sites"]), a["value"]))
    return out


def _unextracted(case: Case, tables: set[str]) -> int:
    """Captures not read by the extractors yet."""
    if "extracted" not in tables:
        return case.conn.execute("SELECT COUNT(*) FROM captures").fetchone()[0]
    return case.conn.execute(
        "SELECT COUNT(*) FROM captures c LEFT JOIN extracted e ON e.capture_id = c.id"
        " WHERE e.capture_id IS NULL"
    ).fetchone()[0]


def _correlations(case: Case) -> list[dict]:
    """The stored correlations with their evidence."""
    return [
        {
            **c,
            "evidence": [
                {**e, "fetched_at": (e.get("fetched_at") or "").replace("T", " ")[:19]}
                for e in c["evidence"]
            ],
            "computed_at": utc(c["computed_at"]),
        }
        for c in stored_correlations(case)
    ]


def _chain(case: Case, tables: set[str]) -> dict:
    """The local chain index: how far it goes, where it came from, labels and clustering."""
    info = {"blocks": 0, "labels": [], "explorer": None, "cluster": None}
    if "chain_blocks" not in tables:
        return info
    row = case.conn.execute(
        "SELECT COUNT(*), MAX(height), MAX(fetched_at) FROM chain_blocks"
    ).fetchone()
    info.update(blocks=row[0], tip=row[1], synced_at=utc(row[2]))
    if "chain_txs" in tables:
        info["txs"] = case.conn.execute("SELECT COUNT(*) FROM chain_txs").fetchone()[0]
    if "meta" in tables:
        info["explorer"] = (case.get_meta("chain.explorer") or {}).get("url")
        info["cluster"] = case.get_meta("chain.cluster")
    if "chain_labels" in tables:
        info["labels"] = [
            {**dict(r), "created": utc(r["created"])}
            for r in case.conn.execute(
                "SELECT address, name, category, source, created FROM chain_labels"
                " ORDER BY source, name, address"
            )
        ]
    return info


def _flatten(results: list[dict]) -> list[dict]:
    """Traces with those they continued into across swap orders (each shown on its own)."""
    out = []
    for result in results:
        out.append(result)
        out += _flatten(
            [c["continued"] for c in result.get("cross_chain") or [] if c.get("continued")]
        )
    return out


def _tron(case: Case, tables: set[str], traces: list[dict]) -> dict:
    """The Tron index, Tron traces (as text lines), swap orders and Tron sweeps."""
    from .tron.analysis import units
    from .tron.report import trace_lines

    info: dict = {"blocks": 0, "traces": [], "orders": [], "sweeps": []}
    info["traces"] = [{"title": trace_lines(t)[0], "lines": trace_lines(t)[1:]} for t in traces]
    if "tron_blocks" in tables:
        row = case.conn.execute(
            "SELECT COUNT(*), MAX(number), MAX(fetched_at) FROM tron_blocks"
        ).fetchone()
        info.update(blocks=row[0], tip=row[1], synced_at=utc(row[2]))
        info["txs"] = case.conn.execute("SELECT COUNT(*) FROM tron_txs").fetchone()[0]
        info["node"] = (case.get_meta("tron.node") or {}).get("url")
    if "swap_orders" in tables:
        info["orders"] = [
            dict(r) for r in case.conn.execute("SELECT * FROM swap_orders ORDER BY host, order_id")
        ]
    if "tron_sweeps" in tables:
        info["sweeps"] = [
            {**dict(r), "created": utc(r["created"]), "amount_units": units(r["amount"])}
            for r in case.conn.execute(
                "SELECT id, txid, from_address, to_address, asset, amount, status, block, error,"
                " created FROM tron_sweeps ORDER BY id"
            )
        ]
    return info


def _trace(result: dict) -> dict:
    """A trace as the report shows it: its hops with tainted amounts, and where it ended."""
    hops = []
    for hop in result.get("hops") or []:
        hops.append(
            {
                **hop,
                "time": utc(hop.get("time")) if hop.get("time") else "",
                "ins": [i for i in hop.get("inputs") or [] if i.get("tainted")],
                "outs": [o for o in hop.get("outputs") or [] if o.get("tainted")],
            }
        )
    services = result.get("services")
    if services is None:
        by: dict[str, dict] = {}
        for e in result.get("endpoints") or []:
            if e.get("kind") == "service":
                s = by.setdefault(e["label"], {"label": e["label"], "amount": 0})
                s["amount"] += e.get("amount") or 0
        services = sorted(by.values(), key=lambda s: -s["amount"])
    return {
        "target": result.get("target"),
        "direction": result.get("direction"),
        "method": result.get("method"),
        "max_hops": result.get("max_hops"),
        "total": result.get("total"),
        "truncated": result.get("truncated"),
        "created": utc(result["created"]) if isinstance(result.get("created"), float) else "",
        "hops": hops,
        "endpoints": result.get("endpoints") or [],
        "services": services,
    }


def _requests(case: Case) -> list[dict]:
    """Every exchange request with what the exchange answered (KYC identities included)."""
    out = []
    for r in case.conn.execute(
        "SELECT q.*, c.sha256 AS answer_sha256, c.fetched_at AS answered_at, c.body AS answer"
        " FROM le_requests q LEFT JOIN captures c ON c.id = q.answer_capture_id ORDER BY q.id"
    ):
        body = _json(bytes(r["answer"]).decode("utf-8", "replace") if r["answer"] else "", {})
        answer = (body.get("answer") or {}) if isinstance(body, dict) else {}
        accounts = []
        for account in answer.get("accounts") or []:
            accounts.append(
                {
                    **account,
                    "subscriber": account.get("subscriber") or {},
                    "iban": (account.get("bank_account") or {}).get("iban"),
                }
            )
        out.append(
            {
                "id": r["id"],
                "exchange": r["exchange"],
                "exchange_name": (answer.get("exchange") or {}).get("name") or r["exchange"],
                "subject": r["subject"],
                "requested": ", ".join(_json(r["requested"], [])),
                "legal_basis": r["legal_basis"],
                "case_number": r["case_number"],
                "submitted_at": utc(r["submitted_at"]),
                "request_sha256": r["request_sha256"],
                "http_status": r["http_status"],
                "reference": r["reference"],
                "status": r["status"],
                "reason": r["reason"],
                "message": answer.get("message"),
                "accounts": accounts,
                "refused": answer.get("refused") or [],
                "answer_sha256": r["answer_sha256"],
                "answered_at": utc(r["answered_at"]),
                "answer_capture_id": r["answer_capture_id"],
            }
        )
    return out


def _sweeps(case: Case) -> list[dict]:
    """Every sweep: txid, amount, destination, fee, status."""
    return [
        {
            **dict(r),
            "created": utc(r["created"]),
            "inputs": _json(r["inputs"], []),
            "amount_btc": format_btc(r["amount"], unit=True),
        }
        for r in case.conn.execute(
            "SELECT id, txid, sha256, to_address, amount, fee, fee_rate, vsize, inputs,"
            " key_source, explorer, status, error, created FROM sweeps ORDER BY id"
        )
    ]


def _annotations(case: Case) -> list[dict]:
    """The notes and tags written on the workspace's money graph."""
    return [{**a, "updated": utc(a["updated"])} for a in list_annotations(case)]


def _picture(case: Case) -> dict | None:
    """The last picture of the workspace's graph, as a data: URL with its hash and time."""
    kept = latest_picture(case)
    if kept is None:
        return None
    return {
        "src": "data:image/png;base64," + base64.b64encode(kept["png"]).decode("ascii"),
        "sha256": kept["sha256"],
        "created": utc(kept["created"]),
        "operator": kept["operator"],
    }


# -- exports ------------------------------------------------------------------------------


def _cell(value):
    """A value as a CSV cell: blobs become their SHA-256 (they are evidence, not text)."""
    if isinstance(value, bytes | memoryview):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    return value


def export_tables(case: Case, out: Path, bodies: bool = False) -> list[dict]:
    """Every table of the case as CSV and JSON; capture bodies left out (or saved by hash)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in _tables(case):
        info = case.conn.execute(f'PRAGMA table_info("{table}")').fetchall()
        keep = [r[1] for r in info if not (table == "captures" and r[1] == "body")]
        select = ", ".join(f'"{c}"' for c in keep)
        # Primary-key order (WITHOUT ROWID tables have no rowid to sort on).
        key = [f'"{r[1]}"' for r in sorted(info, key=lambda r: r[5]) if r[5]] or ["rowid"]
        csv_path, json_path = out / f"{table}.csv", out / f"{table}.json"
        rows = 0
        with (
            csv_path.open("w", newline="", encoding="utf-8") as csv_file,
            json_path.open("w", encoding="utf-8") as json_file,
        ):
            writer = csv.writer(csv_file)
            writer.writerow(keep)
            json_file.write("[")
            cursor = case.conn.execute(f'SELECT {select} FROM "{table}" ORDER BY {", ".join(key)}')
            while batch := cursor.fetchmany(5000):
                for row in batch:
                    values = [_cell(v) for v in row]
                    writer.writerow([safe_cell(v) for v in values])  # the JSON keeps them raw
                    json_file.write(
                        ("\n" if rows == 0 else ",\n")
                        + json.dumps(dict(zip(keep, values, strict=True)), ensure_ascii=False)
                    )
                    rows += 1
            json_file.write("\n]\n")
        written.append({"table": table, "rows": rows, "csv": csv_path.name, "json": json_path.name})
    if bodies:
        folder = out / "captures"
        folder.mkdir(exist_ok=True)
        for sha256, body in case.conn.execute("SELECT sha256, body FROM captures"):
            (folder / sha256).write_bytes(body)
    return written


def _checksums(out: Path) -> Path:
    """SHA256SUMS of every file in the report folder (sha256sum -c checks them)."""
    lines = []
    for path in sorted(p for p in out.rglob("*") if p.is_file() and p.name != "SHA256SUMS"):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(out).as_posix()}")
    target = out / "SHA256SUMS"
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


# -- writing ------------------------------------------------------------------------------


def write_report(
    case: Case,
    out: str | Path,
    *,
    pdf: bool = False,
    bodies: bool = False,
    traces: list[dict] | None = None,
) -> ReportResult:
    """Write report.html (and report.pdf), the graph and the exports of every table into out."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: not a folder")
    out.mkdir(parents=True, exist_ok=True)
    data = collect(case, traces)
    g = case_graph(case, traces)
    files = {f"graph_{k}": v for k, v in write_graph(case, out, g=g).items()}
    data["graph"] = {
        "counts": graph_counts(g),
        "nodes": g.number_of_nodes(),
        "edges": g.number_of_edges(),
        "png": "data:image/png;base64,"
        + base64.b64encode(files["graph_png"].read_bytes()).decode("ascii"),
    }
    data["exports"] = export_tables(case, out / "data", bodies=bodies)
    data["bodies"] = bodies
    files["html"] = _write_html(data, out / "report.html")
    if pdf:
        from .report_pdf import write_pdf

        files["pdf"] = write_pdf(data, files["graph_png"], out / "report.pdf")
    files["sha256sums"] = _checksums(out)
    return ReportResult(
        out=out,
        files=files,
        tables=data["exports"],
        captures=len(data["captures"]),
        problems=data["problems"],
    )


def _write_html(data: dict, path: Path) -> Path:
    """The HTML report: one file, inline CSS, the graph embedded as a PNG."""
    env = templates()
    env.filters["btc"] = partial(format_btc, unit=True)
    env.filters["short"] = lambda s, n=24: s if not s or len(s) <= n else s[: n - 8] + "…" + s[-6:]
    css = (Path(__file__).parent / "static" / "report.css").read_text(encoding="utf-8")
    page = env.get_template("report.html").render(css=css, sightings_shown=SIGHTINGS_SHOWN, **data)
    path.write_text(page, encoding="utf-8")
    return path
