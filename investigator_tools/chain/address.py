"""Bitcoin mainnet addresses: output scripts to addresses and back (base58check, BIP173/BIP350).

Written for the sync's hot path: a P2WPKH address (most outputs) is encoded ten bits at
a time with a precomputed checksum table, not symbol by symbol.
"""

from __future__ import annotations

import hashlib
from typing import Literal, overload

from ..errors import InputError

__all__ = [
    "address_to_script",
    "base58check_decode",
    "base58check_encode",
    "is_address",
    "normalize_address",
    "script_to_address",
    "script_type",
]

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(B58)}
_B58_PAIRS = [B58[i // 58] + B58[i % 58] for i in range(58 * 58)]
CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_BECH32M = 0x2BC830A3
HRP = "bc"
P2PKH_VERSION = 0x00
P2SH_VERSION = 0x05


def _sha256d(data: bytes) -> bytes:
    """Double SHA-256."""
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


# -- base58check ---------------------------------------------------------------------------


def base58check_encode(payload: bytes) -> str:
    """Base58 of payload followed by its 4-byte double-SHA-256 checksum."""
    data = payload + _sha256d(payload)[:4]
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
    if len(data) < 5 or _sha256d(data[:-4])[:4] != data[-4:]:
        raise ValueError("bad base58check checksum")
    return data[:-4]


# -- bech32 / bech32m ------------------------------------------------------------------------


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


@overload
def _convertbits(data, frombits: int, tobits: int, pad: Literal[True]) -> list[int]: ...
@overload
def _convertbits(data, frombits: int, tobits: int, pad: bool) -> list[int] | None: ...
def _convertbits(data, frombits: int, tobits: int, pad: bool) -> list[int] | None:
    """Regroup bits (8 to 5 or back); None if the padding is invalid."""
    acc = bits = 0
    out = []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or (acc << (tobits - bits)) & maxv:
        return None
    return out


def _checksum(hrp: str, data: list[int], const: int) -> list[int]:
    """The six checksum symbols."""
    mod = _polymod(_hrp_expand(hrp) + data + [0] * 6) ^ const
    return [(mod >> 5 * (5 - i)) & 31 for i in range(6)]


def segwit_encode(version: int, program: bytes) -> str:
    """A bc1 address (bech32 for version 0, bech32m above)."""
    data = [version] + _convertbits(program, 8, 5, True)
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
    program = _convertbits(data[1:-6], 5, 8, False)
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
        return _polymod(prefix + _convertbits(program, 8, 5, True) + [0] * 6)

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


def p2wpkh_address(h: bytes) -> str:
    """The bc1q address of a 20-byte key hash, fast."""
    mod = _P2WPKH_ZERO
    for table, byte in zip(_P2WPKH_TABLES, h, strict=True):
        mod ^= table[byte]
    n = int.from_bytes(h, "big")
    pairs = _PAIRS32
    # 160 bits are 32 symbols: two per 10-bit slice.
    body = "".join([pairs[(n >> s) & 1023] for s in _SHIFTS])
    return "bc1q" + body + pairs[mod >> 20] + pairs[(mod >> 10) & 1023] + pairs[mod & 1023]


# -- scripts -----------------------------------------------------------------------------------


def script_type(script: bytes) -> str:
    """A short name of an output script's type, as Esplora names them."""
    n = len(script)
    if n == 22 and script[0] == 0 and script[1] == 20:
        return "v0_p2wpkh"
    if n == 23 and script[0] == 0xA9 and script[1] == 20 and script[22] == 0x87:
        return "p2sh"
    if n == 25 and script[:3] == b"\x76\xa9\x14" and script[23:] == b"\x88\xac":
        return "p2pkh"
    if n == 34 and script[0] == 0 and script[1] == 32:
        return "v0_p2wsh"
    if n == 34 and script[0] == 0x51 and script[1] == 32:
        return "v1_p2tr"
    if n and script[0] == 0x6A:
        return "op_return"
    if (n == 35 and script[0] == 33 or n == 67 and script[0] == 65) and script[-1] == 0xAC:
        return "p2pk"
    return "unknown"


def script_to_address(script: bytes) -> str | None:
    """The address an output script pays, or None (OP_RETURN, bare or nonstandard scripts)."""
    n = len(script)
    if n == 22 and script[0] == 0 and script[1] == 20:
        return p2wpkh_address(script[2:])
    if n == 23 and script[0] == 0xA9 and script[1] == 20 and script[22] == 0x87:
        return base58check_encode(b"\x05" + script[2:22])
    if n == 25 and script[:3] == b"\x76\xa9\x14" and script[23:] == b"\x88\xac":
        return base58check_encode(b"\x00" + script[3:23])
    if 4 <= n <= 42 and script[1] == n - 2 and (script[0] == 0 or 0x51 <= script[0] <= 0x60):
        version = 0 if script[0] == 0 else script[0] - 0x50
        if version or n in (22, 34):
            return segwit_encode(version, script[2:])
    return None


def address_to_script(address: str) -> bytes:
    """The output script of a mainnet address; InputError naming the problem otherwise."""
    text = address.strip()
    if not text:
        raise InputError("empty address")
    hrp = text[: text.rfind("1")].lower() if "1" in text else ""
    if hrp in ("tb", "bcrt"):
        raise InputError(f"{address!r} is a testnet/regtest address; the sandbox uses mainnet")
    if hrp == HRP:
        try:
            version, program = segwit_decode(text)
        except ValueError as e:
            raise InputError(f"{address!r} is not a valid Bitcoin address ({e})") from None
        return bytes([0x50 + version if version else 0, len(program)]) + program
    try:
        payload = base58check_decode(text)
    except ValueError as e:
        raise InputError(f"{address!r} is not a valid Bitcoin address ({e})") from None
    if len(payload) == 21 and payload[0] in (0x6F, 0xC4):
        raise InputError(f"{address!r} is a testnet address; the sandbox uses mainnet")
    if len(payload) != 21 or payload[0] not in (P2PKH_VERSION, P2SH_VERSION):
        raise InputError(f"{address!r} is not a mainnet P2PKH or P2SH address")
    if payload[0] == P2PKH_VERSION:
        return b"\x76\xa9\x14" + payload[1:] + b"\x88\xac"
    return b"\xa9\x14" + payload[1:] + b"\x87"


def is_address(text: str) -> bool:
    """Whether text is a valid mainnet address."""
    try:
        address_to_script(text)
    except InputError:
        return False
    return True


def normalize_address(text: str) -> str:
    """A mainnet address in its canonical form (bech32 in lower case); InputError if invalid."""
    script = address_to_script(text)
    return script_to_address(script) or text.strip()
