"""What the explorer's store hands out: views of transactions, blocks and addresses, and
the identifier checks that turn bad input into Esplora's 400 answers."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import SandboxError
from ..ledger.address import InvalidAddress, decode_address
from ..ledger.codec.compact import read_compact_size
from ..ledger.tx import Tx, parse

_U32 = struct.Struct("<I").unpack_from
_I64 = struct.Struct("<q").unpack_from


def decode_tx(raw: bytes) -> tuple[int, list, list, int]:
    """(version, inputs, outputs, locktime) of a valid serialized transaction, in one pass."""
    # Inputs are [prev txid hex, vout, scriptSig, sequence, witness items], outputs
    # (value, script). The bytes come from the world or passed the mempool's checks, so no
    # bounds are checked: this is several times faster than building Tx objects.
    version = _U32(raw, 0)[0]
    pos = 4
    segwit = raw[4] == 0
    if segwit:
        pos = 6
    n, pos = read_compact_size(raw, pos)
    inputs = []
    for _ in range(n):
        prev = raw[pos : pos + 32][::-1].hex()
        vout = _U32(raw, pos + 32)[0]
        size, pos = read_compact_size(raw, pos + 36)
        script_sig = raw[pos : pos + size]
        pos += size
        inputs.append([prev, vout, script_sig, _U32(raw, pos)[0], None])
        pos += 4
    n, pos = read_compact_size(raw, pos)
    outputs = []
    for _ in range(n):
        value = _I64(raw, pos)[0]
        size, pos = read_compact_size(raw, pos + 8)
        outputs.append((value, raw[pos : pos + size]))
        pos += size
    if segwit:
        for txin in inputs:
            count, pos = read_compact_size(raw, pos)
            items = []
            for _ in range(count):
                size, pos = read_compact_size(raw, pos)
                items.append(raw[pos : pos + size])
                pos += size
            txin[4] = items
    return version, inputs, outputs, _U32(raw, pos)[0]


class NotFound(SandboxError, LookupError):
    """Something the chain does not have (a 404 with this message)."""


class BadRequest(SandboxError, ValueError):
    """A malformed identifier (a 400 with this message)."""


@dataclass(slots=True)
class Prevout:
    """The output an input spends."""

    value: int
    script: bytes
    address: str | None


@dataclass(slots=True)
class TxView:
    """A transaction with everything the explorer shows about it."""

    txid: str
    full: bytes  # the complete serialization, witnesses included
    weight: int
    fee: int
    prevouts: list[Prevout | None]  # None for a coinbase input
    height: int | None  # None while in the mempool
    position: int | None
    block_hash: str | None = None
    block_time: int | None = None
    world_id: int | None = None
    _tx: Tx | None = None

    @property
    def tx(self) -> Tx:
        """The parsed transaction (parsed on first use: JSON reads the bytes directly)."""
        if self._tx is None:
            self._tx = parse(self.full)
        return self._tx

    @property
    def outputs(self) -> list[tuple[int, bytes]]:
        """(value, script) of each output, without parsing the inputs into objects."""
        return decode_tx(self.full)[2]

    @property
    def size(self) -> int:
        """Serialized size in bytes, witnesses included."""
        return len(self.full)

    @property
    def vsize(self) -> int:
        """Virtual size in vbytes."""
        return (self.weight + 3) // 4

    @property
    def coinbase(self) -> bool:
        """Whether this is a block's coinbase."""
        return self.position == 0


@dataclass(slots=True)
class Block:
    """A block header and what the explorer knows about its body."""

    height: int
    hash: str
    prev_hash: str
    merkle_root: str
    time: int
    version: int
    bits: int
    nonce: int
    tx_count: int
    live: bool


@dataclass(slots=True)
class Stats:
    """Esplora's per-address counters for one side (chain or mempool)."""

    funded_txo_count: int = 0
    funded_txo_sum: int = 0
    spent_txo_count: int = 0
    spent_txo_sum: int = 0
    tx_count: int = 0

    def add(self, other: Stats) -> Stats:
        """The sum of two sets of counters."""
        return Stats(
            self.funded_txo_count + other.funded_txo_count,
            self.funded_txo_sum + other.funded_txo_sum,
            self.spent_txo_count + other.spent_txo_count,
            self.spent_txo_sum + other.spent_txo_sum,
            self.tx_count + other.tx_count,
        )


def check_txid(text: str) -> str:
    """A txid or block hash as 64 lowercase hex digits, or BadRequest."""
    if len(text) != 64:
        raise BadRequest("Invalid hex string")
    try:
        bytes.fromhex(text)
    except ValueError:
        raise BadRequest("Invalid hex string") from None
    return text.lower()


def check_address(text: str) -> str:
    """A mainnet address, or BadRequest with the message Esplora gives."""
    try:
        decode_address(text)
    except InvalidAddress as e:
        if any(net in str(e) for net in ("testnet", "regtest", "signet")):
            raise BadRequest("Address on invalid network") from None
        raise BadRequest("Invalid Bitcoin address") from None
    return text


@dataclass(slots=True)
class Spend:
    """The input that spends an output, and the status of its transaction."""

    txid: str
    vin: int
    height: int | None
    block_hash: str | None = None
    block_time: int | None = None


@dataclass(slots=True)
class Utxo:
    """An unspent output of an address."""

    txid: str
    vout: int
    value: int
    height: int | None
    block_hash: str | None = None
    block_time: int | None = None


# A transaction by where it lives: ("w", world id) or ("l", txid) for the live chain.
Ref = tuple[str, int | str]
