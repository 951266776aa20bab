"""Fresh Bitcoin addresses a service hands out: real secp256k1 keys, mainnet bech32 P2WPKH."""

from __future__ import annotations

import hashlib

from sandbox.ledger.address import p2wpkh_address
from sandbox.ledger.keys import Key, derive_secret


def wallet_seed(world_seed: int, wallet_id: int, purpose: str) -> bytes:
    """The 32-byte seed the service's fresh addresses of one wallet derive from."""
    return hashlib.sha256(f"marketplaces/{purpose}/{world_seed}/{wallet_id}".encode()).digest()


def fresh_address(world_seed: int, wallet_id: int, purpose: str, number: int) -> str:
    """The number-th fresh address of a wallet (an escrow order, a donor, a shop order)."""
    secret = derive_secret(wallet_seed(world_seed, wallet_id, purpose), number)
    return p2wpkh_address(Key(secret).public_key)
