"""Usernames and handles: from profile URLs, links to profiles, page structure and @mentions.

Sources, kept in each artefact's details:
  url        the capture itself is a profile page (/vendor/<h>, /u/<h>, /user/<h>, ...)
  link       the page links to a profile (the profile's site is details["site"])
  structure  a labelled field of the page ("Vendor: <h>", "Seller", "Author", ...)
  mention    an @handle in the text
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from .base import Artefact, Document, snippet

HANDLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{1,31}")
PROFILE_PATH = re.compile(
    r"^/(?:vendor|vendors|seller|sellers|u|user|users|profile|profiles|member|members|author"
    r"|shop)/(?P<h>[^/?#]+)/?$|^/@(?P<at>[^/?#]+)/?$",
    re.I,
)
PROFILE_QUERY = ("vendor", "seller", "user", "username", "author", "to")
LABELS = {"vendor", "seller", "user", "username", "author", "member", "posted by", "handle"}
MENTION = re.compile(r"(?<![\w@.+-])@([A-Za-z0-9_]{3,24})\b(?![@.][A-Za-z0-9])")
# @-words of CSS, mail and chat that are not anyone's handle.
NOT_HANDLES = {
    "media",
    "import",
    "charset",
    "font-face",
    "keyframes",
    "supports",
    "page",
    "everyone",
    "here",
    "channel",
    "all",
}


def profile_handle(url: str) -> str | None:
    """The handle a profile URL points to (/vendor/<h>, /u/<h>, ?user=<h>...), if any."""
    parts = urlsplit(url)
    match = PROFILE_PATH.match(unquote(parts.path))
    if match:
        handle = match.group("h") or match.group("at")
        return handle if HANDLE.fullmatch(handle) else None
    query = parse_qs(parts.query)
    for name in PROFILE_QUERY:
        for value in query.get(name, []):
            if HANDLE.fullmatch(value):
                return value
    return None


def find(doc: Document) -> Iterator[Artefact]:
    """Every handle the document shows, with where it came from."""
    own = profile_handle(doc.url)
    if own and not urlsplit(doc.url).query:
        yield Artefact("username", own, own.lower(), f"profile page {doc.url}", {"source": "url"})
    yield from _structure(doc)
    yield from _links(doc)
    text = doc.plain
    for match in MENTION.finditer(text):
        name = match.group(1)
        if name.lower() in NOT_HANDLES:
            continue
        yield Artefact(
            "username",
            "@" + name,
            name.lower(),
            snippet(text, match.start(), match.end()),
            {"source": "mention"},
        )


def _links(doc: Document) -> Iterator[Artefact]:
    """Handles of the profiles the page links to."""
    if doc.soup is None:
        return
    for tag in doc.soup.find_all("a", href=True):
        target = urljoin(doc.url, str(tag["href"]))
        handle = profile_handle(target)
        if not handle:
            continue
        site = (urlsplit(target).hostname or "").lower()
        yield Artefact(
            "username",
            handle,
            handle.lower(),
            f"link {tag.get_text(' ', strip=True)[:60]!r} -> {target}",
            {"source": "link", "site": site},
        )


def _structure(doc: Document) -> list[Artefact]:
    """Handles in labelled fields: <th>Vendor</th><td>name</td>, <dt>Seller</dt><dd>..."""
    if doc.soup is None:
        return []
    found = []
    for label in doc.soup.find_all(["th", "dt"]):
        name = label.get_text(" ", strip=True).rstrip(":").lower()
        if name not in LABELS:
            continue
        cell = label.find_next_sibling(["td", "dd"])
        if cell is None:
            continue
        strong = cell.find(["a", "b", "strong"])
        words = (strong or cell).get_text(" ", strip=True).split()
        if not words:
            continue
        handle = words[0].lstrip("@")
        if HANDLE.fullmatch(handle):
            found.append(
                Artefact(
                    "username",
                    handle,
                    handle.lower(),
                    f"{label.get_text(' ', strip=True)}: {cell.get_text(' ', strip=True)[:80]}",
                    {"source": "structure", "label": name},
                )
            )
    return found
