"""Tron's protobuf messages, and java-tron's JSON form of them.

The messages are the subset of tronprotocol/protocol (core/Tron.proto and
core/contract/*.proto) the sandbox's chain uses, with the same names and field numbers, so a
transaction serializes to the bytes java-tron and tronpy make and its txID is theirs. They are
described in code (no generated module to keep in step) and live in a private descriptor pool,
so tronpy's own `protocol` package can be loaded in the same process.

java-tron's JSON (its `JsonFormat`) differs from protobuf's: bytes are hex, enums are names,
fields at their default value are left out, an `Any` is `{"value": {...}, "type_url": ...}`,
and with `visible=true` the address fields are base58 (T...) instead of hex (41...).
"""

from __future__ import annotations

from typing import Any

from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError

from ..ledger.codec.varint import encode_varint
from . import address as tron_address
from .errors import InvalidTronAddress

__all__ = [
    "CONTRACT_RESULTS",
    "CONTRACT_TYPES",
    "TYPE_URL_PREFIX",
    "decode",
    "decode_raw",
    "encode",
    "encode_raw",
    "message_class",
    "to_json",
]

TYPE_URL_PREFIX = "type.googleapis.com/protocol."

# The bytes fields java-tron prints in base58 when asked for `visible=true`.
ADDRESS_FIELDS = frozenset(
    {
        "owner_address",
        "to_address",
        "contract_address",
        "receiver_address",
        "account_address",
        "witness_address",
        "address",
    }
)

CONTRACT_TYPES = {
    "AccountCreateContract": 0,
    "TransferContract": 1,
    "TransferAssetContract": 2,
    "VoteAssetContract": 3,
    "VoteWitnessContract": 4,
    "WitnessCreateContract": 5,
    "AssetIssueContract": 6,
    "WitnessUpdateContract": 8,
    "ParticipateAssetIssueContract": 9,
    "AccountUpdateContract": 10,
    "FreezeBalanceContract": 11,
    "UnfreezeBalanceContract": 12,
    "WithdrawBalanceContract": 13,
    "UnfreezeAssetContract": 14,
    "UpdateAssetContract": 15,
    "ProposalCreateContract": 16,
    "ProposalApproveContract": 17,
    "ProposalDeleteContract": 18,
    "SetAccountIdContract": 19,
    "CustomContract": 20,
    "CreateSmartContract": 30,
    "TriggerSmartContract": 31,
    "GetContract": 32,
    "UpdateSettingContract": 33,
    "ExchangeCreateContract": 41,
    "ExchangeInjectContract": 42,
    "ExchangeWithdrawContract": 43,
    "ExchangeTransactionContract": 44,
    "UpdateEnergyLimitContract": 45,
    "AccountPermissionUpdateContract": 46,
    "ClearABIContract": 48,
    "UpdateBrokerageContract": 49,
    "ShieldedTransferContract": 51,
    "MarketSellAssetContract": 52,
    "MarketCancelOrderContract": 53,
    "FreezeBalanceV2Contract": 54,
    "UnfreezeBalanceV2Contract": 55,
    "WithdrawExpireUnfreezeContract": 56,
    "DelegateResourceContract": 57,
    "UnDelegateResourceContract": 58,
    "CancelAllUnfreezeV2Contract": 59,
}

CONTRACT_RESULTS = [
    "DEFAULT",
    "SUCCESS",
    "REVERT",
    "BAD_JUMP_DESTINATION",
    "OUT_OF_MEMORY",
    "PRECOMPILED_CONTRACT",
    "STACK_TOO_SMALL",
    "STACK_TOO_LARGE",
    "ILLEGAL_OPERATION",
    "STACK_OVERFLOW",
    "OUT_OF_ENERGY",
    "OUT_OF_TIME",
    "JVM_STACK_OVER_FLOW",
    "UNKNOWN",
    "TRANSFER_FAILED",
    "INVALID_CODE",
]

# Enum name -> [(value name, number)].
_ENUMS: dict[str, list[tuple[str, int]]] = {
    "ResourceCode": [("BANDWIDTH", 0), ("ENERGY", 1), ("TRON_POWER", 2)],
    "AccountType": [("Normal", 0), ("AssetIssue", 1), ("Contract", 2)],
    "Transaction.Contract.ContractType": list(CONTRACT_TYPES.items()),
    "Transaction.Result.code": [("SUCESS", 0), ("FAILED", 1)],  # sic, as in Tron.proto
    "Transaction.Result.contractResult": [(n, i) for i, n in enumerate(CONTRACT_RESULTS)],
}

# Message name -> [(field, number, type, repeated)]; a type is a scalar name, or the name of
# one of these messages or enums.
_MESSAGES: dict[str, list[tuple[str, int, str, bool]]] = {
    "AccountId": [("name", 1, "bytes", False), ("address", 2, "bytes", False)],
    "authority": [("account", 1, "AccountId", False), ("permission_name", 2, "bytes", False)],
    "TransferContract": [
        ("owner_address", 1, "bytes", False),
        ("to_address", 2, "bytes", False),
        ("amount", 3, "int64", False),
    ],
    "AccountCreateContract": [
        ("owner_address", 1, "bytes", False),
        ("account_address", 2, "bytes", False),
        ("type", 3, "AccountType", False),
    ],
    "TriggerSmartContract": [
        ("owner_address", 1, "bytes", False),
        ("contract_address", 2, "bytes", False),
        ("call_value", 3, "int64", False),
        ("data", 4, "bytes", False),
        ("call_token_value", 5, "int64", False),
        ("token_id", 6, "int64", False),
    ],
    "FreezeBalanceV2Contract": [
        ("owner_address", 1, "bytes", False),
        ("frozen_balance", 2, "int64", False),
        ("resource", 3, "ResourceCode", False),
    ],
    "UnfreezeBalanceV2Contract": [
        ("owner_address", 1, "bytes", False),
        ("unfreeze_balance", 2, "int64", False),
        ("resource", 3, "ResourceCode", False),
    ],
    "WithdrawExpireUnfreezeContract": [("owner_address", 1, "bytes", False)],
    "CancelAllUnfreezeV2Contract": [("owner_address", 1, "bytes", False)],
    "DelegateResourceContract": [
        ("owner_address", 1, "bytes", False),
        ("resource", 2, "ResourceCode", False),
        ("balance", 3, "int64", False),
        ("receiver_address", 4, "bytes", False),
        ("lock", 5, "bool", False),
        ("lock_period", 6, "int64", False),
    ],
    "UnDelegateResourceContract": [
        ("owner_address", 1, "bytes", False),
        ("resource", 2, "ResourceCode", False),
        ("balance", 3, "int64", False),
        ("receiver_address", 4, "bytes", False),
    ],
    "Transaction.Contract": [
        ("type", 1, "Transaction.Contract.ContractType", False),
        ("parameter", 2, "google.protobuf.Any", False),
        ("provider", 3, "bytes", False),
        ("ContractName", 4, "bytes", False),
        ("Permission_id", 5, "int32", False),
    ],
    "Transaction.Result": [
        ("fee", 1, "int64", False),
        ("ret", 2, "Transaction.Result.code", False),
        ("contractRet", 3, "Transaction.Result.contractResult", False),
    ],
    "Transaction.raw": [
        ("ref_block_bytes", 1, "bytes", False),
        ("ref_block_num", 3, "int64", False),
        ("ref_block_hash", 4, "bytes", False),
        ("expiration", 8, "int64", False),
        ("auths", 9, "authority", True),
        ("data", 10, "bytes", False),
        ("contract", 11, "Transaction.Contract", True),
        ("scripts", 12, "bytes", False),
        ("timestamp", 14, "int64", False),
        ("fee_limit", 18, "int64", False),
    ],
    "Transaction": [
        ("raw_data", 1, "Transaction.raw", False),
        ("signature", 2, "bytes", True),
        ("ret", 5, "Transaction.Result", True),
    ],
    "BlockHeader.raw": [
        ("timestamp", 1, "int64", False),
        ("txTrieRoot", 2, "bytes", False),
        ("parentHash", 3, "bytes", False),
        ("number", 7, "int64", False),
        ("witness_id", 8, "int64", False),
        ("witness_address", 9, "bytes", False),
        ("version", 10, "int32", False),
        ("accountStateRoot", 11, "bytes", False),
    ],
    "BlockHeader": [
        ("raw_data", 1, "BlockHeader.raw", False),
        ("witness_signature", 2, "bytes", False),
    ],
    "Block": [
        ("transactions", 1, "Transaction", True),
        ("block_header", 2, "BlockHeader", False),
    ],
}

_SCALARS = {
    "bytes": FieldDescriptor.TYPE_BYTES,
    "int64": FieldDescriptor.TYPE_INT64,
    "int32": FieldDescriptor.TYPE_INT32,
    "bool": FieldDescriptor.TYPE_BOOL,
    "string": FieldDescriptor.TYPE_STRING,
}


def _file() -> descriptor_pb2.FileDescriptorProto:
    """The messages and enums above as one .proto file of package `protocol`."""
    proto = descriptor_pb2.FileDescriptorProto(
        name="sandbox/tron/protocol.proto",
        package="protocol",
        syntax="proto3",
        dependency=["google/protobuf/any.proto"],
    )
    containers: dict[str, Any] = {"": proto}
    for name in sorted(set(_MESSAGES) | set(_ENUMS), key=lambda n: n.count(".")):
        parent, _, short = name.rpartition(".")
        holder = containers[parent]
        if name in _ENUMS:
            enum = holder.enum_type.add(name=short)
            for value, number in _ENUMS[name]:
                enum.value.add(name=value, number=number)
            continue
        messages = holder.nested_type if parent else holder.message_type
        message = messages.add(name=short)
        containers[name] = message
        for field, number, kind, repeated in _MESSAGES[name]:
            f = message.field.add(name=field, number=number, json_name=field)
            f.label = f.LABEL_REPEATED if repeated else f.LABEL_OPTIONAL
            if kind in _SCALARS:
                f.type = _SCALARS[kind]
            else:
                f.type = f.TYPE_ENUM if kind in _ENUMS else f.TYPE_MESSAGE
                f.type_name = kind if kind.startswith("google.") else f".protocol.{kind}"
    return proto


_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(descriptor_pb2.FileDescriptorProto.FromString(any_pb2.DESCRIPTOR.serialized_pb))
_POOL.Add(_file())
# The classes are made at run time, so their fields are attributes no type checker can see.
MessageClass = type[Any]
_CLASSES: dict[str, MessageClass] = {}


def message_class(name: str) -> MessageClass:
    """The message class of a name above (`TransferContract`, `Transaction.raw`...)."""
    cls = _CLASSES.get(name)
    if cls is None:
        try:
            descriptor = _POOL.FindMessageTypeByName(f"protocol.{name}")
        except KeyError:
            raise ValueError(f"{name}: not a Tron message the sandbox knows") from None
        cls = _CLASSES[name] = message_factory.GetMessageClass(descriptor)
    return cls


# -- java-tron's JSON -> message ------------------------------------------------------------


def _bytes_in(field: FieldDescriptor, value: Any, where: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a string, got {type(value).__name__}")
    if field.name in ADDRESS_FIELDS and value.startswith("T"):
        try:
            return tron_address.to_bytes(value)
        except InvalidTronAddress as e:
            raise ValueError(f"{where}: {e}") from None
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise ValueError(f"{where}: not hex") from None


def _scalar_in(field: FieldDescriptor, value: Any, where: str) -> Any:
    if field.type == FieldDescriptor.TYPE_BYTES:
        return _bytes_in(field, value, where)
    if field.type == FieldDescriptor.TYPE_ENUM:
        enum = field.enum_type
        assert enum is not None  # an enum field always has its enum type
        if isinstance(value, str) and value in enum.values_by_name:
            return enum.values_by_name[value].number
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and value in enum.values_by_number
        ):
            return value
        raise ValueError(f"{where}: {value!r} is not a {enum.name}")
    if field.type == FieldDescriptor.TYPE_BOOL:
        if not isinstance(value, bool):
            raise ValueError(f"{where}: expected true or false")
        return value
    if field.type == FieldDescriptor.TYPE_STRING:
        if not isinstance(value, str):
            raise ValueError(f"{where}: expected a string")
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{where}: expected an integer, got {value!r}")
    bits = 63 if field.type == FieldDescriptor.TYPE_INT64 else 31
    if not -(2**bits) <= value < 2**bits:
        raise ValueError(f"{where}: {value} is out of range")
    return value


def _fill(message: Any, obj: Any, where: str) -> None:
    descriptor = message.DESCRIPTOR
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected an object")
    if descriptor.full_name == "google.protobuf.Any":
        _fill_any(message, obj, where)
        return
    for key, value in obj.items():
        field = descriptor.fields_by_name.get(key)
        if field is None:
            raise ValueError(f'{where}: message "{descriptor.full_name}" has no field "{key}"')
        at = f"{where}.{key}"
        if value is None:
            continue
        if field.is_repeated:
            if not isinstance(value, list):
                raise ValueError(f"{at}: expected a list")
            target = getattr(message, key)
            for i, item in enumerate(value):
                if field.type == FieldDescriptor.TYPE_MESSAGE:
                    _fill(target.add(), item, f"{at}[{i}]")
                else:
                    target.append(_scalar_in(field, item, f"{at}[{i}]"))
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            _fill(getattr(message, key), value, at)
        else:
            setattr(message, key, _scalar_in(field, value, at))


def _fill_any(message: Any, obj: dict, where: str) -> None:
    type_url = obj.get("type_url")
    if not isinstance(type_url, str) or not type_url.startswith(TYPE_URL_PREFIX):
        raise ValueError(f"{where}.type_url: expected {TYPE_URL_PREFIX}<Contract>")
    inner = message_class(type_url[len(TYPE_URL_PREFIX) :])()
    _fill(inner, obj.get("value", {}), f"{where}.value")
    message.type_url = type_url
    message.value = inner.SerializeToString()


def encode(name: str, obj: dict) -> bytes:
    """The protobuf bytes of message name given in java-tron's JSON (either `visible` form).

    ValueError naming the field when obj does not fit the message.
    """
    message = message_class(name)()
    _fill(message, obj, name)
    return message.SerializeToString()


def encode_raw(raw_data: dict) -> bytes:
    """The bytes of a transaction's `raw_data` (what its txID is the SHA-256 of)."""
    return encode("Transaction.raw", raw_data)


# -- message -> java-tron's JSON ------------------------------------------------------------


# How to_json prints a field, by its descriptor: (name, repeated, kind, enum names by number
# or None, whether `visible` prints it in base58). Reading these off the descriptor for
# every field of every message printed cost more than the printing itself.
_MESSAGE, _BYTES, _ENUM, _PLAIN = range(4)
_FIELD_PLANS: dict[Any, tuple[str, bool, int, dict[int, str] | None, bool]] = {}


def _field_plan(field: FieldDescriptor) -> tuple[str, bool, int, dict[int, str] | None, bool]:
    """How to_json prints field (cached)."""
    plan = _FIELD_PLANS.get(field)
    if plan is None:
        names = None
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            kind = _MESSAGE
        elif field.type == FieldDescriptor.TYPE_BYTES:
            kind = _BYTES
        elif field.type == FieldDescriptor.TYPE_ENUM:
            kind = _ENUM
            assert field.enum_type is not None  # an enum field always has its enum type
            names = {n: v.name for n, v in field.enum_type.values_by_number.items()}
        else:
            kind = _PLAIN
        plan = (field.name, field.is_repeated, kind, names, field.name in ADDRESS_FIELDS)
        _FIELD_PLANS[field] = plan
    return plan


def _out(kind: int, names: dict[int, str] | None, address: bool, value: Any, visible: bool):
    """A value of a field that is not a message: bytes in hex (or base58), enums by name."""
    if kind == _BYTES:
        if visible and address and len(value) == 21:
            return tron_address.to_base58(value)
        return value.hex()
    if kind == _ENUM:
        assert names is not None
        return names.get(value, value)
    return value


def to_json(message: Any, visible: bool = False) -> dict:
    """java-tron's JSON of a message: set fields only, in field-number order."""
    if message.DESCRIPTOR.full_name == "google.protobuf.Any":
        type_url = message.type_url
        inner = message_class(type_url[len(TYPE_URL_PREFIX) :])()
        inner.ParseFromString(message.value)
        return {"value": to_json(inner, visible), "type_url": type_url}
    out: dict[str, Any] = {}
    for field, value in message.ListFields():
        name, repeated, kind, names, address = _field_plan(field)
        if kind == _MESSAGE:
            out[name] = (
                [to_json(item, visible) for item in value] if repeated else to_json(value, visible)
            )
        elif kind == _PLAIN:
            out[name] = list(value) if repeated else value
        elif repeated:
            out[name] = [_out(kind, names, address, item, visible) for item in value]
        else:
            out[name] = _out(kind, names, address, value, visible)
    return out


def decode(name: str, data: bytes, visible: bool = False) -> dict:
    """java-tron's JSON of protobuf bytes of message name.

    ValueError when the bytes are not such a message.
    """
    message = message_class(name)()
    try:
        message.ParseFromString(data)
        return to_json(message, visible)
    except (DecodeError, ValueError) as e:
        raise ValueError(f"not a protocol.{name}: {e}") from None


def decode_raw(data: bytes, visible: bool = False) -> dict:
    """The `raw_data` JSON of a transaction's raw bytes."""
    return decode("Transaction.raw", data, visible)


# -- a fast path for the transactions the build signs by the million ------------------------
#
# The same bytes and the same JSON as encode_raw() then decode_raw(), written out directly
# for a contract whose value is already in the canonical form (lowercase hex bytes, ints in
# range, enum names): proto3 leaves a field at its default out, and writes the fields in
# number order. Anything else returns None and the caller takes the general path.


def _tag(number: int, wire: int) -> bytes:
    return encode_varint(number << 3 | wire)


# Contract name -> [(field, tag, kind, enum names by number or None, enum numbers by name)].
_FAST_FIELDS: dict[str, list[tuple[str, bytes, str, dict[int, str], dict[str, int]]]] = {}
for _name in CONTRACT_TYPES:
    if _name in _MESSAGES and CONTRACT_TYPES[_name] != 0:
        _fields = []
        for _field, _number, _kind, _repeated in _MESSAGES[_name]:
            if _repeated or _kind not in ("bytes", "int64", "int32", "bool", *_ENUMS):
                break
            _pairs = _ENUMS.get(_kind, [])
            _wire = 2 if _kind == "bytes" else 0
            _fields.append(
                (_field, _tag(_number, _wire), _kind, {n: v for v, n in _pairs}, dict(_pairs))
            )
        else:
            _FAST_FIELDS[_name] = _fields
# Each such contract's pieces that do not change: Contract.type, then Any.type_url.
_FAST_TYPE = {
    name: (b"\x08" + encode_varint(CONTRACT_TYPES[name]), TYPE_URL_PREFIX + name)
    for name in _FAST_FIELDS
}
_FAST_URL = {
    name: b"\x0a" + encode_varint(len(url.encode())) + url.encode() + b"\x12"
    for name, (_, url) in _FAST_TYPE.items()
}


def encode_raw_fast(
    contract_type: str,
    value: dict[str, Any],
    ref_block_bytes: bytes,
    ref_block_hash: bytes,
    expiration: int,
    timestamp: int,
    fee_limit: int,
) -> tuple[dict[str, Any], bytes] | None:
    """(raw_data JSON, raw bytes) of a one-contract transaction, as decode_raw(encode_raw(..))
    gives them, or None when the value is not in the form this fast path knows."""
    fields = _FAST_FIELDS.get(contract_type)
    if fields is None or len(ref_block_bytes) != 2 or len(ref_block_hash) != 8:
        return None
    if type(expiration) is not int or type(timestamp) is not int or type(fee_limit) is not int:
        return None
    if not (0 < expiration < 2**63 and 0 < timestamp < 2**63 and 0 <= fee_limit < 2**63):
        return None
    seen = 0
    parts: list[bytes] = []
    out: dict[str, Any] = {}
    for name, tag, kind, names, numbers in fields:
        item = value.get(name)
        if name in value:
            seen += 1
        if item is None:
            continue
        if kind == "bytes":
            if type(item) is not str:
                return None
            try:
                data = bytes.fromhex(item)
            except ValueError:
                return None
            if data.hex() != item:
                return None
            if data:
                parts += (tag, encode_varint(len(data)), data)
                out[name] = item
        elif kind == "bool":
            if type(item) is not bool:
                return None
            if item:
                parts += (tag, b"\x01")
                out[name] = True
        elif names:
            number = numbers.get(item) if type(item) is str else None
            if number is None:
                if type(item) is not int or item not in names:
                    return None
                number = item
            if number:
                parts += (tag, encode_varint(number))
                out[name] = names[number]
        else:
            if type(item) is not int or not 0 <= item < 2 ** (63 if kind == "int64" else 31):
                return None
            if item:
                parts += (tag, encode_varint(item))
                out[name] = item
    if seen != len(value):
        return None  # a key the message does not have: the general path says which
    param = b"".join(parts)
    type_part, url = _FAST_TYPE[contract_type]
    contract = _contract(type_part, _FAST_URL[contract_type], param)
    raw_bytes = b"".join(
        (
            b"\x0a\x02",
            ref_block_bytes,
            b"\x22\x08",
            ref_block_hash,
            _after_reference(contract, expiration, timestamp, fee_limit),
        )
    )
    raw: dict[str, Any] = {
        "ref_block_bytes": ref_block_bytes.hex(),
        "ref_block_hash": ref_block_hash.hex(),
        "expiration": expiration,
        "contract": [
            {
                "type": contract_type,
                "parameter": {"value": out, "type_url": url},
            }
        ],
        "timestamp": timestamp,
    }
    if fee_limit:
        raw["fee_limit"] = fee_limit
    return raw, raw_bytes


# The two contracts the build makes by the million, as encode_raw_fast writes them when
# their value holds exactly these keys, every one non-default: (Contract.type and
# Any.type_url's bytes, the keys in field order, the third field's tag).
_COMMON = {
    "TransferContract": (
        _FAST_TYPE["TransferContract"][0],
        _FAST_URL["TransferContract"],
        ("owner_address", "to_address", "amount"),
        b"\x18",
    ),
    "TriggerSmartContract": (
        _FAST_TYPE["TriggerSmartContract"][0],
        _FAST_URL["TriggerSmartContract"],
        ("owner_address", "contract_address", "data"),
        b"\x22",
    ),
}


def raw_after_reference(
    contract_type: str, value: dict[str, Any], expiration: int, timestamp: int, fee_limit: int
) -> tuple[bytes, bytes] | None:
    """(the raw bytes after ref_block_hash, the owner's 21 bytes) of a TransferContract or
    TriggerSmartContract, the same bytes encode_raw_fast makes, when value holds exactly
    owner, target and amount or data, in canonical form (lowercase hex, amount > 0, data
    not empty); None for anything else (encode_raw_fast or encode_raw then)."""
    common = _COMMON.get(contract_type)
    if common is None or len(value) != 3:
        return None
    type_part, url, (owner_key, target_key, third_key), third_tag = common
    owner_hex, target_hex, third = value.get(owner_key), value.get(target_key), value.get(third_key)
    if type(owner_hex) is not str or type(target_hex) is not str:
        return None
    try:
        owner, target = bytes.fromhex(owner_hex), bytes.fromhex(target_hex)
    except ValueError:
        return None
    if len(owner) != 21 or len(target) != 21 or owner.hex() != owner_hex:
        return None
    if target.hex() != target_hex:
        return None
    if type(third) is int:
        if third_tag != b"\x18" or not 0 < third < 2**63:
            return None
        last = encode_varint(third)
    elif type(third) is str and third_tag == b"\x22" and third:
        try:
            data = bytes.fromhex(third)
        except ValueError:
            return None
        if data.hex() != third:
            return None
        last = encode_varint(len(data)) + data
    else:
        return None
    if not (0 < expiration < 2**63 and 0 < timestamp < 2**63 and 0 <= fee_limit < 2**63):
        return None
    param = b"\x0a\x15" + owner + b"\x12\x15" + target + third_tag + last
    return _after_reference(
        _contract(type_part, url, param), expiration, timestamp, fee_limit
    ), owner


_TRIGGER_TYPE, _TRIGGER_URL = _COMMON["TriggerSmartContract"][:2]
_TRANSFER_TYPE, _TRANSFER_URL = _COMMON["TransferContract"][:2]


def trigger_after_reference(
    owner: bytes, contract: bytes, data: bytes, expiration: int, timestamp: int, fee_limit: int
) -> bytes:
    """raw_after_reference's bytes of a TriggerSmartContract from owner (21 bytes) to
    contract (21 bytes) with data (not empty), from the bytes themselves; the caller vouches
    for what raw_after_reference checks."""
    pieces = _TRIGGER_PIECES.get((contract, len(data)))
    if pieces is None:
        # With owner 21 bytes, every length in the contract follows from the data's: what
        # comes before the owner and between it and the data is the same for every call.
        param = b"".join(
            (b"\x0a\x15", bytes(21), b"\x12\x15", contract, b"\x22", encode_varint(len(data)))
        )
        whole = _contract(_TRIGGER_TYPE, _TRIGGER_URL, param + data)
        before = whole[: len(whole) - len(param) - len(data) + 2]  # through the owner's tag
        pieces = _TRIGGER_PIECES[(contract, len(data))] = (
            b"\x5a" + encode_varint(len(whole)) + before,
            param[23:],
        )
    before_owner, after_owner = pieces
    return b"".join(
        (
            b"\x40",
            encode_varint(expiration),
            before_owner,
            owner,
            after_owner,
            data,
            b"\x70",
            encode_varint(timestamp),
            b"\x90\x01" + encode_varint(fee_limit) if fee_limit else b"",
        )
    )


# (contract, data length) -> the bytes around the owner in trigger_after_reference
_TRIGGER_PIECES: dict[tuple[bytes, int], tuple[bytes, bytes]] = {}


def transfer_after_reference(
    owner: bytes, to: bytes, amount: int, expiration: int, timestamp: int
) -> bytes:
    """raw_after_reference's bytes of a TransferContract of amount sun (> 0) from owner to
    to (21 bytes each), without fee_limit, from the bytes themselves; the caller vouches for
    what raw_after_reference checks."""
    param = b"".join((b"\x0a\x15", owner, b"\x12\x15", to, b"\x18", encode_varint(amount)))
    return _after_reference(
        _contract(_TRANSFER_TYPE, _TRANSFER_URL, param), expiration, timestamp, 0
    )


def _contract(type_part: bytes, url: bytes, param: bytes) -> bytes:
    """A Transaction.Contract: its type, then the Any holding the parameter message."""
    any_bytes = url + encode_varint(len(param)) + param
    return type_part + b"\x12" + encode_varint(len(any_bytes)) + any_bytes


def _after_reference(contract: bytes, expiration: int, timestamp: int, fee_limit: int) -> bytes:
    """raw_data's fields after ref_block_hash: expiration, the contract, timestamp, fee_limit."""
    return b"".join(
        (
            b"\x40",
            encode_varint(expiration),
            b"\x5a",
            encode_varint(len(contract)),
            contract,
            b"\x70",
            encode_varint(timestamp),
            b"\x90\x01" + encode_varint(fee_limit) if fee_limit else b"",
        )
    )
