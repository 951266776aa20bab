"""Tor v3 onion addresses and key files, checked against an independent implementation."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.onion import OnionKey, decode_onion, is_valid_onion, onion_address

# ---------------------------------------------------------------- independent reference code


def ref_decode(address: str) -> tuple[bytes, bytes, bytes]:
    """Split an onion address into (pubkey, checksum, version) with only the stdlib."""
    assert address.endswith(".onion")
    raw = base64.b32decode(address[: -len(".onion")].upper())
    assert len(raw) == 35
    return raw[:32], raw[32:34], raw[34:]


def ref_checksum(pubkey: bytes, version: bytes = b"\x03") -> bytes:
    """rend-spec-v3: CHECKSUM = SHA3-256(".onion checksum" | PUBKEY | VERSION)[:2]."""
    return hashlib.sha3_256(b".onion checksum" + pubkey + version).digest()[:2]


def ref_address(pubkey: bytes, version: bytes = b"\x03", checksum: bytes | None = None) -> str:
    """Build an address by hand, optionally with a chosen (wrong) checksum."""
    checksum = ref_checksum(pubkey, version) if checksum is None else checksum
    return base64.b32encode(pubkey + checksum + version).decode().lower() + ".onion"


# Minimal ed25519 (RFC 8032) in pure Python, to check the expanded secret key independently.
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P


def _recover_x(y: int, sign: int) -> int:
    """Return the x coordinate with the given parity for y on edwards25519."""
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * pow(2, (P - 1) // 4, P) % P
    if x & 1 != sign:
        x = P - x
    return x


_BY = 4 * pow(5, P - 2, P) % P
_BX = _recover_x(_BY, 0)
BASE = (_BX, _BY, 1, _BX * _BY % P)


def _add(p1, p2):
    """Add two points in extended coordinates (RFC 8032)."""
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = t1 * 2 * D * t2 % P
    d = z1 * 2 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s: int, point):
    """Multiply a point by a scalar, double-and-add."""
    q = (0, 1, 1, 0)
    while s:
        if s & 1:
            q = _add(q, point)
        point = _add(point, point)
        s >>= 1
    return q


def _encode(point) -> bytes:
    """Encode a point as 32 bytes: y little-endian, x parity in the top bit."""
    x, y, z, _ = point
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def sign_with_expanded(expanded: bytes, public_key: bytes, message: bytes) -> bytes:
    """Sign as Tor does from hs_ed25519_secret_key: scalar a and prefix, no seed."""
    a = int.from_bytes(expanded[:32], "little")
    r = int.from_bytes(hashlib.sha512(expanded[32:] + message).digest(), "little") % L
    big_r = _encode(_mul(r, BASE))
    k = int.from_bytes(hashlib.sha512(big_r + public_key + message).digest(), "little") % L
    return big_r + ((r + k * a) % L).to_bytes(32, "little")


# ---------------------------------------------------------------- tests

ZERO_SEED_PUBKEY = "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29"


def test_zero_seed_known_vector():
    """The all-zero seed gives its well-known public key and the matching address."""
    key = OnionKey.from_seed(bytes(32))
    assert key.public_key.hex() == ZERO_SEED_PUBKEY
    assert key.address == ref_address(bytes.fromhex(ZERO_SEED_PUBKEY))
    assert key.address == "hnvcppgow2sc2yvdvdicu3ynonsteflxdxrehjr2ybekdc2z3iu63yid.onion"


def test_rfc8032_seed_gives_rfc8032_public_key():
    """RFC 8032 test 1's seed gives RFC 8032's public key."""
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    key = OnionKey.from_seed(seed)
    assert key.public_key.hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )
    assert decode_onion(key.address) == key.public_key


@pytest.mark.parametrize(
    "address",
    [
        "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion",
        "facebookwkhpilnemxj7asaniu7vnjjbiltxjqhye3mhbshg7kx5tfyd.onion",
        "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion",
    ],
)
def test_real_world_addresses_are_valid(address):
    """Published onion addresses of real services pass the checksum both ways."""
    pubkey, checksum, version = ref_decode(address)
    assert version == b"\x03" and checksum == ref_checksum(pubkey)
    assert decode_onion(address) == pubkey
    assert onion_address(pubkey) == address
    assert is_valid_onion(address)


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_addresses_decode_with_independent_code(seed):
    """Addresses from any seed decode with stdlib-only code to the key, v3 and a good checksum."""
    key = OnionKey.from_seed(seed)
    assert len(key.address) == 56 + len(".onion")
    assert key.address == key.address.lower()
    pubkey, checksum, version = ref_decode(key.address)
    assert pubkey == key.public_key
    assert version == b"\x03"
    assert checksum == ref_checksum(pubkey)
    assert decode_onion(key.address) == key.public_key
    assert key.hostname_file() == key.address + "\n"


@pytest.mark.parametrize("seed_byte", [0, 1, 7, 255])
def test_secret_key_file_is_tor_format_and_signs(seed_byte):
    """The secret key file has Tor's header and an expanded key that really signs."""
    seed = bytes([seed_byte]) * 32
    key = OnionKey.from_seed(seed)
    data = key.secret_key_file()
    header = b"== ed25519v1-secret: type0 ==\x00\x00\x00"
    assert len(header) == 32 and len(data) == 96 and data[:32] == header
    expanded = data[32:]
    digest = bytearray(hashlib.sha512(seed).digest())
    digest[0] &= 248
    digest[31] &= 63
    digest[31] |= 64
    assert expanded == bytes(digest)
    # The scalar really is this key's secret: a*B is the public key...
    assert _encode(_mul(int.from_bytes(expanded[:32], "little"), BASE)) == key.public_key
    # ...and a signature made from the file alone verifies with the public key.
    message = b"mirrors.txt signed by the hidden service"
    sig = sign_with_expanded(expanded, key.public_key, message)
    Ed25519PublicKey.from_public_bytes(key.public_key).verify(sig, message)
    with pytest.raises(InvalidSignature):
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(sig, message + b"!")


def test_public_key_file_and_hostname():
    """The public key file and hostname file have Tor's exact content."""
    key = OnionKey.from_seed(b"\x42" * 32)
    data = key.public_key_file()
    assert data == b"== ed25519v1-public: type0 ==\x00\x00\x00" + key.public_key
    assert len(data) == 64
    assert key.hostname_file().endswith(".onion\n")
    assert key.seed not in repr(key).encode()


def test_onion_key_is_frozen():
    """OnionKey is immutable."""
    key = OnionKey.from_seed(bytes(32))
    with pytest.raises(AttributeError):
        key.address = "x"  # type: ignore[misc]


def test_decode_accepts_case_suffix_and_subdomains():
    """Upper case, no suffix, subdomains, a trailing dot and whitespace all decode."""
    key = OnionKey.from_seed(b"\x01" * 32)
    label = key.address[: -len(".onion")]
    for name in (
        key.address,
        key.address.upper(),
        label,
        label.upper(),
        "www." + key.address,
        "a.b.c." + key.address.upper(),
        key.address + ".",
        " " + key.address + "\n",
    ):
        assert decode_onion(name) == key.public_key, name
        assert is_valid_onion(name)


def test_bad_inputs_raise_clear_errors():
    """Each kind of bad input raises ValueError saying what is wrong."""
    key = OnionKey.from_seed(b"\x02" * 32)
    label = key.address[:-6]
    with pytest.raises(ValueError, match="expected 56"):
        decode_onion(label[:-1] + ".onion")
    with pytest.raises(ValueError, match="v2 onion"):
        decode_onion("expyuzz4wqqyqhjn.onion")
    with pytest.raises(ValueError, match="invalid base32"):
        decode_onion(label[:-1] + "1.onion")
    with pytest.raises(ValueError, match="version byte 0x04"):
        decode_onion(ref_address(key.public_key, b"\x04"))
    good = ref_checksum(key.public_key)
    with pytest.raises(ValueError, match="bad onion checksum"):
        decode_onion(ref_address(key.public_key, checksum=bytes([good[0] ^ 1, good[1]])))
    with pytest.raises(ValueError, match="expected 56"):
        decode_onion("")
    with pytest.raises(ValueError, match="32 bytes"):
        OnionKey.from_seed(b"short")
    with pytest.raises(ValueError, match="32 bytes"):
        onion_address(b"\x00" * 31)


def test_every_single_character_change_is_rejected():
    """A one-character typo anywhere in the address is caught by the checksum."""
    key = OnionKey.from_seed(b"\x03" * 32)
    label = key.address[:-6]
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    for pos in range(56):
        for c in alphabet[pos % 7 :: 7]:  # a spread of replacements, keeps the test quick
            if c != label[pos]:
                corrupted = label[:pos] + c + label[pos + 1 :] + ".onion"
                assert not is_valid_onion(corrupted), corrupted


def test_is_valid_onion_rejects_junk():
    """Non-onion names and non-strings are simply invalid."""
    for junk in ("", "example.test", "1.2.3.4", ".onion", "a" * 56 + ".onion", None, 42):
        assert not is_valid_onion(junk)  # type: ignore[arg-type]
