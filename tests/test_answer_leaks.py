"""No answer on a trainee's screen unless the objective says so (architecture rule 8).

The brief has no automatic case block; a donation site prints its raised total and count
only when no objective asks for them (or its `show_totals` knob says so); `sandbox check`
fails naming the objective, the seat and the place when a seat's papers or the landing
page of a site of its case show its answer, unless the objective says `given: true`.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from bs4 import BeautifulSoup

from sandbox.leaks import shown
from sandbox.scenario import load_scenario
from sandbox.serve import Sandbox
from sandbox.world.build import build_world
from tests.test_scenario_v2 import changed, problems

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
TF = (ROOT / "scenarios" / "tf-donations.yaml").read_text(encoding="utf-8")
CINDER = '{id: cinder, kind: donation, name: "Cinder Defence Fund", operator: ember,'
# tf-donations with the first campaign's figures switched on by hand (and its solution).
SOLUTION = ROOT / "scenarios" / "solutions" / "tf-donations.py"
TF_SHOWING = TF.replace(CINDER, CINDER + " show_totals: true,").replace(
    "version: 2\n", f"version: 2\nsolution: {SOLUTION}\n", 1
)


def sandbox_check(*args: str) -> subprocess.CompletedProcess:
    """Run `sandbox check` in a subprocess, as an instructor would."""
    return subprocess.run(
        [sys.executable, "-m", "sandbox", "check", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def tf_showing(tmp_path_factory) -> Path:
    """tf-donations with `show_totals: true` on cinder (one of seats 1-3's campaigns), as a file."""
    assert "show_totals" in TF_SHOWING and "solution:" in TF_SHOWING
    path = tmp_path_factory.mktemp("tf") / "tf-showing.yaml"
    path.write_text(TF_SHOWING, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tf_world(tf_showing, tmp_path_factory) -> Path:
    """Its world, built once."""
    out = tmp_path_factory.mktemp("tf-world") / "tf.db"
    build_world(load_scenario(str(tf_showing)), out)
    return out


@pytest.fixture(scope="module")
def tf_builtin(tmp_path_factory) -> Path:
    """The built-in tf-donations world, built once."""
    out = tmp_path_factory.mktemp("tf-builtin") / "tf.db"
    build_world(load_scenario("tf-donations"), out)
    return out


def _rows(world: Path, sql: str, *args) -> list[tuple]:
    """The rows of a query on a world."""
    conn = sqlite3.connect(f"file:{world}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


# --- the brief ---------------------------------------------------------------------------


def test_brief_shows_no_case_block_nor_internal_ids(tf_builtin):
    """Each seat's brief names its campaign as the text does, and no binding or site address."""
    sites = dict(_rows(tf_builtin, "SELECT id, address FROM sites"))
    usernames = dict(_rows(tf_builtin, "SELECT id, username FROM actors"))
    names = dict(_rows(tf_builtin, "SELECT id, name FROM sites"))
    for n, bindings in _rows(tf_builtin, "SELECT n, bindings FROM seats WHERE n <= 3"):
        bindings = json.loads(bindings)
        (brief,) = _rows(
            tf_builtin, "SELECT content FROM artefacts WHERE seat = ? AND id = 'brief'", n
        )
        brief = bytes(brief[0]).decode() if not isinstance(brief[0], str) else brief[0]
        assert "Your case" not in brief
        assert f"**{names[bindings['campaign']]}**" in brief  # as the text names it
        assert sites[bindings["campaign"]] not in brief  # the site's .onion: find it
        for var, target in bindings.items():  # buy01-style flow ids, actor and site ids
            assert not re.search(rf"(?<![\w-]){re.escape(target)}(?![\w-])", brief), (n, var)
        assert usernames[bindings["suspect"]] not in brief


# --- the donation page's figures ------------------------------------------------------------


def test_totals_default_off_where_an_objective_asks_for_them(tf_showing):
    """total-raised asks every campaign's total: the knob is off unless set by hand."""
    builtin = load_scenario("tf-donations")
    assert [s.show_totals for s in builtin.sites if s.kind == "donation"] == [False] * 3
    showing = load_scenario(str(tf_showing))
    assert {s.id: s.show_totals for s in showing.sites if s.kind == "donation"} == {
        "cinder": True,
        "bastion": False,
        "kiln": False,
    }
    assert load_scenario(str(DATA / "tiny.yaml")).site("campaign").show_totals is True


def _landing_text(world: Path, state: Path, site: str) -> str:
    """The text of a site's landing page, fetched through the gateway of a running sandbox."""
    address = dict(_rows(world, "SELECT id, address FROM sites"))[site]
    with Sandbox(world, socks_port=0, http_port=0, explorer_port=0, state=state) as sb:
        host, port = sb.gateway.socks_address
        proxies = {"http": f"socks5h://{host}:{port}"}
        r = requests.get(f"http://{address}/", proxies=proxies, timeout=60)
    assert r.status_code == 200, (site, r.status_code)
    text = BeautifulSoup(r.text, "lxml").get_text(" ", strip=True)
    assert "Send Bitcoin (BTC)" in text  # the campaign page itself, with its address
    return text


def test_donation_page_hides_the_figures_an_objective_asks_for(tf_builtin, tmp_path):
    """tf-donations asks every campaign's total: cinder's page prints no total, goal or count."""
    text = _landing_text(tf_builtin, tmp_path, "cinder")
    assert "raised" not in text and "goal" not in text and "Progress" not in text
    assert not re.search(r"\d+ donations|\d+% ·", text)


def test_donation_page_shows_the_figures_when_the_knob_is_on(tf_world, tmp_path):
    """show_totals: true on cinder: its page prints the total raised and the count."""
    text = _landing_text(tf_world, tmp_path, "cinder")
    figures = re.search(r"([\d.]+) BTC raised of a [\d.]+ BTC goal · (\d+) donations", text)
    assert figures, text
    query = (  # the seat whose case is cinder: seats are dealt cases in a secret order
        "SELECT so.answer FROM seat_objectives so JOIN seats s ON s.n = so.seat"
        " WHERE so.objective_id = 'total-raised' AND json_extract(s.bindings, '$.campaign') = ?"
        " ORDER BY s.n LIMIT 1"
    )
    ((total,),) = _rows(tf_world, query, "cinder")
    assert abs(float(figures.group(1)) - json.loads(total)) < 0.0001


# --- sandbox check -------------------------------------------------------------------------


@pytest.mark.check
def test_check_fails_when_the_brief_shows_an_answer():
    """leaky.yaml prints the market's .onion in the brief: the check names it and fails."""
    scenario = load_scenario(str(DATA / "leaky.yaml"))
    result = sandbox_check(str(DATA / "leaky.yaml"), "--seat", "1")
    assert result.returncode == 1, result.stdout + result.stderr
    onion = re.search(r"market-onion: '([a-z2-7]{56}\.onion)'", result.stdout)
    assert onion, result.stdout  # solved all the same: the leak is what fails
    assert (
        f"{scenario.source}: objective 'market-onion', seat 1: the answer '{onion.group(1)}' "
        "shows in the brief (brief.md)"
    ) in result.stderr
    assert "answer(s) shown to trainees" in result.stderr
    assert "objective 'vendor-address', seat 1" not in result.stderr


def _given(tmp_path: Path) -> Path:
    """leaky.yaml with `given: true` on market-onion, written to tmp_path."""
    text = (DATA / "leaky.yaml").read_text(encoding="utf-8")
    old = "    answer: {site: copperleaf, field: address}\n"
    assert text.count(old) == 1
    text = text.replace(old, old + "    given: true\n")
    solution = str(ROOT / "scenarios" / "solutions" / "intro.py")
    path = tmp_path / "given.yaml"
    path.write_text(text.replace("../../scenarios/solutions/intro.py", solution), encoding="utf-8")
    return path


@pytest.mark.check
def test_given_true_allows_the_answer(tmp_path):
    """The same scenario with `given: true` on market-onion passes."""
    result = sandbox_check(str(_given(tmp_path)), "--seat", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "LEAK" not in result.stdout + result.stderr
    assert ": solvable: 3/3 objectives" in result.stdout


@pytest.mark.check
def test_check_fails_when_a_landing_page_shows_an_answer(tf_showing):
    """Cinder printing its raised total fails total-raised for its seat, naming the page.

    Seats 1 to 3 cover the three campaigns once, in an order the check's fresh secret picks.
    """
    result = sandbox_check(str(tf_showing), "--seat", "1", "--seat", "2", "--seat", "3")
    assert result.returncode == 1, result.stdout + result.stderr
    found = re.findall(
        r"objective 'total-raised', seat ([123]): the answer '[\d.]+' shows on the landing page "
        r"of ([a-z]+) \(http://[a-z2-7]{56}\.onion/\)",
        result.stderr,
    )
    assert [site for _, site in found] == ["cinder"], result.stderr
    assert f"ok   seat {found[0][0]} total-raised" in result.stdout  # solvable, but given away


# --- what counts as showing ---------------------------------------------------------------


def test_numbers_match_as_the_comparison_would_accept_them():
    """A total shows however it is printed, within tolerance; small figures are skipped."""
    page = "0,305 BTC raised of a 0.5 BTC goal · 25 donations · server 192.0.2.55"
    assert shown(0.30500004, "number", page, tolerance=0.0001) == "0,305"
    assert shown(0.3061, "number", page, tolerance=0.0001) is None
    assert shown(0.3061, "number", page, tolerance=0.01, relative=True) == "0,305"
    assert shown(25, "number", page) is None  # a small count would match by accident
    assert shown(125, "number", "125 donations") == "125"
    assert shown(0.5, "number", page) is None  # too few digits to mean anything
    assert shown(192.0, "number", page) is None  # part of an IP, not a number


def test_texts_lists_and_exchanges():
    """Whole words, any member of a list, and an exchange only when it is the only one named."""
    assert shown("Gareth Fraser", "nocase", "held by  gareth fraser.") == "gareth fraser"
    assert shown("192.0.2.5", "exact", "at 192.0.2.55") is None
    assert shown("Li", "nocase", "Lisbon, Li") is None  # too short to look for
    addresses = ["bc1qexampleaaa", "bc1qexamplebbb"]
    assert shown(addresses, "set", "pay bc1qexamplebbb now") == "bc1qexamplebbb"
    exchanges = ("CoinVault", "Harbor Exchange")
    listing = "portals: CoinVault (coinvault.test), Harbor Exchange (harborex.test)"
    assert shown("CoinVault", "nocase", listing, field="exchange", exchanges=exchanges) is None
    told = "He cashed out at CoinVault."
    assert shown("CoinVault", "nocase", told, field="exchange", exchanges=exchanges) == "CoinVault"
    assert shown({"spend_from": ["x"], "pay_to": "y"}, "sweep", "x y") is None


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "line", "path", "expected"),
    [
        (
            "name: Test Market,",
            "name: Test Market, show_totals: true,",
            11,
            "sites[0].show_totals",
            "show_totals is only for donation sites, not a market",
        ),
        (
            "name: Test Market,",
            "name: Test Market, show_totals: sometimes,",
            11,
            "sites[0].show_totals",
            "expected true or false, got",
        ),
        (
            "    answer: {actor: $subject, field: name}\n",
            "    answer: {actor: $subject, field: name}\n    given: 1\n",
            23,
            "objectives[0].given",
            "expected true or false, got",
        ),
    ],
)
def test_new_fields_are_validated(tmp_path, old, new, line, path, expected):
    """show_totals only on donation sites and a boolean; given a boolean."""
    found = problems(tmp_path, changed(old, new))
    assert len(found) == 1, found
    assert found[0][:2] == (line, path), found
    assert expected in found[0][2], found[0][2]


def test_given_loads(tmp_path):
    """given: true reaches the model; its default is false."""
    path = _given(tmp_path)
    assert not any(o.given for o in load_scenario(str(DATA / "leaky.yaml")).objectives)
    given = {o.id: o.given for o in load_scenario(str(path)).objectives}
    assert given == {"market-onion": True, "vendor-address": False, "cashout-exchange": False}
