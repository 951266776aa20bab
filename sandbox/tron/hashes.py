"""The two hashes Tron uses, from the engine's codec: SHA-256 (txIDs, block ids) and
Keccak-256 (addresses from public keys, ABI selectors, event topics)."""

from __future__ import annotations

from ..ledger.codec.hashes import keccak256, sha256

__all__ = ["keccak256", "sha256"]
