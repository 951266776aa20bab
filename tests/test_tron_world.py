"""Built worlds' Tron chains: tables filled, blocks contiguous and 3 s apart, and the
independent checker (tests/tron_checker.py) over the whole chain; the answer key's Tron rows
against what the chain paid; OTC sales."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime, time

import pytest

from sandbox.errors import BuildError
from sandbox.scenario import load_scenario
from sandbox.tron.block import witnesses as make_witnesses
from sandbox.tron.sim.sealer import SealerLink
from sandbox.tron.sim.simulate import simulate_tron
from sandbox.world.actors import make_actors, with_tron_trainees
from sandbox.world.build import TRON_TABLES, build_world
from sandbox.world.schema import create_staging_tables
from sandbox.world.secret import keyed_seed
from sandbox.world.sites import make_sites

from . import tron_checker as checker
from .course_secret import SECRET

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """tf-donations (Tron noise and USDT donations, a cash-out on Tron), built once."""
    out = tmp_path_factory.mktemp("tron") / "world.db"
    build_world(load_scenario("tf-donations"), out, secret=SECRET)
    conn = sqlite3.connect(out)
    yield conn
    conn.close()


def test_tables_are_filled(world):
    """Every tron table has rows, and meta says where the chain starts and ends."""
    for table in ("tron_witnesses", "tron_accounts", "tron_blocks", "tron_txs", "tron_logs"):
        assert world.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
    assert world.execute("SELECT count(*) FROM tron_witnesses").fetchone()[0] == 27
    meta = dict(world.execute("SELECT key, value FROM meta WHERE key LIKE 'tron_%'"))
    assert meta["tron_block_ms"] == "3000"
    start = int(meta["tron_start_ms"])
    assert (
        int(world.execute("SELECT value FROM meta WHERE key='start_time'").fetchone()[0]) * (1000)
        == start
    )


def test_blocks_are_3_seconds_apart_and_chained(world):
    """Block n is at start + 3 s * n; a stored block's parent is the block before it."""
    start = int(world.execute("SELECT value FROM meta WHERE key='tron_start_ms'").fetchone()[0])
    rows = world.execute(
        "SELECT number, block_id, parent_id, timestamp, tx_count FROM tron_blocks ORDER BY number"
    ).fetchall()
    assert rows[0][0] == 0
    for number, block_id, parent_id, timestamp, tx_count in rows:
        assert timestamp == start + number * 3000
        assert int(block_id[:16], 16) == number
        if number:
            assert int(parent_id[:16], 16) == number - 1
            assert (
                tx_count
                == world.execute(
                    "SELECT count(*) FROM tron_txs WHERE block = ?", (number,)
                ).fetchone()[0]
            )
            assert tx_count > 0


def test_txids_hash_their_raw_data(world):
    """txID = SHA-256 of the raw_data protobuf, for every stored transaction."""
    for txid, raw in world.execute("SELECT txid, raw FROM tron_txs"):
        assert hashlib.sha256(raw).hexdigest() == txid


def test_story_flows_in_the_answer_key(world):
    """The USDT donations and the cash-out are recorded as Tron flow events."""
    rows = world.execute(
        "SELECT flow_id, count(*), sum(amount) FROM tron_flow_events GROUP BY flow_id"
    ).fetchall()
    by_flow = {f: (n, total) for f, n, total in rows}
    assert by_flow["usdt-cinder"][0] == 25
    assert by_flow["usdt-cashout"][0] >= 1
    # Each event's transaction exists and is a USDT transfer to the recorded address.
    for tx_id, to_address in world.execute(
        "SELECT tx_id, to_address FROM tron_flow_events WHERE flow_id = 'usdt-cinder'"
    ):
        got = world.execute(
            "SELECT to_address FROM trc20_transfers WHERE tx_id = ?", (tx_id,)
        ).fetchone()
        assert got == (to_address,)


def test_sweeps_use_delegated_energy(world):
    """Exchanges' deposit addresses are swept to the hot wallet without burning TRX."""
    sweeps = world.execute(
        "SELECT t.fee, t.energy_usage FROM tron_txs t JOIN tron_accounts a ON a.address = t.owner"
        " WHERE a.wallet = 'deposit' AND t.type = 'TriggerSmartContract'"
    ).fetchall()
    assert sweeps
    assert all(energy > 0 for _, energy in sweeps)


def test_independent_checker(world):
    """tests/tron_checker.py, sharing no code with sandbox.tron, accepts the whole chain:
    txIDs, signatures, every block id and parent (empty blocks derived), txTrieRoots,
    witness signatures, fees against resources, TRX and USDT balances, the blacklist."""
    counts = checker.check_world(world)
    tip = int(world.execute("SELECT value FROM meta WHERE key='tron_tip_number'").fetchone()[0])
    assert counts["stored blocks"] + counts["empty blocks"] == tip + 1
    for what in ("TransferContract", "TriggerSmartContract", "DelegateResourceContract"):
        assert counts[what] > 0, what
    for what in ("energy burned", "bandwidth burned", "issues", "blacklistings"):
        assert counts[what] > 0, what
    assert counts["blacklisted sends reverted"] > 0
    assert counts["accounts"] == world.execute("SELECT count(*) FROM tron_state").fetchone()[0]


def _tampered(world, sql: str, params: tuple = ()) -> sqlite3.Connection:
    """An in-memory copy of the world with one change made."""
    copy = sqlite3.connect(":memory:")
    world.backup(copy)
    copy.execute(sql, params)
    return copy


@pytest.mark.parametrize(
    "sql, params, message",
    [
        (
            "UPDATE tron_state SET account = json_set(account, '$.balance',"
            " json_extract(account, '$.balance') + 1) WHERE rowid = 7",
            (),
            "TRX",
        ),
        (
            "UPDATE tron_contracts SET state = json_set(state, '$.total_supply',"
            " json_extract(state, '$.total_supply') + 1)",
            (),
            "total supply",
        ),
        ("UPDATE tron_txs SET fee = fee + 1000 WHERE id = 500", (), "fee"),
        ("UPDATE tron_txs SET signature = ? WHERE id = 300", (bytes(64) + b"\x1b",), ""),
        (
            "UPDATE tron_witnesses SET secret = (SELECT secret FROM tron_witnesses"
            " WHERE position = 5) WHERE position = 6",
            (),
            "witness 6: its key",
        ),
        ("UPDATE meta SET value = value + 3000 WHERE key = 'tron_start_ms'", (), "3 s"),
    ],
)
def test_checker_finds_tampering(world, sql, params, message):
    """One changed balance, fee, signature or time is caught: the checker is not a no-op."""
    copy = _tampered(world, sql, params)
    try:
        with pytest.raises((AssertionError, ValueError)) as caught:
            checker.check_world(copy)
        assert message in str(caught.value)
    finally:
        copy.close()


def _flow_events_are_paid(conn: sqlite3.Connection) -> int:
    """Each tron_flow_events row is a successful transaction that moved its amount of its
    asset to its address, from a wallet of its payer to a wallet of its payee."""
    rows = conn.execute(
        "SELECT e.flow_id, e.tx_id, e.source_id, e.target_id, e.asset, e.amount, e.to_address, t.result,"
        " t.type, t.to_address, t.amount, (SELECT actor_id FROM tron_accounts WHERE"
        " address = t.owner), (SELECT actor_id FROM tron_accounts WHERE address = e.to_address)"
        " FROM tron_flow_events e JOIN tron_txs t ON t.id = e.tx_id"
    ).fetchall()
    assert len(rows) == conn.execute("SELECT count(*) FROM tron_flow_events").fetchone()[0]
    for (
        flow,
        tx_id,
        src,
        dst,
        asset,
        amount,
        to,
        result,
        kind,
        tx_to,
        tx_amount,
        payer,
        payee,
    ) in rows:
        assert result == "SUCCESS", flow
        assert payer == src and payee == dst, (flow, tx_id, payer, src, payee, dst)
        if asset == "USDT":
            moved = conn.execute(
                "SELECT to_address, value FROM trc20_transfers WHERE tx_id = ?", (tx_id,)
            ).fetchall()
            assert moved == [(to, amount)], (flow, tx_id)
        else:
            assert (kind, tx_to, tx_amount) == ("TransferContract", to, amount), (flow, tx_id)
    return len(rows)


def test_flow_events_are_what_the_chain_paid(world):
    """The answer key's Tron rows match the transactions (payer, payee, asset, amount)."""
    assert _flow_events_are_paid(world) >= 25


SMALL = """\
meta: {title: OTC desks}
world: {seed: 5, days: 12, background_users: 120, transactions: 400, tron_transactions: 1500}
actors:
  - {id: ex, role: exchange, kind: organisation}
  - {id: seller, role: fundraiser, exchange: ex, tron: {USDT: 4000, TRX: 200}}
  - {id: broker, role: user, exchange: ex, tron: true}
flows:
  - {id: to-desk, kind: otc_sale, from: seller, to: background, chain: tron,
     amount: {min: 300, max: 500}, count: 3, start_day: 3, end_day: 6}
  - {id: to-broker, kind: otc_sale, from: seller, to: broker, chain: tron, amount: 900,
     start_day: 7}
  - {id: fuel, kind: otc_sale, from: seller, to: broker, chain: tron, asset: TRX, amount: 40,
     start_day: 8}
  - {id: rest, kind: cash_out, from: seller, to: ex, chain: tron, start_day: 10}
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A 12-day world whose seller sells USDT to OTC desks and to a broker it knows."""
    folder = tmp_path_factory.mktemp("otc")
    (folder / "otc.yaml").write_text(SMALL, encoding="utf-8")
    out = folder / "world.db"
    build_world(load_scenario(folder / "otc.yaml"), out, secret=SECRET)
    conn = sqlite3.connect(out)
    yield conn
    conn.close()


def test_otc_sales(small):
    """OTC sales pay a background OTC desk (a busy address) or the named broker; the
    answer key names the desk; the checker accepts the world; the knob gives about N."""
    events = small.execute(
        "SELECT e.flow_id, e.step, e.target_id, a.wallet FROM tron_flow_events e"
        " JOIN tron_accounts a ON a.address = e.to_address ORDER BY e.rowid"
    ).fetchall()
    kinds = {(flow, step, wallet) for flow, step, _, wallet in events}
    assert kinds == {
        ("to-desk", "otc-sale", "otc"),
        ("to-broker", "otc-sale", "personal"),
        ("fuel", "otc-sale", "personal"),
        ("rest", "cash-out", "deposit"),
    }
    assert sum(1 for e in events if e[0] == "to-desk") == 3
    desks = {e[2] for e in events if e[0] == "to-desk"}
    assert all(d.startswith("bg-") for d in desks)
    assert _flow_events_are_paid(small) == len(events)
    counts = checker.check_world(small)
    assert counts["USDT transfers"] > 100
    total = small.execute("SELECT count(*) FROM tron_txs").fetchone()[0]
    assert 1350 <= total <= 1650  # tron_transactions: 1500


def _tron_rows(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every row of the Tron tables, sorted."""
    return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in TRON_TABLES}


def test_signing_processes_write_what_one_process_writes(tmp_path):
    """The Tron chain of tf-donations made with the sealer and the writer in processes of
    their own (a database file) has the same rows as made all in one process (a database in
    memory, where they do not fork)."""
    public = load_scenario("tf-donations")
    scenario = public.with_seed(keyed_seed(public.world.seed, SECRET))
    start = int(datetime.combine(scenario.world.start, time(0), tzinfo=UTC).timestamp())
    actors, sites = make_actors(scenario), make_sites(scenario)
    for a in actors:
        a["opsec"] = json.loads(a["opsec"])
    for s in sites:
        s["config"] = json.loads(s["config"])
    tron = with_tron_trainees(scenario)
    rows = []
    for target in (str(tmp_path / "forked.db"), ":memory:"):
        conn = sqlite3.connect(target)
        create_staging_tables(conn)
        link = SealerLink(conn, make_witnesses(1), 0)
        assert (link._local is None) == (target != ":memory:")  # forks only for a file
        link.finish(0)
        conn.execute("DELETE FROM tron_blocks")  # the link's genesis block, for 0
        conn.commit()
        summary = simulate_tron(conn, tron, actors, sites, start)
        conn.commit()
        assert summary.transactions > 1000
        rows.append((summary, _tron_rows(conn)))
        conn.close()
    assert rows[0] == rows[1]


def _forked_link(tmp_path) -> tuple[sqlite3.Connection, SealerLink]:
    conn = sqlite3.connect(tmp_path / "chain.db")
    create_staging_tables(conn)
    link = SealerLink(conn, make_witnesses(1), 0)
    assert link._local is None  # the sealer and the writer are processes of their own
    return conn, link


def test_a_transaction_the_sealer_cannot_sign_fails_the_build_with_the_reason(tmp_path):
    """A zero secret (no key libsecp256k1 signs with) in the second block handed over: the
    build stops with the sealer's error, and both processes are gone."""
    conn, link = _forked_link(tmp_path)
    good = (b"\x40\x01", hashlib.sha256(b"owner").digest(), "SUCCESS")
    bad = (b"\x40\x02", bytes(32), "SUCCESS")
    link.take([(1, [good])], [(1,) + (0,) * 14], [], [])
    link.take([(2, [bad])], [(2,) + (0,) * 14], [], [])
    with pytest.raises(BuildError, match="(?s)the sealer failed.*a Tron key that cannot sign"):
        link.finish(5)
    assert not link._sealer.is_alive() and not link._writer.is_alive()
    conn.close()


def test_a_sealer_that_dies_fails_the_build_instead_of_hanging(tmp_path):
    """The sealer killed mid-build: finish() raises BuildError naming the Tron chain, and
    the writer is not left waiting for it."""
    conn, link = _forked_link(tmp_path)
    link._sealer.kill()
    link._sealer.join()
    with pytest.raises(BuildError, match="the Tron chain's"):
        link.take([(1, [(b"\x40\x01", hashlib.sha256(b"o").digest(), "SUCCESS")])], [], [], [])
        link.finish(5)
    link._writer.join(10)
    assert not link._writer.is_alive()
    conn.close()
