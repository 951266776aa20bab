"""Amounts as the case report prints them (HTML and PDF alike)."""

from __future__ import annotations

__all__ = ["btc"]


def btc(sats) -> str:
    """Satoshis as BTC."""
    if sats is None:
        return ""
    sats = round(sats)
    whole, frac = divmod(abs(sats), 100_000_000)
    return f"{'-' if sats < 0 else ''}{whole}.{frac:08d} BTC"
