"""Seats that share a case each seize and see moved their own share of the suspect's coins."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.check import check_world, load_solution
from sandbox.errors import BuildError
from sandbox.scenario import load_scenario
from sandbox.world.build import build_world
from tests.course_secret import SECRET
from tests.serving import serve_with_injects

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
VENDOR_TAKEDOWN = ROOT / "scenarios" / "vendor-takedown.yaml"
MARGIN = 20_000  # satoshis a seat's share holds beyond its move_funds: a sweep's fee and dust
SEEDS = re.compile(r"seed words:\n([a-z ]+)\n([a-z ]+)\n")


def _edited(tmp: Path, *changes: tuple[str, str]) -> Path:
    """A copy of vendor-takedown.yaml with each (old, new) text replaced exactly once.

    Named like the built-in one, so `sandbox check` finds its reference solution.
    """
    text = VENDOR_TAKEDOWN.read_text()
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "vendor-takedown.yaml"
    path.write_text(text)
    return path


# 40 seats over 12 vendors: seats 1, 13, 25 and 37 investigate vendors-1; three times the
# sales, so that each vendor sells about as much as in the built-in scenario.
SCALED = (
    ("    count: 4\n    opsec:", "    count: 12\n    opsec:"),
    ("    count: 80\n", "    count: 240\n"),
    ("  count: 24\n  group: vendors", "  count: 40\n  group: vendors"),
)


@pytest.fixture(scope="module")
def scaled(tmp_path_factory) -> Path:
    """vendor-takedown scaled to 40 seats over 12 vendors."""
    return _edited(tmp_path_factory.mktemp("scaled"), *SCALED)


@pytest.fixture(scope="module")
def scaled_world(scaled, tmp_path_factory) -> Path:
    """The scaled scenario's world."""
    out = tmp_path_factory.mktemp("scaled-world") / "world.db"
    build_world(load_scenario(str(scaled)), out)
    return out


def _sandbox(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run the `sandbox` CLI as an instructor would."""
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def _unspent(conn: sqlite3.Connection, addresses: list[str]) -> int:
    """Satoshis unspent at the end of the world on these addresses."""
    marks = ",".join("?" * len(addresses))
    return conn.execute(
        "SELECT coalesce(sum(o.value), 0) FROM outputs o JOIN addresses a ON a.id = o.address_id"
        f" WHERE a.address IN ({marks}) AND NOT EXISTS (SELECT 1 FROM inputs i"
        " WHERE i.prev_tx_id = o.tx_id AND i.prev_n = o.n)",
        addresses,
    ).fetchone()[0]


def test_every_seat_sweeps_its_own_funded_addresses(scaled_world):
    """40 seats over 12 vendors: no two sweep answers share an address, and each holds coins."""
    conn = sqlite3.connect(scaled_world)
    rows = conn.execute(
        "SELECT s.n, s.bindings, k.answer FROM seats s JOIN seat_objectives k ON k.seat = s.n"
        " WHERE k.objective_id = 'seize' ORDER BY s.n"
    ).fetchall()
    assert len(rows) == 40
    owner: dict[str, int] = {}
    for n, bindings, answer in rows:
        spend_from = json.loads(answer)["spend_from"]
        assert spend_from, n
        for address in spend_from:
            assert address not in owner, f"seats {owner[address]} and {n} sweep {address}"
            owner[address] = n
        # Enough for the seat's move_funds (0.02 BTC) and a sweep of what is left.
        assert _unspent(conn, spend_from) >= 2_000_000 + MARGIN, n
        # The seat's coins are the suspect's own: each address is a wallet of that vendor.
        subject = json.loads(bindings)["subject"]
        marks = ",".join("?" * len(spend_from))
        holders = conn.execute(
            "SELECT DISTINCT w.actor_id FROM addresses a JOIN wallets w ON w.id = a.wallet_id"
            f" WHERE a.address IN ({marks})",
            spend_from,
        ).fetchall()
        assert holders == [(subject,)], n
    # Each seat's phone holds the words of its own wallet.
    words = {
        n: SEEDS.search(content.decode()).groups()
        for n, content in conn.execute("SELECT seat, content FROM artefacts WHERE id = 'phone'")
    }
    assert len(set(words.values())) == 40
    # Every stash was paid from the suspect's own wallet, so a trace shows it as his money.
    funders = conn.execute(
        "SELECT DISTINCT sw.actor_id, pw.actor_id, pw.kind FROM wallets sw"
        " JOIN addresses sa ON sa.wallet_id = sw.id JOIN outputs o ON o.address_id = sa.id"
        " JOIN inputs i ON i.tx_id = o.tx_id"
        " JOIN outputs po ON po.tx_id = i.prev_tx_id AND po.n = i.prev_n"
        " JOIN addresses pa ON pa.id = po.address_id JOIN wallets pw ON pw.id = pa.wallet_id"
        " WHERE sw.kind = 'stash'"
    ).fetchall()
    assert len(funders) == 12
    assert all(stash == payer and kind == "personal" for stash, payer, kind in funders)
    conn.close()


def _sharing(world: Path) -> list[list[int]]:
    """The seats of each case (read from the world: the builder decides who gets which)."""
    conn = sqlite3.connect(world)
    cases: dict[str, list[int]] = {}
    for n, bindings in conn.execute("SELECT n, bindings FROM seats ORDER BY n"):
        cases.setdefault(bindings, []).append(n)
    conn.close()
    return list(cases.values())


def _check(world: Path, seats: list[int], workdir: Path) -> list:
    """`sandbox check`'s run of the reference solution for seats, in order, on one sandbox."""
    solvers = load_solution(ROOT / "scenarios" / "solutions" / "vendor-takedown.py")
    return check_world(world, solvers, seats, workdir)


@pytest.mark.check
def test_second_seat_of_a_case_seizes_after_the_first_swept(scaled_world, tmp_path):
    """Two seats of one case, one after the other on one sandbox: both seize (their own coins)."""
    first, second = next(c for c in _sharing(scaled_world) if len(c) > 1)[:2]
    outcomes = _check(scaled_world, [first, second], tmp_path)
    seize = {o.seat: o for o in outcomes if o.objective == "seize"}
    assert seize[first].ok and seize[second].ok, [o.line() for o in outcomes]
    assert seize[first].answer != seize[second].answer
    assert all(o.ok for o in outcomes), [o.line() for o in outcomes if not o.ok]


@pytest.mark.slow
def test_every_seat_of_forty_seizes(scaled_world, tmp_path):
    """All 40 seats in one check run: each seat of a case seizes after the ones before it."""
    assert max(len(c) for c in _sharing(scaled_world)) >= 3
    outcomes = _check(scaled_world, list(range(1, 41)), tmp_path)
    failed = [o.line() for o in outcomes if not o.ok]
    assert not failed, failed
    assert len({o.seat for o in outcomes if o.objective == "seize" and o.ok}) == 40


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The tiny course running (6 seats over 4 vendors), with its inject runner."""
    out = tmp_path_factory.mktemp("course") / "course.db"
    build_world(load_scenario(str(DATA / "course.yaml")), out)
    for sb, _, injects in serve_with_injects(out, out.with_name("course.state")):
        yield out, sb, injects


def test_move_funds_moves_each_sharing_seats_own_coins(course):
    """Two seats investigating one vendor: each move_funds spends that seat's own coins."""
    world, sb, injects = course
    a, b = next(c for c in _sharing(world) if len(c) > 1)[:2]
    conn = sqlite3.connect(world)
    subject = json.loads(
        conn.execute("SELECT bindings FROM seats WHERE n = ?", (a,)).fetchone()[0]
    )["subject"]
    sweep = {
        n: set(json.loads(answer)["spend_from"])
        for n, answer in conn.execute(
            "SELECT seat, answer FROM seat_objectives WHERE objective_id = 'seize'"
            " AND seat IN (?, ?)",
            (a, b),
        )
    }
    assert not sweep[a] & sweep[b]
    [first] = injects.fire("move", a)
    [second] = injects.fire("move", b)
    assert first.detail != second.detail
    live = sqlite3.connect(Path(sb.state) / "chain.db")
    spent = {
        txid: {r[0] for r in live.execute("SELECT address FROM spends WHERE txid = ?", (txid,))}
        for txid in (first.detail, second.detail)
    }
    paid = {
        txid: live.execute(
            "SELECT address, value FROM outputs WHERE txid = ? ORDER BY n", (txid,)
        ).fetchall()
        for txid in (first.detail, second.detail)
    }
    live.close()
    deposit = conn.execute(
        "SELECT a.address FROM addresses a JOIN wallets w ON w.id = a.wallet_id"
        " WHERE w.actor_id = 'bitbarn' AND a.purpose = ?",
        (f"deposit:{subject}",),
    ).fetchone()[0]
    conn.close()
    assert spent[first.detail] and spent[first.detail] <= sweep[a]
    assert spent[second.detail] and spent[second.detail] <= sweep[b]
    for txid in (first.detail, second.detail):
        assert (deposit, 2_000_000) in paid[txid]  # to the suspect's own exchange account


def test_move_funds_to_an_exchange_without_the_suspects_account_is_refused(tmp_path):
    """`sandbox validate` names FILE:LINE of the `to` that would pay a stranger's deposit."""
    path = _edited(tmp_path, ("    to: coinvault ", "    to: harbor "))
    line = 1 + path.read_text().split("\n").index(
        next(x for x in path.read_text().splitlines() if x.startswith("    to: harbor "))
    )
    result = _sandbox("validate", str(path), timeout=120)
    assert result.returncode != 0
    assert (
        f"{path}:{line}: injects[1].to: 'harbor' is an exchange where 'vendors-1' has no account"
        in (result.stdout + result.stderr)
    )
    assert "coinvault" in result.stderr


def test_a_fixed_payer_without_an_account_is_refused_too(tmp_path):
    """A move_funds of one named actor to an exchange it never used is refused as well."""
    path = _edited(
        tmp_path,
        ("    actor: $subject\n    to: coinvault ", "    actor: larkadmin\n    to: coinvault "),
    )
    result = _sandbox("validate", str(path), timeout=120)
    assert result.returncode != 0
    assert "injects[1].to: 'coinvault' is an exchange where 'larkadmin' has no account" in (
        result.stderr
    )
    assert "it has accounts at: harbor" in result.stderr


def test_shares_too_small_refuse_the_build_naming_the_objective(tmp_path):
    """200 seats on 4 vendors leave each seat too little: the build names the objective."""
    path = _edited(tmp_path, ("  count: 24\n  group: vendors", "  count: 200\n  group: vendors"))
    with pytest.raises(BuildError, match=r"objective 'seize' \(line \d+\).*50 seats share"):
        build_world(load_scenario(str(path)), tmp_path / "world.db")
    assert not (tmp_path / "world.db").exists()


def test_shared_sweep_without_the_seats_own_words_is_refused(tmp_path):
    """Seats sharing a suspect to sweep but not handed its words: refused, naming the objective."""
    path = _edited(
        tmp_path,
        (
            '  - id: phone\n    kind: phone_notes\n    title: "Seized phone: notes app export"\n'
            "    actor: $subject\n",
            "",
        ),
    )
    with pytest.raises(
        BuildError, match=r"objective 'seize' \(line \d+\): seats \d+, \d+, .* share 'vendors-\d'"
    ):
        build_world(load_scenario(str(path)), tmp_path / "world.db")


def test_sharing_builds_the_same_world_twice(tmp_path):
    """Stash wallets and their funding are deterministic: the same digest twice."""
    scenario = load_scenario(str(DATA / "course.yaml"))
    first = build_world(scenario, tmp_path / "a.db", secret=SECRET)
    second = build_world(scenario, tmp_path / "b.db", secret=SECRET)
    assert first["digest"] == second["digest"]
