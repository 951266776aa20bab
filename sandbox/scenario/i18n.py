"""A scenario's texts in several languages: which languages, and which text a reader gets.

A trainee-facing text of a scenario (meta title and summary, an objective's question, a
hint, an inject's text and title, an artefact's title and text) is either a string, in
the scenario's default language, or a mapping language -> text:

    question:
      en: "Which address does {subject.handle} publish?"
      ru: "Какой адрес публикует {subject.handle}?"

`meta.languages` declares the languages the scenario is written in; the default language
is `meta.locale`'s (`ru_RU` gives `ru`) when it is one of them, else the first. A reader
gets their language, else the default language, else the text's first entry
(`localized`). `language_problems` checks the maps: an undeclared language is an error, a
missing translation a warning (`sandbox validate --strict` makes it an error).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeAlias

from ..errors import Problem

__all__ = [
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "SITE_TEXTS",
    "Text",
    "default_language",
    "each_text",
    "language_problems",
    "locale_language",
    "localized",
]

# The languages a trainee can choose, in the order the join page offers them.
LANGUAGES = ("en", "ru", "kk", "ur", "ar", "fr", "es")
# Each language's name in itself, for the language menu.
LANGUAGE_NAMES = {
    "en": "English",
    "ru": "Русский",
    "kk": "Қазақ тілі",
    "ur": "اردو",
    "ar": "العربية",
    "fr": "Français",
    "es": "Español",
}

Text: TypeAlias = str | Mapping[str, str]
# (section, key path below an item) of every text a scenario may give in several
# languages; `meta` is a mapping, the other sections lists of items.
_TEXTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("meta", ("title",)),
    ("meta", ("summary",)),
    ("objectives", ("question",)),
    ("objectives", ("hints", "*", "text")),
    ("injects", ("text",)),
    ("injects", ("title",)),
    ("artefacts", ("title",)),
    ("artefacts", ("text",)),
)
# Texts shown on a site or in evidence rather than to the trainee: they are in their
# writer's language, so a plain string there is no missing translation.
SITE_TEXTS: dict[str, dict[str, tuple[str, ...]]] = {
    "injects": {"forum_post": ("text", "title"), "exit_scam": ("text",)},
    "artefacts": {"phone_notes": ("text",)},
}


def locale_language(locale: str) -> str:
    """The language of a Faker locale: `ru_RU` -> `ru`, `en` -> `en`."""
    return locale.replace("-", "_").split("_")[0].lower()


def default_language(locale: str, languages: Iterable[str] = ()) -> str:
    """The scenario's default language: the locale's when declared (or none are), else the
    first declared."""
    declared = list(languages)
    own = locale_language(locale)
    return own if not declared or own in declared else declared[0]


def localized(value: Text | None, language: str | None, default: str) -> str:
    """The text of `value` in `language`, else in `default`, else its first entry."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    for wanted in (language, default):
        if wanted and wanted in value:
            return value[wanted]
    return next(iter(value.values()), "")


def each_text(data: dict) -> Iterable[tuple[tuple, object]]:
    """(path, value) of every trainee-facing text present in a scenario document."""
    for section, keys in _TEXTS:
        if section == "meta":
            meta = data.get("meta")
            if isinstance(meta, dict) and keys[0] in meta:
                yield ("meta", keys[0]), meta[keys[0]]
            continue
        items = data.get(section)
        for i, item in enumerate(items if isinstance(items, list) else ()):
            if not isinstance(item, dict):
                continue
            yield from _below(item, (section, i), keys)


def _below(node: object, path: tuple, keys: tuple[str, ...]) -> Iterable[tuple[tuple, object]]:
    """The values at `keys` below `node` ("*": every item of a list)."""
    if not keys:
        yield path, node
        return
    head, rest = keys[0], keys[1:]
    if head == "*":
        for j, item in enumerate(node if isinstance(node, list) else ()):
            yield from _below(item, path + (j,), rest)
    elif isinstance(node, dict) and head in node:
        yield from _below(node[head], path + (head,), rest)


def declared_languages(data: dict) -> tuple[list[str], str]:
    """The languages a scenario document declares and its default language."""
    meta = _meta(data)
    locale = meta.get("locale")
    locale = locale if isinstance(locale, str) else "en_US"
    raw = meta.get("languages")
    declared = [x for x in raw if isinstance(x, str)] if isinstance(raw, list) else []
    default = default_language(locale, declared)
    return declared or [default], default


def language_problems(
    data: dict, lines: Mapping[tuple, int], file: str, dotted: Callable[[tuple], str]
) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of a scenario document's languages and translated texts.

    Errors: a declared language the sandbox does not offer, a text in a language the
    scenario does not declare. Warnings: a text without every declared language (a plain
    string counts as the default language's), except texts on sites and in evidence.
    """
    errors: list[Problem] = []
    warnings: list[Problem] = []

    def line(path: tuple) -> int:
        """The line of path, or of its closest ancestor in the file."""
        while path and path not in lines:
            path = path[:-1]
        return lines.get(path, 1)

    raw = _meta(data).get("languages")
    for i, language in enumerate(raw if isinstance(raw, list) else ()):
        if isinstance(language, str) and language not in LANGUAGES:
            path = ("meta", "languages", i)
            errors.append(
                Problem(
                    file,
                    line(path),
                    dotted(path),
                    f"'{language}' is not a language the classroom offers "
                    f"(languages: {', '.join(LANGUAGES)})",
                )
            )
    declared, default = declared_languages(data)
    listed = ", ".join(declared)
    for path, value in each_text(data):
        if isinstance(value, dict):
            for language in value:
                if language not in declared:
                    where = path + (language,)
                    errors.append(
                        Problem(
                            file,
                            line(where),
                            dotted(where),
                            f"'{language}' is not one of the scenario's languages "
                            f"(meta.languages: {listed}); add it there or remove this text",
                        )
                    )
            have = set(value)
        elif isinstance(value, str):
            have = {default}
        else:
            continue  # the schema reports it
        if _site_text(data, path):
            continue  # in its writer's language: nothing to translate
        missing = [language for language in declared if language not in have]
        if missing:
            warnings.append(
                Problem(
                    file,
                    line(path),
                    dotted(path),
                    f"missing translation: no {', '.join(missing)} text (meta.languages: {listed})",
                )
            )
    return errors, warnings


def _meta(data: dict) -> dict:
    """The document's meta mapping (empty when it is not one)."""
    meta = data.get("meta")
    return meta if isinstance(meta, dict) else {}


def _site_text(data: dict, path: tuple) -> bool:
    """Whether the text at path is shown on a site or in evidence (see SITE_TEXTS)."""
    kinds = SITE_TEXTS.get(path[0])
    if kinds is None or len(path) < 3:
        return False
    item: dict = data[path[0]][path[1]]
    what = str(item.get("action", item.get("kind")))
    return path[2] in kinds.get(what, ())
