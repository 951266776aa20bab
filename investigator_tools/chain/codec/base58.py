"""Base58Check (Bitcoin legacy addresses, WIF keys) and Monero's block-wise Base58.

Not embit.base58: the sync encodes a legacy address per output it stores, and this encoder
takes two digits per big-integer division; embit has no Monero variant.
"""

from __future__ import annotations

from .hashes import sha256d

__all__ = ["B58_ALPHABET", "base58check_decode", "base58check_encode", "monero_b58decode"]

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(B58_ALPHABET)}
_B58_PAIRS = [B58_ALPHABET[i // 58] + B58_ALPHABET[i % 58] for i in range(58 * 58)]
# Monero: a full block is 8 bytes in 11 characters; a shorter last block has this many bytes.
_XMR_BLOCK_CHARS = {0: 0, 2: 1, 3: 2, 5: 3, 6: 4, 7: 5, 9: 6, 10: 7, 11: 8}


def base58check_encode(payload: bytes) -> str:
    """Base58 of payload followed by its 4-byte double-SHA-256 checksum."""
    data = payload + sha256d(payload)[:4]
    n = int.from_bytes(data, "big")
    parts = []
    while n:
        # Two digits per division: half the big-integer work of the textbook loop.
        n, r = divmod(n, 3364)
        parts.append(_B58_PAIRS[r])
    text = "".join(reversed(parts)).lstrip("1")
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + text


def base58check_decode(text: str) -> bytes:
    """The payload of a base58check string; ValueError when malformed or its checksum fails."""
    n = 0
    for c in text:
        i = _B58_INDEX.get(c)
        if i is None:
            raise ValueError(f"invalid base58 character {c!r}")
        n = n * 58 + i
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    data = b"\0" * (len(text) - len(text.lstrip("1"))) + body
    if len(data) < 5 or sha256d(data[:-4])[:4] != data[-4:]:
        raise ValueError("bad base58check checksum")
    return data[:-4]


def monero_b58decode(text: str) -> bytes | None:
    """Monero's base58: 11-character blocks of 8 bytes each, the last one shorter."""
    out = bytearray()
    for start in range(0, len(text), 11):
        block = text[start : start + 11]
        size = _XMR_BLOCK_CHARS.get(len(block))
        if size is None:
            return None
        number = 0
        for char in block:
            index = _B58_INDEX.get(char)
            if index is None:
                return None
            number = number * 58 + index
        if number >> (8 * size):
            return None
        out += number.to_bytes(size, "big")
    return bytes(out)
