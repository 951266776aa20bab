"""Script pushes, as a sweep's scriptSigs write them."""

from __future__ import annotations

__all__ = ["push_data"]

OP_PUSHDATA1 = 0x4C
OP_PUSHDATA2 = 0x4D
OP_PUSHDATA4 = 0x4E


def push_data(data: bytes) -> bytes:
    """The minimal push of data (direct, or OP_PUSHDATA1/2/4 by length)."""
    n = len(data)
    if n < OP_PUSHDATA1:
        return bytes((n,)) + data
    if n <= 0xFF:
        return bytes((OP_PUSHDATA1, n)) + data
    if n <= 0xFFFF:
        return bytes((OP_PUSHDATA2,)) + n.to_bytes(2, "little") + data
    return bytes((OP_PUSHDATA4,)) + n.to_bytes(4, "little") + data
