"""What every extractor shares: the artefact record and the document it reads a capture as."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from functools import cached_property

from bs4 import BeautifulSoup, Comment, MarkupResemblesLocatorWarning, NavigableString
from bs4.element import Script

CONTEXT = 70  # characters of context kept on each side of a match
# Armoured base64 (keys, signatures, messages); a clear-signed text itself stays readable.
ARMOR = re.compile(
    r"-----BEGIN PGP (PUBLIC KEY BLOCK|PRIVATE KEY BLOCK|SIGNATURE|MESSAGE)-----.*?"
    r"-----END PGP \1-----",
    re.S,
)
# Attributes whose values carry identifiers (links, mailto:, bitcoin:, meta content).
ATTRIBUTES = ("href", "src", "content", "value", "title", "alt", "action", "data-address")


@dataclass
class Artefact:
    """One thing found in a capture: a kind, its value as seen and normalized, and details."""

    kind: str
    value: str
    normalized: str
    context: str = ""
    details: dict = field(default_factory=dict)


@dataclass
class Document:
    """A capture seen as text (and HTML tree, or image bytes) by the extractors."""

    url: str
    host: str
    content_type: str
    body: bytes

    @property
    def is_html(self) -> bool:
        """Whether it is an HTML page."""
        return "html" in self.content_type

    @property
    def is_image(self) -> bool:
        """Whether it is a picture."""
        return self.content_type.startswith("image/")

    @property
    def is_text(self) -> bool:
        """Whether it can be read as text at all."""
        if self.is_image:
            return False
        if self.content_type.startswith("text/") or any(
            t in self.content_type for t in ("json", "xml", "javascript", "pgp")
        ):
            return True
        return b"\x00" not in self.body[:4096]

    @cached_property
    def raw(self) -> str:
        """The body decoded as text."""
        return self.body.decode("utf-8", "replace")

    @cached_property
    def soup(self) -> BeautifulSoup | None:
        """The parsed HTML tree, for HTML pages."""
        if not self.is_html:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            return BeautifulSoup(self.raw, "html.parser")

    @cached_property
    def text(self) -> str:
        """Everything a reader (or a page's source) shows: text, scripts, comments, attributes."""
        if not self.is_text:
            return ""
        if self.soup is None:
            return self.raw
        parts = []
        for node in self.soup.descendants:
            # Scripts hold analytics snippets, comments hold forgotten notes: keep both.
            if isinstance(node, Script | Comment) or type(node) is NavigableString:
                parts.append(str(node))
        for tag in self.soup.find_all(True):
            for name in ATTRIBUTES:
                value = tag.get(name)
                if isinstance(value, str) and value.strip():
                    parts.append(value)
        return "\n".join(parts)

    @cached_property
    def plain(self) -> str:
        """The text with armoured PGP blocks blanked, so their base64 is not scanned."""
        return ARMOR.sub(lambda m: " " * len(m.group(0)), self.text)


def snippet(text: str, start: int, end: int, width: int = CONTEXT) -> str:
    """The match with some text around it, on one line."""
    left = text[max(0, start - width) : start]
    right = text[end : end + width]
    flat = re.sub(r"\s+", " ", f"{left}{text[start:end]}{right}").strip()
    return ("…" if start > width else "") + flat + ("…" if end + width < len(text) else "")
