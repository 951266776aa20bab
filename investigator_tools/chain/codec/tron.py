"""Tron addresses: 0x41 and the 20-byte account hash, in Base58Check (T..., 34 characters)
or hex (41...), and the account hash of a secp256k1 public key (Keccak-256)."""

from __future__ import annotations

from .base58 import base58check_decode, base58check_encode
from .hashes import keccak256

__all__ = ["PREFIX", "is_tron_address", "tron_address", "tron_hex", "tron_from_pubkey"]

PREFIX = b"\x41"


def tron_address(text_or_bytes: str | bytes) -> str:
    """The T... form of a Tron address given as T..., 41... hex or 21 raw bytes.

    ValueError when it is none of them (a bad checksum included).
    """
    if isinstance(text_or_bytes, bytes):
        raw = text_or_bytes
    else:
        text = text_or_bytes.strip()
        if len(text) == 42 and text[:2] == "41":
            try:
                raw = bytes.fromhex(text)
            except ValueError:
                raise ValueError(f"{text!r}: not hex") from None
        elif text.startswith("0x") and len(text) == 42:
            raw = PREFIX + bytes.fromhex(text[2:])
        else:
            if len(text) != 34 or not text.startswith("T"):
                raise ValueError(f"{text!r}: a Tron address is 34 characters starting with T")
            raw = base58check_decode(text)
    if len(raw) != 21 or raw[:1] != PREFIX:
        raise ValueError("a Tron address is 0x41 and 20 bytes")
    return base58check_encode(raw)


def tron_hex(address: str) -> str:
    """The 41... hex form of a T... address (ValueError when malformed)."""
    return base58check_decode(tron_address(address)).hex()


def is_tron_address(text: str) -> bool:
    """Whether text is a T... address with a valid checksum."""
    if len(text) != 34 or not text.startswith("T"):
        return False
    try:
        tron_address(text)
    except ValueError:
        return False
    return True


def tron_from_pubkey(uncompressed: bytes) -> str:
    """The address of a public key given uncompressed (65 bytes, 0x04 first)."""
    if len(uncompressed) != 65 or uncompressed[0] != 4:
        raise ValueError("an uncompressed public key is 65 bytes starting with 0x04")
    return base58check_encode(PREFIX + keccak256(uncompressed[1:])[-20:])
