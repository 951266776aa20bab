"""Mempool acceptance: Bitcoin Core's checks and reject reasons, for the sandbox's broadcast.

The checks run in the order Core's AcceptToMemoryPool runs them, so a transaction with
several faults is rejected for the one Core would name first. Texts and RPC codes are
Core's, as an Esplora server relays them: `sendrawtransaction RPC error: {"code":..}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ...errors import SandboxError
from ..codec.amounts import COIN, format_btc
from ..codec.compact import encode_compact_size
from ..codec.hashes import hash160
from ..codec.pushes import parse_pushes
from ..keys import _HALF_N, _parse_der
from ..tx import Tx, parse, serialize, verify_input

__all__ = [
    "BroadcastError",
    "Coin",
    "check_inputs",
    "check_standalone",
    "decode",
    "dust_threshold",
    "script_type",
]

MAX_MONEY = 21_000_000 * COIN
MAX_STANDARD_WEIGHT = 400_000
MAX_STANDARD_VERSION = 3
MAX_SCRIPTSIG_SIZE = 1650
MAX_OP_RETURN_RELAY = 83
MIN_STANDARD_TX_NONWITNESS_SIZE = 65
COINBASE_MATURITY = 100
DUST_RELAY_FEE = 3  # sat/vB
MIN_RELAY_FEE = 1  # sat/vB
MAX_FEE_RATE = 10_000  # sat/vB: sendrawtransaction's default maxfeerate, 0.10 BTC/kvB
LOCKTIME_THRESHOLD = 500_000_000
SEQUENCE_FINAL = 0xFFFFFFFF

RPC_DESERIALIZATION_ERROR = -22
RPC_TRANSACTION_ERROR = -25
RPC_TRANSACTION_REJECTED = -26
RPC_TRANSACTION_ALREADY_IN_CHAIN = -27

_EVAL_FALSE = "Script evaluated without error but finished with a false/empty top stack element"
_NULLFAIL = "Signature must be zero for failed CHECK(MULTI)SIG operation"
_EQUALVERIFY = "Script failed an OP_EQUALVERIFY operation"
_STACK = "Operation not valid with the current stack size"


class BroadcastError(SandboxError):
    """A transaction the mempool refuses, with bitcoind's RPC error code and message."""

    def __init__(self, message: str, code: int = RPC_TRANSACTION_REJECTED):
        """Keep Core's reject reason and the RPC code sendrawtransaction answers with."""
        super().__init__(message)
        self.message = message
        self.code = code

    def rpc_text(self) -> str:
        """The error as an Esplora server passes it on (the body of its 400 answer)."""
        body = json.dumps({"code": self.code, "message": self.message}, separators=(",", ":"))
        return f"sendrawtransaction RPC error: {body}"


@dataclass(frozen=True, slots=True)
class Coin:
    """An output being spent: its amount and script, and where it was confirmed."""

    value: int
    script: bytes
    height: int | None  # None while its transaction is in the mempool
    coinbase: bool = False


def script_type(script: bytes) -> str:
    """Esplora's scriptpubkey_type of an output script (v0_p2wpkh, p2pkh, op_return, ...)."""
    n = len(script)
    if n == 0:
        return "empty"
    if script[0] == 0x6A:
        return "op_return"
    if (n == 35 and script[0] == 33 or n == 67 and script[0] == 65) and script[-1] == 0xAC:
        return "p2pk"
    if n == 25 and script[:3] == b"\x76\xa9\x14" and script[23:] == b"\x88\xac":
        return "p2pkh"
    if n == 23 and script[:2] == b"\xa9\x14" and script[22] == 0x87:
        return "p2sh"
    if n == 22 and script[:2] == b"\x00\x14":
        return "v0_p2wpkh"
    if n == 34 and script[:2] == b"\x00\x20":
        return "v0_p2wsh"
    if n == 34 and script[:2] == b"\x51\x20":
        return "v1_p2tr"
    return "unknown"


def _witness_program(script: bytes) -> bool:
    """Whether a script is a segwit output of any version (BIP141's pattern)."""
    n = len(script)
    is_version = script[:1] == b"\x00" or 0x51 <= (script[0] if n else 0) <= 0x60
    return 4 <= n <= 42 and is_version and script[1] == n - 2


def dust_threshold(script: bytes) -> int:
    """Core's GetDustThreshold at the default dust relay fee of 3 sat/vB."""
    if script[:1] == b"\x6a" or len(script) > 10_000:
        return 0  # provably unspendable: never dust
    size = 8 + len(encode_compact_size(len(script))) + len(script)
    # The input that would spend it: a witness one counts its signature at a quarter.
    size += 32 + 4 + 1 + 107 // 4 + 4 if _witness_program(script) else 32 + 4 + 1 + 107 + 4
    return size * DUST_RELAY_FEE


def decode(raw_hex: str) -> Tx:
    """Parse broadcast hex as sendrawtransaction does, or raise its decode error."""
    text = raw_hex.strip()
    try:
        raw = bytes.fromhex(text)
        if not raw or len(text) % 2:
            raise ValueError("empty or odd-length hex")
        return parse(raw)
    except ValueError:
        raise BroadcastError(
            "TX decode failed. Make sure the tx has at least one input.",
            RPC_DESERIALIZATION_ERROR,
        ) from None


def _weight(tx: Tx) -> tuple[int, int]:
    """(weight, stripped size) of tx."""
    stripped = len(serialize(tx, witness=False))
    return 3 * stripped + len(serialize(tx)), stripped


def check_standalone(tx: Tx, next_height: int, median_time: int) -> None:
    """Core's context-free checks: CheckTransaction, IsStandardTx and finality."""
    if not tx.inputs:
        raise BroadcastError("bad-txns-vin-empty")
    if not tx.outputs:
        raise BroadcastError("bad-txns-vout-empty")
    weight, stripped = _weight(tx)
    if stripped * 4 > 4_000_000:
        raise BroadcastError("bad-txns-oversize")
    total = 0
    for out in tx.outputs:
        if out.value < 0:
            raise BroadcastError("bad-txns-vout-negative")
        if out.value > MAX_MONEY:
            raise BroadcastError("bad-txns-vout-toolarge")
        total += out.value
        if total > MAX_MONEY:
            raise BroadcastError("bad-txns-txouttotal-toolarge")
    outpoints = [(i.prev_txid, i.vout) for i in tx.inputs]
    if len(set(outpoints)) != len(outpoints):
        raise BroadcastError("bad-txns-inputs-duplicate")
    null = (bytes(32), 0xFFFFFFFF)
    if len(outpoints) == 1 and outpoints[0] == null:
        raise BroadcastError("coinbase")
    if null in outpoints:
        raise BroadcastError("bad-txns-prevout-null")
    _check_standard(tx, weight, stripped)
    if not _is_final(tx, next_height, median_time):
        raise BroadcastError("non-final")


def _check_standard(tx: Tx, weight: int, stripped: int) -> None:
    """IsStandardTx: version, size, push-only scriptSigs, standard outputs, no dust."""
    if not 1 <= tx.version <= MAX_STANDARD_VERSION:
        raise BroadcastError("version")
    if weight > MAX_STANDARD_WEIGHT:
        raise BroadcastError("tx-size")
    for txin in tx.inputs:
        if len(txin.script_sig) > MAX_SCRIPTSIG_SIZE:
            raise BroadcastError("scriptsig-size")
        if parse_pushes(txin.script_sig) is None:
            raise BroadcastError("scriptsig-not-pushonly")
    op_returns = 0
    for out in tx.outputs:
        script = out.script_pubkey
        kind = script_type(script)
        if kind == "op_return":
            if len(script) > MAX_OP_RETURN_RELAY or parse_pushes(script[1:]) is None:
                raise BroadcastError("scriptpubkey")
            op_returns += 1
        elif kind in ("unknown", "empty") and not _witness_program(script):
            raise BroadcastError("scriptpubkey")
        if out.value < dust_threshold(script):
            raise BroadcastError("dust")
    if op_returns > 1:
        raise BroadcastError("multi-op-return")
    if stripped < MIN_STANDARD_TX_NONWITNESS_SIZE:
        raise BroadcastError("tx-size-small")


def _is_final(tx: Tx, next_height: int, median_time: int) -> bool:
    """IsFinalTx for the next block: its locktime has passed, or every input opts out."""
    if tx.locktime == 0:
        return True
    limit = next_height if tx.locktime < LOCKTIME_THRESHOLD else median_time
    if tx.locktime < limit:
        return True
    return all(txin.sequence == SEQUENCE_FINAL for txin in tx.inputs)


def check_inputs(tx: Tx, coins: list[Coin], next_height: int) -> int:
    """CheckTxInputs, input standardness, fee limits and every script; returns the fee."""
    value_in = 0
    for coin in coins:
        if coin.coinbase and coin.height is not None:
            depth = next_height - coin.height
            if depth < COINBASE_MATURITY:
                raise BroadcastError(
                    f"bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth {depth}"
                )
        value_in += coin.value
    value_out = sum(o.value for o in tx.outputs)
    if value_in < value_out:
        raise BroadcastError(
            f"bad-txns-in-belowout, value in ({format_btc(value_in, min_decimals=2)}) "
            f"< value out ({format_btc(value_out, min_decimals=2)})"
        )
    for coin in coins:
        if script_type(coin.script) not in ("p2pkh", "p2sh", "v0_p2wpkh"):
            # The sandbox evaluates the scripts its wallets use; anything else is refused.
            raise BroadcastError("bad-txns-nonstandard-inputs")
    fee = value_in - value_out
    weight, _ = _weight(tx)
    vsize = (weight + 3) // 4
    if fee < vsize * MIN_RELAY_FEE:
        raise BroadcastError(f"min relay fee not met, {fee} < {vsize * MIN_RELAY_FEE}")
    for i, coin in enumerate(coins):
        error = script_error(tx, i, coin)
        if error:
            raise BroadcastError(error)
    if fee > vsize * MAX_FEE_RATE:
        raise BroadcastError(
            "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
            RPC_TRANSACTION_ERROR,
        )
    return fee


def _mandatory(reason: str) -> str:
    """A consensus script failure, as Core words it."""
    return f"mandatory-script-verify-flag-failed ({reason})"


def _policy(reason: str) -> str:
    """A script failure only the standardness flags catch."""
    return f"non-mandatory-script-verify-flag ({reason})"


def _signature_error(sig: bytes) -> str | None:
    """What is wrong with a signature's encoding, before its maths is checked."""
    if not sig:
        return _mandatory(_EVAL_FALSE)
    rs = _parse_der(sig[:-1])
    if rs is None:
        return _mandatory("Non-canonical DER signature")
    if sig[-1] & ~0x80 not in (1, 2, 3):
        return _policy("Signature hash type missing or not understood")
    if rs[1] > _HALF_N:
        return _policy("Non-canonical signature: S value is unnecessarily high")
    return None


def _witness_v0_error(witness: list[bytes], key_hash: bytes) -> str | None:
    """Structural faults of a P2WPKH witness for a 20-byte key hash."""
    if not witness:
        return _mandatory("Witness program was passed an empty witness")
    if len(witness) != 2:
        return _mandatory("Witness program hash mismatch")
    sig, pub = witness
    if hash160(pub) != key_hash:
        return _mandatory(_EQUALVERIFY)
    if len(pub) != 33:
        return _policy("Using non-compressed keys in segwit")
    return _signature_error(sig)


def script_error(tx: Tx, i: int, coin: Coin) -> str | None:
    """Why input i does not unlock the coin (Core's wording), or None if it does."""
    txin = tx.inputs[i]
    kind = script_type(coin.script)
    items: list[bytes] | None
    if kind == "p2pkh":
        if txin.witness:
            return _mandatory("Witness provided for non-witness script")
        items = parse_pushes(txin.script_sig) or []
        if len(items) < 2:
            return _mandatory(_STACK)
        if hash160(items[-1]) != coin.script[3:23]:
            return _mandatory(_EQUALVERIFY)
        error = _signature_error(items[-2])
        if error is None and len(items) > 2:
            error = _policy("Stack size must be exactly one after execution")
    elif kind == "v0_p2wpkh":
        if txin.script_sig:
            return _mandatory("Witness requires empty scriptSig")
        error = _witness_v0_error(txin.witness, coin.script[2:])
    else:  # p2sh: the sandbox's wallets wrap P2WPKH in it
        items = parse_pushes(txin.script_sig)
        if items is None:
            return _mandatory("Only push operators allowed in signatures")
        if not items:
            return _mandatory(_STACK)
        redeem = items[-1]
        if hash160(redeem) != coin.script[2:22]:
            return _mandatory(_EVAL_FALSE)
        if len(redeem) != 22 or redeem[:2] != b"\x00\x14":
            return "bad-txns-nonstandard-inputs"
        if len(items) != 1:
            return _mandatory("Witness requires only-redeemscript scriptSig")
        error = _witness_v0_error(txin.witness, redeem[2:])
    if error:
        return error
    if not verify_input(tx, i, coin.script, coin.value):
        return _mandatory(_NULLFAIL)
    return None
