"""Bitcoin mainnet addresses: Base58Check (P2PKH, P2SH) and bech32/bech32m (BIP173/BIP350).

The encodings themselves live in `codec`; this module knows which address is which script.
The codec names are re-exported here for the callers that import them with addresses.
"""

from __future__ import annotations

from .codec.base58 import base58check_decode, base58check_encode
from .codec.bech32 import (
    MAINNET_HRP,
    bech32_decode,
    bech32_encode,
    p2wpkh_decode,
    p2wpkh_encode,
    segwit_decode,
    segwit_encode,
)
from .codec.errors import InvalidAddress
from .codec.hashes import hash160

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

_P2PKH_VERSION = 0x00
_P2SH_VERSION = 0x05
_BASE58_KINDS = {_P2PKH_VERSION: "p2pkh", _P2SH_VERSION: "p2sh"}
_BASE58_TESTNET = {0x6F: "testnet P2PKH", 0xC4: "testnet P2SH"}
_KIND_VERSION = {"p2pkh": b"\x00", "p2sh": b"\x05"}
# Real Base58Check addresses are 26-35 characters; the cap keeps hostile input cheap.
_MAX_BASE58_LENGTH = 50
_HRP = MAINNET_HRP


def address_from_hash160(kind: str, h: bytes) -> str:
    """Return the mainnet address of kind "p2pkh", "p2sh" or "p2wpkh" for a 20-byte hash."""
    if len(h) != 20:
        raise ValueError(f"hash160 must be 20 bytes, got {len(h)}")
    if kind == "p2wpkh":
        return p2wpkh_encode(h)
    version = _KIND_VERSION.get(kind)
    if version is None:
        raise ValueError(f"unknown address kind {kind!r}, expected p2pkh, p2sh or p2wpkh")
    return base58check_encode(version + h)


def p2pkh_address(pubkey: bytes) -> str:
    """Return the 1... P2PKH address of a public key."""
    return base58check_encode(b"\x00" + hash160(pubkey))


def p2sh_p2wpkh_address(pubkey: bytes) -> str:
    """Return the 3... P2SH address wrapping the P2WPKH redeem script of a public key."""
    return base58check_encode(b"\x05" + hash160(b"\x00\x14" + hash160(pubkey)))


def p2wpkh_address(pubkey: bytes) -> str:
    """Return the bc1q... P2WPKH address of a (compressed) public key."""
    return p2wpkh_encode(hash160(pubkey))


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
        h = p2wpkh_decode(address)
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
        h = p2wpkh_decode(address)
        if h is not None:
            return b"\x00\x14" + h
    kind, h = decode_address(address)
    return _SCRIPT_PREFIX[kind] + h + _SCRIPT_SUFFIX.get(kind, b"")


def address_from_script(script: bytes) -> str | None:
    """Return the mainnet address a standard scriptPubKey pays to, or None (P2PK, OP_RETURN...)."""
    n = len(script)
    if n == 22 and script[0] == 0x00 and script[1] == 0x14:
        return p2wpkh_encode(script[2:])
    if n == 25 and script[:3] == b"\x76\xa9\x14" and script[23:] == b"\x88\xac":
        return base58check_encode(b"\x00" + script[3:23])
    if n == 23 and script[:2] == b"\xa9\x14" and script[22] == 0x87:
        return base58check_encode(b"\x05" + script[2:22])
    if n == 34 and script[1] == 0x20 and script[0] in (0x00, 0x51):
        return segwit_encode(_HRP, 0 if script[0] == 0 else 1, script[2:])
    return None
