"""Bitcoin transactions: real serialization (BIP144), txids, sighashes (legacy, BIP143), signing."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .codec.amounts import COIN
from .codec.compact import SMALL_COMPACT_SIZE, encode_compact_size, read_compact_size
from .codec.hashes import hash160, sha256d
from .codec.pushes import parse_pushes, push_data, push_int
from .keys import Key, verify_signature

__all__ = [
    "SIGHASH_ALL",
    "SIGHASH_ANYONECANPAY",
    "SIGHASH_NONE",
    "SIGHASH_SINGLE",
    "Tx",
    "TxIn",
    "TxOut",
    "coinbase_tx",
    "is_coinbase",
    "parse",
    "raw_no_witness",
    "serialize",
    "sighash_legacy",
    "sighash_segwit_v0",
    "sign_input",
    "txid",
    "txid_internal",
    "verify_input",
    "vsize",
    "weight",
    "wtxid",
]

SIGHASH_ALL = 0x01
SIGHASH_NONE = 0x02
SIGHASH_SINGLE = 0x03
SIGHASH_ANYONECANPAY = 0x80
MAX_SEQUENCE = 0xFFFFFFFF
_NULL_TXID = bytes(32)
_MAX_MONEY = 21_000_000 * COIN

_U32 = struct.Struct("<I")
_I64 = struct.Struct("<q")
_OUTPOINT = struct.Struct("<32sI")
_pack_u32 = _U32.pack
_pack_i64 = _I64.pack
_pack_outpoint = _OUTPOINT.pack
_pack_bare_input = struct.Struct("<32sIxI").pack  # outpoint, empty scriptSig (0x00), sequence
_pack_value_len = struct.Struct("<qB").pack  # value and a one-byte script length


@dataclass(slots=True)
class TxIn:
    """A transaction input; prev_txid is in internal byte order (the display hex reversed)."""

    prev_txid: bytes
    vout: int
    script_sig: bytes = b""
    sequence: int = 0xFFFFFFFD
    witness: list[bytes] = field(default_factory=list)


@dataclass(slots=True)
class TxOut:
    """A transaction output: value in satoshis and the script that locks it."""

    value: int
    script_pubkey: bytes


@dataclass(slots=True)
class Tx:
    """A Bitcoin transaction."""

    version: int = 2
    inputs: list[TxIn] = field(default_factory=list)
    outputs: list[TxOut] = field(default_factory=list)
    locktime: int = 0


# ---------------------------------------------------------------- serialization


def _check_prev(prev: bytes) -> bytes:
    """Return prev if it is a 32-byte txid, else raise (struct would silently pad it)."""
    if len(prev) != 32:
        raise ValueError(f"prev_txid must be 32 bytes (internal order), got {len(prev)}")
    return prev


def raw_no_witness(
    inputs: list[tuple[bytes, int, bytes, int]],
    outputs: list[tuple[int, bytes]],
    version: int = 2,
    locktime: int = 0,
) -> bytes:
    """Serialize a witness-less tx from (prev, vout, script_sig, seq) and (value, script) tuples."""
    try:
        small = SMALL_COMPACT_SIZE
        n = len(inputs)
        parts = [_pack_u32(version), small[n] if n < 0xFD else encode_compact_size(n)]
        append = parts.append
        for prev, vout, script_sig, sequence in inputs:
            if len(prev) != 32:
                _check_prev(prev)
            if script_sig:
                n = len(script_sig)
                append(_pack_outpoint(prev, vout))
                append(small[n] if n < 0xFD else encode_compact_size(n))
                append(script_sig)
                append(_pack_u32(sequence))
            else:
                # Segwit spends have an empty scriptSig: one struct call for the whole input.
                append(_pack_bare_input(prev, vout, sequence))
        n = len(outputs)
        append(small[n] if n < 0xFD else encode_compact_size(n))
        for value, script in outputs:
            n = len(script)
            if n < 0xFD:
                append(_pack_value_len(value, n))
            else:
                append(_pack_i64(value))
                append(encode_compact_size(n))
            append(script)
        append(_pack_u32(locktime))
        return b"".join(parts)
    except struct.error as exc:
        raise ValueError(f"transaction field out of range: {exc}") from None


def _has_witness(tx: Tx) -> bool:
    """Return True if any input carries witness data."""
    return any(txin.witness for txin in tx.inputs)


def serialize(tx: Tx, witness: bool = True) -> bytes:
    """Serialize tx; with witness=True and any witness present, use the BIP144 segwit format."""
    try:
        segwit = witness and _has_witness(tx)
        parts = [_pack_u32(tx.version)]
        append = parts.append
        if segwit:
            append(b"\x00\x01")
        append(encode_compact_size(len(tx.inputs)))
        for txin in tx.inputs:
            append(_pack_outpoint(_check_prev(txin.prev_txid), txin.vout))
            append(encode_compact_size(len(txin.script_sig)))
            append(txin.script_sig)
            append(_pack_u32(txin.sequence))
        append(encode_compact_size(len(tx.outputs)))
        for txout in tx.outputs:
            append(_pack_i64(txout.value))
            append(encode_compact_size(len(txout.script_pubkey)))
            append(txout.script_pubkey)
        if segwit:
            for txin in tx.inputs:
                append(encode_compact_size(len(txin.witness)))
                for item in txin.witness:
                    append(encode_compact_size(len(item)))
                    append(item)
        append(_pack_u32(tx.locktime))
        return b"".join(parts)
    except struct.error as exc:
        raise ValueError(f"transaction field out of range: {exc}") from None


class _Reader:
    """A bounds-checked cursor over raw transaction bytes."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes):
        """Start reading data at offset 0."""
        self.data = data
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        """Return the next n bytes, or raise ValueError naming what was being read."""
        end = self.pos + n
        if end > len(self.data):
            raise ValueError(
                f"truncated transaction: {what} needs {n} bytes at offset {self.pos}, "
                f"only {len(self.data) - self.pos} left"
            )
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def u32(self, what: str) -> int:
        """Read a little-endian uint32."""
        return _U32.unpack(self.take(4, what))[0]

    def varint(self, what: str) -> int:
        """Read a canonical CompactSize, as Bitcoin Core requires."""
        try:
            n, self.pos = read_compact_size(self.data, self.pos, canonical=True)
        except ValueError as exc:
            raise ValueError(f"bad transaction: {what}: {exc}") from None
        return n

    def count(self, what: str, min_item_size: int) -> int:
        """Read an item count and reject one the remaining bytes cannot possibly hold."""
        n = self.varint(what)
        if n * min_item_size > len(self.data) - self.pos:
            raise ValueError(
                f"truncated transaction: {n} {what} cannot fit in "
                f"{len(self.data) - self.pos} remaining bytes"
            )
        return n

    def var_bytes(self, what: str) -> bytes:
        """Read a CompactSize length and that many bytes."""
        return self.take(self.varint(what + " length"), what)


def parse(raw: bytes) -> Tx:
    """Parse a serialized transaction (legacy or BIP144 segwit); raise ValueError if malformed."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise ValueError(f"transaction must be bytes, got {type(raw).__name__}")
    r = _Reader(bytes(raw))
    version = r.u32("version")
    segwit = False
    if r.data[r.pos : r.pos + 1] == b"\x00":
        # A zero input count is how BIP144 marks the extended format (as Bitcoin Core reads it).
        r.pos += 1
        flag = r.take(1, "segwit flag")[0]
        if flag != 1:
            raise ValueError(f"unknown segwit flag 0x{flag:02x} (expected 0x01)")
        segwit = True
    inputs = []
    for _ in range(r.count("inputs", 41)):
        prev = r.take(32, "input prev_txid")
        vout = r.u32("input vout")
        script_sig = r.var_bytes("input scriptSig")
        inputs.append(TxIn(prev, vout, script_sig, r.u32("input sequence")))
    outputs = []
    for _ in range(r.count("outputs", 9)):
        value = _I64.unpack(r.take(8, "output value"))[0]
        outputs.append(TxOut(value, r.var_bytes("output scriptPubKey")))
    if segwit:
        if not inputs:
            raise ValueError("segwit transaction without inputs")
        for txin in inputs:
            txin.witness = [r.var_bytes("witness item") for _ in range(r.count("witness items", 1))]
        if not any(txin.witness for txin in inputs):
            raise ValueError("superfluous witness record: segwit marker but all witnesses empty")
    locktime = r.u32("locktime")
    if r.pos != len(r.data):
        raise ValueError(f"{len(r.data) - r.pos} unexpected bytes after the transaction")
    return Tx(version, inputs, outputs, locktime)


def txid_internal(tx: Tx) -> bytes:
    """Return the txid in internal byte order (as inputs and merkle trees use it)."""
    return sha256d(serialize(tx, witness=False))


def txid(tx: Tx) -> str:
    """Return the txid as display hex: double SHA-256 of the non-witness serialization, reversed."""
    return sha256d(serialize(tx, witness=False))[::-1].hex()


def wtxid(tx: Tx) -> str:
    """Return the wtxid as display hex (equal to the txid when there is no witness)."""
    return sha256d(serialize(tx, witness=True))[::-1].hex()


def weight(tx: Tx) -> int:
    """Return the BIP141 weight: 3 x stripped size + total size."""
    return 3 * len(serialize(tx, witness=False)) + len(serialize(tx, witness=True))


def vsize(tx: Tx) -> int:
    """Return the virtual size in vbytes: weight / 4, rounded up."""
    return (weight(tx) + 3) // 4


def is_coinbase(tx: Tx) -> bool:
    """Return True for a coinbase: one input spending the null outpoint."""
    return (
        len(tx.inputs) == 1
        and tx.inputs[0].prev_txid == _NULL_TXID
        and tx.inputs[0].vout == 0xFFFFFFFF
    )


def coinbase_tx(height: int, outputs: list[tuple[int, bytes]], extra: bytes = b"") -> Tx:
    """Return a coinbase transaction for a block at height (BIP34 height push first)."""
    if height < 0:
        raise ValueError(f"height must be non-negative, got {height}")
    script_sig = push_int(height) + extra
    if len(script_sig) < 2:
        # Consensus needs a 2..100 byte coinbase scriptSig; heights 0..16 push a single opcode.
        script_sig += b"\x00"
    if len(script_sig) > 100:
        raise ValueError(f"coinbase scriptSig is {len(script_sig)} bytes, max 100")
    return Tx(
        version=2,
        inputs=[TxIn(_NULL_TXID, 0xFFFFFFFF, script_sig, MAX_SEQUENCE)],
        outputs=[TxOut(v, s) for v, s in outputs],
        locktime=0,
    )


# ---------------------------------------------------------------- sighashes


def sighash_legacy(tx: Tx, i: int, script_code: bytes, hashtype: int = SIGHASH_ALL) -> bytes:
    """Return the pre-segwit signature hash of input i (script_code without length prefix)."""
    if not 0 <= i < len(tx.inputs):
        raise IndexError(f"input {i} out of range ({len(tx.inputs)} inputs)")
    base = hashtype & 0x1F
    if base == SIGHASH_SINGLE and i >= len(tx.outputs):
        # Bitcoin's historical SIGHASH_SINGLE bug: the "hash" is the number one.
        return (1).to_bytes(32, "little")
    inputs = []
    # With ANYONECANPAY only input i is committed to.
    for j, txin in enumerate(tx.inputs):
        if j == i:
            inputs.append((txin.prev_txid, txin.vout, script_code, txin.sequence))
        elif not hashtype & SIGHASH_ANYONECANPAY:
            sequence = 0 if base in (SIGHASH_NONE, SIGHASH_SINGLE) else txin.sequence
            inputs.append((txin.prev_txid, txin.vout, b"", sequence))
    if base == SIGHASH_NONE:
        outputs = []
    elif base == SIGHASH_SINGLE:
        outputs = [(-1, b"")] * i + [(tx.outputs[i].value, tx.outputs[i].script_pubkey)]
    else:
        outputs = [(o.value, o.script_pubkey) for o in tx.outputs]
    raw = raw_no_witness(inputs, outputs, tx.version, tx.locktime)
    return sha256d(raw + _pack_u32(hashtype))


def sighash_segwit_v0(
    tx: Tx, i: int, script_code: bytes, amount: int, hashtype: int = SIGHASH_ALL
) -> bytes:
    """Return the BIP143 signature hash of input i (script_code without length prefix)."""
    if not 0 <= i < len(tx.inputs):
        raise IndexError(f"input {i} out of range ({len(tx.inputs)} inputs)")
    base = hashtype & 0x1F
    anyone = hashtype & SIGHASH_ANYONECANPAY
    zero = _NULL_TXID
    hash_prevouts = hash_sequence = hash_outputs = zero
    if not anyone:
        hash_prevouts = sha256d(b"".join(_pack_outpoint(t.prev_txid, t.vout) for t in tx.inputs))
        if base not in (SIGHASH_NONE, SIGHASH_SINGLE):
            hash_sequence = sha256d(b"".join(_pack_u32(t.sequence) for t in tx.inputs))
    if base not in (SIGHASH_NONE, SIGHASH_SINGLE):
        hash_outputs = sha256d(
            b"".join(
                _pack_i64(o.value) + encode_compact_size(len(o.script_pubkey)) + o.script_pubkey
                for o in tx.outputs
            )
        )
    elif base == SIGHASH_SINGLE and i < len(tx.outputs):
        o = tx.outputs[i]
        hash_outputs = sha256d(
            _pack_i64(o.value) + encode_compact_size(len(o.script_pubkey)) + o.script_pubkey
        )
    txin = tx.inputs[i]
    preimage = b"".join(
        (
            _pack_u32(tx.version),
            hash_prevouts,
            hash_sequence,
            _pack_outpoint(txin.prev_txid, txin.vout),
            encode_compact_size(len(script_code)),
            script_code,
            _pack_i64(amount),
            _pack_u32(txin.sequence),
            hash_outputs,
            _pack_u32(tx.locktime),
            _pack_u32(hashtype),
        )
    )
    return sha256d(preimage)


# ---------------------------------------------------------------- signing and verification


def _p2pkh_script(h: bytes) -> bytes:
    """Return the P2PKH script for a 20-byte key hash (also BIP143's P2WPKH scriptCode)."""
    return b"\x76\xa9\x14" + h + b"\x88\xac"


def _input_type(script: bytes) -> tuple[str, bytes] | None:
    """Classify a scriptPubKey as p2pkh / p2sh / p2wpkh and return (type, 20-byte hash)."""
    n = len(script)
    if n == 25 and script[:3] == b"\x76\xa9\x14" and script[23:] == b"\x88\xac":
        return "p2pkh", script[3:23]
    if n == 23 and script[:2] == b"\xa9\x14" and script[22] == 0x87:
        return "p2sh", script[2:22]
    if n == 22 and script[:2] == b"\x00\x14":
        return "p2wpkh", script[2:]
    return None


def sign_input(
    tx: Tx,
    i: int,
    key: Key,
    prev_script_pubkey: bytes,
    amount: int,
    hashtype: int = SIGHASH_ALL,
) -> None:
    """Sign input i in place (P2PKH, P2SH-P2WPKH or P2WPKH spending prev_script_pubkey)."""
    kind = _input_type(prev_script_pubkey)
    if kind is None:
        raise ValueError("can only sign P2PKH, P2SH-P2WPKH and P2WPKH outputs")
    typ, h = kind
    pub = key.public_key
    pkh = key.hash160
    txin = tx.inputs[i]
    if typ == "p2pkh":
        if h != pkh:
            raise ValueError("key does not match the P2PKH output's public-key hash")
        sig = key.sign(sighash_legacy(tx, i, prev_script_pubkey, hashtype)) + bytes((hashtype,))
        txin.script_sig = push_data(sig) + push_data(pub)
        txin.witness = []
        return
    redeem = b"\x00\x14" + pkh
    if typ == "p2sh":
        if h != hash160(redeem):
            raise ValueError("key does not match the P2SH-P2WPKH output's script hash")
        txin.script_sig = push_data(redeem)
    else:
        if h != pkh:
            raise ValueError("key does not match the P2WPKH output's public-key hash")
        txin.script_sig = b""
    digest = sighash_segwit_v0(tx, i, _p2pkh_script(pkh), amount, hashtype)
    txin.witness = [key.sign(digest) + bytes((hashtype,)), pub]


def _check_sig(tx: Tx, i: int, sig: bytes, pub: bytes, digest_of) -> bool:
    """Verify a DER+hashtype signature with the sighash digest_of(hashtype) computes."""
    if len(sig) < 9:
        return False
    hashtype = sig[-1]
    if hashtype & ~SIGHASH_ANYONECANPAY not in (SIGHASH_ALL, SIGHASH_NONE, SIGHASH_SINGLE):
        return False
    return verify_signature(pub, sig[:-1], digest_of(hashtype))


def verify_input(tx: Tx, i: int, prev_script_pubkey: bytes, amount: int) -> bool:
    """Check input i's signature against the output it spends (P2PKH, P2SH-P2WPKH, P2WPKH)."""
    if not 0 <= i < len(tx.inputs):
        return False
    kind = _input_type(prev_script_pubkey)
    if kind is None:
        return False
    typ, h = kind
    txin = tx.inputs[i]
    if typ == "p2pkh":
        items = parse_pushes(txin.script_sig)
        if items is None or len(items) != 2 or txin.witness:
            return False
        sig, pub = items
        if hash160(pub) != h:
            return False
        return _check_sig(tx, i, sig, pub, lambda ht: sighash_legacy(tx, i, prev_script_pubkey, ht))
    if typ == "p2sh":
        items = parse_pushes(txin.script_sig)
        if items is None or len(items) != 1 or hash160(items[0]) != h:
            return False
        program = items[0]
        if len(program) != 22 or program[:2] != b"\x00\x14":
            return False
        h = program[2:]
    elif txin.script_sig:
        return False
    if len(txin.witness) != 2:
        return False
    sig, pub = txin.witness
    # Segwit v0 only allows compressed keys (policy, and what every wallet produces).
    if len(pub) != 33 or hash160(pub) != h:
        return False
    script_code = _p2pkh_script(h)
    return _check_sig(tx, i, sig, pub, lambda ht: sighash_segwit_v0(tx, i, script_code, amount, ht))
