"""Raw Bitcoin blocks (BIP144 serialization) parsed and verified with the toolkit's own code.

`parse_block` walks a block once with struct and computes every txid itself; `verify`
checks what an analyst relies on: the header hashes to the block hash asked for, it links
to the previous block, the txids hash up to the header's merkle root, and the coinbase's
witness commitment (BIP141) matches the witnesses that came with the block.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import RemoteError
from .codec.compact import read_compact_size
from .codec.hashes import sha256d

__all__ = ["ParsedBlock", "ParsedTx", "merkle_root", "parse_block", "sha256d"]

_HEADER = struct.Struct("<i32s32sIII")
_U32 = struct.Struct("<I").unpack_from
_I64 = struct.Struct("<q").unpack_from
_NULL_OUTPOINT = bytes(32) + b"\xff\xff\xff\xff"
_COMMITMENT = b"\x6a\x24\xaa\x21\xa9\xed"


@dataclass(slots=True)
class ParsedTx:
    """One transaction of a block, as the sync stores it."""

    txid: bytes  # internal byte order (what inputs refer to)
    wtxid: bytes
    size: int
    weight: int
    inputs: list[bytes]  # 36-byte outpoints (prev txid internal order + vout LE); [] for coinbase
    outputs: list[tuple[int, bytes]]  # (value, script)
    coinbase_witness: bytes | None = None  # the coinbase's witness reserved value


@dataclass(slots=True)
class ParsedBlock:
    """A block header and its transactions."""

    hash: str
    version: int
    prev_hash: str
    merkle_root: str
    time: int
    bits: int
    nonce: int
    size: int
    txs: list[ParsedTx]
    witnesses_committed: bool | None  # None: no segwit tx; False: segwit but no commitment


def _tx(raw: bytes, pos: int, coinbase: bool) -> tuple[ParsedTx, int]:
    """The transaction starting at pos and the position after it."""
    start = pos
    segwit = raw[pos + 4] == 0 and raw[pos + 5] == 1
    pos += 6 if segwit else 4
    n_in, pos = read_compact_size(raw, pos)
    inputs = []
    for _ in range(n_in):
        outpoint = raw[pos : pos + 36]
        size, pos = read_compact_size(raw, pos + 36)
        pos += size + 4
        inputs.append(outpoint)
    n_out, pos = read_compact_size(raw, pos)
    outputs = []
    for _ in range(n_out):
        value = _I64(raw, pos)[0]
        size, pos = read_compact_size(raw, pos + 8)
        outputs.append((value, raw[pos : pos + size]))
        pos += size
    witness_start = pos
    reserved = None
    if segwit:
        for i in range(n_in):
            count, pos = read_compact_size(raw, pos)
            for _ in range(count):
                size, pos = read_compact_size(raw, pos)
                if coinbase and i == 0:
                    reserved = raw[pos : pos + size]
                pos += size
    end = pos + 4
    if end > len(raw):
        raise ValueError("transaction runs past the end of the block")
    full = raw[start:end]
    stripped = full[:4] + raw[start + 6 : witness_start] + full[-4:] if segwit else full
    txid = sha256d(stripped)
    tx = ParsedTx(
        txid,
        sha256d(full) if segwit else txid,
        len(full),
        3 * len(stripped) + len(full),
        [] if coinbase and inputs and inputs[0] == _NULL_OUTPOINT else inputs,
        outputs,
        reserved,
    )
    return tx, end


def merkle_root(hashes: list[bytes]) -> bytes:
    """The merkle root of a list of txids (internal order)."""
    level = list(hashes)
    if not level:
        return bytes(32)
    while len(level) > 1:
        if len(level) & 1:
            level.append(level[-1])
        level = [sha256d(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def parse_block(raw: bytes, expected_hash: str | None = None) -> ParsedBlock:
    """Parse and verify a raw block; RemoteError if it is malformed or does not verify."""
    if len(raw) < 81:
        raise RemoteError(f"block {expected_hash}: {len(raw)} bytes is too short for a block")
    block_hash = sha256d(raw[:80])[::-1].hex()
    where = f"block {expected_hash or block_hash}"
    if expected_hash is not None and block_hash != expected_hash:
        raise RemoteError(f"{where}: the header hashes to {block_hash}, not the hash asked for")
    version, prev, root, time, bits, nonce = _HEADER.unpack_from(raw, 0)
    try:
        count, pos = read_compact_size(raw, 80)
        txs = []
        for i in range(count):
            tx, pos = _tx(raw, pos, i == 0)
            txs.append(tx)
    except (IndexError, ValueError, struct.error) as e:
        raise RemoteError(f"{where}: malformed block ({e})") from None
    if pos != len(raw):
        raise RemoteError(f"{where}: {len(raw) - pos} bytes left over after the transactions")
    if merkle_root([t.txid for t in txs]) != root:
        raise RemoteError(f"{where}: its transactions do not hash to the header's merkle root")
    committed = _check_witness_commitment(txs, where)
    return ParsedBlock(
        block_hash,
        version,
        prev[::-1].hex(),
        root[::-1].hex(),
        time,
        bits,
        nonce,
        len(raw),
        txs,
        committed,
    )


def _check_witness_commitment(txs: list[ParsedTx], where: str) -> bool | None:
    """BIP141: whether the coinbase commits to the witnesses served (None: no segwit tx).

    A block whose coinbase has no commitment is accepted (the sandbox's generated blocks
    have none) but reported; a commitment that does not match is an error.
    """
    if not txs or all(t.wtxid == t.txid for t in txs[1:]):
        return None
    commitment = None
    for _, script in txs[0].outputs:
        if len(script) >= 38 and script[:6] == _COMMITMENT:
            commitment = script[6:38]  # the last one counts
    if commitment is None:
        return False
    reserved = txs[0].coinbase_witness or bytes(32)
    wroot = merkle_root([bytes(32)] + [t.wtxid for t in txs[1:]])
    if sha256d(wroot + reserved) != commitment:
        raise RemoteError(f"{where}: the witnesses do not match the coinbase's commitment")
    return True
