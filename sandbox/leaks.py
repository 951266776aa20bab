"""Whether a text a trainee is shown gives an objective's answer away, verbatim.

`sandbox check` runs this over each seat's papers (brief, text artefacts, questions) and
over the landing pages of the sites of its case. What counts as the answer showing:

- text answers (names, emails, addresses, IPs, ids): the answer, case- and
  space-insensitive, as a whole word (not inside a longer word or address); answers
  shorter than MIN_TEXT characters are skipped (they match by accident);
- list answers (compare: set): any member, by the text rule;
- number answers: any number printed in the text that the objective's comparison would
  accept (within its tolerance), however the page formats it (0.305, 0,305, 1,234.5);
  integers below MIN_INTEGER and decimals with fewer than MIN_DIGITS significant digits
  are skipped (counts like 12 and amounts like 0.5 are everywhere on a page);
- an exchange's name (answer field `exchange`) is a choice, not the answer, when the text
  names another exchange of the world too (a brief listing the exchanges that answer
  law-enforcement requests gives nothing away);
- sweeps (a transaction the trainee makes) never show anywhere.
"""

from __future__ import annotations

import re

from .classroom.compare import answer_matches as judge
from .classroom.compare import normalise, parse_number

__all__ = ["MIN_DIGITS", "MIN_INTEGER", "MIN_TEXT", "shown"]

MIN_TEXT = 5
MIN_INTEGER = 100
MIN_DIGITS = 3
# A number as pages print it; a dotted quad (an IP) or a longer dotted run is not one.
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w]|[.,]\d)")


def shown(
    key,
    compare: str,
    text: str,
    *,
    tolerance: float = 0.0,
    relative: bool = False,
    field: str = "",
    exchanges: tuple[str, ...] = (),
) -> str | None:
    """The part of text that gives the answer `key` away, or None (see the module's rules)."""
    if compare == "sweep" or isinstance(key, dict) or key is None:
        return None
    if compare == "number" or (isinstance(key, int | float) and not isinstance(key, bool)):
        return _number(key, text, tolerance if compare == "number" else 0.0, relative)
    members = key if isinstance(key, list | tuple) else [key]
    flat = normalise(text)
    for member in members:
        found = _word(str(member), flat)
        if found and field == "exchange" and _names_another(found, flat, exchanges):
            continue
        if found:
            return found
    return None


def _word(value: str, text: str) -> str | None:
    """value in text as a whole word, ignoring case and runs of spaces; what the text says."""
    value = normalise(value)
    if len(value) < MIN_TEXT:
        return None
    found = re.search(rf"(?<![\w@.-]){re.escape(value)}(?![\w@-]|\.\w)", text, re.IGNORECASE)
    return found.group(0) if found else None


def _names_another(found: str, text: str, exchanges: tuple[str, ...]) -> bool:
    """Whether text names an exchange other than the one found."""
    others = (e for e in exchanges if e.casefold() != found.casefold())
    return any(re.search(rf"(?<!\w){re.escape(e)}(?!\w)", text, re.IGNORECASE) for e in others)


def _number(key, text: str, tolerance: float, relative: bool) -> str | None:
    """The first number in text that the comparison would accept as the answer."""
    for match in _NUMBER.finditer(text):
        token = match.group(0)
        if token.count(".") > 1:
            continue  # an IP address, a version, a date
        value = parse_number(token)
        if value is None or _trivial(token, value):
            continue
        if judge("number", token, key, tolerance=tolerance, relative=relative):
            return token
    return None


def _trivial(token: str, value: float) -> bool:
    """A small integer, or a decimal with too few significant digits to mean anything."""
    if value.is_integer() and not re.search(r"[.,]\d*[1-9]", token):
        return abs(value) < MIN_INTEGER
    digits = re.sub(r"\D", "", token).lstrip("0").rstrip("0")
    return len(digits) < MIN_DIGITS
