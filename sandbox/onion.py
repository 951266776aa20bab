"""Tor v3 onion addresses (rend-spec-v3) and the key files Tor keeps for a hidden service."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["OnionKey", "decode_onion", "is_valid_onion", "onion_address"]

_VERSION = b"\x03"
_CHECKSUM_PREFIX = b".onion checksum"
_SECRET_HEADER = b"== ed25519v1-secret: type0 ==\x00\x00\x00"
_PUBLIC_HEADER = b"== ed25519v1-public: type0 ==\x00\x00\x00"
_BASE32_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz234567")
_LABEL_LENGTH = 56  # base32 of 35 bytes (pubkey 32 + checksum 2 + version 1), no padding


def _checksum(public_key: bytes, version: bytes = _VERSION) -> bytes:
    """Return the 2-byte address checksum of a public key and version."""
    return hashlib.sha3_256(_CHECKSUM_PREFIX + public_key + version).digest()[:2]


def onion_address(public_key: bytes) -> str:
    """Return the v3 ".onion" address of a 32-byte ed25519 public key."""
    if len(public_key) != 32:
        raise ValueError(f"ed25519 public key must be 32 bytes, got {len(public_key)}")
    raw = public_key + _checksum(public_key) + _VERSION
    return base64.b32encode(raw).decode("ascii").lower() + ".onion"


def decode_onion(name: str) -> bytes:
    """Return the ed25519 public key of a v3 onion name (".onion" and subdomains optional)."""
    label = name.strip().lower().rstrip(".")
    if label.endswith(".onion"):
        label = label[: -len(".onion")]
    # Tor ignores subdomains: only the label just left of ".onion" is the address.
    label = label.rsplit(".", 1)[-1]
    if len(label) == 16:
        raise ValueError(f"{name!r} is a v2 onion address (16 characters); only v3 is supported")
    if len(label) != _LABEL_LENGTH:
        raise ValueError(
            f"{name!r} is not a v3 onion address: {len(label)} characters, expected 56"
        )
    bad = set(label) - _BASE32_CHARS
    if bad:
        raise ValueError(
            f"{name!r} is not a v3 onion address: invalid base32 character(s) "
            f"{''.join(sorted(bad))!r} (allowed: a-z, 2-7)"
        )
    raw = base64.b32decode(label.upper())
    public_key, checksum, version = raw[:32], raw[32:34], raw[34:]
    if version != _VERSION:
        raise ValueError(f"{name!r} has onion version byte 0x{version.hex()}, expected 0x03 (v3)")
    if checksum != _checksum(public_key, version):
        raise ValueError(f"{name!r} has a bad onion checksum (typo or corrupted address)")
    return public_key


def is_valid_onion(name: str) -> bool:
    """Return True when name is a well-formed v3 onion address with a valid checksum."""
    try:
        decode_onion(name)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


def _expanded_secret(seed: bytes) -> bytes:
    """Return ed25519's 64-byte expanded secret: SHA-512(seed), scalar half clamped."""
    h = bytearray(hashlib.sha512(seed).digest())
    h[0] &= 248
    h[31] &= 63
    h[31] |= 64
    return bytes(h)


@dataclass(frozen=True)
class OnionKey:
    """A hidden service's ed25519 identity key and the v3 onion address it yields."""

    seed: bytes
    public_key: bytes
    address: str

    def __repr__(self) -> str:
        """Show the address only, so the seed does not end up in logs."""
        return f"OnionKey(address={self.address!r})"

    @classmethod
    def from_seed(cls, seed: bytes) -> OnionKey:
        """Derive the key pair and address from a 32-byte ed25519 seed."""
        seed = bytes(seed)
        if len(seed) != 32:
            raise ValueError(f"ed25519 seed must be 32 bytes, got {len(seed)}")
        public_key = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        return cls(seed=seed, public_key=public_key, address=onion_address(public_key))

    def secret_key_file(self) -> bytes:
        """Return the exact bytes of Tor's hs_ed25519_secret_key file for this key."""
        # Tor stores the expanded key, not the seed, so the seed cannot be recovered from it.
        return _SECRET_HEADER + _expanded_secret(self.seed)

    def public_key_file(self) -> bytes:
        """Return the exact bytes of Tor's hs_ed25519_public_key file for this key."""
        return _PUBLIC_HEADER + self.public_key

    def hostname_file(self) -> str:
        """Return the content of Tor's hostname file: the address and a newline."""
        return self.address + "\n"
