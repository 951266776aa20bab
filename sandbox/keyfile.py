"""A state folder's secret key file: created once, readable by its owner only.

Several processes may load it at once (`sandbox up` and its worker processes start
together): the key is written whole to a file of its own and linked into place, which
fails for every process but the first, and those read the first one's key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["load_key"]


def load_key(path: str | Path, size: int = 32) -> bytes:
    """The key in path, or a fresh random one written there (mode 0600) when it has none
    (or a shorter one, left by an older version that crashed while writing it)."""
    path = Path(path)
    while True:
        try:
            key = path.read_bytes()
        except FileNotFoundError:
            key = b""
        if len(key) >= size:
            return key
        fresh = secrets.token_bytes(size)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(fresh)
                f.flush()
                os.fsync(f.fileno())
            if key:  # a short key is no key: replaced, whoever else replaces it too
                os.replace(draft, path)
                return path.read_bytes()
            os.link(draft, path)
            return fresh
        except FileExistsError:
            continue  # another process linked its key first: read that one
        finally:
            draft.unlink(missing_ok=True)
