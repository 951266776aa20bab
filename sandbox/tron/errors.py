"""The errors the Tron chain raises on purpose (in sandbox.errors' tree)."""

from __future__ import annotations

from ..errors import SandboxError

__all__ = ["InvalidTronAddress", "TronRejected"]


class InvalidTronAddress(SandboxError, ValueError):
    """Text that is not a Tron address in any of its forms; the message says why."""


class TronRejected(SandboxError):
    """A transaction the node refuses, with java-tron's return code (`SIGERROR`,
    `CONTRACT_VALIDATE_ERROR`, `TRANSACTION_EXPIRATION_ERROR`, `DUP_TRANSACTION_ERROR`...)
    and its message."""

    def __init__(self, code: str, message: str):
        """code: java-tron's `Return.response_code` name; message: what it says."""
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
