"""Cryptocurrency addresses: Bitcoin, Monero, Ethereum and Tron, each checksum-validated;
and Tron (TRC-20) transaction ids.

A string is reported only when its checksum holds: base58check (double SHA-256) for
Bitcoin P2PKH/P2SH, BIP-173 bech32 / BIP-350 bech32m for segwit, Monero's Keccak-256
over its block-wise base58, EIP-55 for mixed-case Ethereum addresses, and base58check
(0x41 + 20 bytes) for Tron's T... addresses. Look-alikes
(a typo, a truncated copy, random base58 in a key block) fail and are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..chain.codec.base58 import base58check_decode, monero_b58decode
from ..chain.codec.bech32 import segwit_decode
from ..chain.codec.hashes import keccak256
from ..chain.codec.tron import is_tron_address
from .base import Artefact, Document, snippet

_B58_CLASS = "1-9A-HJ-NP-Za-km-z"

BTC_BASE58 = re.compile(rf"(?<![{_B58_CLASS}])[13][{_B58_CLASS}]{{25,34}}(?![{_B58_CLASS}])")
BTC_BECH32 = re.compile(
    r"(?<![0-9A-Za-z])(?:bc1[02-9ac-hj-np-z]{8,87}|BC1[02-9AC-HJ-NP-Z]{8,87})(?![0-9A-Za-z])"
)
XMR = re.compile(
    rf"(?<![{_B58_CLASS}])[{_B58_CLASS}]{{95}}(?:[{_B58_CLASS}]{{11}})?(?![{_B58_CLASS}])"
)
ETH = re.compile(r"(?<![0-9A-Za-z])0x[0-9a-fA-F]{40}(?![0-9A-Za-z])")
TRON = re.compile(rf"(?<![{_B58_CLASS}])T[{_B58_CLASS}]{{33}}(?![{_B58_CLASS}])")
HEX64 = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{64}(?![0-9A-Za-z])")
# A 64-hex string is a Tron txid when a Tronscan link holds it, or when a word for a
# transaction comes just before it on a page that speaks of Tron.
TX_WORD = re.compile(r"\b(tx|txid|tx id|tx hash|transaction|hash)\b[^0-9A-Za-z]{0,12}$", re.I)
TRON_PAGE = re.compile(r"\b(tron|trc-?20|usdt|tronscan|trx)\b", re.I)
TRONSCAN_LINK = re.compile(r"tronscan[^\s\"'<>]*/transaction/$", re.I)

BTC_VERSIONS = {0x00: "p2pkh", 0x05: "p2sh"}

# Monero network byte -> (network, address type); all fit one varint byte.
XMR_PREFIXES = {
    18: ("mainnet", "standard"),
    19: ("mainnet", "integrated"),
    42: ("mainnet", "subaddress"),
    53: ("testnet", "standard"),
    54: ("testnet", "integrated"),
    63: ("testnet", "subaddress"),
    24: ("stagenet", "standard"),
    25: ("stagenet", "integrated"),
    36: ("stagenet", "subaddress"),
}


# -- Bitcoin -------------------------------------------------------------------------


def bitcoin_address(text: str) -> dict | None:
    """What a string is as a mainnet Bitcoin address (type, encoding), or None if invalid."""
    if text[:3].lower() == "bc1":
        try:
            version, program = segwit_decode(text)
        except ValueError:
            return None
        kinds = {(0, 20): "p2wpkh", (0, 32): "p2wsh", (1, 32): "p2tr"}
        return {
            "type": kinds.get((version, len(program)), f"witness_v{version}"),
            "encoding": "bech32" if version == 0 else "bech32m",
        }
    try:
        payload = base58check_decode(text)
    except ValueError:
        return None
    if len(payload) != 21 or payload[0] not in BTC_VERSIONS:
        return None
    return {"type": BTC_VERSIONS[payload[0]], "encoding": "base58check"}


# -- Monero --------------------------------------------------------------------------


def monero_address(text: str) -> dict | None:
    """Network and type of a valid Monero address (Keccak checksum), or None."""
    raw = monero_b58decode(text)
    if raw is None or len(raw) not in (69, 77):
        return None
    data, checksum = raw[:-4], raw[-4:]
    if keccak256(data)[:4] != checksum:
        return None
    prefix = XMR_PREFIXES.get(data[0])
    if prefix is None:
        return None
    network, kind = prefix
    if (kind == "integrated") != (len(raw) == 77):
        return None
    details = {"network": network, "type": kind}
    if kind == "integrated":
        details["payment_id"] = data[65:73].hex()
    return details


# -- Ethereum ------------------------------------------------------------------------


def eip55(address: str) -> str:
    """The EIP-55 mixed-case checksum form of a 0x address."""
    hexpart = address[2:].lower()
    digest = keccak256(hexpart.encode()).hex()
    return "0x" + "".join(
        c.upper() if int(d, 16) >= 8 else c for c, d in zip(hexpart, digest, strict=False)
    )


def ethereum_address(text: str) -> dict | None:
    """Checksum status of a 0x address, or None when its mixed case fails EIP-55."""
    hexpart = text[2:]
    if hexpart in (hexpart.lower(), hexpart.upper()):
        return {"checksum": "none"}  # single-case addresses carry no checksum to check
    return {"checksum": "eip55"} if eip55(text) == text else None


# -- extractor -----------------------------------------------------------------------


def _tron(text: str, raw: str) -> Iterator[Artefact]:
    """Valid T... addresses, and txids a Tronscan link or a Tron page's tx word names."""
    for match in TRON.finditer(text):
        if is_tron_address(match.group(0)):
            yield Artefact(
                "tron_address",
                match.group(0),
                match.group(0),
                snippet(text, match.start(), match.end()),
                {"encoding": "base58check"},
            )
    tron_page = TRON_PAGE.search(text) is not None
    for source, where in ((raw, "link"), (text, "text")):
        for match in HEX64.finditer(source):
            before = source[max(0, match.start() - 80) : match.start()]
            if TRONSCAN_LINK.search(before):
                found = "tronscan link"
            elif where == "text" and tron_page and TX_WORD.search(before):
                found = "named a transaction on a Tron page"
            else:
                continue
            yield Artefact(
                "tron_txid",
                match.group(0),
                match.group(0).lower(),
                snippet(source, match.start(), match.end()),
                {"found": found},
            )


def find(doc: Document) -> Iterator[Artefact]:
    """Every valid Bitcoin, Monero, Ethereum and Tron address (and Tron txid) in the document."""
    text = doc.plain
    yield from _tron(text, doc.raw if doc.is_text else "")
    for pattern in (BTC_BASE58, BTC_BECH32):
        for match in pattern.finditer(text):
            value = match.group(0)
            details = bitcoin_address(value)
            if details:
                normalized = value.lower() if details["encoding"] != "base58check" else value
                yield Artefact(
                    "btc_address",
                    value,
                    normalized,
                    snippet(text, match.start(), match.end()),
                    details,
                )
    for match in XMR.finditer(text):
        details = monero_address(match.group(0))
        if details:
            yield Artefact(
                "xmr_address",
                match.group(0),
                match.group(0),
                snippet(text, match.start(), match.end()),
                details,
            )
    for match in ETH.finditer(text):
        details = ethereum_address(match.group(0))
        if details:
            yield Artefact(
                "eth_address",
                match.group(0),
                eip55(match.group(0)),
                snippet(text, match.start(), match.end()),
                details,
            )
