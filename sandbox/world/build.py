"""`sandbox build`: scenario + seed -> one world.db, written atomically."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path

import sqlite_utils

from ..errors import BuildError
from ..ledger.sim.simulate import simulate
from ..scenario.model import Scenario
from .actors import make_actors, with_trainees
from .content import write_content
from .content.market_text import BTC_PER_XMR
from .course import write_course
from .digest import world_digest
from .exchange_records import write_exchange_records
from .requesters import write_requesters
from .schema import SCHEMA_VERSION, create_indexes, create_tables
from .seats import recovery_actors, stash_plans
from .secret import keyed_seed, new_secret
from .sites import make_sites, service_sites

Progress = Callable[[str, int, int], None]


def build_world(
    scenario: Scenario, out: Path, progress: Progress | None = None, secret: bytes | None = None
) -> dict:
    """Generate the world of a scenario into out and return its info.

    Every random choice is keyed by the course secret (a fresh one when None, see
    secret.py): the same scenario, seed and secret give the same world, row for row.
    The world is written to a temporary file beside out and renamed over it only when
    complete, so a failed build never leaves a half world or destroys the previous one.
    """
    out = Path(out)
    tmp = out.with_name(out.name + ".building")
    tmp.unlink(missing_ok=True)
    step = progress or (lambda stage, done, total: None)
    secret = new_secret() if secret is None else secret
    conn = sqlite3.connect(tmp)
    try:
        _write(conn, scenario, secret, step)
        conn.commit()
        conn.close()
        step("digest", 0, 1)
        digest = world_digest(tmp)  # reads the closed file, two tables at a time
        with sqlite3.connect(tmp) as conn:
            conn.execute("INSERT INTO meta VALUES ('digest', ?)", (digest,))
        conn.close()
        step("digest", 1, 1)
    except BaseException:
        conn.close()
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, out)
    from .read import world_info

    return world_info(out)


def _write(conn: sqlite3.Connection, public: Scenario, secret: bytes, step: Progress) -> None:
    """Fill an empty database with the world."""
    for pragma in (
        "journal_mode=OFF",
        "synchronous=OFF",
        "cache_size=-262144",
        "temp_store=MEMORY",
        "locking_mode=EXCLUSIVE",
    ):
        conn.execute(f"PRAGMA {pragma}")
    create_tables(conn)
    db = sqlite_utils.Database(conn)
    scenario = public.with_seed(keyed_seed(public.world.seed, secret))
    knobs = scenario.world
    start = int(datetime.combine(knobs.start, time(0), tzinfo=UTC).timestamp())
    end = start + knobs.days * 86_400
    step("actors", 0, 1)
    plans = stash_plans(scenario)  # before the long simulation: it may refuse the course
    actors = make_actors(scenario)
    db.table("actors").insert_all(actors, batch_size=5000)
    sites = make_sites(scenario)
    db.table("sites").insert_all(sites)
    meta = {
        "format": str(SCHEMA_VERSION),
        "scenario": scenario.name,
        "title": scenario.meta.title,
        "summary": scenario.meta.summary,
        "locale": scenario.meta.locale,
        "seed": str(public.world.seed),
        "secret": secret.hex(),
        "start_time": str(start),
        "end_time": str(end),
        "block_interval": str(knobs.block_interval),
        "tor_latency": "1" if knobs.tor_latency else "0",
        "live_block_seconds": str(knobs.live_block_seconds),
        # The sites show the rate the listings' XMR prices were computed at.
        "btc_per_xmr": str(BTC_PER_XMR),
    }
    if scenario.version >= 2:  # a v1 world's meta stays as it was; readers default to 1
        briefs = [a for a in scenario.artefacts if a.kind == "brief"]
        meta["version"] = str(scenario.version)
        meta["brief_title"] = briefs[0].title if briefs else scenario.meta.title
    db.table("meta").insert_all({"key": k, "value": v} for k, v in meta.items())
    step("actors", 1, 1)
    for a in actors:
        a["opsec"] = json.loads(a["opsec"])
    for s in sites:
        s["config"] = json.loads(s["config"])
    try:
        summary = simulate(
            conn,
            with_trainees(scenario),  # the seats' training wallets are funded like any balance
            actors,
            sites,
            start,
            lambda done, total: step("ledger", done, total),
            recovery_actors(scenario),
            {a: (p.stashes, p.need, p.why) for a, p in plans.items()},
        )
    except ValueError as e:
        raise BuildError(str(e)) from e
    db.table("meta").insert_all(
        [
            {"key": "tip_hash", "value": summary.tip_hash},
            {"key": "tip_height", "value": str(summary.blocks - 1)},
            {"key": "chain_start_time", "value": str(summary.first_time)},
        ]
    )
    step("content", 0, 1)
    write_content(conn, scenario, knobs.seed)
    write_exchange_records(conn, scenario, knobs.seed)
    db.table("sites").insert_all(service_sites(scenario, actors))
    step("content", 1, 1)
    step("indexes", 0, 1)
    create_indexes(conn)
    step("indexes", 1, 1)
    write_requesters(conn, scenario)  # before the course: the seats' briefs print them
    if scenario.objectives:
        step("course", 0, 1)
        write_course(conn, scenario)  # reads the finished world, with its indexes
        step("course", 1, 1)
    conn.execute("ANALYZE")
