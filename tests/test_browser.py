"""Headless Chromium through the gateway: an onion page, and a login through the CAPTCHA."""

from __future__ import annotations

import sqlite3

import pytest

from sandbox.serve import Sandbox
from tests.chromium import SHOTS, needs_chromium, start_chromium

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture(scope="module")
def served(tiny_world, tmp_path_factory):
    """The tiny world behind a gateway on free ports."""
    state = tmp_path_factory.mktemp("browser-state")
    with Sandbox(tiny_world, socks_port=0, http_port=0, explorer_port=0, state=state) as sandbox:
        yield sandbox


@pytest.fixture
def browser(served):
    """Headless Chromium whose only way out is the sandbox's SOCKS port."""
    host, port = served.gateway.socks_address
    driver = start_chromium(f"socks5://{host}:{port}")
    yield driver
    driver.quit()


def _site(sandbox: Sandbox, kind: str):
    """The first served site of a kind."""
    return next(s for s in sandbox.sites if s.kind == kind)


def test_chromium_loads_an_onion_page(served, browser):
    """The hidden wiki renders in Chromium under its .onion name, with its links."""
    wiki = _site(served, "wiki")
    browser.get(f"http://{wiki.address}/")
    assert wiki.name in browser.title or wiki.name in browser.page_source
    assert ".onion" in browser.page_source
    SHOTS.mkdir(exist_ok=True)
    shot = SHOTS / "wiki.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000


def test_chromium_registers_through_the_captcha(served, browser):
    """A trainee registers on the market, reading the CAPTCHA image, and is logged in."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    market = _site(served, "market")
    browser.get(f"http://{market.address}/register")
    SHOTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(SHOTS / "market-register.png"))
    image = browser.find_element(By.CSS_SELECTOR, ".captcha img")
    assert browser.execute_script("return arguments[0].naturalWidth", image) == 240
    # The test plays the human who reads the picture: the answer is in the site's state.
    with sqlite3.connect(served.state / "state.db") as db:
        (answer,) = db.execute(
            "SELECT answer FROM captchas WHERE site_id = ? ORDER BY id DESC LIMIT 1",
            (market.site_id,),
        ).fetchone()
    browser.find_element(By.NAME, "handle").send_keys("trainee_anna")
    browser.find_element(By.NAME, "password").send_keys("correct horse battery")
    browser.find_element(By.NAME, "confirm").send_keys("correct horse battery")
    browser.find_element(By.NAME, "captcha").send_keys(answer)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: "Logged in as" in d.page_source)
    assert "trainee_anna" in browser.page_source
    assert "/register" not in browser.current_url
    browser.save_screenshot(str(SHOTS / "market-logged-in.png"))
