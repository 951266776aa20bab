"""Built-in courses solved in headless Chromium through `investigate ui` alone.

`intro`: a trainee of seat 1 reads the brief (the link directory's URL and the vendor's
handle), then uses only the workspace's pages: crawl the directory, read the market's
address in its capture, crawl the vendor's profile, add the address it publishes to the
graph, trace it to the exchange, and ask that exchange for the KYC record of the deposit.
`vendor-takedown`'s seizure: the recovery words of the phone in the seat's papers swept
into the seat's training wallet through the sweep dialog (checked, then confirmed).
The answers are checked against the world's answer key. Screenshots in tests/screenshots/.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import contextmanager
from pathlib import Path

import pytest

from investigator_tools.ui import Settings, UiServer
from sandbox.scenario import load_scenario
from sandbox.serve import Sandbox
from sandbox.world.build import build_world
from tests.chromium import SHOTS, needs_chromium, start_chromium
from tests.course_secret import SECRET

pytestmark = [pytest.mark.browser, needs_chromium]

ROOT = Path(__file__).resolve().parent.parent
SEAT = 1


@contextmanager
def _serve(folder: Path, world: Path):
    """The world's sandbox and a workspace on a new case in folder, for seat 1's trainee."""
    with Sandbox(world, socks_port=0, http_port=0, explorer_port=0, state=folder / "state") as sb:
        host, port = sb.gateway.socks_address
        explorer = next(s.port for s in sb.sites if s.site_id == "explorer")
        settings = Settings(
            folder / "case.db",
            explorer=f"http://127.0.0.1:{explorer}/",
            proxy=f"socks5h://{host}:{port}",
            operator="seat1@classroom",
        )
        with UiServer(settings, 0) as server:
            yield sb, server


@pytest.fixture(scope="module")
def takedown(tmp_path_factory):
    """The vendor-takedown world served, seat 1's phone notes and training wallet."""
    folder = tmp_path_factory.mktemp("ui-takedown")
    world = folder / "takedown.db"
    scenario = load_scenario(str(ROOT / "scenarios" / "vendor-takedown.yaml"))
    build_world(scenario, world, secret=SECRET)
    conn = sqlite3.connect(f"file:{world}?mode=ro", uri=True)
    try:
        phone = conn.execute(
            "SELECT content FROM artefacts WHERE id = 'phone' AND seat = ?", (SEAT,)
        ).fetchone()[0]
        wallet = conn.execute("SELECT wallet_address FROM seats WHERE n = ?", (SEAT,)).fetchone()[0]
    finally:
        conn.close()
    with _serve(folder, world) as (_, server):
        yield {"ui": server, "phone": bytes(phone).decode(), "wallet": wallet}


@pytest.fixture(scope="module")
def intro(tmp_path_factory):
    """The intro world served, seat 1's papers and answers, and a workspace on a new case."""
    folder = tmp_path_factory.mktemp("ui-intro")
    world = folder / "intro.db"
    build_world(load_scenario(str(ROOT / "scenarios" / "intro.yaml")), world, secret=SECRET)
    conn = sqlite3.connect(f"file:{world}?mode=ro", uri=True)
    try:
        brief = conn.execute(
            "SELECT content FROM artefacts WHERE kind = 'brief' AND seat = ?", (SEAT,)
        ).fetchone()[0]
        answers = dict(
            conn.execute(
                "SELECT objective_id, answer FROM seat_objectives WHERE seat = ?", (SEAT,)
            ).fetchall()
        )
        token = conn.execute(
            "SELECT token FROM requesters WHERE id = ?", (f"seat-{SEAT}",)
        ).fetchone()[0]
    finally:
        conn.close()
    brief = brief.decode() if isinstance(brief, bytes) else brief
    with _serve(folder, world) as (sb, server):
        yield {
            "ui": server,
            "brief": brief,
            "answers": {k: v.strip('"') for k, v in answers.items()},
            "token": token,
            "portals": {s.name: s.address for s in sb.sites if s.kind == "exchange"},
        }


def _crawl(driver, wait, ui, url: str) -> None:
    """Crawl one page from the crawl page and wait until it is done (and extracted)."""
    from selenium.webdriver.common.by import By

    driver.get(ui.base + "collect/")
    form = driver.find_element(By.ID, "crawl-form")
    form.find_element(By.NAME, "urls").send_keys(url)
    depth = form.find_element(By.NAME, "depth")
    depth.clear()
    depth.send_keys("0")
    form.find_element(By.NAME, "no_probe").click()
    driver.find_element(By.ID, "start-crawl").click()
    progress = driver.find_element(By.ID, "progress")
    wait.until(lambda d: progress.get_attribute("data-status") in ("done", "failed", "stopped"))
    assert progress.get_attribute("data-status") == "done", driver.find_element(
        By.ID, "crawl-result"
    ).text


def _artefacts(driver, wait, ui, text: str):
    """The artefacts table filtered by text: its rows."""
    from selenium.webdriver.common.by import By

    driver.get(ui.base + "evidence/artefacts")
    table = driver.find_element(By.ID, "artefacts")
    wait.until(lambda d: table.get_attribute("data-ready") == "1")
    driver.find_element(By.ID, "filter").send_keys(text)
    return driver.find_elements(By.CSS_SELECTOR, "#artefacts tbody tr")


def test_intro_solved_in_the_browser(intro):
    """Market, vendor address, exchange and its KYC answer, with the workspace only."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    ui, answers = intro["ui"], intro["answers"]
    directory = re.search(
        r"http://[a-z2-7]{56}\.onion/?|http://[a-z0-9.-]+\.test/?", intro["brief"]
    )
    handle = re.search(r"\*\*(.+?)\*\*", intro["brief"]).group(1)
    assert directory, intro["brief"]
    driver = start_chromium(height=800)
    try:
        wait = WebDriverWait(driver, 120)
        driver.get(ui.url)
        # 1. The link directory, read in its capture's frame: the market's address.
        _crawl(driver, wait, ui, directory.group(0))
        driver.get(ui.base + "evidence/captures")
        driver.find_element(By.CSS_SELECTOR, "#captures tbody tr td.wrap a").click()
        driver.switch_to.frame(driver.find_element(By.ID, "capture-frame"))
        link = next(
            a
            for a in driver.find_elements(By.TAG_NAME, "a")
            if "Copperleaf" in a.text or "Copperleaf" in a.find_element(By.XPATH, "..").text
        )
        market = re.search(r"[a-z2-7]{56}\.onion", link.get_attribute("href")).group(0)
        driver.switch_to.default_content()
        driver.save_screenshot(str(SHOTS / "ui-intro-1-directory.png"))
        assert market == answers["market-onion"]
        rows = _artefacts(driver, wait, ui, market)
        assert rows and rows[0].find_elements(By.CSS_SELECTOR, "td")[0].text == "onion"
        # 2. The vendor's profile: the address he publishes, added to the graph.
        profile = f"http://{market}/vendor/{handle}"
        _crawl(driver, wait, ui, profile)
        rows = [
            r
            for r in _artefacts(driver, wait, ui, f"/vendor/{handle}")
            if r.find_elements(By.CSS_SELECTOR, "td")[0].text == "btc_address"
        ]
        assert rows
        address = rows[0].find_element(By.CSS_SELECTOR, "td.value").text
        assert address == answers["vendor-address"]
        rows[0].find_element(By.CSS_SELECTOR, "button.add-graph").click()
        wait.until(lambda d: "Added to the graph" in d.find_element(By.ID, "toast").text)
        driver.save_screenshot(str(SHOTS / "ui-intro-2-address.png"))
        # 3. The money: traced forward to the exchange.
        driver.get(ui.base + "money/")
        root = driver.find_element(By.ID, "money")
        wait.until(lambda d: root.get_attribute("data-ready") == "1")
        driver.find_element(By.ID, "add-target").send_keys(address)
        driver.find_element(By.ID, "add-button").click()
        wait.until(lambda d: d.find_element(By.ID, "sel-id").text == address)
        hops = driver.find_element(By.ID, "trace-hops")
        hops.clear()
        hops.send_keys("8")
        Select(driver.find_element(By.ID, "trace-method")).select_by_value("haircut")
        driver.find_element(By.ID, "trace").click()
        result = driver.find_element(By.ID, "trace-result")
        wait.until(lambda d: result.text.startswith("Traced"))
        assert f"reached {answers['cashout-exchange']}" in result.text
        driver.find_element(By.ID, "fit").click()
        driver.save_screenshot(str(SHOTS / "ui-intro-3-trace.png"))
        # 4. KYC from the exchange about the deposit the money went through.
        deposit = next(
            line
            for line in result.find_elements(By.CSS_SELECTOR, ".deposit")
            if line.text.startswith(answers["cashout-exchange"])
        )
        deposit.find_element(By.CSS_SELECTOR, "a.deposit-request").click()
        form = wait.until(lambda d: d.find_element(By.ID, "request-form"))
        fill = {
            "exchange": intro["portals"][answers["cashout-exchange"]],
            "document_ref": "CO-2026-1",
            "case_number": "OP-COPPERLEAF",
            "agency": "Cyber Unit",
            "officer": "J. Smith",
            "email": "j.smith@police.test",
            "token": intro["token"],
        }
        for name, value in fill.items():
            form.find_element(By.NAME, name).send_keys(value)
        driver.find_element(By.ID, "send-request").click()
        answer = driver.find_element(By.ID, "answer")
        wait.until(lambda d: answer.is_displayed() and answer.text)
        assert "account " in answer.text and "name: " in answer.text, answer.text
        driver.save_screenshot(str(SHOTS / "ui-intro-4-kyc.png"))
    finally:
        driver.quit()


def test_vendor_takedown_seizure_in_the_sweep_dialog(takedown):
    """The phone's recovery words, typed into the sweep dialog, move the wallet's coins into
    the seat's training wallet once the checked transaction is confirmed."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from investigator_tools.esplora import Esplora

    words = re.search(r"seed words:\s*\n((?:[a-z]+[ \n]){11}[a-z]+)", takedown["phone"])
    assert words, takedown["phone"]
    ui, wallet = takedown["ui"], takedown["wallet"]
    explorer = Esplora(ui.settings.explorer or "")
    before = sum(u["value"] for u in explorer.address_utxo(wallet))
    driver = start_chromium(height=800)
    try:
        wait = WebDriverWait(driver, 120)
        driver.get(ui.url)
        driver.get(ui.base + "act/sweep")
        form = driver.find_element(By.ID, "sweep-form")
        form.find_element(By.NAME, "mnemonic").send_keys(" ".join(words.group(1).split()))
        form.find_element(By.NAME, "to").send_keys(wallet)
        driver.find_element(By.ID, "sweep-check").click()
        text = driver.find_element(By.ID, "sweep-text")
        wait.until(lambda d: text.text.startswith("Moves"))
        assert sum(u["value"] for u in explorer.address_utxo(wallet)) == before
        driver.save_screenshot(str(SHOTS / "ui-takedown-1-check.png"))
        driver.find_element(By.ID, "sweep-confirm").click()
        done = driver.find_element(By.ID, "sweep-done")
        wait.until(lambda d: done.text.startswith("broadcast:"))
        driver.save_screenshot(str(SHOTS / "ui-takedown-2-seized.png"))
        txid = re.search(r"[0-9a-f]{64}", done.text).group(0)
    finally:
        driver.quit()
    assert any(u["txid"] == txid for u in explorer.address_utxo(wallet))
    assert sum(u["value"] for u in explorer.address_utxo(wallet)) > before
