"""Bitcoin's CompactSize ("varint"), written with embit and read at a position in a buffer.

embit.compact reads from a stream; the block parser reads in place, so reading is here.
"""

from __future__ import annotations

from embit.compact import to_bytes as encode_compact_size

__all__ = ["encode_compact_size", "read_compact_size"]

_WIDTH = {0xFD: 2, 0xFE: 4, 0xFF: 8}


def read_compact_size(raw: bytes, pos: int) -> tuple[int, int]:
    """(the CompactSize at pos, the position after it); ValueError if it runs past the end."""
    if pos >= len(raw):
        raise ValueError(f"truncated: CompactSize needs 1 byte at offset {pos}, none left")
    first = raw[pos]
    if first < 0xFD:
        return first, pos + 1
    end = pos + 1 + _WIDTH[first]
    if end > len(raw):
        raise ValueError(f"truncated: CompactSize at offset {pos} runs past the end")
    return int.from_bytes(raw[pos + 1 : end], "little"), end
