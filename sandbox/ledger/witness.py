"""Segwit witnesses of world transactions, made on demand by signing with the world's keys.

world.db stores each transaction without its witnesses (the bytes its txid hashes). The
witness of a P2WPKH or P2SH-P2WPKH input is [signature, public key]; RFC 6979 makes the
signature deterministic, so signing again yields the same bytes every time.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from coincurve._libsecp256k1 import ffi, lib
from coincurve.context import GLOBAL_CONTEXT

from ..lru import LRU
from .block import WITNESS_COMMITMENT_PREFIX, WITNESS_RESERVED
from .codec.compact import encode_compact_size
from .codec.hashes import hash160, sha256d
from .tx import SIGHASH_ALL, Tx, parse

__all__ = [
    "Spent",
    "attach_witnesses",
    "cached_section",
    "full_transaction",
    "remember_section",
    "spent_outputs",
    "witness_section",
    "with_witnesses",
    "witnessed",
]

_U32 = struct.Struct("<I").pack
_I64 = struct.Struct("<q").pack
_OUTPOINT = struct.Struct("<32sI").pack
_SIGHASH_ALL_BYTES = _U32(SIGHASH_ALL)
_SEGWIT_TYPES = frozenset(("p2wpkh", "p2sh"))
_CTX = GLOBAL_CONTEXT.ctx
_COMPRESSED = lib.SECP256K1_EC_COMPRESSED

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
    pubkey: bytes | None = None  # the secret's compressed public key, when already known


# Witness sections keyed by the txid (internal order): the same in every world that has the tx.
_CACHE = LRU(65_536)


def _sign(secret: bytes, digest: bytes) -> bytes:
    """A DER, low-S, RFC 6979 signature (Key.sign's bytes), skipping coincurve's key objects."""
    sig = ffi.new("secp256k1_ecdsa_signature *")
    if not lib.secp256k1_ecdsa_sign(_CTX, sig, digest, secret, ffi.NULL, ffi.NULL):
        raise ValueError("invalid private key")
    der = ffi.new("unsigned char[72]")
    size = ffi.new("size_t *", 72)
    lib.secp256k1_ecdsa_signature_serialize_der(_CTX, der, size, sig)
    return ffi.buffer(der, size[0])[:]


def _public_key(secret: bytes) -> bytes:
    """The compressed public key of a secret."""
    pk = ffi.new("secp256k1_pubkey *")
    if not lib.secp256k1_ec_pubkey_create(_CTX, pk, secret):
        raise ValueError("invalid private key")
    out = ffi.new("unsigned char[33]")
    size = ffi.new("size_t *", 33)
    lib.secp256k1_ec_pubkey_serialize(_CTX, out, size, pk, _COMPRESSED)
    return ffi.buffer(out, 33)[:]


def _witness_stacks(tx: Tx, spent: Sequence[Spent | None]) -> list[list[bytes]]:
    """The witness stack of every input: [signature, public key] for segwit ones, else []."""
    if len(spent) != len(tx.inputs):
        raise ValueError(f"{len(spent)} spent outputs for {len(tx.inputs)} inputs")
    stacks: list[list[bytes]] = [[] for _ in tx.inputs]
    if not any(s is not None and s.type in _SEGWIT_TYPES for s in spent):
        return stacks
    # BIP143's three commitments are the same for every input: hash them once, not per input.
    hash_prevouts = sha256d(b"".join(_OUTPOINT(t.prev_txid, t.vout) for t in tx.inputs))
    hash_sequence = sha256d(b"".join(_U32(t.sequence) for t in tx.inputs))
    hash_outputs = sha256d(
        b"".join(
            _I64(o.value) + encode_compact_size(len(o.script_pubkey)) + o.script_pubkey
            for o in tx.outputs
        )
    )
    head = _U32(tx.version) + hash_prevouts + hash_sequence
    tail = hash_outputs + _U32(tx.locktime) + _SIGHASH_ALL_BYTES
    for i, (txin, s) in enumerate(zip(tx.inputs, spent, strict=True)):
        if s is None or s.type not in _SEGWIT_TYPES:
            continue
        secret = bytes(s.secret)
        pub = s.pubkey or _public_key(secret)
        script_code = b"\x19\x76\xa9\x14" + hash160(pub) + b"\x88\xac"
        digest = sha256d(
            head
            + _OUTPOINT(txin.prev_txid, txin.vout)
            + script_code
            + _I64(s.value)
            + _U32(txin.sequence)
            + tail
        )
        stacks[i] = [_sign(secret, digest) + b"\x01", pub]
    return stacks


def attach_witnesses(tx: Tx, spent: Sequence[Spent | None]) -> None:
    """Sign every P2WPKH / P2SH-P2WPKH input of tx in place (SIGHASH_ALL, BIP143)."""
    for txin, stack in zip(tx.inputs, _witness_stacks(tx, spent), strict=True):
        if stack:
            txin.witness = stack


def witness_section(raw: bytes, spent: Sequence[Spent | None]) -> bytes:
    """The serialized witnesses (BIP144) of a witness-less raw tx; b"" if it has no segwit input.

    A coinbase carrying BIP141's witness commitment has the reserved value as its witness.
    """
    tx = parse(raw)
    if _commits_witnesses(tx):
        return b"\x01\x20" + WITNESS_RESERVED
    stacks = _witness_stacks(tx, spent)
    if not any(stacks):
        return b""
    parts = []
    for stack in stacks:
        parts.append(encode_compact_size(len(stack)))
        for item in stack:
            parts.append(encode_compact_size(len(item)))
            parts.append(item)
    return b"".join(parts)


def _commits_witnesses(tx: Tx) -> bool:
    """Whether tx is a coinbase with a witness commitment output."""
    first = tx.inputs[0] if len(tx.inputs) == 1 else None
    return (
        first is not None
        and first.vout == 0xFFFFFFFF
        and first.prev_txid == bytes(32)
        and any(o.script_pubkey.startswith(WITNESS_COMMITMENT_PREFIX) for o in tx.outputs)
    )


def with_witnesses(raw: bytes, section: bytes) -> bytes:
    """The full serialization: raw with the segwit marker and the witness section spliced in."""
    if not section:
        return raw
    return raw[:4] + b"\x00\x01" + raw[4:-4] + section + raw[-4:]


def cached_section(key: bytes) -> bytes | None:
    """The witness section remembered for a transaction (keyed by its internal txid), or None."""
    return _CACHE.get(key)


def remember_section(key: bytes, section: bytes) -> None:
    """Remember a transaction's witness section in the in-memory LRU."""
    _CACHE.put(key, section)


def witnessed(raw: bytes, spent: Sequence[Spent | None]) -> bytes:
    """The full serialization (BIP144 when any input is segwit) of a witness-less raw tx."""
    key = sha256d(raw)
    section = _CACHE.get(key)
    if section is None:
        section = witness_section(raw, spent)
        _CACHE.put(key, section)
    return with_witnesses(raw, section)


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
    key = sha256d(raw)
    section = _CACHE.get(key)
    if section is None:
        n_inputs = len(parse(raw).inputs)
        section = witness_section(raw, spent_outputs(conn, tx_id, n_inputs))
        _CACHE.put(key, section)
    return with_witnesses(raw, section)
