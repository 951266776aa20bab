"""Transactions and blocks against real mainnet data and the BIP143 examples."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.ledger.address import script_pubkey
from sandbox.ledger.block import (
    REGTEST_BITS,
    bits_to_target,
    block_hash,
    block_header,
    merkle_root,
    mine,
    parse_header,
    target_to_bits,
)
from sandbox.ledger.codec.compact import encode_compact_size
from sandbox.ledger.codec.hashes import hash160
from sandbox.ledger.keys import Key, N, derive_secret, verify_signature
from sandbox.ledger.tx import (
    SIGHASH_ALL,
    SIGHASH_ANYONECANPAY,
    SIGHASH_NONE,
    SIGHASH_SINGLE,
    Tx,
    TxIn,
    TxOut,
    coinbase_tx,
    is_coinbase,
    parse,
    raw_no_witness,
    serialize,
    sighash_legacy,
    sighash_segwit_v0,
    sign_input,
    txid,
    txid_internal,
    verify_input,
    vsize,
    weight,
    wtxid,
)


def ref_sha256d(data: bytes) -> bytes:
    """Double SHA-256 with hashlib only."""
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


# ---------------------------------------------------------------- real mainnet data

GENESIS_HEADER = bytes.fromhex(
    "01000000" + "00" * 32 + "3ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a"
    "29ab5f49ffff001d1dac2b7c"
)
GENESIS_PUBKEY = (
    "04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb6"
    "49f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f"
)
GENESIS_COINBASE = bytes.fromhex(
    "01000000"  # version
    "01" + "00" * 32 + "ffffffff"  # one input spending the null outpoint
    "4d"  # scriptSig: 77 bytes
    "04ffff001d0104"
    "45"
    + b"The Times 03/Jan/2009 Chancellor on brink of second bailout for banks".hex()
    + "ffffffff"
    "01"  # one output
    "00f2052a01000000"  # 50 BTC
    "43" + "41" + GENESIS_PUBKEY + "ac"  # P2PK
    "00000000"
)

# Block 170: the first bitcoin payment, Satoshi to Hal Finney.
BLOCK_170_TX = bytes.fromhex(
    "0100000001c997a5e56e104102fa209c6a852dd90660a20b2d9c352423edce25857fcd3704000000004847"
    "304402204e45e16932b8af514961a1d3a1a25fdf3f4f7732e9d624c6c61548ab5fb8cd410220181522ec8e"
    "ca07de4860a4acdd12909d831cc56cbbac4622082221a8768d1d0901ffffffff0200ca9a3b000000004341"
    "04ae1a62fe09c5f51b13905f07f06b99a2f7159b2225f374cd378d71302fa28414e7aab37397f554a7df5f"
    "142c21c1b7303b8a0626f1baded5c72a704f7e6cd84cac00286bee0000000043410411db93e1dcdb8a016b"
    "49840f8c53bc1eb68a382e97b1482ecad7b148a6909a5cb2e0eaddfb84ccf9744464f82e160bfa9b8b64f9"
    "d4c03f999b8643f656b412a3ac00000000"
)
# Output 0 of block 9's coinbase, which BLOCK_170_TX spends (P2PK).
BLOCK_9_P2PK = bytes.fromhex(
    "410411db93e1dcdb8a016b49840f8c53bc1eb68a382e97b1482ecad7b148a6909a5cb2e0eaddfb84ccf974"
    "4464f82e160bfa9b8b64f9d4c03f999b8643f656b412a3ac"
)


def test_genesis_header_hash_and_fields():
    """The genesis header hashes to the genesis block hash and parses."""
    assert len(GENESIS_HEADER) == 80
    assert block_hash(GENESIS_HEADER) == (
        "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    )
    fields = parse_header(GENESIS_HEADER)
    assert fields["id"] == block_hash(GENESIS_HEADER)
    assert fields["previousblockhash"] is None
    assert fields["version"] == 1
    assert fields["timestamp"] == 1231006505
    assert fields["bits"] == 0x1D00FFFF
    assert fields["nonce"] == 2083236893
    assert int(fields["id"], 16) <= bits_to_target(fields["bits"])


def test_genesis_coinbase_txid_and_merkle_root():
    """The genesis coinbase has its known txid, which is the header's merkle root."""
    tx = parse(GENESIS_COINBASE)
    assert serialize(tx) == GENESIS_COINBASE
    assert is_coinbase(tx)
    assert tx.outputs[0].value == 50 * 100_000_000
    assert txid(tx) == "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
    assert wtxid(tx) == txid(tx)
    assert merkle_root([txid_internal(tx)]) == GENESIS_HEADER[36:68]
    assert parse_header(GENESIS_HEADER)["merkle_root"] == txid(tx)


def test_block_100000_merkle_root_and_hash():
    """Block 100000's four txids give its merkle root, and its header its hash."""
    txids = [
        "8c14f0db3df150123e6f3dbbf30f8b955a8249b62ac1d1ff16284aefa3d06d87",
        "fff2525b8931402dd09222c50775608f75787bd2b87e56995a7bdd30f79702c4",
        "6359f0868171b1d194cbee1af2f16ea598ae8fad666d9b012c8ed2b79a236ec4",
        "e9a66845e05d5abc0ad04ec80f774a7e585c6e8db975962d069a522137b80c1d",
    ]
    root = merkle_root([bytes.fromhex(t)[::-1] for t in txids])
    assert root[::-1].hex() == "f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766"
    prev = bytes.fromhex("000000000002d01c1fccc21636b607dfd930d31d01c3a62104612a1719011250")
    header = block_header(1, prev[::-1], root, 1293623863, 0x1B04864C, 274148111)
    assert block_hash(header) == "000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506"
    assert parse_header(header)["previousblockhash"] == prev.hex()


def test_merkle_root_duplicates_odd_last_element():
    """An odd last node is paired with itself, as in Bitcoin."""
    a, b, c = (bytes([i]) * 32 for i in (1, 2, 3))
    ab = ref_sha256d(a + b)
    cc = ref_sha256d(c + c)
    assert merkle_root([a, b, c]) == ref_sha256d(ab + cc)
    assert merkle_root([a]) == a
    assert merkle_root([a, b]) == ab
    with pytest.raises(ValueError):
        merkle_root([])


def test_block_170_round_trip_txid_and_legacy_signature():
    """The first payment round-trips, has its txid, and Satoshi's signature verifies."""
    tx = parse(BLOCK_170_TX)
    assert serialize(tx) == BLOCK_170_TX
    assert txid(tx) == "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
    assert tx.inputs[0].prev_txid[::-1].hex() == (
        "0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9"
    )
    assert [o.value for o in tx.outputs] == [10 * 100_000_000, 40 * 100_000_000]
    assert not is_coinbase(tx)
    assert weight(tx) == 4 * len(BLOCK_170_TX) and vsize(tx) == len(BLOCK_170_TX)
    sig = tx.inputs[0].script_sig[1:]  # one push: DER signature + hashtype
    assert sig[-1] == SIGHASH_ALL
    digest = sighash_legacy(tx, 0, BLOCK_9_P2PK)
    assert verify_signature(BLOCK_9_P2PK[1:66], sig[:-1], digest)
    assert not verify_signature(BLOCK_9_P2PK[1:66], sig[:-1], sighash_legacy(tx, 0, b""))


# ---------------------------------------------------------------- BIP143 examples

BIP143_P2WPKH_UNSIGNED = bytes.fromhex(
    "0100000002fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f0000000000ee"
    "ffffffef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffff"
    "ff02202cb206000000001976a9148280b37df378db99f66f85c95a783a76ac7a6d5988ac9093510d000000"
    "001976a9143bde42dbee7e4dbe6a21b2d50ce2f0167faa815988ac11000000"
)
BIP143_P2WPKH_SIGNED = bytes.fromhex(
    "01000000000102fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f00000000"
    "494830450221008b9d1dc26ba6a9cb62127b02742fa9d754cd3bebf337f7a55d114c8e5cdd30be02204052"
    "9b194ba3f9281a99f2b1c0a19c0489bc22ede944ccf4ecbab4cc618ef3ed01eeffffffef51e1b804cc89d1"
    "82d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02202cb2060000000019"
    "76a9148280b37df378db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976a9143bde42dbee7e"
    "4dbe6a21b2d50ce2f0167faa815988ac000247304402203609e17b84f6a7d30c80bfa610b5b4542f32a8a0"
    "d5447a12fb1366d7f01cc44a0220573a954c4518331561406f90300e8f3358f51928d43c212a8caed02de6"
    "7eebee0121025476c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee635711000000"
)
BIP143_P2PK_SCRIPT = bytes.fromhex(
    "2103c9f4836b9a4f77fc0d81f7bcb01b7f1b35916864b9476c241ce9fc198bd25432ac"
)
BIP143_P2PK_SECRET = "bbc27228ddcb9209d7fd6f36b02f7dfa6252af40bb2f1cbc7a557da8027ff866"
BIP143_P2WPKH_SECRET = "619c335025c7f4012e556c2a58b2506e30b8511b53ade95ea316fd8c3286feb9"
BIP143_P2WPKH_SPK = bytes.fromhex("00141d0f172a0ecb48aee1be1f2687d2963ae33f71a1")
BIP143_P2WPKH_AMOUNT = 600_000_000


def test_bip143_native_p2wpkh_sighash():
    """BIP143's native P2WPKH example gives the published sighash."""
    tx = parse(BIP143_P2WPKH_UNSIGNED)
    assert serialize(tx) == BIP143_P2WPKH_UNSIGNED
    assert tx.locktime == 17 and tx.inputs[0].sequence == 0xFFFFFFEE
    script_code = bytes.fromhex("76a9141d0f172a0ecb48aee1be1f2687d2963ae33f71a188ac")
    digest = sighash_segwit_v0(tx, 1, script_code, BIP143_P2WPKH_AMOUNT)
    assert digest.hex() == "c37af31116d1b27caf68aae9e3ac82f1477929014d5b917657d0eb49478cb670"


def test_bip143_native_p2wpkh_signing_reproduces_signed_tx():
    """Signing BIP143's example reproduces its signed transaction byte for byte."""
    tx = parse(BIP143_P2WPKH_UNSIGNED)
    key = Key(bytes.fromhex(BIP143_P2WPKH_SECRET))
    assert key.public_key.hex() == (
        "025476c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeee6357"
    )
    sign_input(tx, 1, key, BIP143_P2WPKH_SPK, BIP143_P2WPKH_AMOUNT)
    # Input 0 is a P2PK spend, signed with the legacy sighash (RFC 6979, like the BIP).
    p2pk_key = Key(bytes.fromhex(BIP143_P2PK_SECRET))
    sig = p2pk_key.sign(sighash_legacy(tx, 0, BIP143_P2PK_SCRIPT)) + b"\x01"
    tx.inputs[0].script_sig = bytes([len(sig)]) + sig
    assert serialize(tx) == BIP143_P2WPKH_SIGNED
    # Without witnesses it is the unsigned tx plus input 0's scriptSig.
    stripped = serialize(tx, witness=False)
    assert (
        stripped
        == BIP143_P2WPKH_UNSIGNED[:41]
        + bytes([len(sig) + 1, len(sig)])
        + sig
        + (BIP143_P2WPKH_UNSIGNED[42:])
    )


def test_bip143_native_p2wpkh_verification():
    """BIP143's signed transaction verifies, and not with a different amount."""
    tx = parse(BIP143_P2WPKH_SIGNED)
    assert serialize(tx) == BIP143_P2WPKH_SIGNED
    assert verify_input(tx, 1, BIP143_P2WPKH_SPK, BIP143_P2WPKH_AMOUNT)
    assert not verify_input(tx, 1, BIP143_P2WPKH_SPK, BIP143_P2WPKH_AMOUNT + 1)
    assert not verify_input(tx, 1, script_pubkey("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"), 1)
    sig = tx.inputs[0].script_sig[1:]
    assert verify_signature(
        BIP143_P2PK_SCRIPT[1:34], sig[:-1], sighash_legacy(tx, 0, BIP143_P2PK_SCRIPT)
    )
    assert txid(tx) != wtxid(tx)
    stripped = len(serialize(tx, witness=False))
    assert weight(tx) == 3 * stripped + len(BIP143_P2WPKH_SIGNED)
    assert vsize(tx) == -(-weight(tx) // 4)


BIP143_P2SH_UNSIGNED = bytes.fromhex(
    "0100000001db6b1b20aa0fd7b23880be2ecbd4a98130974cf4748fb66092ac4d3ceb1a5477010000000"
    "0feffffff02b8b4eb0b000000001976a914a457b684d7f0d539a46a45bbc043f35b59d0d96388ac0008af"
    "2f000000001976a914fd270b1ee6abcaea97fea7ad0402e8bd8ad6d77c88ac92040000"
)
BIP143_P2SH_SIGNED = bytes.fromhex(
    "01000000000101db6b1b20aa0fd7b23880be2ecbd4a98130974cf4748fb66092ac4d3ceb1a54770100000"
    "01716001479091972186c449eb1ded22b78e40d009bdf0089feffffff02b8b4eb0b000000001976a914a4"
    "57b684d7f0d539a46a45bbc043f35b59d0d96388ac0008af2f000000001976a914fd270b1ee6abcaea97fe"
    "a7ad0402e8bd8ad6d77c88ac02473044022047ac8e878352d3ebbde1c94ce3a10d057c24175747116f8288"
    "e5d794d12d482f0220217f36a485cae903c713331d877c1f64677e3622ad4010726870540656fe9dcb0121"
    "03ad1d8e89212f0b92c74d23bb710c00662ad1470198ac48c43f7d6f93a2a2687392040000"
)
BIP143_P2SH_SPK = bytes.fromhex("a9144733f37cf4db86fbc2efed2500b4f4e49f31202387")
BIP143_P2SH_AMOUNT = 1_000_000_000


def test_bip143_p2sh_p2wpkh_sighash_sign_verify():
    """BIP143's P2SH-P2WPKH example: sighash, signed bytes and verification."""
    tx = parse(BIP143_P2SH_UNSIGNED)
    key = Key(bytes.fromhex("eb696a065ef48a2192da5b28b694f87544b30fae8327c4510137a922f32c6dcf"))
    script_code = b"\x76\xa9\x14" + key.hash160 + b"\x88\xac"
    digest = sighash_segwit_v0(tx, 0, script_code, BIP143_P2SH_AMOUNT)
    assert digest.hex() == "64f3b0f4dd2bb3aa1ce8566d220cc74dda9df97d8490cc81d89d735c92e59fb6"
    sign_input(tx, 0, key, BIP143_P2SH_SPK, BIP143_P2SH_AMOUNT)
    assert serialize(tx) == BIP143_P2SH_SIGNED
    signed = parse(BIP143_P2SH_SIGNED)
    assert verify_input(signed, 0, BIP143_P2SH_SPK, BIP143_P2SH_AMOUNT)
    assert not verify_input(signed, 0, BIP143_P2SH_SPK, BIP143_P2SH_AMOUNT - 1)


# ---------------------------------------------------------------- sign then verify

SPK_MAKERS = {
    "p2pkh": lambda h: b"\x76\xa9\x14" + h + b"\x88\xac",
    "p2sh": lambda h: b"\xa9\x14" + hash160(b"\x00\x14" + h) + b"\x87",
    "p2wpkh": lambda h: b"\x00\x14" + h,
}


def _spend(keys_and_types, amounts):
    """Build and sign a tx spending one output of each (key, kind)."""
    tx = Tx(
        version=2,
        inputs=[TxIn(bytes([i + 1]) * 32, i) for i in range(len(keys_and_types))],
        outputs=[TxOut(sum(amounts) - 1000, b"\x00\x14" + bytes(20))],
        locktime=0,
    )
    prevs = [SPK_MAKERS[kind](key.hash160) for key, kind in keys_and_types]
    for i, (key, _) in enumerate(keys_and_types):
        sign_input(tx, i, key, prevs[i], amounts[i])
    return tx, prevs


def test_sign_then_verify_all_three_types():
    """P2PKH, P2SH-P2WPKH and P2WPKH inputs sign, verify, and fail when they should."""
    keys = [Key(derive_secret(b"test", i)) for i in range(3)]
    kinds = ["p2pkh", "p2sh", "p2wpkh"]
    amounts = [50_000, 70_000, 90_000]
    tx, prevs = _spend(list(zip(keys, kinds, strict=True)), amounts)
    assert tx.inputs[0].witness == [] and tx.inputs[0].script_sig
    assert tx.inputs[1].script_sig == bytes([22, 0, 20]) + keys[1].hash160
    assert tx.inputs[2].script_sig == b"" and len(tx.inputs[2].witness) == 2
    for i in range(3):
        assert verify_input(tx, i, prevs[i], amounts[i])
    # A round trip through bytes keeps every signature valid.
    again = parse(serialize(tx))
    assert again == tx
    for i in range(3):
        assert verify_input(again, i, prevs[i], amounts[i])
    # Segwit signatures commit to the amount; legacy ones do not.
    assert verify_input(tx, 0, prevs[0], amounts[0] + 1)
    assert not verify_input(tx, 1, prevs[1], amounts[1] + 1)
    assert not verify_input(tx, 2, prevs[2], amounts[2] + 1)
    # Wrong prevout script, wrong input index.
    assert not verify_input(tx, 0, prevs[1], amounts[0])
    assert not verify_input(tx, 2, prevs[0], amounts[2])
    assert not verify_input(tx, 3, prevs[0], amounts[0])


@pytest.mark.parametrize("kind", ["p2pkh", "p2sh", "p2wpkh"])
def test_tampering_breaks_verification(kind):
    """Changing an output or a signature byte invalidates the input."""
    key = Key(derive_secret(b"tamper", 1))
    tx, prevs = _spend([(key, kind)], [123_456])
    assert verify_input(tx, 0, prevs[0], 123_456)
    # Tampered output value.
    tx.outputs[0].value -= 1
    assert not verify_input(tx, 0, prevs[0], 123_456)
    tx.outputs[0].value += 1
    assert verify_input(tx, 0, prevs[0], 123_456)
    # Tampered signature byte (inside the DER signature, past the header).
    if kind == "p2pkh":
        original = tx.inputs[0].script_sig
        tx.inputs[0].script_sig = original[:10] + bytes([original[10] ^ 1]) + original[11:]
    else:
        original = tx.inputs[0].witness[0]
        tx.inputs[0].witness[0] = original[:10] + bytes([original[10] ^ 1]) + original[11:]
    assert not verify_input(tx, 0, prevs[0], 123_456)


def test_sign_input_rejects_wrong_key_and_unknown_script():
    """sign_input refuses a key that does not own the output, and unknown scripts."""
    key, other = Key(derive_secret(b"k", 1)), Key(derive_secret(b"k", 2))
    tx = Tx(inputs=[TxIn(bytes(32), 0)], outputs=[TxOut(1, b"\x51")])
    for kind, maker in SPK_MAKERS.items():
        with pytest.raises(ValueError, match="does not match"):
            sign_input(tx, 0, key, maker(other.hash160), 1000)
        assert kind
    with pytest.raises(ValueError, match="can only sign"):
        sign_input(tx, 0, key, b"\x51", 1000)


def test_other_sighash_types_sign_and_verify():
    """NONE, SINGLE and ANYONECANPAY sign, verify and commit to what they should."""
    keys = [Key(derive_secret(b"ht", i)) for i in range(2)]
    for hashtype in (
        SIGHASH_NONE,
        SIGHASH_SINGLE,
        SIGHASH_ALL | SIGHASH_ANYONECANPAY,
        SIGHASH_SINGLE | SIGHASH_ANYONECANPAY,
    ):
        for kind in ("p2pkh", "p2wpkh"):
            tx = Tx(
                inputs=[TxIn(b"\x01" * 32, 0), TxIn(b"\x02" * 32, 1)],
                outputs=[TxOut(1000, b"\x51"), TxOut(2000, b"\x52")],
            )
            prevs = [SPK_MAKERS[kind](k.hash160) for k in keys]
            for i, k in enumerate(keys):
                sign_input(tx, i, k, prevs[i], 5000, hashtype)
            for i in range(2):
                assert verify_input(tx, i, prevs[i], 5000), (hashtype, kind, i)
            # NONE leaves outputs uncommitted; ALL commits to all, SINGLE to the same index.
            tx.outputs[1].value += 1
            committed = hashtype & 0x1F in (SIGHASH_ALL, SIGHASH_SINGLE)
            assert verify_input(tx, 1, prevs[1], 5000) is not committed


def test_sighash_single_bug_returns_one():
    """SIGHASH_SINGLE without a matching output hashes to one, as in Bitcoin."""
    tx = Tx(inputs=[TxIn(bytes(32), 0), TxIn(bytes(32), 1)], outputs=[TxOut(1, b"")])
    assert sighash_legacy(tx, 1, b"", SIGHASH_SINGLE) == (1).to_bytes(32, "little")


# ---------------------------------------------------------------- coinbase and blocks


@pytest.mark.parametrize(
    "height, push",
    [
        (0, "0000"),
        (1, "5100"),
        (16, "6000"),
        (17, "0111"),
        (127, "017f"),
        (128, "028000"),
        (255, "02ff00"),
        (256, "020001"),
        (227836, "03fc7903"),  # BIP34 activation height on mainnet
        (840000, "0340d10c"),
    ],
)
def test_coinbase_bip34_height(height, push):
    """The coinbase scriptSig starts with the BIP34 height push."""
    cb = coinbase_tx(height, [(50 * 100_000_000, b"\x00\x14" + bytes(20))])
    assert is_coinbase(cb)
    script_sig = cb.inputs[0].script_sig
    assert script_sig.hex().startswith(push)
    assert 2 <= len(script_sig) <= 100
    assert cb.inputs[0].prev_txid == bytes(32) and cb.inputs[0].vout == 0xFFFFFFFF
    assert parse(serialize(cb)) == cb


def test_coinbase_extra_and_limits():
    """Extra coinbase bytes follow the height; over 100 bytes is refused."""
    cb = coinbase_tx(1000, [(1, b"\x51")], extra=b"/sandbox/")
    assert cb.inputs[0].script_sig == bytes.fromhex("02e803") + b"/sandbox/"
    with pytest.raises(ValueError, match="max 100"):
        coinbase_tx(1000, [(1, b"\x51")], extra=b"x" * 100)
    with pytest.raises(ValueError):
        coinbase_tx(-1, [])


def test_bits_and_targets():
    """Compact targets decode to known values and re-encode."""
    assert bits_to_target(0x1D00FFFF) == 0xFFFF << 208
    assert bits_to_target(REGTEST_BITS) == 0x7FFFFF << 232
    assert bits_to_target(0x1B04864C) == 0x04864C << 192
    for bits in (0x1D00FFFF, 0x1B04864C, REGTEST_BITS, 0x170331DB):
        assert target_to_bits(bits_to_target(bits)) == bits
    with pytest.raises(ValueError, match="negative"):
        bits_to_target(0x04923456)


@pytest.mark.parametrize("bits", [REGTEST_BITS, 0x2000FFFF])
def test_mine_meets_target(bits):
    """mine() returns the first nonce whose header hash meets the target."""
    prev = ref_sha256d(b"prev")
    root = ref_sha256d(b"root")
    nonce, header = mine(0x20000000, prev, root, 1_700_000_000, bits)
    assert header == block_header(0x20000000, prev, root, 1_700_000_000, bits, nonce)
    assert int.from_bytes(ref_sha256d(header), "little") <= bits_to_target(bits)
    fields = parse_header(header)
    assert fields["nonce"] == nonce and fields["bits"] == bits
    assert fields["previousblockhash"] == prev[::-1].hex()
    assert fields["merkle_root"] == root[::-1].hex()
    assert fields["id"] == ref_sha256d(header)[::-1].hex()
    # The previous nonces all missed: mine() returns the first hit.
    for earlier in range(nonce):
        h = block_header(0x20000000, prev, root, 1_700_000_000, bits, earlier)
        assert int.from_bytes(ref_sha256d(h), "little") > bits_to_target(bits)


def test_parse_header_rejects_wrong_length():
    """Headers must be 80 bytes."""
    with pytest.raises(ValueError, match="80 bytes"):
        parse_header(GENESIS_HEADER[:79])


# ---------------------------------------------------------------- serialization properties

txids = st.binary(min_size=32, max_size=32)
scripts = st.one_of(st.binary(max_size=40), st.binary(min_size=250, max_size=300))
u32 = st.integers(min_value=0, max_value=0xFFFFFFFF)
values = st.integers(min_value=0, max_value=21_000_000 * 100_000_000)
fast_inputs = st.lists(st.tuples(txids, u32, scripts, u32), min_size=0, max_size=4)
fast_outputs = st.lists(st.tuples(values, scripts), max_size=4)


@settings(max_examples=300)
@given(fast_inputs, fast_outputs, u32, u32)
def test_raw_no_witness_matches_serialize(inputs, outputs, version, locktime):
    """The fast path gives exactly serialize(witness=False) and the same txid."""
    raw = raw_no_witness(inputs, outputs, version, locktime)
    tx = Tx(
        version=version,
        inputs=[TxIn(p, v, s, q) for p, v, s, q in inputs],
        outputs=[TxOut(v, s) for v, s in outputs],
        locktime=locktime,
    )
    assert raw == serialize(tx, witness=False)
    assert txid(tx) == ref_sha256d(raw)[::-1].hex()
    assert txid_internal(tx) == ref_sha256d(raw)
    if inputs:  # a zero-input tx reads as the segwit marker, as in Bitcoin Core
        assert parse(raw) == tx


witness_stacks = st.lists(st.binary(max_size=80), max_size=3)


@st.composite
def transactions(draw):
    """Random transactions, with and without witnesses."""
    inputs = [
        TxIn(draw(txids), draw(u32), draw(scripts), draw(u32), draw(witness_stacks))
        for _ in range(draw(st.integers(1, 4)))
    ]
    outputs = [TxOut(draw(values), draw(scripts)) for _ in range(draw(st.integers(0, 4)))]
    return Tx(draw(u32), inputs, outputs, draw(u32))


@settings(max_examples=300)
@given(transactions())
def test_parse_serialize_round_trip(tx):
    """parse(serialize(tx)) == tx; txid, wtxid and weight follow their definitions."""
    raw = serialize(tx)
    assert parse(raw) == tx
    stripped = serialize(tx, witness=False)
    if any(txin.witness for txin in tx.inputs):
        assert raw[4:6] == b"\x00\x01"
        assert txid(tx) != wtxid(tx)
        assert weight(tx) == 3 * len(stripped) + len(raw)
    else:
        assert raw == stripped and txid(tx) == wtxid(tx)
        assert weight(tx) == 4 * len(raw)
    assert txid(tx) == ref_sha256d(stripped)[::-1].hex()
    assert wtxid(tx) == ref_sha256d(raw)[::-1].hex()


@pytest.mark.parametrize("raw", [BLOCK_170_TX, BIP143_P2WPKH_SIGNED, GENESIS_COINBASE])
def test_parse_rejects_every_truncation(raw):
    """Every proper prefix of a real transaction is refused."""
    for cut in range(len(raw)):
        with pytest.raises(ValueError):
            parse(raw[:cut])


def test_parse_rejects_garbage_with_messages():
    """Malformed transactions raise ValueError saying what is wrong."""
    with pytest.raises(ValueError, match="unexpected bytes after"):
        parse(BLOCK_170_TX + b"\x00")
    with pytest.raises(ValueError, match="truncated"):
        parse(BLOCK_170_TX[:50])
    with pytest.raises(ValueError, match="segwit flag"):
        parse(BIP143_P2WPKH_SIGNED[:5] + b"\x02" + BIP143_P2WPKH_SIGNED[6:])
    with pytest.raises(ValueError, match="non-canonical"):
        parse(b"\x01\x00\x00\x00" + b"\xfd\x01\x00" + BLOCK_170_TX[5:])
    with pytest.raises(ValueError, match="cannot fit"):
        parse(b"\x01\x00\x00\x00" + b"\xfe\xff\xff\xff\x00" + b"\x00" * 10)
    with pytest.raises(ValueError, match="superfluous witness"):
        tx = parse(BLOCK_170_TX)
        raw = serialize(tx)
        parse(raw[:4] + b"\x00\x01" + raw[4:-4] + b"\x00" + raw[-4:])
    with pytest.raises(ValueError, match="must be bytes"):
        parse("0100")  # type: ignore[arg-type]


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_parse_random_bytes_only_raises_value_error(raw):
    """Random bytes either parse canonically or raise ValueError, nothing else."""
    try:
        tx = parse(raw)
    except ValueError:
        return
    assert serialize(tx) == raw


def test_varint_boundaries():
    """CompactSize switches width at 0xfd, 0x10000 and 2**32."""
    assert encode_compact_size(0xFC) == b"\xfc"
    assert encode_compact_size(0xFD) == b"\xfd\xfd\x00"
    assert encode_compact_size(0xFFFF) == b"\xfd\xff\xff"
    assert encode_compact_size(0x10000) == b"\xfe\x00\x00\x01\x00"
    assert encode_compact_size(0x100000000) == b"\xff" + (0x100000000).to_bytes(8, "little")
    with pytest.raises(ValueError):
        encode_compact_size(-1)


def test_serialize_rejects_bad_fields():
    """Wrong txid lengths and out-of-range integers raise ValueError."""
    with pytest.raises(ValueError, match="32 bytes"):
        serialize(Tx(inputs=[TxIn(b"\x00" * 31, 0)]))
    with pytest.raises(ValueError, match="32 bytes"):
        raw_no_witness([(b"\x00" * 33, 0, b"", 0)], [])
    with pytest.raises(ValueError, match="out of range"):
        raw_no_witness([(bytes(32), -1, b"", 0)], [])
    with pytest.raises(ValueError, match="out of range"):
        serialize(Tx(inputs=[TxIn(bytes(32), 2**32)]))


def test_vsize_of_typical_p2wpkh_payment():
    """A signed 1-in 2-out P2WPKH payment has the familiar 141 vbytes."""
    key = Key(derive_secret(b"vsize", 0))
    tx = Tx(
        inputs=[TxIn(b"\x07" * 32, 0)],
        outputs=[TxOut(40_000, b"\x00\x14" + bytes(20)), TxOut(59_000, b"\x00\x14" + bytes(20))],
    )
    sign_input(tx, 0, key, b"\x00\x14" + key.hash160, 100_000)
    assert vsize(tx) in (140, 141)  # the well-known size of a 1-in 2-out P2WPKH payment
    assert len(serialize(tx, witness=False)) == 113


def test_signatures_are_low_s():
    """Every signature sign_input makes is low-S."""
    key = Key(derive_secret(b"lows", 0))
    for i in range(20):
        tx, prevs = _spend([(key, "p2wpkh")], [10_000 + i])
        der = tx.inputs[0].witness[0][:-1]
        s = int.from_bytes(der[6 + der[3] :], "big")
        assert s <= N // 2
