"""Law-enforcement portals per requester: seats' credentials, isolation, CSRF, tokens, limits.

A course world is served by a real sandbox; every request goes through the gateway's
SOCKS proxy to coinvault.test, as a trainee's browser or `investigate request` would.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from investigator_tools.cli import cli as investigate
from sandbox.exchanges import create_app
from sandbox.scenario import load_scenario
from sandbox.serve import Sandbox
from sandbox.world.build import build_world

DATA = Path(__file__).parent / "data"
PORTAL = "http://coinvault.test"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The tiny course (six seats) built once."""
    out = tmp_path_factory.mktemp("le-course") / "course.db"
    build_world(load_scenario(str(DATA / "course.yaml")), out)
    return out


@pytest.fixture(scope="module")
def creds(course) -> dict[str, dict]:
    """Every requester of the course world by id, with its credentials."""
    conn = sqlite3.connect(f"file:{course}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return {r["id"]: dict(r) for r in conn.execute("SELECT * FROM requesters")}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def subject(course) -> str:
    """A customer deposit address at coinvault, something worth asking about."""
    conn = sqlite3.connect(f"file:{course}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT a.address FROM addresses a JOIN wallets w ON w.id = a.wallet_id"
            " WHERE w.actor_id = 'coinvault' AND a.purpose LIKE 'deposit:%' LIMIT 1"
        ).fetchone()[0]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def served(course, tmp_path_factory):
    """The course served on free loopback ports; (proxies, state folder)."""
    state = tmp_path_factory.mktemp("le-state")
    with Sandbox(
        course, socks_port=0, http_port=0, explorer_port=0, state=state, classroom_port=None
    ) as sb:
        host, port = sb.gateway.socks_address
        url = f"socks5h://{host}:{port}"
        yield {"proxies": {"http": url, "https": url}, "state": state, "socks": url}


def _rows(served) -> int:
    """How many requests the audit log holds."""
    conn = sqlite3.connect(served["state"] / "exchanges.db")
    try:
        return conn.execute("SELECT count(*) FROM requests").fetchone()[0]
    finally:
        conn.close()


def _body(subject: str, case: str) -> dict:
    """A complete court-order request."""
    return {
        "agency": "Financial Investigation Unit",
        "officer_name": "DC Jo Smith",
        "officer_email": "jo.smith@police.test",
        "case_number": case,
        "legal_basis": "court_order",
        "document_reference": "CO/2026/0042",
        "subject": subject,
        "requested": ["kyc"],
    }


def _api(served, method: str, path: str, token: str | None = None, **kw) -> requests.Response:
    """One call of coinvault's JSON API through the gateway."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(
        method, PORTAL + path, headers=headers, proxies=served["proxies"], timeout=30, **kw
    )


def _csrf(html: str) -> str:
    """The CSRF token of a page's forms."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _browser(served, who: dict | None = None) -> requests.Session:
    """A browser session through the gateway, logged in to coinvault's portal as who."""
    browser = requests.Session()
    browser.proxies = served["proxies"]
    if who is not None:
        page = browser.get(f"{PORTAL}/le/login", timeout=30)
        form = {"login": who["login"], "password": who["password"], "csrf": _csrf(page.text)}
        response = browser.post(f"{PORTAL}/le/login", data=form, timeout=30)
        assert response.ok and "Signed in" in response.text, response.text[:500]
    return browser


@pytest.fixture(scope="module")
def asked(served, creds, subject) -> dict[str, dict]:
    """Seats 1 and 2 each asked coinvault once through the API: their answers by seat."""
    out = {}
    for rid in ("seat-1", "seat-2"):
        response = _api(
            served, "POST", "/api/le/requests", creds[rid]["token"], json=_body(subject, rid)
        )
        assert response.status_code == 201, response.text
        out[rid] = response.json()
    return out


def test_brief_gives_each_seat_its_own_credentials(course, creds):
    """Seat n's brief prints its agency, login, password and token; no two seats share them."""
    conn = sqlite3.connect(f"file:{course}?mode=ro", uri=True)
    briefs = dict(conn.execute("SELECT seat, content FROM artefacts WHERE kind = 'brief'"))
    conn.close()
    seats = [r for r in creds.values() if r["role"] == "seat"]
    assert len(seats) == len(briefs) == 6
    for r in seats:
        brief = briefs[r["seat"]].decode()
        for value in (r["agency"], r["login"], r["password"], r["token"]):
            assert value in brief
        others = [o for o in creds.values() if o["id"] != r["id"]]
        assert not any(o["password"] in brief or o["token"] in brief for o in others)
    for field in ("login", "password", "token"):
        assert len({r[field] for r in creds.values()}) == len(creds)
    assert {r["role"] for r in creds.values()} == {"seat", "instructor"}


def test_a_seat_reads_and_lists_only_its_own_requests_json(served, creds, asked):
    """Through the API, seat 1 lists and reads its own request; seat 2's is a 404."""
    mine, theirs = asked["seat-1"]["id"], asked["seat-2"]["id"]
    token = creds["seat-1"]["token"]
    listed = _api(served, "GET", "/api/le/requests", token).json()["requests"]
    assert [r["number"] for r in listed] == [mine]
    assert _api(served, "GET", f"/api/le/requests/{mine}", token).status_code == 200
    other = _api(served, "GET", f"/api/le/requests/{theirs}", token)
    assert other.status_code == 404 and asked["seat-2"]["reference"] not in other.text


def test_a_seat_sees_only_its_own_requests_in_the_portal(served, creds, asked):
    """In the web portal, seat 1's log and answers hold nothing of seat 2's."""
    browser = _browser(served, creds["seat-1"])
    log = browser.get(f"{PORTAL}/le/requests", timeout=30).text
    assert asked["seat-1"]["reference"] in log and asked["seat-2"]["reference"] not in log
    assert "seat-2" not in log
    theirs = asked["seat-2"]["id"]
    for suffix in ("", ".json", ".pdf"):
        response = browser.get(f"{PORTAL}/le/requests/{theirs}{suffix}", timeout=30)
        assert response.status_code == 404, suffix
    mine = browser.get(f"{PORTAL}/le/requests/{asked['seat-1']['id']}.json", timeout=30)
    assert mine.status_code == 200 and mine.json()["answer"] == asked["seat-1"]["answer"]


def test_the_instructor_sees_every_request(served, creds, asked):
    """The instructor's requester lists and reads both seats' requests, in the API and portal."""
    token = creds["instructor"]["token"]
    listed = {
        r["number"] for r in _api(served, "GET", "/api/le/requests", token).json()["requests"]
    }
    assert {asked["seat-1"]["id"], asked["seat-2"]["id"]} <= listed
    for answer in asked.values():
        assert _api(served, "GET", f"/api/le/requests/{answer['id']}", token).status_code == 200
    log = _browser(served, creds["instructor"]).get(f"{PORTAL}/le/requests", timeout=30).text
    assert all(a["reference"] in log for a in asked.values())


def test_api_without_a_valid_token_is_401_and_stores_nothing(served, creds, subject):
    """No token, a wrong one, or a password in its place: 401 with a Bearer challenge."""
    before = _rows(served)
    for token in (None, "le_" + "0" * 40, creds["seat-1"]["password"]):
        response = _api(served, "POST", "/api/le/requests", token, json=_body(subject, "X"))
        assert response.status_code == 401, token
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "error" in response.json()
        assert _api(served, "GET", "/api/le/requests", token).status_code == 401
        assert _api(served, "GET", "/api/le/requests/1", token).status_code == 401
    assert _rows(served) == before


def test_portal_pages_need_a_login(served, creds):
    """Not logged in: the form and log send you to the login; a wrong password is refused."""
    browser = _browser(served)
    for path in ("/le/request", "/le/requests", "/le/requests/1", "/le/requests/1.pdf"):
        response = browser.get(PORTAL + path, allow_redirects=False, timeout=30)
        assert response.status_code == 302 and "/le/login" in response.headers["Location"]
    page = browser.get(f"{PORTAL}/le/login", timeout=30).text
    form = {"login": "seat01", "password": creds["seat-2"]["password"], "csrf": _csrf(page)}
    refused = browser.post(f"{PORTAL}/le/login", data=form, timeout=30)
    assert refused.status_code == 401 and "not recognised" in refused.text
    log = browser.get(f"{PORTAL}/le/requests", allow_redirects=False, timeout=30)
    assert log.status_code == 302


def test_form_without_the_csrf_token_is_refused_and_stores_nothing(served, creds, subject):
    """A logged-in POST without the form's token, or with another's, is a 400; nothing stored."""
    browser = _browser(served, creds["seat-3"])
    form_page = browser.get(f"{PORTAL}/le/request", timeout=30).text
    assert creds["seat-3"]["agency"] in form_page  # the form is filled with the seat's agency
    before = _rows(served)
    body = _body(subject, "CSRF-1")
    for extra in ({}, {"csrf": "forged"}):
        response = browser.post(f"{PORTAL}/le/request", data={**body, **extra}, timeout=30)
        assert response.status_code == 400
        assert "reload" in response.text
    assert _rows(served) == before
    good = browser.post(f"{PORTAL}/le/request", data={**body, "csrf": _csrf(form_page)}, timeout=30)
    assert good.status_code == 200 and "CSRF-1" in good.text
    assert _rows(served) == before + 1


def test_twenty_megabytes_get_413_and_nothing_is_stored(served, creds, subject):
    """A 20 MB body to the API or the form is refused with 413 before anything is stored."""
    before = _rows(served)
    big = _body(subject, "BIG") | {"details": "x" * (20 << 20)}
    response = _api(served, "POST", "/api/le/requests", creds["seat-1"]["token"], json=big)
    assert response.status_code == 413
    assert "64 KiB" in response.json()["errors"][0]["message"]
    browser = _browser(served, creds["seat-1"])
    token = _csrf(browser.get(f"{PORTAL}/le/request", timeout=30).text)
    page = browser.post(f"{PORTAL}/le/request", data={**big, "csrf": token}, timeout=60)
    assert page.status_code == 413
    assert _rows(served) == before


def test_logout_revokes_the_session(served, creds):
    """After logging out, a copy of the session cookie opens nothing."""
    browser = _browser(served, creds["seat-4"])
    copied = _browser(served)
    copied.cookies.update(browser.cookies)
    assert copied.get(f"{PORTAL}/le/requests", allow_redirects=False, timeout=30).status_code == 200
    token = _csrf(browser.get(f"{PORTAL}/le/requests", timeout=30).text)
    browser.post(f"{PORTAL}/le/logout", data={"csrf": token}, timeout=30)
    response = copied.get(f"{PORTAL}/le/requests", allow_redirects=False, timeout=30)
    assert response.status_code == 302 and "/le/login" in response.headers["Location"]


def test_investigate_request_sends_the_token(served, creds, subject, tmp_path):
    """`investigate request` works with --token or INVESTIGATE_LE_TOKEN; without: one message."""
    case = tmp_path / "case.db"
    token = creds["seat-5"]["token"]
    args = [
        "--case", str(case), "request", "coinvault.test", "--subject", subject,
        "--legal-basis", "court_order", "--document-ref", "CO-1", "--case-number", "OP-5",
        "--agency", creds["seat-5"]["agency"], "--officer", "J. Smith",
        "--email", "j.smith@police.test", "--ask", "kyc", "--proxy", served["socks"],
    ]  # fmt: skip
    runner = CliRunner()
    result = runner.invoke(investigate, [*args, "--token", token])
    assert result.exit_code == 0, result.output
    assert "CV-LE-" in result.output
    result = runner.invoke(investigate, args, env={"INVESTIGATE_LE_TOKEN": token})
    assert result.exit_code == 0, result.output
    listed = _api(served, "GET", "/api/le/requests", token).json()["requests"]
    assert [r["case_number"] for r in listed] == ["OP-5", "OP-5"]

    result = runner.invoke(investigate, args, env={"INVESTIGATE_LE_TOKEN": ""})
    assert result.exit_code == 1
    assert "no API token" in result.output and "--token" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(investigate, [*args, "--token", "le_wrong"])
    assert result.exit_code == 1
    assert "did not accept the API token" in result.output
    conn = sqlite3.connect(case)
    commands = [c for (c,) in conn.execute("SELECT command FROM custody")]
    stored = conn.execute("SELECT count(*) FROM le_requests").fetchone()[0]
    conn.close()
    assert stored == 2  # the refused attempts left no request behind
    assert not any(token in c for c in commands)  # the custody log keeps no credential


def test_an_older_audit_log_gains_the_requester_column(course, creds, tmp_path):
    """An exchanges.db from before requesters is upgraded; its old rows are the instructor's."""
    conn = sqlite3.connect(tmp_path / "exchanges.db")
    conn.execute(
        "CREATE TABLE requests (id INTEGER PRIMARY KEY, exchange_id TEXT NOT NULL,"
        " number INTEGER NOT NULL, reference TEXT NOT NULL, received INTEGER NOT NULL,"
        " status TEXT NOT NULL, reason TEXT, case_number TEXT NOT NULL, agency TEXT NOT NULL,"
        " subject TEXT NOT NULL, request TEXT NOT NULL, answer TEXT NOT NULL,"
        " UNIQUE (exchange_id, number))"
    )
    conn.execute(
        "INSERT INTO requests VALUES (1, 'coinvault', 1, 'CV-LE-00001', 0, 'answered', NULL,"
        " 'OLD-1', 'Old agency', 'x', '{}', '{\"reference\": \"CV-LE-00001\"}')"
    )
    conn.commit()
    conn.close()
    client = create_app(course, "coinvault", tmp_path).test_client()
    seat = {"Authorization": f"Bearer {creds['seat-1']['token']}"}
    instructor = {"Authorization": f"Bearer {creds['instructor']['token']}"}
    assert client.get("/api/le/requests", headers=seat).get_json()["requests"] == []
    (old,) = client.get("/api/le/requests", headers=instructor).get_json()["requests"]
    assert old["case_number"] == "OLD-1" and old["requester_id"] is None
