"""One codec per side: each encoding has one implementation in the engine (sandbox/ledger/codec)
and one in the toolkit (investigator_tools/chain/codec), checked against published vectors,
against each other, and against a second copy appearing anywhere else in the tree."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import base58
import pytest
from embit import bech32 as embit_bech32
from hypothesis import given
from hypothesis import strategies as st

from investigator_tools.chain.codec import amounts as kit_amounts
from investigator_tools.chain.codec import base58 as kit_base58
from investigator_tools.chain.codec import bech32 as kit_bech32
from investigator_tools.chain.codec import compact as kit_compact
from investigator_tools.chain.codec import hashes as kit_hashes
from investigator_tools.chain.codec import pushes as kit_pushes
from sandbox.ledger.address import address_from_hash160
from sandbox.ledger.codec import amounts, compact, hashes, pushes, varint
from sandbox.ledger.codec import base58 as eng_base58
from sandbox.ledger.codec import bech32 as eng_bech32
from sandbox.ledger.codec.errors import InvalidAddress
from sandbox.ledger.keys import Key, derive_secret
from sandbox.ledger.tx import Tx, TxIn, TxOut, sign_input, verify_input

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- script pushes


def _pushdata4(data: bytes) -> bytes:
    """A push of data with OP_PUSHDATA4: valid, if never minimal."""
    return b"\x4e" + len(data).to_bytes(4, "little") + data


@pytest.mark.parametrize(
    "script, items",
    [
        (b"", []),
        (b"\x00", [b""]),
        (b"\x4f\x51\x60", [b"\x81", b"\x01", b"\x10"]),
        (b"\x02ab", [b"ab"]),
        (b"\x4c\x02ab", [b"ab"]),
        (b"\x4d\x02\x00ab", [b"ab"]),
        (b"\x4e\x02\x00\x00\x00ab", [b"ab"]),
        (b"\x4c\x4c" + bytes(76), [bytes(76)]),
        (b"\x4d\x00\x01" + bytes(256) + b"\x01z", [bytes(256), b"z"]),
    ],
)
def test_parse_pushes_reads_every_push_opcode(script, items):
    """OP_0, direct pushes, OP_PUSHDATA1/2/4 and the small-number opcodes all push."""
    assert pushes.parse_pushes(script) == items


@pytest.mark.parametrize(
    "script",
    [
        b"\x02a",  # direct push cut short
        b"\x4c",  # OP_PUSHDATA1 without its length
        b"\x4d\x01",  # OP_PUSHDATA2 length cut short
        b"\x4e\x05\x00\x00\x00abcd",  # OP_PUSHDATA4 data cut short
        b"\x4e\x01\x00\x00",  # OP_PUSHDATA4 length cut short
        b"\x50",  # OP_RESERVED
        b"\x02ab\xac",  # OP_CHECKSIG: not push-only
        b"\x76",  # OP_DUP
    ],
)
def test_parse_pushes_rejects_what_is_not_push_only(script):
    """Anything but pushes, or a push cut short, makes the script not push-only."""
    assert pushes.parse_pushes(script) is None


@pytest.mark.parametrize("size", [0, 1, 75, 76, 255, 256, 65535, 65536])
def test_push_data_is_minimal_and_parses_back(size):
    """push_data picks the shortest opcode for each length, on both sides."""
    data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    script = pushes.push_data(data)
    assert kit_pushes.push_data(data) == script
    assert pushes.parse_pushes(script) == [data]
    prefix = len(script) - size
    assert prefix == (1 if size < 76 else 2 if size < 256 else 3 if size < 65536 else 5)


def test_push_int_writes_bip34_heights():
    """Heights as BIP34 coinbases push them (OP_n up to 16, then minimal little-endian)."""
    assert pushes.push_int(0) == b"\x00"
    assert pushes.push_int(16) == b"\x60"
    assert pushes.push_int(17) == b"\x01\x11"
    assert pushes.push_int(128) == b"\x02\x80\x00"  # the sign bit needs a second byte
    assert pushes.push_int(840_000) == b"\x03\x40\xd1\x0c"


def _signed_p2pkh() -> tuple[Tx, bytes, int]:
    """A transaction whose one input spends a P2PKH output, signed."""
    key = Key(derive_secret(b"codec-test", 1))
    prev_script = b"\x76\xa9\x14" + key.hash160 + b"\x88\xac"
    tx = Tx(inputs=[TxIn(bytes(range(32)), 0)], outputs=[TxOut(90_000, prev_script)])
    sign_input(tx, 0, key, prev_script, 100_000)
    return tx, prev_script, 100_000


def test_verify_input_accepts_a_p2pkh_scriptsig_pushed_with_pushdata4():
    """OP_PUSHDATA4 pushes are consensus-valid: the ledger's old parser said otherwise."""
    tx, prev_script, amount = _signed_p2pkh()
    assert verify_input(tx, 0, prev_script, amount)
    sig, pub = pushes.parse_pushes(tx.inputs[0].script_sig)
    tx.inputs[0].script_sig = _pushdata4(sig) + _pushdata4(pub)
    assert verify_input(tx, 0, prev_script, amount)
    tx.inputs[0].script_sig = _pushdata4(sig) + _pushdata4(pub)[:-1]
    assert not verify_input(tx, 0, prev_script, amount)


def test_last_push_finds_the_redeem_script():
    """The explorer shows a P2SH input's redeem script: the scriptSig's last push."""
    redeem = b"\x00\x14" + bytes(20)
    assert pushes.last_push(b"\x00" + pushes.push_data(redeem)) == redeem
    assert pushes.last_push(_pushdata4(redeem)) == redeem
    assert pushes.last_push(pushes.push_data(redeem) + b"\xac") is None


# ---------------------------------------------------------------- bech32 (BIP173, BIP350)

BECH32_VALID = [
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
]
BECH32M_VALID = [
    "A1LQFN3A",
    "a1lqfn3a",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
    "?1v759aa",
]
BECH32_INVALID = [
    " 1nwldj5",  # a space in the hrp
    "pzry9x0s0muk",  # no separator
    "1pzry9x0s0muk",  # empty hrp
    "x1b4n0q5v",  # 'b' is not a data character
    "li1dgmt3",  # checksum too short
    "A1G7SGD8",  # checksum computed with an upper-case hrp
    "10a06t8",  # empty hrp
    "1qzzfhee",  # empty hrp
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxx",  # one character changed
]

SEGWIT_VALID = [
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"),
    (
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
    ),
    ("BC1SW50QGDZ25J", "6002751e"),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
    ),
]
SEGWIT_INVALID = [
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # v1 with bech32
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",  # v16 with bech32
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # v0 with bech32m
    "bc1gmk9yu",  # empty data
    "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",  # bad padding
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",  # v0 with a 16-byte program
    "bc1rw5uspcuh",  # a 1-byte program
    "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",  # 'o' is not bech32
    "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",  # version 17
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # checksum
    "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",  # testnet
]


def _script(version: int, program: bytes) -> str:
    """The output script hex of a witness program."""
    return (bytes([version + 0x50 if version else 0, len(program)]) + program).hex()


@pytest.mark.parametrize("text", BECH32_VALID + BECH32M_VALID)
def test_bech32_strings_with_valid_checksums(text):
    """BIP173's and BIP350's valid strings decode, with the encoding their checksum says."""
    hrp, data, encoding = eng_bech32.bech32_decode(text)
    assert encoding == ("bech32" if text in BECH32_VALID else "bech32m")
    assert eng_bech32.bech32_encode(hrp, data, encoding) == text.lower()


@pytest.mark.parametrize("text", BECH32_INVALID)
def test_bech32_strings_that_are_invalid(text):
    """BIP173's invalid strings fail with a reason, as embit's reference decoder fails them."""
    assert embit_bech32.bech32_decode(text) == (None, None, None)
    with pytest.raises(InvalidAddress):
        eng_bech32.bech32_decode(text)


@pytest.mark.parametrize("address, script", SEGWIT_VALID)
def test_segwit_addresses_decode_on_both_sides(address, script):
    """BIP350's mainnet addresses give the same program in the engine and the toolkit."""
    version, program = eng_bech32.segwit_decode("bc", address)
    assert _script(version, program) == script
    assert kit_bech32.segwit_decode(address) == (version, program)
    assert eng_bech32.segwit_encode("bc", version, program) == address.lower()
    assert kit_bech32.segwit_encode(version, program) == address.lower()


@pytest.mark.parametrize("address", SEGWIT_INVALID)
def test_invalid_segwit_addresses_fail_on_both_sides(address):
    """BIP350's invalid addresses (and a testnet one) fail in the engine and the toolkit."""
    assert embit_bech32.decode("bc", address) == (None, None)
    with pytest.raises(InvalidAddress):
        eng_bech32.segwit_decode("bc", address)
    with pytest.raises(ValueError):
        kit_bech32.segwit_decode(address)


@given(st.binary(min_size=20, max_size=20))
def test_fast_p2wpkh_matches_the_general_encoder(h):
    """Both sides' table-driven P2WPKH encoders agree with plain BIP173 encoding."""
    address = eng_bech32.segwit_encode("bc", 0, h)
    assert eng_bech32.p2wpkh_encode(h) == address
    assert kit_bech32.p2wpkh_encode(h) == address
    assert eng_bech32.p2wpkh_decode(address) == h
    assert eng_bech32.p2wpkh_decode(address[:-1] + ("q" if address[-1] != "q" else "p")) is None


# ---------------------------------------------------------------- base58 / base58check

# Bitcoin Core's src/test/data/base58_encode_decode.json
BASE58_VECTORS = [
    ("", ""),
    ("61", "2g"),
    ("626262", "a3gV"),
    ("636363", "aPEr"),
    ("73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"),
    ("00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"),
    ("516b6fcd0f", "ABnLTmg"),
    ("bf4f89001e670274dd", "3SEo3LWLoPntC"),
    ("572e4794", "3EFU7m"),
    ("ecac89cad93923c02321", "EJDM8drfXA6uyA"),
    ("10c8511e", "Rt5zm"),
    ("00000000000000000000", "1111111111"),
]

# (payload hex, base58check): the generator point's P2PKH address and its WIF keys.
BASE58CHECK_VECTORS = [
    ("00751e76e8199196d454941c45d1b3a323f1433bd6", "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"),
    ("80" + "00" * 31 + "01", "5HpHagT65TZzG1PH3CSu63k8DbpvD8s5ip4nEB3kEsreAnchuDf"),
    ("80" + "00" * 31 + "0101", "KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn"),
]


@pytest.mark.parametrize("hex_data, text", BASE58_VECTORS)
def test_base58_vectors(hex_data, text):
    """Bitcoin Core's Base58 vectors, leading zeros included."""
    assert eng_base58.b58encode(bytes.fromhex(hex_data)) == text
    assert eng_base58.b58decode(text) == bytes.fromhex(hex_data)


@pytest.mark.parametrize("payload, text", BASE58CHECK_VECTORS)
def test_base58check_vectors_on_both_sides(payload, text):
    """Base58Check of known addresses and WIF keys, in the engine and the toolkit."""
    raw = bytes.fromhex(payload)
    assert eng_base58.base58check_encode(raw) == text
    assert kit_base58.base58check_encode(raw) == text
    assert eng_base58.base58check_decode(text) == raw
    assert kit_base58.base58check_decode(text) == raw
    assert base58.b58decode_check(text) == raw


@pytest.mark.parametrize(
    "text, reason",
    [
        ("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMJ", "checksum"),
        ("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAM0", "base58 character"),
        ("11", "too short"),
    ],
)
def test_base58check_rejects_with_a_reason(text, reason):
    """A typo, a character outside the alphabet or a stub fails on both sides."""
    with pytest.raises(InvalidAddress, match=reason):
        eng_base58.base58check_decode(text)
    with pytest.raises(ValueError):
        kit_base58.base58check_decode(text)


# ---------------------------------------------------------------- CompactSize

COMPACT_VECTORS = [
    (0, "00"),
    (0xFC, "fc"),
    (0xFD, "fdfd00"),
    (0xFFFF, "fdffff"),
    (0x10000, "fe00000100"),
    (0xFFFFFFFF, "feffffffff"),
    (0x100000000, "ff0000000001000000"),
]


@pytest.mark.parametrize("n, hex_bytes", COMPACT_VECTORS)
def test_compact_size_both_sides(n, hex_bytes):
    """CompactSize at each width boundary, written and read back on both sides."""
    raw = bytes.fromhex(hex_bytes)
    assert compact.encode_compact_size(n) == raw
    assert kit_compact.encode_compact_size(n) == raw
    assert compact.read_compact_size(b"x" + raw + b"y", 1, canonical=True) == (n, 1 + len(raw))
    assert kit_compact.read_compact_size(b"x" + raw + b"y", 1) == (n, 1 + len(raw))


def test_compact_size_errors():
    """Truncated and (where asked) non-canonical sizes fail; out-of-range ones are refused."""
    with pytest.raises(ValueError, match="non-canonical"):
        compact.read_compact_size(b"\xfd\x10\x00", 0, canonical=True)
    assert compact.read_compact_size(b"\xfd\x10\x00", 0) == (16, 3)
    for reader in (compact.read_compact_size, kit_compact.read_compact_size):
        with pytest.raises(ValueError, match="truncated"):
            reader(b"\xfe\x00\x00", 0)
        with pytest.raises(ValueError, match="truncated"):
            reader(b"", 0)
    with pytest.raises(ValueError, match="out of range"):
        compact.encode_compact_size(-1)


# ---------------------------------------------------------------- hashes


def test_hashes_on_both_sides():
    """sha256d and hash160 of known inputs agree with published values on both sides."""
    empty_sha256d = "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456"
    pub = bytes.fromhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
    for side in (hashes, kit_hashes):
        assert side.sha256d(b"").hex() == empty_sha256d
        assert side.hash160(pub).hex() == "751e76e8199196d454941c45d1b3a323f1433bd6"
        # BIP340's tagged hash: SHA256(SHA256(tag) || SHA256(tag) || data).
        tag = hashes.sha256(b"BIP0340/challenge")
        assert side.tagged_hash("BIP0340/challenge", b"m") == hashes.sha256(tag + tag + b"m")
    assert hashes.ripemd160(b"abc").hex() == "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"
    assert kit_hashes.keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )


@given(st.binary(min_size=20, max_size=20))
def test_engine_and_toolkit_make_the_same_addresses(h):
    """A world address (engine) reads back as the same address in the toolkit."""
    assert kit_bech32.p2wpkh_encode(h) == address_from_hash160("p2wpkh", h)
    assert kit_base58.base58check_encode(b"\x05" + h) == address_from_hash160("p2sh", h)


# ---------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    "sat, options, text",
    [
        (12345, {}, "0.00012345"),
        (0, {}, "0.00000000"),
        (-150_000_000, {}, "-1.50000000"),
        (123_456_789_012_345, {"thousands": True}, "1,234,567.89012345"),
        (100_000_000, {"min_decimals": 2}, "1.00"),
        (123_000_000, {"min_decimals": 2}, "1.23"),
        (123_456_789, {"min_decimals": 2}, "1.23456789"),
        (10_000_000, {"min_decimals": 5}, "0.10000"),
        (100_000_000, {"min_decimals": 0}, "1"),
        (150_000_000, {"min_decimals": 0}, "1.5"),
    ],
)
def test_format_btc(sat, options, text):
    """The engine's one BTC formatter, with each page's choice of decimals."""
    assert amounts.format_btc(sat, **options) == text


def test_btc_and_satoshi_conversions():
    """BTC figures round to the satoshi their 8-decimal rendering shows (0.29 BTC is not
    28999999 sat, as int(0.29 * 1e8) would have it)."""
    assert amounts.btc_to_sat(0.29) == 29_000_000
    assert amounts.btc_to_sat(-0.5) == -50_000_000
    assert amounts.sat_to_btc(12345) == 0.00012345
    assert kit_amounts.format_btc(12345.4, unit=True) == "0.00012345 BTC"
    assert kit_amounts.format_btc(-1) == "-0.00000001"
    assert kit_amounts.format_btc(None) == ""


@given(st.integers(min_value=0, max_value=21_000_000 * 100_000_000))
def test_format_btc_shows_what_the_float_formatters_showed(sat):
    """The exchanges' f"{sat / 1e8:.8f}" and Core's FormatMoney, unchanged."""
    assert amounts.format_btc(sat) == f"{sat / 100_000_000:.8f}"
    digits = f"{sat % 100_000_000:08d}".rstrip("0").ljust(2, "0")
    assert amounts.format_btc(sat, min_decimals=2) == f"{sat // 100_000_000}.{digits}"


@given(st.floats(min_value=0, max_value=21_000_000, allow_nan=False))
def test_format_btc_of_floats_shows_what_the_pages_showed(value):
    """The shops' five-decimal and the scenario checker's trimmed BTC figures, unchanged."""
    text = f"{value:.8f}".rstrip("0")
    whole, _, frac = text.partition(".")
    shop = f"{whole}.{frac.ljust(5, '0')}"
    assert amounts.format_btc(amounts.btc_to_sat(value), min_decimals=5) == shop
    checker = f"{value:.8f}".rstrip("0").rstrip(".") or "0"
    assert amounts.format_btc(amounts.btc_to_sat(value), min_decimals=0) == checker


# ---------------------------------------------------------------- no second copy

CODEC_DIRS = (ROOT / "sandbox/ledger/codec", ROOT / "investigator_tools/chain/codec")
PACKAGES = ("sandbox", "marketplaces", "investigator_tools")
# Names an encoder, decoder, hash or BTC formatter would have.
CODEC_NAME = re.compile(
    r"^_*(\w*varint|\w*compact_size|\w*b58\w*|\w*base58\w*|\w*bech32\w*|segwit_(en|de)code"
    r"|convertbits|polymod|sha256d|hash160|ripemd160|keccak256|parse_pushes|push_only|last_push"
    r"|push_data|push_int|format_money|fmt_btc|format_btc|sat_to_btc|btc_to_sat)$|^btc$",
    re.IGNORECASE,
)
# Functions with such a name that stay outside the codec, each only calling into it.
DELEGATES = {
    ("sandbox/ledger/keys.py", "Key.hash160"),  # the key's cached hash, codec.hashes.hash160
    ("sandbox/ledger/tx.py", "_Reader.varint"),  # codec.compact with the tx parser's messages
    ("sandbox/explorer/web.py", "btc"),  # the explorer's template filter
    ("sandbox/scenario/_checks.py", "btc"),  # a float BTC figure in a message
    ("marketplaces/common/helpers.py", "fmt_btc"),  # the sites' template filter
    ("sandbox/tron/address.py", "to_base58"),  # a Tron address in codec.base58's check form
}
# Inline copies: a double SHA-256 by hand, satoshis divided into BTC by hand.
INLINE = re.compile(
    r"sha256\([^\n]*sha256\(|(/|//|%|divmod\([^,\n]+,)\s*(100_000_000|100000000|1e8)\b"
    r"|:\.8f\}|'%\.8f'"
)


def _source_files():
    """Every .py and template file of the engine and the toolkit, outside the codec dirs."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            if path.suffix not in (".py", ".html") or any(d in path.parents for d in CODEC_DIRS):
                continue
            yield path


def _functions(tree: ast.AST, prefix: str = ""):
    """(qualified name, node) of every function in a module, methods and nested ones too."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + node.name, node
            yield from _functions(node, prefix + node.name + ".")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, prefix + node.name + ".")
        else:
            yield from _functions(node, prefix)


def _calls_codec(node: ast.AST, codec_names: set[str]) -> bool:
    """Whether a function calls a name its module imported from a codec module."""
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in codec_names
        for n in ast.walk(node)
    )


def test_encodings_are_defined_only_in_the_codec_modules():
    """No function outside the codec encodes, decodes, hashes or formats BTC on its own."""
    found = []
    for path in _source_files():
        if path.suffix != ".py":
            continue
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(), filename=rel)
        codec_names = {
            a.asname or a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module and "codec" in n.module.split(".")
            for a in n.names
        }
        for name, node in _functions(tree):
            if not CODEC_NAME.search(node.name):
                continue
            if (rel, name) in DELEGATES and _calls_codec(node, codec_names):
                continue
            found.append(f"{rel}:{node.lineno}: {name}")
    assert not found, "encoding defined outside the codec modules:\n" + "\n".join(found)


def test_no_inline_copies_of_codec_work():
    """No double SHA-256 or satoshi-to-BTC division written out by hand outside the codec."""
    found = []
    for path in _source_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if INLINE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "inline codec work outside the codec modules:\n" + "\n".join(found)


def test_the_guard_would_catch_a_copy(tmp_path):
    """The scans above see what they look for (so they cannot pass by reading nothing)."""
    assert any(p.name == "mempool.py" for p in _source_files())
    copy = "def _varint(raw, pos):\n    return raw[pos], pos + 1\n"
    assert [n for n, _ in _functions(ast.parse(copy)) if CODEC_NAME.search(n)] == ["_varint"]
    assert INLINE.search('x = f"{sats / 1e8:.8f}"')
    assert INLINE.search("h = sha256(sha256(data).digest()).digest()")
    assert INLINE.search("whole, frac = divmod(abs(sats), 100_000_000)")


# ---------------------------------------------------------------- protobuf varint


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 16383, 16384, 2**31, 2**63 - 1, 2**64 - 1])
def test_varint_matches_the_protobuf_library(value):
    """The engine's protobuf varint is the protobuf library's, byte for byte, and its size."""
    from google.protobuf.internal.encoder import _VarintBytes

    assert varint.encode_varint(value) == _VarintBytes(value)
    assert varint.varint_size(value) == len(_VarintBytes(value))


def test_varint_refuses_a_negative_number():
    """Tron's fields are unsigned where the simulation writes them: a negative is a bug."""
    with pytest.raises(ValueError, match="negative"):
        varint.encode_varint(-1)
