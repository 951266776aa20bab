"""Evidence: the artefacts table, the captures (each opened in a frame that runs nothing)
and the chain of custody, read from the case with the toolkit's own readers."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template

from ..correlate import FAMILIES, correlate, stored_correlations
from ..errors import InputError
from ..extract import artefacts, extract
from ..report import utc
from .context import json_body, open_case

bp = Blueprint("evidence", __name__, url_prefix="/evidence")

# A capture is the suspects' page: in its frame nothing runs and nothing loads (pictures
# embedded as data: only), and it may be framed by the workspace alone.
CAPTURE_CSP = "default-src 'none'; img-src data:; frame-ancestors 'self'; sandbox"


@bp.get("/artefacts")
def artefacts_page():
    """The artefacts table (filled by evidence.js from the JSON below)."""
    return render_template("artefacts.html")


@bp.get("/api/artefacts")
def artefacts_json():
    """Every artefact sighting: kind, full value, where found, when, the capture's hash."""
    case = open_case()
    rows = [
        {
            "id": a["id"],
            "kind": a["kind"],
            "value": a["normalized"],
            "seen_as": a["value"],
            "url": a["url"],
            "host": a["host"],
            "capture_id": a["capture_id"],
            "fetched_at": utc(a["fetched_at"]),
            "sha256": a["sha256"],
            "context": a["context"] or "",
        }
        for a in artefacts(case)
    ]
    return jsonify({"artefacts": rows})


@bp.post("/api/extract")
def extract_now():
    """Read the captures not read yet (`investigate extract`)."""
    rescan = json_body().get("rescan", False)
    if not isinstance(rescan, bool):
        raise InputError("rescan: expected true or false")
    case = open_case("extract" + (" --rescan" if rescan else ""))
    return jsonify(extract(case, rescan=rescan).as_dict())


@bp.get("/captures")
def captures_page():
    """Every capture: URL, time, proxy, SHA-256, size."""
    case = open_case()
    rows = case.conn.execute(
        "SELECT id, url, host, fetched_at, status, content_type, sha256, size, via"
        " FROM captures ORDER BY id"
    ).fetchall()
    # Times stay Unix seconds: the template writes them in the page's language.
    return render_template("captures.html", captures=[dict(r) for r in rows])


@bp.get("/captures/<int:capture_id>")
def capture_page(capture_id: int):
    """One capture's details, its body shown in a sandboxed frame."""
    case = open_case()
    row = case.conn.execute(
        "SELECT id, url, host, fetched_at, status, content_type, sha256, size, via, custody_id"
        " FROM captures WHERE id = ?",
        (capture_id,),
    ).fetchone()
    if row is None:
        abort(404)
    return render_template("capture.html", capture=dict(row))


@bp.get("/captures/<int:capture_id>/body")
def capture_body(capture_id: int):
    """The stored bytes of a capture, under a CSP that lets nothing run or load."""
    case = open_case()
    row = case.conn.execute(
        "SELECT body, content_type FROM captures WHERE id = ?", (capture_id,)
    ).fetchone()
    if row is None:
        abort(404)
    content_type = row["content_type"] or "application/octet-stream"
    response = Response(bytes(row["body"]), content_type=content_type)
    response.headers["Content-Security-Policy"] = CAPTURE_CSP
    return response


@bp.get("/custody")
def custody_page():
    """The chain of custody, with the integrity check of every capture."""
    case = open_case()
    problems = case.verify()
    made = dict(case.conn.execute("SELECT custody_id, COUNT(*) FROM captures GROUP BY custody_id"))
    entries = [{**e, "captures": made.get(e["id"], 0)} for e in case.custody()]
    return render_template("custody.html", entries=entries, problems=problems)


@bp.get("/correlations")
def correlations_page():
    """Sites and personas linked by a shared artefact, with the evidence of each link."""
    return render_template("correlations.html", families=FAMILIES)


@bp.get("/api/correlations")
def correlations_json():
    """The links the last correlation stored."""
    return jsonify({"links": stored_correlations(open_case())})


@bp.post("/api/correlate")
def correlate_now():
    """Extract new captures and correlate again (`investigate correlate`); the links."""
    families = json_body().get("families") or None
    if families is not None and (
        not isinstance(families, list) or not all(f in FAMILIES for f in families)
    ):
        raise InputError(f"families: expected a list of {', '.join(FAMILIES)}")
    case = open_case("correlate" + "".join(f" --family {f}" for f in families or []))
    result = correlate(case, families=families)
    return jsonify({"links": stored_correlations(case), "clusters": result.clusters})
