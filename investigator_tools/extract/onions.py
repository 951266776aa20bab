"""v3 onion addresses, checksum-validated as rend-spec-v3 defines them.

An address is base32(PUBKEY | CHECKSUM | VERSION) + ".onion", where VERSION is 3 and
CHECKSUM is the first two bytes of SHA3-256(".onion checksum" | PUBKEY | VERSION).
A string that looks like one but fails the checksum is a typo or a phishing clone's
look-alike and is not reported as an onion address.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

from .base import Artefact, Document, snippet

ONION = re.compile(r"(?<![a-z2-7])([a-z2-7]{56})\.onion\b", re.I)
CHECKSUM_PREFIX = b".onion checksum"
VERSION = b"\x03"


def onion_checksum(public_key: bytes) -> bytes:
    """The two checksum bytes of a v3 address for an ed25519 public key."""
    return hashlib.sha3_256(CHECKSUM_PREFIX + public_key + VERSION).digest()[:2]


def onion_from_key(public_key: bytes) -> str:
    """The v3 onion address of a 32-byte ed25519 public key."""
    if len(public_key) != 32:
        raise ValueError("an ed25519 public key has 32 bytes")
    raw = public_key + onion_checksum(public_key) + VERSION
    return base64.b32encode(raw).decode().lower() + ".onion"


def onion_key(name: str) -> bytes | None:
    """The public key of a valid v3 onion name (with or without .onion), else None."""
    label = name.lower().removesuffix(".onion").rsplit(".", 1)[-1]
    if len(label) != 56 or not re.fullmatch(r"[a-z2-7]{56}", label):
        return None
    raw = base64.b32decode(label.upper())
    key, checksum, version = raw[:32], raw[32:34], raw[34:]
    if version != VERSION or checksum != onion_checksum(key):
        return None
    return key


def is_valid_onion(name: str) -> bool:
    """Whether a name is a v3 onion address with a correct checksum."""
    return onion_key(name) is not None


def find(doc: Document) -> Iterator[Artefact]:
    """Every valid v3 onion address mentioned in the document."""
    text = doc.plain
    for match in ONION.finditer(text):
        label = match.group(1).lower()
        if onion_key(label) is None:
            continue
        address = label + ".onion"
        yield Artefact(
            "onion",
            match.group(0),
            address,
            snippet(text, match.start(), match.end()),
            {"self": address == doc.host},
        )
