"""Bitcoin block headers: merkle root, 80-byte header, compact targets and proof of work."""

from __future__ import annotations

import hashlib
import struct

from .codec.compact import encode_compact_size
from .codec.hashes import sha256d

__all__ = [
    "BLOCK_VERSION",
    "GENESIS_BLOCK",
    "GENESIS_HASH",
    "REGTEST_BITS",
    "bits_to_target",
    "block_hash",
    "block_header",
    "merkle_block",
    "merkle_branch",
    "merkle_root",
    "mine",
    "parse_header",
    "subsidy",
    "WITNESS_RESERVED",
    "witness_commitment_script",
    "target_to_bits",
]

BLOCK_VERSION = 0x20000000
REGTEST_BITS = 0x207FFFFF
# Bitcoin's genesis block as mined in January 2009: the world's chain starts from it, so
# wallets that know mainnet's block 0 (bdk, Electrum) find their common ancestor.
GENESIS_BLOCK = bytes.fromhex(
    "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b2"
    "7ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c0101000000010000"
    "000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d01044554"
    "68652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f6620"
    "7365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0"
    "fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de"
    "5c384df7ba0b8d578a4c702b6bf11d5fac00000000"
)
GENESIS_HASH = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
# BIP141: the coinbase's witness holds this reserved value, and an output commits to it
# together with the root of the block's wtxids.
WITNESS_RESERVED = bytes(32)
WITNESS_COMMITMENT_PREFIX = b"\x6a\x24\xaa\x21\xa9\xed"
_HEADER = struct.Struct("<I32s32sIII")
_PREFIX = struct.Struct("<I32s32sII")
_NONCE = struct.Struct("<I")
_sha256 = hashlib.sha256


def subsidy(height: int) -> int:
    """The block reward in satoshis at a height, on Bitcoin's halving schedule."""
    halvings = height // 210_000
    return 0 if halvings >= 64 else (50 * 100_000_000) >> halvings


def merkle_root(txids_internal: list[bytes]) -> bytes:
    """Return Bitcoin's merkle root (internal order) of txids in internal order."""
    if not txids_internal:
        raise ValueError("a block has at least one transaction (the coinbase)")
    level = list(txids_internal)
    sha = _sha256
    while len(level) > 1:
        if len(level) & 1:
            level.append(level[-1])  # Bitcoin pairs an odd last node with itself
        level = [
            sha(sha(level[k] + level[k + 1]).digest()).digest() for k in range(0, len(level), 2)
        ]
    return level[0]


def witness_commitment_script(wtxids_internal: list[bytes]) -> bytes:
    """The coinbase output committing to a block's wtxids (the coinbase's own counted as 0)."""
    root = merkle_root([bytes(32), *wtxids_internal[1:]])
    return WITNESS_COMMITMENT_PREFIX + sha256d(root + WITNESS_RESERVED)


def merkle_branch(txids_internal: list[bytes], index: int) -> list[bytes]:
    """The sibling hashes (internal order) from the tx at index up to the merkle root."""
    if not 0 <= index < len(txids_internal):
        raise IndexError(f"tx index {index} out of range ({len(txids_internal)} transactions)")
    level = list(txids_internal)
    branch = []
    while len(level) > 1:
        if len(level) & 1:
            level.append(level[-1])
        branch.append(level[index ^ 1])
        level = [sha256d(level[k] + level[k + 1]) for k in range(0, len(level), 2)]
        index >>= 1
    return branch


def merkle_block(header: bytes, txids_internal: list[bytes], index: int) -> bytes:
    """bitcoind's merkleblock (BIP37) proving the one tx at index: the header, the tx count,
    the partial merkle tree's hashes and its flag bits."""
    n = len(txids_internal)
    if not 0 <= index < n:
        raise IndexError(f"tx index {index} out of range ({n} transactions)")

    def width(height: int) -> int:
        return (n + (1 << height) - 1) >> height

    def node(height: int, pos: int) -> bytes:
        if height == 0:
            return txids_internal[pos]
        left = node(height - 1, 2 * pos)
        right = node(height - 1, 2 * pos + 1) if 2 * pos + 1 < width(height - 1) else left
        return sha256d(left + right)

    hashes: list[bytes] = []
    bits: list[bool] = []

    def walk(height: int, pos: int) -> None:
        # As CPartialMerkleTree::TraverseAndBuild: descend only towards the matched tx.
        matched = pos << height <= index < (pos + 1) << height
        bits.append(matched)
        if height == 0 or not matched:
            hashes.append(node(height, pos))
            return
        walk(height - 1, 2 * pos)
        if 2 * pos + 1 < width(height - 1):
            walk(height - 1, 2 * pos + 1)

    height = 0
    while width(height) > 1:
        height += 1
    walk(height, 0)
    flags = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        if bit:
            flags[i >> 3] |= 1 << (i & 7)
    return b"".join(
        [
            header,
            struct.pack("<I", n),
            encode_compact_size(len(hashes)),
            *hashes,
            encode_compact_size(len(flags)),
            bytes(flags),
        ]
    )


def block_header(
    version: int, prev_hash_internal: bytes, merkle_root: bytes, time: int, bits: int, nonce: int
) -> bytes:
    """Return the 80-byte serialized block header."""
    if len(prev_hash_internal) != 32 or len(merkle_root) != 32:
        raise ValueError("prev_hash and merkle_root must be 32 bytes (internal order)")
    return _HEADER.pack(version, prev_hash_internal, merkle_root, time, bits, nonce)


def block_hash(header: bytes) -> str:
    """Return the block hash as display hex (double SHA-256 of the header, reversed)."""
    return sha256d(header)[::-1].hex()


def bits_to_target(bits: int) -> int:
    """Decode a compact "nBits" difficulty into the 256-bit target."""
    exponent = bits >> 24
    mantissa = bits & 0x007FFFFF
    if bits & 0x00800000 and mantissa:
        raise ValueError(f"negative compact target 0x{bits:08x}")
    shift = 8 * (exponent - 3)
    target = mantissa << shift if shift >= 0 else mantissa >> -shift
    if target >> 256:
        raise ValueError(f"compact target 0x{bits:08x} overflows 256 bits")
    return target


def target_to_bits(target: int) -> int:
    """Encode a 256-bit target as compact "nBits" (the inverse of bits_to_target, rounded down)."""
    size = (target.bit_length() + 7) // 8
    shift = 8 * (size - 3)
    mantissa = target >> shift if shift >= 0 else target << -shift
    if mantissa & 0x00800000:  # keep the sign bit clear
        mantissa >>= 8
        size += 1
    return (size << 24) | mantissa


def mine(
    version: int, prev: bytes, merkle: bytes, time: int, bits: int = REGTEST_BITS
) -> tuple[int, bytes]:
    """Find a nonce whose header hash meets the target; return (nonce, 80-byte header)."""
    if len(prev) != 32 or len(merkle) != 32:
        raise ValueError("prev and merkle must be 32 bytes (internal order)")
    target = bits_to_target(bits)
    prefix = _PREFIX.pack(version, prev, merkle, time, bits)
    pack = _NONCE.pack
    sha = _sha256
    from_bytes = int.from_bytes
    for nonce in range(1 << 32):
        header = prefix + pack(nonce)
        if from_bytes(sha(sha(header).digest()).digest(), "little") <= target:
            return nonce, header
    raise ValueError("nonce space exhausted: change the time or the coinbase and mine again")


def parse_header(header: bytes) -> dict:
    """Parse an 80-byte header into Esplora-style fields (hashes as display hex)."""
    if len(header) != 80:
        raise ValueError(f"block header must be 80 bytes, got {len(header)}")
    version, prev, merkle, time, bits, nonce = _HEADER.unpack(header)
    return {
        "id": block_hash(header),
        "version": version,
        "previousblockhash": None if prev == bytes(32) else prev[::-1].hex(),
        "merkle_root": merkle[::-1].hex(),
        "timestamp": time,
        "bits": bits,
        "nonce": nonce,
    }
