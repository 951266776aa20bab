"""Esplora's JSON shapes (as Blockstream's electrs serializes them) of the explorer's views."""

from __future__ import annotations

import orjson

from ..ledger.address import address_from_script
from ..ledger.block import bits_to_target
from ..ledger.codec.pushes import last_push
from ..ledger.live.mempool import script_type
from .models import Block, Spend, Stats, TxView, Utxo, decode_tx
from .script import asm

_MAX_TARGET = 0xFFFF << 208  # difficulty 1, as Bitcoin Core defines it


def status_json(height: int | None, block_hash: str | None, block_time: int | None) -> dict:
    """A transaction's confirmation status; block fields only once confirmed."""
    if height is None:
        return {"confirmed": False}
    return {
        "confirmed": True,
        "block_height": height,
        "block_hash": block_hash,
        "block_time": block_time,
    }


def txout_json(value: int, script: bytes) -> dict:
    """One output (or a spent prevout)."""
    out: dict = {
        "scriptpubkey": script.hex(),
        "scriptpubkey_asm": asm(script),
        "scriptpubkey_type": script_type(script),
    }
    address = address_from_script(script)
    if address is not None:
        out["scriptpubkey_address"] = address
    out["value"] = value
    return out


def _prevout_json(prevout) -> dict:
    """A spent output, its address already known from the database."""
    script = prevout.script
    out = {
        "scriptpubkey": script.hex(),
        "scriptpubkey_asm": asm(script),
        "scriptpubkey_type": script_type(script),
    }
    if prevout.address:
        out["scriptpubkey_address"] = prevout.address
    out["value"] = prevout.value
    return out


def _vin_json(txin: list, prevout, coinbase: bool) -> dict:
    """One input with its prevout, scriptSig and witness."""
    prev, vout, script_sig, sequence, witness = txin
    vin = {
        "txid": prev,
        "vout": vout,
        "prevout": None if prevout is None else _prevout_json(prevout),
        "scriptsig": script_sig.hex(),
        "scriptsig_asm": asm(script_sig),
    }
    if witness:
        vin["witness"] = [item.hex() for item in witness]
    vin["is_coinbase"] = coinbase
    vin["sequence"] = sequence
    if prevout is not None and script_sig and script_type(prevout.script) == "p2sh":
        # The redeem script is the last push of the scriptSig (P2SH-P2WPKH: 0014<keyhash>).
        redeem = last_push(script_sig)
        if redeem is not None:
            vin["inner_redeemscript_asm"] = asm(redeem)
    return vin


# The spend almost every input is, P2WPKH, written straight to JSON text: a page of sweeps
# has thousands of them. Every value is hex, digits or a bech32 address: nothing to escape.
_P2WPKH_VIN = (
    '{"txid":"%s","vout":%d,"prevout":{"scriptpubkey":"0014%s",'
    '"scriptpubkey_asm":"OP_0 OP_PUSHBYTES_20 %s","scriptpubkey_type":"v0_p2wpkh",'
    '"scriptpubkey_address":"%s","value":%d},"scriptsig":"","scriptsig_asm":"",'
    '"witness":["%s","%s"],"is_coinbase":false,"sequence":%d}'
)


def _vin_text(txin: list, prevout, coinbase: bool) -> str:
    """One input as JSON text."""
    prev, vout, script_sig, sequence, witness = txin
    script = prevout.script if prevout is not None else b""
    if (
        len(script) == 22
        and script[:2] == b"\x00\x14"
        and not script_sig
        and witness
        and len(witness) == 2
        and prevout.address
    ):
        h = script[2:].hex()
        return _P2WPKH_VIN % (
            prev,
            vout,
            h,
            h,
            prevout.address,
            prevout.value,
            witness[0].hex(),
            witness[1].hex(),
            sequence,
        )
    return orjson.dumps(_vin_json(txin, prevout, coinbase)).decode()


def tx_json_bytes(view: TxView) -> bytes:
    """tx_json(view) serialized, built as text (the API's hot path)."""
    _, inputs, outputs, _ = decoded = decode_tx(view.full)
    prevouts = view.prevouts
    coinbase = view.coinbase
    vin = ",".join(_vin_text(txin, prevouts[i], coinbase) for i, txin in enumerate(inputs))
    head = orjson.dumps(
        {
            "txid": view.txid,
            "version": decoded[0],
            "locktime": decoded[3],
            "vin": None,
        }
    )
    tail = orjson.dumps(
        {
            "vout": [txout_json(value, script) for value, script in outputs],
            "size": len(view.full),
            "weight": view.weight,
            "fee": view.fee,
            "status": status_json(view.height, view.block_hash, view.block_time),
        }
    )
    return head[:-5] + b"[" + vin.encode() + b"]," + tail[1:]


def tx_json(view: TxView) -> dict:
    """A transaction as GET /tx/:txid returns it."""
    version, inputs, outputs, locktime = decode_tx(view.full)
    coinbase = view.coinbase
    prevouts = view.prevouts
    return {
        "txid": view.txid,
        "version": version,
        "locktime": locktime,
        "vin": [_vin_json(txin, prevouts[i], coinbase) for i, txin in enumerate(inputs)],
        "vout": [txout_json(value, script) for value, script in outputs],
        "size": len(view.full),
        "weight": view.weight,
        "fee": view.fee,
        "status": status_json(view.height, view.block_hash, view.block_time),
    }


def outspend_json(spend: Spend | None) -> dict:
    """The spending status of one output."""
    if spend is None:
        return {"spent": False}
    return {
        "spent": True,
        "txid": spend.txid,
        "vin": spend.vin,
        "status": status_json(spend.height, spend.block_hash, spend.block_time),
    }


def stats_json(stats: Stats) -> dict:
    """An address's chain_stats or mempool_stats."""
    return {
        "funded_txo_count": stats.funded_txo_count,
        "funded_txo_sum": stats.funded_txo_sum,
        "spent_txo_count": stats.spent_txo_count,
        "spent_txo_sum": stats.spent_txo_sum,
        "tx_count": stats.tx_count,
    }


def utxo_json(u: Utxo) -> dict:
    """One unspent output of an address."""
    return {
        "txid": u.txid,
        "vout": u.vout,
        "status": status_json(u.height, u.block_hash, u.block_time),
        "value": u.value,
    }


def difficulty(bits: int) -> float:
    """The difficulty of a compact target, relative to Bitcoin's minimum."""
    return _MAX_TARGET / bits_to_target(bits)


def block_json(b: Block, size: int, weight: int, mediantime: int) -> dict:
    """A block as GET /block/:hash returns it."""
    return {
        "id": b.hash,
        "height": b.height,
        "version": b.version,
        "timestamp": b.time,
        "tx_count": b.tx_count,
        "size": size,
        "weight": weight,
        "merkle_root": b.merkle_root,
        "previousblockhash": None if b.height == 0 else b.prev_hash,
        "mediantime": mediantime,
        "nonce": b.nonce,
        "bits": b.bits,
        "difficulty": difficulty(b.bits),
    }


def fee_histogram(entries: list[tuple[float, int]], bin_vsize: int = 50_000) -> list[list]:
    """Electrum's fee histogram of (fee rate, vsize) pairs: [[rate, vsize above it], ...]."""
    histogram: list[list] = []
    size, last = 0, 0.0
    for rate, vsize in sorted(entries, reverse=True):
        if size > bin_vsize and last != rate:
            histogram.append([last, size])
            size = 0
        last = rate
        size += vsize
    if size:
        histogram.append([last, size])
    return histogram
