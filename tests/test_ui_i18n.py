"""`investigate ui` in en, ru, kk, ur, ar, fr and es: complete catalogues, no English left,
right to left with the data kept left to right, the language rules, and Chromium screenshots.

The workspace is served for real (waitress on 127.0.0.1) over a case made here: captures of
pages with addresses in them, extracted. Its pages are read with `requests`, the language
picked with the page's own switcher link; the money page is driven in headless Chromium
over the served tiny world (tests/screenshots/ui-i18n-money-*.png).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

import pytest
import requests
from babel.dates import format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from bs4 import BeautifulSoup

from investigator_tools.case import Case
from investigator_tools.cli import cli
from investigator_tools.extract import extract
from investigator_tools.ui import Settings, UiServer, i18n
from investigator_tools.ui.app import COOKIE
from investigator_tools.ui.catalogues import TEMPLATE, load
from investigator_tools.ui.catalogues import extract as extract_messages
from tests.test_ui import world  # noqa: F401  (the served tiny world and its case: a fixture)

TRANSLATED = ("ru", "kk", "ur", "ar", "fr", "es")
PLURALS = {"ru": 3, "kk": 2, "ur": 2, "ar": 6, "fr": 3, "es": 3}
RTL = ("ur", "ar")
FONTS = {"ur": "NotoNastaliqUrdu-Regular.ttf", "ar": "NotoNaskhArabic-Regular.ttf"}
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdfr]")
TAG = re.compile(r"<[^>]+>")
ADDRESSES = ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")
PAGES = [
    "",
    "collect/",
    "evidence/artefacts",
    "evidence/captures",
    "evidence/captures/1",
    "evidence/custody",
    "evidence/correlations",
    "money/",
    "act/requests",
    "act/sweep",
    "report/",
]


def _ids(catalog) -> set:
    return {m.id for m in catalog if m.id}


# -- the catalogues ------------------------------------------------------------------------


def test_every_message_is_in_every_catalogue_translated():
    """Every message of the templates, the Python code and the scripts is translated in each
    language: none missing, empty or fuzzy, every plural form filled, placeholders kept."""
    extracted = _ids(extract_messages())
    assert len(extracted) > 200
    with TEMPLATE.open("rb") as f:
        assert _ids(read_po(f)) == extracted, (
            "ui.pot is stale: python -m investigator_tools.ui.catalogues"
        )
    # The scripts' own table is read from the same scripts: all of it is in the catalogues.
    scripts = set(i18n.js_messages())
    assert len(scripts) > 60 and scripts <= extracted
    assert any(isinstance(m, tuple) for m in scripts)
    for lang in TRANSLATED:
        catalog = load(lang)
        assert catalog.num_plurals == PLURALS[lang], lang
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


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_scripts_table_has_every_message_and_plural_category(lang):
    """The table a page gives its scripts: each script message translated, and a plural as
    a form for each of the locale's CLDR categories (what Intl.PluralRules answers)."""
    from babel import Locale

    table = i18n.js_table(lang)
    assert table["lang"] == lang
    t = i18n.translator(lang)
    categories = set(Locale.parse(lang).plural_form.tags) | {"other"}
    for message in i18n.js_messages():
        if isinstance(message, tuple):
            forms = table["messages"][message[0]]
            assert set(forms) == categories, (lang, message)
            assert set(forms.values()) <= set(
                t.ngettext(message[0], message[1], n) for n in range(0, 1001)
            ) | {t.ngettext(message[0], message[1], 1_000_000)}
        else:
            assert table["messages"][message] == t.gettext(message)
    if lang == "ru":  # 1 связь, 2 связи, 5 связей: three forms for three categories
        assert table["messages"]["%(num)s link"] == {
            "one": "%(num)s связь",
            "few": "%(num)s связи",
            "many": "%(num)s связей",
            "other": "%(num)s связей",
        }
    symbols = Locale.parse(lang).number_symbols["latn"]
    assert (table["decimal"], table["group"]) == (symbols["decimal"], symbols["group"])


def test_no_script_writes_english_of_its_own():
    """Every text a script shows goes through `_` or `ngettext`: no literal English is
    written into the page, a toast or a status line."""
    literal = re.compile(
        r"""(textContent\s*=|toast\(|status\(|\.append\(|fact\(facts,)\s*"[^"]*[A-Za-z]{2}"""
    )
    found = []
    for script in sorted((i18n.STATIC).glob("*.js")):
        for number, line in enumerate(script.read_text().splitlines(), 1):
            if literal.search(line):
                found.append(f"{script.name}:{number}: {line.strip()}")
    assert not found, "\n".join(found)
    # It can fail: the same pattern finds the English the scripts wrote before.
    assert literal.search('window.ui.toast("Note saved in the case");')


@pytest.mark.parametrize("lang", RTL)
def test_bundled_font_covers_every_letter_of_its_catalogue(lang):
    """The workspace's own Nastaliq / Naskh font has a glyph for every Arabic-script letter
    its catalogue writes; the OFL text ships with it."""
    from fontTools.ttLib import TTFont

    fonts = i18n.STATIC / "fonts"
    assert "SIL OPEN FONT LICENSE" in (fonts / "OFL.txt").read_text()
    cmap = TTFont(fonts / FONTS[lang]).getBestCmap()
    letters = {c for c in _sample(lang) if "ARABIC" in unicodedata.name(c, "")}
    assert len(letters) > 25
    assert not sorted(c for c in letters if ord(c) not in cmap)


def _sample(lang: str) -> str:
    """Every character the catalogue of lang writes."""
    return "".join(
        "".join(m.string) if isinstance(m.id, tuple) else m.string for m in load(lang) if m.id
    )


def test_catalogues_compile_into_a_fresh_cache(tmp_path, monkeypatch):
    """No build step: the .mo files are compiled at first use into a directory named after
    the catalogues' digest, and read from there."""
    monkeypatch.setenv("INVESTIGATE_I18N_CACHE", str(tmp_path))
    i18n.catalogue_dir.cache_clear()
    i18n.translator.cache_clear()
    try:
        compiled = i18n.catalogue_dir()
        assert compiled.parent == tmp_path and len(compiled.name) == 16
        for lang in TRANSLATED:
            assert (compiled / lang / "LC_MESSAGES" / "ui.mo").stat().st_size > 5000
        assert i18n.translator("kk").gettext("Follow the money") == "Ақша қозғалысы"
        assert i18n.translator("de_DE").gettext("Follow the money") == "Follow the money"
    finally:
        i18n.catalogue_dir.cache_clear()
        i18n.translator.cache_clear()


def test_language_tags_and_the_terminal_locale():
    assert i18n.language_of("ru_RU.UTF-8") == "ru"
    assert i18n.language_of("ar-EG") == "ar"
    assert i18n.language_of("ur_PK@latin") == "ur"
    assert i18n.language_of("de_DE") is None and i18n.language_of("C.UTF-8") is None
    assert i18n.system_language({"LANG": "kk_KZ.UTF-8"}) == "kk"
    assert i18n.system_language({"LC_ALL": "fr_FR.UTF-8", "LANG": "kk_KZ.UTF-8"}) == "fr"
    # The first variable set decides, as in C: LC_ALL=C means no language of ours.
    assert i18n.system_language({"LC_ALL": "C", "LANG": "ru_RU.UTF-8"}) is None
    assert [i18n.text_direction(code) for code in i18n.LOCALES] == [
        "ltr", "ltr", "ltr", "rtl", "rtl", "ltr", "ltr"
    ]  # fmt: skip


def test_a_bad_lang_is_one_clear_error(runner, tmp_path):
    result = runner.invoke(
        cli, ["--case", str(tmp_path / "c.db"), "ui", "--lang", "xx", "--no-browser"]
    )
    assert result.exit_code != 0
    assert "--lang xx: expected one of en, ru, kk, ur, ar, fr, es" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "c.db").exists()  # refused before anything was opened


# -- the served pages ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def case_path(tmp_path_factory):
    """A case with three captures (two pages naming addresses, one long), extracted."""
    path = tmp_path_factory.mktemp("ui-i18n") / "op-kestrel.db"
    with Case(path, operator="trainee7@classroom") as case:
        case.begin("investigate crawl http://kestrelmarket.onion/")
        for number, address in enumerate(ADDRESSES):
            body = (
                f"<html><body><p>Pay vendor kestrel at {address}</p>"
                f"<p>{'lorem ipsum ' * 150}</p></body></html>"
            ).encode()
            case.capture(
                f"http://kestrelmarket.onion/vendor/{number}",
                "kestrelmarket.onion",
                200,
                "text/html",
                body,
                via="socks5h://127.0.0.1:9050",
            )
        case.begin("investigate extract")
        extract(case)
    return path


@pytest.fixture(scope="module")
def served(case_path):
    """Workspaces over the case: no --lang, --lang kk with a Urdu terminal, a Urdu
    terminal alone."""
    servers = {
        "plain": UiServer(Settings(case_path), 0).start(),
        "kk": UiServer(Settings(case_path, language="kk", system_language="ur"), 0).start(),
        "terminal": UiServer(Settings(case_path, system_language="ur"), 0).start(),
    }
    yield servers
    for server in servers.values():
        server.stop()


def _session(server: UiServer) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    assert s.get(server.url, allow_redirects=False).status_code == 303
    assert s.cookies.get(COOKIE) == server.settings.token
    return s


def _lang_of(session: requests.Session, server: UiServer, **kw) -> str:
    html = session.get(server.base, **kw).text
    return BeautifulSoup(html, "html.parser").html["lang"]


def test_language_is_switcher_then_flag_then_browser_then_terminal(served):
    plain, kk, terminal = served["plain"], served["kk"], served["terminal"]
    s = _session(kk)
    assert _lang_of(s, kk, headers={"Accept-Language": "ar"}) == "kk"  # --lang beats the browser
    assert _lang_of(s, kk, cookies={i18n.COOKIE: "ur"}, headers={"Accept-Language": "ar"}) == "ur"
    s = _session(terminal)
    assert _lang_of(s, terminal, headers={"Accept-Language": "de, ru;q=0.5"}) == "ru"
    # By the primary tag, best first: a regional tag ahead of an exact `en` still wins.
    assert _lang_of(s, terminal, headers={"Accept-Language": "kk-KZ,en;q=0.8"}) == "kk"
    assert _lang_of(s, terminal, headers={"Accept-Language": "en-US,ru;q=0.9"}) == "en"
    assert _lang_of(s, terminal, headers={"Accept-Language": "de"}) == "ur"  # the terminal's
    assert _lang_of(s, terminal) == "ur"
    s = _session(plain)
    assert _lang_of(s, plain, headers={"Accept-Language": "es-MX,es;q=0.9"}) == "es"
    assert _lang_of(s, plain, headers={"Accept-Language": "de"}) == "en"
    assert _lang_of(s, plain) == "en"


def test_switcher_remembers_the_choice_and_never_leaves_the_workspace(served):
    plain = served["plain"]
    s = _session(plain)
    r = s.get(plain.base + "lang/ar", params={"next": "/money/?x=1"}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/money/?x=1"
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(f"{i18n.COOKIE}=ar;") and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie and "Max-Age=" in cookie
    assert _lang_of(s, plain, headers={"Accept-Language": "ru"}) == "ar"  # remembered
    for target in ("//evil.test/", "http://evil.test/", "money"):
        r = s.get(plain.base + "lang/ru", params={"next": target}, allow_redirects=False)
        assert r.headers["Location"] == "/", target
    r = s.get(plain.base + "lang/xx", allow_redirects=False)
    assert r.status_code == 303 and "Set-Cookie" not in r.headers
    # Behind the token like every page.
    stranger = requests.Session()
    stranger.trust_env = False
    assert stranger.get(plain.base + "lang/ru", allow_redirects=False).status_code == 403


def _choose(session: requests.Session, server: UiServer, lang: str, path: str) -> str:
    """Pick lang with the page's own switcher link and follow it back to path."""
    page = session.get(server.base + path).text
    link = BeautifulSoup(page, "html.parser").select_one(f'nav.lang-switch a[lang="{lang}"]')
    assert link is not None, f"{path}: no switcher link for {lang}"
    r = session.get(server.base + link["href"].lstrip("/"))
    assert r.status_code == 200 and r.url == server.base + path, r.url
    return r.text


def _visible_text(html: str) -> list[str]:
    """What a reader sees, without what is never translated: data kept left to right
    (<bdi>, .mono, code), the switcher's language names, the product's name."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.select("script, style, title, bdi, code, .mono, nav.lang-switch, .brand"):
        tag.decompose()
    texts = [t.strip() for t in soup.find_all(string=True) if t.strip()]
    for tag in soup.find_all(True):
        for attribute in ("placeholder", "title", "aria-label", "alt"):
            if tag.get(attribute):
                texts.append(tag[attribute])
    return texts


def _english_patterns(lang: str) -> list[re.Pattern]:
    """A pattern per piece of English a catalogue translates, but those the language
    writes the same way (fr "Options", "Transactions"; "URL" everywhere)."""
    catalog = load(lang)
    pieces = set()
    for message in extract_messages():
        if not message.id:
            continue
        translated = catalog[message.id].string
        translated = " ".join(translated) if isinstance(translated, tuple) else translated
        for text in message.id if isinstance(message.id, tuple) else (message.id,):
            for piece in re.split(f"{PLACEHOLDER.pattern}|{TAG.pattern}", text):
                piece = piece.strip(" .,:;()·/-–—→←…")
                if re.search(r"[A-Za-z]{2}", piece) and piece not in translated:
                    pieces.add(piece)
    return [re.compile(rf"(?<![\w-]){re.escape(p)}(?![\w-])") for p in sorted(pieces)]


def _english_left(html: str, patterns) -> set[str]:
    return {p.pattern for text in _visible_text(html) for p in patterns if p.search(text)}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_pages_have_no_english_left_and_rtl_keeps_data_left_to_right(served, case_path, lang):
    server = served["plain"]
    s = _session(server)
    pages = {"": _choose(s, server, lang, "")}
    for path in PAGES[1:]:
        r = s.get(server.base + path)
        assert r.status_code == 200, path
        pages[path] = r.text
    patterns = _english_patterns(lang)
    direction = "rtl" if lang in RTL else "ltr"
    for path, html in pages.items():
        soup = BeautifulSoup(html, "html.parser")
        assert soup.html["lang"] == lang and soup.html["dir"] == direction, path
        assert soup.select_one('link[href="/static/i18n.css"]'), path
        left = _english_left(html, patterns)
        assert not left, f"{lang} /{path}: English left: {sorted(left)[:8]}"
        # Hashes, addresses and URLs sit in <bdi dir="ltr"> (or a left-to-right .mono).
        stray = [
            t
            for t in _visible_text(html)
            if re.search(r"\b[0-9a-f]{64}\b|\b(?:1|bc1)[a-zA-Z0-9]{25,}\b|https?://", t)
        ]
        assert not stray, f"{lang} /{path}: data outside <bdi>: {stray[:2]}"
    captures = BeautifulSoup(pages["evidence/captures"], "html.parser")
    isolated = [b.get_text() for b in captures.find_all("bdi", dir="ltr")]
    with Case(case_path) as case:
        stored = case.captures()
        custody = case.custody()
    for capture in stored:
        assert capture.sha256 in isolated and capture.url in isolated
    # Numbers and times as Babel writes them for the locale.
    assert format_decimal(stored[0].size, locale=lang) in pages["evidence/captures"]
    when = datetime.fromtimestamp(custody[0]["time"], UTC)
    assert format_datetime(when, "medium", tzinfo=UTC, locale=lang) in pages["evidence/custody"]


def test_the_english_pages_are_caught_by_the_same_check(served):
    """The no-English check can fail: on the English pages it finds the interface's words."""
    server = served["plain"]
    s = _session(server)
    patterns = _english_patterns("ru")
    for path in ("", "money/", "act/requests"):
        html = s.get(server.base + path, cookies={i18n.COOKIE: "en"}).text
        assert 'lang="en" dir="ltr"' in html
        assert len(_english_left(html, patterns)) >= 5, path


def test_fonts_and_stylesheet_are_served_by_the_workspace(served):
    server = served["plain"]
    s = _session(server)
    css = s.get(server.base + "static/i18n.css")
    assert css.status_code == 200 and "http" not in css.text
    for font in FONTS.values():
        r = s.get(server.base + f"static/fonts/{font}")
        assert r.status_code == 200 and r.content[:4] == b"\x00\x01\x00\x00", font


def test_the_scripts_table_is_data_under_the_strict_policy(served):
    """The table rides in <body data-i18n>: JSON in an attribute, no inline script, the
    page's CSP unchanged; a message with a quote or an angle bracket stays escaped."""
    import json

    server = served["plain"]
    s = _session(server)
    r = s.get(server.base + "money/", cookies={i18n.COOKIE: "fr"})
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"]
    soup = BeautifulSoup(r.text, "html.parser")
    assert not [t for t in soup.find_all("script") if not t.get("src")]
    table = json.loads(soup.body["data-i18n"])
    assert table["lang"] == "fr" and table["group"] == "\u202f" and table["decimal"] == ","
    assert table["messages"]["Copy"] == "Copier"
    assert table["messages"]["Layout not saved: %(error)s"].startswith("Disposition")
    assert (
        "’" in table["messages"]["(the coins changed since the check: this is a new transaction)"]
    )
    raw = r.text.split("data-i18n='", 1)[1].split("'>", 1)[0]
    assert "<" not in raw and "'" not in raw


# -- in the browser ------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("lang", ["ru", "ar"])
def test_money_page_in_chromium(world, lang):  # noqa: F811
    """The money graph in Chromium, the language picked with the switcher: an address added
    and expanded; the panel, the toast and the graph's captions in the language, nothing in
    English but data; in Arabic right to left, the address left to right, drawn in the
    bundled Naskh font. Screenshots: tests/screenshots/ui-i18n-money-<lang>.png."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.chromium import CHROMEDRIVER, CHROMIUM, SHOTS, page_problems, start_chromium

    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    settings = Settings(world["case"], explorer=world["explorer"], proxy=world["proxy"])
    address = world["address"]
    with UiServer(settings, 0) as server:
        driver = start_chromium(height=800, logs=True)
        try:
            driver.set_script_timeout(30)
            wait = WebDriverWait(driver, 60)
            driver.get(server.url)
            driver.get(server.base + "money/")
            driver.find_element(By.CSS_SELECTOR, f'nav.lang-switch a[lang="{lang}"]').click()
            wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang)
            root = driver.find_element(By.ID, "money")
            wait.until(lambda d: root.get_attribute("data-ready") == "1")
            field = driver.find_element(By.ID, "add-target")
            field.clear()
            field.send_keys(address)
            driver.find_element(By.ID, "add-button").click()
            wait.until(lambda d: d.find_element(By.ID, "sel-id").text == address)
            driver.find_element(By.ID, "expand").click()
            toast = driver.find_element(By.ID, "toast")
            t = i18n.translator(lang)
            expanded = t.ngettext("Expanded: %(num)s counterparty", "", 5).split("%")[0]
            wait.until(lambda d: toast.text.startswith(expanded))
            wait.until(lambda d: root.get_attribute("data-busy") == "0")
            title = driver.find_element(By.ID, "sel-title").text
            assert title == t.gettext("Address")
            facts = driver.find_element(By.ID, "sel-facts").text
            assert t.gettext("Balance") in facts and "BTC" in facts
            html = driver.find_element(By.TAG_NAME, "html")
            assert html.get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
            # What the scripts wrote, and the graph's own captions, are in the language.
            shown = driver.execute_script("return document.body.innerText")
            patterns = _english_patterns(lang)
            captions = driver.execute_script(
                "return Array.from(document.querySelectorAll('#sel-facts dt, #sel-title,"
                " #toast')).map(e => e.textContent)"
            )
            left = {p.pattern for text in captions for p in patterns if p.search(text)}
            assert not left, f"{lang}: English left in the panel: {sorted(left)}"
            assert not _english_left(driver.page_source, patterns)
            assert address in shown
            # Amounts are isolated left to right, so "0.5 BTC" never reads "BTC 0.5".
            amount = driver.execute_script(
                "return document.querySelector('#sel-facts dd').textContent"
            )
            assert re.fullmatch(r"\u2066[0-9.,\u00a0]+ BTC\u2069", amount), repr(amount)
            if lang == "ar":
                sel = driver.find_element(By.ID, "sel-id")
                assert sel.value_of_css_property("direction") == "ltr"
                panel = driver.find_element(By.ID, "panel").rect
                graph = driver.find_element(By.ID, "cy").rect
                assert panel["x"] < graph["x"]  # the panel sits at the start: on the left
                _check_glyphs(driver, "Noto Naskh Arabic", lang)
            SHOTS.mkdir(exist_ok=True)
            shot = SHOTS / f"ui-i18n-money-{lang}.png"
            driver.save_screenshot(str(shot))
            assert shot.stat().st_size > 10_000
            problems = page_problems(driver)
            assert not problems, "\n".join(problems)
        finally:
            driver.quit()


def _check_glyphs(driver, family: str, lang: str) -> None:
    """Each Arabic letter the catalogue writes is drawn by the bundled font: a real glyph
    (not the missing-glyph box) and not what the system's fallback font draws."""
    from tests.test_i18n_browser import GLYPHS

    letters = "".join(
        sorted({c for c in _sample(lang) if "ARABIC LETTER" in unicodedata.name(c, "")})
    )
    result = driver.execute_async_script(GLYPHS, family, letters)
    assert "error" not in result, result
    assert family in result["body"]
    glyphs = result["glyphs"]
    assert len(glyphs) > 25
    assert not [c for c, image, _ in glyphs if image == result["tofu"]]
    assert len({image for _, image, _ in glyphs}) > 0.8 * len(glyphs)
    assert sum(image != system for _, image, system in glyphs) > 0.8 * len(glyphs)
