"""`investigate sweep`: move every coin a recovered key controls to a seizure address.

The key is a WIF private key (checked as P2PKH, compressed and uncompressed, P2SH-P2WPKH
and P2WPKH) or a BIP39 mnemonic (BIP84, BIP49 and BIP44 accounts, receive and change
chains, scanned up to the gap limit). Unspent outputs come from the explorer; one
transaction spends them all to --to, paying fee rate x vsize, is signed for real and
broadcast. The case keeps the signed transaction and where its inputs came from, never
the key itself.
"""

from __future__ import annotations

import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor

from .case import Case
from .chain.address import address_to_script, normalize_address
from .chain.sign import PURPOSES, Coin, KeyScript, build_sweep, derive, mnemonic_accounts, txid
from .chain.sign import wif_scripts as _wif_scripts
from .errors import InputError, RemoteError
from .esplora import Esplora

__all__ = ["discover_keys", "sweep"]

GAP_LIMIT = 20
WORKERS = 8
MAX_FEE_RATE = 1000.0  # sat/vB: beyond this a typo is likelier than intent

SCHEMA = """
CREATE TABLE IF NOT EXISTS sweeps (
    id INTEGER PRIMARY KEY,
    txid TEXT NOT NULL,
    raw_hex TEXT NOT NULL,        -- the signed transaction
    sha256 TEXT NOT NULL,         -- of the raw transaction bytes
    to_address TEXT NOT NULL,
    amount INTEGER NOT NULL,      -- satoshis sent to to_address
    fee INTEGER NOT NULL,
    fee_rate REAL NOT NULL,
    vsize INTEGER NOT NULL,
    inputs TEXT NOT NULL,         -- JSON: [{txid, vout, value, address, kind, path}]
    key_source TEXT NOT NULL,     -- wif | mnemonic
    explorer TEXT NOT NULL,
    status TEXT NOT NULL,         -- broadcast | rejected | not broadcast
    error TEXT,
    created REAL NOT NULL,
    custody_id INTEGER NOT NULL
);
"""


def _used(explorer: Esplora, keys: list[KeyScript]) -> list[tuple[KeyScript, bool]]:
    """Each address with whether it has any transaction (chain or mempool)."""

    def check(k: KeyScript) -> tuple[KeyScript, bool]:
        """Ask the explorer about one address."""
        info = explorer.address(k.address)
        count = info.get("chain_stats", {}).get("tx_count", 0)
        count += info.get("mempool_stats", {}).get("tx_count", 0)
        return k, count > 0

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(check, keys))


def discover_keys(
    explorer: Esplora,
    *,
    wif: str | None = None,
    mnemonic: str | None = None,
    passphrase: str = "",
    gap_limit: int = GAP_LIMIT,
) -> tuple[list[KeyScript], int]:
    """(the key scripts that were ever used, how many addresses were checked)."""
    if (wif is None) == (mnemonic is None):
        raise InputError("give exactly one of --key WIF or --mnemonic WORDS")
    if wif is not None:
        keys = _wif_scripts(wif)
        return [k for k, used in _used(explorer, keys) if used], len(keys)
    assert mnemonic is not None  # exactly one of the two was given
    root = mnemonic_accounts(mnemonic, passphrase)
    found: list[KeyScript] = []
    checked = 0
    for purpose in PURPOSES:
        for change in (0, 1):
            # BIP44's gap limit: stop after gap_limit unused addresses in a row.
            start, last_used = 0, -1
            while start <= last_used + gap_limit:
                batch = [
                    derive(root, purpose, change, i)
                    for i in range(start, last_used + gap_limit + 1)
                ]
                checked += len(batch)
                for index, (k, used) in enumerate(_used(explorer, batch), start):
                    if used:
                        found.append(k)
                        last_used = index
                start += len(batch)
    return found, checked


def _coins(explorer: Esplora, keys: list[KeyScript]) -> list[Coin]:
    """Every unspent output of these addresses."""

    def utxos(k: KeyScript) -> list[Coin]:
        """One address's unspent outputs."""
        return [
            Coin(u["txid"], int(u["vout"]), int(u["value"]), k)
            for u in explorer.address_utxo(k.address)
        ]

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        coins = [c for group in pool.map(utxos, keys) for c in group]
    unique = {(c.txid, c.vout): c for c in coins}  # one output, one input
    return sorted(unique.values(), key=lambda c: (c.txid, c.vout))


def _fee_rate(explorer: Esplora, fee_rate: float | None) -> float:
    """The fee rate to pay: the one given, else the explorer's 6-block estimate (at least 1)."""
    if fee_rate is not None:
        if not 1 <= fee_rate <= MAX_FEE_RATE:
            raise InputError(f"--fee-rate {fee_rate:g}: give 1 to {MAX_FEE_RATE:g} sat/vB")
        return float(fee_rate)
    try:
        estimates = explorer.fee_estimates()
        return max(1.0, float(estimates.get("6") or estimates.get("3") or 1.0))
    except (RemoteError, ValueError, TypeError, AttributeError):
        return 1.0


def sweep(
    case: Case,
    explorer: Esplora,
    *,
    to: str,
    wif: str | None = None,
    mnemonic: str | None = None,
    passphrase: str = "",
    fee_rate: float | None = None,
    gap_limit: int = GAP_LIMIT,
    broadcast: bool = True,
) -> dict:
    """Sweep every coin of a key or mnemonic to one address; what was done."""
    dest_address = normalize_address(to)
    dest = address_to_script(dest_address)
    keys, checked = discover_keys(
        explorer, wif=wif, mnemonic=mnemonic, passphrase=passphrase, gap_limit=gap_limit
    )
    coins = _coins(explorer, keys)
    report: dict = {
        "swept": False,
        "key_source": "wif" if wif is not None else "mnemonic",
        "addresses_checked": checked,
        "addresses_used": [k.address for k in keys],
        "to": dest_address,
    }
    if not coins:
        report["message"] = (
            f"nothing to sweep: {checked} address(es) checked, "
            f"{len(keys)} used, no unspent outputs left"
        )
        return report
    rate = _fee_rate(explorer, fee_rate)
    raw, fee, size = build_sweep(coins, dest, rate)
    total = sum(c.value for c in coins)
    report.update(
        {
            "txid": txid(raw),
            "raw_hex": raw.hex(),
            "inputs": [
                {
                    "txid": c.txid,
                    "vout": c.vout,
                    "value": c.value,
                    "address": c.key.address,
                    "kind": c.key.kind,
                    "path": c.key.path,
                }
                for c in coins
            ],
            "total": total,
            "fee": fee,
            "fee_rate": rate,
            "vsize": size,
            "amount": total - fee,
        }
    )
    status, error = "not broadcast", None
    if broadcast:
        try:
            accepted = explorer.broadcast(raw.hex())
            status = "broadcast"
            if accepted != report["txid"]:
                error = f"the explorer answered txid {accepted}"
        except RemoteError as e:
            status, error = "rejected", str(e)
    _record(case, report, explorer, status, error)
    if status == "rejected":
        raise RemoteError(error)
    report["status"] = status
    report["swept"] = status == "broadcast"
    if report["swept"]:
        report["confirmation"] = _status(explorer, report["txid"])
    return report


def _status(explorer: Esplora, tx: str) -> dict:
    """The sweep's confirmation status right after the broadcast (the explorer may mine at once)."""
    try:
        return explorer.tx_status(tx)
    except RemoteError:
        return {"confirmed": False}


def _record(case: Case, report: dict, explorer: Esplora, status: str, error: str | None) -> None:
    """Keep the signed transaction in the case."""
    case.ensure(SCHEMA)
    raw = bytes.fromhex(report["raw_hex"])
    case.conn.execute(
        "INSERT INTO sweeps (txid, raw_hex, sha256, to_address, amount, fee, fee_rate, vsize, "
        "inputs, key_source, explorer, status, error, created, custody_id) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            report["txid"],
            report["raw_hex"],
            hashlib.sha256(raw).hexdigest(),
            report["to"],
            report["amount"],
            report["fee"],
            report["fee_rate"],
            report["vsize"],
            json.dumps(report["inputs"]),
            report["key_source"],
            explorer.url,
            status,
            error,
            time.time(),
            case.custody_id,
        ),
    )
