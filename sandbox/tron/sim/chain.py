"""The Tron chain as the build writes it: transactions applied by the executor and packed
into 3-second blocks made by the witnesses in turn; only blocks with transactions are
stored, the empty ones between them are chained through so every parent id is right.
The signing, the blocks' ids and the rows' writing are sealer.py's, in processes of their
own: nothing decided here waits for them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .. import address as tron_address
from ..block import BLOCK_MS, Witness
from ..errors import TronRejected
from ..keys import TronKey
from ..protobuf import raw_after_reference, transfer_after_reference, trigger_after_reference
from ..resources import signed_size
from ..state import Receipt, TronState
from ..transaction import build
from ..usdt import USDT_ADDRESS
from .sealer import Block, Pending, SealerLink

__all__ = ["EXPIRATION_MS", "Sent", "TronChain"]

EXPIRATION_MS = 60_000  # what java-tron's createtransaction and tronpy give: head + 60 s
TRANSFER_TOPIC = "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
_TRANSFER_TOPIC = bytes.fromhex(TRANSFER_TOPIC)
HANDOVER = 5_000  # transactions handed to the sealer at a time
# raw_data's first bytes: ref_block_bytes (2) and ref_block_hash (8) with their tags.
_REF_PREFIX = 14
_SIGNATURE = 65  # bytes of one signature: the bandwidth charged counts them
USDT_HEX = tron_address.to_hex(USDT_ADDRESS)


@dataclass(frozen=True)
class Sent:
    """A transaction the chain took: its row id, result and the executor's receipt."""

    tx_id: int
    ok: bool  # receipt.result SUCCESS (a REVERT still goes into the block, with its fee)
    receipt: Receipt


class TronChain:
    """Puts the executor's transactions into blocks; its Sealer signs and writes them."""

    def __init__(
        self, conn: sqlite3.Connection, state: TronState, witnesses: list[Witness], start_ms: int
    ):
        """A chain whose genesis block (number 0) is at start_ms, with no transaction yet."""
        self.state = state
        self.start_ms = start_ms
        self.tx_count = 0
        self._b58_cache: dict[bytes, str] = {}
        self._hex_cache: dict[str, str] = {}
        self._word_cache: dict[bytes, str] = {}
        self._sizes: dict[int, int] = {}
        self._head_number = 0  # the last block made (stored or empty)
        self._open: int | None = None  # number of the block being filled
        self._open_txs: list[Pending] = []
        # The raw bytes (after the reference block, the same for the whole block) of the
        # open block's transactions: two equal ones would be one txID.
        self._open_tails: set[bytes] = set()
        self._closed: list[Block] = []
        self._pending = 0
        self._rows: list[tuple] = []  # tron_txs rows without the sealer's columns
        self._logs: list[tuple] = []
        self._transfers: list[tuple] = []
        self._sealer = SealerLink(conn, witnesses, start_ms)

    def _address_text(self, raw: bytes) -> str:
        """The T... form of 21 address bytes, cached (the same few thousand come back)."""
        text = self._b58_cache.get(raw)
        if text is None:
            text = self._b58_cache[raw] = tron_address.to_base58(raw)
        return text

    def _hex_text(self, hex_address: str) -> str:
        """The T... form of a 41... hex address, cached."""
        text = self._hex_cache.get(hex_address)
        if text is None:
            text = self._hex_cache[hex_address] = self._address_text(bytes.fromhex(hex_address))
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
        """A transaction of key's at time_ms, put in the block of that time (the sealer signs it).

        Returns None when the executor refuses it (nothing is stored then).
        """
        number, block_ms, stamp, expiration = self._block_for(time_ms)
        fee = fee_limit or 0
        while True:
            # Every transaction of a block refers to the block before it (TaPoS), whose id
            # only the sealer knows: the raw bytes are made here without that reference, and
            # the sealer puts it in front. The same payment twice in one block would be one
            # txID: the second was signed a moment apart (earlier, as nothing in a block may
            # be stamped after it).
            common = raw_after_reference(contract_type, value, expiration, stamp, fee)
            if common is not None:
                tail, owner = common
                decoded = value  # already what decoding the bytes gives
            else:
                tx = build(contract_type, value, 0, _NO_BLOCK, stamp, expiration, fee_limit)
                tail, owner, decoded = tx.raw_bytes[_REF_PREFIX:], tx.owner, tx.value
            if tail not in self._open_tails:
                break
            stamp -= 1
        try:
            # state.apply_transaction(tx, ...), with what is known here passed along (the
            # receipt's txid is the sealer's: nothing here reads it)
            receipt = self.state.apply(
                owner, contract_type, decoded, txid="",
                tx_size=self._size(len(tail)),
                block_number=number, timestamp_ms=block_ms, fee_limit=fee,
            )  # fmt: skip
        except TronRejected:
            return None
        result = _result(receipt)
        self._record(key, tail, contract_type, value, receipt, result, block_ms)
        return Sent(self.tx_count, result == "SUCCESS", receipt)

    def _block_for(self, time_ms: int) -> tuple[int, int, int, int]:
        """Open the block of time_ms (closing the one before); (its number, its time, the
        transaction's timestamp, its expiration)."""
        number = self.block_at(time_ms)
        if number != self._open:
            self._close()
            self._head_number = number - 1  # the empty blocks before it: the sealer's
            self._open = number
        block_ms = self.start_ms + number * BLOCK_MS
        expiration = self.start_ms + self._head_number * BLOCK_MS + EXPIRATION_MS
        return number, block_ms, min(time_ms, block_ms), expiration

    def send_usdt(
        self, key: TronKey, owner: bytes, to: bytes, amount: int, time_ms: int, fee_limit: int
    ) -> Sent | None:
        """send(key, "TriggerSmartContract", {owner, the USDT contract, the data of
        transfer(to, amount)}, time_ms, fee_limit): the same transaction, receipt and rows,
        made from the bytes (most of a world's transactions are these). owner: key's
        address; to: 21 bytes, written whole into the call's address word as wallets do."""
        usdt = self.state.usdt.address
        data = _TRANSFER_SELECTOR + bytes(11) + to + amount.to_bytes(32, "big")
        if len(to) != 21 or to[0] != 0x41 or not 0 < amount < 1 << 256 or fee_limit <= 0:
            return self.send(
                key, "TriggerSmartContract", _transfer_value(owner, data), time_ms, fee_limit
            )
        number, block_ms, stamp, expiration = self._block_for(time_ms)
        tail = trigger_after_reference(owner, usdt, data, expiration, stamp, fee_limit)
        while tail in self._open_tails:  # as send() tells two equal ones apart
            stamp -= 1
            tail = trigger_after_reference(owner, usdt, data, expiration, stamp, fee_limit)
        try:
            receipt = self.state.apply_usdt_transfer(
                owner, to, amount,
                tx_size=self._size(len(tail)),
                block_number=number, timestamp_ms=block_ms, fee_limit=fee_limit,
            )  # fmt: skip
        except TronRejected:
            return None
        if receipt is None:  # not the plain case: the general path decides
            return self.send(
                key, "TriggerSmartContract", _transfer_value(owner, data), time_ms, fee_limit
            )
        self.tx_count += 1
        tx_id = self.tx_count
        owner_text, to_text = self._address_text(owner), self._address_text(to)
        usdt_text = self._address_text(usdt)
        row = (
            tx_id, "TriggerSmartContract", owner_text, usdt_text, None, "SUCCESS",
            receipt.fee, receipt.net_usage, receipt.net_fee, receipt.energy_usage,
            receipt.energy_fee, receipt.energy_usage_total, receipt.origin_energy_usage,
            receipt.contract_result, block_ms,
        )  # fmt: skip
        self._open_txs.append((tail, key.secret, "SUCCESS"))
        self._rows.append(row)
        self._open_tails.add(tail)
        # _record's rows of the one Transfer log
        topics = f'["{TRANSFER_TOPIC}", "{self._word_hex(owner)}", "{self._word_hex(to)}"]'
        self._logs.append((tx_id, 0, usdt_text, topics, receipt.logs[0].data))
        self._transfers.append((tx_id, 0, usdt_text, owner_text, to_text, amount, block_ms))
        return Sent(tx_id, True, receipt)

    def send_trx(
        self, key: TronKey, owner: bytes, to: bytes, amount: int, time_ms: int
    ) -> Sent | None:
        """send(key, "TransferContract", {owner, to, amount}, time_ms): the same transaction,
        receipt and rows, made from the bytes (owner: key's address; to: 21 bytes)."""
        if len(owner) != 21 or len(to) != 21 or not 0 < amount < 1 << 63:
            value = {"owner_address": owner.hex(), "to_address": to.hex(), "amount": amount}
            return self.send(key, "TransferContract", value, time_ms)
        number, block_ms, stamp, expiration = self._block_for(time_ms)
        tail = transfer_after_reference(owner, to, amount, expiration, stamp)
        while tail in self._open_tails:  # as send() tells two equal ones apart
            stamp -= 1
            tail = transfer_after_reference(owner, to, amount, expiration, stamp)
        try:
            receipt = self.state.apply(
                owner, "TransferContract", {"owner_address": owner, "to_address": to, "amount": amount},
                txid="", tx_size=self._size(len(tail)),
                block_number=number, timestamp_ms=block_ms,
            )  # fmt: skip
        except TronRejected:
            return None
        self.tx_count += 1
        row = (
            self.tx_count, "TransferContract", self._address_text(owner), self._address_text(to),
            amount, "SUCCESS", receipt.fee, receipt.net_usage, receipt.net_fee,
            receipt.energy_usage, receipt.energy_fee, receipt.energy_usage_total,
            receipt.origin_energy_usage, receipt.contract_result or None, block_ms,
        )  # fmt: skip
        self._open_txs.append((tail, key.secret, "SUCCESS"))
        self._rows.append(row)
        self._open_tails.add(tail)
        return Sent(self.tx_count, True, receipt)

    def _size(self, tail_length: int) -> int:
        """The size the bandwidth is charged on of a signed transaction whose raw bytes
        after the reference block are tail_length long (resources.signed_size), cached."""
        size = self._sizes.get(tail_length)
        if size is None:
            size = self._sizes[tail_length] = signed_size(_REF_PREFIX + tail_length, [_SIGNATURE])
        return size

    def _word_hex(self, raw: bytes) -> str:
        """The hex of an address's 32-byte word (an indexed log topic), cached."""
        text = self._word_cache.get(raw)
        if text is None:
            text = self._word_cache[raw] = "00" * 12 + raw[1:].hex()
        return text

    def _record(
        self,
        key: TronKey,
        tail: bytes,
        contract_type: str,
        value: dict,
        receipt: Receipt,
        result: str,
        block_ms: int,
    ) -> None:
        """Keep the rows of one applied transaction for the sealer (the figures of the
        receipt's JSON, read off the Receipt: a zero its JSON leaves out is a zero here)."""
        self.tx_count += 1
        tx_id = self.tx_count
        to = value.get("to_address") or value.get("contract_address")
        to = value.get("receiver_address", to)
        amount = value.get("amount", value.get("frozen_balance", value.get("balance")))
        row = (
            tx_id,
            contract_type,
            self._hex_text(value["owner_address"]),
            self._hex_text(to) if to else None,
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
        self._open_txs.append((tail, key.secret, result))
        self._rows.append(row)
        self._open_tails.add(tail)
        for idx, log in enumerate(receipt.logs):
            # The JSON's log address is the 20 bytes after 0x41; topics and data as they are.
            contract = self._address_text(b"\x41" + log.address[-20:])
            topics = log.topics
            data = log.data
            # json.dumps of the topics' hex strings (nothing in them to escape)
            text = '["' + '", "'.join([t.hex() for t in topics]) + '"]' if topics else "[]"
            self._logs.append((tx_id, idx, contract, text, data))
            if topics and topics[0] == _TRANSFER_TOPIC and len(topics) == 3:
                self._transfers.append(
                    (
                        tx_id,
                        idx,
                        contract,
                        self._address_text(b"\x41" + topics[1][-20:]),
                        self._address_text(b"\x41" + topics[2][-20:]),
                        int.from_bytes(data[:32], "big"),
                        block_ms,
                    )
                )

    def _close(self) -> None:
        """Hand the open block, if it holds transactions, to the sealer (in batches)."""
        if self._open is None or not self._open_txs:
            self._open = None
            return
        self._closed.append((self._open, self._open_txs))
        self._pending += len(self._open_txs)
        self._head_number = self._open
        self._open_txs = []
        self._open_tails = set()
        self._open = None
        if self._pending >= HANDOVER:
            self._hand_over()

    def _hand_over(self) -> None:
        self._sealer.take(self._closed, self._rows, self._logs, self._transfers)
        self._closed, self._rows, self._logs, self._transfers = [], [], [], []
        self._pending = 0

    def finish(self, end_ms: int) -> tuple[int, str]:
        """Seal the last block, chain the empty ones to the world's end; (tip number, tip id)."""
        self._close()
        self._hand_over()
        self._head_number = max(self._head_number, (end_ms - self.start_ms) // BLOCK_MS)
        return self._sealer.finish(self._head_number)


def _result(receipt: Receipt) -> str:
    """SUCCESS, REVERT, OUT_OF_ENERGY...: the receipt's result as its JSON gives it (only a
    contract call has one; anything else is SUCCESS)."""
    return receipt.result if receipt.contract_type == "TriggerSmartContract" else "SUCCESS"


_NO_BLOCK = "00" * 32  # the reference block's id, put in by the sealer
_TRANSFER_SELECTOR = bytes.fromhex("a9059cbb")  # transfer(address,uint256)


def _transfer_value(owner: bytes, data: bytes) -> dict:
    """The value of a TriggerSmartContract calling the USDT contract with data, as the
    economy writes it."""
    return {"owner_address": owner.hex(), "contract_address": USDT_HEX, "data": data.hex()}
