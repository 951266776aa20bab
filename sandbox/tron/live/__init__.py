"""The running Tron chain: tron.db in the state directory, a block every 3 s while served."""
