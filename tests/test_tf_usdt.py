"""The built-in course `tf-usdt`: a terrorism-financing case on USDT.

`sandbox check tf-usdt --all-seats` runs with the other built-in courses
(tests/test_check.py). Here: a variant whose money all sits at an exchange cannot be frozen
and fails naming the objective; and a trainee in headless Chromium freezes the suspect's
USDT through Tether's portal and sees the objective solved, after reading the campaign's
channel on Birlik (screenshots in tests/screenshots/).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.scenario import load_scenario
from sandbox.serve import Sandbox
from sandbox.world.build import build_world
from sandbox.world.requesters import read_requesters
from tests.chromium import SHOTS, needs_chromium, start_chromium
from tests.course_secret import SECRET
from tests.test_classroom import PASSWORD, instructor

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "tf-usdt.yaml"
PIN = "2468"


@pytest.mark.check
def test_a_variant_whose_money_sits_at_an_exchange_fails_naming_the_freeze(tmp_path):
    """When the organisers cash out everything at the exchange, the issuer has nothing of
    theirs to freeze where the money went: `sandbox check` fails naming the objective."""
    text = SCENARIO.read_text(encoding="utf-8")
    for exchange in ("qazex", "silkway", "harbor"):
        text = text.replace(
            f"to: {exchange}, chain: tron, amount: ", f"to: {exchange}, chain: tron, x: "
        )
    variant = "\n".join(
        line.replace(" x: 1000,", "").replace(" x: 900,", "").replace(" x: 800,", "")
        for line in text.splitlines()
    )
    assert " x: " not in variant
    solution = ROOT / "scenarios" / "solutions" / "tf-usdt.py"
    variant = variant.replace("\nmeta:", f"\nsolution: {solution}\n\nmeta:", 1)
    path = tmp_path / "tf-usdt-all-cashed.yaml"
    path.write_text(variant, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "check", str(path), "--seat", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert result.returncode != 0, result.stdout + result.stderr
    # Either nothing of the organiser's is left (the build says so), or what is left is not
    # where the money went: the freeze of the pool stops nothing and is judged wrong.
    assert "objective 'freeze'" in result.stderr, result.stderr
    assert (
        "holds no USDT at the end of the world" in result.stderr
        or "objective 'freeze' (seat 1) failed" in result.stderr
    ), result.stderr


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """The built-in tf-usdt world, built once with the tests' course secret."""
    out = tmp_path_factory.mktemp("tf-usdt") / "tf-usdt.db"
    build_world(load_scenario("tf-usdt"), out, secret=SECRET)
    return out


def _seat_papers(world: Path, seat: int) -> dict:
    """What seat's trainee holds: the seat code, the portal login and the freeze key."""
    conn = sqlite3.connect(f"file:{world}?mode=ro", uri=True)
    try:
        code = conn.execute("SELECT code FROM seats WHERE n = ?", (seat,)).fetchone()[0]
        (key,) = conn.execute(
            "SELECT answer FROM seat_objectives WHERE seat = ? AND objective_id = 'freeze'",
            (seat,),
        ).fetchone()
        requester = next(r for r in read_requesters(conn) if r.id == f"seat-{seat}")
    finally:
        conn.close()
    return {"code": code, "requester": requester, "freeze": json.loads(key)}


@pytest.mark.browser
@needs_chromium
def test_trainee_freezes_the_suspects_usdt_in_the_browser(world, tmp_path):
    """Join the class, log in to tether.test, ask a confidential court-ordered freeze of the
    pool, see the freeze on the Tron explorer, and have the reference judged right."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    SHOTS.mkdir(exist_ok=True)
    papers = _seat_papers(world, 1)
    pool = papers["freeze"]["freeze_of"][0]
    with Sandbox(
        world,
        socks_port=0,
        http_port=0,
        explorer_port=0,
        classroom_port=0,
        instructor_password=PASSWORD,
        state=tmp_path,
    ) as sandbox:
        portal = sandbox.describe()["classroom"].rstrip("/")
        teacher, csrf = instructor(portal)  # the trainer starts the exercise clock
        teacher.post(f"{portal}/instructor/clock/start", data={"csrf": csrf}, timeout=10)
        host, port = sandbox.gateway.socks_address
        browser = start_chromium(f"socks5://{host}:{port}", height=1100)
        try:
            wait = WebDriverWait(browser, 30)
            browser.get("http://classroom.test/")
            wait.until(lambda d: "Join the exercise" in d.page_source)
            browser.find_element(By.NAME, "code").send_keys(papers["code"])
            browser.find_element(By.NAME, "name").send_keys("Dana Analyst")
            browser.find_element(By.NAME, "pin").send_keys(PIN)
            browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
            wait.until(lambda d: "Objectives" in d.page_source)
            assert "tether.test" in browser.page_source

            # The campaign's channel on Birlik: its pinned site, and the bot's own address.
            browser.get("http://birlik.test/c/")
            browser.find_element(By.PARTIAL_LINK_TEXT, "Oasis Orphan Relief").click()
            wait.until(lambda d: "/c/oasis-yordam" in d.current_url)
            pinned = browser.find_element(By.CSS_SELECTOR, ".status.pinned .text").text
            assert ".onion/" in pinned
            assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ru"
            browser.find_element(By.CSS_SELECTOR, "#bot button[type=submit]").click()
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#bot .address"))
            given = browser.find_element(By.CSS_SELECTOR, "#bot .address").text
            assert given.startswith("T") and len(given) == 34, given
            browser.save_screenshot(str(SHOTS / "birlik-channel.png"))

            browser.get("http://tether.test/le/login")
            browser.find_element(By.NAME, "login").send_keys(papers["requester"].login)
            browser.find_element(By.NAME, "password").send_keys(papers["requester"].password)
            browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
            # The login's answer first, or the next page would find no session yet.
            wait.until(lambda d: "Signed in" in d.page_source)
            browser.get("http://tether.test/le/request")
            wait.until(lambda d: "Freeze or reissue request" in d.page_source)
            browser.find_element(By.NAME, "case_number").send_keys("TF-2026-017")
            Select(browser.find_element(By.NAME, "legal_basis")).select_by_value("court_order")
            browser.find_element(By.NAME, "document_reference").send_keys("CO-118/2026")
            browser.find_element(By.NAME, "subject").send_keys(pool)
            browser.find_element(By.CSS_SELECTOR, "input[name=requested][value=freeze]").click()
            browser.find_element(By.NAME, "confidential").click()
            browser.save_screenshot(str(SHOTS / "issuer-freeze-request.png"))
            browser.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
            wait.until(lambda d: "USDT-LE-" in d.title)
            heading = browser.find_element(By.TAG_NAME, "h1").text
            reference = heading.split(":")[0].strip()
            for _ in range(20):  # carried out at once (no answer delay), shown on reload
                if "executed" in browser.find_element(By.TAG_NAME, "h1").text:
                    break
                browser.refresh()
            assert "executed" in browser.find_element(By.TAG_NAME, "h1").text
            browser.save_screenshot(str(SHOTS / "issuer-freeze-answer.png"))

            # The addBlackList transaction is on the chain: Tronscan's page of the pool.
            for _ in range(20):
                browser.get(f"http://tronscan.test/address/{pool}")
                if "lacklist" in browser.page_source:
                    break
                browser.implicitly_wait(1)
            assert "lacklist" in browser.page_source
            browser.save_screenshot(str(SHOTS / "tronscan-blacklisted.png"))

            browser.get("http://classroom.test/")
            wait.until(lambda d: "Objectives" in d.page_source)
            form = browser.find_element(By.CSS_SELECTOR, "#obj-freeze form.answer")
            form.find_element(By.NAME, "answer").send_keys(reference)
            form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            wait.until(lambda d: "freeze solved" in d.page_source)
            browser.save_screenshot(str(SHOTS / "issuer-freeze-solved.png"))
        finally:
            browser.quit()
    shots = ("birlik-channel", "issuer-freeze-request", "issuer-freeze-answer")
    for shot in (*shots, "issuer-freeze-solved"):
        assert (SHOTS / f"{shot}.png").stat().st_size > 10_000
