"""An independent reader of Tron's formats, to check the engine's chain against.

It shares no code with `sandbox.tron`: its own protobuf wire reader, the `base58` package for
addresses, pycryptodome's Keccak and coincurve's recovery. A world whose blocks and
transactions pass here is one a real Tron tool would read the same way.
"""

from __future__ import annotations

import hashlib

import base58
from coincurve import PublicKey
from Crypto.Hash import keccak

# Field numbers from tronprotocol/protocol core/Tron.proto.
RAW_CONTRACT = 11
CONTRACT_PARAMETER = 2
ANY_VALUE = 2
OWNER_ADDRESS = 1
HEADER_FIELDS = {1: "timestamp", 2: "txTrieRoot", 3: "parentHash", 7: "number", 9: "witness"}


def read_varint(data: bytes, at: int) -> tuple[int, int]:
    """The varint at offset at, and the offset after it."""
    value = shift = 0
    while True:
        if at >= len(data):
            raise ValueError("truncated varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def read_message(data: bytes) -> dict[int, list[int | bytes]]:
    """Field number -> its values (ints for varints, bytes for length-delimited)."""
    fields: dict[int, list[int | bytes]] = {}
    at = 0
    while at < len(data):
        key, at = read_varint(data, at)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, at = read_varint(data, at)
        elif wire == 2:
            size, at = read_varint(data, at)
            if at + size > len(data):
                raise ValueError("truncated field")
            value, at = data[at : at + size], at + size
        else:
            raise ValueError(f"wire type {wire} is not used by Tron's messages")
        fields.setdefault(number, []).append(value)
    return fields


def one(
    fields: dict[int, list[int | bytes]], number: int, default: int | bytes = b""
) -> int | bytes:
    """The single value of a field, or default when it is absent."""
    return fields.get(number, [default])[0]


def b58(raw21: bytes) -> str:
    """The T... form of 21 address bytes."""
    return base58.b58encode_check(raw21).decode()


def address_of(public_key: PublicKey) -> bytes:
    """The 21-byte address of a public key."""
    digest = keccak.new(digest_bits=256, data=public_key.format(compressed=False)[1:]).digest()
    return b"\x41" + digest[-20:]


def signer(digest: bytes, signature: bytes) -> str:
    """The T... address that made a 65-byte signature over digest."""
    v = signature[64] - 27 if signature[64] >= 27 else signature[64]
    public = PublicKey.from_signature_and_message(signature[:64] + bytes([v]), digest, hasher=None)
    return b58(address_of(public))


def transaction_owner(raw_bytes: bytes) -> tuple[str, str]:
    """(type_url of the contract, T... owner) read from a transaction's raw bytes."""
    contract = read_message(bytes(one(read_message(raw_bytes), RAW_CONTRACT)))  # type: ignore[arg-type]
    parameter = read_message(bytes(one(contract, CONTRACT_PARAMETER)))  # type: ignore[arg-type]
    value = read_message(bytes(one(parameter, ANY_VALUE)))  # type: ignore[arg-type]
    return bytes(one(parameter, 1)).decode(), b58(bytes(one(value, OWNER_ADDRESS)))  # type: ignore[arg-type]


def check_transaction(raw_bytes: bytes, signatures: list[bytes], txid: str) -> str:
    """The owner of a transaction after checking its txID and that the owner signed it."""
    digest = hashlib.sha256(raw_bytes).digest()
    assert digest.hex() == txid, f"txID {txid} is not the SHA-256 of its raw bytes"
    _, owner = transaction_owner(raw_bytes)
    assert signatures, f"{txid} has no signature"
    for signature in signatures:
        assert signer(digest, signature) == owner, f"{txid} is not signed by its owner {owner}"
    return owner


def header(raw_header: bytes) -> dict[str, int | bytes]:
    """The named fields of a BlockHeader.raw."""
    fields = read_message(raw_header)
    return {name: one(fields, n, 0) for n, name in HEADER_FIELDS.items()}


def block_id(raw_header: bytes) -> str:
    """The block id of a raw header: its number, then the tail of its SHA-256."""
    number = int(header(raw_header)["number"])
    return (number.to_bytes(8, "big") + hashlib.sha256(raw_header).digest()[8:]).hex()


def merkle_root(serialized_transactions: list[bytes]) -> bytes:
    """java-tron's txTrieRoot, computed here the long way (a list of levels)."""
    if not serialized_transactions:
        return bytes(32)
    level = [hashlib.sha256(t).digest() for t in serialized_transactions]
    while len(level) > 1:
        paired = []
        for i in range(0, len(level) - 1, 2):
            paired.append(hashlib.sha256(level[i] + level[i + 1]).digest())
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]
