"""Text helpers shared by the world's generator and the sites that show its text."""

from __future__ import annotations

import unicodedata

__all__ = ["ascii_fold"]


def ascii_fold(text: str) -> str:
    """Text without accents, for matching and for handles."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
