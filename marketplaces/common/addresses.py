"""Fresh Bitcoin addresses a service hands out: real secp256k1 keys, mainnet bech32 P2WPKH."""

from __future__ import annotations

import hashlib

from sandbox.ledger.address import p2wpkh_address
from sandbox.ledger.keys import Key, derive_secret
from sandbox.tron.address import to_base58
from sandbox.tron.keys import TronKey, tron_secret


def wallet_seed(world_seed: int, wallet_id: int, purpose: str) -> bytes:
    """The 32-byte seed the service's fresh addresses of one wallet derive from."""
    return hashlib.sha256(f"marketplaces/{purpose}/{world_seed}/{wallet_id}".encode()).digest()


def fresh_address(world_seed: int, wallet_id: int, purpose: str, number: int) -> str:
    """The number-th fresh address of a wallet (an escrow order, a donor, a shop order)."""
    secret = derive_secret(wallet_seed(world_seed, wallet_id, purpose), number)
    return p2wpkh_address(Key(secret).public_key)


def fresh_tron_address(world_seed: int, site_id: str, number: int) -> str:
    """The number-th fresh Tron address a site hands out (a donor's own USDT address)."""
    key = TronKey(tron_secret(world_seed, f"marketplaces/donation/{site_id}/{number}"))
    return to_base58(key.address)
