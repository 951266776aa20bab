"""The answer key knows the story's Tron flows: USDT totals, Tron txids and T... addresses.

tf-donations gets objectives about its Tron flows (usdt-cinder, usdt-sweep, usdt-cashout),
its world is built once, and the key is checked against what the chain itself shows,
read with this test's own SQL (the donation address's TRC-20 transfers), not through the
answer key's code. None of those answers may show on a seat's papers.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from sandbox.errors import BuildError
from sandbox.leaks import shown
from sandbox.scenario import load_scenario
from sandbox.scenario.model import Ref
from sandbox.world.answers import Answers, format_tron, render
from sandbox.world.build import build_world
from tests.course_secret import SECRET

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
TF = (ROOT / "scenarios" / "tf-donations.yaml").read_text(encoding="utf-8")
USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
TRON_OBJECTIVES = """
  - id: usdt-raised
    question: "How much USDT did the Cinder campaign raise on Tron?"
    answer: {flow: usdt-cinder, field: total}
    compare: number
    tolerance: 0.000001
  - id: usdt-donations
    question: "How many USDT donations did it receive?"
    answer: {flow: usdt-cinder, field: count}
    compare: number
  - id: usdt-donation-address
    question: "Which Tron address received the USDT donations?"
    answer: {flow: usdt-cinder, field: addresses}
    compare: set
  - id: usdt-wallet
    question: "Into which Tron address were the USDT donations consolidated?"
    answer: {flow: usdt-sweep, field: addresses}
    compare: set
  - id: usdt-cashout-tx
    question: "Which Tron transaction cashed the USDT out?"
    answer: {flow: usdt-cashout, field: txids}
    compare: set
  - id: usdt-exchange
    question: "At which exchange did the USDT donations end up?"
    answer: {flow: usdt-cinder, field: exchange}
"""
MARK = "\ninjects:\n"
assert TF.count(MARK) == 1
TF_TRON = TF.replace(MARK, TRON_OBJECTIVES + MARK)
TRON_IDS = re.findall(r"- id: (usdt-[a-z-]+)", TRON_OBJECTIVES)


@pytest.fixture(scope="module")
def tf_tron(tmp_path_factory) -> tuple[Path, object]:
    """tf-donations with Tron objectives: (its world, its scenario)."""
    folder = tmp_path_factory.mktemp("tf-tron")
    path = folder / "tf-tron.yaml"
    path.write_text(TF_TRON, encoding="utf-8")
    scenario = load_scenario(str(path))
    out = folder / "tf.db"
    build_world(scenario, out, secret=SECRET)
    return out, scenario


def _conn(world: Path) -> sqlite3.Connection:
    """A read-only connection to a world."""
    return sqlite3.connect(f"file:{world}?mode=ro", uri=True)


def _chain(world: Path) -> dict:
    """The Cinder campaign's USDT on the chain, found from the donation address's transfers."""
    conn = _conn(world)
    try:
        # The published address, then (from day 4, as cinder says) one per donor.
        donations = [
            r[0]
            for r in conn.execute(
                "SELECT address FROM tron_accounts WHERE actor_id = 'ember' AND wallet = 'donation'"
            )
        ]
        (donation,) = [
            r[0]
            for r in conn.execute(
                "SELECT address FROM tron_accounts WHERE actor_id = 'ember' AND wallet = 'donation'"
                " AND purpose = 'donation:cinder'"
            )
        ]
        marks = ",".join("?" * len(donations))
        into = conn.execute(
            "SELECT t.txid, f.value FROM trc20_transfers f JOIN tron_txs t ON t.id = f.tx_id"
            f" WHERE f.to_address IN ({marks}) AND f.contract = ?",
            (*donations, USDT),
        ).fetchall()
        (swept,) = conn.execute(
            "SELECT DISTINCT to_address FROM trc20_transfers WHERE from_address = ?", (donation,)
        ).fetchall()
        (deposit,) = conn.execute(
            "SELECT address FROM tron_accounts WHERE actor_id = 'harbor' AND wallet = 'deposit'"
            " AND purpose = 'deposit:ember'"
        ).fetchone()
        cashout = conn.execute(
            "SELECT t.txid, f.value FROM trc20_transfers f JOIN tron_txs t ON t.id = f.tx_id"
            " WHERE f.from_address = ? AND f.to_address = ?",
            (swept[0], deposit),
        ).fetchall()
        key = {
            (seat, oid): json.loads(answer)
            for seat, oid, answer in conn.execute(
                "SELECT seat, objective_id, answer FROM seat_objectives"
            )
        }
    finally:
        conn.close()
    return {
        "donation": donation,
        "addresses": sorted(donations),
        "donations": into,
        "swept": swept[0],
        "cashout": cashout,
        "key": key,
    }


def test_key_holds_the_tron_flows_as_the_chain_shows_them(tf_tron):
    """Totals in USDT (6 decimals), the donation and consolidation addresses, the cash-out
    txid and the exchange, for every seat alike."""
    world, scenario = tf_tron
    chain = _chain(world)
    assert len(chain["donations"]) == 25 and len(chain["cashout"]) == 1
    total = sum(v for _, v in chain["donations"])
    seats = sorted({seat for seat, _ in chain["key"]})
    assert len(seats) == scenario.seats.count
    for seat in seats:
        key = {oid: chain["key"][seat, oid] for oid in TRON_IDS}
        assert key["usdt-raised"] == round(total / 1_000_000, 6)
        assert key["usdt-donations"] == 25
        assert sorted(key["usdt-donation-address"]) == chain["addresses"]
        assert key["usdt-wallet"] == [chain["swept"]]
        assert key["usdt-cashout-tx"] == [chain["cashout"][0][0]]
        assert key["usdt-exchange"] == "Harbor Exchange"
        assert re.fullmatch(r"T[1-9A-HJ-NP-Za-km-z]{33}", key["usdt-wallet"][0])
    # the whole consolidated amount was cashed out
    assert chain["cashout"][0][1] == total


def test_bitcoin_answers_are_unchanged_by_tron_flows(tf_tron):
    """The Bitcoin donation addresses of cinder are Bitcoin ones: its USDT flow adds none."""
    world, scenario = tf_tron
    conn = _conn(world)
    try:
        answers = Answers(conn, scenario)
        btc = answers.site("cinder", "donation_addresses")
        assert btc and not any(a.startswith("T") for a in btc)
        assert answers.flow("donations-cinder", "total") < 1  # BTC, not USDT
        assert answers.flow("peel-cinder", "exchange") == "Harbor Exchange"
    finally:
        conn.close()


def test_placeholders_and_members_of_tron_flows(tf_tron):
    """{flow.total} of a Tron flow prints its 6 decimals; member narrows to one donor; a donor
    who gave nothing on Tron is a clear build error."""
    world, scenario = tf_tron
    chain = _chain(world)
    conn = _conn(world)
    try:
        answers = Answers(conn, scenario)
        total = sum(v for _, v in chain["donations"])
        text = answers.fill("raised {usdt-cinder.total} USDT")
        assert text == f"raised {total // 10**6}.{total % 10**6:06d} USDT"
        donors = conn.execute(
            "SELECT source_id, sum(amount), count(*) FROM tron_flow_events"
            " WHERE flow_id = 'usdt-cinder' GROUP BY source_id ORDER BY source_id"
        ).fetchall()
        donor, amount, count = donors[0]
        value = answers.value(Ref("flow", "usdt-cinder", "total", member=donor))
        assert value == round(amount / 1_000_000, 6)
        assert answers.flow("usdt-cinder", "count", donor) == count
        gave = {d for d, _, _ in donors}
        idle = next(f"donors-{i}" for i in range(1, 61) if f"donors-{i}" not in gave)
        with pytest.raises(BuildError, match=f"flow 'usdt-cinder' has no payments of '{idle}'"):
            answers.flow("usdt-cinder", "total", idle)
    finally:
        conn.close()
    assert format_tron(1821.646024) == "1821.646024" and format_tron(0.5) == "0.500000"
    assert render(["T1", "T2"]) == "T1, T2"


def test_no_tron_answer_shows_on_a_seats_papers(tf_tron):
    """Questions, brief and text artefacts of every seat show none of the Tron answers."""
    world, scenario = tf_tron
    chain = _chain(world)
    objectives = {o.id: o for o in scenario.objectives}
    conn = _conn(world)
    try:
        papers: dict[int, list[str]] = {}
        for seat, question in conn.execute("SELECT seat, question FROM seat_objectives"):
            papers.setdefault(seat, []).append(question)
        for seat, content in conn.execute("SELECT seat, content FROM artefacts"):
            if isinstance(content, bytes):
                try:
                    content = content.decode("utf-8")
                except UnicodeDecodeError:  # a picture: no text to read
                    continue
            papers.setdefault(seat, []).append(content)
    finally:
        conn.close()
    checked = 0
    for seat, texts in papers.items():
        text = "\n".join(texts)
        for oid in TRON_IDS:
            o = objectives[oid]
            key = chain["key"][seat, oid]
            found = shown(
                key,
                o.compare,
                text,
                tolerance=o.tolerance,
                field=o.answer.field,
                exchanges=("CoinVault", "Harbor Exchange", "BitBarn"),
            )
            assert found is None, (seat, oid, found)
            checked += 1
    assert checked == len(papers) * len(TRON_IDS)
