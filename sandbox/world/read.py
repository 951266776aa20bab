"""Opening a world read-only and describing it (`sandbox info`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import WorldError
from .schema import SCHEMA_VERSION

COUNTED = ("blocks", "transactions", "addresses", "actors", "sites", "listings")


def open_world(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to a world file, or WorldError saying why not."""
    path = Path(path)
    if not path.is_file():
        raise WorldError(f"{path}: no such world file (build one with `sandbox build`)")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        rows = dict(conn.execute("SELECT key, value FROM meta"))
    except sqlite3.DatabaseError as e:
        raise WorldError(f"{path}: not a world file ({e})") from e
    if rows.get("format") != str(SCHEMA_VERSION):
        raise WorldError(
            f"{path}: world format {rows.get('format')!r}, this sandbox reads {SCHEMA_VERSION}"
        )
    if "digest" not in rows:
        raise WorldError(f"{path}: incomplete world (its build did not finish)")
    conn.row_factory = sqlite3.Row
    return conn


def world_info(path: str | Path) -> dict:
    """Scenario, seed, digest, row counts and the sites of a world."""
    conn = open_world(path)
    try:
        meta = {r["key"]: r["value"] for r in conn.execute("SELECT key, value FROM meta")}
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}
        sites = [
            dict(r)
            for r in conn.execute("SELECT id, name, kind, address FROM sites ORDER BY rowid")
        ]
    finally:
        conn.close()
    return {
        "path": str(path),
        "scenario": meta["scenario"],
        "title": meta["title"],
        "seed": int(meta["seed"]),
        "digest": meta["digest"],
        "tip_hash": meta.get("tip_hash"),
        "start_time": int(meta["start_time"]),
        "end_time": int(meta["end_time"]),
        "tor_latency": meta.get("tor_latency") == "1",
        "counts": counts,
        "sites": sites,
    }
