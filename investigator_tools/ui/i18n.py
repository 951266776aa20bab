"""The workspace in the trainee's language: en, ru, kk, ur, ar, fr and es (Flask-Babel).

The toolkit's own copy of what the engine's pages do (it never imports the engine): its
catalogues (`translations/<lang>/LC_MESSAGES/ui.po`, compiled at first use into a cache
directory named after their digest), `<html lang dir>` from Babel's text direction, the
Urdu (Nastaliq) and Arabic (Naskh) fonts served from `static/fonts/`, and a switcher
(`/lang/<code>`) whose choice a cookie remembers.

A request's language is, in this order: the switcher's cookie, `investigate ui --lang`
(or INVESTIGATE_LANG), the browser's Accept-Language, the terminal's locale (LC_ALL,
LC_MESSAGES, LANG, read by the command), English.

The pages' scripts take their messages from a table in the page (`data-i18n` on <body>:
data, never run, so the strict CSP holds): every `_("...")` and `ngettext(...)` of
`static/*.js`, translated here, with the locale's plural categories and number symbols.
"""

from __future__ import annotations

import functools
import gettext
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.messages.extract import extract_javascript
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from flask import Blueprint, Flask, redirect, request
from flask_babel import Babel, get_locale
from markupsafe import Markup

__all__ = [
    "COOKIE",
    "LOCALES",
    "browser_language",
    "catalogue_dir",
    "init_app",
    "js_attribute",
    "js_messages",
    "js_table",
    "language_of",
    "system_language",
    "text_direction",
    "translator",
]

LOCALES = ("en", "ru", "kk", "ur", "ar", "fr", "es")
DEFAULT = "en"
DOMAIN = "ui"
COOKIE = "investigate_ui_lang"
COOKIE_SECONDS = 365 * 24 * 3600
PACKAGE = Path(__file__).resolve().parent
TRANSLATIONS = PACKAGE / "translations"
STATIC = PACKAGE / "static"
JS_KEYWORDS = {"_": None, "ngettext": (1, 2)}


def language_of(tag: str | None) -> str | None:
    """The supported language of a locale tag (`ru_RU.UTF-8`, `ar-EG`), else None."""
    if not tag:
        return None
    tag = tag.strip().split(".")[0].split("@")[0].replace("-", "_")
    if tag in ("C", "POSIX"):  # the terminal's "no locale" (Babel reads it as en_US_POSIX)
        return None
    try:
        language = Locale.parse(tag).language
    except (ValueError, UnknownLocaleError):
        return None
    return language if language in LOCALES else None


def system_language(environ: Mapping[str, str] = os.environ) -> str | None:
    """The terminal's language (LC_ALL, then LC_MESSAGES, then LANG), if supported."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(variable):
            return language_of(environ[variable])  # the first one set decides, as in C
    return None


def browser_language() -> str | None:
    """The request's browser's most wanted language of ours, by its primary tag: `kk-KZ,
    en;q=0.8` is Kazakh (werkzeug's best_match would take the exact `en` over `kk-KZ`)."""
    for tag, _quality in request.accept_languages:  # best first
        language = language_of(tag)
        if language:
            return language
    return None


def text_direction(language: str) -> str:
    """`rtl` or `ltr`, from Babel's locale data (ur and ar are right to left)."""
    return "rtl" if Locale.parse(language).text_direction == "rtl" else "ltr"


def _catalogues() -> list[Path]:
    return sorted(TRANSLATIONS.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def _digest() -> str:
    """A digest of every catalogue, so a changed .po gets a fresh compiled copy."""
    h = hashlib.sha256()
    for po in _catalogues():
        h.update(po.relative_to(TRANSLATIONS).as_posix().encode() + b"\0")
        h.update(po.read_bytes())
    return h.hexdigest()[:16]


def _cache_root() -> Path:
    """Where compiled catalogues go: INVESTIGATE_I18N_CACHE, else the user's cache."""
    explicit = os.environ.get("INVESTIGATE_I18N_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "investigate" / "ui-i18n"


@functools.cache
def catalogue_dir() -> Path:
    """A directory of compiled catalogues (`<lang>/LC_MESSAGES/ui.mo`), made once.

    Compiled here rather than at install time: a checkout or an editable install has no
    build step, and the digest in the name keeps a stale .mo from ever being read.
    """
    digest = _digest()
    # Jinja marks translated text safe HTML: only a directory of our own may hold it, so the
    # fallback in the shared temporary directory is private to this user.
    private = Path(tempfile.gettempdir()) / f"investigate-ui-i18n-{os.getuid()}"
    for root in (_cache_root(), private):
        target = root / digest
        try:
            if root == private:
                root.mkdir(mode=0o700, exist_ok=True)
                info = root.stat()
                if info.st_uid != os.getuid() or info.st_mode & 0o077:
                    continue
            if all(
                (target / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file() for lang in LOCALES[1:]
            ):
                return target
            _compile_into(target)
        except OSError:  # a read-only home: the private temporary directory will do
            continue
        return target
    raise OSError("no writable directory for the workspace's compiled message catalogues")


def _compile_into(target: Path) -> None:
    """Compile every .po to its .mo under target, each written whole then renamed."""
    for po in _catalogues():
        lang = po.parent.parent.name
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        out = target / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
        out.parent.mkdir(parents=True, exist_ok=True)
        # A file of its own per writer: two processes (or threads) may compile at once.
        fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalog)
        os.replace(tmp, out)


@functools.cache
def translator(language: str | None) -> gettext.NullTranslations:
    """A gettext translator for a language (English: the messages as written)."""
    lang = language_of(language) or DEFAULT
    if lang == DEFAULT:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, str(catalogue_dir()), [lang], fallback=True)


@functools.cache
def js_messages() -> tuple[str | tuple[str, str], ...]:
    """Every message the pages' scripts (`static/*.js`) look up: a text, or (singular,
    plural) for ngettext. Read from the scripts themselves, as the catalogues are."""
    found: dict = {}
    for script in sorted(STATIC.glob("*.js")):
        with script.open("rb") as f:
            for _line, func, message, _comments in extract_javascript(f, JS_KEYWORDS, [], {}):
                # A call's message comes with its other arguments (None: not strings).
                parts = message if isinstance(message, tuple | list) else (message,)
                key = tuple(parts[:2]) if func == "ngettext" else parts[0]
                if not all(isinstance(p, str) for p in (key if isinstance(key, tuple) else (key,))):
                    continue  # not a literal: nothing a catalogue can hold
                found.setdefault(key, None)
    return tuple(found)


COUNTS = (*range(0, 1000), 1_000_000, 2_000_000)  # enough to meet every plural form


def _plural_samples(language: str) -> dict[str, int]:
    """For each of the locale's CLDR plural categories (what the browser's Intl.PluralRules
    names), a count whose gettext plural form is the one that category takes."""
    # A compiled catalogue's rule (GNUTranslations.plural); English's is n != 1.
    plural = getattr(translator(language), "plural", lambda n: int(n != 1))
    rule = Locale.parse(language).plural_form
    samples: dict[str, int] = {}
    for n in COUNTS:
        samples.setdefault(rule(n), n)
    # `other` is for fractions only in some locales (ru): the last form, as gettext's is.
    last = max(plural(n) for n in COUNTS)
    samples.setdefault("other", next(n for n in COUNTS if plural(n) == last))
    return samples


@functools.cache
def js_table(language: str) -> dict:
    """The page's table for its scripts: the language, its number symbols and plural
    categories, and each script message translated (a plural as its forms by category)."""
    lang = language_of(language) or DEFAULT
    symbols = Locale.parse(lang).number_symbols.get("latn", {})
    table: dict = {
        "lang": lang,
        "decimal": symbols.get("decimal", "."),
        "group": symbols.get("group", ","),
        "messages": {},
    }
    if lang == DEFAULT:
        return table
    t = translator(lang)
    samples = _plural_samples(lang)
    for message in js_messages():
        if isinstance(message, tuple):
            singular, plural = message
            table["messages"][singular] = {
                category: t.ngettext(singular, plural, n) for category, n in samples.items()
            }
        else:
            table["messages"][message] = t.gettext(message)
    return table


@functools.cache
def js_attribute(language: str) -> Markup:
    """The scripts' table as the value of a single-quoted HTML attribute: JSON in the
    page's own script (a third of the size of ASCII escapes), with <, >, & and ' escaped as
    JSON escapes, so the attribute can neither end nor open a tag."""
    text = json.dumps(js_table(language), ensure_ascii=False, separators=(",", ":"))
    for char in "<>&'":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return Markup(text)


def ltr(value: object) -> Markup:
    """A value that must never reorder (address, txid, hash, amount, path) as <bdi dir=ltr>."""
    return Markup('<bdi dir="ltr">{}</bdi>').format(value)


def _number(value: float | int | None) -> str:
    """A number in the page's locale (its grouping sign, Latin digits)."""
    if value is None or value == "":
        return ""
    return format_decimal(value, locale=get_locale())


def _when(value: float | None) -> str:
    """Unix seconds as a date and time in the page's locale, in UTC (and saying so)."""
    if value is None or value == "":
        return ""
    moment = datetime.fromtimestamp(value, UTC)
    return format_datetime(moment, "medium", tzinfo=UTC, locale=get_locale()) + " UTC"


def init_app(app: Flask, language: str | None = None, terminal: str | None = None) -> None:
    """Give the workspace Flask-Babel, the language rules, the switcher and the filters.

    language: `--lang` (wins over the browser); terminal: the terminal's language (used
    when the browser asks for none of the workspace's languages).
    """
    chosen = language_of(language)
    fallback = language_of(terminal)

    def select() -> str:
        """The request's language: switcher's cookie, --lang, browser, terminal, English."""
        return (
            language_of(request.cookies.get(COOKIE))
            or chosen
            or browser_language()
            or fallback
            or DEFAULT
        )

    Babel(
        app,
        locale_selector=select,
        default_domain=DOMAIN,
        default_translation_directories=str(catalogue_dir()),
    )
    app.add_template_filter(ltr, "ltr")
    app.add_template_filter(_number, "num")
    app.add_template_filter(_when, "when")

    bp = Blueprint("i18n", __name__)

    @bp.get("/lang/<lang>")
    def switch(lang: str):
        """Remember a language and go back to the page the link was on."""
        target = request.args.get("next", "/")
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
            target = "/"  # only a path of the workspace: never an open redirect
        response = redirect(target, code=303)
        picked = language_of(lang)
        if picked is not None:
            response.set_cookie(
                COOKIE, picked, max_age=COOKIE_SECONDS, samesite="Strict", httponly=True, path="/"
            )
        return response

    app.register_blueprint(bp)

    @app.context_processor
    def _language() -> dict:
        """What the layout needs: `<html lang dir>`, the switcher, the scripts' table."""
        lang = str(get_locale() or DEFAULT)
        return {
            "html_lang": lang,
            "text_direction": text_direction(lang),
            "languages": [(code, Locale.parse(code).get_display_name(code)) for code in LOCALES],
            "js_i18n": js_attribute(lang),
        }
