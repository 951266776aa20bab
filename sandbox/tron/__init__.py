"""The Tron-format account chain: TRX, resources, and USDT as the TRC-20 contract.

It sits beside the Bitcoin-like ledger (`sandbox.ledger`) and shares nothing with it but
the world file and the scenario's actors. One module per encoding or rule: `address`
(T... and 41... forms), `hashes` (Keccak-256, SHA-256), the keys, the protobuf messages,
the ABI, the USDT contract, resources and fees, and the state a transaction is applied to.
"""
