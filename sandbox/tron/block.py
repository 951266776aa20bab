"""Tron blocks: a header signed by the witness whose turn it is, every 3 seconds.

A block id is the block's number (8 bytes, big-endian) followed by the last 24 bytes of the
SHA-256 of its raw header, so the number can be read off the id. The header commits to its
transactions through txTrieRoot, java-tron's Merkle root over the SHA-256 of each whole
serialized transaction (an odd node is carried up unpaired; 32 zero bytes for none).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import protobuf
from .hashes import sha256
from .keys import TronKey, tron_secret

__all__ = [
    "BLOCK_MS",
    "BLOCK_VERSION",
    "WITNESS_COUNT",
    "Witness",
    "block_id",
    "header_raw",
    "merkle_root",
    "tx_trie_root",
    "witness_signature",
    "witnesses",
]

BLOCK_MS = 3000
BLOCK_VERSION = 30  # the header version java-tron 4.7 writes
WITNESS_COUNT = 27  # the active super representatives that take turns

# Invented producers: a trainee should not mistake a sandbox witness for a real one.
_NAMES = [
    "Aurora Node", "Basalt Staking", "Cobalt Relay", "Delta Ridge", "Ember Pool",
    "Fjord Validators", "Granite Works", "Harbor Light", "Iris Compute", "Juniper Chain",
    "Kestrel Labs", "Lumen Vault", "Meridian SR", "Nimbus Forge", "Obsidian Gate",
    "Pinnacle Nodes", "Quartz Ledger", "Riverbend", "Sable Systems", "Tundra Stake",
    "Umber Fields", "Vesper Net", "Willow Core", "Xenon Hall", "Yarrow Point",
    "Zephyr Bay", "Amber Coast",
]  # fmt: skip


@dataclass(frozen=True)
class Witness:
    """A block producer: its name and URL as `listwitnesses` shows them, and its key."""

    name: str
    url: str
    key: TronKey


def witnesses(seed: int | str) -> list[Witness]:
    """The world's 27 witnesses, in the order they produce (block n: witness n % 27)."""
    out = []
    for i, name in enumerate(_NAMES):
        slug = name.lower().replace(" ", "")
        key = TronKey(tron_secret(seed, f"witness:{i}"))
        out.append(Witness(name, f"https://{slug}.example", key))
    return out


def _bytes32(value: bytes | str) -> bytes:
    raw = bytes.fromhex(value) if isinstance(value, str) else bytes(value)
    if len(raw) != 32:
        raise ValueError("a block hash is 32 bytes")
    return raw


def header_raw(
    number: int,
    timestamp_ms: int,
    parent_id: bytes | str,
    tx_trie_root: bytes | str,
    witness_address: bytes,
    version: int = BLOCK_VERSION,
) -> bytes:
    """The protobuf bytes of BlockHeader.raw (what the id and the signature are made from)."""
    message = protobuf.message_class("BlockHeader.raw")(
        timestamp=timestamp_ms,
        txTrieRoot=_bytes32(tx_trie_root),
        parentHash=_bytes32(parent_id),
        number=number,
        witness_address=witness_address,
        version=version,
    )
    return message.SerializeToString()


def witness_signature(
    key: TronKey, number: int, timestamp_ms: int, parent_id: bytes | str, tx_trie_root: bytes | str
) -> str:
    """The hex signature of block number by its witness (key): over the SHA-256 of its raw
    header (version 0 for the genesis block). RFC 6979 makes it the same bytes every time,
    so the world keeps no block's signature: readers make it again from the witness's key."""
    version = BLOCK_VERSION if number else 0
    raw = header_raw(number, timestamp_ms, parent_id, tx_trie_root, key.address, version)
    return key.sign(sha256(raw)).hex()


def block_id(number: int, raw_header: bytes) -> str:
    """The 64-digit block id: the number, then the tail of the header's hash."""
    return (number.to_bytes(8, "big") + sha256(raw_header)[8:]).hex()


def tx_trie_root(transactions: list[bytes]) -> bytes:
    """The Merkle root over whole serialized transactions (Transaction.to_protobuf())."""
    return merkle_root([sha256(tx) for tx in transactions])


def merkle_root(leaves: list[bytes]) -> bytes:
    """The Merkle root over leaf hashes: pairs hashed level by level, an odd last one carried up."""
    level = leaves
    if not level:
        return bytes(32)
    while len(level) > 1:
        level = [
            sha256(level[i] + level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
    return level[0]
