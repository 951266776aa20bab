"""Scenarios in several languages: the format, validation, the world, the seat's language."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from sandbox.check import check_world, load_solution
from sandbox.classroom import load_course
from sandbox.classroom.compare import answer_matches
from sandbox.classroom.progress import Progress
from sandbox.cli import cli
from sandbox.errors import ScenarioError
from sandbox.scenario import load_scenario
from sandbox.scenario.i18n import LANGUAGES, localized
from sandbox.scenario.loader import resolve_scenario
from sandbox.world.build import build_world
from tests.test_classroom import Portal, csrf_of, instructor

SECRET = bytes.fromhex("00112233445566778899aabbccddeeff")
TRANSLATED = ("ru", "kk", "ur", "ar")
CYRILLIC = re.compile("[\u0400-\u04ff]")
ARABIC = re.compile("[\u0600-\u06ff]")


@pytest.fixture(scope="module")
def intro_world(tmp_path_factory) -> Path:
    """The built-in intro, built with a fixed secret: four vendors, one per seat."""
    out = tmp_path_factory.mktemp("intro") / "intro.db"
    build_world(load_scenario("intro"), out, secret=SECRET)
    return out


@pytest.fixture
def portal(intro_world, tmp_path):
    """A fresh classroom portal on the intro world, its clock running."""
    p = Portal(intro_world, tmp_path / "state", tick=False)
    p.classroom.progress.start()
    yield p
    p.close()


def join(url: str, code: str, language: str | None = None, pin: str = "4711", **headers):
    """(session, response) of a join at a seat, in a language when given."""
    s = requests.Session()
    r = s.get(f"{url}/join", headers=headers, timeout=10)
    data = {"csrf": csrf_of(r.text), "code": code, "name": "Aigerim", "pin": pin}
    if language is not None:
        data["language"] = language
    return s, s.post(f"{url}/join", data=data, headers=headers, timeout=10)


def script_of(language: str) -> re.Pattern:
    """The letters a language is written in."""
    return CYRILLIC if language in ("ru", "kk") else ARABIC


def _with(tmp_path: Path, old: str, new: str, name: str = "case.yaml") -> Path:
    """A copy of the intro scenario with one text replaced."""
    text = resolve_scenario("intro").read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    """The 1-based line of the first line holding needle."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


# -- the format ----------------------------------------------------------------------------


def test_localized_picks_the_language_then_the_default_then_the_first():
    """A reader gets their language, else the scenario's default, else the text's first."""
    text = {"ru": "Привет", "en": "Hello"}
    assert localized(text, "ru", "en") == "Привет"
    assert localized(text, "ar", "en") == "Hello"
    assert localized(text, "ar", "kk") == "Привет"
    assert localized("Hello", "ru", "en") == "Hello"
    assert localized(None, "ru", "en") == ""


def test_builtin_courses_are_translated_into_every_language():
    """intro, tf-donations and tf-usdt declare five languages and miss no translation."""
    for name in ("intro", "tf-donations", "tf-usdt"):
        scenario = load_scenario(name, strict=True)
        assert scenario.languages == ("en", "ru", "kk", "ur", "ar"), name
        assert scenario.language == "en" and scenario.warnings == ()
        for o in scenario.objectives:
            assert isinstance(o.question, dict) and set(o.question) == set(scenario.languages)
            for language in TRANSLATED:
                assert script_of(language).search(o.question[language]), (name, o.id, language)
                for h in o.hints:
                    assert script_of(language).search(localized(h.text, language, "en"))
            # names, addresses and onion names stay as they are: placeholders too
            placeholders = set(re.findall(r"\{[a-z_.-]+\}", o.question["en"]))
            for language in TRANSLATED:
                assert set(re.findall(r"\{[a-z_.-]+\}", o.question[language])) == placeholders


def test_a_missing_translation_is_a_warning_and_strict_makes_it_an_error(tmp_path):
    """`validate` names FILE:LINE: path of the text without a language; --strict fails."""
    path = _with(
        tmp_path,
        '      ru: "Какой .onion-адрес у Copperleaf Market?"\n',
        "",
    )
    line = _line_of(path, "    question:")
    runner = CliRunner()
    result = runner.invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    expected = (
        f"{path}:{line}: objectives[0].question: warning: missing translation: no ru text "
        "(meta.languages: en, ru, kk, ur, ar)"
    )
    assert expected in result.output
    strict = runner.invoke(cli, ["validate", "--strict", str(path)])
    assert strict.exit_code == 1
    assert (
        f"{path}:{line}: objectives[0].question: missing translation: no ru text "
        "(meta.languages: en, ru, kk, ur, ar)"
    ) in strict.output
    assert "valid (" not in strict.output


def test_a_plain_text_in_a_scenario_of_several_languages_is_missing_its_translations(tmp_path):
    """A string is the default language's text; a forum post's words are the site's."""
    text = resolve_scenario("intro").read_text(encoding="utf-8")
    start = text.index('    text:\n      en: "Welcome.')
    end = text.index("\n", text.index('      ar: "', start))
    welcome = '    text: "Welcome. Your target is {subject.handle}."'
    path = _with(tmp_path, text[start:end], welcome)
    with pytest.raises(ScenarioError) as e:
        load_scenario(path, strict=True)
    assert [p.path for p in e.value.problems] == ["injects[0].text"]
    assert "no ru, kk, ur, ar text" in e.value.problems[0].message


def test_undeclared_and_unknown_languages_are_errors(tmp_path):
    """A text in a language meta.languages does not list, or a language nobody offers."""
    path = _with(tmp_path, '      ar: "ما عنوان .onion', '      de: "ما عنوان .onion')
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    (problem,) = e.value.problems
    assert problem.path == "objectives[0].question.de"
    assert problem.line == _line_of(path, '      de: "')
    assert "'de' is not one of the scenario's languages (meta.languages: en, ru, kk" in str(problem)
    path = _with(tmp_path, "languages: [en, ru, kk, ur, ar]", "languages: [en, ru, kk, ur, ar, xx]")
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    assert any(p.path == "meta.languages[5]" for p in e.value.problems), e.value


def test_a_text_that_is_neither_a_string_nor_a_mapping_is_named(tmp_path):
    """The schema's message says what a text may be; an empty translation is named too."""
    path = _with(tmp_path, '      ru: "Какой .onion-адрес у Copperleaf Market?"', '      ru: ""')
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    assert [(p.path, p.message) for p in e.value.problems] == [
        ("objectives[0].question.ru", "must not be empty")
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text("meta: {title: 5}\nactors: [{id: x, role: exchange}]\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        load_scenario(bad)
    assert [(p.line, p.path, p.message) for p in e.value.problems] == [
        (1, "meta.title", "expected text or a mapping language -> text, got a number (5)")
    ]


def test_the_default_language_is_the_locales_when_declared(tmp_path):
    """meta.locale ru_RU with Russian among the languages: texts fall back to Russian."""
    path = _with(tmp_path, "  locale: en_GB\n", "  locale: ru_RU\n")
    scenario = load_scenario(path)
    assert scenario.language == "ru"
    assert localized(scenario.meta.title, "fr", scenario.language) == (
        "Операция Copperleaf (демонстрация)"
    )
    assert load_scenario("default").languages == ("en",)  # a scenario of one language


def test_placeholders_are_checked_in_every_language(tmp_path):
    """A misspelt placeholder in one translation is named at its language's path."""
    path = _with(
        tmp_path,
        'kk: "{subject.handle} өзінің',
        'kk: "{subject.handel} өзінің',
    )
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    (problem,) = e.value.problems
    assert problem.path == "objectives[1].question.kk" and "handel" in problem.message


# -- answers in another script ------------------------------------------------------------


def test_a_spelling_group_accepts_the_seats_answer_in_another_script():
    """Only the group holding this seat's answer counts; accept texts count for all."""
    groups = (("Aidos Serikbayev", "Айдос Серікбаев", "Айдос Серикбаев"), ("Dana Nur", "Дана Нур"))
    assert answer_matches("nocase", "айдос серикбаев", "Aidos Serikbayev", spellings=groups)
    assert answer_matches("nocase", "AIDOS SERIKBAYEV", "Айдос Серікбаев", spellings=groups)
    assert not answer_matches("nocase", "Дана Нур", "Aidos Serikbayev", spellings=groups)
    assert not answer_matches("nocase", "Айдос Серикбаев", "Someone Else", spellings=groups)
    assert not answer_matches("set", "Айдос Серикбаев", ["Aidos Serikbayev"], spellings=groups)


def test_accept_lists_spellings_that_the_classroom_judges(tmp_path):
    """`accept: [[CoinVault, КоинВолт, كوين فولت]]` is kept in the world and judged per seat.

    (The same world has a Russian forum: a forum post given per language is its site's.)
    """
    _with(
        tmp_path,
        "    answer: {flow: cashout, member: $subject, field: exchange}\n",
        "    answer: {flow: cashout, member: $subject, field: exchange}\n"
        '    accept: [[CoinVault, КоинВолт, "كوين فولت"], [Harbor Exchange, Харбор]]\n',
    )
    text = (tmp_path / "case.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "\nflows:\n",
        "\n  - {id: agora, kind: forum, name: Agora, operator: copper, language: ru}\n\nflows:\n",
        1,
    )
    text = text.replace(
        "\ninjects:\n",
        "\ninjects:\n  - {id: post, action: forum_post, site: agora, actor: copper,"
        " text: {en: Hello, ru: Привет}}\n",
        1,
    )
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    scenario = load_scenario(path, strict=True)  # a forum post needs no translation
    objective = scenario.objectives[2]
    assert objective.accept == ()
    assert objective.spellings == (
        ("CoinVault", "КоинВолт", "كوين فولت"),
        ("Harbor Exchange", "Харбор"),
    )
    out = tmp_path / "world.db"
    build_world(scenario, out, secret=SECRET)
    p = Portal(out, tmp_path / "state", tick=False)
    try:
        judge = p.classroom.judge
        assert judge(1, "cashout-exchange", "коинволт")
        assert judge(1, "cashout-exchange", "كوين فولت") and judge(
            1, "cashout-exchange", "CoinVault"
        )
        assert not judge(1, "cashout-exchange", "Харбор")  # another exchange's spelling
    finally:
        p.close()
    conn = sqlite3.connect(out)
    try:
        (config,) = conn.execute("SELECT config FROM injects WHERE id = 'post'").fetchone()
    finally:
        conn.close()
    assert {c["text"] for c in json.loads(config).values()} == {"Привет"}
    result = CliRunner().invoke(cli, ["key", str(out)])
    assert "also accepted: CoinVault = КоинВолт = كوين فولت | Harbor Exchange = Харбор" in (
        result.output
    )


# -- the world ------------------------------------------------------------------------------


def test_the_world_keeps_every_language_and_the_default_where_it_was(intro_world):
    """course_texts holds the maps, placeholders filled per seat; old columns stay English."""
    course = load_course(intro_world)
    assert course.language == "en" and course.languages == ("en", "ru", "kk", "ur", "ar")
    handle = course.questions[(1, "vendor-address")].split()[-6]
    assert course.questions[(1, "vendor-address")].startswith("Which Bitcoin address")
    for language in TRANSLATED:
        question = course.question(1, "vendor-address", language)
        assert handle in question and script_of(language).search(question)
        assert "{" not in question
        assert script_of(language).search(course.title_in(language))
        brief = course.brief_in(1, "brief", language)
        assert course.seats[1].code in brief and script_of(language).search(brief)
        # the brief's own words too: nothing but names, codes and keys left in English
        assert "Seat code" not in brief and "## Your seat" not in brief
    assert "- Seat code: `" in course.brief_text(1, "brief")  # the default stays English
    assert course.question(1, "vendor-address", "fr") == course.questions[(1, "vendor-address")]
    conn = sqlite3.connect(intro_world)
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta"))
        configs = json.loads(
            conn.execute("SELECT config FROM injects WHERE id = 'welcome'").fetchone()[0]
        )
    finally:
        conn.close()
    assert meta["title"] == "Operation Copperleaf (demo)" and meta["language"] == "en"
    assert set(configs["1"]["texts"]) == {"en", "ru", "kk", "ur", "ar"}
    assert course.seats[1].code in configs["1"]["texts"]["ur"]


def test_a_world_from_before_languages_reads_as_english(intro_world, tmp_path):
    """Without course_texts and meta's language the course is the default texts."""
    old = tmp_path / "old.db"
    old.write_bytes(intro_world.read_bytes())
    conn = sqlite3.connect(old)
    with conn:
        conn.execute("DROP TABLE course_texts")
        conn.execute("DELETE FROM meta WHERE key IN ('language', 'languages')")
    conn.close()
    course = load_course(old)
    assert course.language == "en" and course.languages == ("en",) and not course.texts
    assert (
        course.question(1, "market-onion", "ru")
        == "What is the .onion address of Copperleaf Market?"
    )


# -- the seat's language ------------------------------------------------------------------


def test_a_trainee_joins_in_a_language_and_reads_the_case_in_it(portal, intro_world):
    """Questions, hints, brief and messages in the seat's language; another seat's stay English."""
    course = load_course(intro_world)
    s1, page = join(portal.url, course.seats[1].code, "kk")
    assert page.status_code == 200
    for objective in course.objectives:
        assert course.question(1, objective.id, "kk") in page.text
    assert "Іс бойынша кіріспе" in page.text and "Copperleaf операциясы" in page.text
    assert "What is the .onion address" not in page.text
    assert 'option value="kk" lang="kk" selected' in page.text
    s2, other = join(portal.url, course.seats[2].code, "en")
    assert "What is the .onion address of Copperleaf Market?" in other.text
    # nothing in another script but the language menu's and the switcher's names
    english = re.sub(r"<select.*?</select>", "", other.text, flags=re.S)
    english = re.sub(r'<nav class="lang-switch".*?</nav>', "", english, flags=re.S)
    assert not CYRILLIC.search(english) and not ARABIC.search(english)
    # a hint and a message in the seat's language
    csrf = csrf_of(page.text)
    s1.post(f"{portal.url}/objectives/market-onion/hint", data={"csrf": csrf}, timeout=10)
    runner = portal.app.extensions["injects"]
    runner.tick()  # the welcome message, at minute 0
    page = s1.get(f"{portal.url}/", timeout=10).text
    assert "Сілтемелер каталогында ол Markets бөлімінде көрсетілген." in page
    assert "Қош келдіңіз. Сіздің нысаныңыз" in page
    me = s1.get(f"{portal.url}/me.json", timeout=10).json()
    assert me["messages"][0]["text"].startswith("Қош келдіңіз")
    other = s2.get(f"{portal.url}/", timeout=10).text
    assert "Welcome. Your target is" in other and "Қош келдіңіз" not in other
    assert "The link directory lists it" not in other  # seat 2 unlocked nothing
    # the brief's file in the seat's language too
    brief = s1.get(f"{portal.url}/artefacts/brief", timeout=10)
    assert brief.text.startswith("# Copperleaf операциясы") and course.seats[1].code in brief.text
    assert s2.get(f"{portal.url}/artefacts/brief", timeout=10).text.startswith("# Operation")


def test_the_instructor_reads_the_scenario_in_the_instructors_language(portal, intro_world):
    """The instructor's own language (the switcher on the instructor's side) applies to the
    scenario's texts there: a seat's questions and hints, the title. `?texts=` shows them in
    the seat's language; a language the scenario lacks falls back to its default."""
    course = load_course(intro_world)
    join(portal.url, course.seats[1].code, "kk")  # the trainee reads Kazakh
    teacher, _csrf = instructor(portal.url)
    r = teacher.get(
        f"{portal.url}/_i18n/lang/ru", params={"next": "/instructor/seats/1"}, timeout=10
    )
    assert r.status_code == 200 and teacher.cookies.get("lang_instructor") == "ru"
    assert teacher.cookies.get("lang") is None  # the trainee side's choice is not touched
    page = unescape(r.text)
    assert '<html lang="ru" dir="ltr">' in page
    hints = 0
    for objective in course.objectives:
        assert course.question(1, objective.id, "ru") in page
        assert course.questions[(1, objective.id)] not in page
        for hint in objective.hints:
            text = course.hint_text(1, objective.id, hint.position, "ru")
            assert text in page and course.hint_texts[(1, objective.id, hint.position)] not in page
            hints += 1
    assert hints and course.title_in("ru") in page and course.title not in page
    welcome = course.inject("welcome").config(1)["texts"]
    assert welcome["ru"] in page and welcome["en"] not in page  # the seat's inject message
    # the trainee's language, one link away (the interface stays the instructor's)
    assert 'href="/instructor/seats/1?texts=kk"' in page
    kk = unescape(teacher.get(f"{portal.url}/instructor/seats/1?texts=kk", timeout=10).text)
    assert '<html lang="ru"' in kk
    assert all(course.question(1, o.id, "kk") in kk for o in course.objectives)
    # French: the pages speak it, the scenario does not: its texts in the default language
    teacher.get(f"{portal.url}/_i18n/lang/fr", params={"next": "/instructor/"}, timeout=10)
    fr = unescape(teacher.get(f"{portal.url}/instructor/seats/1", timeout=10).text)
    assert '<html lang="fr"' in fr and "Objectif" in fr
    assert all(course.questions[(1, o.id)] in fr for o in course.objectives)
    injects = teacher.get(f"{portal.url}/instructor/injects", timeout=10)
    assert injects.status_code == 200 and '<html lang="fr"' in injects.text


def test_the_trainee_changes_language_and_bad_choices_are_refused(portal, intro_world):
    """POST /language switches; an unknown language is a 400 naming it and changes nothing."""
    course = load_course(intro_world)
    s, page = join(portal.url, course.seats[3].code, "ru")
    csrf = csrf_of(page.text)
    r = s.post(f"{portal.url}/language", data={"csrf": csrf, "language": "ar"}, timeout=10)
    assert r.status_code == 200 and course.question(3, "market-onion", "ar") in r.text
    assert portal.classroom.progress.trainee(3)["language"] == "ar"
    bad = s.post(f"{portal.url}/language", data={"csrf": csrf, "language": "xx"}, timeout=10)
    # refused in the trainee's language (Arabic now), naming what was sent
    assert bad.status_code == 400 and "لا توجد لغة 'xx'" in unescape(bad.text)
    assert portal.classroom.progress.trainee(3)["language"] == "ar"
    # a join with an unknown language is refused before anything is stored
    _, refused = join(portal.url, course.seats[4].code, "klingon")
    assert refused.status_code == 400
    assert "There is no language 'klingon'" in unescape(refused.text)
    assert portal.classroom.progress.trainee(4) is None
    # a rejoin with the PIN may change the language
    _, again = join(portal.url, course.seats[3].code, "ur")
    assert again.status_code == 200 and course.question(3, "market-onion", "ur") in again.text


def test_the_join_page_offers_the_browsers_language(portal):
    """Accept-Language picks the menu's choice among the scenario's languages; else its default."""
    page = requests.get(
        f"{portal.url}/join", headers={"Accept-Language": "ur-PK,ur;q=0.9"}, timeout=10
    )
    assert 'option value="ur" lang="ur" selected' in page.text
    page = requests.get(f"{portal.url}/join", headers={"Accept-Language": "de-DE"}, timeout=10)
    assert 'option value="en" lang="en" selected' in page.text
    # a regional tag is its language, even ahead of an exact match further down the list
    page = requests.get(
        f"{portal.url}/join", headers={"Accept-Language": "kk-KZ, en;q=0.5"}, timeout=10
    )
    assert 'option value="kk" lang="kk" selected' in page.text
    for language in LANGUAGES:
        assert f'option value="{language}"' in page.text
    # a seat joined without choosing reads the default language
    course = portal.classroom.course
    _, joined = join(portal.url, course.seats[2].code)
    assert "What is the .onion address of Copperleaf Market?" in joined.text


def test_a_classroom_db_from_before_languages_gains_the_columns(tmp_path):
    """Opening an old classroom.db adds trainees.language and messages.texts; rows stay."""
    state = tmp_path / "state"
    state.mkdir()
    conn = sqlite3.connect(state / "classroom.db")
    with conn:
        conn.execute(
            "CREATE TABLE trainees (seat INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "joined REAL NOT NULL, token TEXT NOT NULL, pin TEXT)"
        )
        conn.execute("INSERT INTO trainees VALUES (1, 'Old Timer', 1.0, 'tok', NULL)")
        conn.execute(
            "CREATE TABLE messages (id INTEGER PRIMARY KEY, seat INTEGER, text TEXT NOT NULL, "
            "time REAL NOT NULL)"
        )
        conn.execute("INSERT INTO messages (seat, text, time) VALUES (1, 'hello', 2.0)")
    conn.close()
    progress = Progress(state)
    try:
        row = progress.trainee(1)
        assert row["name"] == "Old Timer" and row["language"] is None
        assert progress.set_language(1, "ur") and progress.trainee(1)["language"] == "ur"
        assert [m["text"] for m in progress.messages(1)] == ["hello"]
        progress.add_message(1, "hi", {"en": "hi", "ru": "привет"})
        assert json.loads(progress.messages(1)[0]["texts"]) == {"en": "hi", "ru": "привет"}
    finally:
        progress.close()


# -- sandbox check in each language -------------------------------------------------------


@pytest.mark.check
@pytest.mark.parametrize("language", ("en", *TRANSLATED))
def test_sandbox_check_intro_in_each_language(intro_world, tmp_path, language):
    """Seats join in the language, their case pages show its questions, intro is solved."""
    scenario = load_scenario("intro")
    solvers = load_solution(scenario.solution)
    outcomes = check_world(intro_world, solvers, [1], tmp_path, None, scenario, language)
    shown = [o for o in outcomes if o.language == language]
    assert len(shown) == len(scenario.objectives) + 1 and all(o.ok for o in shown), shown
    if language != "en":
        assert all(script_of(language).search(o.answer) for o in shown)
    solved = [o for o in outcomes if o.language is None and not o.leak]
    assert len(solved) == len(scenario.objectives) and all(o.ok for o in solved), solved


@pytest.mark.check
def test_sandbox_check_intro_language_on_the_command_line():
    """`sandbox check intro --language ur`, as an instructor types it: exit 0, each text shown."""
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "check", "intro", "--language", "ur"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for objective in load_scenario("intro").objectives:
        assert f"ok   seat 1 {objective.id} [ur]: the case page shows its question" in (
            result.stdout
        )
    assert ": solvable: 3/3 objectives" in result.stdout


def test_sandbox_check_refuses_a_language_the_scenario_is_not_written_in():
    """--language fr on intro, or an unknown language, fails at once naming it."""
    runner = CliRunner()
    result = runner.invoke(cli, ["check", "intro", "--language", "fr"])
    assert result.exit_code == 1 and "is not written in 'fr'" in result.output
    result = runner.invoke(cli, ["check", "intro", "--language", "xx"])
    assert result.exit_code == 2 and "'xx' is not a language of the classroom" in result.output
