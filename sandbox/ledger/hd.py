"""BIP39/BIP32 wallets, for actors whose recovery words a scenario hands out (a seized phone).

Most wallets draw their keys from the world's fast key stream (see sim/wallet.py). A wallet
made from recovery words derives each key as a real wallet app does instead:
m/purpose'/0'/0'/chain/index, purpose 84 (P2WPKH), 49 (P2SH-P2WPKH) or 44 (P2PKH),
chain 1 for change and 0 for everything else, indexes in the order the addresses are
made. So the words, typed into any BIP39 wallet or `investigate sweep --mnemonic`, find
the coins.
"""

from __future__ import annotations

import hashlib

from embit import bip32, bip39

PURPOSES = {"p2wpkh": 84, "p2sh": 49, "p2pkh": 44}


def recovery_words(world_seed: int, actor_id: str, stash: int = 0) -> str:
    """The 12 BIP39 words of an actor's wallet, the same in every build of the world.

    stash 0 is its personal wallet; stash k >= 1 its k-th stash wallet (see seats.py).
    """
    name = actor_id if stash == 0 else f"{actor_id}/stash-{stash}"
    entropy = hashlib.sha256(f"sandbox/bip39/{world_seed}/{name}".encode()).digest()[:16]
    return bip39.mnemonic_from_bytes(entropy)


class HDKeys:
    """The next key of each BIP44/49/84 chain of one set of recovery words."""

    def __init__(self, words: str):
        """The root of the words (no BIP39 passphrase)."""
        self._root = bip32.HDKey.from_seed(bip39.mnemonic_to_seed(words))
        self._accounts: dict[int, bip32.HDKey] = {}
        self._next: dict[tuple[int, int], int] = {}

    def next_secret(self, address_type: str, change: bool) -> bytes:
        """The private key of the next unused index on that chain."""
        purpose = PURPOSES[address_type]
        if purpose not in self._accounts:
            self._accounts[purpose] = self._root.derive(f"m/{purpose}h/0h/0h")
        chain = 1 if change else 0
        index = self._next.get((purpose, chain), 0)
        self._next[(purpose, chain)] = index + 1
        return self._accounts[purpose].derive([chain, index]).key.secret
