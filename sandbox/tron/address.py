"""Tron addresses: 0x41 + the last 20 bytes of Keccak-256 of the public key.

Three forms of one address: the 21 raw bytes, the hex form java-tron's API uses
(`41...`, 42 digits) and base58check (`T...`, 34 characters) that wallets show.
"""

from __future__ import annotations

from ..ledger.codec.base58 import base58check_decode, base58check_encode
from .errors import InvalidTronAddress
from .hashes import keccak256

__all__ = [
    "PREFIX",
    "InvalidTronAddress",
    "from_public_key",
    "is_address",
    "to_base58",
    "to_bytes",
    "to_hex",
]

PREFIX = 0x41


def from_public_key(public_key: bytes) -> bytes:
    """The 21-byte address of a secp256k1 public key (33-byte compressed or 65-byte)."""
    if len(public_key) == 33:
        from coincurve import PublicKey

        public_key = PublicKey(public_key).format(compressed=False)
    if len(public_key) != 65 or public_key[0] != 4:
        raise ValueError("not a secp256k1 public key")
    return bytes([PREFIX]) + keccak256(public_key[1:])[-20:]


def to_bytes(address: str | bytes) -> bytes:
    """The 21 raw bytes of an address given as T..., 41... hex, or raw bytes.

    InvalidTronAddress when it is none of them (a bad checksum, another prefix).
    """
    if type(address) is bytes and len(address) == 21 and address[0] == PREFIX:
        return address  # already the raw form (the common case, checked the same way)
    if isinstance(address, bytes | bytearray):
        raw = bytes(address)
    elif len(address) == 42 and address[:2].lower() == "41":
        try:
            raw = bytes.fromhex(address)
        except ValueError:
            raise InvalidTronAddress(f"{address!r}: not hex") from None
    elif len(address) == 34 and address.startswith("T"):
        try:
            raw = base58check_decode(address)
        except ValueError as e:
            raise InvalidTronAddress(f"{address!r}: {e}") from None
    else:
        raise InvalidTronAddress(f"{address!r}: not a Tron address (T... or 41...)")
    if len(raw) != 21 or raw[0] != PREFIX:
        raise InvalidTronAddress(f"{address!r}: not a Tron address (prefix 0x41, 21 bytes)")
    return raw


def to_base58(address: str | bytes) -> str:
    """The T... form."""
    return base58check_encode(to_bytes(address))


def to_hex(address: str | bytes) -> str:
    """The 41... hex form java-tron's API answers with."""
    return to_bytes(address).hex()


def is_address(text: str) -> bool:
    """Whether text is a Tron address in the T... or 41... form."""
    try:
        to_bytes(text)
    except InvalidTronAddress:
        return False
    return True
