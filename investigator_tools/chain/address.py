"""Bitcoin mainnet addresses: output scripts to addresses and back.

The encodings (base58check, BIP173/BIP350) live in `codec`; this module knows which script
is which address.
"""

from __future__ import annotations

from ..errors import InputError
from .codec.base58 import base58check_decode, base58check_encode
from .codec.bech32 import HRP, p2wpkh_encode, segwit_decode, segwit_encode

__all__ = [
    "address_to_script",
    "base58check_decode",
    "base58check_encode",
    "is_address",
    "normalize_address",
    "script_to_address",
    "script_type",
]

P2PKH_VERSION = 0x00
P2SH_VERSION = 0x05


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
        return p2wpkh_encode(script[2:])
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
