"""Briefs and notes written in Markdown, as HTML that is safe to put in a page.

CommonMark with raw HTML off: a `<script>` in a scenario's text comes out as text, and
markdown-it's link check refuses javascript:, vbscript:, file: and data: (but images)
URLs, so nothing in a brief can run in the trainee's browser.
"""

from __future__ import annotations

import functools

from markdown_it import MarkdownIt
from markupsafe import Markup

__all__ = ["MARKDOWN_KINDS", "render_markdown"]

MARKDOWN_KINDS = ("brief", "text")  # artefact kinds whose text is Markdown
_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


@functools.lru_cache(maxsize=512)
def render_markdown(text: str) -> Markup:
    """Markdown as sanitised HTML (the world never changes while served: cached)."""
    return Markup(_MD.render(text))
