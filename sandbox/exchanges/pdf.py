"""A request and its answer as a PDF letter: letterhead, reference, request, answer tables."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from .clock import utc
from .policy import ASKS, LEGAL_BASES
from .text import MATCHES, STATUS, SUBSCRIBER_FIELDS

__all__ = ["answer_pdf"]

# A Unicode TrueType font when the system has one (customers' names are not all Latin-1);
# otherwise the PDF core font, with text folded to Latin-1.
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu")
NAVY = (16, 42, 84)
GREY = (96, 104, 112)
HEAD = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=NAVY)


class Letter(FPDF):
    """An A4 letter with the exchange's letterhead and a confidential footer."""

    def __init__(self, exchange: dict, reference: str):
        """Set up fonts, margins and the page-number footer."""
        super().__init__(format="A4")
        self.exchange, self.reference = exchange, reference
        self.family = self._fonts()
        self.set_margins(16, 16, 16)
        self.set_auto_page_break(True, margin=18)
        self.alias_nb_pages()

    def _fonts(self) -> str:
        """Register DejaVu Sans if installed and return the family to use."""
        for folder in map(Path, FONT_DIRS):
            regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
            if regular.is_file() and bold.is_file():
                self.add_font("DejaVu", "", str(regular))
                self.add_font("DejaVu", "B", str(bold))
                return "DejaVu"
        return "Helvetica"

    def text_of(self, value) -> str:
        """Any value as text the current font can render."""
        text = "" if value is None else str(value)
        if self.family == "DejaVu":
            return text
        folded = unicodedata.normalize("NFKD", text)
        return (
            "".join(c for c in folded if not unicodedata.combining(c))
            .encode("latin-1", "replace")
            .decode("latin-1")
        )

    def header(self):
        """The letterhead: name, domain and a rule, on every page."""
        self.set_fill_color(*NAVY)
        self.rect(0, 0, self.w, 6, "F")
        self.set_y(10)
        self.set_font(self.family, "B", 17)
        self.set_text_color(*NAVY)
        self.cell(0, 8, self.text_of(self.exchange["name"]), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, "", 8)
        self.set_text_color(*GREY)
        self.cell(
            0,
            4,
            self.text_of(
                f"Law Enforcement Response Team · {self.exchange['domain']} · "
                f"{self.exchange.get('email') or ''}"
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.set_draw_color(*NAVY)
        self.line(self.l_margin, self.get_y() + 2, self.w - self.r_margin, self.get_y() + 2)
        self.set_y(self.get_y() + 6)
        self.set_text_color(0, 0, 0)

    def footer(self):
        """Confidentiality line, reference and page number."""
        self.set_y(-13)
        self.set_font(self.family, "", 7)
        self.set_text_color(*GREY)
        self.cell(
            0,
            4,
            self.text_of(
                f"CONFIDENTIAL - law enforcement sensitive · {self.reference} · "
                f"page {self.page_no()}/{{nb}}"
            ),
            align="C",
        )

    def heading(self, text: str):
        """A section title."""
        self.ln(2)
        self.set_font(self.family, "B", 11)
        self.set_text_color(*NAVY)
        self.cell(0, 7, self.text_of(text), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)

    def para(self, text: str, size: float = 9):
        """A paragraph of wrapped text."""
        self.set_font(self.family, "", size)
        self.multi_cell(0, 4.6, self.text_of(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def pairs(self, rows: list[tuple[str, object]]):
        """A two-column label/value table."""
        self.set_font(self.family, "", 8.5)
        with self.table(
            col_widths=(45, 133),
            first_row_as_headings=False,
            line_height=5,
            padding=1,
            text_align="LEFT",
        ) as table:
            for label, value in rows:
                row = table.row()
                row.cell(self.text_of(label), style=FontFace(emphasis="BOLD"))
                row.cell(self.text_of(value))
        self.ln(1)

    def grid(self, headings: list[str], rows: list[list | str], widths: tuple[int, ...]):
        """A table with a heading row; a row that is a str spans every column (txids)."""
        self.set_font(self.family, "", 7)
        with self.table(
            col_widths=widths,
            headings_style=HEAD,
            line_height=3.6,
            padding=0.8,
            text_align="LEFT",
        ) as table:
            table.row([self.text_of(h) for h in headings])
            for values in rows:
                if isinstance(values, str):
                    table.row().cell(self.text_of(values), colspan=len(widths))
                else:
                    table.row([self.text_of(v) for v in values])
        self.ln(1)


def answer_pdf(stored: dict) -> bytes:
    """The PDF of one stored request and its answer."""
    request, answer = stored["request"], stored["answer"]
    pdf = Letter(answer["exchange"], answer["reference"])
    pdf.set_title(f"{answer['reference']} - response to {request.get('case_number', '')}")
    pdf.set_author(answer["exchange"]["name"])
    pdf.set_creation_date(datetime.fromtimestamp(answer["date"], UTC))
    pdf.add_page()
    pdf.pairs(
        [
            ("Our reference", answer["reference"]),
            ("Date", answer["date_utc"]),
            ("To", f"{request.get('officer_name', '')}, {request.get('agency', '')}"),
            ("Email", request.get("officer_email", "")),
            ("Your case number", request.get("case_number", "")),
        ]
    )
    pdf.heading("Request received")
    basis = request.get("legal_basis", "")
    pdf.pairs(
        [
            ("Legal basis", LEGAL_BASES.get(basis, basis)),
            ("Document reference", request.get("document_reference", "")),
            ("Subject", request.get("subject", "")),
            ("Requested", ", ".join(ASKS.get(a, a) for a in request.get("requested", []))),
            ("Details", request.get("details", "")),
        ]
    )
    pdf.heading(f"Answer: {STATUS.get(answer['status'], answer['status'])}")
    match = answer["subject"].get("match")
    if match:
        pdf.para(f"Subject identified as: {MATCHES.get(match, match)}.")
    pdf.para(answer["message"])
    for e in answer.get("errors", []):
        pdf.para(f"- {e['message']}")
    for r in answer.get("refused", []):
        pdf.para(f"Refused - {r['label']}: {r['reason']}")
    for note in answer.get("notes", []):
        pdf.para(f"Note: {note}")
    if answer.get("outputs"):
        pdf.heading("Outputs of the batched withdrawal")
        pdf.grid(
            ["#", "Address", "Amount"],
            [
                [
                    o["n"],
                    o["address"],
                    f"{o['amount']} {o['asset']}" if "asset" in o else f"{o['amount_btc']} BTC",
                ]
                for o in answer["outputs"]
            ],
            (12, 126, 40),
        )
    for acc in answer.get("accounts", []):
        _account(pdf, acc)
    pdf.ln(4)
    pdf.para(
        f"{answer['exchange']['name']} - Law Enforcement Response Team. This response is "
        "provided for the stated investigation only and must not be disclosed to the customer.",
        size=8,
    )
    return bytes(pdf.output())


def _account(pdf: Letter, acc: dict) -> None:
    """One customer account's sections."""
    pdf.heading(f"Account {acc['account_id']}")
    pdf.pairs(
        [
            ("Account id", acc["account_id"]),
            ("Opened", acc.get("opened_utc", "")),
            ("Tier / KYC level", f"{acc.get('tier') or ''} / {acc.get('kyc_level') or ''}"),
            ("Status", acc.get("status", "")),
        ]
    )
    if "subscriber" in acc:
        pdf.heading("Subscriber information (KYC)")
        sub = acc["subscriber"]
        rows = [(label, sub.get(key, "")) for key, label in SUBSCRIBER_FIELDS]
        rows.append(("Linked bank account (IBAN)", acc.get("bank_account", {}).get("iban")))
        pdf.pairs(rows)
    for key, title in (("deposits", "Deposits"), ("withdrawals", "Withdrawals")):
        if key in acc:
            pdf.heading(f"{title} ({len(acc[key])})")
            lines: list[list | str] = []
            for m in acc[key]:
                when = m["time_utc"].removesuffix(" UTC")
                lines += [[when, m["address"], m["amount_btc"], m["block_height"]], m["txid"]]
            pdf.grid(["Time (UTC) / txid", "Address", "BTC", "Block"], lines, (34, 100, 24, 20))
    for key, title, party in (
        ("tron_deposits", "Tron deposits", "From address"),
        ("tron_withdrawals", "Tron withdrawals", "To address"),
    ):
        if key in acc:
            pdf.heading(f"{title} ({len(acc[key])})")
            lines = []
            for m in acc[key]:
                when = m["time_utc"].removesuffix(" UTC")
                amount = f"{m['amount']} {m['asset']}"
                lines += [[when, m["counterparty"], amount, m["block"]], m["txid"]]
            pdf.grid(["Time (UTC) / txid", party, "Amount", "Block"], lines, (34, 90, 34, 20))
    if "logins" in acc:
        pdf.heading(f"Login history ({len(acc['logins'])})")
        pdf.grid(
            ["Time (UTC)", "IP address", "Country", "User agent"],
            [
                [utc(x["time"]).removesuffix(" UTC"), x["ip"], x["country"], x["user_agent"]]
                for x in acc["logins"]
            ],
            (30, 44, 14, 90),
        )
    if "freeze" in acc:
        pdf.pairs([("Freeze", f"{acc['freeze']['status']} since {acc['freeze']['since_utc']}")])
