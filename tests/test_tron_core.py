"""Tron's primitives against tronpy 0.6.2 and the independent checker: keys, signatures,
the protobuf of transactions and block headers, txIDs, block ids and the txTrieRoot."""

from __future__ import annotations

import hashlib

import pytest
from tronpy import Tron
from tronpy.keys import PrivateKey, Signature
from tronpy.proto import calculate_txid_from_raw_data
from tronpy.providers import HTTPProvider

from sandbox.tron import protobuf
from sandbox.tron.address import to_base58, to_hex
from sandbox.tron.block import (
    BLOCK_VERSION,
    WITNESS_COUNT,
    block_id,
    header_raw,
    tx_trie_root,
    witnesses,
)
from sandbox.tron.errors import TronRejected
from sandbox.tron.keys import TronKey, recover, tron_secret
from sandbox.tron.transaction import Transaction, build
from tests import tron_checker as checker

USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
REF_ID = "0000000003a1b2c3" + "ab" * 24


@pytest.fixture(scope="module")
def keys() -> list[TronKey]:
    return [TronKey(tron_secret(42, f"test:{i}")) for i in range(3)]


@pytest.fixture(scope="module")
def tronpy_client() -> Tron:
    # Offline building never calls the node; the port is closed and on loopback anyway.
    return Tron(HTTPProvider("http://127.0.0.1:9"))


def _transfer(keys: list[TronKey], amount: int = 1_000_000) -> Transaction:
    value = {
        "owner_address": keys[0].address.hex(),
        "to_address": keys[1].address.hex(),
        "amount": amount,
    }
    return build(
        "TransferContract", value, 61_000_003, REF_ID, 1_700_000_000_000, 1_700_000_060_000
    )


def test_keys_match_tronpy(keys):
    for key in keys:
        theirs = PrivateKey(key.secret)
        assert key.address.hex() == theirs.public_key.to_hex_address()
        digest = hashlib.sha256(key.secret).digest()
        ours = key.sign(digest)
        assert ours[64] in (27, 28)
        assert Signature(ours).recover_public_key_from_msg_hash(digest).to_hex_address() == (
            key.address.hex()
        )
        assert recover(digest, bytes.fromhex(theirs.sign_msg_hash(digest).hex())) == key.address


def test_secrets_are_deterministic_and_distinct():
    assert tron_secret(1, "a") == tron_secret(1, "a")
    assert len({tron_secret(1, "a"), tron_secret(2, "a"), tron_secret(1, "b")}) == 3
    with pytest.raises(ValueError):
        TronKey(bytes(32))


def test_recover_refuses_garbage(keys):
    digest = bytes(32)
    signature = keys[0].sign(digest)
    with pytest.raises(TronRejected) as e:
        recover(digest, signature[:64])
    assert e.value.code == "SIGERROR"
    with pytest.raises(TronRejected, match="header byte"):
        recover(digest, signature[:64] + b"\x07")
    with pytest.raises(TronRejected):
        recover(digest, bytes(64) + b"\x1b")


def test_raw_bytes_match_tronpy_offline(keys, tronpy_client):
    txn = tronpy_client.trx.transfer(
        to_base58(keys[0].address), to_base58(keys[1].address), 7
    ).build(offline=True, ref_block_id=REF_ID)
    txn.sign(PrivateKey(keys[0].secret))
    ours = Transaction.from_json(txn.to_json())
    assert ours.txid == txn.txid
    ours.verify()
    assert ours.owner == keys[0].address


def test_a_memo_is_raw_data_field_10(keys):
    # tronpy's offline txID leaves the memo out, so this one is checked on the wire instead.
    obj = _transfer(keys).to_json()
    obj["raw_data"]["data"] = b"invoice 12".hex()
    tx = Transaction.from_json(obj)
    assert checker.read_message(tx.raw_bytes)[10] == [b"invoice 12"]
    assert tx.raw["data"] == b"invoice 12".hex()


def test_trigger_contract_matches_tronpy(keys):
    data = (
        "a9059cbb" + "00" * 12 + keys[1].address[1:].hex() + (5_000_000).to_bytes(32, "big").hex()
    )
    value = {
        "owner_address": keys[0].address.hex(),
        "contract_address": to_hex(USDT),
        "data": data,
    }
    tx = build("TriggerSmartContract", value, 9, REF_ID, 1_700_000_000_000, 1_700_000_060_000,
               fee_limit=30_000_000)  # fmt: skip
    assert tx.txid == calculate_txid_from_raw_data(tx.raw)
    assert tx.fee_limit == 30_000_000
    assert tx.raw["ref_block_bytes"] == "0009"
    assert tx.raw["ref_block_hash"] == REF_ID[16:32]


def test_visible_forms_encode_alike(keys):
    tx = _transfer(keys)
    visible = tx.to_json(visible=True)
    assert visible["raw_data"]["contract"][0]["parameter"]["value"]["owner_address"] == (
        to_base58(keys[0].address)
    )
    again = Transaction.from_json(visible)
    assert again.raw_bytes == tx.raw_bytes
    assert again.raw == tx.raw
    assert tx.to_json()["raw_data_hex"] == tx.raw_bytes.hex()


@pytest.mark.parametrize(
    ("contract_type", "value"),
    [
        ("FreezeBalanceV2Contract", {"frozen_balance": 10_000_000, "resource": "ENERGY"}),
        ("FreezeBalanceV2Contract", {"frozen_balance": 10_000_000}),
        ("UnfreezeBalanceV2Contract", {"unfreeze_balance": 5, "resource": "ENERGY"}),
        ("DelegateResourceContract", {"resource": "ENERGY", "balance": 9, "lock": True}),
        ("UnDelegateResourceContract", {"resource": "ENERGY", "balance": 9}),
        ("AccountCreateContract", {}),
        ("WithdrawExpireUnfreezeContract", {}),
    ],
)
def test_contracts_round_trip_and_read_independently(keys, contract_type, value):
    value = {"owner_address": keys[0].address.hex(), **value}
    if contract_type in ("DelegateResourceContract", "UnDelegateResourceContract"):
        value["receiver_address"] = keys[2].address.hex()
    if contract_type == "AccountCreateContract":
        value["account_address"] = keys[2].address.hex()
    tx = build(contract_type, value, 1, REF_ID, 1, 60_001).sign(keys[0])
    assert tx.value == value
    assert Transaction.from_raw(tx.raw_bytes, tx.signatures).to_json() == tx.to_json()
    type_url, owner = checker.transaction_owner(tx.raw_bytes)
    assert type_url == f"type.googleapis.com/protocol.{contract_type}"
    assert owner == to_base58(keys[0].address)
    assert checker.check_transaction(tx.raw_bytes, tx.signatures, tx.txid) == owner


def test_default_values_are_left_out_as_java_tron_does(keys):
    tx = build("FreezeBalanceV2Contract",
               {"owner_address": keys[0].address.hex(), "frozen_balance": 1, "resource": "BANDWIDTH"},
               1, REF_ID, 1, 60_001)  # fmt: skip
    assert "resource" not in tx.value
    assert "fee_limit" not in tx.raw


def test_verify_refuses_unsigned_and_foreign_signatures(keys):
    tx = _transfer(keys)
    with pytest.raises(TronRejected, match="miss sig") as e:
        tx.verify()
    assert e.value.code == "SIGERROR"
    tx.sign(keys[1])
    with pytest.raises(TronRejected, match="not contained of permission") as e:
        tx.verify()
    assert to_base58(keys[1].address) in e.value.message


@pytest.mark.parametrize(
    ("change", "names"),
    [
        (lambda raw: raw.update(colour="red"), "colour"),
        (lambda raw: raw.update(expiration="soon"), "expiration"),
        (lambda raw: raw["contract"][0]["parameter"]["value"].update(amount=2**63), "amount"),
        (
            lambda raw: raw["contract"][0]["parameter"]["value"].update(to_address="Tnope"),
            "to_address",
        ),
        (lambda raw: raw["contract"][0]["parameter"]["value"].update(owner_address="zz"), "owner"),
        (lambda raw: raw["contract"][0]["parameter"].update(type_url="x/Nope"), "type_url"),
        (lambda raw: raw["contract"].append(raw["contract"][0]), "one contract"),
        (lambda raw: raw.pop("contract"), "contract"),
    ],
)
def test_malformed_json_names_the_field(keys, change, names):
    obj = _transfer(keys).to_json()
    change(obj["raw_data"])
    with pytest.raises(ValueError, match=names):
        Transaction.from_json(obj)


def test_garbage_raw_bytes_and_signatures_are_refused(keys):
    with pytest.raises(ValueError, match="protocol.Transaction.raw"):
        Transaction.from_raw(b"\xff\xff\xff")
    for signature in ("00", ["zz"], [5]):
        obj = _transfer(keys).to_json() | {"signature": signature}
        with pytest.raises(ValueError, match="signature"):
            Transaction.from_json(obj)


def test_block_header_id_and_signature(keys):
    ws = witnesses(7)
    assert len(ws) == WITNESS_COUNT == len({w.key.address for w in ws})
    assert [w.key.address for w in witnesses(7)] == [w.key.address for w in ws]
    assert witnesses(8)[0].key.address != ws[0].key.address
    root = tx_trie_root([_transfer(keys).sign(keys[0]).to_protobuf("SUCCESS")])
    raw = header_raw(1234, 1_700_000_003_000, REF_ID, root, ws[1].key.address)
    bid = block_id(1234, raw)
    assert bid == checker.block_id(raw)
    assert int(bid[:16], 16) == 1234
    fields = checker.header(raw)
    assert fields["timestamp"] == 1_700_000_003_000
    assert fields["parentHash"] == bytes.fromhex(REF_ID)
    assert fields["txTrieRoot"] == root
    assert checker.b58(bytes(fields["witness"])) == to_base58(ws[1].key.address)
    assert protobuf.decode("BlockHeader.raw", raw)["version"] == BLOCK_VERSION
    signature = ws[1].key.sign(hashlib.sha256(raw).digest())
    assert checker.signer(hashlib.sha256(raw).digest(), signature) == to_base58(ws[1].key.address)


@pytest.mark.parametrize("count", [0, 1, 2, 3, 5, 8])
def test_tx_trie_root_matches_the_checker(keys, count):
    txs = [_transfer(keys, amount=n + 1).sign(keys[0]).to_protobuf("SUCCESS") for n in range(count)]
    assert tx_trie_root(txs) == checker.merkle_root(txs)


def test_a_block_transaction_carries_its_result(keys):
    tx = _transfer(keys).sign(keys[0])
    fields = checker.read_message(tx.to_protobuf("REVERT"))
    assert fields[1] == [tx.raw_bytes]
    assert fields[2] == tx.signatures
    assert checker.read_message(bytes(fields[5][0])) == {3: [2]}
    assert 5 not in checker.read_message(tx.to_protobuf())


def _general_build(monkeypatch, *args):
    """build() on its general path (encode_raw then decode_raw), the fast one switched off."""
    with monkeypatch.context() as m:
        m.setattr(protobuf, "encode_raw_fast", lambda *a: None)
        return build(*args)


def test_the_fast_raw_data_is_the_general_one(monkeypatch):
    # The build's fast path writes the same bytes and the same raw_data JSON (key order too)
    # as the protobuf library, or gives way to it; random contracts of every type it takes.
    import json
    import random

    rng = random.Random(7)

    def hexed(n: int) -> str:
        return rng.randbytes(n).hex()

    fast = 0
    for _ in range(1500):
        contract_type = rng.choice(sorted(protobuf._FAST_FIELDS) + ["AccountCreateContract"])
        value: dict = {"owner_address": "41" + hexed(20)}
        for name, _n, kind, _r in protobuf._MESSAGES[contract_type]:
            if name == "owner_address" or rng.random() < 0.3:
                continue
            if kind == "bytes":
                value[name] = rng.choice(["", "41" + hexed(20), hexed(rng.randrange(200)), "AB"])
            elif kind == "bool":
                value[name] = rng.choice([True, False])
            elif kind in ("int64", "int32"):
                value[name] = rng.choice([0, 1, 127, 128, 2**40, -5, "12", None])
            else:
                value[name] = rng.choice(["ENERGY", "BANDWIDTH", 0, 1, 2])
        if rng.random() < 0.05:
            value["bogus"] = 1
        args = (
            contract_type,
            value,
            rng.choice([0, 1, 300, rng.randrange(2**40)]),
            hexed(32),
            rng.randrange(1, 2**45),
            rng.randrange(1, 2**45),
            rng.choice([None, 0, 1, 100_000_000]),
        )
        try:
            general = _general_build(monkeypatch, *args)
        except ValueError:
            general = None
        try:
            tx = build(*args)
        except ValueError:
            assert general is None
            continue
        assert general is not None
        assert tx.raw_bytes == general.raw_bytes
        assert json.dumps(tx.raw) == json.dumps(general.raw)
        fast += (
            protobuf.encode_raw_fast(
                contract_type, value, b"\0\1", bytes(8), args[5], args[4], args[6] or 0
            )
            is not None
        )
    assert fast > 500


def test_abi_words_are_eth_abi_s():
    import random

    import eth_abi

    from sandbox.tron import abi

    rng = random.Random(3)
    for _ in range(2000):
        types = [rng.choice(["uint256", "bool"]) for _ in range(rng.randint(1, 3))]
        values = [
            rng.choice([True, False])
            if t == "bool"
            else rng.choice([0, 1, 2**256 - 1, rng.getrandbits(rng.randint(1, 256))])
            for t in types
        ]
        assert abi.encode(types, values) == eth_abi.encode(types, values)
    with pytest.raises(Exception):  # noqa: B017  (eth-abi's own error, as before)
        abi.encode(["uint256"], [-1])


def test_the_chain_writes_block_transactions_as_protobuf_does(keys):
    from sandbox.tron.sim.sealer import _tx_message

    tx = build(
        "TransferContract",
        {"owner_address": to_hex(keys[0].address), "to_address": to_hex(keys[1].address),
         "amount": 5},
        300, REF_ID, 1_700_000_000_000, 1_700_000_060_000,
    ).sign(keys[0])  # fmt: skip
    for result in protobuf.CONTRACT_RESULTS:
        assert _tx_message(tx.raw_bytes, tx.signatures, result) == tx.to_protobuf(result)
