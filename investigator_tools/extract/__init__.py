"""Artefacts out of captured pages: addresses, keys, identities and leaks, one module per family.

`extract(case)` reads every capture not yet read, runs each family's extractor over it
and stores what they find in the case's `artefacts` table, each row pointing to the
capture (and so to its URL, time and SHA-256) it came from. Run it again after a new
crawl: only the new captures are read.

Families: addresses (Bitcoin, Monero, Ethereum), onions, contacts (emails, phones,
messengers), pgp (keys and signers), handles (usernames), analytics ids, exif (photos),
leaks (server-status, open directories, IP addresses).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..case import Capture, Case
from . import addresses, analytics, contacts, exif, handles, leaks, onions, pgp
from .base import Artefact, Document

VERSION = 1  # bump when an extractor changes: captures read by an older one are read again
EXTRACTORS = (
    addresses.find,
    onions.find,
    contacts.find,
    pgp.find,
    handles.find,
    analytics.find,
    exif.find,
    leaks.find,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS artefacts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,           -- btc_address, email, pgp_key, username, gps, server_ip...
    value TEXT NOT NULL,          -- as it appears
    normalized TEXT NOT NULL,     -- the form to compare on
    capture_id INTEGER NOT NULL REFERENCES captures(id),
    url TEXT NOT NULL,
    host TEXT NOT NULL,
    context TEXT,                 -- the text around it
    details TEXT NOT NULL,        -- JSON
    extracted_at REAL NOT NULL,
    UNIQUE (kind, normalized, capture_id)
);
CREATE INDEX IF NOT EXISTS idx_artefacts_value ON artefacts(kind, normalized);
CREATE INDEX IF NOT EXISTS idx_artefacts_capture ON artefacts(capture_id);
CREATE TABLE IF NOT EXISTS extracted (
    capture_id INTEGER PRIMARY KEY REFERENCES captures(id),
    version INTEGER NOT NULL,
    extracted_at REAL NOT NULL,
    found INTEGER NOT NULL
);
"""

__all__ = ["Artefact", "Document", "ExtractResult", "artefacts", "extract", "find", "summary"]


@dataclass
class ExtractResult:
    """What one extraction run did."""

    read: int = 0  # captures read this run
    added: int = 0  # new artefact rows
    by_kind: dict[str, int] = field(default_factory=dict)  # new rows per kind
    elapsed: float = 0.0

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return {
            "read": self.read,
            "added": self.added,
            "by_kind": self.by_kind,
            "elapsed": round(self.elapsed, 3),
        }


def document(capture: Capture) -> Document:
    """A capture as the extractors read it."""
    content_type = (capture.content_type or "").split(";")[0].strip().lower()
    # A photo served as octet-stream (or with no type) is still a photo with EXIF.
    if not content_type.startswith("image/"):
        if capture.body[:3] == b"\xff\xd8\xff":
            content_type = "image/jpeg"
        elif capture.body[:8] == b"\x89PNG\r\n\x1a\n":
            content_type = "image/png"
    return Document(capture.url, capture.host, content_type, capture.body)


def find(doc: Document) -> list[Artefact]:
    """Every artefact of one document, each (kind, normalized) once with all its sources."""
    merged: dict[tuple[str, str], Artefact] = {}
    for extractor in EXTRACTORS:
        for item in extractor(doc):
            key = (item.kind, item.normalized)
            first = merged.get(key)
            if first is None:
                merged[key] = item
                if "source" in item.details:
                    item.details["sources"] = [item.details["source"]]
                continue
            source = item.details.get("source")
            if source and source not in first.details.setdefault("sources", []):
                first.details["sources"].append(source)
    return list(merged.values())


def extract(
    case: Case,
    *,
    rescan: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ExtractResult:
    """Read every capture not read yet (all of them with rescan) into the artefacts table."""
    started = time.monotonic()
    case.ensure(SCHEMA)
    conn = case.conn
    if rescan:
        conn.execute("DELETE FROM artefacts")
        conn.execute("DELETE FROM extracted")
    todo = [
        row[0]
        for row in conn.execute(
            "SELECT c.id FROM captures c LEFT JOIN extracted e ON e.capture_id = c.id"
            " WHERE e.capture_id IS NULL OR e.version < ? ORDER BY c.id",
            (VERSION,),
        )
    ]
    # The investigator's own accounts (made by the crawler) are not the suspects' handles.
    own = {a["user"].lower() for a in case.get_meta("crawl_accounts", [])}
    result = ExtractResult()
    for number, capture_id in enumerate(todo, 1):
        row = conn.execute("SELECT * FROM captures WHERE id = ?", (capture_id,)).fetchone()
        capture = Capture(*(row[k] for k in Capture.__dataclass_fields__))
        found = [
            a for a in find(document(capture)) if not (a.kind == "username" and a.normalized in own)
        ]
        now = time.time()
        conn.execute("BEGIN")
        try:
            conn.execute("DELETE FROM artefacts WHERE capture_id = ?", (capture_id,))
            for item in found:
                conn.execute(
                    "INSERT OR IGNORE INTO artefacts (kind, value, normalized, capture_id, url,"
                    " host, context, details, extracted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        item.kind,
                        item.value,
                        item.normalized,
                        capture.id,
                        capture.url,
                        capture.host,
                        item.context,
                        json.dumps(item.details, sort_keys=True, default=str),
                        now,
                    ),
                )
                result.by_kind[item.kind] = result.by_kind.get(item.kind, 0) + 1
            conn.execute(
                "INSERT OR REPLACE INTO extracted (capture_id, version, extracted_at, found)"
                " VALUES (?, ?, ?, ?)",
                (capture_id, VERSION, now, len(found)),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        result.read += 1
        result.added += len(found)
        if progress:
            progress(number, len(todo))
    result.elapsed = time.monotonic() - started
    return result


def artefacts(case: Case, kind: str | Iterable[str] | None = None) -> list[dict]:
    """The stored artefacts (of one kind or several), with the capture's time and hash."""
    case.ensure(SCHEMA)
    query = (
        "SELECT a.*, c.fetched_at, c.sha256 FROM artefacts a JOIN captures c ON c.id = a.capture_id"
    )
    params: list = []
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        query += f" WHERE a.kind IN ({', '.join('?' * len(kinds))})"
        params = kinds
    rows = case.conn.execute(query + " ORDER BY a.kind, a.normalized, a.id", params)
    return [{**dict(r), "details": json.loads(r["details"])} for r in rows]


def summary(case: Case) -> list[dict]:
    """Per kind: how many sightings, distinct values and sites, and a few examples."""
    case.ensure(SCHEMA)
    rows = case.conn.execute(
        "SELECT kind, COUNT(*) AS sightings, COUNT(DISTINCT normalized) AS distinct_values,"
        " COUNT(DISTINCT host) AS sites FROM artefacts GROUP BY kind ORDER BY kind"
    ).fetchall()
    out = []
    for row in rows:
        examples = [
            r[0]
            for r in case.conn.execute(
                "SELECT normalized FROM artefacts WHERE kind = ? GROUP BY normalized"
                " ORDER BY COUNT(DISTINCT host) DESC, COUNT(*) DESC, normalized LIMIT 3",
                (row["kind"],),
            )
        ]
        out.append({**dict(row), "examples": examples})
    return out
