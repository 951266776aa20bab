"""The toolkit's encodings (Bitcoin's, and Tron's), one module each; nothing else in investigator_tools/
re-implements them (tests/test_codec.py checks). The toolkit never imports the engine's
codec (sandbox/ledger/codec): an investigator's tools stand on their own.

- `hashes`: sha256d, hash160, tagged hashes (embit)
- `base58`: Base58, Base58Check, and Monero's block-wise Base58
- `bech32`: segwit addresses (BIP173/BIP350)
- `compact`: Bitcoin's CompactSize ("varint")
- `pushes`: script pushes
- `amounts`: satoshis as BTC (`format_btc`)
- `tron`: Tron addresses (T... base58check of 0x41 + 20 bytes, 41... hex, from a public key)
- `protobuf`: a minimal protobuf reader for Tron's Transaction.raw
"""
