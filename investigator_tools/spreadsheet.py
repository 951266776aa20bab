"""CSV cells that a spreadsheet shows as text, never runs as a formula.

Evidence comes from criminals' sites: a forum post or a username such as
`=HYPERLINK("http://x","open")` must not turn into a live formula when the case's CSV
export is opened in a spreadsheet. As OWASP's CSV-injection guidance says, a cell that
starts with = + - @, a tab or a carriage return gets a leading apostrophe. (The toolkit
never imports the sandbox, so it keeps its own copy of this rule.)
"""

from __future__ import annotations

__all__ = ["FORMULA_STARTS", "safe_cell"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A CSV cell value, with text that a spreadsheet would evaluate made inert."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
