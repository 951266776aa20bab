"""The two hashes Tron uses: SHA-256 (txIDs, block ids, base58check) and Keccak-256
(addresses from public keys, ABI selectors, event topics)."""

from __future__ import annotations

import hashlib

from Crypto.Hash import keccak

__all__ = ["keccak256", "sha256"]


def sha256(data: bytes) -> bytes:
    """SHA-256 of data."""
    return hashlib.sha256(data).digest()


def keccak256(data: bytes) -> bytes:
    """Keccak-256 of data (the pre-standard padding Ethereum and Tron use, not SHA3-256)."""
    return keccak.new(digest_bits=256, data=data).digest()
