"""Calls on the USDT contract of the running Tron chain, signed with a world key and put in
the next block: the issuer's addBlackList, destroyBlackFunds, issue and transfer, and an
actor's own transfer (the tip-off inject)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..tron import abi
from ..tron import address as tron_address
from ..tron.errors import TronRejected
from ..tron.keys import TronKey
from ..tron.live.chain import TronLive
from ..tron.transaction import build
from ..tron.usdt import USDT_ADDRESS

__all__ = ["FEE_LIMIT", "balance", "blacklisted", "call"]

FEE_LIMIT = 100_000_000  # 100 TRX of energy at most, as the simulation's calls
EXPIRATION_MS = 60_000


def call(live: TronLive, secret: bytes, signature: str, values: Sequence[Any] = ()) -> str:
    """Sign a TriggerSmartContract on USDT with secret and broadcast it; its txid.

    TronRejected when the chain refuses it. Two identical calls at one head would share a
    txid, so the timestamp moves on by a millisecond until the txid is new.
    """
    key = TronKey(secret)
    value = {
        "owner_address": tron_address.to_hex(key.address),
        "contract_address": tron_address.to_hex(USDT_ADDRESS),
        "data": abi.call_data(signature, values).hex(),
    }
    number, block_id, head_ms = live.head()
    for bump in range(50):
        tx = build(
            "TriggerSmartContract",
            value,
            number,
            block_id,
            head_ms + bump,
            head_ms + EXPIRATION_MS,
            FEE_LIMIT,
        ).sign(key)
        try:
            return live.broadcast(tx)
        except TronRejected as e:
            if e.code != "DUP_TRANSACTION_ERROR":
                raise
    raise TronRejected("DUP_TRANSACTION_ERROR", "Dup transaction.")


def balance(live: TronLive, address: str) -> int:
    """The USDT balance of an address now (6 decimals)."""
    return int(live.usdt_read(lambda u: u.balance_of(address)))


def blacklisted(live: TronLive, address: str) -> bool:
    """Whether the address is on the USDT blacklist now."""
    return bool(live.usdt_read(lambda u: u.is_blacklisted(address)))
