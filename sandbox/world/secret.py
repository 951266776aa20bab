"""The course secret: 128 random bits mixed into every random choice of a world.

The scenario and its seed are public (the trainees get the package), so a world derived
from them alone could be rebuilt by anyone, answer key and seat codes included. The build
therefore derives its seed from the public seed and a secret kept only in world.db;
`sandbox build --secret HEX` rebuilds the same world.
"""

from __future__ import annotations

import hashlib
import secrets

SECRET_BYTES = 16


def new_secret() -> bytes:
    """A fresh random course secret."""
    return secrets.token_bytes(SECRET_BYTES)


def parse_secret(text: str) -> bytes:
    """The secret written as 32 hex digits, or ValueError saying what is wrong."""
    text = text.strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"{text!r} is not hexadecimal") from None
    if len(raw) != SECRET_BYTES:
        raise ValueError(
            f"needs {SECRET_BYTES * 2} hex digits ({SECRET_BYTES * 8} bits), got {len(text)}"
        )
    return raw


def keyed_seed(seed: int, secret: bytes) -> int:
    """The seed a world is generated from: the public seed keyed by the secret (256 bits)."""
    digest = hashlib.sha256(b"sandbox/world-seed\x00%d\x00" % seed + secret).digest()
    return int.from_bytes(digest, "big")
