"""Satoshis and BTC: the one place the engine converts and formats amounts.

Every figure is formatted from whole satoshis with integer arithmetic, so a page never
shows float noise. Pages differ in how many decimals they keep (Core's FormatMoney trims
to two, the shops to five, scenario messages to none, the explorer keeps eight and groups
thousands); each passes its choice to format_btc rather than keeping its own formatter.
"""

from __future__ import annotations

__all__ = ["COIN", "btc_to_sat", "format_btc", "sat_to_btc"]

COIN = 100_000_000  # satoshis per BTC


def sat_to_btc(sat: int) -> float:
    """Satoshis as a BTC number, rounded to 8 decimals (for JSON answers and arithmetic)."""
    return round(sat / COIN, 8)


def btc_to_sat(btc: float) -> int:
    """A BTC number as whole satoshis, rounded exactly as its "%.8f" rendering rounds it."""
    whole, _, frac = f"{btc:.8f}".partition(".")
    sat = abs(int(whole)) * COIN + int(frac)
    return -sat if whole.startswith("-") else sat


def format_btc(sat: int, *, min_decimals: int = 8, thousands: bool = False) -> str:
    """Satoshis as a BTC figure: "0.00012345".

    min_decimals below 8 trims trailing zeros down to that many decimals (0 also drops the
    point of a whole number); thousands groups the whole part with commas.
    """
    sign = "-" if sat < 0 else ""
    whole, frac = divmod(abs(sat), COIN)
    digits = f"{frac:08d}"
    if min_decimals < 8:
        digits = digits.rstrip("0").ljust(min_decimals, "0")
    whole_text = f"{whole:,}" if thousands else str(whole)
    return f"{sign}{whole_text}.{digits}" if digits else f"{sign}{whole_text}"
