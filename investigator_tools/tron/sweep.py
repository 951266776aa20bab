"""`investigate sweep --chain tron`: move a recovered key's USDT, then its TRX, to --to.

The key is a hex private key, a WIF, or a BIP39 mnemonic (Tron's BIP44 path
m/44'/195'/0'/0/i, the first --gap-limit addresses). Each transaction is built by the node
(triggersmartcontract for USDT's transfer(address,uint256), createtransaction for TRX),
and before it is signed the toolkit reads its raw_data with its own protobuf reader: the
owner, the destination, the amount and the call must be what was asked, and the txID the
SHA-256 of the raw bytes. It is signed here (secp256k1, recoverable) and broadcast with
broadcasttransaction. The TRX goes once the USDT transfer has confirmed (its fee is only
known then): with --wait, in the same run; without, a later run sends it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time

from coincurve import PrivateKey
from embit import bip32, bip39

from ..case import Case
from ..chain.codec.protobuf import read_raw
from ..chain.codec.tron import tron_address, tron_from_pubkey, tron_hex
from ..chain.sign import decode_wif
from ..errors import InputError, RemoteError
from .node import USDT_CONTRACT, TronNode

__all__ = ["TRON_PATH", "sweep_tron", "tron_keys"]

TRON_PATH = "m/44'/195'/0'/0/{index}"
TRANSFER = "transfer(address,uint256)"
FEE_LIMIT = 100_000_000  # sun: the most the USDT transfer may burn for energy (100 TRX)
BANDWIDTH_FEE = 1_000  # sun per byte, when the account has no free bandwidth left
TX_BYTES = 300  # a signed TRX transfer's size, rounded up

SCHEMA = """
CREATE TABLE IF NOT EXISTS tron_sweeps (
    id INTEGER PRIMARY KEY,
    txid TEXT NOT NULL,
    raw_data_hex TEXT NOT NULL,   -- the signed transaction's raw_data
    from_address TEXT NOT NULL,
    to_address TEXT NOT NULL,
    asset TEXT NOT NULL,          -- USDT | TRX
    amount INTEGER NOT NULL,
    key_source TEXT NOT NULL,     -- hex | wif | mnemonic (the key itself is never kept)
    node TEXT NOT NULL,
    status TEXT NOT NULL,         -- broadcast | rejected | confirmed
    error TEXT,
    block INTEGER,
    created REAL NOT NULL,
    custody_id INTEGER NOT NULL
);
"""


def tron_keys(
    key: str | None, mnemonic: str | None, passphrase: str = "", gap_limit: int = 20
) -> list[tuple[bytes, str, str | None]]:
    """(secret, address, path) of the key, or of a mnemonic's first gap_limit addresses."""
    if (key is None) == (mnemonic is None):
        raise InputError("give exactly one of --key HEX|WIF or --mnemonic WORDS")
    if key is not None:
        text = key.strip()
        if len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text):
            secret = bytes.fromhex(text)
        else:
            try:
                secret, _ = decode_wif(text)
            except InputError:
                raise InputError("--key: neither 64 hex digits nor a WIF private key") from None
        return [(secret, _address_of(secret), None)]
    words = " ".join(mnemonic.split()) if mnemonic else ""
    if not bip39.mnemonic_is_valid(words):
        raise InputError("--mnemonic: not a valid BIP39 mnemonic (words or checksum)")
    root = bip32.HDKey.from_seed(bip39.mnemonic_to_seed(words, passphrase))
    out: list[tuple[bytes, str, str | None]] = []
    for index in range(gap_limit):
        path = TRON_PATH.format(index=index)
        child = root.derive(path)
        assert child.key is not None
        secret = child.key.secret
        out.append((secret, _address_of(secret), path))
    return out


def _address_of(secret: bytes) -> str:
    """The T... address of a private key; InputError when it is out of range."""
    try:
        public = PrivateKey(secret).public_key.format(compressed=False)
    except ValueError as e:
        raise InputError(f"--key: not a valid secp256k1 private key ({e})") from None
    return tron_from_pubkey(public)


def _check(tx: dict, owner: str, target: str, amount: int, data: bytes, kind: str) -> bytes:
    """The txID bytes of a node-built transaction, once its raw bytes say what was asked."""
    try:
        raw_bytes = bytes.fromhex(tx["raw_data_hex"])
        raw = read_raw(raw_bytes)
    except (KeyError, ValueError) as e:
        raise RemoteError(f"the node built a transaction the toolkit cannot read: {e}") from None
    problems = []
    if raw.contracts != 1 or raw.contract_type != kind:
        problems.append(f"{raw.contracts} contract(s) of type {raw.contract_type}, not one {kind}")
    if raw.owner.hex() != tron_hex(owner):
        problems.append(f"owner {raw.owner.hex()} is not {tron_hex(owner)}")
    if raw.to.hex() != tron_hex(target):
        problems.append(f"destination {raw.to.hex()} is not {tron_hex(target)}")
    if raw.amount != amount:
        problems.append(f"amount {raw.amount} is not {amount}")
    if raw.data != data:
        problems.append("the contract call is not the transfer asked for")
    digest = hashlib.sha256(raw_bytes).digest()
    if tx.get("txID") != digest.hex():
        problems.append(f"txID {tx.get('txID')} is not the SHA-256 of raw_data ({digest.hex()})")
    if problems:
        raise RemoteError("the node's transaction is not the one asked for: " + "; ".join(problems))
    return digest


def _sign(secret: bytes, digest: bytes) -> str:
    """A recoverable secp256k1 signature of a txID: r || s || v, as Tron takes it."""
    return PrivateKey(secret).sign_recoverable(digest, hasher=None).hex()


def sweep_tron(
    case: Case,
    node: TronNode,
    *,
    to: str,
    key: str | None = None,
    mnemonic: str | None = None,
    passphrase: str = "",
    gap_limit: int = 20,
    wait: bool = False,
    wait_seconds: float = 60,
    broadcast: bool = True,
    contract: str = USDT_CONTRACT,
) -> dict:
    """Sweep the USDT then the TRX of each funded key address to `to`; what was sent."""
    try:
        to = tron_address(to)
    except ValueError as e:
        raise InputError(f"--to {to!r} is not a Tron address: {e}") from None
    keys = tron_keys(key, mnemonic, passphrase, gap_limit)
    source = "mnemonic" if mnemonic else ("hex" if len(key or "") == 64 else "wif")
    case.ensure(SCHEMA)
    sent: list[dict] = []
    notes: list[str] = []
    for secret, address, path in keys:
        if address == to:
            raise InputError(f"--to {to} is the key's own address")
        usdt = node.usdt_balance(address, contract)
        usdt_tx = None
        if usdt:
            usdt_tx = _usdt(case, node, secret, address, to, usdt, contract, source, broadcast)
            usdt_tx["path"] = path
            sent.append(usdt_tx)
            if wait and usdt_tx["status"] == "broadcast":
                _confirm(case, node, usdt_tx, wait_seconds)
        if usdt_tx and usdt_tx["status"] != "confirmed":
            if node.account(address).get("balance"):
                notes.append(
                    f"{address}: TRX left; it goes once the USDT transfer confirms "
                    "(run again, or use --wait)"
                )
            continue
        trx = _trx(case, node, secret, address, to, source, broadcast)
        if trx is not None:
            trx["path"] = path
            sent.append(trx)
            if wait and trx["status"] == "broadcast":
                _confirm(case, node, trx, wait_seconds)
    if not sent:
        notes.append(f"nothing to sweep on {len(keys)} address(es) checked")
    return {"to": to, "node": node.url, "checked": len(keys), "transactions": sent, "notes": notes}


def _usdt(case, node, secret, owner, to, amount, contract, source, broadcast) -> dict:
    """Build, check, sign and broadcast USDT's transfer(to, amount)."""
    parameter = tron_hex(to)[2:].rjust(64, "0") + f"{amount:064x}"
    answer = node.wallet(
        "triggersmartcontract",
        {
            "owner_address": owner,
            "contract_address": contract,
            "function_selector": TRANSFER,
            "parameter": parameter,
            "fee_limit": FEE_LIMIT,
        },
    )
    if not (answer.get("result") or {}).get("result") or "transaction" not in answer:
        raise RemoteError(f"the node would not build the USDT transfer: {answer.get('result')}")
    from ..chain.codec.hashes import keccak256

    data = keccak256(TRANSFER.encode())[:4] + bytes.fromhex(parameter)
    tx = answer["transaction"]
    digest = _check(tx, owner, contract, 0, data, "TriggerSmartContract")
    return _send(case, node, tx, secret, digest, owner, to, "USDT", amount, source, broadcast)


def _trx(case, node, secret, owner, to, source, broadcast) -> dict | None:
    """Build, check, sign and broadcast a transfer of all the account's TRX but the fee."""
    balance = int(node.account(owner).get("balance", 0))
    net = node.wallet("getaccountnet", {"address": owner})
    free = int(net.get("freeNetLimit", 0)) - int(net.get("freeNetUsed", 0))
    staked = int(net.get("NetLimit", 0)) - int(net.get("NetUsed", 0))
    fee = 0 if max(free, staked) >= TX_BYTES else TX_BYTES * BANDWIDTH_FEE
    amount = balance - fee
    if amount <= 0:
        return None
    tx = node.wallet(
        "createtransaction", {"owner_address": owner, "to_address": to, "amount": amount}
    )
    digest = _check(tx, owner, to, amount, b"", "TransferContract")
    return _send(case, node, tx, secret, digest, owner, to, "TRX", amount, source, broadcast)


def _send(case, node, tx, secret, digest, owner, to, asset, amount, source, broadcast) -> dict:
    """Sign, broadcast (unless a dry run) and record one transaction."""
    signed = {**tx, "signature": [_sign(secret, digest)]}
    status, error = "not broadcast", None
    if broadcast:
        answer = node.http.request("POST", "wallet/broadcasttransaction", json=signed).json()
        if answer.get("result") is True:
            status = "broadcast"
        else:
            status = "rejected"
            message = str(answer.get("message", ""))
            with contextlib.suppress(ValueError):  # java-tron sends it hex unless visible
                message = bytes.fromhex(message).decode("utf-8", "replace")
            error = f"{answer.get('code')}: {message}"
    record = {
        "txid": tx["txID"],
        "asset": asset,
        "from": owner,
        "to": to,
        "amount": amount,
        "status": status,
        "error": error,
        "block": None,
    }
    cur = case.conn.execute(
        "INSERT INTO tron_sweeps (txid, raw_data_hex, from_address, to_address, asset, amount, "
        "key_source, node, status, error, block, created, custody_id) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (tx["txID"], tx["raw_data_hex"], owner, to, asset, amount, source, node.url, status,
         error, None, time.time(), case.custody_id),
    )  # fmt: skip
    record["id"] = cur.lastrowid
    if status == "rejected":
        raise RemoteError(
            f"the node rejected the {asset} sweep {tx['txID']}: {error} "
            f"(recorded in the case: {json.dumps(record)})"
        )
    return record


def _confirm(case, node, record: dict, seconds: float) -> None:
    """Wait (polling the node) until the transaction is in a block, up to `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        info = node.tx_info(record["txid"])
        if info.get("blockNumber") is not None:
            record["block"] = int(info["blockNumber"])
            ok = (info.get("receipt") or {}).get("result", "SUCCESS") == "SUCCESS"
            record["status"] = "confirmed" if ok else "failed"
            if not ok:
                record["error"] = (info.get("receipt") or {}).get("result")
            case.conn.execute(
                "UPDATE tron_sweeps SET status = ?, block = ?, error = ? WHERE id = ?",
                (record["status"], record["block"], record["error"], record["id"]),
            )
            return
        if time.monotonic() > deadline:
            record["note"] = f"not in a block after {seconds:g} s"
            return
        time.sleep(1.0)
