"""bech32 and bech32m strings and segwit addresses (BIP173, BIP350).

embit.bech32 supplies the bit regrouping. Its decoders answer (None, None) for every fault;
these raise InvalidAddress saying which rule failed, for a trainee who mistyped an address,
and encode and decode P2WPKH (most of a world's addresses) through precomputed tables.
"""

from __future__ import annotations

from functools import reduce
from operator import getitem, xor

from embit.bech32 import convertbits

from .errors import InvalidAddress

__all__ = [
    "BECH32_CHARSET",
    "MAINNET_HRP",
    "bech32_decode",
    "bech32_encode",
    "convertbits",
    "p2wpkh_decode",
    "p2wpkh_encode",
    "p2wpkh_hash_unchecked",
    "segwit_decode",
    "segwit_encode",
]

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {c: i for i, c in enumerate(BECH32_CHARSET)}
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3
_ENCODING_CONST = {"bech32": BECH32_CONST, "bech32m": BECH32M_CONST}
# _POLY_STEP[b] is the xor that the 5 top bits b of the checksum state contribute per step.
_POLY_STEP = tuple(reduce(xor, (g for i, g in enumerate(_GEN) if b >> i & 1), 0) for b in range(32))
_MAX_BECH32_LENGTH = 90
MAINNET_HRP = "bc"
_OTHER_NETWORK_HRPS = {"tb": "testnet", "bcrt": "regtest", "sb": "signet"}


def _polymod(values, chk: int = 1) -> int:
    """Run the BCH checksum over 5-bit values starting from state chk."""
    step = _POLY_STEP
    for v in values:
        chk = ((chk & 0x1FFFFFF) << 5) ^ v ^ step[chk >> 25]
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    """Expand the human-readable part into the values the checksum covers."""
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def bech32_encode(hrp: str, data: list[int], encoding: str = "bech32") -> str:
    """Encode 5-bit values under hrp with a bech32 or bech32m checksum."""
    hrp = hrp.lower()
    values = _hrp_expand(hrp) + list(data)
    chk = _polymod(values + [0] * 6) ^ _ENCODING_CONST[encoding]
    checksum = [(chk >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[d] for d in list(data) + checksum)


def bech32_decode(text: str) -> tuple[str, list[int], str]:
    """Return (hrp, 5-bit data without checksum, "bech32"|"bech32m"); raise InvalidAddress."""
    if len(text) > _MAX_BECH32_LENGTH:
        raise InvalidAddress(f"too long for bech32: {len(text)} characters, max 90")
    for pos, c in enumerate(text):
        if not 33 <= ord(c) <= 126:
            raise InvalidAddress(f"invalid character {c!r} at position {pos}")
    lower = text.lower()
    if lower != text and text.upper() != text:
        raise InvalidAddress("mixed upper and lower case")
    sep = lower.rfind("1")
    if sep < 0:
        raise InvalidAddress("no '1' separator between human-readable part and data")
    if sep == 0:
        raise InvalidAddress("empty human-readable part")
    if len(lower) - sep - 1 < 6:
        raise InvalidAddress("data part shorter than the 6-character checksum")
    hrp = lower[:sep]
    data = []
    for pos in range(sep + 1, len(lower)):
        v = _BECH32_INDEX.get(lower[pos])
        if v is None:
            raise InvalidAddress(f"invalid bech32 character {text[pos]!r} at position {pos}")
        data.append(v)
    chk = _polymod(data, _polymod(_hrp_expand(hrp)))
    if chk == BECH32_CONST:
        encoding = "bech32"
    elif chk == BECH32M_CONST:
        encoding = "bech32m"
    else:
        raise InvalidAddress("bad bech32 checksum (typo or corrupted address)")
    return hrp, data[:-6], encoding


def segwit_encode(hrp: str, version: int, program: bytes) -> str:
    """Encode a segwit address: bech32 for version 0, bech32m for versions 1-16 (BIP350)."""
    if not 0 <= version <= 16:
        raise ValueError(f"witness version must be 0..16, got {version}")
    if not 2 <= len(program) <= 40 or (version == 0 and len(program) not in (20, 32)):
        raise ValueError(f"invalid witness v{version} program length {len(program)}")
    encoding = "bech32" if version == 0 else "bech32m"
    return bech32_encode(hrp, [version] + convertbits(program, 8, 5, True), encoding)


def segwit_decode(hrp: str, address: str) -> tuple[int, bytes]:
    """Return (witness version, program) of a segwit address under hrp; raise InvalidAddress."""
    got_hrp, data, encoding = bech32_decode(address)
    if got_hrp != hrp:
        network = _OTHER_NETWORK_HRPS.get(got_hrp)
        if network:
            raise InvalidAddress(f"{network} address (hrp {got_hrp!r}), expected {hrp!r}")
        raise InvalidAddress(f"unknown human-readable part {got_hrp!r}, expected {hrp!r}")
    if not data:
        raise InvalidAddress("empty data: no witness version")
    version = data[0]
    if version > 16:
        raise InvalidAddress(f"invalid witness version {version} (must be 0..16)")
    program = convertbits(data[1:], 5, 8, False)
    if program is None:
        raise InvalidAddress("invalid padding in witness program")
    if not 2 <= len(program) <= 40:
        raise InvalidAddress(f"witness program is {len(program)} bytes, must be 2..40")
    if version == 0 and len(program) not in (20, 32):
        raise InvalidAddress(f"witness v0 program is {len(program)} bytes, must be 20 or 32")
    if version == 0 and encoding != "bech32":
        raise InvalidAddress("witness v0 address must use bech32, not bech32m")
    if version != 0 and encoding != "bech32m":
        raise InvalidAddress(f"witness v{version} address must use bech32m (BIP350), not bech32")
    return version, bytes(program)


# ---------------------------------------------------------------- fast P2WPKH

_P2WPKH_PREFIX = MAINNET_HRP + "1q"
# Every 5-bit value of a bc1q address (32 for the program, 6 for the checksum) is a GF(2)-affine
# function of the program bits. So the address's values, one per byte of a 38-byte integer, are
# a constant xor one table entry per program byte: 20 lookups instead of bit regrouping and 38
# polymod steps. A translate then maps values 0..31 to characters at C speed.
_VALUE_TO_CHAR = bytes.maketrans(bytes(range(32)), BECH32_CHARSET.encode())
# Base 32 digits 0-9a-v let int(..., 32) regroup 5-bit values at C speed when decoding.
_CHAR_TO_DIGIT = str.maketrans(BECH32_CHARSET, "0123456789abcdefghijklmnopqrstuv")


def _p2wpkh_tables() -> tuple[int, tuple[tuple[int, ...], ...]]:
    """Precompute the affine map from a 20-byte program to its address values (see above)."""
    prefix = _polymod(_hrp_expand(MAINNET_HRP) + [0])

    def values(program: bytes) -> int:
        """Return the address's 38 values, one per byte, as an integer."""
        data = convertbits(program, 8, 5, True)
        chk = _polymod(data + [0] * 6, prefix) ^ BECH32_CONST
        checksum = [(chk >> 5 * (5 - i)) & 31 for i in range(6)]
        return int.from_bytes(bytes(data + checksum), "big")

    base = values(bytes(20))
    tables = []
    for i in range(20):
        bit = [0] * 8
        for j in range(8):
            program = bytearray(20)
            program[i] = 1 << j
            bit[j] = values(bytes(program)) ^ base
        row = [0] * 256
        for b in range(1, 256):
            row[b] = row[b & (b - 1)] ^ bit[(b & -b).bit_length() - 1]
        tables.append(tuple(row))
    return base, tuple(tables)


_P2WPKH_BASE, _P2WPKH_TABLES = _p2wpkh_tables()


def p2wpkh_encode(h: bytes) -> str:
    """Return the mainnet bc1q... address of a 20-byte key hash (no length check)."""
    v = reduce(xor, map(getitem, _P2WPKH_TABLES, h), _P2WPKH_BASE)
    return _P2WPKH_PREFIX + v.to_bytes(38, "big").translate(_VALUE_TO_CHAR).decode("ascii")


def p2wpkh_hash_unchecked(address: str) -> bytes:
    """The key hash a lowercase bc1q address spells, without checking its checksum.

    For addresses the world made itself; ValueError when the characters spell no 20-byte hash.
    """
    return int(address[4:36].translate(_CHAR_TO_DIGIT), 32).to_bytes(20, "big")


def p2wpkh_decode(address: str) -> bytes | None:
    """Return the key hash of a canonical lowercase bc1q address, or None if it is not one."""
    try:
        h = p2wpkh_hash_unchecked(address)
    except (ValueError, OverflowError):
        return None
    # int() also tolerates '_', signs, spaces and non-ASCII digits; re-encoding and comparing
    # rejects those along with any bad checksum.
    return h if p2wpkh_encode(h) == address else None
