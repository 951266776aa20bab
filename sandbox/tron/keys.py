"""secp256k1 keys as Tron uses them: the address is of the uncompressed public key, and a
signature is 65 bytes r || s || v over a 32-byte digest (a txID or a block's raw hash)."""

from __future__ import annotations

from coincurve import PrivateKey, PublicKey

from . import address as tron_address
from .errors import TronRejected
from .hashes import sha256

__all__ = ["TronKey", "recover", "tron_secret"]

_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
# java-tron's ECKey and TronWeb write v as 27 + the recovery id; tronpy writes the bare id.
_V_OFFSET = 27


class TronKey:
    """A private key with its public key and Tron address."""

    __slots__ = ("_key", "address", "public_key", "secret")

    def __init__(self, secret: bytes):
        """secret: 32 bytes, 0 < k < n (ValueError otherwise)."""
        if len(secret) != 32 or not 0 < int.from_bytes(secret, "big") < _N:
            raise ValueError("a Tron private key is 32 bytes, 0 < k < n")
        self.secret = bytes(secret)
        self._key = PrivateKey(self.secret)
        self.public_key: bytes = self._key.public_key.format(compressed=False)
        self.address: bytes = tron_address.from_public_key(self.public_key)

    def sign(self, digest: bytes) -> bytes:
        """The 65-byte recoverable signature of a 32-byte digest, v = 27 + recovery id."""
        signature = self._key.sign_recoverable(digest, hasher=None)
        return signature[:64] + bytes([signature[64] + _V_OFFSET])

    def __repr__(self) -> str:
        return f"TronKey({tron_address.to_base58(self.address)})"


def recover(digest: bytes, signature: bytes) -> bytes:
    """The 21-byte address that made signature over digest.

    Accepts v as the bare recovery id (0, 1) or 27 + it. TronRejected("SIGERROR") when the
    signature is malformed or recovers no key.
    """
    if len(signature) != 65:
        raise TronRejected(
            "SIGERROR", f"Validate signature error: signature is {len(signature)} bytes, not 65"
        )
    v = signature[64]
    recovery_id = v - _V_OFFSET if v >= _V_OFFSET else v
    if recovery_id not in (0, 1):
        raise TronRejected("SIGERROR", f"Validate signature error: header byte out of range: {v}")
    try:
        public = PublicKey.from_signature_and_message(
            signature[:64] + bytes([recovery_id]), digest, hasher=None
        )
    except Exception as e:  # coincurve raises a bare Exception for an unrecoverable signature
        raise TronRejected("SIGERROR", f"Validate signature error: {e}") from None
    return tron_address.from_public_key(public.format(compressed=False))


def tron_secret(seed: int | str, label: str) -> bytes:
    """A valid private key derived from the world's seed and what the key is for."""
    base = f"sandbox-tron:{seed}:{label}".encode()
    counter = 0
    while True:
        secret = sha256(base if counter == 0 else base + counter.to_bytes(4, "big"))
        if 0 < int.from_bytes(secret, "big") < _N:
            return secret
        counter += 1
