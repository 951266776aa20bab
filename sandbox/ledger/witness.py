"""Segwit witnesses of world transactions, made on demand by signing with the world's keys.

world.db stores each transaction without its witnesses (the bytes its txid hashes). The
witness of a P2WPKH or P2SH-P2WPKH input is [signature, public key]; RFC 6979 makes the
signature deterministic, so signing again yields the same bytes every time.
"""

from __future__ import annotations

import sqlite3
import struct
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from .keys import Key, sha256d
from .tx import SIGHASH_ALL, Tx, parse, serialize, varint

__all__ = ["Spent", "attach_witnesses", "full_transaction", "spent_outputs", "witnessed"]

_U32 = struct.Struct("<I").pack
_I64 = struct.Struct("<q").pack
_OUTPOINT = struct.Struct("<32sI").pack
_SIGHASH_ALL_BYTES = _U32(SIGHASH_ALL)
_SEGWIT_TYPES = frozenset(("p2wpkh", "p2sh"))

_SPENT_SQL = (
    "SELECT i.n, o.value, a.type, a.secret FROM inputs i "
    "JOIN outputs o ON o.tx_id = i.prev_tx_id AND o.n = i.prev_n "
    "JOIN addresses a ON a.id = o.address_id WHERE i.tx_id = ? ORDER BY i.n"
)


@dataclass(frozen=True, slots=True)
class Spent:
    """What signing one input needs of the output it spends: amount, address type, key."""

    value: int
    type: str  # p2wpkh | p2pkh | p2sh (P2SH-P2WPKH)
    secret: bytes


class _LRU:
    """A small thread-safe least-recently-used map."""

    def __init__(self, size: int):
        """An empty cache holding at most size entries."""
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        """The cached value, or None."""
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        """Remember value, forgetting the least recently used entry when full."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            if len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()


# Keyed by the witness-less serialization's txid: the same in every world that has the tx.
_CACHE = _LRU(16_384)


def attach_witnesses(tx: Tx, spent: Sequence[Spent | None]) -> None:
    """Sign every P2WPKH / P2SH-P2WPKH input of tx in place (SIGHASH_ALL, BIP143)."""
    if len(spent) != len(tx.inputs):
        raise ValueError(f"{len(spent)} spent outputs for {len(tx.inputs)} inputs")
    if not any(s is not None and s.type in _SEGWIT_TYPES for s in spent):
        return
    # BIP143's three commitments are the same for every input: hash them once, not per input.
    hash_prevouts = sha256d(b"".join(_OUTPOINT(t.prev_txid, t.vout) for t in tx.inputs))
    hash_sequence = sha256d(b"".join(_U32(t.sequence) for t in tx.inputs))
    hash_outputs = sha256d(
        b"".join(_I64(o.value) + varint(len(o.script_pubkey)) + o.script_pubkey for o in tx.outputs)
    )
    head = _U32(tx.version) + hash_prevouts + hash_sequence
    tail = hash_outputs + _U32(tx.locktime) + _SIGHASH_ALL_BYTES
    for txin, s in zip(tx.inputs, spent, strict=True):
        if s is None or s.type not in _SEGWIT_TYPES:
            continue
        key = Key(s.secret)
        script_code = b"\x19\x76\xa9\x14" + key.hash160 + b"\x88\xac"
        digest = sha256d(
            head
            + _OUTPOINT(txin.prev_txid, txin.vout)
            + script_code
            + _I64(s.value)
            + _U32(txin.sequence)
            + tail
        )
        txin.witness = [key.sign(digest) + b"\x01", key.public_key]


def witnessed(raw: bytes, spent: Sequence[Spent | None]) -> bytes:
    """The full serialization (BIP144 when any input is segwit) of a witness-less raw tx."""
    key = sha256d(raw)
    full = _CACHE.get(key)
    if full is None:
        tx = parse(raw)
        attach_witnesses(tx, spent)
        full = serialize(tx)
        _CACHE.put(key, full)
    return full


def spent_outputs(conn: sqlite3.Connection, tx_id: int, n_inputs: int) -> list[Spent | None]:
    """The world outputs a world transaction spends, by input (None for a coinbase)."""
    spent: list[Spent | None] = [None] * n_inputs
    for n, value, typ, secret in conn.execute(_SPENT_SQL, (tx_id,)):
        spent[n] = Spent(value, typ, bytes(secret))
    return spent


def full_transaction(conn: sqlite3.Connection, tx_id: int) -> bytes:
    """The complete serialization of world transaction tx_id, witnesses included."""
    row = conn.execute("SELECT raw FROM transactions WHERE id = ?", (tx_id,)).fetchone()
    if row is None:
        raise KeyError(f"no transaction with id {tx_id}")
    raw = bytes(row[0])
    full = _CACHE.get(sha256d(raw))
    if full is not None:
        return full
    tx = parse(raw)
    attach_witnesses(tx, spent_outputs(conn, tx_id, len(tx.inputs)))
    full = serialize(tx)
    _CACHE.put(sha256d(raw), full)
    return full
