"""The case report as a PDF (fpdf2): the same sections as the HTML, as real text.

The PDF uses the standard Helvetica font, so nothing is embedded or fetched and every word
can be searched and copied; characters outside Latin-1 are spelled the nearest way.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import WrapMode

from .chain.codec.amounts import format_btc

__all__ = ["write_pdf"]

SPELLED = {"…": "...", "→": "->", "←": "<-", "–": "-", "—": "-", "’": "'", "“": '"', "”": '"'}
ROWS_MAX = 5000  # rows per table in the PDF; the CSV exports have every row


def latin1(text) -> str:
    """Text the standard PDF fonts can show: Latin-1, other characters spelled or replaced."""
    text = "" if text is None else str(text)
    for char, spelled in SPELLED.items():
        text = text.replace(char, spelled)
    if all(ord(c) < 256 for c in text):
        return text
    text = unicodedata.normalize("NFKD", text)
    return text.encode("latin-1", "replace").decode("latin-1")


class _Pdf(FPDF):
    """A landscape A4 document with the case's name and page numbers in the footer."""

    def __init__(self, title: str):
        """A new document."""
        super().__init__(orientation="L", unit="mm", format="A4")
        self.case_title = latin1(title)
        self.set_auto_page_break(True, margin=14)
        self.set_title(self.case_title)
        self.set_creator("investigate report")

    def footer(self) -> None:
        """Case name and page number on every page."""
        self.set_y(-10)
        self.set_font("Helvetica", size=7)
        self.set_text_color(110)
        self.cell(0, 5, f"{self.case_title} - page {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0)

    def heading(self, text: str) -> None:
        """A section title."""
        self.ln(3)
        self.set_font("Helvetica", "B", 13)
        self.multi_cell(0, 7, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", size=8)

    def para(self, text: str, size: float = 8, bold: bool = False) -> None:
        """A paragraph."""
        self.set_font("Helvetica", "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", size=8)

    def grid(self, headings: list[str], rows: list[list], widths: list[float]) -> None:
        """A table; long hashes and URLs break anywhere rather than overflow."""
        if not rows:
            self.para("(none)")
            return
        self.set_font("Helvetica", size=6.5)
        with self.table(
            col_widths=widths,
            text_align="LEFT",
            line_height=3.2,
            wrapmode=WrapMode.CHAR,
            first_row_as_headings=True,
        ) as table:
            table.row([latin1(h) for h in headings])
            for values in rows[:ROWS_MAX]:
                table.row([latin1(v) for v in values])
        if len(rows) > ROWS_MAX:
            self.para(f"+ {len(rows) - ROWS_MAX} more rows in the CSV export")
        self.set_font("Helvetica", size=8)
        self.ln(2)


def write_pdf(data: dict, graph_png: Path, path: Path) -> Path:
    """Write the report data (report.collect) as a text PDF with the graph picture."""
    pdf = _Pdf(f"Case report: {data['case_name']}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(0, 9, pdf.case_title, new_x="LMARGIN", new_y="NEXT")
    pdf.para(
        f"Case file {data['case']} - generated {data['generated_at']} by {data['generated_by']}"
    )
    _integrity(pdf, data)
    _summary(pdf, data)
    pdf.heading("Chain of custody")
    pdf.grid(
        ["#", "Time", "Operator", "Command", "Captures"],
        [[e["id"], e["time"], e["operator"], e["command"], e["captures"]] for e in data["custody"]],
        [10, 38, 45, 169, 15],
    )
    pdf.heading("Captures")
    pdf.grid(
        ["#", "URL", "Captured", "Status", "Size", "SHA-256"],
        [
            [
                c["id"],
                c["url"] + (" [TAMPERED]" if c["tampered"] else ""),
                c["fetched_at"],
                c["status"],
                c["size"],
                c["sha256"],
            ]
            for c in data["captures"]
        ],
        [10, 110, 36, 12, 16, 93],
    )
    _artefacts(pdf, data)
    _correlations(pdf, data)
    _traces(pdf, data)
    _tron(pdf, data)
    _requests(pdf, data)
    pdf.heading("Sweeps")
    pdf.grid(
        ["Transaction", "Amount", "Destination", "Fee (sat)", "Status", "Time"],
        [
            [s["txid"], s["amount_btc"], s["to_address"], s["fee"], s["status"], s["created"]]
            for s in data["sweeps"]
        ],
        [80, 30, 70, 20, 30, 47],
    )
    pdf.heading("Graph")
    pdf.para(
        f"{data['graph']['nodes']} entities and {data['graph']['edges']} links; interactive "
        "version: graph.html, for Gephi or Maltego: graph.graphml."
    )
    if pdf.get_y() > 60:
        pdf.add_page()
    pdf.image(str(graph_png), w=pdf.epw, h=pdf.eph - 12, keep_aspect_ratio=True)
    pdf.heading("Exports")
    pdf.grid(
        ["Table", "Rows", "Files"],
        [[t["table"], t["rows"], f"data/{t['csv']}, data/{t['json']}"] for t in data["exports"]],
        [70, 25, 182],
    )
    pdf.output(str(path))
    return path


def _integrity(pdf: _Pdf, data: dict) -> None:
    """The verdict on the captures' hashes, first."""
    pdf.ln(2)
    if data["problems"]:
        pdf.set_text_color(160, 0, 0)
        pdf.para(
            f"TAMPERED: {len(data['problems'])} of {len(data['captures'])} captures do not match "
            "their SHA-256 any more.",
            10,
            True,
        )
        for problem in data["problems"]:
            pdf.para(f"- {problem}")
        pdf.set_text_color(0)
    elif data["captures"]:
        pdf.para(
            f"All {len(data['captures'])} captures verified: every stored body matches the "
            "SHA-256 taken when it was captured.",
            10,
            True,
        )
    else:
        pdf.para("No captures to verify yet.", 10, True)
    if data["empty"]:
        pdf.para(
            "Nothing in this case yet: no page captured, no chain synced, no request sent.", 10
        )


def _summary(pdf: _Pdf, data: dict) -> None:
    """The case in a few lines."""
    s, chain = data["summary"], data["chain"]
    pdf.heading("Summary")
    synced = (
        f"{chain['blocks']} blocks up to height {chain.get('tip')}, from {chain.get('explorer')}"
        if chain["blocks"]
        else "not synced"
    )
    for key, value in (
        ("Operator(s)", ", ".join(s["operators"]) or "none yet"),
        ("First command", s["opened"] or "none"),
        ("Last command", s["last_command"] or "none"),
        ("Commands logged", s["commands"]),
        ("Captures", f"{s['captures']} from {s['sites']} site(s)"),
        ("Artefacts", f"{s['distinct_artefacts']} distinct, {s['artefacts']} sightings"),
        ("Correlations", s["correlations"]),
        ("Chain index", synced),
        ("Traces", s["traces"]),
        ("Exchange requests", s["requests"]),
        ("Sweeps", s["sweeps"]),
    ):
        pdf.para(f"{key}: {value}")


def _artefacts(pdf: _Pdf, data: dict) -> None:
    """Artefacts with each sighting's URL, capture time and hash."""
    pdf.heading("Artefacts")
    rows = []
    for a in data["artefacts"]:
        for s in a["shown"]:
            rows.append([a["kind"], a["value"], s["url"], s["fetched_at"], s["sha256"]])
        if a["sightings"] > len(a["shown"]):
            more = a["sightings"] - len(a["shown"])
            rows.append([a["kind"], a["value"], f"+ {more} more sightings (CSV)", "", ""])
    pdf.grid(["Kind", "Value", "URL", "Captured", "SHA-256"], rows, [22, 60, 90, 32, 73])


def _correlations(pdf: _Pdf, data: dict) -> None:
    """Correlations, each with its evidence."""
    pdf.heading("Correlations")
    if not data["correlations"]:
        pdf.para("(none)")
    for c in data["correlations"]:
        pdf.para(f"{c['family']} {c['value']} ({c['strength']})", 9, True)
        pdf.para(f"Sites: {', '.join(c['sites'])}")
        pdf.para(f"Personas: {', '.join(c['personas']) or 'none known'}")
        pdf.grid(
            ["URL", "Captured", "SHA-256"],
            [[e.get("url"), e.get("fetched_at"), e.get("sha256")] for e in c["evidence"]],
            [130, 40, 107],
        )


def _tron(pdf: _Pdf, data: dict) -> None:
    """Tron: the index, traces as lines, swap orders and sweeps."""
    tron = data.get("tron") or {}
    if not (tron.get("blocks") or tron.get("traces") or tron.get("orders") or tron.get("sweeps")):
        return
    pdf.heading("Tron")
    if tron.get("blocks"):
        pdf.para(f"{tron['blocks']} blocks (tip {tron['tip']}), {tron['txs']} transactions")
    for t in tron.get("traces", []):
        pdf.para(t["title"], 9, True)
        for line in t["lines"]:
            pdf.para(line)
    for o in tron.get("orders", []):
        pdf.para(
            f"swap order {o['order_id']} at {o['host']}: {o['from_amount']} {o['from_asset']} "
            f"({o['from_chain']}) {o['from_address']} -> {o['to_amount']} {o['to_asset']} "
            f"({o['to_chain']}) {o['to_address']} {o['to_txid'] or ''}"
        )
    for s in tron.get("sweeps", []):
        pdf.para(
            f"sweep {s['txid']}: {s['amount_units']} {s['asset']} to {s['to_address']} ({s['status']})"
        )


def _traces(pdf: _Pdf, data: dict) -> None:
    """Traces: hops with tainted amounts, and the services reached."""
    pdf.heading("Traces")
    if not data["traces"]:
        pdf.para("(none)")
    for t in data["traces"]:
        pdf.para(
            f"{t['direction']} trace of {t['target']} ({t['method']}, up to {t['max_hops']} hops):"
            f" {format_btc(t['total'], unit=True)} traced",
            9,
            True,
        )
        reached = "; ".join(
            f"{s['label']}: {format_btc(s['amount'], unit=True)}" for s in t["services"]
        )
        pdf.para(f"Reached services: {reached or 'none'}")
        rows = []
        for h in t["hops"]:
            for side, items in (("in", h["ins"]), ("out", h["outs"])):
                for i in items:
                    label = f" [{i['label']}]" if i.get("label") else ""
                    rows.append(
                        [
                            h["hop"],
                            h["txid"],
                            side,
                            f"{i['address']}{label}",
                            format_btc(i["tainted"], unit=True),
                            f"{i['share'] * 100:.1f} %",
                        ]
                    )
        pdf.grid(
            ["Hop", "Transaction", "", "Address", "Tainted", "Share"],
            rows,
            [10, 95, 10, 95, 42, 25],
        )


def _requests(pdf: _Pdf, data: dict) -> None:
    """Exchange requests, answers and KYC identities."""
    pdf.heading("Exchange requests")
    if not data["requests"]:
        pdf.para("(none)")
    for r in data["requests"]:
        pdf.para(
            f"{r['exchange_name']} ({r['exchange']}) {r['reference'] or ''}: {r['status']}"
            + (f" ({r['reason']})" if r["reason"] else ""),
            9,
            True,
        )
        pdf.para(f"Subject {r['subject']}; asked for {r['requested']} ({r['legal_basis']})")
        pdf.para(f"Sent {r['submitted_at']}, request SHA-256 {r['request_sha256']}")
        pdf.para(f"Answered {r['answered_at']}, answer SHA-256 {r['answer_sha256']}")
        for a in r["accounts"]:
            sub = a["subscriber"]
            details = ", ".join(
                f"{k.replace('_', ' ')}: {sub[k]}"
                for k in ("birth_date", "nationality", "document_number", "email", "phone")
                if sub.get(k)
            )
            place = ", ".join(sub[k] for k in ("street", "city", "country") if sub.get(k))
            pdf.para(f"KYC identity: {sub.get('name') or a.get('account_id')}", 9, True)
            pdf.para(f"Account {a.get('account_id')}; {details}; {place}")
            if a.get("iban"):
                pdf.para(f"Bank account {a['iban']}")
