"""The sandbox's own pages in ru, kk, ur, ar, fr and es: complete catalogues, no English
left, RTL; the law-enforcement portals' form errors in the page's language.

The classroom, the explorer and an exchange's law-enforcement portal are served on free
loopback ports and read with requests, the language chosen through the switcher's link.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import unicodedata
from html import escape
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from bs4 import BeautifulSoup
from flask import Flask, g, request
from flask_babel import get_locale
from werkzeug.serving import make_server

from sandbox import i18n
from sandbox.i18n.catalogues import TEMPLATE, extract, load
from tests.test_classroom import PASSWORD, PIN, build_course_world, course_key, csrf_of
from tests.test_exchanges import csrf_of as le_csrf
from tests.test_exchanges import requester

TRANSLATED = ("ru", "kk", "ur", "ar", "fr", "es")
PLURALS = {"ru": 3, "kk": 2, "ur": 2, "ar": 6, "fr": 2, "es": 2}
# The plural rule each catalogue must carry (gettext's, not CLDR's three forms for fr and es).
PLURAL_RULES = {"fr": "(n > 1)", "es": "(n != 1)"}
FONTS = {"ur": "NotoNastaliqUrdu-Regular.ttf", "ar": "NotoNaskhArabic-Regular.ttf"}
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdfr]")


class Served:
    """A WSGI app on a free loopback port, in a thread; close() stops it."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# The catalogues.


def _ids(catalog) -> set:
    return {m.id for m in catalog if m.id}


def test_every_message_is_in_every_catalogue_translated():
    """Every message of the code and templates is translated in each language: no missing,
    empty or fuzzy entry, every plural form filled, placeholders that format."""
    extracted = _ids(extract())
    assert len(extracted) > 150  # the extraction itself found the interfaces' messages
    with TEMPLATE.open("rb") as f:
        from babel.messages.pofile import read_po

        assert _ids(read_po(f)) == extracted, (
            "messages.pot is stale: python -m sandbox.i18n.catalogues"
        )
    for lang in TRANSLATED:
        catalog = load(lang)
        assert catalog.num_plurals == PLURALS[lang], lang
        if lang in PLURAL_RULES:
            assert catalog.plural_expr == PLURAL_RULES[lang], lang
        assert not catalog.fuzzy, f"{lang}: the catalogue's header is marked fuzzy"
        missing = extracted - _ids(catalog)
        assert not missing, f"{lang}: not in the catalogue: {sorted(missing, key=str)[:5]}"
        for message in catalog:
            if not message.id:
                continue
            where = f"{lang}: {message.id!r}"
            assert not message.fuzzy, f"{where} is fuzzy"
            strings = message.string if isinstance(message.id, tuple) else (message.string,)
            assert all(strings), f"{where} is not translated"
            if isinstance(message.id, tuple):
                assert len(strings) == PLURALS[lang], f"{where}: plural forms missing"
        problems = [(m.id, errors) for m, errors in catalog.check()]
        assert not problems, f"{lang}: {problems[:3]}"


def _sample(lang: str) -> str:
    """Every character the catalogue of lang writes."""
    return "".join(
        "".join(m.string) if isinstance(m.id, tuple) else m.string for m in load(lang) if m.id
    )


@pytest.mark.parametrize("lang", ["ur", "ar"])
def test_bundled_font_covers_every_letter_of_its_catalogue(lang):
    """The bundled Nastaliq / Naskh font has a glyph for every Arabic-script character the
    catalogue uses, so no page shows a missing-glyph box; the OFL text ships with it."""
    from fontTools.ttLib import TTFont

    fonts = i18n.STATIC / "fonts"
    assert "SIL OPEN FONT LICENSE" in (fonts / "OFL.txt").read_text()
    cmap = TTFont(fonts / FONTS[lang]).getBestCmap()
    letters = {c for c in _sample(lang) if "ARABIC" in unicodedata.name(c, "")}
    assert len(letters) > 25
    assert not sorted(c for c in letters if ord(c) not in cmap)
    # It can fail: a character the font does not draw is reported.
    assert ord("\u0fff") not in cmap


# The rules that choose the language.


@pytest.fixture(scope="module")
def chooser():
    """A small app with the sandbox's i18n and a scenario in Kazakh; ?as= plays the
    classroom's part of setting the trainee's chosen language in `g.language`."""
    app = Flask(__name__)
    i18n.init_app(app, scenario_locale="kk_KZ")

    @app.before_request
    def chosen():
        if "as" in request.args:
            g.language = request.args["as"]

    @app.get("/which")
    def which():
        return str(get_locale())

    plain = Flask("plain")
    i18n.init_app(plain, scenario_locale=None)
    plain.add_url_rule("/which", "which", lambda: str(get_locale()))
    served = Served(app), Served(plain)
    yield served
    for s in served:
        s.close()


def test_language_is_chosen_then_cookie_then_scenario_then_browser(chooser):
    scenario_kk, no_scenario = chooser
    get = lambda base, **kw: requests.get(f"{base.url}/which", timeout=10, **kw).text  # noqa: E731
    assert get(scenario_kk, headers={"Accept-Language": "ar"}) == "kk"
    assert get(scenario_kk, cookies={"lang": "ur"}, headers={"Accept-Language": "ar"}) == "ur"
    assert get(scenario_kk, params={"as": "ru-RU"}, cookies={"lang": "ur"}) == "ru"
    assert get(scenario_kk, params={"as": "de"}, cookies={"lang": "ur"}) == "ur"  # unsupported
    assert get(scenario_kk, params={"as": "es-MX"}, cookies={"lang": "ur"}) == "es"
    assert get(no_scenario, headers={"Accept-Language": "de, ar;q=0.5"}) == "ar"
    assert get(no_scenario, headers={"Accept-Language": "ru-RU,ru;q=0.9"}) == "ru"
    assert get(no_scenario, headers={"Accept-Language": "de"}) == "en"
    assert get(no_scenario, headers={"Accept-Language": "fr-SN, en;q=0.5"}) == "fr"
    assert get(no_scenario) == "en"


def test_switcher_sets_the_cookie_and_never_leaves_the_site(chooser):
    app = chooser[0]
    r = requests.get(
        f"{app.url}/_i18n/lang/ar", params={"next": "/which?x=1"}, allow_redirects=False, timeout=10
    )
    assert r.status_code == 303 and r.headers["Location"] == "/which?x=1"
    assert r.cookies["lang"] == "ar"
    for target in ("//evil.test/", "http://evil.test/", "which"):
        r = requests.get(
            f"{app.url}/_i18n/lang/ru", params={"next": target}, allow_redirects=False, timeout=10
        )
        assert r.headers["Location"] == "/", target
    r = requests.get(f"{app.url}/_i18n/lang/xx", allow_redirects=False, timeout=10)
    assert r.status_code == 303 and "lang" not in r.cookies


def test_banner_in_the_language_asked_for(monkeypatch):
    """`sandbox up`'s banner: --lang first, then SANDBOX_LANG, LC_ALL, LC_MESSAGES, LANG."""
    from sandbox.cli import _banner

    run = {"socks": "127.0.0.1:9050", "http_proxy": "127.0.0.1:8118", "explorer": "", "sites": []}
    info = {"title": "Intro", "seed": 7}
    sandbox = SimpleNamespace(live=None, instructor_password="pw")
    for variable in ("SANDBOX_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    english = _banner(run, info, "w.db", sandbox, 1.0, None)
    assert english[1].startswith("SOCKS5 proxy  127.0.0.1:9050")
    assert _banner(run, info, "w.db", sandbox, 1.0, "ur")[1].startswith("SOCKS5 پراکسی")
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    assert "готово за 1.0 с" in _banner(run, info, "w.db", sandbox, 1.0, None)[0]
    monkeypatch.setenv("LC_ALL", "kk_KZ.UTF-8")
    assert "дайын" in _banner(run, info, "w.db", sandbox, 1.0, None)[0]
    monkeypatch.setenv("SANDBOX_LANG", "ar")
    assert "جاهز" in _banner(run, info, "w.db", sandbox, 1.0, None)[0]
    assert "готово" in _banner(run, info, "w.db", sandbox, 1.0, "ru")[0]


# The pages.


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    return build_course_world(tmp_path_factory.mktemp("i18n-course") / "course.db")


@pytest.fixture(scope="module")
def sites(course, tiny_world, tmp_path_factory):
    """The classroom (course world), the explorer and BitBarn's portal (tiny world)."""
    from sandbox.classroom import create_app as classroom_app
    from sandbox.exchanges import create_app as exchange_app
    from sandbox.explorer import create_app as explorer_app

    state = tmp_path_factory.mktemp("i18n-state")
    classroom = Served(classroom_app(course, state / "classroom", PASSWORD, tick=False))
    classroom.app.extensions["classroom"].progress.start()
    explorer = Served(explorer_app(tiny_world, state / "explorer", warm_witnesses=False))
    exchange = Served(exchange_app(tiny_world, "bitbarn", state / "exchange"))
    yield SimpleNamespace(classroom=classroom, explorer=explorer, exchange=exchange)
    for served in (classroom, explorer, exchange):
        served.close()
    classroom.app.extensions["classroom"].close()
    explorer.app.extensions["explorer"].close()


def _choose(session: requests.Session, base: str, lang: str, path: str) -> str:
    """Pick lang with the page's own switcher link and follow it back to path."""
    page = session.get(f"{base}{path}", timeout=10).text
    link = BeautifulSoup(page, "html.parser").select_one(f'nav.lang-switch a[lang="{lang}"]')
    assert link is not None, f"{base}{path}: no switcher link for {lang}"
    r = session.get(f"{base}{link['href']}", timeout=10)
    assert r.status_code == 200 and r.url.endswith(path), r.url
    return r.text


def _pages(sites, course, tiny_world, lang: str) -> dict[str, str]:
    """Every page the test reads, in lang, by name."""
    conn = sqlite3.connect(f"file:{tiny_world}?mode=ro", uri=True)
    try:
        address, txid = conn.execute(
            "SELECT a.address, t.txid FROM outputs o JOIN addresses a ON a.id = o.address_id "
            "JOIN transactions t ON t.id = o.tx_id ORDER BY t.id DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    pages = {}
    base = sites.classroom.url
    s = requests.Session()
    pages["join"] = _choose(s, base, lang, "/join")
    seat = TRANSLATED.index(lang) + 1  # the course has six seats, one per language
    r = s.post(
        f"{base}/join",
        data={"csrf": csrf_of(pages["join"]), "code": course_key(course)["codes"][seat],
              "name": "Anna Analyst", "pin": PIN},
        timeout=10,
    )  # fmt: skip
    assert r.status_code == 200 and 'id="score"' in r.text
    pages["objectives"] = r.text
    teacher = requests.Session()
    login = _choose(teacher, base, lang, "/instructor/login")
    r = teacher.post(
        f"{base}/instructor/login",
        data={"csrf": csrf_of(login), "password": PASSWORD},
        timeout=10,
    )
    assert r.status_code == 200 and 'id="board"' in r.text
    pages["instructor"] = r.text
    # The instructor's choice is the instructor's: the trainee's side keeps its own.
    assert teacher.cookies.get("lang_instructor") == lang and "lang" not in teacher.cookies
    e = requests.Session()
    pages["explorer"] = _choose(e, sites.explorer.url, lang, "/")
    pages["address"] = e.get(f"{sites.explorer.url}/address/{address}", timeout=10).text
    pages["tx"] = e.get(f"{sites.explorer.url}/tx/{txid}", timeout=10).text
    officer = requests.Session()
    login = _choose(officer, sites.exchange.url, lang, "/le/login")
    pages["portal login"] = login
    who = requester(tiny_world)
    r = officer.post(
        f"{sites.exchange.url}/le/login",
        data={"login": who["login"], "password": who["password"], "csrf": le_csrf(login)},
        timeout=10,
    )
    assert r.status_code == 200 and "/le/logout" in r.text
    pages["portal log"] = r.text
    pages["portal form"] = officer.get(f"{sites.exchange.url}/le/request", timeout=10).text
    pages["_address"] = address
    pages["_agency"] = who["agency"]  # a Faker city's police: data, not the interface
    return pages


# What the scenario writes (its brief, questions, hints, messages, file titles) is in the
# scenario's own language: scenario texts are translated by the scenario, not by catalogues.
SCENARIO_TEXT = (
    ".brief, section.card > h2:first-child:has(+ .brief), .objective h3, .hint, "
    ".messages li, .files strong, .files .muted, #agency .muted, "
    # the world's public labels of addresses (an exchange's or a service's name)
    ".tag"
)


def _visible_text(html: str) -> list[str]:
    """The page's words a reader sees, without what never gets translated: data kept
    left to right (<bdi>, <code>), the scenario's texts, the switcher's language names."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.select(f"script, style, bdi, code, nav.lang-switch, {SCENARIO_TEXT}"):
        tag.decompose()
    texts = [t.strip() for t in soup.find_all(string=True) if t.strip()]
    for tag in soup.find_all(True):
        for attribute, value in tag.attrs.items():
            # data-t-*: the phrases the board's script writes into the page as it polls
            if attribute in ("placeholder", "title", "aria-label") or attribute.startswith(
                "data-t-"
            ):
                texts.append(value)
    return texts


@pytest.fixture(scope="module")
def english_words() -> list[re.Pattern]:
    """A pattern per piece of English text a catalogue translates (placeholders cut out)."""
    pieces = set()
    for message in extract():
        for text in message.id if isinstance(message.id, tuple) else (message.id,):
            for piece in PLACEHOLDER.split(text):
                piece = piece.strip(" .,:;()·/-–—→←✔✘")
                if re.search(r"[A-Za-z]{2}", piece) and piece not in ("PIN", "CSV", "API"):
                    pieces.add(piece)
    return [re.compile(rf"(?<![\w-]){re.escape(p)}(?![\w-])") for p in sorted(pieces)]


def _in_language(patterns, lang: str) -> list[re.Pattern]:
    """The English patterns less the words lang writes the same way (French and Spanish
    share "Transaction", "Message", "Mempool"...): a word or two that the catalogue's own
    translations use is no sign of English left. A longer piece always counts."""
    translated = PLACEHOLDER.sub(
        " ",
        "\n".join(
            "\n".join(m.string) if isinstance(m.id, tuple) else m.string for m in load(lang) if m.id
        ),
    )
    words = re.compile(r"[A-Za-z]{2,}")
    return [p for p in patterns if len(words.findall(p.pattern)) > 2 or not p.search(translated)]


def _english_left(html: str, patterns) -> set[str]:
    found = set()
    for text in _visible_text(html):
        for pattern in patterns:
            if pattern.search(text):
                found.add(pattern.pattern)
    return found


# Data on the pages that is English by nature: the course's names, the exchange's name.
DATA = re.compile(r"Tiny course|Anna Analyst|BitBarn|sandbox up|explorer\.test")


@pytest.mark.parametrize("lang", TRANSLATED)
def test_pages_have_no_english_left_and_rtl_keeps_data_left_to_right(
    sites, course, tiny_world, english_words, lang
):
    pages = _pages(sites, course, tiny_world, lang)
    address = pages.pop("_address")
    agency = pages.pop("_agency")
    direction = "rtl" if lang in ("ur", "ar") else "ltr"
    english_words = _in_language(english_words, lang)
    for name, html in pages.items():
        soup = BeautifulSoup(html, "html.parser")
        assert soup.html["lang"] == lang and soup.html["dir"] == direction, name
        assert soup.select_one('link[href="/_i18n/static/i18n.css"]'), name
        data_free = DATA.sub(" ", html.replace(agency, " ").replace(escape(agency), " "))
        left = _english_left(data_free, english_words)
        assert not left, f"{lang} {name}: English left: {sorted(left)[:8]}"
    # Addresses, txids and amounts never reorder: each sits in its own <bdi dir="ltr">.
    for name in ("address", "tx", "objectives"):
        soup = BeautifulSoup(pages[name], "html.parser")
        isolated = [b.get_text() for b in soup.find_all("bdi", dir="ltr")]
        assert any("BTC" in text for text in isolated), name
        if name == "address":
            assert address in isolated
        stray = [t for t in _visible_text(pages[name]) if re.search(r"\b[13bc][a-z0-9]{25,}\b", t)]
        assert not stray, f"{lang} {name}: an address outside <bdi>: {stray[:2]}"


def test_the_english_pages_are_caught_by_the_same_check(sites, course, tiny_world, english_words):
    """The no-English check can fail: on the English pages it finds the interface's words."""
    pages = _pages(sites, course, tiny_world, "ru")
    del pages["_address"], pages["_agency"]
    for name in ("join", "explorer", "portal login"):
        base = {"join": sites.classroom, "explorer": sites.explorer, "portal login": sites.exchange}
        path = {"join": "/join", "explorer": "/", "portal login": "/le/login"}[name]
        html = requests.get(f"{base[name].url}{path}", cookies={"lang": "en"}, timeout=10).text
        assert 'lang="en" dir="ltr"' in html
        assert len(_english_left(html, english_words)) >= 3, name


def test_fonts_are_served_from_the_sandbox(sites):
    for served in (sites.classroom, sites.explorer, sites.exchange):
        css = requests.get(f"{served.url}/_i18n/static/i18n.css", timeout=10)
        assert css.status_code == 200 and "http" not in css.text.replace(
            "https://openfontlicense", ""
        )
        for font in FONTS.values():
            r = requests.get(f"{served.url}/_i18n/static/fonts/{font}", timeout=10)
            assert r.status_code == 200 and r.content[:4] == b"\x00\x01\x00\x00", font


@pytest.fixture(scope="module")
def tronscan(tmp_path_factory):
    """The Tron explorer over a world with a Tron chain (tf-donations)."""
    from tests.test_tronscan import _serve, build_tron_world

    world = build_tron_world(tmp_path_factory.mktemp("i18n-tron"))
    yield from _serve(world, tmp_path_factory.mktemp("i18n-tron-state"))


@pytest.mark.slow
@pytest.mark.parametrize("lang", TRANSLATED)
def test_tron_explorer_has_no_english_left(tronscan, english_words, lang):
    """The Tron explorer's home, a transaction and an address, in each language."""
    s = requests.Session()
    home = _choose(s, tronscan.url, lang, "/")
    soup = BeautifulSoup(home, "html.parser")
    tx = soup.select_one('a[href^="/transaction/"]')["href"]
    address = soup.select_one('a[href^="/address/"]')["href"]
    pages = {"home": home}
    pages["transaction"] = s.get(f"{tronscan.url}{tx}", timeout=10).text
    pages["address"] = s.get(f"{tronscan.url}{address}", timeout=10).text
    for name, html in pages.items():
        page = BeautifulSoup(html, "html.parser")
        assert page.html["lang"] == lang, name
        assert page.html["dir"] == ("rtl" if lang in ("ur", "ar") else "ltr"), name
        # The contract type and the USDT token's names are data (TransferContract, Tether USD).
        left = _english_left(
            re.sub(r"Tether USD|TRC-20", " ", html), _in_language(english_words, lang)
        )
        assert not left, f"{lang} tron {name}: English left: {sorted(left)[:8]}"


def test_catalogues_compile_into_a_fresh_cache(tmp_path, monkeypatch):
    """A clean checkout needs no build step: the .mo files are compiled at first use into
    a directory named after the catalogues' digest, and read from there."""
    monkeypatch.setenv("SANDBOX_I18N_CACHE", str(tmp_path))
    i18n.catalogue_dir.cache_clear()
    try:
        compiled = i18n.catalogue_dir()
        assert compiled.parent == tmp_path and len(compiled.name) == 16
        for lang in TRANSLATED:
            assert (compiled / lang / "LC_MESSAGES" / "messages.mo").stat().st_size > 1000
        assert i18n.translator("kk").gettext("Live board") == "Тікелей табло"
        assert i18n.translator("de_DE").gettext("Live board") == "Live board"
    finally:
        i18n.catalogue_dir.cache_clear()


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["ru", "ar"])
def test_issuer_portal_has_no_english_left(tronscan, english_words, tmp_path, lang):
    """The USDT issuer's login, request log and freeze form (the portal the exchanges'
    shares), in a left-to-right and a right-to-left language."""
    from sandbox.issuer import create_app as issuer_app

    conn = sqlite3.connect(f"file:{tronscan.world}?mode=ro", uri=True)
    try:
        login, password, agency = conn.execute(
            "SELECT login, password, agency FROM requesters ORDER BY id LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    issuer = Served(issuer_app(tronscan.world, tmp_path / "issuer"))
    try:
        s = requests.Session()
        pages = {"login": _choose(s, issuer.url, lang, "/le/login")}
        r = s.post(
            f"{issuer.url}/le/login",
            data={"login": login, "password": password, "csrf": le_csrf(pages["login"])},
            timeout=10,
        )
        assert r.status_code == 200 and "/le/logout" in r.text
        pages["log"] = r.text
        pages["form"] = s.get(f"{issuer.url}/le/request", timeout=10).text
    finally:
        issuer.close()
        issuer.app.extensions["issuer_portal"].close()
    for name, html in pages.items():
        page = BeautifulSoup(html, "html.parser")
        assert page.html["lang"] == lang, name
        assert page.html["dir"] == ("rtl" if lang == "ar" else "ltr"), name
        data_free = html.replace(agency, " ").replace(escape(agency), " ")
        left = _english_left(re.sub(r"Tether|USD₮", " ", data_free), english_words)
        assert not left, f"{lang} issuer {name}: English left: {sorted(left)[:8]}"


# The law-enforcement portals' messages built in Python (policy.py, access.py).


def test_form_errors_are_english_text_outside_a_request():
    """The policy's errors are Messages: plain English where no page shows them (the JSON
    API, the stored answer letter, a log), with what a page needs to translate them."""
    import json

    from sandbox.exchanges.policy import clean_request
    from sandbox.i18n import Message

    _, errors = clean_request({"legal_basis": "subpoena", "subject": "T" + "x" * 33})
    by_field = {e["field"]: e["message"] for e in errors}
    assert by_field["case_number"] == "Case number is required."
    assert by_field["document_reference"].startswith(
        "Document reference is required for a subpoena"
    )
    assert all(isinstance(m, Message) for m in by_field.values())
    assert str(by_field["subject"]).startswith("Subject 'Txxx")
    assert extract().get(by_field["subject"].msgid) is not None  # and it is in the catalogues
    assert json.loads(json.dumps(errors))[0] == {
        "field": "agency",
        "message": "Agency is required.",
    }


@pytest.mark.parametrize("lang", ["ru", "ar"])
def test_exchange_portal_refusals_in_the_page_language(sites, lang):
    """A form sent without the portal's token (400) and a request sent logged out (403):
    the error page says why in the page's language, not in English."""
    t = i18n.translator(lang)
    officer = requests.Session()
    _choose(officer, sites.exchange.url, lang, "/le/login")
    checks = (
        ("/le/login", 400, "Bad request",
         "The form expired or did not come from this portal: reload it and try again."),
        ("/le/request", 403, "Forbidden", "Log in to the law-enforcement portal first."),
    )  # fmt: skip
    for path, status, title, english in checks:
        r = officer.post(f"{sites.exchange.url}{path}", data={"login": "x"}, timeout=10)
        assert r.status_code == status, path
        page = BeautifulSoup(r.text, "html.parser")
        assert page.html["lang"] == lang
        text = page.select_one(".page-head").get_text(" ", strip=True)
        assert t.gettext(english) != english and t.gettext(english) in text, path
        assert t.gettext(title) in text and english not in text and title not in text, path


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["ru", "ar"])
def test_issuer_form_errors_in_the_page_language(tronscan, tmp_path, lang):
    """The issuer's request form sent incomplete comes back (400) with each field's error in
    the page's language (no English, no lang="en" island), the bad address left to right."""
    from sandbox.issuer import create_app as issuer_app

    conn = sqlite3.connect(f"file:{tronscan.world}?mode=ro", uri=True)
    try:
        login, password = conn.execute(
            "SELECT login, password FROM requesters ORDER BY id LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    issuer = Served(issuer_app(tronscan.world, tmp_path / "issuer"))
    try:
        s = requests.Session()
        page = _choose(s, issuer.url, lang, "/le/login")
        s.post(
            f"{issuer.url}/le/login",
            data={"login": login, "password": password, "csrf": le_csrf(page)},
            timeout=10,
        )
        form = s.get(f"{issuer.url}/le/request", timeout=10).text
        r = s.post(
            f"{issuer.url}/le/request",
            data={"csrf": le_csrf(form), "legal_basis": "subpoena", "subject": "Tnot-an-address",
                  "requested": "reissue", "case_number": ""},
            timeout=10,
        )  # fmt: skip
    finally:
        issuer.close()
        issuer.app.extensions["issuer_portal"].close()
    assert r.status_code == 400
    t = i18n.translator(lang)
    box = BeautifulSoup(r.text, "html.parser").select_one(".error[role=alert]")
    assert box is not None and not box.select('[lang="en"]')
    shown = box.get_text(" ", strip=True)
    expected = (
        t.gettext("%(field)s is required.") % {"field": t.gettext("Case number")},
        t.gettext("A reissue needs the law-enforcement wallet the USDT is reissued to."),
        t.gettext("Document reference is required for a %(basis)s (the number of the order, "
                  "subpoena or request).") % {"basis": t.gettext("Subpoena").lower()},
    )  # fmt: skip
    for message in expected:
        assert message in shown, message
    assert "is required" not in shown and "is not a Tron address" not in shown
    # The address the officer typed sits in its own left-to-right island.
    assert "'Tnot-an-address'" in [b.get_text() for b in box.find_all("bdi", dir="ltr")]
