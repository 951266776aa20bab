"""Headless Chromium through the gateway: an onion page, and a login through the CAPTCHA (issue #3)."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest

from sandbox.serve import Sandbox

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
)
SHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="module")
def served(tiny_world, tmp_path_factory):
    """The tiny world behind a gateway on free ports."""
    state = tmp_path_factory.mktemp("browser-state")
    with Sandbox(tiny_world, socks_port=0, http_port=0, explorer_port=0, state=state) as sandbox:
        yield sandbox


@pytest.fixture
def browser(served):
    """Headless Chromium whose only way out is the sandbox's SOCKS port."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    host, port = served.gateway.socks_address
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--proxy-server=socks5://{host}:{port}",
        # Like Tor Browser: no local DNS at all, every name goes to the proxy.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
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
