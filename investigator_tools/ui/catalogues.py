"""Extract the workspace's messages and bring its catalogues up to date.

    python -m investigator_tools.ui.catalogues    # rewrite ui.pot, merge it into each ui.po

The messages of its Python code, its templates and its scripts (`babel.cfg`); new ones
arrive in each .po untranslated, for a translator to fill. The test that checks every
catalogue extracts with the same function.
"""

from __future__ import annotations

import sys

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from .i18n import DOMAIN, LOCALES, PACKAGE, TRANSLATIONS

CONFIG = PACKAGE / "babel.cfg"
TEMPLATE = TRANSLATIONS / f"{DOMAIN}.pot"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}


def _catalog(locale: str | None = None) -> Catalog:
    """An empty catalogue with the project's header."""
    return Catalog(
        locale=locale,
        domain=DOMAIN,
        project="darkweb-sandbox investigate ui",
        version="0.1.0",
        copyright_holder="the darkweb-sandbox contributors",
        msgid_bugs_address="",
        charset="utf-8",
    )


def extract() -> Catalog:
    """Every message of the code, templates and scripts babel.cfg names, with where."""
    with CONFIG.open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    catalog = _catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PACKAGE), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def load(language: str) -> Catalog:
    """The catalogue of one language as it is in the repository."""
    with (TRANSLATIONS / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as f:
        return read_po(f, locale=language, domain=DOMAIN)


def update() -> None:
    """Write ui.pot and merge it into every language's ui.po (new messages untranslated)."""
    template = extract()
    TEMPLATE.parent.mkdir(parents=True, exist_ok=True)
    with TEMPLATE.open("wb") as f:
        write_po(f, template, width=100, omit_header=False, sort_output=True)
    for language in LOCALES[1:]:
        path = TRANSLATIONS / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        catalog = load(language) if path.exists() else _catalog(language)
        catalog.update(template, no_fuzzy_matching=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, catalog, width=100, sort_output=True, ignore_obsolete=True)


if __name__ == "__main__":
    update()
    sys.exit(0)
