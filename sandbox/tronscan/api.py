"""The explorer's JSON API in Tronscan's shapes (apilist.tronscanapi.com/api/...).

Field names and types follow Tronscan's answers; `start` + `limit` page the lists (limit at
most 50, start + limit at most 10,000, as Tronscan's). A malformed parameter answers 400
and an unknown transaction 404, each with {"message": ...} naming the parameter.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from ..tron.usdt import DECIMALS, NAME, SYMBOL, USDT_ADDRESS
from .reader import (
    MAX_WINDOW,
    AccountView,
    BadQuery,
    Transfer,
    TronscanReader,
    TxDetail,
    check_address,
    check_txid,
    legs_for,
    parse_time,
)

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_LIMIT = 50
TOKEN_LOGO = "/static/usdt.png"
TRX_LOGO = "/static/trx.png"


def reader() -> TronscanReader:
    """The app's reader."""
    return current_app.extensions["tronscan"].reader


@bp.errorhandler(BadQuery)
def _bad(e: BadQuery):
    return jsonify({"message": str(e), "code": 400}), 400


def _int_arg(name: str, default: int, *, low: int = 0) -> int:
    """An integer query parameter, or BadQuery naming it."""
    text = request.args.get(name, "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit()) or int(text) < low:
        raise BadQuery(f"{name}: {text[:40]!r} is not an integer >= {low}")
    return int(text)


def _page_args() -> tuple[int, int]:
    """(start, limit): limit capped at 50 as Tronscan caps it; start + limit <= 10,000."""
    start = _int_arg("start", 0)
    limit = min(_int_arg("limit", 10, low=1), MAX_LIMIT)
    if start + limit > MAX_WINDOW:
        raise BadQuery(f"start + limit: {start + limit} is over {MAX_WINDOW} (Tronscan's window)")
    return start, limit


def token_info(level: bool = True) -> dict[str, Any]:
    """Tronscan's tokenInfo of USDT."""
    info: dict[str, Any] = {
        "tokenId": USDT_ADDRESS,
        "tokenAbbr": SYMBOL,
        "tokenName": NAME,
        "tokenDecimal": DECIMALS,
        "tokenCanShow": 1,
        "tokenType": "trc20",
        "tokenLogo": TOKEN_LOGO,
    }
    if level:
        info["tokenLevel"] = "2"
    info["vip"] = True
    return info


def _tag(r: TronscanReader, address: str, key: str) -> dict[str, str]:
    """Tronscan's {from,to}_address_tag: the public label, {} when there is none."""
    label = r.label(address)
    return {key: label} if label else {}


def transfer_json(r: TronscanReader, t: Transfer) -> dict[str, Any]:
    """One element of token_transfers."""
    return {
        "transaction_id": t.txid,
        "status": 0,
        "block_ts": t.timestamp,
        "from_address": t.from_address,
        "from_address_tag": _tag(r, t.from_address, "from_address_tag"),
        "to_address": t.to_address,
        "to_address_tag": _tag(r, t.to_address, "to_address_tag"),
        "block": t.block if t.block is not None else 0,
        "contract_address": t.contract,
        "quant": str(t.value),
        "approval_amount": "0",
        "event_type": "Transfer",
        "contract_type": "trc20",
        "confirmed": r.confirmed(t.block),
        "contractRet": "SUCCESS",
        "finalResult": "SUCCESS",
        "tokenInfo": token_info(),
        "fromAddressIsContract": r.is_contract(t.from_address),
        "toAddressIsContract": r.is_contract(t.to_address),
        "revert": False,
        "riskTransaction": False,
    }


def _contract_info() -> dict[str, Any]:
    return {
        USDT_ADDRESS: {
            "isToken": True,
            "tag1": "USDT Token",
            "tag1Url": "",
            "name": "TetherToken",
            "risk": False,
            "vip": True,
        }
    }


@bp.get("/token_trc20/transfers")
def trc20_transfers():
    """TRC-20 transfers by relatedAddress (or fromAddress/toAddress), contract and time."""
    r = reader()
    start, limit = _page_args()
    args = request.args
    contract = args.get("contract_address", "").strip() or None
    if contract is not None:
        contract = check_address(contract, "contract_address")
    related = args.get("relatedAddress", "").strip()
    frm = args.get("fromAddress", "").strip()
    to = args.get("toAddress", "").strip()
    direction = args.get("direction", "all").strip() or "all"
    if direction not in ("all", "in", "out"):
        raise BadQuery(f"direction: {direction[:20]!r} is not one of all, in, out")
    min_ms = parse_time(args.get("start_timestamp"), "start_timestamp") or 0
    max_ms = parse_time(args.get("end_timestamp"), "end_timestamp", end=True)
    if max_ms is None:
        max_ms = 1 << 62
    if related:
        address = check_address(related, "relatedAddress")
        legs = legs_for(address, direction)
        if frm or to:
            other = check_address(frm or to, "fromAddress" if frm else "toAddress")
            legs = legs_for(address, "in" if frm else "out", other)
    elif frm or to:
        legs = [
            (
                check_address(frm, "fromAddress") if frm else None,
                check_address(to, "toAddress") if to else None,
            )
        ]
    else:
        legs = legs_for(None)
    total, page = r.transfers(
        legs, contract=contract, min_ms=min_ms, max_ms=max_ms, start=start, limit=limit
    )
    addresses = {a for t in page for a in (t.from_address, t.to_address)}
    return jsonify(
        {
            "total": min(total, MAX_WINDOW),
            "rangeTotal": total,
            "contractInfo": _contract_info(),
            "contractMap": {a: r.is_contract(a) for a in sorted(addresses)},
            "token_transfers": [transfer_json(r, t) for t in page],
            "normalAddressInfo": {
                a: {"risk": False} for a in sorted(addresses) if not r.is_contract(a)
            },
        }
    )


def _cost_json(d: TxDetail) -> dict[str, int]:
    c = d.cost
    return {
        "net_fee": c.net_fee,
        "energy_penalty_total": c.energy_penalty_total,
        "energy_usage": c.energy_usage,
        "fee": c.fee,
        "energy_fee": c.energy_fee,
        "energy_usage_total": c.energy_usage_total,
        "origin_energy_usage": c.origin_energy_usage,
        "net_usage": c.net_usage,
    }


def _transfer_info(t: Transfer) -> dict[str, Any]:
    """An element of trc20TransferInfo."""
    return {
        "icon_url": TOKEN_LOGO,
        "symbol": SYMBOL,
        "level": "2",
        "to_address": t.to_address,
        "contract_address": t.contract,
        "type": "Transfer",
        "decimals": DECIMALS,
        "name": NAME,
        "vip": True,
        "tokenType": "trc20",
        "from_address": t.from_address,
        "amount_str": str(t.value),
        "status": 0,
    }


def tx_info_json(r: TronscanReader, d: TxDetail) -> dict[str, Any]:
    """/api/transaction-info's answer."""
    tx = d.tx
    to = (
        d.value.get("to_address")
        or d.value.get("contract_address")
        or d.value.get("receiver_address", "")
    )
    contract_data = dict(d.value)
    if d.call is not None:
        contract_data["tokenInfo"] = token_info()
    addresses = {tx.owner, *([to] if to else [])}
    for t in d.transfers:
        addresses |= {t.from_address, t.to_address}
    out: dict[str, Any] = {
        "block": tx.number if tx.number is not None else 0,
        "hash": tx.txid,
        "timestamp": tx.timestamp,
        "ownerAddress": tx.owner,
        "signature_addresses": [],
        "contractType": d.contract_type_number,
        "toAddress": to,
        "project": "",
        "confirmations": d.confirmations,
        "confirmed": d.confirmed,
        "revert": tx.result not in ("SUCCESS", "DEFAULT"),
        "contractRet": tx.result,
        "contractData": contract_data,
        "data": "",
        "cost": _cost_json(d),
        "trigger_info": {},
        "internal_transactions": {},
        "event_count": len(d.logs),
        "info": {},
        "contract_map": {a: r.is_contract(a) for a in sorted(addresses)},
        "contractInfo": _contract_info() if USDT_ADDRESS in addresses else {},
        "riskTransaction": False,
    }
    if d.call is not None:
        out["trigger_info"] = {
            "method": d.call["method"],
            "data": d.call["data"],
            "parameter": d.call["parameter"],
            "methodId": d.call["methodId"],
            "methodName": d.call["methodName"],
            "contract_address": d.call["contract_address"],
            "call_value": d.call["call_value"],
        }
    if d.transfers:
        out["tokenTransferInfo"] = _transfer_info(d.transfers[0])
        out["trc20TransferInfo"] = [_transfer_info(t) for t in d.transfers]
    return out


@bp.get("/transaction-info")
def transaction_info():
    """One transaction by hash: its contract, decoded call, cost and token transfers."""
    txid = check_txid(request.args.get("hash", ""), "hash")
    r = reader()
    d = r.tx(txid)
    if d is None:
        return jsonify({"message": f"hash: no transaction {txid} on this chain", "code": 404}), 404
    return jsonify(tx_info_json(r, d))


def _tx_list_item(r: TronscanReader, d: TxDetail) -> dict[str, Any]:
    """An element of /api/transaction's data list."""
    info = tx_info_json(r, d)
    amount = d.value.get("amount", 0)
    return {
        "block": info["block"],
        "hash": info["hash"],
        "timestamp": info["timestamp"],
        "ownerAddress": info["ownerAddress"],
        "toAddressList": [info["toAddress"]] if info["toAddress"] else [],
        "toAddress": info["toAddress"],
        "contractType": info["contractType"],
        "confirmed": info["confirmed"],
        "revert": info["revert"],
        "contractData": info["contractData"],
        "SmartCalls": "",
        "Events": "",
        "id": "",
        "data": "",
        "fee": str(d.cost.fee),
        "contractRet": info["contractRet"],
        "result": "SUCCESS" if not info["revert"] else "FAILED",
        "amount": str(amount),
        "cheatStatus": False,
        "cost": info["cost"],
        "tokenInfo": token_info() if d.call is not None else _trx_info(),
        "tokenType": "trc20" if d.call is not None else "trc10",
        "trigger_info": info["trigger_info"] or None,
        "riskTransaction": False,
    }


def _trx_info() -> dict[str, Any]:
    return {
        "tokenId": "_",
        "tokenAbbr": "trx",
        "tokenName": "trx",
        "tokenDecimal": 6,
        "tokenCanShow": 1,
        "tokenType": "trc10",
        "tokenLogo": TRX_LOGO,
        "tokenLevel": "2",
        "vip": True,
    }


@bp.get("/transaction")
def transaction():
    """hash=: one transaction (as /api/transaction-info); address=: its transactions,
    newest first, paged by start and limit."""
    r = reader()
    if request.args.get("hash"):
        return transaction_info()
    address = request.args.get("address", "").strip()
    if not address:
        raise BadQuery("hash or address: one of them is required")
    address = check_address(address, "address")
    start, limit = _page_args()
    rows, total = _address_txs(r, address, start, limit)
    details = [d for t in rows if (d := r.tx(t)) is not None]
    return jsonify(
        {
            "total": min(total, MAX_WINDOW),
            "rangeTotal": total,
            "data": [_tx_list_item(r, d) for d in details],
            "wholeChainTxCount": total,
            "contractMap": {address: r.is_contract(address)},
            "contractInfo": {},
        }
    )


def _address_txs(r: TronscanReader, address: str, start: int, limit: int) -> tuple[list[str], int]:
    """The txids of the page [start, start + limit) of an address's transactions, and how
    many it has (sent and received, a transaction to oneself once)."""
    sent, received = r.tx_counts(address)
    total = sent + received
    txids: list[str] = []
    cursor = None
    seen = 0
    while seen < start + limit:
        rows, cursor = r.txs_of(address, cursor, limit=min(200, start + limit - seen))
        for row in rows:
            if seen >= start:
                txids.append(row.txid)
            seen += 1
        if cursor is None:
            break
    return txids[:limit], total


def account_json(r: TronscanReader, a: AccountView) -> dict[str, Any]:
    """/api/account's answer (the fields of Tronscan's account detail)."""
    res = a.resource
    free_limit = res.get("freeNetLimit", 600 if a.activated else 0)
    free_used = res.get("freeNetUsed", 0)
    net_limit, net_used = res.get("NetLimit", 0), res.get("NetUsed", 0)
    energy_limit, energy_used = res.get("EnergyLimit", 0), res.get("EnergyUsed", 0)

    def pct(used: int, limit: int) -> float:
        return round(used / limit, 6) if limit else 0

    trx_token = {
        **_trx_info(),
        "balance": str(a.balance),
        "amount": _decimal(a.balance),
        "tokenPriceInTrx": 1,
    }
    usdt_token = {
        **token_info(),
        "balance": str(a.usdt),
        "amount": _decimal(a.usdt),
        "tokenPriceInTrx": 0,
    }
    tokens = [trx_token] + ([usdt_token] if a.usdt else [])
    staked = a.frozen["BANDWIDTH"] + a.frozen["ENERGY"]
    return {
        "address": a.address,
        "name": "",
        "balance": a.balance,
        "activated": a.activated,
        "accountType": 2 if a.is_contract else 0,
        "date_created": a.create_time,
        "latest_operation_time": a.latest_operation_time,
        "totalTransactionCount": a.sent + a.received,
        "transactions": a.sent + a.received,
        "transactions_in": a.received,
        "transactions_out": a.sent,
        "publicTag": a.label or "",
        "redTag": "Blacklisted by the USDT issuer" if a.blacklisted else "",
        "greyTag": "",
        "blueTag": "",
        "feedbackRisk": False,
        "addressTagLogo": "",
        "bandwidth": {
            "energyRemaining": max(0, energy_limit - energy_used),
            "totalEnergyLimit": res.get("TotalEnergyLimit", 0),
            "totalEnergyWeight": res.get("TotalEnergyWeight", 0),
            "netUsed": net_used,
            "storageLimit": 0,
            "storagePercentage": 0,
            "assets": {},
            "netPercentage": pct(net_used, net_limit),
            "storageUsed": 0,
            "storageRemaining": 0,
            "freeNetLimit": free_limit,
            "energyUsed": energy_used,
            "freeNetRemaining": max(0, free_limit - free_used),
            "netLimit": net_limit,
            "netRemaining": max(0, net_limit - net_used),
            "energyLimit": energy_limit,
            "freeNetUsed": free_used,
            "totalNetWeight": res.get("TotalNetWeight", 0),
            "freeNetPercentage": pct(free_used, free_limit),
            "energyPercentage": pct(energy_used, energy_limit),
            "totalNetLimit": res.get("TotalNetLimit", 0),
        },
        "withPriceTokens": tokens,
        "trc20token_balances": [{**usdt_token, "nrOfTokenHolders": r.token()["holders"]}]
        if a.usdt
        else [],  # fmt: skip
        "frozen": {"total": 0, "balances": []},
        "totalFrozen": 0,
        "totalFrozenV2": staked,
        "frozenForEnergyV2": a.frozen["ENERGY"],
        "frozenForBandWidthV2": a.frozen["BANDWIDTH"],
        "delegatedFrozenV2BalanceForEnergy": a.delegated["ENERGY"],
        "delegatedFrozenV2BalanceForBandwidth": a.delegated["BANDWIDTH"],
        "acquiredDelegatedFrozenV2BalanceForEnergy": a.acquired["ENERGY"],
        "acquiredDelegatedFrozenV2BalanceForBandwidth": a.acquired["BANDWIDTH"],
        "ownerPermission": {
            "keys": [{"address": a.address, "weight": 1}],
            "threshold": 1,
            "permission_name": "owner",
        },
        "activePermissions": [],
        "delegated": {},
        "representative": {"lastWithDrawTime": 0, "allowance": 0, "enabled": False, "url": ""},
        "witness": 0,
        "voteTotal": 0,
    }


def _decimal(units: int) -> str:
    """Units of 10^-6 as a decimal string (Tronscan's `amount`)."""
    text = f"{units // 10**6}.{units % 10**6:06d}".rstrip("0").rstrip(".")
    return text or "0"


@bp.get("/account")
def account():
    """An address: TRX and token balances, resources, counts and public tags."""
    address = check_address(request.args.get("address", ""), "address")
    r = reader()
    return jsonify(account_json(r, r.account(address)))


@bp.get("/accountv2")
def accountv2():
    """Tronscan's newer name for the same account detail."""
    return account()
