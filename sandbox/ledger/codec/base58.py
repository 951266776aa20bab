"""Base58 and Base58Check (Bitcoin alphabet): legacy addresses and WIF keys.

Not embit.base58: this one encodes two digits per big-integer division (a world build
encodes every legacy address it makes) and names the bad character and its position.
"""

from __future__ import annotations

from .errors import InvalidAddress
from .hashes import sha256d

__all__ = [
    "B58_ALPHABET",
    "b58decode",
    "b58encode",
    "base58check_decode",
    "base58check_encode",
]

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(B58_ALPHABET)}
# Two digits per divmod halves the big-int work of encoding.
_B58_PAIRS = tuple(a + b for a in B58_ALPHABET for b in B58_ALPHABET)


def b58encode(data: bytes) -> str:
    """Encode bytes as Base58 (Bitcoin alphabet), one '1' per leading zero byte."""
    n = int.from_bytes(data, "big")
    out: list[str] = []
    append = out.append
    while n:
        n, r = divmod(n, 3364)
        append(_B58_PAIRS[r])
    out.reverse()
    zeros = len(data) - len(data.lstrip(b"\x00"))
    return "1" * zeros + "".join(out).lstrip("1")


def b58decode(text: str) -> bytes:
    """Decode a Base58 string; raise InvalidAddress naming the first bad character."""
    n = 0
    index = _B58_INDEX
    try:
        for c in text:
            n = n * 58 + index[c]
    except KeyError:
        pos = next(i for i, c in enumerate(text) if c not in index)
        raise InvalidAddress(f"invalid base58 character {text[pos]!r} at position {pos}") from None
    zeros = len(text) - len(text.lstrip("1"))
    return b"\x00" * zeros + n.to_bytes((n.bit_length() + 7) // 8, "big")


def base58check_encode(payload: bytes) -> str:
    """Encode payload with its 4-byte double-SHA256 checksum as Base58."""
    return b58encode(payload + sha256d(payload)[:4])


def base58check_decode(text: str) -> bytes:
    """Decode Base58Check and return the payload; raise InvalidAddress on a bad checksum."""
    if not text:
        raise InvalidAddress("empty string")
    raw = b58decode(text)
    if len(raw) < 5:
        raise InvalidAddress(f"too short: {len(raw)} bytes decoded, need a checksum")
    payload, check = raw[:-4], raw[-4:]
    if sha256d(payload)[:4] != check:
        raise InvalidAddress("bad Base58Check checksum (typo or corrupted address)")
    return payload
