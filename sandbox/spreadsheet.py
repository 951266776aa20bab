"""CSV cells that a spreadsheet shows as text, never runs as a formula.

A trainee's name such as `=HYPERLINK("http://x","click")` would otherwise become a live
formula when the instructor opens results.csv. As OWASP's CSV-injection guidance says, a
cell that starts with = + - @, a tab or a carriage return gets a leading apostrophe.
"""

from __future__ import annotations

__all__ = ["FORMULA_STARTS", "safe_cell"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A CSV cell value, with text that a spreadsheet would evaluate made inert."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
