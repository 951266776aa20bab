"""secp256k1 keys (through coincurve) and WIF; the hash functions come from `codec.hashes`."""

from __future__ import annotations

import hashlib
import struct

from coincurve import PrivateKey, PublicKey
from coincurve._libsecp256k1 import ffi, lib
from coincurve.context import GLOBAL_CONTEXT

from .codec.base58 import base58check_decode, base58check_encode
from .codec.hashes import hash160

# Curve order n; a secret must satisfy 0 < k < n.
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_N_BYTES = N.to_bytes(32, "big")
_ZERO32 = bytes(32)
_HALF_N = N // 2
_INDEX = struct.Struct(">Q")
_sha256 = hashlib.sha256
_CTX = GLOBAL_CONTEXT.ctx
_COMPRESSED = lib.SECP256K1_EC_COMPRESSED
_UNCOMPRESSED = lib.SECP256K1_EC_UNCOMPRESSED
_WIF_PREFIX = 0x80
_TESTNET_WIF_PREFIX = 0xEF


def derive_secret(seed: bytes, index: int) -> bytes:
    """Return a valid secp256k1 secret derived deterministically from (seed, index)."""
    base = seed + _INDEX.pack(index)
    k = _sha256(base).digest()
    # Equal-length byte strings compare like big-endian ints, so no int conversion is needed;
    # the retry branch has probability ~2**-128 and exists only for correctness.
    if k < _N_BYTES and k != _ZERO32:
        return k
    counter = 1
    while True:
        k = _sha256(base + counter.to_bytes(4, "big")).digest()
        if k < _N_BYTES and k != _ZERO32:
            return k
        counter += 1


def _check_secret(secret: bytes) -> bytes:
    """Return secret as bytes if it is a valid 32-byte secp256k1 scalar, else raise ValueError."""
    secret = bytes(secret)
    if len(secret) != 32:
        raise ValueError(f"private key must be 32 bytes, got {len(secret)}")
    if not (_ZERO32 < secret < _N_BYTES):
        raise ValueError("private key out of range: must be 0 < k < n (secp256k1 order)")
    return secret


def _pubkeys_chunk(secrets: list[bytes]) -> list[bytes]:
    """Compress-serialize the public keys of already-valid secrets, reusing C buffers."""
    # Calling libsecp256k1 directly skips coincurve's per-key object creation.
    pk = ffi.new("secp256k1_pubkey *")
    out = ffi.new("unsigned char[33]")
    outlen = ffi.new("size_t *")
    create = lib.secp256k1_ec_pubkey_create
    serialize = lib.secp256k1_ec_pubkey_serialize
    view = ffi.buffer(out)
    result: list[bytes] = []
    append = result.append
    for s in secrets:
        if not create(_CTX, pk, s):
            raise ValueError("invalid private key (must be 0 < k < n)")
        outlen[0] = 33
        serialize(_CTX, out, outlen, pk, _COMPRESSED)
        append(view[:])
    return result


class Key:
    """A secp256k1 private key with its compressed public key and hash160 computed lazily."""

    __slots__ = ("secret", "_public_key", "_hash160", "_private")

    def __init__(self, secret: bytes):
        """Wrap a 32-byte secret; raise ValueError if it is not a valid scalar."""
        self.secret = _check_secret(secret)
        self._public_key: bytes | None = None
        self._hash160: bytes | None = None
        self._private: PrivateKey | None = None

    def __repr__(self) -> str:
        """Show the public key only, so secrets do not end up in logs."""
        return f"Key(public_key={self.public_key.hex()})"

    def __eq__(self, other: object) -> bool:
        """Keys are equal when their secrets are."""
        return isinstance(other, Key) and other.secret == self.secret

    def __hash__(self) -> int:
        """Hash by public key, consistent with __eq__."""
        return hash(self.public_key)

    @property
    def public_key(self) -> bytes:
        """The 33-byte compressed SEC1 public key."""
        pk = self._public_key
        if pk is None:
            pk = self._public_key = _pubkeys_chunk([self.secret])[0]
        return pk

    @property
    def public_key_uncompressed(self) -> bytes:
        """The 65-byte uncompressed SEC1 public key (used by pre-2012 style addresses)."""
        return PublicKey.from_valid_secret(self.secret).format(compressed=False)

    @property
    def hash160(self) -> bytes:
        """hash160 of the compressed public key (the P2PKH / P2WPKH payload)."""
        h = self._hash160
        if h is None:
            h = self._hash160 = hash160(self.public_key)
        return h

    def wif(self, compressed: bool = True) -> str:
        """Return the mainnet Wallet Import Format string of this key."""
        payload = bytes((_WIF_PREFIX,)) + self.secret
        return base58check_encode(payload + b"\x01" if compressed else payload)

    @classmethod
    def from_wif(cls, text: str) -> Key:
        """Parse a mainnet WIF string (compressed or not) into a Key."""
        return cls(decode_wif(text)[0])

    def sign(self, digest: bytes) -> bytes:
        """Return a DER, low-S, RFC6979-deterministic ECDSA signature of a 32-byte digest."""
        if len(digest) != 32:
            raise ValueError(f"digest must be 32 bytes, got {len(digest)}")
        priv = self._private
        if priv is None:
            priv = self._private = PrivateKey(self.secret)
        return priv.sign(digest, hasher=None)


def decode_wif(text: str) -> tuple[bytes, bool]:
    """Return (secret, compressed) from a mainnet WIF string; raise ValueError if malformed."""
    try:
        payload = base58check_decode(text.strip())
    except ValueError as exc:
        raise ValueError(f"invalid WIF: {exc}") from None
    if payload[0] == _TESTNET_WIF_PREFIX:
        raise ValueError("invalid WIF: testnet prefix 0xef, expected mainnet 0x80")
    if payload[0] != _WIF_PREFIX:
        raise ValueError(f"invalid WIF: unknown prefix 0x{payload[0]:02x}, expected 0x80")
    if len(payload) == 33:
        compressed = False
    elif len(payload) == 34 and payload[33] == 1:
        compressed = True
    elif len(payload) == 34:
        raise ValueError(f"invalid WIF: compression flag 0x{payload[33]:02x}, expected 0x01")
    else:
        raise ValueError(f"invalid WIF: payload is {len(payload)} bytes, expected 33 or 34")
    try:
        return _check_secret(payload[1:33]), compressed
    except ValueError as exc:
        raise ValueError(f"invalid WIF: {exc}") from None


def _parse_der(sig: bytes) -> tuple[int, int] | None:
    """Return (r, s) from a strict (BIP66) DER signature, or None if it is not one."""
    n = len(sig)
    if n < 8 or n > 72 or sig[0] != 0x30 or sig[1] != n - 2 or sig[2] != 0x02:
        return None
    rlen = sig[3]
    if rlen == 0 or 5 + rlen >= n or sig[4 + rlen] != 0x02:
        return None
    slen = sig[5 + rlen]
    if slen == 0 or 6 + rlen + slen != n:
        return None
    r = sig[4 : 4 + rlen]
    s = sig[6 + rlen :]
    # Negative numbers and superfluous leading zero bytes are not canonical DER.
    for v in (r, s):
        if v[0] & 0x80 or (len(v) > 1 and v[0] == 0 and not v[1] & 0x80):
            return None
    return int.from_bytes(r, "big"), int.from_bytes(s, "big")


def _der(r: int, s: int) -> bytes:
    """Encode (r, s) as a DER ECDSA signature."""
    rb = r.to_bytes((r.bit_length() + 8) // 8, "big")
    sb = s.to_bytes((s.bit_length() + 8) // 8, "big")
    body = b"\x02" + bytes((len(rb),)) + rb + b"\x02" + bytes((len(sb),)) + sb
    return b"\x30" + bytes((len(body),)) + body


def verify_signature(public_key: bytes, der_sig: bytes, digest: bytes, low_s: bool = False) -> bool:
    """Check a DER ECDSA signature over a 32-byte digest; high-S is accepted unless low_s."""
    if len(digest) != 32:
        return False
    rs = _parse_der(der_sig)
    if rs is None:
        return False
    r, s = rs
    if not (0 < r < N and 0 < s < N):
        return False
    if s > _HALF_N:
        # Consensus accepts high-S (Core normalises before verifying); policy (low_s) does not.
        if low_s:
            return False
        der_sig = _der(r, N - s)
    try:
        return PublicKey(public_key).verify(der_sig, digest, hasher=None)
    except ValueError:
        return False
