"""Script pushes: writing data and small integers as pushes, and splitting push-only scripts.

embit.script has no push-only parser; this one follows Bitcoin Core's IsPushOnly: OP_0,
direct pushes, OP_PUSHDATA1/2/4, OP_1NEGATE and OP_1..OP_16.
"""

from __future__ import annotations

__all__ = ["last_push", "parse_pushes", "push_data", "push_int"]

OP_0 = 0x00
OP_PUSHDATA1 = 0x4C
OP_PUSHDATA2 = 0x4D
OP_PUSHDATA4 = 0x4E
OP_1NEGATE = 0x4F
OP_1 = 0x51
OP_16 = 0x60
_PUSHDATA_WIDTH = {OP_PUSHDATA1: 1, OP_PUSHDATA2: 2, OP_PUSHDATA4: 4}


def push_data(data: bytes) -> bytes:
    """Return the minimal push of data (direct, or OP_PUSHDATA1/2/4 by length)."""
    n = len(data)
    if n < OP_PUSHDATA1:
        return bytes((n,)) + data
    if n <= 0xFF:
        return bytes((OP_PUSHDATA1, n)) + data
    if n <= 0xFFFF:
        return bytes((OP_PUSHDATA2,)) + n.to_bytes(2, "little") + data
    return bytes((OP_PUSHDATA4,)) + n.to_bytes(4, "little") + data


def push_int(n: int) -> bytes:
    """Return the minimal script push of a non-negative integer (as BIP34 heights are)."""
    if n == 0:
        return bytes((OP_0,))
    if n <= 16:
        return bytes((OP_1 - 1 + n,))  # OP_1..OP_16
    body = n.to_bytes((n.bit_length() + 8) // 8, "little")  # +8: room for the sign bit
    return bytes((len(body),)) + body


def parse_pushes(script: bytes) -> list[bytes] | None:
    """The items a push-only script pushes, or None if it has any other opcode or is cut short.

    OP_0 pushes b"", OP_1NEGATE b"\\x81" and OP_1..OP_16 the one byte 1..16, as the
    interpreter's stack would hold them.
    """
    items, pos, n = [], 0, len(script)
    while pos < n:
        op = script[pos]
        pos += 1
        if op == OP_0:
            items.append(b"")
            continue
        if op == OP_1NEGATE:
            items.append(b"\x81")
            continue
        if OP_1 <= op <= OP_16:
            items.append(bytes((op - OP_1 + 1,)))
            continue
        if op < OP_PUSHDATA1:
            size = op
        elif op in _PUSHDATA_WIDTH:
            width = _PUSHDATA_WIDTH[op]
            if pos + width > n:
                return None
            size = int.from_bytes(script[pos : pos + width], "little")
            pos += width
        else:
            return None
        if pos + size > n:
            return None
        items.append(script[pos : pos + size])
        pos += size
    return items


def last_push(script: bytes) -> bytes | None:
    """The data of a script's last data push, or None when the script does not end in one.

    Unlike parse_pushes this accepts scripts with other opcodes before the last push.
    """
    pos, last, n = 0, None, len(script)
    while pos < n:
        op = script[pos]
        pos += 1
        if 0x01 <= op < OP_PUSHDATA1:
            size = op
        elif op in _PUSHDATA_WIDTH:
            width = _PUSHDATA_WIDTH[op]
            size = int.from_bytes(script[pos : pos + width], "little")
            pos += width
        else:
            last = None
            continue
        last = script[pos : pos + size]
        pos += size
    return last
