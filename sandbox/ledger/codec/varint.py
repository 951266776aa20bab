"""Protobuf's varint: 7 bits a byte, low bits first, the high bit set on all but the last.

Tron's messages are written by the protobuf library; the Tron simulation writes the few
header fields of its empty blocks itself, and resources sizes transactions with it.
"""

from __future__ import annotations

__all__ = ["encode_varint", "varint_size"]


# Most fields the build writes by the million are below 128: one prebuilt byte string each.
_ONE_BYTE = tuple(bytes((i,)) for i in range(0x80))


def encode_varint(value: int) -> bytes:
    """Protobuf's varint encoding of a non-negative int."""
    if 0 <= value < 0x80:
        return _ONE_BYTE[value]
    if value < 0:
        raise ValueError(f"varint of a negative number: {value}")
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def varint_size(value: int) -> int:
    """How many bytes encode_varint(value) takes."""
    return max(1, (value.bit_length() + 6) // 7)
