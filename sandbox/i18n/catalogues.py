"""Extract the messages to translate and bring the catalogues up to date.

    python -m sandbox.i18n.catalogues          # rewrite messages.pot, merge it into each .po

The same as `pybabel extract -F sandbox/i18n/babel.cfg -k _l -k Message . -o ...` followed by
`pybabel update`, kept here so the test that checks every catalogue extracts exactly what
a maintainer does. New messages arrive in each .po untranslated, for a translator to fill.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from . import LOCALES, PACKAGE, TRANSLATIONS

ROOT = PACKAGE.parent.parent
CONFIG = PACKAGE / "babel.cfg"
TEMPLATE = TRANSLATIONS / "messages.pot"


def _catalog(locale: str | None = None) -> Catalog:
    """An empty catalogue with the project's header."""
    return Catalog(
        locale=locale,
        project="darkweb-sandbox",
        version="0.1.0",
        copyright_holder="the darkweb-sandbox contributors",
        msgid_bugs_address="",
        charset="utf-8",
    )


KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "Message": None,  # sandbox.i18n.Message: translated where it is shown
}


def extract(root: Path = ROOT) -> Catalog:
    """Every message of the code and templates babel.cfg names, with where it is used."""
    with CONFIG.open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    catalog = _catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def load(language: str) -> Catalog:
    """The catalogue of one language as it is in the repository."""
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=language)


def update() -> None:
    """Write messages.pot and merge it into every language's .po (new ones untranslated)."""
    template = extract()
    with TEMPLATE.open("wb") as f:
        write_po(f, template, width=100, omit_header=False, sort_output=True)
    for language in LOCALES[1:]:
        path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
        catalog = load(language) if path.exists() else _catalog(language)
        catalog.update(template, no_fuzzy_matching=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, catalog, width=100, sort_output=True, ignore_obsolete=True)


if __name__ == "__main__":
    update()
    sys.exit(0)
