"""Hash functions: Bitcoin's from embit (its RIPEMD-160 works where OpenSSL lacks one), and
the Keccak-256 of Monero and Ethereum addresses.
"""

from __future__ import annotations

from Crypto.Hash import keccak
from embit.hashes import double_sha256 as sha256d
from embit.hashes import hash160, sha256, tagged_hash

__all__ = ["hash160", "keccak256", "sha256", "sha256d", "tagged_hash"]


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum and Monero use it (not NIST SHA3-256: other padding)."""
    return keccak.new(digest_bits=256, data=data).digest()
