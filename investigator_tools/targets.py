"""What the commands are told to look at, checked before a case file is opened or made.

An address must pass its checksum (Bitcoin's Base58Check or bech32, Tron's Base58Check);
a txid is 64 hex digits, an output TXID:N. A typo is then one clear error, and no empty
case file is left behind by a command that could not have run.
"""

from __future__ import annotations

import re

from .chain.address import address_to_script
from .chain.codec.tron import is_tron_address
from .errors import InputError

TXID = re.compile(r"^[0-9a-fA-F]{64}$")
OUTPOINT = re.compile(r"^[0-9a-fA-F]{64}:\d+$")
KINDS = {
    "btc": "a valid Bitcoin address",
    "tron": "a Tron address (T..., 34 characters)",
    "txid": "a txid (64 hex digits)",
    "outpoint": "an output TXID:N",
}


def check_target(text: str, where: str, kinds: tuple[str, ...]) -> str:
    """`text` stripped if it is one of `kinds` (btc, tron, txid, outpoint), else InputError
    naming `where` (the argument or option) and why it fails."""
    value = text.strip()
    if "txid" in kinds and TXID.match(value):
        return value
    if "outpoint" in kinds and OUTPOINT.match(value):
        return value
    if "tron" in kinds and is_tron_address(value):
        return value
    bech32 = value.lower().startswith(("bc1", "tb1", "bcrt1"))
    base58 = value[:1] in ("1", "3", "2", "m", "n") and 25 <= len(value) <= 35
    if "btc" in kinds and (bech32 or base58):
        try:
            address_to_script(value)
            return value
        except InputError:
            pass
    expected = [KINDS[k] for k in kinds]
    listed = expected[0] if len(expected) == 1 else ", ".join(expected[:-1]) + " or " + expected[-1]
    raise InputError(f"{where} {text!r} is not {listed}{_why(value, kinds)}")


def _why(value: str, kinds: tuple[str, ...]) -> str:
    """Why a value that looks like one of the kinds is not one (a checksum, a length)."""
    txid = value.partition(":")[0]
    if ("txid" in kinds or "outpoint" in kinds) and re.fullmatch(r"[0-9a-fA-F]{32,}", txid):
        return f" ({len(txid)} hex digits where a txid has 64)"
    if "tron" in kinds and value.startswith("T") and len(value) == 34:
        return " (its checksum fails: a typo or a truncated copy?)"
    bech32 = value.lower().startswith(("bc1", "tb1", "bcrt1"))
    base58 = value[:1] in ("1", "3", "2", "m", "n") and 25 <= len(value) <= 35
    if "btc" in kinds and (bech32 or base58):
        try:
            address_to_script(value)
        except InputError as e:
            detail = re.search(r"\(([^()]*)\)$", str(e))
            return f" ({detail.group(1)})" if detail else f" ({str(e).split(' is ', 1)[-1]})"
    return ""
