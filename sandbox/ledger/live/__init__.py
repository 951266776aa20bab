"""The running chain: the mempool and blocks mined while a sandbox runs (chain.db)."""
