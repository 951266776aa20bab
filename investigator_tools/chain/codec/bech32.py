"""Segwit addresses, bech32 and bech32m (BIP173, BIP350), mainnet only.

embit.bech32 supplies the bit regrouping. Its decoder answers (None, None) for every fault;
this one says which rule failed, and P2WPKH (most outputs the sync stores) is encoded ten
bits at a time with a precomputed checksum table, not symbol by symbol.
"""

from __future__ import annotations

from embit.bech32 import convertbits

__all__ = ["CHARSET", "HRP", "p2wpkh_encode", "segwit_decode", "segwit_encode"]

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_BECH32M = 0x2BC830A3
HRP = "bc"


def _polymod(values) -> int:
    """BIP173's checksum polynomial."""
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            if top >> i & 1:
                chk ^= _GEN[i]
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    """The human-readable part as the checksum sees it."""
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _checksum(hrp: str, data: list[int], const: int) -> list[int]:
    """The six checksum symbols."""
    mod = _polymod(_hrp_expand(hrp) + data + [0] * 6) ^ const
    return [(mod >> 5 * (5 - i)) & 31 for i in range(6)]


def segwit_encode(version: int, program: bytes) -> str:
    """A bc1 address (bech32 for version 0, bech32m above)."""
    data = [version] + convertbits(program, 8, 5, True)
    const = 1 if version == 0 else _BECH32M
    return HRP + "1" + "".join(CHARSET[d] for d in data + _checksum(HRP, data, const))


def segwit_decode(address: str) -> tuple[int, bytes]:
    """(witness version, program) of a bc1 address; ValueError when it is not one."""
    if address.lower() != address and address.upper() != address:
        raise ValueError("mixed case")
    text = address.lower()
    pos = text.rfind("1")
    if text[:pos] != HRP or len(text) > 90 or len(text) - pos < 8:
        raise ValueError("not a bc1 address")
    try:
        data = [CHARSET.index(c) for c in text[pos + 1 :]]
    except ValueError:
        raise ValueError("invalid bech32 character") from None
    const = _polymod(_hrp_expand(HRP) + data)
    version = data[0]
    if const != (1 if version == 0 else _BECH32M):
        raise ValueError("bad bech32 checksum")
    program = convertbits(data[1:-6], 5, 8, False)
    if program is None or not 2 <= len(program) <= 40 or version > 16:
        raise ValueError("bad witness program")
    if version == 0 and len(program) not in (20, 32):
        raise ValueError("bad version 0 program length")
    return version, bytes(program)


def _p2wpkh_tables() -> tuple[int, list[list[int]]]:
    """Checksum of the all-zero program, and each (byte position, value)'s XOR into it.

    The checksum is affine in the data bits, so a program's checksum is the zero
    program's one XOR the contribution of each byte: 20 table lookups per address.
    """
    prefix = _hrp_expand(HRP) + [0]

    def raw(program: bytes) -> int:
        """The polymod of one program (without the final constant)."""
        return _polymod(prefix + convertbits(program, 8, 5, True) + [0] * 6)

    zero = raw(bytes(20))
    tables = []
    for pos in range(20):
        bit_values = []
        for bit in range(8):
            program = bytearray(20)
            program[pos] = 1 << bit
            bit_values.append(raw(bytes(program)) ^ zero)
        table = [0] * 256
        for v in range(1, 256):
            low = v & -v
            table[v] = table[v ^ low] ^ bit_values[low.bit_length() - 1]
        tables.append(table)
    return zero ^ 1, tables


_P2WPKH_ZERO, _P2WPKH_TABLES = _p2wpkh_tables()
_PAIRS32 = [CHARSET[i >> 5] + CHARSET[i & 31] for i in range(1024)]
_SHIFTS = tuple(range(150, -1, -10))


def p2wpkh_encode(h: bytes) -> str:
    """The bc1q address of a 20-byte key hash, fast."""
    mod = _P2WPKH_ZERO
    for table, byte in zip(_P2WPKH_TABLES, h, strict=True):
        mod ^= table[byte]
    n = int.from_bytes(h, "big")
    pairs = _PAIRS32
    # 160 bits are 32 symbols: two per 10-bit slice.
    body = "".join([pairs[(n >> s) & 1023] for s in _SHIFTS])
    return "bc1q" + body + pairs[mod >> 20] + pairs[(mod >> 10) & 1023] + pairs[mod & 1023]
