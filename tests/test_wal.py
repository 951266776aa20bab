"""State files that several processes create at once (a regression test: see below).

A site container and the gateway open one state file together. CI failed once with
"database is locked" from ``PRAGMA journal_mode=WAL`` in the site's process, because SQLite
does not wait for that lock on its own.
"""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest

from marketplaces.common.state import StateStore
from sandbox.classroom.progress import Progress
from sandbox.wal import connect_wal, immediate

ROUNDS = 15
PROCESSES = 4


def _open_state(path, barrier, results):
    """Open a fresh state file together with the other processes; report what happened."""
    barrier.wait()
    try:
        StateStore(path).site_secret("wiki")
        results.put("ok")
    except Exception as exc:  # reported, so the test names it
        results.put(repr(exc))


def _open_progress(path, barrier, results):
    """Open a fresh classroom.db together with the other processes."""
    barrier.wait()
    try:
        Progress(path).close()
        results.put("ok")
    except Exception as exc:
        results.put(repr(exc))


@pytest.mark.parametrize("opener", [_open_state, _open_progress], ids=["state", "classroom"])
def test_processes_create_one_file_together(tmp_path, opener):
    """Four processes creating the same WAL file at the same moment all succeed."""
    ctx = multiprocessing.get_context("fork")
    failures = []
    for n in range(ROUNDS):
        target = tmp_path / f"round{n}" / "state.db"
        where = target if opener is _open_state else target.parent
        barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
        procs = [
            ctx.Process(target=opener, args=(where, barrier, results)) for _ in range(PROCESSES)
        ]
        for p in procs:
            p.start()
        outcomes = [results.get(timeout=60) for _ in procs]
        for p in procs:
            p.join()
        failures += [o for o in outcomes if o != "ok"]
    assert failures == []


def test_connect_wal_sets_modes(tmp_path):
    """The file is in WAL mode and the connection uses the synchronous level asked for."""
    conn = connect_wal(tmp_path / "x.db", synchronous="FULL")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    conn.close()


def test_connect_wal_gives_up_on_a_held_lock(tmp_path):
    """A lock held past the timeout is reported, not waited on for ever."""
    path = tmp_path / "held.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            connect_wal(path, timeout=0.3)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_immediate_commits_at_the_end_and_rolls_back_on_error(tmp_path):
    """A write transaction keeps what its block wrote, and nothing of a block that failed."""
    path = tmp_path / "t.db"
    conn = connect_wal(path, isolation_level=None)
    conn.execute("CREATE TABLE t (x INTEGER)")
    with immediate(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        # Taken at BEGIN: another writer waits (here: gives up at once) until the block ends.
        other = connect_wal(path, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("INSERT INTO t VALUES (99)")
    with pytest.raises(ZeroDivisionError), immediate(conn):
        conn.execute("INSERT INTO t VALUES (2)")
        1 / 0  # noqa: B018
    assert not conn.in_transaction
    assert other.execute("SELECT x FROM t").fetchall() == [(1,)]
    other.close()
    conn.close()
