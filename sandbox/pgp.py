"""Deterministic OpenPGP keys: Ed25519 primary, Curve25519 encryption subkey, real armour.

OpenPGP libraries only generate keys from the system's randomness, so the packets are
built here by hand (RFC 4880 with the EdDSA/ECDH formats of RFC 9580's v4 keys, as
GnuPG writes them). Ed25519 signatures are deterministic, so one seed always gives
byte-identical armour. Signing and verifying messages goes through pgpy.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

# Packet tags.
TAG_SIGNATURE = 2
TAG_SECRET_KEY = 5
TAG_PUBLIC_KEY = 6
TAG_SECRET_SUBKEY = 7
TAG_USER_ID = 13
TAG_PUBLIC_SUBKEY = 14

ALGO_ECDH = 18
ALGO_EDDSA = 22
HASH_SHA256 = 8
SIG_POSITIVE_CERT = 0x13
SIG_SUBKEY_BINDING = 0x18

OID_ED25519 = bytes.fromhex("2b06010401da470f01")  # 1.3.6.1.4.1.11591.15.1
OID_CV25519 = bytes.fromhex("2b060104019755010501")  # 1.3.6.1.4.1.3029.1.5.1
KDF_SHA256_AES128 = bytes([3, 1, HASH_SHA256, 7])  # length, reserved, hash, cipher

# Signature subpacket types.
SUB_CREATION_TIME = 2
SUB_ISSUER = 16
SUB_PREF_SYMMETRIC = 11
SUB_PREF_HASH = 21
SUB_PREF_COMPRESSION = 22
SUB_KEYSERVER_PREFS = 23
SUB_KEY_FLAGS = 27
SUB_FEATURES = 30
SUB_ISSUER_FINGERPRINT = 33

FLAGS_CERTIFY_SIGN = 0x03
FLAGS_ENCRYPT = 0x0C  # communications and storage

PUBLIC_HEADER = "PGP PUBLIC KEY BLOCK"
PRIVATE_HEADER = "PGP PRIVATE KEY BLOCK"


@dataclass(frozen=True)
class PgpKey:
    """An OpenPGP key with its armoured public and secret forms."""

    fingerprint: str  # 40 hex digits, upper case
    key_id: str  # 16 hex digits, upper case
    user_id: str
    created: int  # unix seconds
    public_armored: str
    secret_armored: str


def mpi(value: bytes) -> bytes:
    """An OpenPGP multiprecision integer of a big-endian byte string (leading zeros dropped)."""
    stripped = value.lstrip(b"\x00")
    bits = int.from_bytes(stripped, "big").bit_length()
    return struct.pack(">H", bits) + stripped


def packet(tag: int, body: bytes) -> bytes:
    """A new-format packet with the shortest length encoding."""
    n = len(body)
    if n < 192:
        length = bytes([n])
    elif n < 8384:
        n -= 192
        length = bytes([(n >> 8) + 192, n & 0xFF])
    else:
        length = b"\xff" + struct.pack(">I", n)
    return bytes([0xC0 | tag]) + length + body


def subpacket(kind: int, data: bytes) -> bytes:
    """One signature subpacket (all ours are shorter than 192 bytes)."""
    return bytes([len(data) + 1, kind]) + data


def _crc24_table() -> tuple[int, ...]:
    """The byte-at-a-time table of the CRC-24 polynomial 0x864CFB."""
    table = []
    for byte in range(256):
        crc = byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
        table.append(crc & 0xFFFFFF)
    return tuple(table)


_CRC24 = _crc24_table()


def crc24(data: bytes) -> int:
    """The CRC-24 checksum of ASCII armour (RFC 4880, section 6.1)."""
    crc = 0xB704CE
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFF) ^ _CRC24[(crc >> 16) ^ byte]
    return crc


def armor(kind: str, data: bytes) -> str:
    """ASCII armour: header, base64 in 64-column lines, CRC24 line, footer."""
    b64 = base64.b64encode(data).decode("ascii")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    checksum = base64.b64encode(crc24(data).to_bytes(3, "big")).decode("ascii")
    return "\n".join(
        [f"-----BEGIN {kind}-----", "", *lines, f"={checksum}", f"-----END {kind}-----", ""]
    )


def fingerprint_of(public_body: bytes) -> bytes:
    """The v4 fingerprint: SHA-1 over 0x99, the two-byte length and the key packet body."""
    return hashlib.sha1(b"\x99" + struct.pack(">H", len(public_body)) + public_body).digest()


def _raw_private(key: ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey) -> bytes:
    """The raw 32 private bytes of a cryptography key."""
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def _raw_public(key: ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey) -> bytes:
    """The raw 32 public bytes of a cryptography key."""
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _secret_tail(secret_mpi: bytes) -> bytes:
    """S2K usage 0 (unencrypted), the secret MPI and its two-byte additive checksum."""
    return b"\x00" + secret_mpi + struct.pack(">H", sum(secret_mpi) & 0xFFFF)


def _sign(
    signer: ed25519.Ed25519PrivateKey,
    signed_prefix: bytes,
    sig_type: int,
    hashed: bytes,
    unhashed: bytes,
) -> bytes:
    """A v4 EdDSA/SHA-256 signature packet body over signed_prefix and its own hashed part."""
    head = bytes([4, sig_type, ALGO_EDDSA, HASH_SHA256]) + struct.pack(">H", len(hashed)) + hashed
    trailer = b"\x04\xff" + struct.pack(">I", len(head))
    digest = hashlib.sha256(signed_prefix + head + trailer).digest()
    # EdDSA in OpenPGP signs the digest, not the data (RFC 9580, section 5.2.3.3).
    sig = signer.sign(digest)
    return (
        head
        + struct.pack(">H", len(unhashed))
        + unhashed
        + digest[:2]
        + mpi(sig[:32])
        + mpi(sig[32:])
    )


def _key_hash_prefix(public_body: bytes) -> bytes:
    """How a key packet enters a signature's hash: 0x99, two-byte length, body."""
    return b"\x99" + struct.pack(">H", len(public_body)) + public_body


def make_key(seed: bytes, user_id: str, created: int, subkey: bool = True) -> PgpKey:
    """A v4 Ed25519 key (with a Curve25519 encryption subkey) derived only from seed."""
    primary = ed25519.Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(b"sandbox-pgp-primary\x00" + seed).digest()
    )
    when = struct.pack(">I", created)
    pub_body = (
        bytes([4])
        + when
        + bytes([ALGO_EDDSA, len(OID_ED25519)])
        + OID_ED25519
        + mpi(b"\x40" + _raw_public(primary))
    )
    fpr = fingerprint_of(pub_body)
    key_id = fpr[-8:]
    issuer_fpr = subpacket(SUB_ISSUER_FINGERPRINT, b"\x04" + fpr)
    unhashed = subpacket(SUB_ISSUER, key_id)
    uid = user_id.encode("utf-8")

    hashed = b"".join(
        [
            issuer_fpr,
            subpacket(SUB_CREATION_TIME, when),
            subpacket(SUB_KEY_FLAGS, bytes([FLAGS_CERTIFY_SIGN])),
            subpacket(SUB_PREF_SYMMETRIC, bytes([9, 8, 7])),  # AES256, AES192, AES128
            subpacket(SUB_PREF_HASH, bytes([10, 9, HASH_SHA256])),  # SHA512, SHA384, SHA256
            subpacket(SUB_PREF_COMPRESSION, bytes([2, 3, 1, 0])),  # ZLIB, BZip2, ZIP, none
            subpacket(SUB_FEATURES, b"\x01"),  # modification detection
            subpacket(SUB_KEYSERVER_PREFS, b"\x80"),  # no-modify
        ]
    )
    uid_prefix = _key_hash_prefix(pub_body) + b"\xb4" + struct.pack(">I", len(uid)) + uid
    uid_sig = _sign(primary, uid_prefix, SIG_POSITIVE_CERT, hashed, unhashed)

    public = [packet(TAG_PUBLIC_KEY, pub_body), packet(TAG_USER_ID, uid)]
    public.append(packet(TAG_SIGNATURE, uid_sig))
    secret_body = pub_body + _secret_tail(mpi(_raw_private(primary)))
    secret = [packet(TAG_SECRET_KEY, secret_body), packet(TAG_USER_ID, uid)]
    secret.append(packet(TAG_SIGNATURE, uid_sig))

    if subkey:
        native = bytearray(hashlib.sha256(b"sandbox-pgp-subkey\x00" + seed).digest())
        # GnuPG stores the X25519 scalar clamped and big-endian (reversed from RFC 7748).
        native[0] &= 248
        native[31] = (native[31] & 127) | 64
        enc = x25519.X25519PrivateKey.from_private_bytes(bytes(native))
        sub_body = (
            bytes([4])
            + when
            + bytes([ALGO_ECDH, len(OID_CV25519)])
            + OID_CV25519
            + mpi(b"\x40" + _raw_public(enc))
            + KDF_SHA256_AES128
        )
        sub_hashed = b"".join(
            [
                issuer_fpr,
                subpacket(SUB_CREATION_TIME, when),
                subpacket(SUB_KEY_FLAGS, bytes([FLAGS_ENCRYPT])),
            ]
        )
        binding_prefix = _key_hash_prefix(pub_body) + _key_hash_prefix(sub_body)
        binding = _sign(primary, binding_prefix, SIG_SUBKEY_BINDING, sub_hashed, unhashed)
        public += [packet(TAG_PUBLIC_SUBKEY, sub_body), packet(TAG_SIGNATURE, binding)]
        sub_secret = sub_body + _secret_tail(mpi(bytes(reversed(native))))
        secret += [packet(TAG_SECRET_SUBKEY, sub_secret), packet(TAG_SIGNATURE, binding)]

    return PgpKey(
        fingerprint=fpr.hex().upper(),
        key_id=key_id.hex().upper(),
        user_id=user_id,
        created=created,
        public_armored=armor(PUBLIC_HEADER, b"".join(public)),
        secret_armored=armor(PRIVATE_HEADER, b"".join(secret)),
    )


def _load(armored: str):
    """A pgpy key from armour, silencing pgpy's warnings about its own unfinished checks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgpy

        key, _ = pgpy.PGPKey.from_blob(armored)
    return key


def clearsign(secret_armored: str, text: str, created: int | None = None) -> str:
    """A cleartext-signed message of text; created (unix seconds) fixes the signature time."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgpy
        from pgpy.constants import HashAlgorithm

        key = _load(secret_armored)
        message = pgpy.PGPMessage.new(text, cleartext=True)
        when = None if created is None else datetime.fromtimestamp(created, UTC)
        message |= key.sign(message, hash=HashAlgorithm.SHA256, created=when)
    return str(message)


def verify_clearsigned(public_armored: str, message: str) -> bool:
    """True when message is a cleartext-signed message with a good signature by this key."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgpy

        try:
            key = _load(public_armored)
            parsed = pgpy.PGPMessage.from_blob(message)
            if not parsed.is_signed:
                return False
            return bool(key.verify(parsed))
        except Exception:
            # A mangled message or signature is simply not a valid one.
            return False
