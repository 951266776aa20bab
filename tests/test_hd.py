"""Wallets from recovery words: the keys a seized phone's BIP39 words must give.

Vectors: the BIP84, BIP49 and BIP44 test vectors for the mnemonic "abandon ... about".
"""

from __future__ import annotations

from embit import bip39

from sandbox.ledger.hd import HDKeys, recovery_words
from sandbox.ledger.sim.wallet import AddressBook, Wallet

ABANDON = "abandon " * 11 + "about"


def test_bip84_bip49_bip44_vectors():
    """The book gives an HD wallet's addresses in BIP order, receive and change apart."""
    book = AddressBook(seed=1)
    try:
        segwit = Wallet(1, "suspect", "personal", hd=HDKeys(ABANDON))
        nested = Wallet(2, "suspect", "personal", address_type="p2sh", hd=HDKeys(ABANDON))
        legacy = Wallet(3, "suspect", "personal", address_type="p2pkh", hd=HDKeys(ABANDON))
        made = [
            book.new(segwit, "published"),
            book.new(segwit, "change"),
            book.new(segwit, "sale"),
            book.new(nested, "receive"),
            book.new(legacy, "receive"),
        ]
        rows = {r[0]: r[1] for r in book.take_rows()}
    finally:
        book.close()
    assert [rows[i] for i in made] == [
        "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu",  # m/84'/0'/0'/0/0
        "bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el",  # m/84'/0'/0'/1/0
        "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g",  # m/84'/0'/0'/0/1
        "37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf",  # m/49'/0'/0'/0/0
        "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA",  # m/44'/0'/0'/0/0
    ]


def test_recovery_words_are_valid_and_fixed_per_world_and_actor():
    """12 valid BIP39 words, the same for a world and actor, different for another."""
    words = recovery_words(7, "vendors-1")
    assert len(words.split()) == 12 and bip39.mnemonic_is_valid(words)
    assert recovery_words(7, "vendors-1") == words
    assert len({words, recovery_words(7, "vendors-2"), recovery_words(8, "vendors-1")}) == 3
