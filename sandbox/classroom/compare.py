"""Judging answers: normalisation and the comparisons exact, nocase, set, number, sweep,
freeze and seize.

The key is what the builder stored in `seat_objectives.answer` (JSON): a string, a number,
a list (set) or, for sweep, {"spend_from": [...], "pay_to": "..."}. A sweep is judged on
the live chain (`<state>/chain.db`), where trainees' broadcast transactions land. freeze
({"freeze_of": [...], "requester": ...}) and seize ({"seize_from": [...], "pay_to": ...,
"requester": ...}) are judged from the USDT issuer's records (`<state>/issuer.db`, beside
chain.db): the trainee gives the issuer's reference of its request (or, for seize, the
txid of the reissue's transfer).
"""

from __future__ import annotations

import math
import re
import unicodedata
from pathlib import Path

from ..issuer.records import DB_NAME as ISSUER_DB
from ..issuer.records import IssuerLog
from ..ledger.live.chain import LiveChainReader

__all__ = ["MAX_ANSWER", "answer_matches", "fold", "normalise", "parse_number", "split_set"]

MAX_ANSWER = 4000  # characters; longer submissions are refused before judging
_SEPARATORS = re.compile(r"[\s,;]+")
_BASE58_ADDRESS = re.compile(r"[13][1-9A-HJ-NP-Za-km-z]{25,34}\Z")
_TXID = re.compile(r"[0-9a-fA-F]{64}\Z")
_UNITS = re.compile(r"\s*(btc|xbt|₿|bitcoins?|eur|usd|€|\$|%)\s*\Z", re.IGNORECASE)


def normalise(text: str) -> str:
    """Unicode-normalised (NFKC), trimmed, with every run of whitespace one space."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).split())


def fold(text: str) -> str:
    """Text as names are compared: without accents or case (Häring, HARING: haring)."""
    decomposed = unicodedata.normalize("NFKD", normalise(text))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _fold(value: str) -> str:
    """A set element as compared: case kept for base58 addresses, folded otherwise."""
    # Base58 is case-sensitive (1Abc and 1aBC are different addresses); bech32 and
    # ordinary words are not.
    return value if _BASE58_ADDRESS.match(value) else fold(value)


def split_set(value) -> set[str]:
    """The elements of a set answer: a list, or text separated by commas/whitespace/newlines."""
    items = value if isinstance(value, list | tuple | set) else [value]
    out: set[str] = set()
    for item in items:
        for part in _SEPARATORS.split(normalise(item)):
            part = part.strip("\"'`")
            if part:
                out.add(_fold(part))
    return out


def parse_number(text: str) -> float | None:
    """A number as a trainee types it: '0.05', '0,05', '1,234.5', '1 234', '0.05 BTC'."""
    s = normalise(text)
    s = _UNITS.sub("", s).replace(" ", "").replace("_", "").replace("'", "")
    if "," in s and "." in s:
        s = s.replace(",", "")  # 1,234.5: commas group thousands
    elif s.count(",") == 1:
        s = s.replace(",", ".")  # 0,05: a decimal comma
    elif s.count(",") > 1:
        s = s.replace(",", "")
    try:
        value = float(s)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _sweep(txid: str, key: dict, chain_db: Path | None) -> bool:
    """Whether txid, on the live chain, spends a spend_from output and pays pay_to."""
    txid = txid.strip().lower()
    if not _TXID.match(txid) or chain_db is None:
        return False
    spend_from = list(key.get("spend_from") or [])
    pay_to = key.get("pay_to")
    if not spend_from or not pay_to:
        return False
    return LiveChainReader(chain_db).sweeps(txid, spend_from, pay_to)


def _issuer_action(given: str, key: dict, kind: str, chain_db: Path | None) -> dict | None:
    """The executed action of a kind, of the key's requester, that the given reference (or
    txid) names in the issuer's records; None when there is none."""
    if chain_db is None or not (chain_db.parent / ISSUER_DB).is_file():
        return None
    records = IssuerLog(chain_db.parent)
    text = normalise(given).strip("\"'`")
    stored = records.by_txid(text) if _TXID.match(text) else records.by_reference(text)
    if stored is None or stored["requester_id"] != key.get("requester"):
        return None
    for action in records.actions_of(stored["number"]):
        if action["kind"] == kind and action["status"] == "executed":
            return action
    return None


def _freeze(given: str, key: dict, chain_db: Path | None) -> bool:
    """Whether given is this seat's executed freeze of one of the actor's addresses."""
    action = _issuer_action(given, key, "freeze", chain_db)
    return action is not None and action["address"] in set(key.get("freeze_of") or [])


def _seize(given: str, key: dict, chain_db: Path | None) -> bool:
    """Whether given is this seat's executed reissue of one of the actor's addresses' USDT
    to the seat's Tron wallet."""
    action = _issuer_action(given, key, "reissue", chain_db)
    return (
        action is not None
        and action["address"] in set(key.get("seize_from") or [])
        and action["wallet"] == key.get("pay_to")
        and int(action["amount"] or 0) > 0
    )


def answer_matches(
    compare: str,
    given: str,
    key,
    *,
    tolerance: float = 0.0,
    relative: bool = False,
    chain_db: str | Path | None = None,
    accept: tuple[str, ...] | list[str] = (),
    spellings: tuple[tuple[str, ...], ...] | list[list[str]] = (),
) -> bool:
    """Whether the answer a trainee gave matches the key, or one of the accepted others.

    accept (the objective's `accept:` texts) and spellings (its groups of spellings of one
    answer: when the key is one of a group, so is every other) apply to exact and nocase
    comparisons.
    """
    if compare in ("exact", "nocase"):
        if any(_same(compare, given, a) for a in accept):
            return True
        for group in spellings:
            # the group holds this seat's answer: another spelling of it is right too
            if (
                isinstance(key, str)
                and any(_same(compare, key, s) for s in group)
                and any(_same(compare, given, s) for s in group)
            ):
                return True
    return _same(compare, given, key, tolerance, relative, chain_db)


def _same(compare, given, key, tolerance=0.0, relative=False, chain_db=None) -> bool:
    """Whether given matches one right answer under a comparison."""
    if compare == "exact":
        return str(given).strip() == str(key).strip()
    if compare == "nocase":
        if isinstance(key, list):
            return split_set(given) == split_set(key)
        return fold(given) == fold(key)
    if compare == "set":
        return split_set(given) == split_set(key)
    if compare == "number":
        value = parse_number(given)
        if value is None:
            return False
        expected = float(key)
        allowed = abs(expected) * tolerance if relative else tolerance
        # A hair of slack for float rounding, so "0.1 + 0.2" style keys still match.
        return abs(value - expected) <= allowed + 1e-9 * max(1.0, abs(expected))
    if compare == "sweep":
        return isinstance(key, dict) and _sweep(given, key, Path(chain_db) if chain_db else None)
    if compare in ("freeze", "seize"):
        judge = _freeze if compare == "freeze" else _seize
        return isinstance(key, dict) and judge(given, key, Path(chain_db) if chain_db else None)
    raise ValueError(f"unknown comparison {compare!r}")
