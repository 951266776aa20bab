"""The error a decoder raises on text that is not what it should be."""

from __future__ import annotations

from ...errors import SandboxError


class InvalidAddress(SandboxError, ValueError):
    """An address string that is not a valid mainnet Bitcoin address; the message says why."""
