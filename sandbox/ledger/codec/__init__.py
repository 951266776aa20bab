"""The engine's Bitcoin encodings, one module each; nothing else in sandbox/ or marketplaces/
re-implements them (tests/test_codec.py checks).

- `hashes`: sha256, sha256d, hash160, tagged hashes
- `base58`: Base58 and Base58Check
- `bech32`: bech32/bech32m strings and segwit addresses (BIP173/BIP350)
- `compact`: Bitcoin's CompactSize ("varint")
- `pushes`: script pushes, written and parsed
- `amounts`: satoshis as BTC (`format_btc`, `sat_to_btc`)

embit (a dependency) is used where it does the job; these modules stay hand-written where
the world build's hot path needs speed or a trainee needs an error that says what is wrong.
"""
