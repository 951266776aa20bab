"""The signing half of the build's Tron chain: given each block's transactions (their raw
bytes after the reference block, and the owner's key), it signs them, makes the block
(txTrieRoot, header, id, the witness's signature), chains the empty blocks between, and
writes the rows of blocks, transactions, logs and TRC-20 transfers.

Nothing the executor decides depends on a signature or a block id (a txID only names a
transaction, and two equal ones in a block are two equal raw_data, told apart before
signing), so this half runs in a process of its own beside the executor where fork is
available: signing is most of the build's work, and a block needs its parent's id, so it
cannot be spread any other way. Without fork it runs in the executor's process; the rows
are the same either way.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import pickle
import sqlite3
import traceback
from pathlib import Path
from typing import Any

from ...errors import BuildError
from ...ledger.codec.varint import encode_varint
from .. import address as tron_address
from ..block import BLOCK_MS, BLOCK_VERSION, Witness, block_id, header_raw, tx_trie_root
from ..hashes import sha256
from ..keys import TronKey
from ..protobuf import CONTRACT_RESULTS

ROW_BATCH = 20_000
PRAGMAS = ("journal_mode=OFF", "synchronous=OFF", "cache_size=-131072")
# Pieces of an empty block's BlockHeader.raw: txTrieRoot (32 zero bytes), then parentHash's tag.
_EMPTY_ROOT = b"\x12\x20" + bytes(32) + b"\x1a\x20"
# The first two bytes of the varint of any value of 14 bits or more, by its low 14 bits.
_LOW14 = [bytes((i & 127 | 128, i >> 7 | 128)) for i in range(16384)]
_LOW14_08 = [b"\x08" + pair for pair in _LOW14]  # with a header's timestamp tag before
_LOW14_38 = [b"\x38" + pair for pair in _LOW14]  # with its number's tag before

# One transaction as the executor hands it over: the raw bytes after ref_block_hash, the
# owner's secret, the contract's result, and its tron_txs row without txid, raw and
# signature: (id, type, owner, to_address, amount, result, fee... timestamp).
Pending = tuple[bytes, bytes, str, tuple]
# A block: its number and its transactions in block order.
Block = tuple[int, list[Pending]]

TX_INSERT = "INSERT INTO tron_txs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"


class Sealer:
    """Signs, chains and stores the blocks handed to it, in order, into conn."""

    def __init__(self, conn: sqlite3.Connection, witnesses: list[Witness], start_ms: int):
        """A chain whose genesis block (number 0) is at start_ms."""
        self.conn = conn
        self.witnesses = witnesses
        self.start_ms = start_ms
        self._keys: dict[bytes, TronKey] = {}
        self._b58_cache: dict[bytes, str] = {}
        self._head_number = 0
        genesis = header_raw(0, start_ms, bytes(32), bytes(32), witnesses[0].key.address, 0)
        self._head_id = block_id(0, genesis)
        head_sig = witnesses[0].key.sign(sha256(genesis)).hex()
        # Each witness's address and the version: the tail of an empty block's header.
        self._witness_pieces = [
            b"\x4a\x15" + w.key.address + bytes((0x50, BLOCK_VERSION)) for w in witnesses
        ]
        # _advance's pieces kept from one call to the next: (timestamp >> 28, its varint
        # and the empty root, number >> 14, each witness's tail after the number's varint)
        self._advance_pieces: tuple[int, bytes, int, list[bytes]] = (-1, b"", -1, [])
        self._blocks: list[tuple] = [
            (0, self._head_id, "00" * 32, start_ms, self._address_text(witnesses[0].key.address))
            + (bytes(32).hex(), head_sig, 0)
        ]
        self._txs: list[tuple] = []
        self._logs: list[tuple] = []
        self._transfers: list[tuple] = []

    def _address_text(self, raw: bytes) -> str:
        text = self._b58_cache.get(raw)
        if text is None:
            text = self._b58_cache[raw] = tron_address.to_base58(raw)
        return text

    def _key(self, secret: bytes) -> TronKey:
        key = self._keys.get(secret)
        if key is None:
            key = self._keys[secret] = TronKey(secret)
        return key

    def take(self, blocks: list[Block], logs: list[tuple], transfers: list[tuple]) -> None:
        """Seal blocks (numbers ascending, after the last one taken) and keep the rows of
        their transactions' logs and transfers."""
        for number, txs in blocks:
            self._seal(number, txs)
        self._logs += logs
        self._transfers += transfers
        if len(self._txs) >= ROW_BATCH or len(self._logs) >= ROW_BATCH:
            self._flush()

    def _seal(self, number: int, txs: list[Pending]) -> None:
        """Sign a block's transactions (made with block number - 1 as their reference
        block) and make the block."""
        self._advance(number - 1)
        head = bytes.fromhex(self._head_id)
        prefix = b"\x0a\x02" + (number - 1).to_bytes(8, "big")[6:8] + b"\x22\x08" + head[8:16]
        messages = []
        rows = self._txs
        for position, (tail, secret, result, row) in enumerate(txs):
            raw = prefix + tail
            digest = sha256(raw)
            signature = self._key(secret).sign(digest)
            messages.append(_tx_message(raw, [signature], result))
            rows.append((row[0], digest.hex(), number, position, raw, signature) + row[1:])
        witness = self.witnesses[number % len(self.witnesses)]
        root = tx_trie_root(messages)
        timestamp = self.start_ms + number * BLOCK_MS
        raw_header = header_raw(number, timestamp, head, root, witness.key.address)
        this = block_id(number, raw_header)
        signature_hex = witness.key.sign(sha256(raw_header)).hex()
        self._blocks.append(
            (number, this, self._head_id, timestamp, self._address_text(witness.key.address))
            + (root.hex(), signature_hex, len(txs))
        )
        self._head_number, self._head_id = number, this

    def _advance(self, number: int) -> None:
        """Make the empty blocks up to number (inclusive) after the head.

        A 90-day world has millions of them, so their headers are put together here from
        fixed pieces (the same bytes header_raw makes: the checker re-derives every one).
        """
        first = self._head_number + 1
        if number < first:
            return
        parent = bytes.fromhex(self._head_id)
        pieces, count = self._witness_pieces, len(self._witness_pieces)
        join, sha, start, low = b"".join, hashlib.sha256, self.start_ms, _LOW14
        low08, low38 = _LOW14_08, _LOW14_38
        ts_high, ts_root, num_high, tails = self._advance_pieces
        for n in range(first, number + 1):
            v = start + n * BLOCK_MS
            if n < 16384 or v < 1 << 28:
                raw = join(
                    (b"\x08", encode_varint(v), _EMPTY_ROOT, parent, b"\x38", encode_varint(n))
                    + (pieces[n % count],)
                )
            else:
                # A varint is its low 14 bits (two bytes, both marked "more") then the
                # varint of the rest: a timestamp's next 14 bits are two bytes more, and
                # what is above them changes once in 2^28 ms; a number's once in 16,384.
                if v >> 28 != ts_high:
                    ts_high = v >> 28
                    ts_root = encode_varint(ts_high) + _EMPTY_ROOT
                if n >> 14 != num_high:
                    num_high = n >> 14
                    tails = [encode_varint(num_high) + piece for piece in pieces]
                raw = join(
                    (low08[v & 16383], low[v >> 14 & 16383], ts_root, parent)
                    + (low38[n & 16383], tails[n % count])
                )
            parent = n.to_bytes(8, "big") + sha(raw).digest()[8:]
        self._advance_pieces = (ts_high, ts_root, num_high, tails)
        self._head_number, self._head_id = number, parent.hex()

    def finish(self, tip: int) -> tuple[int, str]:
        """Chain the empty blocks up to tip and write what is left; (tip number, tip id)."""
        self._advance(tip)
        self._flush()
        return self._head_number, self._head_id

    def _flush(self) -> None:
        """Write the buffered rows."""
        c = self.conn
        c.executemany("INSERT INTO tron_blocks VALUES (?,?,?,?,?,?,?,?)", self._blocks)
        c.executemany(TX_INSERT, self._txs)
        c.executemany("INSERT INTO tron_logs VALUES (?,?,?,?,?)", self._logs)
        c.executemany("INSERT INTO trc20_transfers VALUES (?,?,?,?,?,?,?)", self._transfers)
        self._blocks, self._txs, self._logs, self._transfers = [], [], [], []


class SealerLink:
    """The executor's end of a Sealer: in a forked process of its own when the platform
    forks, else in this one. conn's file must have the tron tables and no open write."""

    def __init__(self, conn: sqlite3.Connection, witnesses: list[Witness], start_ms: int):
        """Start the sealer over conn's database file."""
        self._local: Sealer | None = None
        path = conn.execute("PRAGMA database_list").fetchone()[2]
        if "fork" not in multiprocessing.get_all_start_methods() or not path:
            self._local = Sealer(conn, witnesses, start_ms)
            return
        conn.commit()  # the child writes the file; nothing of ours may be pending
        context = multiprocessing.get_context("fork")
        self._pipe, theirs = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(theirs, Path(path), witnesses, start_ms), daemon=True
        )
        self._process.start()
        theirs.close()

    def take(self, blocks: list[Block], logs: list[tuple], transfers: list[tuple]) -> None:
        """Hand over closed blocks and their logs' and transfers' rows."""
        if self._local is not None:
            self._local.take(blocks, logs, transfers)
            return
        try:
            self._pipe.send_bytes(pickle.dumps((blocks, logs, transfers), protocol=5))
        except (BrokenPipeError, OSError):
            self._failed()

    def finish(self, tip: int) -> tuple[int, str]:
        """Seal up to tip, write everything and stop the sealer; (tip number, tip id)."""
        if self._local is not None:
            return self._local.finish(tip)
        try:
            self._pipe.send_bytes(pickle.dumps(tip, protocol=5))
            answer: Any = self._pipe.recv()
        except (BrokenPipeError, EOFError, OSError):
            self._failed()
        finally:
            self._process.join()
            self._pipe.close()
        if isinstance(answer, str):
            raise BuildError(f"the Tron chain's signing process failed:\n{answer}")
        return answer

    def _failed(self) -> None:
        """The child is gone: say why, if it said."""
        why = f"exit code {self._process.exitcode}"
        try:
            if self._pipe.poll():
                why = self._pipe.recv()
        except (EOFError, OSError):
            pass
        self._process.join()
        raise BuildError(f"the Tron chain's signing process stopped: {why}")


def _serve(pipe: Any, path: Path, witnesses: list[Witness], start_ms: int) -> None:
    """The sealer's process: take blocks until told the tip, then answer (tip, id) or the
    traceback of what failed."""
    try:
        conn = sqlite3.connect(path)
        for pragma in PRAGMAS:
            conn.execute(f"PRAGMA {pragma}")
        sealer = Sealer(conn, witnesses, start_ms)
        while True:
            message = pickle.loads(pipe.recv_bytes())
            if isinstance(message, int):
                answer = sealer.finish(message)
                conn.commit()
                conn.close()
                pipe.send(answer)
                return
            sealer.take(*message)
    except BaseException:
        pipe.send(traceback.format_exc())


# Transaction.ret's contractRet by name: a Result message holding only it (none for DEFAULT).
_RET = {
    name: b"\x2a\x00"
    if i == 0
    else b"\x2a" + encode_varint(len(encode_varint(i)) + 1) + b"\x18" + encode_varint(i)
    for i, name in enumerate(CONTRACT_RESULTS)
}


def _tx_message(raw_bytes: bytes, signatures: list[bytes], contract_ret: str) -> bytes:
    """Transaction.to_protobuf(contract_ret) of a transaction whose raw bytes the chain
    made (protobuf's own serialization, so parsing and writing them again changes nothing):
    raw_data (1), each signature (2), ret (5)."""
    parts = [b"\x0a", encode_varint(len(raw_bytes)), raw_bytes]
    for s in signatures:
        parts += (b"\x12", encode_varint(len(s)), s)
    parts.append(_RET[contract_ret])
    return b"".join(parts)
