"""The signing half of the build's Tron chain. The Sealer takes each block's transactions
(their raw bytes after the reference block, and the owner's key), signs them, makes the
block (txTrieRoot, header, id) and chains the empty blocks between; the Writer writes the
rows of blocks, transactions, logs and TRC-20 transfers. No block's witness signature is
made here: the world does not keep them (block.witness_signature makes one on demand).

Nothing the executor decides depends on a signature or a block id (a txID only names a
transaction, and two equal ones in a block are two equal raw_data, told apart before
signing), so where fork is available the sealer and the writer each run in a process of
their own beside the executor: signing is most of the build's work; a transaction's
signature is in its block's id, which the next block's transactions refer to, so those are
made one after the other, but the writing is not in that chain. Without fork both run in the executor's process; the rows are the same either way.
Between the processes, messages go as marshal's bytes (tuples, bytes, str, int and None
only; between forks of one interpreter): half pickle's cost for these rows.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import marshal
import multiprocessing
import queue
import sqlite3
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

from ...errors import BuildError
from ...ledger.codec.varint import encode_varint
from .. import address as tron_address
from ..block import BLOCK_MS, BLOCK_VERSION, Witness, block_id, header_raw, merkle_root
from ..hashes import sha256
from ..keys import TronKey
from ..protobuf import CONTRACT_RESULTS

ROW_BATCH = 20_000
# Messages (of about HANDOVER transactions each) a process holds unread: memory stays flat.
INBOX = 8
PRAGMAS = ("journal_mode=OFF", "synchronous=OFF", "cache_size=-131072")
# Pieces of an empty block's BlockHeader.raw: txTrieRoot (32 zero bytes), then parentHash's tag.
_EMPTY_ROOT = b"\x12\x20" + bytes(32) + b"\x1a\x20"
# The first two bytes of the varint of any value of 14 bits or more, by its low 14 bits.
_LOW14 = [bytes((i & 127 | 128, i >> 7 | 128)) for i in range(16384)]
_LOW14_08 = [b"\x08" + pair for pair in _LOW14]  # with a header's timestamp tag before
_LOW14_38 = [b"\x38" + pair for pair in _LOW14]  # with its number's tag before

# Transaction.raw_data's tag and length, for every length below 2^14, prebuilt.
_RAW_HEAD = tuple(b"\x0a" + encode_varint(n) for n in range(16384))

# One transaction as the executor hands it to the sealer: the raw bytes after
# ref_block_hash, the owner's secret and the contract's result. Its tron_txs row without
# txid, block, position, raw and signature, (id, type, owner, to_address, amount, result,
# fee... timestamp), goes to the writer, which puts the sealer's columns in front.
Pending = tuple[bytes, bytes, str]
# A block: its number and its transactions in block order.
Block = tuple[int, list[Pending]]

# The sealer's columns of a transaction first, then the executor's.
TX_INSERT = (
    "INSERT INTO tron_txs (txid, block, position, raw, signature, id, type, owner, to_address,"
    " amount, result, fee, net_usage, net_fee, energy_usage, energy_fee, energy_usage_total,"
    " origin_energy_usage, contract_result, timestamp)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


@contextlib.contextmanager
def rare_collections() -> Iterator[None]:
    """Python's cycle collector run a hundred times less often: the build's processes
    allocate millions of short-lived tuples and make next to no reference cycles, and at
    the default threshold the collector takes about an eighth of their time."""
    before = gc.get_threshold()
    gc.set_threshold(70_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


class _Signer:
    """TronKey.sign by secret, without its per-call allocations: libsecp256k1's calls that
    coincurve makes (the RFC 6979 nonce, the compact form), into buffers made once. One per
    process and thread. Where coincurve's internals are not those this knows, or give other
    bytes, it is TronKey.sign."""

    def __init__(self) -> None:
        """Check the direct calls against TronKey.sign once."""
        self._keys: dict[bytes, TronKey] = {}
        self._direct = False
        try:
            from coincurve._libsecp256k1 import ffi, lib
            from coincurve.context import GLOBAL_CONTEXT

            self._ctx, self._null = GLOBAL_CONTEXT.ctx, ffi.NULL
            self._sign_recoverable = lib.secp256k1_ecdsa_sign_recoverable
            self._serialize = lib.secp256k1_ecdsa_recoverable_signature_serialize_compact
            self._signature = ffi.new("secp256k1_ecdsa_recoverable_signature *")
            self._compact = ffi.new("unsigned char[64]")
            self._compact_bytes = ffi.buffer(self._compact, 64)
            self._recovery = ffi.new("int *")
            self._v = [bytes((27 + i,)) for i in range(4)]
            secret = sha256(b"sealer-check-key")
            digest = sha256(b"sealer-check")
            self._direct = True
            self._direct = self.sign(secret, digest) == TronKey(secret).sign(digest)
        except Exception:  # noqa: BLE001 (any other coincurve: its public call)
            self._direct = False

    def sign(self, secret: bytes, digest: bytes) -> bytes:
        """The 65-byte signature TronKey(secret).sign(digest) makes."""
        if not self._direct:
            key = self._keys.get(secret)
            if key is None:
                key = self._keys[secret] = TronKey(secret)
            return key.sign(digest)
        ctx, null, signature = self._ctx, self._null, self._signature
        if not self._sign_recoverable(ctx, signature, digest, secret, null, null):
            raise ValueError("a Tron key that cannot sign")
        self._serialize(ctx, self._compact, self._recovery, signature)
        return self._compact_bytes[:] + self._v[self._recovery[0]]


class Writer:
    """Writes every row the sealer and the executor make, in batches, into conn."""

    def __init__(self, conn: sqlite3.Connection):
        """A writer of conn's tron tables."""
        self.conn = conn
        self._blocks: list[tuple] = []
        self._sealed: list[tuple] = []  # the sealer's columns of transactions, in order
        self._rows: list[tuple] = []  # the executor's, in the same order
        self._logs: list[tuple] = []
        self._transfers: list[tuple] = []

    def take_chain(self, blocks: list[tuple], sealed: list[tuple]) -> None:
        """Rows of sealed blocks, and the sealer's columns of their transactions (txid,
        block, position, raw, signature)."""
        self._blocks += blocks
        self._sealed += sealed
        self._full()

    def take_events(self, rows: list[tuple], logs: list[tuple], transfers: list[tuple]) -> None:
        """The executor's columns of transactions (in the order the sealer seals them), and
        rows of logs and TRC-20 transfers."""
        self._rows += rows
        self._logs += logs
        self._transfers += transfers
        self._full()

    def _full(self) -> None:
        if len(self._sealed) >= ROW_BATCH or len(self._logs) >= ROW_BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows (a transaction once both halves of its row are in)."""
        done = min(len(self._sealed), len(self._rows))
        txs = [a + b for a, b in zip(self._sealed[:done], self._rows[:done], strict=True)]
        del self._sealed[:done], self._rows[:done]
        c = self.conn
        c.executemany("INSERT INTO tron_blocks VALUES (?,?,?,?,?,?,?)", self._blocks)
        c.executemany(TX_INSERT, txs)
        c.executemany("INSERT INTO tron_logs VALUES (?,?,?,?,?)", self._logs)
        c.executemany("INSERT INTO trc20_transfers VALUES (?,?,?,?,?,?,?)", self._transfers)
        self._blocks, self._logs, self._transfers = [], [], []

    def finish(self) -> None:
        """Write what is left: by now every transaction has both halves of its row."""
        self.flush()
        if self._sealed or self._rows:
            raise BuildError(
                f"the Tron writer was left {len(self._sealed)} sealed transactions and "
                f"{len(self._rows)} rows without their other half"
            )


class Sealer:
    """Signs the transactions of the blocks handed to it, in order, and chains the blocks;
    their rows go to `out` (a Writer's take_chain, or what carries them to one)."""

    def __init__(
        self,
        witnesses: list[Witness],
        start_ms: int,
        out: Callable[[list[tuple], list[tuple]], None],
    ):
        """A chain whose genesis block (number 0) is at start_ms."""
        self.witnesses = witnesses
        self.start_ms = start_ms
        self.out = out
        self._signer = _Signer()
        self._b58_cache: dict[bytes, str] = {}
        self._head_number = 0
        genesis = header_raw(0, start_ms, bytes(32), bytes(32), witnesses[0].key.address, 0)
        self._head_id = bytes.fromhex(block_id(0, genesis))
        # Each witness's address and the version: the tail of an empty block's header.
        self._witness_pieces = [
            b"\x4a\x15" + w.key.address + bytes((0x50, BLOCK_VERSION)) for w in witnesses
        ]
        # _advance's pieces kept from one call to the next: (timestamp >> 28, its varint
        # and the empty root, number >> 14, each witness's tail after the number's varint)
        self._advance_pieces: tuple[int, bytes, int, list[bytes]] = (-1, b"", -1, [])
        self._witness_texts = [self._address_text(w.key.address) for w in witnesses]
        self._blocks: list[tuple] = [  # tron_blocks rows
            (0, self._head_id.hex(), "00" * 32, start_ms, self._witness_texts[0], "00" * 32, 0)
        ]
        self._sealed: list[tuple] = []  # (txid, block, position, raw, signature)

    def _address_text(self, raw: bytes) -> str:
        text = self._b58_cache.get(raw)
        if text is None:
            text = self._b58_cache[raw] = tron_address.to_base58(raw)
        return text

    def take(self, blocks: list[Block]) -> None:
        """Seal blocks (numbers ascending, after the last one taken)."""
        for number, txs in blocks:
            self._seal(number, txs)
        self.out(self._blocks, self._sealed)
        self._blocks, self._sealed = [], []

    def _seal(self, number: int, txs: list[Pending]) -> None:
        """Sign a block's transactions (made with block number - 1 as their reference
        block) and make the block."""
        self._advance(number - 1)
        head = self._head_id
        prefix = b"\x0a\x02" + (number - 1).to_bytes(8, "big")[6:8] + b"\x22\x08" + head[8:16]
        sealed, sign, sha, join = self._sealed, self._signer.sign, hashlib.sha256, b"".join
        raw_head, ret = _RAW_HEAD, _RET
        leaves = []
        for position, (tail, secret, result) in enumerate(txs):
            raw = prefix + tail
            digest = sha(raw).digest()
            signature = sign(secret, digest)
            # the leaf: the hash of _tx_message(raw, [signature], result), one 65-byte signature
            size = len(raw)
            tag = raw_head[size] if size < 16384 else b"\x0a" + encode_varint(size)
            leaves.append(sha(join((tag, raw, b"\x12\x41", signature, ret[result]))).digest())
            sealed.append((digest.hex(), number, position, raw, signature))
        root = leaves[0] if len(leaves) == 1 else merkle_root(leaves)  # tx_trie_root's
        count = len(self._witness_pieces)
        timestamp = self.start_ms + number * BLOCK_MS
        # header_raw(number, timestamp, head, root, witness address), written out as
        # _advance writes an empty block's (every field set, so none is left out)
        raw_header = join(
            (b"\x08", encode_varint(timestamp), b"\x12\x20", root, b"\x1a\x20", head, b"\x38")
            + (encode_varint(number), self._witness_pieces[number % count])
        )
        this = number.to_bytes(8, "big") + sha(raw_header).digest()[8:]
        self._blocks.append(
            (number, this.hex(), head.hex(), timestamp, self._witness_texts[number % count])
            + (root.hex(), len(txs))
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
        parent = self._head_id
        pieces, count = self._witness_pieces, len(self._witness_pieces)
        join, sha, start, low = b"".join, hashlib.sha256, self.start_ms, _LOW14
        low08, low38 = _LOW14_08, _LOW14_38
        n = first
        while n <= number and (n < 16384 or start + n * BLOCK_MS < 1 << 28):
            v = start + n * BLOCK_MS
            raw = join(
                (b"\x08", encode_varint(v), _EMPTY_ROOT, parent, b"\x38", encode_varint(n))
                + (pieces[n % count],)
            )
            parent = n.to_bytes(8, "big") + sha(raw).digest()[8:]
            n += 1
        ts_high, ts_root, num_high, tails = self._advance_pieces
        while n <= number:
            # A varint is its low 14 bits (two bytes, both marked "more") then the varint
            # of the rest: a timestamp's next 14 bits are two bytes more, and what is above
            # them changes once in 2^28 ms; a number's once in 16,384. Runs of blocks where
            # neither changes are written from those pieces.
            v = start + n * BLOCK_MS
            if v >> 28 != ts_high:
                ts_high = v >> 28
                ts_root = encode_varint(ts_high) + _EMPTY_ROOT
            if n >> 14 != num_high:
                num_high = n >> 14
                tails = [encode_varint(num_high) + piece for piece in pieces]
            next_high = -(-(((ts_high + 1) << 28) - start) // BLOCK_MS)  # first n past it
            last = min(number, n | 16383, next_high - 1)
            for n in range(n, last + 1):  # noqa: B020 (the run goes on from n)
                v = start + n * BLOCK_MS
                raw = join(
                    (low08[v & 16383], low[v >> 14 & 16383], ts_root, parent)
                    + (low38[n & 16383], tails[n % count])
                )
                parent = n.to_bytes(8, "big") + sha(raw).digest()[8:]
            n = last + 1
        self._advance_pieces = (ts_high, ts_root, num_high, tails)
        self._head_number, self._head_id = number, parent

    def finish(self, tip: int) -> tuple[int, str]:
        """Chain the empty blocks up to tip and hand on what is left; (tip number, tip id)."""
        self._advance(tip)
        self.out(self._blocks, self._sealed)
        self._blocks, self._sealed = [], []
        return self._head_number, self._head_id.hex()


class SealerLink:
    """The executor's end of a Sealer and a Writer: each in a forked process of its own
    when the platform forks (the executor, the sealer and the writer then share the
    cores), else both in this one. conn's file must have the tron tables."""

    def __init__(self, conn: sqlite3.Connection, witnesses: list[Witness], start_ms: int):
        """Start the sealer and the writer over conn's database file."""
        self._local: tuple[Sealer, Writer] | None = None
        path = conn.execute("PRAGMA database_list").fetchone()[2]
        if "fork" not in multiprocessing.get_all_start_methods() or not path:
            writer = Writer(conn)
            self._local = (Sealer(witnesses, start_ms, writer.take_chain), writer)
            return
        conn.commit()  # the writer writes the file; nothing of ours may be pending
        context = multiprocessing.get_context("fork")
        self._to_writer, writer_end = context.Pipe()
        sealer_out, writer_in = context.Pipe()
        self._to_sealer, sealer_end = context.Pipe()
        # Each child closes the ends that are not its own, so that a process that stops
        # is seen to stop (an end still open in another process would keep its pipe open).
        self._writer = context.Process(
            target=_in_child,
            args=(
                (self._to_writer, self._to_sealer, sealer_end, sealer_out),
                _write,
                (writer_end, writer_in, Path(path)),
            ),
            daemon=True,
        )
        self._sealer = context.Process(
            target=_in_child,
            args=(
                (self._to_writer, self._to_sealer, writer_end, writer_in),
                _seal,
                (sealer_end, sealer_out, witnesses, start_ms),
            ),
            daemon=True,
        )
        self._writer.start()
        self._sealer.start()
        for end in (writer_end, writer_in, sealer_out, sealer_end):
            end.close()

    def take(
        self, blocks: list[Block], rows: list[tuple], logs: list[tuple], transfers: list[tuple]
    ) -> None:
        """Hand over closed blocks, the executor's columns of their transactions (in block
        order), and the rows of their logs and transfers."""
        if self._local is not None:
            self._local[0].take(blocks)
            self._local[1].take_events(rows, logs, transfers)
            return
        try:
            self._to_sealer.send_bytes(marshal.dumps(blocks))
            self._to_writer.send_bytes(marshal.dumps((rows, logs, transfers)))
        except OSError:
            self._failed()

    def finish(self, tip: int) -> tuple[int, str]:
        """Seal up to tip, write everything and stop; (tip number, tip id)."""
        if self._local is not None:
            tip_and_id = self._local[0].finish(tip)
            self._local[1].finish()
            return tip_and_id
        try:
            self._to_sealer.send_bytes(marshal.dumps(tip))
            self._to_writer.send_bytes(marshal.dumps(None))
            answer: Any = self._to_writer.recv()
        except (EOFError, OSError):
            self._failed()
        finally:
            for process in (self._sealer, self._writer):
                process.join()
            self._to_sealer.close()
            self._to_writer.close()
        if isinstance(answer, str):
            raise BuildError(f"the Tron chain's signing failed:\n{answer}")
        return answer

    def _failed(self) -> NoReturn:
        """A child is gone: say why, if the writer said."""
        why = f"exit codes {self._sealer.exitcode}, {self._writer.exitcode}"
        try:
            if self._to_writer.poll(1):
                why = self._to_writer.recv()
        except (EOFError, OSError):
            pass
        for process in (self._sealer, self._writer):
            process.kill()
            process.join()
        raise BuildError(f"the Tron chain's signing stopped: {why}")


def _in_child(others: tuple[Any, ...], target: Callable[..., None], args: tuple) -> None:
    """Close the pipe ends of the other processes, then run target(*args)."""
    for end in others:
        end.close()
    target(*args)


def _seal(pipe: Any, out: Any, witnesses: list[Witness], start_ms: int) -> None:
    """The sealer's process: seal blocks until told the tip, handing the rows to the
    writer; then hand it (tip, id). What fails is handed to the writer, which tells the
    executor."""

    def hand_on(blocks: list[tuple], txs: list[tuple]) -> None:
        out.send_bytes(marshal.dumps(("rows", blocks, txs)))

    gc.set_threshold(70_000, 50, 100)  # rare_collections(), for the whole process
    inbox: queue.Queue[tuple[bool, Any]] = queue.Queue(INBOX)
    _read_in_thread(pipe, True, inbox, lambda message: isinstance(message, int))
    try:
        sealer = Sealer(witnesses, start_ms, hand_on)
        while True:
            message = inbox.get()[1]
            if message is EOFError:
                raise EOFError
            if isinstance(message, int):
                out.send_bytes(marshal.dumps(("tip", *sealer.finish(message))))
                return
            sealer.take(message)
    except EOFError:
        return  # the executor stopped before the end: nothing is wanted any more
    except BaseException:
        with contextlib.suppress(OSError):
            out.send_bytes(marshal.dumps(("failed", traceback.format_exc())))


def _write(pipe: Any, chain: Any, path: Path) -> None:
    """The writer's process: write what the executor (pipe) and the sealer (chain) send
    until both are done; then answer the executor (tip, id) or what failed.

    Both pipes are read in threads of their own (_read_in_thread)."""
    gc.set_threshold(70_000, 50, 100)  # rare_collections(), for the whole process
    inbox: queue.Queue[tuple[bool, Any]] = queue.Queue(INBOX)
    _read_in_thread(pipe, True, inbox, lambda message: message is None)
    _read_in_thread(chain, False, inbox, lambda message: message[0] != "rows")
    try:
        conn = sqlite3.connect(path)
        for pragma in PRAGMAS:
            conn.execute(f"PRAGMA {pragma}")
        writer = Writer(conn)
        answer = None
        executor_done = False
        while answer is None or not executor_done:
            from_executor, message = inbox.get()
            if message is EOFError:
                raise EOFError
            if from_executor:
                if message is None:
                    executor_done = True
                else:
                    writer.take_events(*message)
            elif message[0] == "tip":
                answer = message[1:]
            elif message[0] == "failed":
                pipe.send(f"the sealer failed:\n{message[1]}")
                return
            else:
                writer.take_chain(*message[1:])
        writer.finish()
        conn.commit()
        conn.close()
        pipe.send(answer)
    except EOFError:
        with contextlib.suppress(OSError):
            pipe.send("a process of the Tron chain's build stopped")
    except BaseException:
        with contextlib.suppress(OSError):
            pipe.send(traceback.format_exc())


def _read_in_thread(
    source: Any, tag: bool, inbox: queue.Queue, last: Callable[[Any], bool]
) -> None:
    """Put each message of source into inbox as (tag, message), from a thread of its own,
    up to the one that is last(); EOFError in place of a message when source closes
    before. The process reads while it works: a message its sender must wait to hand over
    would hold the sender (signing, writing and simulating each wait on none but their
    own work). The inbox is bounded, so a sender far ahead still waits."""

    def read() -> None:
        while True:
            try:
                message = marshal.loads(source.recv_bytes())
            except (EOFError, OSError):
                inbox.put((tag, EOFError))
                return
            inbox.put((tag, message))
            if last(message):
                return

    threading.Thread(target=read, daemon=True).start()


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
