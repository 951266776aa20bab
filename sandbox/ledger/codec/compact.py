"""Bitcoin's CompactSize ("varint"): the length and count prefix of transactions and blocks.

Not embit.compact: the serializer's hot path wants a prebuilt byte string for the common
one-byte case, and parsers read at a position in a buffer rather than from a stream.
"""

from __future__ import annotations

import struct

__all__ = ["encode_compact_size", "read_compact_size"]

_U16 = struct.Struct("<H").pack
_U32 = struct.Struct("<I").pack
_U64 = struct.Struct("<Q").pack
# Almost every length and count is below 0xfd: one prebuilt byte string each.
SMALL_COMPACT_SIZE = tuple(bytes((i,)) for i in range(0xFD))
# Prefix byte -> (width of the number after it, smallest number that needs that width).
_WIDE = {0xFD: (2, 0xFD), 0xFE: (4, 0x10000), 0xFF: (8, 0x100000000)}


def encode_compact_size(n: int) -> bytes:
    """Encode n as Bitcoin's CompactSize."""
    if 0 <= n < 0xFD:
        return SMALL_COMPACT_SIZE[n]
    if not 0 <= n <= 0xFFFFFFFFFFFFFFFF:
        raise ValueError(f"CompactSize out of range: {n}")
    if n <= 0xFFFF:
        return b"\xfd" + _U16(n)
    if n <= 0xFFFFFFFF:
        return b"\xfe" + _U32(n)
    return b"\xff" + _U64(n)


def read_compact_size(raw: bytes, pos: int, canonical: bool = False) -> tuple[int, int]:
    """Return (the CompactSize at pos, the position after it).

    Raises ValueError when the number runs past the end of raw, or (canonical=True, as
    Bitcoin Core requires of transactions) when it is not written in its shortest form.
    """
    if pos >= len(raw):
        raise ValueError(f"truncated: CompactSize needs 1 byte at offset {pos}, none left")
    first = raw[pos]
    if first < 0xFD:
        return first, pos + 1
    width, low = _WIDE[first]
    end = pos + 1 + width
    if end > len(raw):
        raise ValueError(
            f"truncated: CompactSize needs {width} bytes at offset {pos + 1}, "
            f"only {len(raw) - pos - 1} left"
        )
    n = int.from_bytes(raw[pos + 1 : end], "little")
    if canonical and n < low:
        raise ValueError(f"non-canonical CompactSize at offset {pos}")
    return n, end
