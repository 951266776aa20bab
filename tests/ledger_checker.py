"""An independent checker of a world's ledger.

It shares no code with the generator: it parses the raw transactions itself, decodes
addresses with the `bech32` and `base58` packages from PyPI, and re-derives block hashes,
merkle roots and proof of work with hashlib alone.
"""

from __future__ import annotations

import hashlib
import sqlite3
import struct

import base58
import bech32


def _dsha(b: bytes) -> bytes:
    """Double SHA-256."""
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def _varint(raw: bytes, i: int) -> tuple[int, int]:
    """Read a CompactSize integer."""
    first = raw[i]
    if first < 0xFD:
        return first, i + 1
    size = {0xFD: 2, 0xFE: 4, 0xFF: 8}[first]
    return int.from_bytes(raw[i + 1 : i + 1 + size], "little"), i + 1 + size


def parse_tx(raw: bytes) -> tuple[list[tuple[str, int, bytes]], list[tuple[int, bytes]]]:
    """Inputs (prev txid hex, vout, scriptSig) and outputs (value, script) of a legacy-form tx."""
    i = 4
    n_in, i = _varint(raw, i)
    inputs = []
    for _ in range(n_in):
        prev = raw[i : i + 32][::-1].hex()
        vout = struct.unpack_from("<I", raw, i + 32)[0]
        slen, i = _varint(raw, i + 36)
        inputs.append((prev, vout, raw[i : i + slen]))
        i += slen + 4
    n_out, i = _varint(raw, i)
    outputs = []
    for _ in range(n_out):
        value = struct.unpack_from("<q", raw, i)[0]
        slen, i = _varint(raw, i + 8)
        outputs.append((value, raw[i : i + slen]))
        i += slen
    assert i + 4 == len(raw), "trailing bytes after locktime"
    return inputs, outputs


def script_for(address: str) -> bytes:
    """The output script of an address, decoded independently."""
    if address.startswith("bc1"):
        version, program = bech32.decode("bc", address)
        assert version == 0 and program is not None, f"bad bech32 address {address}"
        return bytes([0, len(program)]) + bytes(program)
    payload = base58.b58decode_check(address)
    if payload[0] == 0x00:
        return b"\x76\xa9\x14" + payload[1:] + b"\x88\xac"
    if payload[0] == 0x05:
        return b"\xa9\x14" + payload[1:] + b"\x87"
    raise AssertionError(f"unknown address version in {address}")


def _merkle(hashes: list[bytes]) -> bytes:
    """Bitcoin's merkle root over internal-order hashes."""
    while len(hashes) > 1:
        if len(hashes) % 2:
            hashes.append(hashes[-1])
        hashes = [_dsha(hashes[k] + hashes[k + 1]) for k in range(0, len(hashes), 2)]
    return hashes[0]


def check_ledger(conn: sqlite3.Connection) -> dict:
    """Assert every ledger invariant of a world; return a few totals for further checks."""
    scripts = {
        aid: script_for(addr) for aid, addr in conn.execute("SELECT id, address FROM addresses")
    }
    assert len(set(scripts.values())) == len(scripts), "two address rows share one script"
    utxo: dict[tuple[str, int], tuple[int, int]] = {}  # (txid, vout) -> (value, address id)
    spent: set[tuple[str, int]] = set()
    out_rows: dict[int, list[tuple[int, int, int]]] = {}
    for tx_id, n, value, aid in conn.execute("SELECT tx_id, n, value, address_id FROM outputs"):
        out_rows.setdefault(tx_id, []).append((n, value, aid))
    in_rows: dict[int, list[tuple[int, int, int]]] = {}
    for tx_id, n, prev, prev_n in conn.execute("SELECT tx_id, n, prev_tx_id, prev_n FROM inputs"):
        in_rows.setdefault(tx_id, []).append((n, prev, prev_n))
    txid_of: dict[int, str] = {}
    prev_hash, prev_time, total_fees = "00" * 32, None, 0
    blocks = conn.execute(
        "SELECT height, hash, prev_hash, merkle_root, time, version, bits, nonce, tx_count "
        "FROM blocks ORDER BY height"
    ).fetchall()
    assert blocks and blocks[0][0] == 0, "the chain must start at height 0"
    for expected_height, (
        height,
        bhash,
        bprev,
        root,
        btime,
        version,
        bits,
        nonce,
        count,
    ) in enumerate(blocks):
        assert height == expected_height, f"height {height} follows {expected_height - 1}"
        assert bprev == prev_hash, f"block {height} does not link to its parent"
        assert prev_time is None or btime > prev_time, f"block {height} time does not increase"
        txs = conn.execute(
            "SELECT id, txid, position, raw, fee, kind FROM transactions WHERE height = ? "
            "ORDER BY position",
            (height,),
        ).fetchall()
        assert len(txs) == count and [t[2] for t in txs] == list(range(count))
        block_fees, coinbase_value = 0, None
        for tx_id, txid, position, raw, fee, kind in txs:
            assert _dsha(raw)[::-1].hex() == txid, f"txid of tx {tx_id} is not the hash of its raw"
            txid_of[tx_id] = txid
            inputs, outputs = parse_tx(raw)
            rows_out = {n: (v, a) for n, v, a in out_rows.get(tx_id, [])}
            for n, (v, s) in enumerate(outputs):
                if n in rows_out:
                    assert (v, s) == (rows_out[n][0], scripts[rows_out[n][1]]), (
                        f"output {n} of {txid} differs between raw and table"
                    )
                else:  # no address: the genesis block's bare key, or BIP141's commitment
                    genesis = height == 0 and s[:1] == b"\x41" and s[-1:] == b"\xac"
                    commitment = position == 0 and v == 0 and s[:6].hex() == "6a24aa21a9ed"
                    assert genesis or commitment, f"output {n} of {txid} has no row"
            out_total = sum(v for v, _ in outputs)
            assert all(v > 0 for n, (v, _) in enumerate(outputs) if n in rows_out), (
                f"{txid} has a non-positive output"
            )
            if position == 0:
                assert (
                    kind == "coinbase"
                    and len(inputs) == 1
                    and inputs[0][:2] == ("00" * 32, 0xFFFFFFFF)
                )
                assert not in_rows.get(tx_id), "a coinbase has input rows"
                coinbase_value = out_total
            else:
                rows_in = sorted(in_rows[tx_id])
                assert [(txid_of.get(p), pn) for _, p, pn in rows_in] == [
                    (p, v) for p, v, _ in inputs
                ], f"inputs of {txid} differ between raw and table"
                in_total = 0
                for prev, vout, _ in inputs:
                    key = (prev, vout)
                    assert key not in spent, f"{txid} spends {prev}:{vout} twice"
                    assert key in utxo, f"{txid} spends {prev}:{vout}, which does not exist earlier"
                    in_total += utxo.pop(key)[0]
                    spent.add(key)
                assert in_total == out_total + fee, f"{txid}: inputs != outputs + fee"
                assert fee > 0, f"{txid} pays no fee"
                block_fees += fee
            for n, (value, _script) in enumerate(outputs):
                if n in rows_out:
                    utxo[(txid, n)] = (value, rows_out[n][1])
        subsidy = (50 * 100_000_000) >> (height // 210_000)
        assert coinbase_value == subsidy + block_fees, (
            f"block {height} coinbase pays the wrong amount"
        )
        total_fees += block_fees
        internal = [bytes.fromhex(t[1])[::-1] for t in txs]
        assert _merkle(internal)[::-1].hex() == root, f"block {height} merkle root is wrong"
        header = (
            struct.pack("<I", version) + bytes.fromhex(prev_hash)[::-1] + bytes.fromhex(root)[::-1]
        )
        header += struct.pack("<III", btime, bits, nonce)
        digest = _dsha(header)
        assert digest[::-1].hex() == bhash, f"block {height} hash is not the hash of its header"
        target = (bits & 0xFFFFFF) << (8 * ((bits >> 24) - 3))
        assert int.from_bytes(digest, "little") <= target, f"block {height} fails proof of work"
        prev_hash, prev_time = bhash, btime
    balances: dict[int, int] = {}
    for value, aid in utxo.values():
        balances[aid] = balances.get(aid, 0) + value
    sql_balances = dict(
        conn.execute(
            "SELECT o.address_id, sum(o.value) FROM outputs o "
            "LEFT JOIN inputs i ON i.prev_tx_id = o.tx_id AND i.prev_n = o.n "
            "WHERE i.tx_id IS NULL GROUP BY o.address_id"
        )
    )
    assert balances == sql_balances, "balances from the tables differ from the UTXO set"
    return {
        "utxos": len(utxo),
        "fees": total_fees,
        "blocks": len(blocks),
        "supply": sum(balances.values()),
    }
