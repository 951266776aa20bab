"""Headless Chromium reads the trainee's objectives and the explorer in ru, kk, ur and ar.

Screenshots go to tests/screenshots/i18n-*.png. For Urdu and Arabic the page's own bundled
font (served by the sandbox) must draw the text: each letter rendered in it is a real glyph,
not the missing-glyph box, and differs from what the system's fallback font draws.
"""

from __future__ import annotations

import pytest

from tests.chromium import SHOTS, needs_chromium, start_chromium
from tests.test_classroom import PASSWORD, PIN, build_course_world, course_key
from tests.test_i18n_interfaces import Served, _sample

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_chromium]

FAMILIES = {"ur": "Noto Nastaliq Urdu", "ar": "Noto Naskh Arabic"}

# Draws each character alone on a canvas in a font and returns the images (data URLs), with
# the image of a private-use character no font has (the missing-glyph box) and of the sample
# in the system's own font, after loading the page's face for the sample.
GLYPHS = """
const [family, sample, done] = arguments;
const css = (size, fam) => `${size}px ${fam}`;
document.fonts.load(css(48, `"${family}"`), sample).then((faces) => {
  const canvas = document.createElement("canvas");
  canvas.width = 160; canvas.height = 160;
  const ctx = canvas.getContext("2d");
  const draw = (text, fam) => {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.font = css(48, fam);
    ctx.fillStyle = "#000";
    ctx.fillText(text, 40, 100);
    return canvas.toDataURL();
  };
  const letters = Array.from(new Set(Array.from(sample)));
  done({
    faces: faces.map((f) => [f.family, f.status]),
    body: getComputedStyle(document.body).fontFamily,
    tofu: draw("\\uE000", `"${family}"`),
    glyphs: letters.map((c) => [c, draw(c, `"${family}"`), draw(c, '"DejaVu Sans"')]),
  });
}, (e) => done({error: String(e)}));
"""


@pytest.fixture(scope="module")
def sites(tiny_world, tmp_path_factory):
    """The classroom (course world) and the explorer (tiny world) on free ports."""
    from sandbox.classroom import create_app as classroom_app
    from sandbox.explorer import create_app as explorer_app

    course = build_course_world(tmp_path_factory.mktemp("i18n-browser") / "course.db")
    state = tmp_path_factory.mktemp("i18n-browser-state")
    classroom = Served(classroom_app(course, state / "classroom", PASSWORD, tick=False))
    classroom.app.extensions["classroom"].progress.start()
    explorer = Served(explorer_app(tiny_world, state / "explorer", warm_witnesses=False))
    yield classroom, explorer, course_key(course)["codes"]
    for served in (classroom, explorer):
        served.close()
    classroom.app.extensions["classroom"].close()
    explorer.app.extensions["explorer"].close()


@pytest.fixture(scope="module")
def browser():
    driver = start_chromium(height=1100)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def _switch(driver, lang: str) -> None:
    """Click the page's own link to a language and wait for the page in it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.CSS_SELECTOR, f'nav.lang-switch a[lang="{lang}"]').click()
    WebDriverWait(driver, 20).until(
        lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    )


def _letters(lang: str) -> str:
    """The Arabic-script letters the catalogue of lang writes."""
    import unicodedata

    return "".join(sorted({c for c in _sample(lang) if "ARABIC LETTER" in unicodedata.name(c, "")}))


def _check_glyphs(driver, lang: str) -> None:
    family = FAMILIES[lang]
    result = driver.execute_async_script(GLYPHS, family, _letters(lang))
    assert "error" not in result, result
    assert family in result["body"]
    assert result["faces"] and all(f == [family, "loaded"] for f in result["faces"]), result[
        "faces"
    ]
    glyphs = result["glyphs"]
    assert len(glyphs) > 25
    boxes = [c for c, image, _ in glyphs if image == result["tofu"]]
    assert not boxes, f"{lang}: drawn as the missing-glyph box: {''.join(boxes)}"
    # Tofu boxes all look alike; real letters do not.
    assert len({image for _, image, _ in glyphs}) > 0.8 * len(glyphs)
    # The bundled font drew them, not the system's (DejaVu has Arabic too).
    own = sum(image != system for _, image, system in glyphs)
    assert own > 0.8 * len(glyphs)


@pytest.mark.parametrize("lang", ["ru", "kk", "ur", "ar"])
def test_objectives_and_explorer_in_each_language(sites, browser, lang):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    classroom, explorer, codes = sites
    SHOTS.mkdir(exist_ok=True)
    browser.delete_all_cookies()
    browser.get(f"{classroom.url}/join")
    _switch(browser, lang)
    seat = {"ru": 1, "kk": 2, "ur": 3, "ar": 4}[lang]
    browser.find_element(By.NAME, "code").send_keys(codes[seat])
    browser.find_element(By.NAME, "name").send_keys("Chris Chromium")
    browser.find_element(By.NAME, "pin").send_keys(PIN)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "score"))
    html = browser.find_element(By.TAG_NAME, "html")
    rtl = lang in ("ur", "ar")
    assert html.get_attribute("dir") == ("rtl" if rtl else "ltr")
    if rtl:
        # Right to left: the score sits left of the name, the page's start is on the right.
        heading = browser.find_element(By.CSS_SELECTOR, ".summary h1").rect
        score = browser.find_element(By.ID, "score").rect
        assert score["x"] < heading["x"]
        _check_glyphs(browser, lang)
    browser.save_screenshot(str(SHOTS / f"i18n-objectives-{lang}.png"))

    browser.get(f"{explorer.url}/")
    _switch(browser, lang)
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "table.list"))
    if rtl:
        _check_glyphs(browser, lang)
        # A txid keeps its left-to-right order inside the right-to-left table.
        cell = browser.find_element(By.CSS_SELECTOR, "table.list td a.mono bdi")
        assert cell.value_of_css_property("direction") == "ltr"
    browser.save_screenshot(str(SHOTS / f"i18n-explorer-{lang}.png"))
    for name in ("objectives", "explorer"):
        assert (SHOTS / f"i18n-{name}-{lang}.png").stat().st_size > 10_000
