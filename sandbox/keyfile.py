"""A state folder's secret key file: created once, readable by its owner only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["load_key"]


def load_key(path: str | Path, size: int = 32) -> bytes:
    """The key in path, or a fresh random one written there (mode 0600) when it has none."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) >= size:
            return key
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    key = secrets.token_bytes(size)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
        f.flush()
        os.fsync(f.fileno())
    return key
