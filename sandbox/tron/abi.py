"""The Solidity ABI as TRC-20 calls and events use it on Tron.

A Tron address is ABI-encoded as its 20 bytes without the 0x41 prefix, left-padded to a
32-byte word; here addresses go in and come out as the 21 raw bytes (with 0x41), the
form the rest of `sandbox.tron` uses. Outputs and event data are encoded with eth-abi,
so they are exactly what tronpy (which patches eth-abi's address codec) decodes.
Arguments of a call are read the way a Solidity 0.4 contract reads its call data: a
word past the end reads as zeros and an address keeps only the low 160 bits of its word.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import eth_abi

from .address import PREFIX, to_bytes
from .hashes import keccak256

__all__ = [
    "address_word",
    "call_data",
    "decode",
    "encode",
    "event_topic",
    "read_args",
    "selector",
    "word_address",
]

WORD = 32


def selector(signature: str) -> bytes:
    """The 4-byte function selector of a signature such as `transfer(address,uint256)`."""
    return keccak256(signature.encode())[:4]


def event_topic(signature: str) -> bytes:
    """topics[0] of an event such as `Transfer(address,address,uint256)`."""
    return keccak256(signature.encode())


def address_word(address: str | bytes) -> bytes:
    """An address as one 32-byte word (an indexed event argument, an `address` value)."""
    return bytes(12) + to_bytes(address)[1:]


def word_address(word: bytes) -> bytes:
    """The 21-byte address in a word, keeping the low 160 bits as the contract does."""
    return bytes([PREFIX]) + word[-20:]


def _to_eth(types: Sequence[str], values: Sequence[Any]) -> list[Any]:
    return [to_bytes(v)[1:] if t == "address" else v for t, v in zip(types, values, strict=True)]


def _word(kind: str, value: Any) -> bytes | None:
    """The word of a uint256 or bool value as eth-abi writes it; None for anything else."""
    if kind == "uint256" and type(value) is int and 0 <= value < 1 << 256:
        return value.to_bytes(WORD, "big")
    if kind == "bool" and type(value) is bool:
        return bytes(WORD - 1) + (b"\x01" if value else b"\x00")
    return None


def encode(types: Sequence[str], values: Sequence[Any]) -> bytes:
    """ABI-encode values (addresses as T..., 41... or 21 bytes)."""
    if len(types) == 1 == len(values):
        word = _word(types[0], values[0])
        if word is not None:
            return word
    if len(types) == len(values):
        # The contract's outputs and event data are one or two uint256/bool words, a million
        # times in a build: written here, byte for byte what eth-abi makes of them.
        words = [_word(t, v) for t, v in zip(types, values, strict=True)]
        if None not in words:
            return b"".join(words)  # type: ignore[arg-type]
    return eth_abi.encode(list(types), _to_eth(types, values))


def decode(types: Sequence[str], data: bytes) -> tuple[Any, ...]:
    """ABI-decode data strictly (eth-abi's errors on malformed data); addresses as 21 bytes."""
    values = eth_abi.decode(list(types), data)
    return tuple(
        to_bytes("41" + v[2:]) if t == "address" else v for t, v in zip(types, values, strict=True)
    )


def call_data(signature: str, values: Sequence[Any] = ()) -> bytes:
    """Selector and encoded arguments of a call, e.g. `call_data("transfer(address,uint256)", [to, 5])`."""
    types = signature[signature.index("(") + 1 : -1]
    return selector(signature) + (encode(types.split(","), values) if types else b"")


def read_args(data: bytes, types: Sequence[str]) -> list[Any]:
    """The static arguments after the selector (`address`, `uint256`, `uint8`, `bool`)."""
    body = data[4:]
    out: list[Any] = []
    for i, kind in enumerate(types):
        word = body[i * WORD : (i + 1) * WORD].ljust(WORD, b"\0")
        if kind == "address":
            out.append(word_address(word))
        elif kind in ("uint256", "uint"):
            out.append(int.from_bytes(word, "big"))
        elif kind == "uint8":
            out.append(word[-1])
        elif kind == "bool":
            out.append(word[-1] != 0)
        else:
            raise ValueError(f"read_args: {kind!r} is not a static type this reader knows")
    return out
