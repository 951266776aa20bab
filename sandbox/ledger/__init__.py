"""A Bitcoin-like UTXO ledger: keys, addresses, transactions, blocks."""
