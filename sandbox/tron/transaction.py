"""A Tron transaction: its raw_data, the bytes they serialize to, and its signatures.

The txID is the SHA-256 of the raw bytes; each signature is over the txID. The raw_data is
kept in java-tron's JSON with hex addresses (`visible=false`), as decoded from the bytes, so
every reader sees one canonical form whatever form a client sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import address as tron_address
from . import protobuf
from .errors import InvalidTronAddress, TronRejected
from .hashes import sha256
from .keys import TronKey, recover

__all__ = ["Transaction", "build"]


@dataclass
class Transaction:
    """raw: raw_data JSON (hex form); raw_bytes: its protobuf; signatures: 65 bytes each."""

    raw: dict[str, Any]
    raw_bytes: bytes
    signatures: list[bytes] = field(default_factory=list)

    @classmethod
    def from_raw(cls, raw_bytes: bytes, signatures: list[bytes] | tuple = ()) -> Transaction:
        """The transaction of stored raw bytes (ValueError when they are not a raw_data)."""
        raw = protobuf.decode_raw(bytes(raw_bytes))
        if len(raw.get("contract", [])) != 1:
            raise ValueError("a Tron transaction has exactly one contract")
        return cls(raw, bytes(raw_bytes), [bytes(s) for s in signatures])

    @classmethod
    def from_json(cls, obj: Any) -> Transaction:
        """A transaction as clients post it: {raw_data, signature?, txID?, raw_data_hex?}.

        Addresses may be T... or 41... whatever `visible` says. The raw bytes are made from
        raw_data, as java-tron does (a txID or raw_data_hex sent along is not trusted).
        ValueError naming the field when the object is not a transaction.
        """
        if not isinstance(obj, dict) or not isinstance(obj.get("raw_data"), dict):
            raise ValueError("a transaction needs its raw_data object")
        contracts = obj["raw_data"].get("contract")
        if not isinstance(contracts, list) or len(contracts) != 1:
            raise ValueError("raw_data.contract: a Tron transaction has exactly one contract")
        raw_bytes = protobuf.encode_raw(obj["raw_data"])
        signatures = obj.get("signature") or []
        if not isinstance(signatures, list):
            raise ValueError("signature: expected a list of hex strings")
        try:
            sigs = [bytes.fromhex(s) for s in signatures]
        except (TypeError, ValueError):
            raise ValueError("signature: expected a list of hex strings") from None
        tx = cls.from_raw(raw_bytes, sigs)
        tx.owner  # noqa: B018  (fails now, not later, when the owner is missing or bad)
        return tx

    @property
    def txid(self) -> str:
        """The transaction id: hex SHA-256 of the raw bytes."""
        return sha256(self.raw_bytes).hex()

    @property
    def contract_type(self) -> str:
        """`TransferContract`, `TriggerSmartContract`..."""
        return str(self.raw["contract"][0]["type"])

    @property
    def value(self) -> dict[str, Any]:
        """The contract's parameter value (hex addresses)."""
        return dict(self.raw["contract"][0]["parameter"]["value"])

    @property
    def owner(self) -> bytes:
        """The 21-byte address of the account that must sign (the contract's owner_address)."""
        try:
            return tron_address.to_bytes(self.value["owner_address"])
        except (KeyError, InvalidTronAddress):
            raise ValueError("raw_data.contract[0]: no valid owner_address") from None

    @property
    def fee_limit(self) -> int:
        """The most the sender lets energy burn, in sun (0 when unset)."""
        return int(self.raw.get("fee_limit", 0))

    @property
    def expiration(self) -> int:
        """When the transaction stops being valid, in ms."""
        return int(self.raw.get("expiration", 0))

    def sign(self, key: TronKey) -> Transaction:
        """Add key's signature over the txID; returns the transaction."""
        self.signatures.append(key.sign(sha256(self.raw_bytes)))
        return self

    def verify(self) -> None:
        """TronRejected("SIGERROR") unless it is signed, and only by its owner."""
        if not self.signatures:
            raise TronRejected("SIGERROR", "Validate signature error: miss sig or contract")
        digest = sha256(self.raw_bytes)
        owner = self.owner
        for signature in self.signatures:
            signer = recover(digest, signature)
            if signer != owner:
                raise TronRejected(
                    "SIGERROR",
                    f"Validate signature error: {self.txid} is signed by "
                    f"{tron_address.to_base58(signer)} but it is not contained of permission.",
                )

    def to_protobuf(self, contract_ret: str | None = None) -> bytes:
        """The whole Transaction message, as a block holds it (with its result when given)."""
        message = protobuf.message_class("Transaction")()
        message.raw_data.ParseFromString(self.raw_bytes)
        message.signature.extend(self.signatures)
        if contract_ret is not None:
            message.ret.add(contractRet=protobuf.CONTRACT_RESULTS.index(contract_ret))
        return message.SerializeToString()

    def to_json(self, visible: bool = False) -> dict[str, Any]:
        """java-tron's JSON of the transaction (createtransaction's and gettransactionbyid's)."""
        out: dict[str, Any] = {
            "visible": visible,
            "txID": self.txid,
            "raw_data": protobuf.decode_raw(self.raw_bytes, visible) if visible else self.raw,
            "raw_data_hex": self.raw_bytes.hex(),
        }
        if self.signatures:
            out["signature"] = [s.hex() for s in self.signatures]
        return out


def build(
    contract_type: str,
    value: dict[str, Any],
    ref_block_number: int,
    ref_block_id: str,
    timestamp_ms: int,
    expiration_ms: int,
    fee_limit: int | None = None,
) -> Transaction:
    """An unsigned transaction of one contract, referring to a recent block (TaPoS).

    ref_block_bytes are bytes 6..8 of the block's number and ref_block_hash bytes 8..16 of
    its id, as java-tron and tronpy set them. ValueError when value does not fit the contract.
    """
    if contract_type not in protobuf.CONTRACT_TYPES:
        raise ValueError(f"{contract_type}: not a Tron contract type")
    ref_bytes = ref_block_number.to_bytes(8, "big")[6:8]
    ref_hash = bytes.fromhex(ref_block_id)[8:16]
    fast = protobuf.encode_raw_fast(
        contract_type, value, ref_bytes, ref_hash, expiration_ms, timestamp_ms, fee_limit or 0
    )
    if fast is not None:  # the same raw_data and bytes as the general path below
        return Transaction(*fast)
    raw: dict[str, Any] = {
        "ref_block_bytes": ref_bytes.hex(),
        "ref_block_hash": ref_hash.hex(),
        "expiration": expiration_ms,
        "contract": [
            {
                "type": contract_type,
                "parameter": {
                    "value": value,
                    "type_url": protobuf.TYPE_URL_PREFIX + contract_type,
                },
            }
        ],
        "timestamp": timestamp_ms,
    }
    if fee_limit:
        raw["fee_limit"] = fee_limit
    return Transaction.from_raw(protobuf.encode_raw(raw))
