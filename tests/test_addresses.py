"""Keys, hashes, WIF and mainnet addresses, checked against BIP vectors and independent decoders."""

from __future__ import annotations

import hashlib

import base58
import bech32
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.ledger.address import (
    InvalidAddress,
    address_from_hash160,
    address_from_script,
    bech32_decode,
    bech32_encode,
    decode_address,
    is_valid_address,
    p2pkh_address,
    p2sh_p2wpkh_address,
    p2wpkh_address,
    script_from_hash160,
    script_pubkey,
    segwit_decode,
    segwit_encode,
)
from sandbox.ledger.codec.base58 import b58decode, b58encode
from sandbox.ledger.codec.hashes import hash160, sha256d
from sandbox.ledger.codec.ripemd160 import ripemd160 as pure_ripemd160
from sandbox.ledger.keys import (
    Key,
    N,
    decode_wif,
    derive_secret,
    verify_signature,
)


def ref_ripemd160(data: bytes) -> bytes:
    """hashlib's RIPEMD-160 when OpenSSL has it; the test is skipped otherwise."""
    try:
        return hashlib.new("ripemd160", data).digest()
    except ValueError:
        pytest.skip("OpenSSL without RIPEMD-160")


def ref_hash160(data: bytes) -> bytes:
    """RIPEMD160(SHA256(data)) with hashlib only."""
    return ref_ripemd160(hashlib.sha256(data).digest())


secrets = st.integers(min_value=1, max_value=N - 1).map(lambda k: k.to_bytes(32, "big"))

# ---------------------------------------------------------------- hashes


@pytest.mark.parametrize(
    "message, digest",
    [
        (b"", "9c1185a5c5e9fc54612808977ee8f548b2258d31"),
        (b"a", "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe"),
        (b"abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"),
        (b"message digest", "5d0689ef49d2fae572b881b123a85ffa21595f36"),
        (b"1234567890" * 8, "9b752e45573d4b39f4dbd3323cab82bf63326bfb"),
        (b"a" * 1_000_000, "52783243c1697bdbe16d37f97f68f08325dc1528"),
    ],
)
def test_pure_ripemd160_vectors(message, digest):
    """The pure-Python fallback reproduces the RIPEMD-160 paper's test vectors."""
    assert pure_ripemd160(message).hex() == digest


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_pure_ripemd160_matches_openssl(data):
    """The fallback and hash160 agree with OpenSSL on random data."""
    assert pure_ripemd160(data) == ref_ripemd160(data)
    assert hash160(data) == ref_hash160(data)


def test_sha256d():
    """sha256d is SHA-256 applied twice."""
    assert sha256d(b"hello").hex() == (
        "9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50"
    )


# ---------------------------------------------------------------- keys


def test_derive_secret_is_deterministic_and_valid():
    """Derived secrets are reproducible, distinct, in range and follow the documented recipe."""
    a = [derive_secret(b"world-seed", i) for i in range(200)]
    assert a == [derive_secret(b"world-seed", i) for i in range(200)]
    assert len(set(a)) == 200
    assert all(len(k) == 32 and 0 < int.from_bytes(k, "big") < N for k in a)
    assert derive_secret(b"other-seed", 0) != a[0]
    assert a[5] == hashlib.sha256(b"world-seed" + (5).to_bytes(8, "big")).digest()


def test_key_one_known_vectors():
    """Private key 1 gives the generator point and its well-known addresses."""
    key = Key((1).to_bytes(32, "big"))
    generator = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    assert key.public_key.hex() == generator
    assert key.hash160.hex() == "751e76e8199196d454941c45d1b3a323f1433bd6"
    assert p2pkh_address(key.public_key) == "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"
    assert p2wpkh_address(key.public_key) == "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    assert p2pkh_address(key.public_key_uncompressed) == "1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm"
    nested = p2sh_p2wpkh_address(key.public_key)
    redeem = b"\x00\x14" + ref_hash160(key.public_key)
    assert base58.b58decode_check(nested) == b"\x05" + ref_hash160(redeem)
    assert nested == "3JvL6Ymt8MVWiCNHC7oWU6nLeHNJKLZGLN"


@pytest.mark.parametrize(
    "secret",
    [b"", bytes(31), bytes(32), N.to_bytes(32, "big"), (N + 1).to_bytes(32, "big"), bytes(33)],
)
def test_invalid_secrets_rejected(secret):
    """Secrets of the wrong length or out of range are refused."""
    with pytest.raises(ValueError, match="private key"):
        Key(secret)


WIF_SECRET = bytes.fromhex("0c28fca386c7a227600b2fe50b7cae11ec86d3bf1fbe471be89827e19d72aa1d")


def test_wif_known_vectors():
    """The Bitcoin wiki's WIF example, uncompressed and compressed."""
    key = Key(WIF_SECRET)
    assert key.wif(compressed=False) == "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ"
    assert key.wif() == "KwdMAjGmerYanjeui5SHS7JkmpZvVipYvB2LJGU1ZxJwYvP98617"
    assert decode_wif(key.wif()) == (WIF_SECRET, True)
    assert decode_wif(key.wif(compressed=False)) == (WIF_SECRET, False)
    assert Key.from_wif("5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ") == key


@settings(max_examples=50)
@given(secrets)
def test_wif_round_trip(secret):
    """WIF strings decode with the base58 package and back to the secret."""
    key = Key(secret)
    for compressed in (True, False):
        text = key.wif(compressed)
        assert text[0] in ("KL" if compressed else "5")
        assert base58.b58decode_check(text) == b"\x80" + secret + (b"\x01" if compressed else b"")
        assert Key.from_wif(text).secret == secret


def test_wif_errors():
    """Bad checksum, testnet or unknown prefix, wrong length and bad flag are named."""
    good = Key(WIF_SECRET).wif()
    with pytest.raises(ValueError, match="checksum"):
        Key.from_wif(good[:-1] + ("1" if good[-1] != "1" else "2"))
    with pytest.raises(ValueError, match="testnet"):
        Key.from_wif(base58.b58encode_check(b"\xef" + WIF_SECRET + b"\x01").decode())
    with pytest.raises(ValueError, match="prefix 0x00"):
        Key.from_wif(base58.b58encode_check(b"\x00" + WIF_SECRET).decode())
    with pytest.raises(ValueError, match="expected 33 or 34"):
        Key.from_wif(base58.b58encode_check(b"\x80" + WIF_SECRET[:20]).decode())
    with pytest.raises(ValueError, match="compression flag"):
        Key.from_wif(base58.b58encode_check(b"\x80" + WIF_SECRET + b"\x02").decode())
    with pytest.raises(ValueError, match="base58 character"):
        Key.from_wif("0" + good[1:])


@settings(max_examples=30)
@given(secrets, st.binary(min_size=32, max_size=32))
def test_sign_verify_low_s_deterministic(secret, digest):
    """Signatures are deterministic, low-S, and verify only for the signed digest."""
    key = Key(secret)
    sig = key.sign(digest)
    assert sig == key.sign(digest)  # RFC 6979
    assert verify_signature(key.public_key, sig, digest)
    assert verify_signature(key.public_key_uncompressed, sig, digest)
    assert not verify_signature(key.public_key, sig, bytes(a ^ 1 for a in digest))
    r_len = sig[3]
    s = int.from_bytes(sig[6 + r_len :], "big")
    assert s <= N // 2  # low-S
    # The same signature with S negated is valid for consensus but not for policy.
    r = sig[4 : 4 + r_len]
    high = (N - s).to_bytes(33, "big")
    body = b"\x02" + bytes([len(r)]) + r + b"\x02\x21" + high
    high_sig = b"\x30" + bytes([len(body)]) + body
    assert verify_signature(key.public_key, high_sig, digest)
    assert not verify_signature(key.public_key, high_sig, digest, low_s=True)
    assert not verify_signature(key.public_key, sig[:-1], digest)
    assert not verify_signature(b"\x02" + bytes(32), sig, digest)


# ---------------------------------------------------------------- bech32 / bech32m (BIP173, BIP350)

BECH32_VALID = [
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11" + "q" * 82 + "c8247j",  # exactly 90 characters, the maximum
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
]
BECH32M_VALID = [
    "A1LQFN3A",
    "a1lqfn3a",
    "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "11" + "l" * 82 + "ludsr8",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
    "?1v759aa",
]
BECH32_INVALID = [
    "\x201nwldj5",
    "\x7f1axkwrx",
    "\x801eym55h",
    "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",
    "pzry9x0s0muk",
    "1pzry9x0s0muk",
    "x1b4n0q5v",
    "li1dgmt3",
    "de1lg7wt\xff",
    "A1G7SGD8",
    "10a06t8",
    "1qzzfhee",
    # BIP350's bech32m list
    "\x201xj0phk",
    "\x7f1g6xzxy",
    "\x801vctc34",
    "an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
    "qyrz8wqd2c9m",
    "1qyrz8wqd2c9m",
    "y1b0jsk6g",
    "lt1igcx5c0",
    "in1muywd",
    "mm1crxm3i",
    "au1s5cgom",
    "M1VUXWEZ",
    "16plkw9",
    "1p2gdwpf",
]


@pytest.mark.parametrize("text", BECH32_VALID)
def test_bech32_valid_vectors(text):
    """BIP173's valid bech32 strings decode as bech32 and re-encode."""
    hrp, data, encoding = bech32_decode(text)
    assert encoding == "bech32"
    assert bech32_encode(hrp, data, "bech32") == text.lower()
    assert bech32.bech32_decode(text)[0] == hrp  # the reference agrees


@pytest.mark.parametrize("text", BECH32M_VALID)
def test_bech32m_valid_vectors(text):
    """BIP350's valid bech32m strings decode as bech32m and re-encode."""
    hrp, data, encoding = bech32_decode(text)
    assert encoding == "bech32m"
    assert bech32_encode(hrp, data, "bech32m") == text.lower()


@pytest.mark.parametrize("text", BECH32_INVALID)
def test_bech32_invalid_vectors(text):
    """BIP173's and BIP350's invalid strings are rejected."""
    with pytest.raises(InvalidAddress):
        bech32_decode(text)


SEGWIT_VALID = [
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"),
    (
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
        "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
    ),
    (
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
    ),
    ("BC1SW50QGDZ25J", "6002751e"),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"),
    (
        "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
        "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
        "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
    ),
]


@pytest.mark.parametrize("address, spk", SEGWIT_VALID)
def test_segwit_valid_vectors(address, spk):
    """BIP350's valid segwit addresses give the listed scriptPubKeys."""
    hrp = address[:2].lower()
    version, program = segwit_decode(hrp, address)
    script = bytes([version + 0x50 if version else 0, len(program)]) + program
    assert script.hex() == spk
    assert segwit_encode(hrp, version, program) == address.lower()
    if hrp == "bc" and len(program) in (20, 32) and version in (0, 1):
        assert script_pubkey(address).hex() == spk
        assert address_from_script(bytes.fromhex(spk)) == address.lower()


SEGWIT_INVALID = [
    "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
    "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
    "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",
    "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
    "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
    "bc1pw5dgrnzv",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j",
    "bc1gmk9yu",
    # BIP173's list
    "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
    "BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2",
    "bc1rw5uspcuh",
    "bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",
    "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv",
]


@pytest.mark.parametrize("address", SEGWIT_INVALID)
def test_segwit_invalid_vectors(address):
    """BIP173's and BIP350's invalid segwit addresses are rejected on any network."""
    for hrp in ("bc", "tb"):
        with pytest.raises(InvalidAddress):
            segwit_decode(hrp, address)
    assert not is_valid_address(address)


# ---------------------------------------------------------------- decode_address messages


@pytest.mark.parametrize(
    "address, message",
    [
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "bad bech32 checksum"),
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kV8F3T4", "mixed upper and lower case"),
        ("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "testnet"),
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "must use bech32, not bech32m"),
        ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", "must use bech32m"),
        ("BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "must be 20 or 32"),
        ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "not a supported"),
        ("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMJ", "bad Base58Check checksum"),
        ("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAM0", "invalid base58 character '0'"),
        ("", "empty"),
        (" 1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH", "whitespace"),
        ("1" * 60, "too long"),
    ],
)
def test_decode_address_error_messages(address, message):
    """decode_address says why an address is wrong."""
    with pytest.raises(InvalidAddress, match=message):
        decode_address(address)
    assert not is_valid_address(address)


def test_decode_address_base58_version_and_length_errors():
    """Unknown or testnet version bytes and wrong payload lengths are named."""
    h = bytes(range(20))
    unknown = base58.b58encode_check(b"\x30" + h).decode()  # a Litecoin-style version
    with pytest.raises(InvalidAddress, match="unknown version byte 0x30"):
        decode_address(unknown)
    long_hash = base58.b58encode_check(b"\x00" + h + b"\x00").decode()
    with pytest.raises(InvalidAddress, match="wrong length"):
        decode_address(long_hash)
    testnet_p2sh = base58.b58encode_check(b"\xc4" + h).decode()
    with pytest.raises(InvalidAddress, match="testnet P2SH"):
        decode_address(testnet_p2sh)
    testnet_p2pkh = base58.b58encode_check(b"\x6f" + h).decode()
    assert testnet_p2pkh[0] in "mn"
    with pytest.raises(InvalidAddress, match="testnet P2PKH"):
        decode_address(testnet_p2pkh)
    assert not is_valid_address(None)  # type: ignore[arg-type]


def test_invalid_address_is_a_value_error():
    """Callers catching ValueError also catch InvalidAddress."""
    assert issubclass(InvalidAddress, ValueError)


# ---------------------------------------------------------------- addresses from keys and hashes


@settings(max_examples=150, deadline=None)
@given(secrets)
def test_addresses_decode_with_independent_libraries(secret):
    """Addresses of random keys decode with the bech32 and base58 packages to the right hash."""
    key = Key(secret)
    h = ref_hash160(key.public_key)
    assert key.hash160 == h

    wpkh = p2wpkh_address(key.public_key)
    assert wpkh == address_from_hash160("p2wpkh", h)
    assert bech32.decode("bc", wpkh) == (0, list(h))
    assert decode_address(wpkh) == ("p2wpkh", h)
    assert decode_address(wpkh.upper()) == ("p2wpkh", h)
    assert script_pubkey(wpkh) == b"\x00\x14" + h

    pkh = p2pkh_address(key.public_key)
    assert pkh == address_from_hash160("p2pkh", h)
    assert base58.b58decode_check(pkh) == b"\x00" + h
    assert decode_address(pkh) == ("p2pkh", h)
    assert script_pubkey(pkh) == b"\x76\xa9\x14" + h + b"\x88\xac"

    sh = p2sh_p2wpkh_address(key.public_key)
    script_hash = ref_hash160(b"\x00\x14" + h)
    assert sh == address_from_hash160("p2sh", script_hash)
    assert base58.b58decode_check(sh) == b"\x05" + script_hash
    assert decode_address(sh) == ("p2sh", script_hash)
    assert script_pubkey(sh) == b"\xa9\x14" + script_hash + b"\x87"

    for address in (wpkh, pkh, sh):
        assert address_from_script(script_pubkey(address)) == address
        kind, payload = decode_address(address)
        assert script_from_hash160(kind, payload) == script_pubkey(address)


@settings(max_examples=150, deadline=None)
@given(
    st.binary(min_size=20, max_size=20),
    st.sampled_from(["p2pkh", "p2sh", "p2wpkh"]),
    st.integers(min_value=0, max_value=100),
    st.data(),
)
def test_one_character_change_is_rejected(h, kind, pos_seed, data):
    """Changing one character of an address makes it invalid."""
    address = address_from_hash160(kind, h)
    assert is_valid_address(address)
    if kind == "p2wpkh":
        alphabet, start = "qpzry9x8gf2tvdw0s3jn54khce6mua7l", 4  # keep "bc1q": change the data
    else:
        alphabet, start = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", 0
    pos = start + pos_seed % (len(address) - start)
    new = data.draw(st.sampled_from([c for c in alphabet if c != address[pos]]))
    corrupted = address[:pos] + new + address[pos + 1 :]
    assert not is_valid_address(corrupted), (address, corrupted)
    with pytest.raises(InvalidAddress):
        script_pubkey(corrupted)


@settings(max_examples=50)
@given(st.binary(min_size=32, max_size=32), st.sampled_from([0, 1]))
def test_p2wsh_p2tr_round_trip(program, version):
    """32-byte v0 and v1 programs round-trip through address and script."""
    kind = "p2wsh" if version == 0 else "p2tr"
    address = segwit_encode("bc", version, program)
    assert address.startswith("bc1q" if version == 0 else "bc1p")
    assert decode_address(address) == (kind, program)
    spk = script_from_hash160(kind, program)
    assert spk == bytes([0x51 if version else 0, 32]) + program
    assert script_pubkey(address) == spk
    assert address_from_script(spk) == address
    if version == 0:
        assert bech32.decode("bc", address) == (0, list(program))


def test_address_from_script_non_standard():
    """Scripts without an address form give None."""
    p2pk = bytes.fromhex("21" + "02" + "11" * 32 + "ac")
    assert address_from_script(p2pk) is None
    assert address_from_script(b"\x6a\x04test") is None  # OP_RETURN
    assert address_from_script(b"") is None


def test_address_from_hash160_errors():
    """Wrong hash lengths and unknown kinds are refused."""
    with pytest.raises(ValueError, match="20 bytes"):
        address_from_hash160("p2wpkh", bytes(19))
    with pytest.raises(ValueError, match="unknown address kind"):
        address_from_hash160("p2wsh", bytes(20))
    with pytest.raises(ValueError, match="32-byte"):
        script_from_hash160("p2tr", bytes(20))


@given(st.binary(max_size=40))
def test_base58_round_trip(data):
    """Base58 matches the base58 package, leading zeros included."""
    text = b58encode(data)
    assert text == base58.b58encode(data).decode()
    assert b58decode(text) == data


def test_hash160_falls_back_to_pure_ripemd160(monkeypatch):
    """Without OpenSSL's RIPEMD-160, codec.hashes.hash160 switches to the pure-Python module."""
    import importlib.util
    import pathlib

    import sandbox.ledger.codec.hashes as hashes_module

    real_new = hashlib.new

    def no_ripemd(name, *args, **kwargs):
        """hashlib.new as on an OpenSSL 3 build without the legacy provider."""
        if name.lower() == "ripemd160":
            raise ValueError("unsupported hash type ripemd160")
        return real_new(name, *args, **kwargs)

    monkeypatch.setattr(hashlib, "new", no_ripemd)
    spec = importlib.util.spec_from_file_location(
        "sandbox.ledger.codec._hashes_without_ripemd", pathlib.Path(hashes_module.__file__)
    )
    fallback = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fallback)
    assert fallback._HAVE_RIPEMD is False
    monkeypatch.setattr(hashlib, "new", real_new)
    for data in (b"", b"abc", bytes(range(256))):
        assert fallback.hash160(data) == ref_hash160(data)
