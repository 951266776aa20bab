"""The classroom portal: joining, answers, hints, score, instructor pages, resets, crashes."""

from __future__ import annotations

import csv
import http.client
import io
import json
import re
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.parse
from functools import partial
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from sandbox.classroom import create_app, create_replica_app
from sandbox.classroom.compare import answer_matches, parse_number, split_set
from sandbox.leader import from_workers
from sandbox.ledger.keys import Key
from sandbox.scenario import load_scenario
from sandbox.world.build import build_world
from tests.ports import free_port
from tests.processes import kill_group, read_until_ready, start_sandbox, stop

PASSWORD = "correct-horse-42"
PIN = "4711"
COURSE = Path(__file__).parent / "data" / "course.yaml"


@pytest.fixture(scope="session")
def course_world(tmp_path_factory) -> Path:
    """The world of tests/data/course.yaml: six seats, objectives of every kind, injects."""
    return build_course_world(tmp_path_factory.mktemp("course") / "course.db")


def build_course_world(out: Path) -> Path:
    """Build tests/data/course.yaml into out."""
    build_world(load_scenario(str(COURSE)), out)
    return out


def course_key(world: Path) -> dict:
    """The key {(seat, objective): answer} and seats {n: (code, wallet, wif)}, from the world."""
    conn = sqlite3.connect(world)
    try:
        key = {
            (s, o): json.loads(a)
            for s, o, a in conn.execute("SELECT seat, objective_id, answer FROM seat_objectives")
        }
        seats = {n: (code, addr, wif) for n, code, addr, wif in conn.execute(
            "SELECT n, code, wallet_address, wallet_wif FROM seats")}  # fmt: skip
    finally:
        conn.close()
    return {"key": key, "seats": seats, "codes": {n: v[0] for n, v in seats.items()}}


@pytest.fixture(scope="session")
def codes(course_world) -> dict[int, str]:
    """Seat number -> seat code."""
    return course_key(course_world)["codes"]


@pytest.fixture(scope="session")
def key(course_world) -> dict:
    """The answer key."""
    return course_key(course_world)["key"]


class Portal:
    """A classroom app served by werkzeug's threaded server on a free loopback port; with
    workers, its url is that of the app its worker processes run (create_replica_app),
    served the same way, which passes what it does not answer to the app."""

    def __init__(self, world: Path, state: Path, workers: bool = False, **kwargs):
        """Start serving."""
        self.app = create_app(world, state, PASSWORD, **kwargs)
        if workers:  # as `sandbox up` serves the own part: reached by the workers alone
            from_workers(self.app)
        self.servers = [make_server("127.0.0.1", 0, self.app, threaded=True)]
        self.url = f"http://127.0.0.1:{self.servers[0].server_port}"
        if workers:
            self.replica = create_replica_app(world, state, self.url + "/")
            self.servers.append(make_server("127.0.0.1", 0, self.replica, threaded=True))
            self.url = f"http://127.0.0.1:{self.servers[1].server_port}"
        for server in self.servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()

    @property
    def classroom(self):
        """The app's Classroom."""
        return self.app.extensions["classroom"]

    def close(self) -> None:
        """Stop serving and close the stores."""
        for server in self.servers:
            server.shutdown()
            server.server_close()
        if len(self.servers) > 1:
            self.replica.extensions["classroom"].close()
        self.classroom.close()


@pytest.fixture(params=["alone", "workers"])
def portal(request, course_world, tmp_path):
    """A fresh portal (fresh state) for one test, its exercise clock running: served by
    its own process alone, or through the app its worker processes run."""
    p = Portal(course_world, tmp_path / "state", workers=request.param == "workers", tick=False)
    p.classroom.progress.start()
    yield p
    p.close()


def csrf_of(html: str) -> str:
    """The CSRF token a page carries."""
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def trainee(portal_url: str, code: str, name: str = "Anna Analyst", pin: str = PIN) -> tuple:
    """A requests session joined at a seat with a PIN; returns (session, csrf token)."""
    s = requests.Session()
    r = s.get(f"{portal_url}/join", timeout=10)
    r = s.post(
        f"{portal_url}/join",
        data={"csrf": csrf_of(r.text), "code": code, "name": name, "pin": pin},
        timeout=10,
    )
    assert r.status_code == 200 and "Objectives" in r.text, r.text[:500]
    return s, csrf_of(r.text)


def instructor(portal_url: str) -> tuple:
    """A requests session logged in as the instructor; returns (session, csrf token)."""
    s = requests.Session()
    r = s.get(f"{portal_url}/instructor/login", timeout=10)
    r = s.post(
        f"{portal_url}/instructor/login",
        data={"csrf": csrf_of(r.text), "password": PASSWORD},
        timeout=10,
    )
    assert r.status_code == 200 and "Live board" in r.text, r.text[:500]
    return s, csrf_of(r.text)


def answer(s, url, csrf, objective, text, **kw):
    """Submit an answer; returns the final response (after the redirect)."""
    return s.post(
        f"{url}/objectives/{objective}/answer",
        data={"csrf": csrf, "answer": text},
        timeout=10,
        **kw,
    )


def score_of(html: str) -> int:
    """The score shown on a trainee's page."""
    return int(re.search(r'id="score" data-score="(\d+)"', html).group(1))


# -- answers: pure comparisons -------------------------------------------------------------


def test_comparisons_normalise_what_trainees_type():
    """nocase/exact/set/number accept what people type and refuse what differs."""
    assert answer_matches("nocase", "  JOHN   smith ", "John Smith")
    assert not answer_matches("nocase", "John Smyth", "John Smith")
    assert answer_matches("exact", " bc1qxyz \n", "bc1qxyz") and not answer_matches(
        "exact", "BC1QXYZ", "bc1qxyz"
    )
    base58 = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
    assert answer_matches("set", f"bc1qAAA,\n{base58}  ", [base58, "bc1qaaa"])
    assert not answer_matches(
        "set", base58.lower() + " bc1qaaa", [base58, "bc1qaaa"]
    )  # base58 keeps case
    assert not answer_matches("set", base58, [base58, "bc1qaaa"])
    assert parse_number("0,05 BTC") == 0.05 and parse_number("1,234.5") == 1234.5
    assert answer_matches("number", "0.1251", 0.125, tolerance=0.001)
    assert not answer_matches("number", "0.127", 0.125, tolerance=0.001)
    assert answer_matches("number", "102", 100, tolerance=0.02, relative=True)
    assert not answer_matches("number", "103", 100, tolerance=0.02, relative=True)
    assert not answer_matches("number", "a lot", 100, tolerance=1)
    assert split_set("a, b\nc  d") == {"a", "b", "c", "d"}


# -- trainees ------------------------------------------------------------------------------


def test_join_shows_the_seats_own_case_and_never_the_key(portal, course_world, codes, key):
    """A trainee joins by code (any case, no dash), sees their question, brief and wallet, not the key."""
    info = course_key(course_world)
    s, _ = trainee(portal.url, codes[1].lower().replace("-", ""))
    page = s.get(f"{portal.url}/", timeout=10).text
    _code, address, wif = info["seats"][1]
    assert "What is the real name of the vendor" in page and "seat 1" in page
    assert address in page and wif in page
    assert "Identify " in page  # the brief, inline
    for objective in ("email", "iban", "document", "phone", "login-ip", "balance"):
        assert str(key[(1, objective)]) not in page, objective
    assert "spend_from" not in page
    shot = s.get(f"{portal.url}/artefacts/shot", timeout=10)
    assert shot.status_code == 200 and shot.content.startswith(b"\x89PNG")
    assert "attachment" in shot.headers["Content-Disposition"]
    notes = s.get(f"{portal.url}/artefacts/notes?view=1", timeout=10)
    assert codes[1] in notes.text and notes.headers["Content-Type"].startswith("text/html")
    assert "sandbox" in notes.headers["Content-Security-Policy"]
    raw = s.get(f"{portal.url}/artefacts/notes", timeout=10)
    assert codes[1] in raw.text and "attachment" in raw.headers["Content-Disposition"]
    assert s.get(f"{portal.url}/artefacts/nope", timeout=10).status_code == 404


def test_bad_join_input_gets_a_clear_message(portal, codes):
    """An unknown code, an empty name and a missing CSRF token are each refused plainly."""
    s = requests.Session()
    token = csrf_of(s.get(f"{portal.url}/join", timeout=10).text)
    r = s.post(f"{portal.url}/join", data={"csrf": token, "code": "NOPE-1", "name": "A"})
    assert r.status_code == 400 and "No seat has the code" in r.text
    r = s.post(
        f"{portal.url}/join", data={"csrf": token, "code": codes[1], "name": "  ", "pin": PIN}
    )
    assert r.status_code == 400 and "Type your name" in r.text
    r = s.post(f"{portal.url}/join", data={"csrf": token, "code": codes[1], "name": "Anna"})
    assert r.status_code == 400 and "Choose a PIN" in r.text
    r = s.post(f"{portal.url}/join", data={"code": codes[1], "name": "Anna", "pin": PIN})
    assert r.status_code == 400 and "reload" in r.text
    assert s.get(f"{portal.url}/", timeout=10).url.endswith("/join")


def test_right_and_wrong_answers_score_and_lock(portal, codes, key):
    """A wrong answer costs an attempt, a right one scores and locks the objective."""
    assert key[(1, "name")] != key[(2, "name")]  # seats differ
    s, csrf = trainee(portal.url, codes[2])
    r = answer(s, portal.url, csrf, "name", key[(1, "name")])  # the neighbour's answer
    assert r.status_code == 200 and "Not correct. 4 attempts left" in r.text
    assert score_of(r.text) == 0
    r = answer(s, portal.url, csrf, "name", "  " + key[(2, "name")].upper() + " ")
    assert "Correct: name solved, +20 points" in r.text and score_of(r.text) == 20
    r = answer(s, portal.url, csrf, "name", key[(2, "name")])
    assert r.status_code == 409 and "already solved" in r.text
    r = answer(s, portal.url, csrf, "addresses", "\n".join(reversed(key[(2, "addresses")])))
    assert score_of(r.text) == 30
    r = answer(s, portal.url, csrf, "balance", f"{key[(2, 'balance')] + 0.00005:.8f} BTC")
    assert score_of(r.text) == 40
    r = answer(s, portal.url, csrf, "donated", f"{key[(2, 'donated')] * 1.05:.6f}")
    assert "Not correct" in r.text  # 5% off a 2% tolerance
    r = answer(
        s, portal.url, csrf, "donated", f"{key[(2, 'donated')] * 1.01:.6f}".replace(".", ",")
    )
    assert score_of(r.text) == 50


def test_attempt_limit_locks_an_objective(portal, codes, key):
    """After the last allowed wrong attempt even the right answer is refused."""
    s, csrf = trainee(portal.url, codes[1])
    for left in (4, 3, 2, 1):
        said = f"{left} attempt{'' if left == 1 else 's'} left"  # plural forms (gettext)
        assert said in answer(s, portal.url, csrf, "name", "wrong").text
    assert "last attempt" in answer(s, portal.url, csrf, "name", "wrong").text
    r = answer(s, portal.url, csrf, "name", key[(1, "name")])
    assert r.status_code == 409 and "No attempts left" in r.text
    assert score_of(r.text) == 0


def test_bad_submissions_get_proper_statuses(portal, codes):
    """Empty answers, unknown objectives, no seat and no CSRF token are refused."""
    s, csrf = trainee(portal.url, codes[1])
    r = answer(s, portal.url, csrf, "name", "   ")
    assert r.status_code == 400 and "Type an answer" in r.text
    r = answer(s, portal.url, csrf, "no-such", "x")
    assert r.status_code == 404 and "no-such" in r.text
    r = s.post(f"{portal.url}/objectives/name/answer", data={"answer": "x"}, timeout=10)
    assert r.status_code == 400
    anonymous = requests.Session()
    token = csrf_of(anonymous.get(f"{portal.url}/join", timeout=10).text)
    r = answer(anonymous, portal.url, token, "name", "x")
    assert r.status_code == 403
    assert portal.classroom.progress.submissions() == []


def test_hints_cost_points_in_order_and_once(portal, codes, key):
    """Hints unlock one at a time, their cost comes off the score, never below zero."""
    s, csrf = trainee(portal.url, codes[3])
    r = s.post(f"{portal.url}/objectives/name/hint", data={"csrf": csrf, "position": 0})
    assert f"Search {key[(3, 'handle')]} on Chirper." in r.text  # the seat's own suspect
    assert "Ask the exchange." not in r.text
    assert score_of(r.text) == 0  # 0 - 5, floored
    r = s.post(f"{portal.url}/objectives/name/hint", data={"csrf": csrf, "position": 0})
    assert "Ask the exchange." not in r.text  # a stale double-click unlocks nothing more
    r = answer(s, portal.url, csrf, "name", key[(3, "name")])
    assert score_of(r.text) == 15  # 20 - 5
    r = s.post(f"{portal.url}/objectives/name/hint", data={"csrf": csrf, "position": 1})
    assert r.status_code == 409 and "Already solved" in r.text and score_of(r.text) == 15
    r = s.post(f"{portal.url}/objectives/city/hint", data={"csrf": csrf})
    assert r.status_code == 409 and "no more hints" in r.text
    other, ocsrf = trainee(portal.url, codes[4], "Ola")
    for position in (0, 1):
        other.post(f"{portal.url}/objectives/name/hint", data={"csrf": ocsrf, "position": position})
    r = answer(other, portal.url, ocsrf, "name", key[(4, "name")])
    assert "Ask the exchange." in r.text and score_of(r.text) == 7  # 20 - 5 - 8


def test_solving_fires_the_milestone_inject_message(portal, codes, key):
    """Solving an objective with a `solved` inject puts its message on that seat's page only."""
    s, csrf = trainee(portal.url, codes[1])
    other, _ = trainee(portal.url, codes[2], "Ben")
    answer(s, portal.url, csrf, "name", key[(1, "name")])
    assert "Good. Now follow" in s.get(f"{portal.url}/", timeout=10).text
    me = s.get(f"{portal.url}/me.json", timeout=10).json()
    assert me["score"] == 20 and me["solved"] == ["name"]
    assert [m["text"].split()[:3] for m in me["messages"]] == [["Good.", "Now", "follow"]]
    assert "Good. Now follow" not in other.get(f"{portal.url}/", timeout=10).text
    assert portal.classroom.progress.fired("tip", 1)
    assert not portal.classroom.progress.fired("tip", 2)


# -- instructor ----------------------------------------------------------------------------


def test_instructor_pages_refuse_trainees_and_forged_cookies(portal, codes):
    """Trainees get 403 on every instructor page; no cookie or a forged one gets the login form."""
    s, csrf = trainee(portal.url, codes[1])
    pages = ["/instructor/", "/instructor/board.json", "/instructor/seats", "/instructor/seats/1",
             "/instructor/connections", "/instructor/injects", "/instructor/demo",
             "/instructor/results.csv"]  # fmt: skip
    for page in pages:
        r = s.get(portal.url + page, timeout=10, allow_redirects=False)
        assert r.status_code == 403, page
        assert codes[2] not in r.text and "spend_from" not in r.text
    r = s.post(
        f"{portal.url}/instructor/reset", data={"csrf": csrf, "all": "1", "confirm": "RESET"}
    )
    assert r.status_code == 403
    r = s.post(f"{portal.url}/instructor/injects/tip/fire", data={"csrf": csrf})
    assert r.status_code == 403
    # Forged cookies: a tampered signature, a hand-made payload, garbage appended.
    cookie = s.cookies.get("classroom")
    payload, _, signature = cookie.rpartition(".")
    forged = requests.Session()
    for fake in (payload + "." + signature[::-1], "eyJpbnN0IjoieCJ9.Zz.abc", cookie + "x"):
        forged.cookies.set("classroom", fake)
        r = forged.get(f"{portal.url}/instructor/board.json", timeout=10, allow_redirects=False)
        assert r.status_code == 403 and "seats" not in r.text
        r = forged.get(f"{portal.url}/instructor/", timeout=10, allow_redirects=False)
        assert r.status_code == 302 and "/instructor/login" in r.headers["Location"]
    bad = requests.Session()
    token = csrf_of(bad.get(f"{portal.url}/instructor/login", timeout=10).text)
    r = bad.post(f"{portal.url}/instructor/login", data={"csrf": token, "password": "guess"})
    assert r.status_code == 403 and "Wrong password" in r.text
    assert bad.get(f"{portal.url}/instructor/board.json", timeout=10).status_code == 403


def test_board_csv_and_seat_page_show_progress(portal, codes, key):
    """The board JSON and the CSV follow submissions; the seat page shows the key."""
    s, csrf = trainee(portal.url, codes[2], "Ben Bakker")
    teacher, _ = instructor(portal.url)
    before = teacher.get(f"{portal.url}/instructor/board.json", timeout=10).json()
    seat2 = next(x for x in before["seats"] if x["n"] == 2)
    assert seat2["name"] == "Ben Bakker" and seat2["score"] == 0
    answer(s, portal.url, csrf, "name", "wrong")
    answer(s, portal.url, csrf, "name", key[(2, "name")])
    after = teacher.get(f"{portal.url}/instructor/board.json", timeout=10).json()
    seat2 = next(x for x in after["seats"] if x["n"] == 2)
    assert seat2["score"] == 20 and seat2["cells"]["name"] == {
        "solved": True, "attempts": 2, "hints": 0, "exhausted": False}  # fmt: skip
    assert any(e["kind"] == "answer" and e["ok"] for e in after["events"])
    r = teacher.get(f"{portal.url}/instructor/results.csv", timeout=10)
    assert r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == len(codes)
    row = next(x for x in rows if x["seat"] == "2")
    assert row["name"] == "Ben Bakker" and row["score"] == "20" and row["name:attempts"] == "2"
    assert row["name:solved"] == "1" and row["name:solved_at"]
    seat_page = teacher.get(f"{portal.url}/instructor/seats/2", timeout=10).text
    assert key[(2, "iban")] in seat_page and "spend_from" in seat_page
    seats_page = teacher.get(f"{portal.url}/instructor/seats", timeout=10).text
    assert all(code in seats_page for code in codes.values())
    demo = teacher.get(f"{portal.url}/instructor/demo", timeout=10).text
    assert "Ben Bakker" in demo and "Scoreboard" in demo


def test_reset_one_seat_and_everyone(portal, codes, key):
    """Resetting a seat clears only its progress; resetting all clears everyone and the clock."""
    a, acsrf = trainee(portal.url, codes[1], "Anna")
    b, bcsrf = trainee(portal.url, codes[2], "Ben")
    answer(a, portal.url, acsrf, "name", key[(1, "name")])
    answer(b, portal.url, bcsrf, "name", key[(2, "name")])
    teacher, tcsrf = instructor(portal.url)
    teacher.post(f"{portal.url}/instructor/clock/start", data={"csrf": tcsrf}, timeout=10)
    assert portal.classroom.progress.started_at() is not None
    r = teacher.post(f"{portal.url}/instructor/reset", data={"csrf": tcsrf, "seat": "1"})
    assert r.status_code == 200 and "Seat 1 was reset" in r.text
    assert score_of(a.get(f"{portal.url}/", timeout=10).text) == 0
    assert score_of(b.get(f"{portal.url}/", timeout=10).text) == 20
    assert "Good. Now follow" not in a.get(f"{portal.url}/", timeout=10).text
    r = teacher.post(f"{portal.url}/instructor/reset", data={"csrf": tcsrf, "all": "1"})
    assert r.status_code == 400 and "RESET" in r.text
    r = teacher.post(
        f"{portal.url}/instructor/reset", data={"csrf": tcsrf, "all": "1", "confirm": "RESET"}
    )
    assert r.status_code == 200
    assert score_of(b.get(f"{portal.url}/", timeout=10).text) == 0
    assert portal.classroom.progress.started_at() is None
    r = teacher.post(f"{portal.url}/instructor/reset", data={"csrf": tcsrf, "seat": "99"})
    assert r.status_code == 400 and "no seat" in r.text


def test_instructor_fires_injects_by_hand(portal, codes):
    """Firing an inject records it and says so; one that cannot act here says why."""
    teacher, tcsrf = instructor(portal.url)
    page = teacher.get(f"{portal.url}/instructor/injects", timeout=10).text
    assert "by hand" in page and "when a seat solves name" in page and "30 min after" in page
    r = teacher.post(f"{portal.url}/instructor/injects/tip/fire", data={"csrf": tcsrf, "seat": "2"})
    assert r.status_code == 200 and "fired for seat 2" in r.text
    assert portal.classroom.progress.fired("tip", 2)
    b, _ = trainee(portal.url, codes[2], "Ben")
    a, _ = trainee(portal.url, codes[1], "Anna")
    assert "Good. Now follow" in b.get(f"{portal.url}/", timeout=10).text
    assert "Good. Now follow" not in a.get(f"{portal.url}/", timeout=10).text
    # No running sandbox behind this portal: a site cannot be taken offline.
    r = teacher.post(f"{portal.url}/instructor/injects/down/fire", data={"csrf": tcsrf})
    assert r.status_code == 200 and "down: not fired" in r.text
    assert not portal.classroom.progress.fired("down", None)
    r = teacher.post(f"{portal.url}/instructor/injects/nope/fire", data={"csrf": tcsrf})
    assert r.status_code == 404
    r = teacher.post(f"{portal.url}/instructor/injects/tip/fire", data={"csrf": tcsrf, "seat": "x"})
    assert r.status_code == 400


def test_connection_log_page_reads_the_gateway_log(course_world, tmp_path):
    """The instructor sees the gateway's connections and containment events, per visitor,
    through the log reader the sandbox hands the portal."""
    from sandbox.gateway import ConnectionLog
    from sandbox.gateway.log import ConnectionRecord, ContainmentRecord, latest

    path = tmp_path / "state" / "gateway.db"
    portal = Portal(course_world, path.parent, tick=False, gateway_log=partial(latest, path))
    try:
        teacher, _ = instructor(portal.url)
        page = teacher.get(f"{portal.url}/instructor/connections", timeout=10).text
        assert "has not logged anything yet" in page
        log = ConnectionLog(path)
        now = time.time()
        log.connection(ConnectionRecord(now, now + 1, "anna", "127.0.0.1:5000", "socks",
                                        "classroom.test", 80, "ok", 10, 20))  # fmt: skip
        log.containment(ContainmentRecord(now, "ben", "127.0.0.1:5001", "example.com", "clearnet"))
        log.close()
        page = teacher.get(f"{portal.url}/instructor/connections", timeout=10).text
        assert "anna" in page and "classroom.test" in page and "example.com" in page
        page = teacher.get(f"{portal.url}/instructor/connections?visitor=ben", timeout=10).text
        assert "example.com" in page and "classroom.test:80" not in page
    finally:
        portal.close()


def test_connection_log_page_without_a_gateway(portal):
    """A portal served without a gateway says so instead of failing."""
    teacher, _ = instructor(portal.url)
    page = teacher.get(f"{portal.url}/instructor/connections", timeout=10).text
    assert "No gateway runs with this classroom" in page


def test_pages_allow_nothing_from_elsewhere(portal):
    """Every page has a strict CSP and only same-origin scripts and styles."""
    r = requests.get(f"{portal.url}/join", timeout=10)
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe" not in csp
    assert not re.search(r'(src|href)="(https?:)?//', r.text)
    assert requests.get(f"{portal.url}/static/board.js", timeout=10).status_code == 200


# -- the sweep objective, on the live chain ------------------------------------------------


def test_sweep_is_judged_on_the_live_chain(course_world, tmp_path, codes, key):
    """A transaction from the suspect's coins to the seat's wallet, on the live chain, solves it."""
    from sandbox.ledger.address import script_pubkey
    from sandbox.ledger.live.chain import LiveChain
    from sandbox.ledger.tx import Tx, TxIn, TxOut, serialize, sign_input

    state = tmp_path / "state"
    sweep = key[(1, "seize")]
    marks = ",".join("?" * len(sweep["spend_from"]))
    conn = sqlite3.connect(course_world)
    txid, n, value, address, secret = conn.execute(
        "SELECT t.txid, o.n, o.value, a.address, a.secret FROM outputs o "
        "JOIN transactions t ON t.id = o.tx_id JOIN addresses a ON a.id = o.address_id "
        f"WHERE a.address IN ({marks}) AND NOT EXISTS (SELECT 1 FROM inputs i "
        "WHERE i.prev_tx_id = o.tx_id AND i.prev_n = o.n) ORDER BY o.value DESC LIMIT 1",
        sweep["spend_from"],
    ).fetchone()
    conn.close()
    tx = Tx(inputs=[TxIn(bytes.fromhex(txid)[::-1], n)],
            outputs=[TxOut(value - 2000, script_pubkey(sweep["pay_to"]))])  # fmt: skip
    sign_input(tx, 0, Key(bytes(secret)), script_pubkey(address), value)
    live = LiveChain(course_world, state)
    try:
        swept = live.broadcast(serialize(tx).hex())
    finally:
        live.close()
    p = Portal(course_world, state, tick=False)
    p.classroom.progress.start()
    try:
        s, csrf = trainee(p.url, codes[1])
        assert "Not correct" in answer(s, p.url, csrf, "seize", "ab" * 32).text
        assert "Not correct" in answer(s, p.url, csrf, "seize", "not a txid").text
        r = answer(s, p.url, csrf, "seize", swept.upper())
        assert "Correct: seize solved" in r.text and score_of(r.text) == 30
        assert "0.00000000 BTC" not in r.text  # the wallet's balance includes the sweep
        other, ocsrf = trainee(p.url, codes[2], "Ben")  # another seat's suspect and wallet
        assert "Not correct" in answer(other, p.url, ocsrf, "seize", swept).text
    finally:
        p.close()


# -- crashes -------------------------------------------------------------------------------


def _up(world: Path, state: Path, port: int) -> subprocess.Popen:
    """`sandbox up` with the classroom on port, waiting until it prints that it is ready."""
    proc = start_sandbox(
        "up", "--world", str(world), "--state", str(state),
        "--socks-port", "0", "--http-port", "0", "--explorer-port", "0",
        "--classroom-port", str(port), "--instructor-password", PASSWORD,
    )  # fmt: skip
    try:
        output = read_until_ready(proc, 90)
        assert f"http://127.0.0.1:{port}/" in output and PASSWORD in output, output
    except BaseException:  # not ready in time, or not as expected: leave nothing running
        kill_group(proc)
        proc.stdout.close()
        raise
    return proc


@pytest.mark.slow  # two real `sandbox up` processes, one killed
def test_progress_survives_kill_9_and_restart(course_world, tmp_path, codes, key):
    """Answers accepted before a `kill -9` of `sandbox up` are all there after a restart."""
    state, port = tmp_path / "state", free_port()
    proc = _up(course_world, state, port)
    url = f"http://127.0.0.1:{port}"
    try:
        teacher, tcsrf = instructor(url)
        teacher.post(f"{url}/instructor/clock/start", data={"csrf": tcsrf}, timeout=10)
        s, csrf = trainee(url, codes[1], "Anna")
        answer(s, url, csrf, "addresses", "nope")
        s.post(f"{url}/objectives/name/hint", data={"csrf": csrf}, timeout=10)
        r = answer(s, url, csrf, "name", key[(1, "name")])
        assert score_of(r.text) == 15  # the answer's response came: it is on disk
    finally:
        kill_group(proc)  # a crash: SIGKILL to `sandbox up` and anything it started
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    proc = _up(course_world, state, port)
    try:
        page = s.get(f"{url}/", timeout=10)  # the same cookie: the secret is the state's
        assert page.url.rstrip("/") == url and score_of(page.text) == 15
        teacher, _ = instructor(url)
        board = teacher.get(f"{url}/instructor/board.json", timeout=10).json()
        seat1 = next(x for x in board["seats"] if x["n"] == 1)
        assert seat1["name"] == "Anna" and seat1["cells"]["addresses"]["attempts"] == 1
        assert seat1["cells"]["name"] == {
            "solved": True, "attempts": 1, "hints": 1, "exhausted": False}  # fmt: skip
        # Through the gateway too: classroom.test answers on the SOCKS port.
        status = json.loads((state / "run.json").read_text())
        assert status["classroom"] == f"{url}/" and status["classroom_name"] == "classroom.test"
        proxy = f"socks5h://{status['socks']}"
        r = requests.get("http://classroom.test/healthz", proxies={"http": proxy}, timeout=20)
        assert r.status_code == 200 and r.text == "ok\n"
    finally:
        stop(proc, signal.SIGINT, 30)


def test_injects_fired_from_the_portal_act_on_the_running_sandbox(course_world, tmp_path, codes):
    """Under `Sandbox`, firing `down` from the instructor page takes the shop's onion offline."""
    from sandbox.serve import Sandbox

    with Sandbox(course_world, socks_port=0, http_port=0, explorer_port=0,
                 instructor_password=PASSWORD, state=tmp_path / "state") as sb:  # fmt: skip
        url = sb.describe()["classroom"].rstrip("/")
        proxy = "socks5h://{}:{}".format(*sb.gateway.socks_address)
        shop = next(s for s in sb.sites if s.site_id == "shop")
        assert requests.get(f"http://{shop.address}/", proxies={"http": proxy}, timeout=20).ok
        teacher, tcsrf = instructor(url)
        r = teacher.post(f"{url}/instructor/injects/down/fire", data={"csrf": tcsrf}, timeout=20)
        assert "Inject down fired for the whole class" in r.text
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"http://{shop.address}/", proxies={"http": proxy}, timeout=20)
        teacher.post(f"{url}/instructor/injects/up/fire", data={"csrf": tcsrf}, timeout=20)
        assert requests.get(f"http://{shop.address}/", proxies={"http": proxy}, timeout=20).ok
        progress = sb.classroom.app.extensions["classroom"].progress
        assert progress.fired("down", None) and progress.fired("up", None)


# -- what the worker processes answer themselves (create_replica_app) --------------------


def _serve(app) -> tuple[str, object]:
    """app on a free loopback port: (its URL, the server)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def test_without_its_process_the_join_form_shows_and_joining_is_503(course_world, tmp_path):
    """The join form is a worker's own page; joining needs the portal's process (its
    throttles): while it does not answer, the portal's error page says so, with a 503."""
    replica = create_replica_app(course_world, tmp_path, f"http://127.0.0.1:{free_port()}/")
    url, server = _serve(replica)
    try:
        s = requests.Session()
        form = s.get(f"{url}/join", timeout=10)
        assert form.status_code == 200 and 'name="code"' in form.text
        r = s.post(f"{url}/join", data={"csrf": csrf_of(form.text), "code": "x"}, timeout=10)
        assert r.status_code == 503 and r.headers["Retry-After"] == "2"
        assert "the classroom&#39;s own process does not answer" in r.text
    finally:
        server.shutdown()
        replica.extensions["classroom"].close()


def test_a_trainees_pages_are_the_workers_and_an_instructors_are_passed_on(
    course_world, tmp_path, codes
):
    """Once joined (through the portal's process), a trainee's case and live updates come
    from the worker even with the portal's process gone; an instructor's browser is passed
    on whatever page it asks for: the workers hold no instructor password."""
    portal = Portal(course_world, tmp_path / "state", workers=True, tick=False)
    try:
        portal.classroom.progress.start()
        s, _ = trainee(portal.url, codes[1])
        teacher, _ = instructor(portal.url)
        assert "Live board" in teacher.get(f"{portal.url}/instructor/", timeout=10).text
        portal.servers[0].shutdown()  # the portal's own process stops answering
        case = s.get(f"{portal.url}/", timeout=10)
        assert case.status_code == 200 and "Objectives" in case.text
        me = s.get(f"{portal.url}/me.json", timeout=10)
        assert me.status_code == 200 and me.json()["seat"] == 1
        for page in ("/", "/instructor/"):
            r = teacher.get(f"{portal.url}{page}", timeout=10)
            assert r.status_code == 503, page
    finally:
        portal.servers[1].shutdown()
        portal.replica.extensions["classroom"].close()
        portal.classroom.close()


def test_through_the_workers_wrong_joins_are_charged_to_the_trainees_own_address(
    course_world, tmp_path
):
    """The join throttle counts each trainee's address, not the worker's that passes the
    join on: one trainee guessing codes is slowed down, a neighbour is not; a client's own
    X-Forwarded-For changes nothing."""
    portal = Portal(course_world, tmp_path / "state", workers=True, tick=False)
    try:
        port = portal.servers[1].server_port

        def join(source: str, code: str, claim: str | None = None) -> int:
            conn = http.client.HTTPConnection("127.0.0.1", port, source_address=(source, 0))
            try:
                conn.request("GET", "/join")
                answer = conn.getresponse()
                cookie = answer.getheader("Set-Cookie").split(";", 1)[0]
                csrf = csrf_of(answer.read().decode())
                body = urllib.parse.urlencode({"csrf": csrf, "code": code, "name": "X", "pin": PIN})
                headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
                if claim:
                    headers["X-Forwarded-For"] = claim
                conn.request("POST", "/join", body=body, headers=headers)
                return conn.getresponse().status
            finally:
                conn.close()

        statuses = [join("127.0.0.2", f"WRONG{i}", claim=f"10.0.0.{i}") for i in range(12)]
        assert statuses[0] != 429 and statuses[-1] == 429, statuses
        assert join("127.0.0.3", "WRONG") != 429
    finally:
        portal.close()
