"""Report: `investigate report` started from the page (the toolkit's `write_report`), and
the HTML it wrote shown under its own strict policy."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, jsonify, render_template, send_file, url_for

from ..errors import InputError
from ..report import write_report
from .context import json_body, open_case

bp = Blueprint("reports", __name__, url_prefix="/report")

# The report is one self-contained file: inline styles, the graph as a data: picture.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; "
    "sandbox allow-popups"
)


def _folder(case) -> Path:
    """Where the report goes: <case name>-report beside the case file, as the CLI's default."""
    return case.path.with_name(f"{case.path.stem}-report")


@bp.get("/")
def page():
    """The report button, and the report written last, if any."""
    case = open_case()
    folder = _folder(case)
    return render_template(
        "report_page.html",
        folder=folder,
        written=(folder / "report.html").is_file(),
        pdf=(folder / "report.pdf").is_file(),
    )


@bp.post("/api/write")
def write():
    """Write the report (HTML, exports, graph; PDF if asked) beside the case file."""
    pdf = json_body().get("pdf", False)
    if not isinstance(pdf, bool):
        raise InputError("pdf: expected true or false")
    case = open_case("report" + (" --pdf" if pdf else ""))
    result = write_report(case, _folder(case), pdf=pdf)
    return jsonify(
        {
            **result.as_dict(),
            "view": url_for("reports.view"),
            "pdf_url": url_for("reports.pdf") if pdf else None,
        }
    )


@bp.get("/view")
def view():
    """The report's HTML as written."""
    path = _folder(open_case()) / "report.html"
    if not path.is_file():
        abort(404)
    response = Response(path.read_bytes(), mimetype="text/html")
    response.headers["Content-Security-Policy"] = REPORT_CSP
    return response


@bp.get("/report.pdf")
def pdf():
    """The PDF, if one was written."""
    path = _folder(open_case()) / "report.pdf"
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="application/pdf", as_attachment=True)
