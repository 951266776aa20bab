"""The sandbox's own pages in the class's language: en, ru, kk, ur, ar, fr and es (Flask-Babel).

    i18n.init_app(app, scenario_locale="en_GB")                  # a service's app
    i18n.init_app(app, scenario_locale=..., cookie=side_cookie)  # one choice per side

The locale of a request is, in this order: the trainee's chosen language (`flask.g.language`,
set by the classroom for a seat that picked one), the language cookie the switcher sets
(`lang`, or what `cookie(path)` names, so the instructor's side has its own), the scenario's
`meta.locale`, the browser's Accept-Language, English. Urdu and Arabic pages are right to
left (`text_direction`); the fonts that render them are served from this package under
`/_i18n/static/fonts/`, never from elsewhere.

The catalogues are `.po` files in `translations/`; they are compiled to `.mo` at first use
into a cache directory named after their digest (`catalogue_dir`), so a clean checkout
needs no build step and an edited `.po` is never served stale. Hidden services
(marketplaces/) do not use this: they keep the language their scenario gives them.
"""

from __future__ import annotations

import functools
import gettext
import hashlib
import os
import tempfile
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from flask import Blueprint, Flask, g, redirect, request
from flask_babel import Babel, get_locale
from markupsafe import Markup

from .message import Message, translate

__all__ = [
    "COOKIE",
    "LOCALES",
    "browser_language",
    "Message",
    "catalogue_dir",
    "init_app",
    "language_of",
    "ltr",
    "text_direction",
    "translator",
]

LOCALES = ("en", "ru", "kk", "ur", "ar", "fr", "es")
DEFAULT = "en"
COOKIE = "lang"
PACKAGE = Path(__file__).resolve().parent
TRANSLATIONS = PACKAGE / "translations"
STATIC = PACKAGE / "static"
COOKIE_SECONDS = 365 * 24 * 3600


def language_of(tag: str | None) -> str | None:
    """The supported language of a locale or language tag (`ru_RU`, `ar-EG`), else None."""
    if not tag:
        return None
    try:
        language = Locale.parse(tag.strip().replace("-", "_")).language
    except (ValueError, UnknownLocaleError):
        return None
    return language if language in LOCALES else None


def text_direction(language: str) -> str:
    """`rtl` or `ltr`, from Babel's locale data (ur and ar are right to left)."""
    return "rtl" if Locale.parse(language).text_direction == "rtl" else "ltr"


def _digest() -> str:
    """A digest of every catalogue, so a changed .po gets a fresh compiled copy."""
    h = hashlib.sha256()
    for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        h.update(po.relative_to(TRANSLATIONS).as_posix().encode() + b"\0")
        h.update(po.read_bytes())
    return h.hexdigest()[:16]


def _cache_root() -> Path:
    """Where compiled catalogues go: SANDBOX_I18N_CACHE, else the user's cache directory."""
    explicit = os.environ.get("SANDBOX_I18N_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "darkweb-sandbox" / "i18n"


@functools.cache
def catalogue_dir() -> Path:
    """A directory of compiled catalogues (`<lang>/LC_MESSAGES/messages.mo`), made once.

    Compiled here rather than at install time: an editable install and a plain checkout
    have no build step, and the digest in the name keeps a stale .mo from ever being read.
    """
    digest = _digest()
    # Jinja marks translated text safe HTML: only a directory of our own may hold it, so the
    # fallback in the shared temporary directory is private to this user.
    private = Path(tempfile.gettempdir()) / f"darkweb-sandbox-i18n-{os.getuid()}"
    for root in (_cache_root(), private):
        target = root / digest
        try:
            if root == private:
                root.mkdir(mode=0o700, exist_ok=True)
                info = root.stat()
                if info.st_uid != os.getuid() or info.st_mode & 0o077:
                    continue
            if all(
                (target / lang / "LC_MESSAGES" / "messages.mo").is_file() for lang in LOCALES[1:]
            ):
                return target
            _compile_into(target)
        except OSError:  # a read-only home: the private temporary directory will do
            continue
        return target
    raise OSError("no writable directory for the compiled message catalogues")


def _compile_into(target: Path) -> None:
    """Compile every .po to its .mo under target, each written whole then renamed."""
    for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        lang = po.parent.parent.name
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        out = target / lang / "LC_MESSAGES" / "messages.mo"
        out.parent.mkdir(parents=True, exist_ok=True)
        # A file of its own per writer: two processes (or threads) may compile at once.
        fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalog)
        os.replace(tmp, out)


def translator(language: str | None) -> gettext.NullTranslations:
    """A gettext translator outside a request (the command line's banner)."""
    lang = language_of(language) or DEFAULT
    if lang == DEFAULT:
        return gettext.NullTranslations()
    return gettext.translation("messages", str(catalogue_dir()), [lang], fallback=True)


def ltr(value: object) -> Markup:
    """A value that must never reorder (address, txid, hash, amount, code) as `<bdi dir=ltr>`."""
    return Markup('<bdi dir="ltr">{}</bdi>').format(value)


def browser_language(among: Collection[str] = LOCALES) -> str | None:
    """The browser's most wanted language of ``among``, by its primary tag: `fr-SN,
    en;q=0.5` is French (werkzeug's best_match would take the exact `en` over `fr-SN`)."""
    for tag, _quality in request.accept_languages:  # best first
        try:
            language = Locale.parse(tag.strip().replace("-", "_")).language
        except (ValueError, UnknownLocaleError):  # `*`, or a tag Babel does not know
            continue
        if language in among:
            return language
    return None


def _number(value: float | Decimal | str | None, digits: int | None = None) -> str:
    """A number in the page's locale (grouping and decimal signs, Latin digits)."""
    if value is None or value == "":
        return ""
    if digits is not None:
        return format_decimal(value, format="#,##0." + "0" * digits, locale=get_locale())
    return format_decimal(value, locale=get_locale())


def _when(value: datetime | float | None, form: str = "medium") -> str:
    """A date and time (datetime or Unix seconds) in the page's locale, in UTC."""
    if value is None or value == "":
        return ""
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value, UTC)
    return format_datetime(value, form, tzinfo=UTC, locale=get_locale())


def init_app(
    app: Flask,
    *,
    scenario_locale: str | None = None,
    cookie: str | Callable[[str], str] = COOKIE,
) -> None:
    """Give an app Flask-Babel, the locale rules, the switcher, the fonts and the filters.

    cookie: the language cookie's name, or a function of the request path giving it (the
    classroom's instructor side keeps a choice of its own).
    """
    cookie_for = cookie if callable(cookie) else (lambda _path, name=cookie: name)
    scenario_language = language_of(scenario_locale)

    def select() -> str:
        """The request's language: chosen, cookie, scenario, browser, English."""
        chosen = language_of(g.get("language"))
        if chosen:
            return chosen
        stored = language_of(request.cookies.get(cookie_for(request.path)))
        if stored:
            return stored
        if scenario_language:
            return scenario_language
        return browser_language() or DEFAULT

    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(catalogue_dir())
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    Babel(app, locale_selector=select)
    app.add_template_filter(ltr, "ltr")
    app.add_template_filter(_number, "num")
    app.add_template_filter(_when, "when")
    app.add_template_filter(translate, "translate")

    bp = Blueprint(
        "i18n",
        __name__,
        static_folder=str(STATIC),
        static_url_path="/_i18n/static",
        template_folder="templates",
    )

    @bp.get("/_i18n/lang/<lang>")
    def switch(lang: str):
        """Remember a language for this side of the site and go back where the link was."""
        target = request.args.get("next", "/")
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
            target = "/"  # only a path on this site: never an open redirect
        response = redirect(target, code=303)
        chosen = language_of(lang)
        if chosen is not None:
            response.set_cookie(
                cookie_for(urlsplit(target).path),
                chosen,
                max_age=COOKIE_SECONDS,
                samesite="Lax",
                httponly=True,
            )
        return response

    app.register_blueprint(bp)

    @app.context_processor
    def _language():
        """What a layout needs: `<html lang dir>` and the switcher's languages."""
        lang = str(get_locale() or DEFAULT)
        return {
            "html_lang": lang,
            "text_direction": text_direction(lang),
            "languages": [(code, Locale.parse(code).get_display_name(code)) for code in LOCALES],
        }
