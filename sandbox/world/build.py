"""`sandbox build`: scenario + seed -> one world.db, written atomically."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

import sqlite_utils

from ..errors import BuildError
from ..ledger.sim.simulate import simulate
from ..scenario.i18n import localized
from ..scenario.model import Scenario
from .actors import make_actors, with_trainees, with_tron_trainees
from .content import fill_texts, write_content
from .content.market_text import BTC_PER_XMR
from .course import write_course
from .digest import world_digest
from .exchange_records import write_exchange_records
from .requesters import write_requesters
from .schema import SCHEMA_VERSION, create_indexes, create_staging_tables, create_tables
from .seats import recovery_actors, stash_plans
from .secret import keyed_seed, new_secret
from .sites import make_sites, service_sites
from .swaps import write_swap_orders

if TYPE_CHECKING:
    from ..tron.sim.simulate import TronSummary

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
        # Texts in several languages: the default language's here, all in course_texts.
        "title": localized(scenario.meta.title, None, scenario.language),
        "summary": localized(scenario.meta.summary, None, scenario.language),
        "locale": scenario.meta.locale,
        "language": scenario.language,
        "languages": " ".join(scenario.languages),
        "seed": str(public.world.seed),
        "secret": secret.hex(),
        "start_time": str(start),
        "end_time": str(end),
        "block_interval": str(knobs.block_interval),
        "tor_latency": "1" if knobs.tor_latency else "0",
        "live_block_seconds": str(knobs.live_block_seconds),
        # The sites show the rate the listings' XMR prices were computed at.
        "btc_per_xmr": str(BTC_PER_XMR),
        # The swap services' rate and fee (their rate pages and orders).
        "btc_usdt": str(knobs.btc_usdt),
        "swap_fee": str(knobs.swap_fee),
    }
    if knobs.issuer_answer_minutes:  # absent: the issuer acts at once (worlds stay as they were)
        meta["issuer_answer_minutes"] = str(knobs.issuer_answer_minutes)
    if scenario.version >= 2:  # a v1 world's meta stays as it was; readers default to 1
        briefs = [a for a in scenario.artefacts if a.kind == "brief"]
        meta["version"] = str(scenario.version)
        meta["brief_title"] = localized(
            briefs[0].title if briefs else scenario.meta.title, None, scenario.language
        )
    db.table("meta").insert_all({"key": k, "value": v} for k, v in meta.items())
    step("actors", 1, 1)
    for a in actors:
        a["opsec"] = json.loads(a["opsec"])
    for s in sites:
        s["config"] = json.loads(s["config"])
    # The Tron chain shares nothing with the ledger but the actors: it is made at the same
    # time in a child process, into a file of its own, and copied in afterwards.
    tron_file = Path(f"{conn.execute('PRAGMA database_list').fetchone()[2]}.tron")
    pool, tron = _start_tron(tron_file, with_tron_trainees(scenario), actors, sites, start)
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
    except (ValueError, BuildError) as e:
        pool.shutdown(cancel_futures=True)
        tron_file.unlink(missing_ok=True)
        if isinstance(e, BuildError):
            raise
        raise BuildError(str(e)) from e
    step("tron", 0, 1)
    try:
        tron_summary = tron.result()
        _copy_tron(conn, tron_file)
        write_swap_orders(conn, scenario)  # both chains' legs are in now
    finally:
        pool.shutdown()
        tron_file.unlink(missing_ok=True)
    step("tron", 1, 1)
    db.table("meta").insert_all(
        [
            {"key": "tron_tip_number", "value": str(tron_summary.tip_number)},
            {"key": "tron_tip_id", "value": tron_summary.tip_id},
            {"key": "tron_start_ms", "value": str(tron_summary.start_ms)},
            {"key": "tron_block_ms", "value": "3000"},
            {"key": "tron_genesis", "value": json.dumps(tron_summary.genesis, sort_keys=True)},
        ]
    )
    db.table("meta").insert_all(
        [
            {"key": "tip_hash", "value": summary.tip_hash},
            {"key": "tip_height", "value": str(summary.blocks - 1)},
            {"key": "chain_start_time", "value": str(summary.first_time)},
        ]
    )
    step("content", 0, 1)
    texts = write_content(conn, scenario, knobs.seed)
    write_exchange_records(conn, scenario, knobs.seed)
    db.table("sites").insert_all(service_sites(scenario, actors))
    step("content", 1, 1)
    step("indexes", 0, 1)
    create_indexes(conn)
    step("indexes", 1, 1)
    fill_texts(conn, scenario, texts)  # the scenario's texts name things of the whole world
    write_requesters(conn, scenario)  # before the course: the seats' briefs print them
    if scenario.objectives:
        step("course", 0, 1)
        write_course(conn, scenario)  # reads the finished world, with its indexes
        step("course", 1, 1)
    conn.execute("ANALYZE")


TRON_TABLES = (
    "tron_witnesses",
    "tron_accounts",
    "tron_blocks",
    "tron_txs",
    "tron_logs",
    "trc20_transfers",
    "tron_state",
    "tron_contracts",
    "tron_flow_events",
    "swap_legs",  # the Tron legs; the ledger's own are already in
)


def _start_tron(
    path: Path, scenario: Scenario, actors: list[dict], sites: list[dict], start: int
) -> tuple[ProcessPoolExecutor, Future[TronSummary]]:
    """Start the Tron simulation in a child process (in this one where fork is missing)."""
    path.unlink(missing_ok=True)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    pool = ProcessPoolExecutor(1, mp_context=context)
    return pool, pool.submit(_tron_world, path, scenario, actors, sites, start)


def _tron_world(
    path: Path, scenario: Scenario, actors: list[dict], sites: list[dict], start: int
) -> TronSummary:
    """The Tron chain of a world, written into the tron tables of a file of its own."""
    from ..tron.sim.simulate import simulate_tron  # imported in the child that runs it

    conn = sqlite3.connect(path)
    try:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-131072"):
            conn.execute(f"PRAGMA {pragma}")
        create_staging_tables(conn)  # the world checks txids and block ids as it copies them
        try:
            summary = simulate_tron(conn, scenario, actors, sites, start)
        except ValueError as e:
            raise BuildError(str(e)) from e
        conn.commit()
        return summary
    finally:
        conn.close()


def _copy_tron(conn: sqlite3.Connection, path: Path) -> None:
    """Copy the tron tables the child process made into the world."""
    conn.commit()
    conn.execute("ATTACH DATABASE ? AS tron", (str(path),))
    try:
        for table in TRON_TABLES:
            conn.execute(f"INSERT INTO main.{table} SELECT * FROM tron.{table}")
        conn.commit()
    finally:
        conn.execute("DETACH DATABASE tron")
