"""The sandbox engine: scenarios, world generation, ledger, gateway and services."""

__version__ = "0.1.0"
