"""Ways to reach a person: emails, phone numbers and messenger handles.

Messengers: Telegram (t.me/ links, or an @name next to the word Telegram), Session IDs
(66 hex digits starting 05), Jabber/XMPP ids (xmpp: URIs, or an id next to the word
Jabber/XMPP/OMEMO) and Wickr names (next to the word Wickr).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers

from .base import Artefact, Document, snippet

EMAIL = re.compile(
    r"(?<![\w.+-])([A-Za-z0-9][A-Za-z0-9._%+-]{0,63})@((?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24})\b"
)
# File names that look like addresses ("logo@2x.png") are not emails.
NOT_TLDS = {"png", "jpg", "jpeg", "gif", "svg", "webp", "css", "js", "ico", "bmp", "tif", "tiff"}
XMPP_WORD = re.compile(r"(?i)\b(?:jabber|xmpp|omemo|jid)\b")
TELEGRAM_LINK = re.compile(
    r"(?i)\b(?:https?://)?(?:t|telegram)\.me/(?:s/)?([A-Za-z][A-Za-z0-9_]{4,31})\b"
)
TELEGRAM_WORD = re.compile(r"(?i)\b(?:telegram|tg)\b\W{0,5}@([A-Za-z][A-Za-z0-9_]{4,31})\b")
SESSION_ID = re.compile(r"(?<![0-9A-Fa-f])05[0-9a-fA-F]{64}(?![0-9A-Fa-f])")
WICKR = re.compile(r"(?i)\bwickr(?:\s*me)?(?:\s*id)?\s*[:=-]\s*@?([A-Za-z0-9][A-Za-z0-9_.-]{2,31})")
# Telegram and Wickr keep a few words for links and their own pages, never user names.
RESERVED = {"joinchat", "share", "addstickers", "proxy", "iv", "login", "download", "support"}


def find(doc: Document) -> Iterator[Artefact]:
    """Every email, phone number and messenger handle in the document."""
    text = doc.plain
    yield from _emails(text)
    yield from _phones(text)
    yield from _messengers(text)


def _emails(text: str) -> Iterator[Artefact]:
    """Emails; ids introduced as Jabber/XMPP are reported as xmpp instead."""
    for match in EMAIL.finditer(text):
        local, domain = match.group(1), match.group(2)
        if domain.rsplit(".", 1)[-1].lower() in NOT_TLDS or local.endswith("."):
            continue
        value = match.group(0)
        before = text[max(0, match.start() - 25) : match.start()]
        kind = "xmpp" if XMPP_WORD.search(before) or before.lower().endswith("xmpp:") else "email"
        yield Artefact(
            kind,
            value,
            f"{local}@{domain}".lower(),
            snippet(text, match.start(), match.end()),
            {"domain": domain.lower()},
        )


def _phones(text: str) -> Iterator[Artefact]:
    """Phone numbers written in international form (+CC ...), validated by libphonenumber."""
    # Without a region only "+..." numbers match: prices, ids and dates stay out.
    for match in phonenumbers.PhoneNumberMatcher(text, None, leniency=phonenumbers.Leniency.VALID):
        number = match.number
        yield Artefact(
            "phone",
            match.raw_string,
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
            snippet(text, match.start, match.end),
            {
                "region": phonenumbers.region_code_for_number(number),
                "type": _phone_type(number),
            },
        )


def _phone_type(number: phonenumbers.PhoneNumber) -> str:
    """Mobile, fixed line, VoIP..., in words."""
    kind = phonenumbers.number_type(number)
    names = {v: k.lower() for k, v in vars(phonenumbers.PhoneNumberType).items() if k.isupper()}
    return names.get(kind, "unknown")


def _messengers(text: str) -> Iterator[Artefact]:
    """Telegram, Session and Wickr handles (Jabber ids come with the emails)."""
    for pattern in (TELEGRAM_LINK, TELEGRAM_WORD):
        for match in pattern.finditer(text):
            name = match.group(1)
            if name.lower() in RESERVED:
                continue
            yield Artefact(
                "telegram",
                match.group(0),
                name.lower(),
                snippet(text, match.start(), match.end()),
                {"handle": name},
            )
    for match in SESSION_ID.finditer(text):
        yield Artefact(
            "session_id",
            match.group(0),
            match.group(0).lower(),
            snippet(text, match.start(), match.end()),
        )
    for match in WICKR.finditer(text):
        name = match.group(1).rstrip(".")
        if name.lower() in RESERVED:
            continue
        yield Artefact(
            "wickr",
            match.group(0),
            name.lower(),
            snippet(text, match.start(), match.end()),
            {"handle": name},
        )
