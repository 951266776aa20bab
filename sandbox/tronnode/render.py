"""java-tron's JSON shapes for blocks, transactions, receipts and accounts.

Proto3's JSON printer omits zero numbers, empty strings and empty lists, and java-tron's
HTTP API keeps that: a field a shape here leaves out when it is 0 is one java-tron leaves
out too. `visible` is java-tron's switch: addresses as T... (true) or 41... hex (false).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from ..tron import address as tron_address
from ..tron import protobuf
from ..tron.live.chain import LiveBlock, LiveTx

__all__ = ["address_out", "block_json", "dumps", "tx_info_json", "tx_json"]


def dumps(value: Any) -> bytes:
    """value as json.dumps(value, separators=(",", ":")) writes it, in bytes.

    orjson writes it several times faster (a TronGrid page of 20 transfers: ~60 us less a
    request). For what the node answers (str keys, ints, no float but getnodeinfo's 0.0 and
    5.0, which both print alike) the two agree byte for byte as long as orjson's bytes are
    ASCII without DEL: json escapes those (\\u00e9, \\u007f) where orjson writes them as
    they are, so such an answer is written by json again, as is one orjson refuses (an int
    beyond 64 bits, a key that is not a str).
    """
    try:
        out = orjson.dumps(value)
    except TypeError:
        out = b""
    if not out or not out.isascii() or b"\x7f" in out:
        out = json.dumps(value, separators=(",", ":")).encode()
    return out


def address_out(address: str | bytes, visible: bool) -> str:
    """An address as java-tron prints it."""
    return tron_address.to_base58(address) if visible else tron_address.to_hex(address)


def _nonzero(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object without the zero and empty values proto3's printer leaves out."""
    return {k: v for k, v in pairs if v not in (0, "", None, [], {})}


def tx_json(tx: LiveTx, visible: bool, *, with_ret: bool = True) -> dict:
    """A transaction as gettransactionbyid and a block's `transactions` show it."""
    # Stored raw bytes always decode to one contract: only the raw_data JSON is needed here
    # (Transaction.to_json would hash the bytes again for a txid the row already has).
    raw_data = protobuf.decode_raw(tx.raw, visible)
    out: dict = {}
    if with_ret:
        ret = {"contractRet": tx.result} if tx.number is not None else {}
        out["ret"] = [ret]
    out["signature"] = [s.hex() for s in tx.signatures]
    out["txID"] = tx.txid
    out["raw_data"] = raw_data
    out["raw_data_hex"] = tx.raw.hex()
    return out


def block_json(block: LiveBlock, visible: bool) -> dict:
    """A block in java-tron's shape: `transactions` only when it has some."""
    raw = _nonzero(
        [
            ("number", block.number),
            ("txTrieRoot", block.tx_trie_root),
            ("witness_address", address_out(block.witness, visible)),
            ("parentHash", block.parent_id),
            ("version", 30 if block.number else 0),
            ("timestamp", block.timestamp if block.number else 0),
        ]
    )
    out: dict = {
        "blockID": block.block_id,
        "block_header": {"raw_data": raw, "witness_signature": block.witness_signature},
    }
    if block.txs:
        out["transactions"] = [tx_json(t, visible) for t in block.txs]
    return out


def tx_info_json(
    tx: LiveTx, logs: list[tuple], contract_address: str | None, visible: bool = False
) -> dict:
    """gettransactioninfobyid: the receipt of a transaction in a block. With visible,
    java-tron's servlet shows contract_address and each log's address (0x41 put back) as
    T... addresses."""
    info = _info(tx, logs, contract_address)
    if visible:
        if "contract_address" in info:
            info["contract_address"] = tron_address.to_base58(info["contract_address"])
        for entry in info.get("log", []):
            entry["address"] = tron_address.to_base58("41" + entry["address"])
    return info


def _info(tx: LiveTx, logs: list[tuple], contract_address: str | None) -> dict:
    """gettransactioninfobyid with hex addresses."""
    if tx.receipt is not None:  # a live transaction: the executor's receipt, as it made it
        live = json.loads(json.dumps(tx.receipt))
        live["id"] = tx.txid
        live["blockNumber"] = tx.number
        live["blockTimeStamp"] = tx.timestamp
        return live
    row = tx.world_row
    assert row is not None
    (fee, net_usage, net_fee, energy_usage, energy_fee, energy_total, origin_energy) = row[11:18]
    contract_result = bytes(row[18]) if row[18] is not None else b""
    receipt = _nonzero(
        [
            ("energy_usage", energy_usage),
            ("energy_fee", energy_fee),
            ("origin_energy_usage", origin_energy),
            ("energy_usage_total", energy_total),
            ("net_usage", net_usage),
            ("net_fee", net_fee),
        ]
    )
    if tx.type == "TriggerSmartContract":
        receipt["result"] = tx.result
    info: dict = {"id": tx.txid}
    if fee:
        info["fee"] = fee
    info["blockNumber"] = tx.number
    info["blockTimeStamp"] = tx.timestamp
    info["contractResult"] = [contract_result.hex()]
    if contract_address:
        info["contract_address"] = tron_address.to_hex(contract_address)
    info["receipt"] = receipt
    if logs:
        info["log"] = [
            _nonzero(
                [
                    ("address", tron_address.to_hex(address)[2:]),
                    ("topics", json.loads(topics)),
                    ("data", bytes(data).hex()),
                ]
            )
            for _idx, address, topics, data in logs
        ]
    if tx.result not in ("SUCCESS", "DEFAULT"):
        info["result"] = "FAILED"
        message = "REVERT opcode executed" if tx.result == "REVERT" else tx.result
        info["resMessage"] = message.encode().hex()
    return info
