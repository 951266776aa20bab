"""Headless Chromium in the classroom: a trainee answers, the instructor's board follows."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.serve import Sandbox
from tests.chromium import SHOTS, needs_chromium, start_chromium
from tests.test_classroom import PASSWORD, PIN, build_course_world, course_key

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture(scope="module")
def course_world(tmp_path_factory) -> Path:
    """The world of tests/data/course.yaml."""
    return build_course_world(tmp_path_factory.mktemp("course") / "course.db")


@pytest.fixture(scope="module")
def served(course_world, tmp_path_factory):
    """The course world behind a gateway, with the classroom, on free ports."""
    state = tmp_path_factory.mktemp("classroom-browser")
    with Sandbox(
        course_world,
        socks_port=0,
        http_port=0,
        explorer_port=0,
        classroom_port=0,
        instructor_password=PASSWORD,
        state=state,
    ) as sandbox:
        yield sandbox


@pytest.fixture
def trainee_browser(served):
    """The trainee's browser: through the gateway, as on the classroom network."""
    host, port = served.gateway.socks_address
    driver = start_chromium(f"socks5://{host}:{port}")
    yield driver
    driver.quit()


@pytest.fixture
def instructor_browser(served):
    """The instructor's browser, straight to the portal's port on the laptop."""
    driver = start_chromium()
    yield driver
    driver.quit()


def _board_score(driver, seat: int) -> str:
    """The score in a seat's row of the live board."""
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f"tr[data-seat='{seat}'] td.score").text


def test_trainee_answers_and_the_instructor_board_updates_live(
    served, course_world, trainee_browser, instructor_browser
):
    """Join at classroom.test, answer one objective; the open board shows the new score unreloaded."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    SHOTS.mkdir(exist_ok=True)
    info = course_key(course_world)
    key, codes = info["key"], info["codes"]
    portal = served.describe()["classroom"].rstrip("/")

    teacher = instructor_browser
    teacher.get(f"{portal}/instructor/")
    teacher.find_element(By.NAME, "password").send_keys(PASSWORD)
    teacher.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(teacher, 20).until(lambda d: "Live board" in d.page_source)
    assert _board_score(teacher, 2) == "0"
    teacher.find_element(By.XPATH, "//button[text()='Start the exercise']").click()
    WebDriverWait(teacher, 20).until(lambda d: "Exercise clock started" in d.page_source)
    marker = teacher.execute_script("window.__same_page = true; return 1")
    assert marker == 1

    browser = trainee_browser
    browser.get("http://classroom.test/")
    WebDriverWait(browser, 20).until(lambda d: "Join the exercise" in d.page_source)
    browser.find_element(By.NAME, "code").send_keys(codes[2].lower())
    browser.find_element(By.NAME, "name").send_keys("Chris Chromium")
    browser.find_element(By.NAME, "pin").send_keys(PIN)
    browser.save_screenshot(str(SHOTS / "classroom-join.png"))
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: "Objectives" in d.page_source)
    assert browser.find_element(By.ID, "score").text == "0"
    form = browser.find_element(By.CSS_SELECTOR, "#obj-name form.answer")
    form.find_element(By.NAME, "answer").send_keys(key[(2, "name")])
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: "name solved" in d.page_source)
    assert browser.find_element(By.ID, "score").text == "20"
    browser.save_screenshot(str(SHOTS / "classroom-trainee-solved.png"))

    # The board polls board.json: the new score and name arrive without a reload.
    WebDriverWait(teacher, 20).until(lambda d: _board_score(d, 2) == "20")
    assert teacher.execute_script("return window.__same_page === true")
    row = teacher.find_element(By.CSS_SELECTOR, "tr[data-seat='2']")
    assert "Chris Chromium" in row.text
    assert "solved" in row.find_element(By.CSS_SELECTOR, "td[data-objective='name']").get_attribute(
        "class"
    )
    teacher.save_screenshot(str(SHOTS / "classroom-board.png"))
    teacher.get(f"{portal}/instructor/demo")
    WebDriverWait(teacher, 20).until(
        lambda d: "Chris Chromium" in d.find_element(By.ID, "scoreboard").text
    )
    teacher.save_screenshot(str(SHOTS / "classroom-projector.png"))
    for shot in ("classroom-join", "classroom-trainee-solved", "classroom-board"):
        assert (SHOTS / f"{shot}.png").stat().st_size > 10_000


def test_trainee_browser_cannot_open_the_instructor_board(served, course_world, trainee_browser):
    """A joined trainee who types the instructor's URL is refused, and never sees the key."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    codes = course_key(course_world)["codes"]
    browser = trainee_browser
    browser.get("http://classroom.test/join")
    browser.find_element(By.NAME, "code").send_keys(codes[3])
    browser.find_element(By.NAME, "name").send_keys("Dana")
    browser.find_element(By.NAME, "pin").send_keys(PIN)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: "Objectives" in d.page_source)
    browser.get("http://classroom.test/instructor/")
    assert "for the instructor only" in browser.page_source
    assert "Live board" not in browser.page_source
