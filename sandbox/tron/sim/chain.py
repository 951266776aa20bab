"""The Tron chain as the build writes it: signed transactions applied by the executor,
packed into 3-second blocks made by the witnesses in turn; only blocks with transactions
are stored, the empty ones between them are chained through so every parent id is right."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass

from ...ledger.codec.varint import encode_varint
from .. import address as tron_address
from ..block import BLOCK_MS, BLOCK_VERSION, Witness, block_id, header_raw, tx_trie_root
from ..errors import TronRejected
from ..hashes import sha256
from ..keys import TronKey
from ..protobuf import CONTRACT_RESULTS
from ..resources import signed_size
from ..state import Receipt, TronState
from ..transaction import Transaction, build

EXPIRATION_MS = 60_000  # what java-tron's createtransaction and tronpy give: head + 60 s
TRANSFER_TOPIC = "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
_TRANSFER_TOPIC = bytes.fromhex(TRANSFER_TOPIC)
ROW_BATCH = 20_000
# Pieces of an empty block's BlockHeader.raw: txTrieRoot (32 zero bytes), then parentHash's tag.
_EMPTY_ROOT = b"\x12\x20" + bytes(32) + b"\x1a\x20"
# The first two bytes of the varint of any value of 14 bits or more, by its low 14 bits.
_LOW14 = [bytes((i & 127 | 128, i >> 7 | 128)) for i in range(16384)]
_LOW14_08 = [b"\x08" + pair for pair in _LOW14]  # with a header's timestamp tag before
_LOW14_38 = [b"\x38" + pair for pair in _LOW14]  # with its number's tag before


@dataclass(frozen=True)
class Sent:
    """A transaction the chain took: its row id, txid, result and the executor's receipt."""

    tx_id: int
    txid: str
    ok: bool  # receipt.result SUCCESS (a REVERT still goes into the block, with its fee)
    receipt: Receipt


class TronChain:
    """Writes blocks, transactions, logs and TRC-20 transfers of one world into conn."""

    def __init__(
        self, conn: sqlite3.Connection, state: TronState, witnesses: list[Witness], start_ms: int
    ):
        """A chain whose genesis block (number 0) is at start_ms, with no transaction yet."""
        self.conn = conn
        self.state = state
        self.witnesses = witnesses
        self.start_ms = start_ms
        self.tx_count = 0
        self._b58_cache: dict[bytes, str] = {}
        self._next_id = 0
        self._head_number = 0  # the last block made (stored or empty)
        genesis = header_raw(0, start_ms, bytes(32), bytes(32), witnesses[0].key.address, 0)
        self._head_id = block_id(0, genesis)
        self._head_sig = witnesses[0].key.sign(sha256(genesis)).hex()
        # Each witness's address and the version: the tail of an empty block's header.
        self._witness_pieces = [
            b"\x4a\x15" + w.key.address + bytes((0x50, BLOCK_VERSION)) for w in witnesses
        ]
        # _advance's pieces kept from one call to the next: (timestamp >> 28, its varint
        # and the empty root, number >> 14, each witness's tail after the number's varint)
        self._advance_pieces: tuple[int, bytes, int, list[bytes]] = (-1, b"", -1, [])
        self._open: int | None = None  # number of the block being filled
        self._block_txs: list[bytes] = []
        self._open_txids: set[str] = set()
        self._blocks: list[tuple] = []
        self._txs: list[tuple] = []
        self._logs: list[tuple] = []
        self._transfers: list[tuple] = []
        self._blocks.append(
            (0, self._head_id, "00" * 32, start_ms, self._address_text(witnesses[0].key.address))
            + (bytes(32).hex(), self._head_sig, 0)
        )

    def _address_text(self, raw: bytes) -> str:
        """The T... form of 21 address bytes, cached (the same few thousand come back)."""
        text = self._b58_cache.get(raw)
        if text is None:
            text = self._b58_cache[raw] = tron_address.to_base58(raw)
        return text

    @property
    def tip_number(self) -> int:
        """The number of the last block made so far."""
        return self._head_number if self._open is None else self._open

    def block_at(self, time_ms: int) -> int:
        """The first block at or after time_ms that can still take transactions."""
        number = max(1, -(-(time_ms - self.start_ms) // BLOCK_MS))
        return max(number, self._open or 0, self._head_number + 1)

    def time_of(self, number: int) -> int:
        """The timestamp of block number."""
        return self.start_ms + number * BLOCK_MS

    def send(
        self,
        key: TronKey,
        contract_type: str,
        value: dict,
        time_ms: int,
        fee_limit: int | None = None,
    ) -> Sent | None:
        """Sign a transaction of key's at time_ms and put it in the block of that time.

        Returns None when the executor refuses it (nothing is stored then).
        """
        number = self.block_at(time_ms)
        if number != self._open:
            self._close()
            self._advance(number - 1)
            self._open = number
        block_ms = self.time_of(number)
        stamp = min(time_ms, block_ms)
        while True:
            tx = build(
                contract_type,
                value,
                self._head_number,
                self._head_id,
                stamp,
                self.time_of(self._head_number) + EXPIRATION_MS,
                fee_limit,
            )
            # The same payment twice in one block would be one txID: the second was signed a
            # moment apart (earlier, as nothing in a block may be stamped after it).
            digest = sha256(tx.raw_bytes)
            txid = digest.hex()
            if txid not in self._open_txids:
                break
            stamp -= 1
        tx.signatures.append(key.sign(digest))  # tx.sign(key), the txID hashed once
        try:
            # state.apply_transaction(tx, ...), with what is known here passed along
            receipt = self.state.apply(
                tx.owner, tx.contract_type, tx.value, txid=txid,
                tx_size=signed_size(len(tx.raw_bytes), [len(s) for s in tx.signatures]),
                block_number=number, timestamp_ms=block_ms, fee_limit=tx.fee_limit,
            )  # fmt: skip
        except TronRejected:
            return None
        result = _result(receipt)
        self._record(tx, txid, contract_type, value, receipt, result, number, block_ms)
        return Sent(self._next_id, txid, result == "SUCCESS", receipt)

    def _record(
        self,
        tx: Transaction,
        txid: str,
        contract_type: str,
        value: dict,
        receipt: Receipt,
        result: str,
        number: int,
        block_ms: int,
    ) -> None:
        """Buffer the rows of one applied transaction (the figures of the receipt's JSON,
        read off the Receipt: a zero its JSON leaves out is a zero here)."""
        self.tx_count += 1
        self._next_id = self.tx_count
        to = value.get("to_address") or value.get("contract_address")
        to = value.get("receiver_address", to)
        amount = value.get("amount", value.get("frozen_balance", value.get("balance")))
        self._txs.append(
            (
                self._next_id,
                txid,
                number,
                len(self._block_txs),
                tx.raw_bytes,
                b"".join(tx.signatures),
                contract_type,
                self._address_text(bytes.fromhex(value["owner_address"])),
                self._address_text(bytes.fromhex(to)) if to else None,
                amount,
                result,
                receipt.fee,
                receipt.net_usage,
                receipt.net_fee,
                receipt.energy_usage,
                receipt.energy_fee,
                receipt.energy_usage_total,
                receipt.origin_energy_usage,
                receipt.contract_result or None,
                block_ms,
            )
        )
        self._block_txs.append(_tx_message(tx.raw_bytes, tx.signatures, result))
        self._open_txids.add(txid)
        for idx, log in enumerate(receipt.logs):
            # The JSON's log address is the 20 bytes after 0x41; topics and data as they are.
            contract = self._address_text(b"\x41" + log.address[-20:])
            topics = log.topics
            data = log.data
            # json.dumps of the topics' hex strings (nothing in them to escape)
            text = '["' + '", "'.join([t.hex() for t in topics]) + '"]' if topics else "[]"
            self._logs.append((self._next_id, idx, contract, text, data))
            if topics and topics[0] == _TRANSFER_TOPIC and len(topics) == 3:
                self._transfers.append(
                    (
                        self._next_id,
                        idx,
                        contract,
                        self._address_text(b"\x41" + topics[1][-20:]),
                        self._address_text(b"\x41" + topics[2][-20:]),
                        int.from_bytes(data[:32], "big"),
                        block_ms,
                    )
                )
        if len(self._txs) >= ROW_BATCH:
            self._flush()

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

    def _close(self) -> None:
        """Seal the open block, if it holds transactions."""
        if self._open is None or not self._block_txs:
            self._open = None
            return
        n = self._open
        witness = self.witnesses[n % len(self.witnesses)]
        root = tx_trie_root(self._block_txs)
        raw = header_raw(n, self.time_of(n), self._head_id, root, witness.key.address)
        this = block_id(n, raw)
        signature = witness.key.sign(sha256(raw)).hex()
        self._blocks.append(
            (n, this, self._head_id, self.time_of(n), self._address_text(witness.key.address))
            + (root.hex(), signature, len(self._block_txs))
        )
        self._head_number, self._head_id = n, this
        self._block_txs = []
        self._open_txids = set()
        self._open = None

    def finish(self, end_ms: int) -> tuple[int, str]:
        """Seal the last block, chain the empty ones to the world's end; (tip number, tip id)."""
        self._close()
        self._advance(max(self._head_number, (end_ms - self.start_ms) // BLOCK_MS))
        self._flush()
        return self._head_number, self._head_id

    def _flush(self) -> None:
        """Write the buffered rows."""
        c = self.conn
        c.executemany("INSERT INTO tron_blocks VALUES (?,?,?,?,?,?,?,?)", self._blocks)
        c.executemany(
            "INSERT INTO tron_txs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", self._txs
        )
        c.executemany("INSERT INTO tron_logs VALUES (?,?,?,?,?)", self._logs)
        c.executemany("INSERT INTO trc20_transfers VALUES (?,?,?,?,?,?,?)", self._transfers)
        self._blocks, self._txs, self._logs, self._transfers = [], [], [], []


def _result(receipt: Receipt) -> str:
    """SUCCESS, REVERT, OUT_OF_ENERGY...: the receipt's result as its JSON gives it (only a
    contract call has one; anything else is SUCCESS)."""
    return receipt.result if receipt.contract_type == "TriggerSmartContract" else "SUCCESS"


# Transaction.ret's contractRet by name: a Result message holding only it (none for DEFAULT).
_RET = {
    name: b"\x2a\x00"
    if i == 0
    else b"\x2a" + encode_varint(len(encode_varint(i)) + 1) + b"\x18" + encode_varint(i)
    for i, name in enumerate(CONTRACT_RESULTS)
}


def _tx_message(raw_bytes: bytes, signatures: list[bytes], contract_ret: str) -> bytes:
    """Transaction.to_protobuf(contract_ret) of a transaction whose raw bytes this chain
    made (protobuf's own serialization, so parsing and writing them again changes nothing):
    raw_data (1), each signature (2), ret (5)."""
    parts = [b"\x0a", encode_varint(len(raw_bytes)), raw_bytes]
    for s in signatures:
        parts += (b"\x12", encode_varint(len(s)), s)
    parts.append(_RET[contract_ret])
    return b"".join(parts)
