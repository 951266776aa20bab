"""The toolkit's Tron pieces that need no served world: T-address and protobuf codecs
(against tronpy and the engine's encoder), extraction of T-addresses and Tron txids from
captured pages, which chain a target is on, and the sweep's key derivation."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner
from tronpy.keys import PrivateKey as TronpyKey

from investigator_tools.case import Case
from investigator_tools.chain.codec.protobuf import read_fields, read_raw
from investigator_tools.chain.codec.tron import is_tron_address, tron_address, tron_hex
from investigator_tools.chain.store import ensure_tron_schema
from investigator_tools.cli import cli as investigate
from investigator_tools.errors import InputError
from investigator_tools.tron.analysis import which_chain
from investigator_tools.tron.sweep import tron_keys
from sandbox.tron.transaction import build

USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
USDT_HEX = "41a614f803b6fd780986a42c78ec9c7f77e6ded13c"


def _corrupt(address: str) -> str:
    """The address with its last character changed (the checksum then fails)."""
    return address[:-1] + ("u" if address[-1] != "u" else "v")


def test_tron_addresses_round_trip_and_checksums_fail():
    """T... <-> 41... hex; a changed character, a wrong length or prefix is refused."""
    assert tron_hex(USDT) == USDT_HEX
    assert tron_address(USDT_HEX) == USDT
    assert is_tron_address(USDT)
    assert not is_tron_address(_corrupt(USDT))
    assert not is_tron_address(USDT[:-1])
    with pytest.raises(ValueError):
        tron_address("1" + USDT[1:])


def test_keys_give_tronpys_addresses():
    """A hex key and a mnemonic's BIP44 m/44'/195'/0'/0/i keys have tronpy's addresses."""
    secret = hashlib.sha256(b"toolkit-tron").hexdigest()
    [(_, address, path)] = tron_keys(secret, None)
    assert (
        path is None
        and address == TronpyKey(bytes.fromhex(secret)).public_key.to_base58check_address()
    )
    words = "abandon " * 11 + "about"
    keys = tron_keys(None, words, gap_limit=2)
    assert [k[2] for k in keys] == ["m/44'/195'/0'/0/0", "m/44'/195'/0'/0/1"]
    for secret_bytes, address, _ in keys:
        assert TronpyKey(secret_bytes).public_key.to_base58check_address() == address
    # The published vector of this mnemonic's first Tron address (TronLink, Trust Wallet).
    assert keys[0][1] == "TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH"
    with pytest.raises(InputError, match="exactly one of"):
        tron_keys(None, None)


def test_protobuf_reader_reads_what_the_engine_encodes():
    """A TRX transfer and a USDT call built by the engine read back field by field."""
    owner, to = USDT_HEX, "41" + "11" * 20
    tx = build("TransferContract", {"owner_address": owner, "to_address": to, "amount": 12345},
               7, "00" * 32, 1_000, 61_000, None)  # fmt: skip
    raw = read_raw(tx.raw_bytes)
    assert (raw.contract_type, raw.owner.hex(), raw.to.hex(), raw.amount) == (
        "TransferContract", owner, to, 12345,
    )  # fmt: skip
    assert raw.expiration == 61_000 and raw.contracts == 1
    assert hashlib.sha256(tx.raw_bytes).hexdigest() == tx.txid
    call = build(
        "TriggerSmartContract",
        {"owner_address": to, "contract_address": owner, "data": "a9059cbb" + "00" * 64},
        7, "00" * 32, 1_000, 61_000, 50_000_000,
    )  # fmt: skip
    raw = read_raw(call.raw_bytes)
    assert raw.contract_type == "TriggerSmartContract" and raw.to.hex() == owner
    assert raw.data == bytes.fromhex("a9059cbb" + "00" * 64) and raw.fee_limit == 50_000_000


@pytest.mark.parametrize("blob", [b"\x0a\x05ab", b"\x80", b"\x0b", b"\x00\x01"])
def test_protobuf_reader_refuses_malformed_bytes(blob):
    """A field cut short, a varint without its end, an unknown wire type, field 0."""
    with pytest.raises(ValueError, match="protobuf"):
        read_fields(blob)


def test_extract_reports_only_valid_tron_addresses_and_tron_txids(tmp_path):
    """A captured page: the valid T-address is reported, the one with a bad checksum is not;
    a txid in a Tronscan link and one named `txid` on a USDT page are Tron txids, a bare
    64-hex string is not."""
    linked, named, bare = "cd" * 32, "ab" * 32, "ef" * 32
    page = (
        f"<html><body><p>Send USDT (TRC20) to {USDT} - not to {_corrupt(USDT)}.</p>"
        f"<p>Receipt txid: {named}</p><a href='https://tronscan.test/#/transaction/{linked}'>"
        f"proof</a><p>checksum {bare}</p></body></html>"
    ).encode()
    with Case(tmp_path / "case.db") as case:
        case.capture("http://fund.test/", "fund.test", 200, "text/html", page)
    result = CliRunner().invoke(
        investigate, ["--case", str(tmp_path / "case.db"), "extract", "--json"]
    )
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)["artefacts"]
    addresses = {a["normalized"] for a in found if a["kind"] == "tron_address"}
    txids = {a["normalized"] for a in found if a["kind"] == "tron_txid"}
    assert addresses == {USDT}
    assert txids == {linked, named}


def test_which_chain_asks_for_chain_when_a_txid_is_in_both_indexes(tmp_path):
    """A txid found in both indexes needs --chain; the CLI says so and exits non-zero."""
    txid = "12" * 32
    with Case(tmp_path / "case.db") as case:
        ensure_tron_schema(case)
        case.conn.execute(
            "INSERT INTO tron_txs VALUES (1, ?, 0, 0, 0, 'TransferContract', ?, ?, 1, 'SUCCESS')",
            (txid, USDT, USDT),
        )
        case.conn.execute(
            "INSERT INTO tron_blocks VALUES (0, ?, ?, 0, 1, 0, NULL)", ("00" * 32, "00" * 32)
        )
        assert which_chain(case, txid) == "tron"
        assert which_chain(case, USDT) == "tron"
        assert which_chain(case, "bc1qxyz") == "btc"
        case.conn.execute(
            "INSERT INTO chain_txs VALUES (1, ?, 0, 0, 0, 1, 100, 400, NULL, 1)", (txid,)
        )
        with pytest.raises(InputError, match="in both the Bitcoin and the Tron index"):
            which_chain(case, txid)
        assert which_chain(case, txid, "btc") == "btc"
    result = CliRunner().invoke(investigate, ["--case", str(tmp_path / "case.db"), "trace", txid])
    assert result.exit_code != 0 and "give --chain" in result.output


def test_tron_commands_need_a_synced_index(tmp_path):
    """Before `sync --tron`, a Tron trace says what to run."""
    result = CliRunner().invoke(
        investigate, ["--case", str(tmp_path / "case.db"), "trace", USDT, "--offline"]
    )
    assert result.exit_code != 0 and "run `investigate sync --tron URL` first" in result.output


def test_a_reverted_usdt_transfer_is_kept_but_moves_nothing(tmp_path):
    """A block with a reverted transfer(to, amount) call (as java-tron shows a blacklisted
    sender's from the world's history): the index keeps it with ok = 0, balances and traces
    ignore it; a block whose txID is not the hash of its raw_data is refused."""
    from investigator_tools.errors import RemoteError
    from investigator_tools.tron.analysis import address_summary, trace
    from investigator_tools.tron.labels import TronLabels
    from investigator_tools.tron.sync import _Writer

    sender, receiver = "41" + "22" * 20, "41" + "33" * 20
    data = "a9059cbb" + receiver[2:].rjust(64, "0") + f"{5_000_000:064x}"
    tx = build(
        "TriggerSmartContract",
        {"owner_address": sender, "contract_address": USDT_HEX, "data": data},
        1, "00" * 32, 3_000, 63_000, 50_000_000,
    )  # fmt: skip
    block = {
        "blockID": "00" * 31 + "01",
        "block_header": {"raw_data": {"number": 1, "timestamp": 3_000, "parentHash": "00" * 32}},
        "transactions": [
            {
                "ret": [{"contractRet": "REVERT"}],
                "txID": tx.txid,
                "raw_data": {"contract": [{"type": "TriggerSmartContract", "parameter": {
                    "value": {"owner_address": tron_address(sender), "data": data,
                              "contract_address": USDT}}}]},
                "raw_data_hex": tx.raw_bytes.hex(),
            }
        ],
    }  # fmt: skip
    with Case(tmp_path / "case.db") as case:
        ensure_tron_schema(case)
        writer = _Writer(case, USDT)
        writer.add(block, [])
        writer.flush()
        row = case.conn.execute(
            "SELECT asset, to_address, amount, ok FROM tron_transfers"
        ).fetchone()
        assert tuple(row) == ("USDT", tron_address(receiver), 5_000_000, 0)
        labels = TronLabels(case)
        summary = address_summary(case, tron_address(sender), labels)
        assert summary["usdt"]["sent"] == 0 and summary["reverted"] == 1
        with pytest.raises(InputError, match="never sent USDT"):
            trace(case, tron_address(sender), direction="back", labels=labels)
        forged = {**block, "blockID": "00" * 31 + "02"}
        forged["block_header"] = {"raw_data": {"number": 2, "timestamp": 6_000}}
        forged["transactions"] = [{**block["transactions"][0], "txID": "ff" * 32}]
        with pytest.raises(RemoteError, match="is not the hash of its raw_data"):
            _Writer(case, USDT).add(forged, [])
