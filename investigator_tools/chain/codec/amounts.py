"""Satoshis as BTC: the one formatter of the toolkit's reports and CLI."""

from __future__ import annotations

__all__ = ["COIN", "format_btc"]

COIN = 100_000_000  # satoshis per BTC


def format_btc(sat: float | None, *, unit: bool = False) -> str:
    """Satoshis as BTC with eight decimals, "0.00012345" ("0.00012345 BTC" with unit).

    A fractional satoshi count (a traced share) is rounded to the nearest satoshi first;
    None, an amount nobody knows, is the empty string.
    """
    if sat is None:
        return ""
    sat = round(sat)
    whole, frac = divmod(abs(sat), COIN)
    text = f"{'-' if sat < 0 else ''}{whole}.{frac:08d}"
    return f"{text} BTC" if unit else text
