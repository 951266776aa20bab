"""The chains' hash functions: Bitcoin's sha256d (txids, block hashes, checksums), hash160
and tagged hashes; SHA-256 (Tron's txIDs and block ids) and Keccak-256 (Tron's addresses,
ABI selectors and event topics)."""

from __future__ import annotations

import hashlib

from Crypto.Hash import keccak as _keccak
from embit.hashes import tagged_hash

from .ripemd160 import ripemd160 as _pure_ripemd160

__all__ = ["hash160", "keccak256", "ripemd160", "sha256", "sha256d", "tagged_hash"]

_sha256 = hashlib.sha256

try:
    hashlib.new("ripemd160", b"")
    _HAVE_RIPEMD = True
except ValueError:  # OpenSSL 3 without the legacy provider
    _HAVE_RIPEMD = False


def sha256(data: bytes) -> bytes:
    """Return SHA256(data)."""
    return _sha256(data).digest()


def keccak256(data: bytes) -> bytes:
    """Keccak-256 of data (the pre-standard padding Ethereum and Tron use, not SHA3-256)."""
    return _keccak.new(digest_bits=256, data=data).digest()


def sha256d(data: bytes) -> bytes:
    """Return SHA256(SHA256(data)), Bitcoin's txid / block-hash / checksum hash."""
    return _sha256(_sha256(data).digest()).digest()


if _HAVE_RIPEMD:
    # Copying a ready context skips OpenSSL's per-call algorithm lookup: about 2x faster
    # than embit.hashes.hash160, and a world build hashes every key it makes.
    _RIPEMD_TEMPLATE = hashlib.new("ripemd160")

    def ripemd160(data: bytes) -> bytes:
        """Return RIPEMD160(data)."""
        h = _RIPEMD_TEMPLATE.copy()
        h.update(data)
        return h.digest()

    def hash160(data: bytes) -> bytes:
        """Return RIPEMD160(SHA256(data)), Bitcoin's 20-byte public-key / script hash."""
        h = _RIPEMD_TEMPLATE.copy()
        h.update(_sha256(data).digest())
        return h.digest()

else:
    ripemd160 = _pure_ripemd160

    def hash160(data: bytes) -> bytes:
        """Return RIPEMD160(SHA256(data)), Bitcoin's 20-byte public-key / script hash."""
        return _pure_ripemd160(_sha256(data).digest())
