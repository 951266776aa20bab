"""Headless Chromium for the browser tests: Debian's chromium and chromedriver via selenium."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
needs_chromium = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
)
SHOTS = Path(__file__).parent / "screenshots"


def start_chromium(proxy: str | None = None, height: int = 900, logs: bool = False):
    """A headless Chromium; with a proxy, its only way out is that proxy (no local DNS).

    logs: keep the performance log (every request the page makes) and the console's.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        # Without these Chromium calls home at start, which the closed network refuses.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size=1280,{height}",
        f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}",
    ]
    if proxy:
        # Like Tor Browser: no local DNS at all, every name goes to the proxy.
        args += [
            f"--proxy-server={proxy}",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        ]
    for arg in args:
        options.add_argument(arg)
    if logs:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


def page_problems(driver) -> list[str]:
    """The browser console's errors and Content-Security-Policy reports so far."""
    return [
        e["message"]
        for e in driver.get_log("browser")
        if "Content Security Policy" in e["message"] or e["level"] == "SEVERE"
    ]
