"""Assembles transactions into mined blocks and streams their rows into world.db."""

from __future__ import annotations

import hashlib
import math
import sqlite3
from collections import deque
from dataclasses import dataclass

from ..block import (
    BLOCK_VERSION,
    GENESIS_BLOCK,
    REGTEST_BITS,
    merkle_root,
    mine,
    parse_header,
    subsidy,
)
from ..codec.hashes import sha256d
from ..keys import Key
from ..tx import Tx, TxIn, TxOut, coinbase_tx, raw_no_witness, serialize, sign_input
from .commitments import Batch, CommitmentSigner, Entry
from .wallet import AddressBook, Utxo

SEQUENCE = 0xFFFFFFFD  # opt-in RBF, as Bitcoin Core wallets send
COINBASE_MATURITY = 100
DUST = 546

# Serialized sizes of one input / output by address type, for fee estimates. Witnesses of
# segwit inputs count a quarter (BIP141); 108 bytes is a P2WPKH witness with a 72-byte sig.
_IN_BASE = {"p2wpkh": 41, "p2sh": 64, "p2pkh": 148}
_IN_WITNESS = {"p2wpkh": 108, "p2sh": 108, "p2pkh": 1}
_OUT_SIZE = {"p2wpkh": 31, "p2sh": 32, "p2pkh": 34}


@dataclass(slots=True)
class _Unsealed:
    """A closed block waiting for its witness commitment: its coinbase and header are not made."""

    height: int
    time: int
    coinbase_id: int
    reward: int
    miner_address: int
    txids: list[bytes]  # internal order; slot 0 is the coinbase's, filled when sealed
    batch: Batch
    index: int  # its place in the batch


class Chain:
    """The chain being built: tx ids, pending rows, and the block under construction."""

    FLUSH_ROWS = 60_000
    BATCH_BLOCKS = 10  # blocks signed in one go: about 6 ms of the worker's time
    MAX_UNSEALED = 500  # blocks waiting for the worker before the chain waits for it

    def __init__(self, conn: sqlite3.Connection, book: AddressBook):
        """Start an empty chain writing into conn."""
        self.conn = conn
        self.book = book
        self.txids: list[bytes] = [b""]  # internal byte order, index = tx id
        self.height = -1
        self.time = 0
        self.prev_hash = bytes(32)
        self.tip_hash = "00" * 32
        self._block_txids: list[bytes] = []
        self._block_entries: list[Entry] = []
        self._block_segwit = False
        self._block_fees = 0
        self._coinbase_id = 0
        self._position = 0
        self._tx_rows: list[tuple] = []
        self._in_rows: list[tuple] = []
        self._out_rows: list[tuple] = []
        self._block_rows: list[tuple] = []
        self._flow_rows: list[tuple] = []
        self._signer = CommitmentSigner()
        self._batch = Batch()
        self._unsealed: deque[_Unsealed] = deque()
        self.tx_count = 0
        self._genesis()

    def _genesis(self) -> None:
        """Block 0: Bitcoin's own genesis block; the world's blocks follow it."""
        header, raw = GENESIS_BLOCK[:80], GENESIS_BLOCK[81:]
        h = parse_header(header)
        txid = sha256d(raw)
        # Id 0, the slot no simulated transaction takes: theirs stay as they were.
        self.txids[0] = txid
        self._tx_rows.append((0, txid[::-1].hex(), 0, 0, raw, 0, "coinbase", None))
        # Its one output (to a bare public key, unspendable) has no address: no output row.
        self._block_rows.append(
            (0, h["id"], "00" * 32, h["merkle_root"], h["timestamp"], h["version"], h["bits"],
             h["nonce"], 1)
        )  # fmt: skip
        self.height = 0
        self.time = h["timestamp"]
        self.prev_hash = sha256d(header)
        self.tip_hash = h["id"]
        self.tx_count = 1

    # -- fees -------------------------------------------------------------------------

    def vsize(self, input_types: list[str], output_types: list[str]) -> int:
        """Estimated virtual size of a transaction with these input and output types."""
        base = 10 + sum(_IN_BASE[t] for t in input_types) + sum(_OUT_SIZE[t] for t in output_types)
        if len(input_types) > 252:
            base += 2
        if len(output_types) > 252:
            base += 2
        witness = 0
        if any(t != "p2pkh" for t in input_types):
            witness = 2 + sum(_IN_WITNESS[t] for t in input_types)
        return math.ceil((base * 4 + witness) / 4)

    # -- blocks -----------------------------------------------------------------------

    def begin_block(self, time: int) -> int:
        """Open the next block at a time; returns its height."""
        self.height += 1
        self.time = time
        self._block_txids = [b""]  # the coinbase's slot, filled when the block is sealed
        self._block_entries = []
        self._block_segwit = False
        self._block_fees = 0
        self.txids.append(b"")
        self._coinbase_id = len(self.txids) - 1
        self._position = 1
        return self.height

    def end_block(self, miner_address: int) -> Utxo:
        """Pay the block reward and fees to a miner; the block is sealed once it is signed."""
        reward = subsidy(self.height) + self._block_fees
        self._batch.blocks.append(self._block_entries if self._block_segwit else None)
        self._unsealed.append(
            _Unsealed(
                self.height,
                self.time,
                self._coinbase_id,
                reward,
                miner_address,
                self._block_txids,
                self._batch,
                len(self._batch.blocks) - 1,
            )
        )
        self.tx_count += 1
        if len(self._batch.blocks) >= self.BATCH_BLOCKS:
            self._send_batch()
        unsealed = self._unsealed
        while unsealed and (unsealed[0].batch.done() or len(unsealed) > self.MAX_UNSEALED):
            self._seal_next()
        if len(self._out_rows) > self.FLUSH_ROWS:
            self._write()
        return Utxo(self._coinbase_id, 0, reward, miner_address, self.height)

    def _send_batch(self) -> None:
        """Hand the blocks closed since the last batch to the signer."""
        self._signer.send(self._batch)
        self._batch = Batch()

    def _seal_next(self) -> None:
        """Make the oldest unsealed block's coinbase, mine its header and queue their rows."""
        block = self._unsealed.popleft()
        if not block.batch.sent:
            self._send_batch()
        outputs = [(block.reward, self.book.script(block.miner_address))]
        commitment = block.batch.script(block.index)
        if commitment is not None:  # BIP141: the coinbase commits to the block's witnesses
            outputs.append((0, commitment))
        cb = coinbase_tx(block.height, outputs, extra=b"/sandbox/")
        raw = serialize(cb, witness=False)
        txid = sha256d(raw)
        self.txids[block.coinbase_id] = txid
        block.txids[0] = txid
        self._tx_rows.append(
            (block.coinbase_id, txid[::-1].hex(), block.height, 0, raw, 0, "coinbase", None)
        )
        self._out_rows.append((block.coinbase_id, 0, block.reward, block.miner_address))
        root = merkle_root(block.txids)
        nonce, header = mine(BLOCK_VERSION, self.prev_hash, root, block.time, REGTEST_BITS)
        block_hash = sha256d(header)
        self._block_rows.append(
            (
                block.height,
                block_hash[::-1].hex(),
                self.prev_hash[::-1].hex(),
                root[::-1].hex(),
                block.time,
                BLOCK_VERSION,
                REGTEST_BITS,
                nonce,
                len(block.txids),
            )
        )
        self.prev_hash = block_hash
        self.tip_hash = block_hash[::-1].hex()

    # -- transactions -----------------------------------------------------------------

    def add_tx(
        self,
        spends: list[Utxo],
        payments: list[tuple[int, int]],
        fee: int,
        kind: str,
        flow_id: str | None = None,
    ) -> int:
        """Add a transaction spending utxos to (address id, value) payments; returns its id."""
        book = self.book
        types = book.types
        txids = self.txids
        tx_id = len(txids)
        inputs = []
        legacy = False
        for u in spends:
            t = types[u.address_id]
            if t == "p2sh":
                script_sig = b"\x16\x00\x14" + book.pubkey_hash(u.address_id)
            else:
                script_sig = b""
                legacy = legacy or t == "p2pkh"
            while not txids[u.tx_id]:  # a coinbase whose block is not sealed yet
                self._seal_next()
            inputs.append((txids[u.tx_id], u.n, script_sig, SEQUENCE))
        outputs = [(value, book.script(a)) for a, value in payments]
        locktime = self.height - 1 if self.height > 0 else 0
        if legacy:
            raw = self._signed_legacy(inputs, outputs, spends, locktime)
        else:
            raw = raw_no_witness(inputs, outputs, 2, locktime)
        txid = sha256d(raw)
        txids.append(txid)
        if any(types[u.address_id] != "p2pkh" for u in spends):
            spent = [
                (u.value, types[u.address_id], book.secret(u.address_id), book.pubkey(u.address_id))
                for u in spends
            ]
            self._block_entries.append((raw, spent))
            self._block_segwit = True
        else:
            self._block_entries.append(txid)
        self._tx_rows.append(
            (tx_id, txid[::-1].hex(), self.height, self._position, raw, fee, kind, flow_id)
        )
        self._position += 1
        self._block_txids.append(txid)
        self._block_fees += fee
        self._in_rows.extend((tx_id, i, u.tx_id, u.n) for i, u in enumerate(spends))
        self._out_rows.extend((tx_id, n, v, a) for n, (a, v) in enumerate(payments))
        self.tx_count += 1
        return tx_id

    def _signed_legacy(self, inputs, outputs, spends, locktime) -> bytes:
        """Serialize a transaction whose P2PKH inputs must be signed: their sigs are in the txid."""
        tx = Tx(
            version=2,
            inputs=[TxIn(p, n, s, q) for p, n, s, q in inputs],
            outputs=[TxOut(v, s) for v, s in outputs],
            locktime=locktime,
        )
        for i, u in enumerate(spends):
            if self.book.types[u.address_id] == "p2pkh":
                key = Key(self.book.secrets[u.address_id])
                sign_input(tx, i, key, self.book.script(u.address_id), u.value)
        for txin in tx.inputs:  # segwit witnesses are made on demand; they are not in the txid
            txin.witness = []
        return serialize(tx, witness=False)

    def record_flow(
        self,
        flow_id: str,
        tx_id: int,
        step: str,
        source: str | None,
        target: str | None,
        amount: int,
    ) -> None:
        """Note that a transaction is a step of a scenario flow (the story's answer key)."""
        self._flow_rows.append((flow_id, tx_id, step, source, target, amount))

    def flush(self) -> None:
        """Seal every closed block and write the queued rows."""
        while self._unsealed:
            self._seal_next()
        self._write()

    def close(self) -> None:
        """Stop the signing worker."""
        self._signer.close()

    def _write(self) -> None:
        """Write the queued rows (the coinbases and headers of unsealed blocks come later)."""
        c = self.conn
        c.executemany("INSERT INTO transactions VALUES (?,?,?,?,?,?,?,?)", self._tx_rows)
        c.executemany("INSERT INTO inputs VALUES (?,?,?,?)", self._in_rows)
        c.executemany("INSERT INTO outputs VALUES (?,?,?,?)", self._out_rows)
        c.executemany("INSERT INTO blocks VALUES (?,?,?,?,?,?,?,?,?)", self._block_rows)
        c.executemany("INSERT INTO flow_events VALUES (?,?,?,?,?,?)", self._flow_rows)
        rows = self.book.take_rows()
        c.executemany("INSERT INTO addresses VALUES (?,?,?,?,?,?)", rows)
        # Wallets (Esplora clients) look addresses up by the SHA-256 of their output script.
        script = self.book.script
        c.executemany(
            "INSERT INTO scripthashes VALUES (?,?)",
            [(hashlib.sha256(script(r[0])).digest(), r[0]) for r in rows],
        )
        self._tx_rows, self._in_rows, self._out_rows = [], [], []
        self._block_rows, self._flow_rows = [], []
