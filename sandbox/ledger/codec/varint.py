"""Protobuf's varint: 7 bits a byte, low bits first, the high bit set on all but the last.

Tron's messages are written by the protobuf library; the Tron simulation writes the few
header fields of its empty blocks itself, and resources sizes transactions with it.
"""

from __future__ import annotations

__all__ = ["encode_varint", "varint_size"]


# Most fields the build writes by the million are below 2^14: one prebuilt byte string
# each; above, a varint is its low 14 bits as two bytes, both marked "more", then the rest.
_SMALL = tuple(
    bytes((i,)) if i < 0x80 else bytes((i & 0x7F | 0x80, i >> 7)) for i in range(1 << 14)
)
_LOW14 = tuple(bytes((i & 0x7F | 0x80, i >> 7 | 0x80)) for i in range(1 << 14))


def encode_varint(value: int) -> bytes:
    """Protobuf's varint encoding of a non-negative int."""
    if 0 <= value < 0x4000:
        return _SMALL[value]
    if value < 0:
        raise ValueError(f"varint of a negative number: {value}")
    out = _LOW14[value & 0x3FFF]
    value >>= 14
    while value >= 0x4000:
        out += _LOW14[value & 0x3FFF]
        value >>= 14
    return out + _SMALL[value]


def varint_size(value: int) -> int:
    """How many bytes encode_varint(value) takes."""
    return max(1, (value.bit_length() + 6) // 7)
