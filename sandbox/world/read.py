"""Checking a world before serving it, and describing it (`sandbox info`).

`open_world` lives in store.py, the owner of world.db's reads; it is imported here too for
the callers that open a world to hand its connection to a store function.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from pathlib import Path

from ..errors import WorldError
from .digest import world_digest
from .schema import SCHEMA_VERSION, create_tables
from .store import open_world

COUNTED = ("blocks", "transactions", "addresses", "actors", "sites", "listings")


def verify_world(path: str | Path, *, digest: bool = True) -> None:
    """Refuse a damaged world, or one of another schema, with a one-line WorldError saying
    how to rebuild it.

    Run before serving: PRAGMA quick_check finds broken pages (a truncated copy), the
    stored digest (unless ``digest`` is False: it reads every row, seconds on a large
    world) finds changed rows, and every table and column of this version's schema must be
    there (a world built before a table was added would fail on its first page view).
    """
    path = Path(path)
    if not path.is_file():
        raise WorldError(f"{path}: no such world file (build one with `sandbox build`)")
    meta: dict[str, str] = {}
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            meta = dict(conn.execute("SELECT key, value FROM meta"))
            problem = _damage(conn) or _schema_gap(conn, meta)
        finally:
            conn.close()
        if problem is None and digest and not _digest_holds(path, meta.get("digest")):
            problem = "damaged: its content does not match its digest"
    except sqlite3.DatabaseError as e:
        problem = f"damaged or not a world file ({e})"
    if problem is not None:
        raise WorldError(f"{path}: {problem}; rebuild it: {_rebuild_command(path, meta)}")


def _verified_file() -> Path:
    """Where the worlds whose digest was last recomputed are noted, per user."""
    cache = os.environ.get("XDG_CACHE_HOME")
    return (Path(cache) if cache else Path.home() / ".cache") / "darkweb-sandbox" / "verified.json"


def _digest_holds(path: Path, digest: str | None) -> bool:
    """Whether the world's rows still give its stored digest.

    Recomputing reads every row (seconds on a large world), so a file whose size, inode
    and modification time are those of its last good check is taken as unchanged: a
    restart stays fast, and any write to the file since (a copy, a damaged byte) is
    hashed again.
    """
    st = path.stat()
    mark = [digest, st.st_size, st.st_ino, st.st_mtime_ns]
    noted = _verified_file()
    try:
        seen = json.loads(noted.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        seen = {}
    if not isinstance(seen, dict):
        seen = {}
    key = str(path.resolve())
    if seen.get(key) == mark:
        return True
    if digest != world_digest(path):
        return False
    seen[key] = mark
    with contextlib.suppress(OSError):  # a read-only home only costs the next start time
        noted.parent.mkdir(parents=True, exist_ok=True)
        tmp = noted.with_name(f"{noted.name}.{os.getpid()}")
        tmp.write_text(json.dumps(seen), encoding="utf-8")
        os.replace(tmp, noted)
    return True


def _rebuild_command(path: Path, meta: dict[str, str]) -> str:
    """The `sandbox build` command that makes the world again, as far as its meta tells."""
    from ..scenario.loader import builtin_scenarios

    name = meta.get("scenario")
    seed = f" --seed {meta['seed']}" if meta.get("seed", "").isdigit() else ""
    if name in builtin_scenarios():
        return f"sandbox build {name}{seed} --out {path}"
    which = f" (the file of scenario {name!r})" if name else ""
    return f"sandbox build SCENARIO.yaml{seed} --out {path}{which}"


def _damage(conn: sqlite3.Connection) -> str | None:
    """What SQLite's quick integrity check finds wrong with the file, or None."""
    rows = [r[0] for r in conn.execute("PRAGMA quick_check(3)")]
    if rows == ["ok"]:
        return None
    found = " ".join(" ".join(rows).replace("*** in database main ***", "").split())
    return f"damaged: {found[:160]}"


def _schema_gap(conn: sqlite3.Connection, meta: dict[str, str]) -> str | None:
    """Why the world's schema is not this version's, or None when it is."""
    if meta.get("format") != str(SCHEMA_VERSION):
        return f"world format {meta.get('format')!r} is not the {SCHEMA_VERSION} this sandbox reads"
    if "digest" not in meta:
        return "incomplete world (its build did not finish)"
    expected = sqlite3.connect(":memory:")
    try:
        create_tables(expected)
        wanted = _columns(expected)
    finally:
        expected.close()
    have = _columns(conn)
    missing = [t for t in wanted if t not in have]
    if missing:
        return f"built by an older sandbox: no table {', '.join(missing)}"
    for table, columns in wanted.items():
        gone = sorted(columns - have[table])
        if gone:
            return f"built by an older sandbox: table {table} has no column {', '.join(gone)}"
    return None


def _columns(conn: sqlite3.Connection) -> dict[str, set[str]]:
    """Every table of a database and its column names."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")} for t in tables}


def world_info(path: str | Path) -> dict:
    """Scenario, seed, digest, row counts, the number of seats and the sites of a world."""
    conn = open_world(path)
    try:
        meta = {r["key"]: r["value"] for r in conn.execute("SELECT key, value FROM meta")}
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}
        sites = [
            dict(r)
            for r in conn.execute("SELECT id, name, kind, address FROM sites ORDER BY rowid")
        ]
        has_seats = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'seats'"
        ).fetchone()
        seats = conn.execute("SELECT count(*) FROM seats").fetchone()[0] if has_seats else 0
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
        "seats": seats,
        "sites": sites,
    }
