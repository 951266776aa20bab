"""A portal's session key file, shared by every process that serves the portal.

Worker processes start together, so two may find the file missing at once. Each reads it,
and the first creates it, under an exclusive lock on the file itself: a key is written
once and every process signs sessions with that same key.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from pathlib import Path

__all__ = ["shared_key"]


def shared_key(path: str | Path, size: int = 32) -> bytes:
    """The key in path, or a fresh random one written there (mode 0600) when it has none."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released by close
        key = b""
        while chunk := os.read(fd, 4096):
            key += chunk
        if len(key) >= size:
            return key
        key = secrets.token_bytes(size)  # none yet, or a write cut short before
        os.ftruncate(fd, 0)
        os.pwrite(fd, key, 0)
        os.fsync(fd)
        return key
    finally:
        os.close(fd)
