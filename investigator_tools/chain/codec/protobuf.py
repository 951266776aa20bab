"""A minimal protobuf reader for Tron's Transaction.raw and the contracts a sweep builds.

Only what the toolkit must check before it signs: the wire format (varints, length-
delimited fields), `raw` (ref block, expiration, contracts, fee limit) and the values of
TransferContract and TriggerSmartContract. Unknown fields are kept by number, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RawTx", "read_fields", "read_raw"]

WIRE_VARINT, WIRE_I64, WIRE_LEN, WIRE_I32 = 0, 1, 2, 5


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """(value, next position) of the varint at pos."""
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("protobuf: varint runs past the end")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ValueError("protobuf: varint longer than 10 bytes")


def read_fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) of every field of a message: ints for varints and fixed
    numbers, bytes for length-delimited fields; ValueError when malformed."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError("protobuf: field number 0")
        if wire == WIRE_VARINT:
            value, pos = _varint(buf, pos)
            out.append((number, value))
        elif wire == WIRE_LEN:
            size, pos = _varint(buf, pos)
            if pos + size > len(buf):
                raise ValueError(f"protobuf: field {number} runs past the end")
            out.append((number, buf[pos : pos + size]))
            pos += size
        elif wire in (WIRE_I64, WIRE_I32):
            size = 8 if wire == WIRE_I64 else 4
            if pos + size > len(buf):
                raise ValueError(f"protobuf: field {number} runs past the end")
            out.append((number, int.from_bytes(buf[pos : pos + size], "little")))
            pos += size
        else:
            raise ValueError(f"protobuf: wire type {wire} of field {number} is not supported")
    return out


# ContractType numbers of Tron's protocol (core/Tron.proto) the toolkit reads.
CONTRACT_TYPES = {1: "TransferContract", 31: "TriggerSmartContract", 57: "DelegateResourceContract"}


@dataclass
class RawTx:
    """What a Transaction.raw says: the one contract's type and value fields."""

    ref_block_bytes: bytes = b""
    ref_block_hash: bytes = b""
    expiration: int = 0
    timestamp: int = 0
    fee_limit: int = 0
    contract_type: str = ""
    owner: bytes = b""
    to: bytes = b""  # TransferContract.to_address or TriggerSmartContract.contract_address
    amount: int = 0  # TransferContract.amount or TriggerSmartContract.call_value
    data: bytes = b""  # TriggerSmartContract.data
    contracts: int = 0
    extra: dict = field(default_factory=dict)


def _bytes(value: int | bytes, what: str) -> bytes:
    """A length-delimited field's bytes (ValueError if the field had another wire type)."""
    if not isinstance(value, bytes):
        raise ValueError(f"protobuf: {what} is not length-delimited")
    return value


def _int(value: int | bytes, what: str) -> int:
    """A varint field's value."""
    if not isinstance(value, int):
        raise ValueError(f"protobuf: {what} is not a number")
    return value


def read_raw(raw: bytes) -> RawTx:
    """Decode a Transaction.raw (raw_data_hex's bytes); ValueError when malformed."""
    tx = RawTx()
    for number, value in read_fields(raw):
        if number == 1:
            tx.ref_block_bytes = _bytes(value, "ref_block_bytes")
        elif number == 4:
            tx.ref_block_hash = _bytes(value, "ref_block_hash")
        elif number == 8:
            tx.expiration = _int(value, "expiration")
        elif number == 14:
            tx.timestamp = _int(value, "timestamp")
        elif number == 18:
            tx.fee_limit = _int(value, "fee_limit")
        elif number == 11:
            tx.contracts += 1
            _read_contract(_bytes(value, "contract"), tx)
        else:
            tx.extra[number] = value
    return tx


def _read_contract(buf: bytes, tx: RawTx) -> None:
    """A Contract: its type and the value inside its Any parameter."""
    kind = 0
    value = b""
    for number, item in read_fields(buf):
        if number == 1:
            kind = _int(item, "contract type")
        elif number == 2:
            for n, part in read_fields(_bytes(item, "parameter")):
                if n == 2:
                    value = _bytes(part, "parameter value")
    tx.contract_type = CONTRACT_TYPES.get(kind, f"ContractType{kind}")
    for number, item in read_fields(value):
        if number == 1:
            tx.owner = _bytes(item, "owner_address")
        elif number == 2:
            tx.to = _bytes(item, "to_address")
        elif number == 3:
            tx.amount = _int(item, "amount")
        elif number == 4 and tx.contract_type == "TriggerSmartContract":
            tx.data = _bytes(item, "data")
