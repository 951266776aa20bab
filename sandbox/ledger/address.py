"""Bitcoin mainnet addresses: Base58Check (P2PKH, P2SH) and bech32/bech32m (BIP173/BIP350)."""

from __future__ import annotations

import hashlib
from functools import reduce
from operator import getitem, xor
from typing import Literal, overload

from .base58 import InvalidAddress, b58encode, base58check_decode
from .keys import hash160

__all__ = [
    "InvalidAddress",
    "address_from_hash160",
    "address_from_script",
    "bech32_decode",
    "bech32_encode",
    "decode_address",
    "is_valid_address",
    "p2pkh_address",
    "p2sh_p2wpkh_address",
    "p2wpkh_address",
    "script_from_hash160",
    "script_pubkey",
    "segwit_decode",
    "segwit_encode",
]


_sha256 = hashlib.sha256

# ---------------------------------------------------------------- Base58Check addresses

_P2PKH_VERSION = 0x00
_P2SH_VERSION = 0x05
_BASE58_KINDS = {_P2PKH_VERSION: "p2pkh", _P2SH_VERSION: "p2sh"}
_BASE58_TESTNET = {0x6F: "testnet P2PKH", 0xC4: "testnet P2SH"}
_KIND_VERSION = {"p2pkh": b"\x00", "p2sh": b"\x05"}
# Real Base58Check addresses are 26-35 characters; the cap keeps hostile input cheap.
_MAX_BASE58_LENGTH = 50


# ---------------------------------------------------------------- bech32 / bech32m

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {c: i for i, c in enumerate(BECH32_CHARSET)}
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3
_ENCODING_CONST = {"bech32": BECH32_CONST, "bech32m": BECH32M_CONST}
# _POLY_STEP[b] is the xor that the 5 top bits b of the checksum state contribute per step.
_POLY_STEP = tuple(reduce(xor, (g for i, g in enumerate(_GEN) if b >> i & 1), 0) for b in range(32))
_MAX_BECH32_LENGTH = 90
_HRP = "bc"
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


@overload
def _convertbits(data, frombits: int, tobits: int, pad: Literal[True]) -> list[int]: ...
@overload
def _convertbits(data, frombits: int, tobits: int, pad: bool) -> list[int] | None: ...
def _convertbits(data, frombits: int, tobits: int, pad: bool) -> list[int] | None:
    """Regroup bits; return None when the leftover padding is invalid (BIP173 rules)."""
    acc = 0
    bits = 0
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
    elif bits >= frombits or ((acc << (tobits - bits)) & maxv):
        return None
    return out


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
    return bech32_encode(hrp, [version] + _convertbits(program, 8, 5, True), encoding)


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
    program = _convertbits(data[1:], 5, 8, False)
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

_P2WPKH_PREFIX = _HRP + "1q"
# Every 5-bit value of a bc1q address (32 for the program, 6 for the checksum) is a GF(2)-affine
# function of the program bits. So the address's values, one per byte of a 38-byte integer, are
# a constant xor one table entry per program byte: 20 lookups instead of bit regrouping and 38
# polymod steps. A translate then maps values 0..31 to characters at C speed.
_VALUE_TO_CHAR = bytes.maketrans(bytes(range(32)), BECH32_CHARSET.encode())
# Base 32 digits 0-9a-v let int(..., 32) regroup 5-bit values at C speed when decoding.
_CHAR_TO_DIGIT = str.maketrans(BECH32_CHARSET, "0123456789abcdefghijklmnopqrstuv")


def _p2wpkh_tables() -> tuple[int, tuple[tuple[int, ...], ...]]:
    """Precompute the affine map from a 20-byte program to its address values (see above)."""
    prefix = _polymod(_hrp_expand(_HRP) + [0])

    def values(program: bytes) -> int:
        """Return the address's 38 values, one per byte, as an integer."""
        data = _convertbits(program, 8, 5, True)
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


def _p2wpkh_from_hash(h: bytes) -> str:
    """Return the bc1q... address of a 20-byte hash160 (no length check)."""
    v = reduce(xor, map(getitem, _P2WPKH_TABLES, h), _P2WPKH_BASE)
    return _P2WPKH_PREFIX + v.to_bytes(38, "big").translate(_VALUE_TO_CHAR).decode("ascii")


def _p2wpkh_fast_decode(address: str) -> bytes | None:
    """Return the hash160 of a canonical lowercase bc1q address, or None if it is not one."""
    try:
        n = int(address[4:36].translate(_CHAR_TO_DIGIT), 32)
        h = n.to_bytes(20, "big")
    except (ValueError, OverflowError):
        return None
    # int() also tolerates '_', signs, spaces and non-ASCII digits; re-encoding and comparing
    # rejects those along with any bad checksum.
    return h if _p2wpkh_from_hash(h) == address else None


# ---------------------------------------------------------------- addresses and scripts


def _base58_from_hash(version: bytes, h: bytes) -> str:
    """Return the Base58Check address of a version byte and a 20-byte hash."""
    payload = version + h
    return b58encode(payload + _sha256(_sha256(payload).digest()).digest()[:4])


def address_from_hash160(kind: str, h: bytes) -> str:
    """Return the mainnet address of kind "p2pkh", "p2sh" or "p2wpkh" for a 20-byte hash."""
    if len(h) != 20:
        raise ValueError(f"hash160 must be 20 bytes, got {len(h)}")
    if kind == "p2wpkh":
        return _p2wpkh_from_hash(h)
    version = _KIND_VERSION.get(kind)
    if version is None:
        raise ValueError(f"unknown address kind {kind!r}, expected p2pkh, p2sh or p2wpkh")
    return _base58_from_hash(version, h)


def p2pkh_address(pubkey: bytes) -> str:
    """Return the 1... P2PKH address of a public key."""
    return _base58_from_hash(b"\x00", hash160(pubkey))


def p2sh_p2wpkh_address(pubkey: bytes) -> str:
    """Return the 3... P2SH address wrapping the P2WPKH redeem script of a public key."""
    return _base58_from_hash(b"\x05", hash160(b"\x00\x14" + hash160(pubkey)))


def p2wpkh_address(pubkey: bytes) -> str:
    """Return the bc1q... P2WPKH address of a (compressed) public key."""
    return _p2wpkh_from_hash(hash160(pubkey))


_SCRIPT_PREFIX = {
    "p2pkh": b"\x76\xa9\x14",
    "p2sh": b"\xa9\x14",
    "p2wpkh": b"\x00\x14",
    "p2wsh": b"\x00\x20",
    "p2tr": b"\x51\x20",
}
_SCRIPT_SUFFIX = {"p2pkh": b"\x88\xac", "p2sh": b"\x87"}
_PROGRAM_LENGTH = {"p2pkh": 20, "p2sh": 20, "p2wpkh": 20, "p2wsh": 32, "p2tr": 32}
_SEGWIT_KINDS = {(0, 20): "p2wpkh", (0, 32): "p2wsh", (1, 32): "p2tr"}


def script_from_hash160(kind: str, h: bytes) -> bytes:
    """Return the scriptPubKey of a decoded address (kind, hash or witness program)."""
    size = _PROGRAM_LENGTH.get(kind)
    if size is None:
        raise ValueError(f"unknown address kind {kind!r}")
    if len(h) != size:
        raise ValueError(f"{kind} needs a {size}-byte hash or program, got {len(h)}")
    return _SCRIPT_PREFIX[kind] + h + _SCRIPT_SUFFIX.get(kind, b"")


def decode_address(address: str) -> tuple[str, bytes]:
    """Return (kind, hash or program) of a mainnet address; raise InvalidAddress saying why."""
    if not isinstance(address, str):
        raise InvalidAddress(f"address must be a string, got {type(address).__name__}")
    if len(address) == 42 and address.startswith("bc1q"):
        h = _p2wpkh_fast_decode(address)
        if h is not None:
            return "p2wpkh", h
    if not address:
        raise InvalidAddress("empty address")
    if address != address.strip():
        raise InvalidAddress("leading or trailing whitespace")
    lower = address.lower()
    if lower.startswith(("bc1", "tb1", "bcrt1", "sb1")):
        version, program = segwit_decode(_HRP, address)
        kind = _SEGWIT_KINDS.get((version, len(program)))
        if kind is None:
            raise InvalidAddress(
                f"witness v{version} program of {len(program)} bytes is not a supported "
                "address kind (p2wpkh, p2wsh, p2tr)"
            )
        return kind, program
    if len(address) > _MAX_BASE58_LENGTH:
        raise InvalidAddress(f"too long: {len(address)} characters for a Base58 address")
    payload = base58check_decode(address)
    version = payload[0]
    kind = _BASE58_KINDS.get(version)
    if kind is None:
        network = _BASE58_TESTNET.get(version)
        if network:
            raise InvalidAddress(f"{network} address (version byte 0x{version:02x}), not mainnet")
        raise InvalidAddress(
            f"unknown version byte 0x{version:02x} (mainnet P2PKH is 0x00, P2SH is 0x05)"
        )
    if len(payload) != 21:
        raise InvalidAddress(f"wrong length: {len(payload) - 1}-byte hash, expected 20")
    return kind, payload[1:]


def is_valid_address(text: str) -> bool:
    """Return True when text is a valid mainnet address of a supported kind."""
    try:
        decode_address(text)
    except InvalidAddress:
        return False
    return True


def script_pubkey(address: str) -> bytes:
    """Return the output script (scriptPubKey) paying to a mainnet address."""
    if len(address) == 42 and address.startswith("bc1q"):
        h = _p2wpkh_fast_decode(address)
        if h is not None:
            return b"\x00\x14" + h
    kind, h = decode_address(address)
    return _SCRIPT_PREFIX[kind] + h + _SCRIPT_SUFFIX.get(kind, b"")


def address_from_script(script: bytes) -> str | None:
    """Return the mainnet address a standard scriptPubKey pays to, or None (P2PK, OP_RETURN...)."""
    n = len(script)
    if n == 22 and script[0] == 0x00 and script[1] == 0x14:
        return _p2wpkh_from_hash(script[2:])
    if n == 25 and script[:3] == b"\x76\xa9\x14" and script[23:] == b"\x88\xac":
        return _base58_from_hash(b"\x00", script[3:23])
    if n == 23 and script[:2] == b"\xa9\x14" and script[22] == 0x87:
        return _base58_from_hash(b"\x05", script[2:22])
    if n == 34 and script[1] == 0x20 and script[0] in (0x00, 0x51):
        return segwit_encode(_HRP, 0 if script[0] == 0 else 1, script[2:])
    return None
