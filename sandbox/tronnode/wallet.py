"""java-tron's full-node HTTP API: /wallet/* and the /walletsolidity/* twins of its reads.

Every endpoint takes GET query parameters or a POST JSON body, honours `visible`, and
answers 200 with java-tron's JSON; errors come as java-tron gives them: `{"Error": ...}`
for a request it cannot read, `{"code": ..., "message": ...}` for a refused transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Blueprint, Response, current_app, request

from ..errors import SandboxError
from ..tron import address as tron_address
from ..tron.errors import InvalidTronAddress, TronRejected
from ..tron.live.chain import TronLive
from ..tron.resources import CHAIN_PARAMETERS
from ..tron.transaction import Transaction
from ..tron.usdt import USDT_ABI, USDT_ADDRESS, CallResult
from .accounts import account_json, account_net_json, account_resource_json
from .render import address_out, block_json, dumps, tx_info_json, tx_json

bp = Blueprint("wallet", __name__)

MAX_BLOCK_RANGE = 100  # getblockbylimitnext answers at most this many blocks
USDT_ORIGIN = "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL"  # the address that deployed Tether on Tron


class NodeRequestError(SandboxError, ValueError):
    """A request java-tron could not read: answered {"Error": "<class> : <message>"}."""

    def __init__(self, message: str, kind: str = "java.lang.IllegalArgumentException"):
        """message: what is wrong; kind: the Java exception class java-tron names."""
        super().__init__(message)
        self.kind = kind


def chain() -> TronLive:
    """The live chain of the app serving this request."""
    return current_app.extensions["tronnode"].chain


def answer(body: dict) -> Response:
    """java-tron's JSON answer (always 200, one line)."""
    return Response(dumps(body) + b"\n", mimetype="application/json")


def params() -> dict:
    """The request's parameters: the POST JSON body, else the query string."""
    data = request.get_data() if request.method == "POST" else b""
    if data:
        try:
            body = json.loads(data)
        except ValueError as e:
            raise NodeRequestError(str(e), "com.alibaba.fastjson.JSONException") from None
        if not isinstance(body, dict):
            raise NodeRequestError(
                "the body is not a JSON object", "com.alibaba.fastjson.JSONException"
            )
        return body
    return dict(request.args)


def visible(p: dict) -> bool:
    """java-tron's `visible` switch (false by default)."""
    value = p.get("visible", False)
    return value is True or str(value).lower() == "true"


def address_param(p: dict, name: str) -> bytes:
    """A required address parameter, in the T... or 41... form."""
    value = p.get(name)
    if not value:
        raise NodeRequestError(f"{name} is required")
    try:
        return tron_address.to_bytes(str(value))
    except InvalidTronAddress as e:
        raise NodeRequestError(f"{name}: {e}", "java.lang.IllegalArgumentException") from None


def int_param(p: dict, name: str) -> int:
    """A required integer parameter."""
    try:
        return int(p[name])
    except KeyError:
        raise NodeRequestError(f"{name} is required") from None
    except (TypeError, ValueError):
        raise NodeRequestError(
            f"{name}: not an integer: {p[name]!r}", "java.lang.NumberFormatException"
        ) from None


def hex_param(p: dict, name: str, length: int | None = None) -> str:
    """A required hex parameter (a txid or block id: 64 digits)."""
    value = str(p.get(name) or "")
    try:
        bytes.fromhex(value)
    except ValueError:
        raise NodeRequestError(f"{name}: not hex: {value!r}") from None
    if not value or (length is not None and len(value) != length):
        raise NodeRequestError(f"{name}: expected {length} hex digits, got {len(value)}")
    return value.lower()


def route(path: str, *, solid: bool = False):
    """Register a handler under /wallet/<path> (and /walletsolidity/<path> when solid)."""

    def register(handler: Callable[[dict, bool], dict]):
        def view():
            try:
                p = params()
                return answer(handler(p, request.path.startswith("/walletsolidity/")))
            except NodeRequestError as e:
                return answer({"Error": f"class {e.kind} : {e}"})

        view.__name__ = f"view_{path}"
        bp.add_url_rule(f"/wallet/{path}", f"wallet_{path}", view, methods=["GET", "POST"])
        if solid:
            bp.add_url_rule(
                f"/walletsolidity/{path}", f"solid_{path}", view, methods=["GET", "POST"]
            )
        return handler

    return register


def _top(solid: bool) -> int:
    """The highest block a read may show: the head, or the solidified block."""
    c = chain()
    return c.solid_number() if solid else c.head()[0]


# -- blocks ---------------------------------------------------------------------------


@route("getnowblock", solid=True)
def getnowblock(p: dict, solid: bool) -> dict:
    """The latest block (the latest solidified one on /walletsolidity)."""
    block = chain().block(_top(solid))
    assert block is not None
    return block_json(block, visible(p))


@route("getblockbynum", solid=True)
def getblockbynum(p: dict, solid: bool) -> dict:
    """Block `num`, or {} when there is none."""
    number = int_param(p, "num")
    if number > _top(solid):
        return {}
    block = chain().block(number)
    return block_json(block, visible(p)) if block else {}


@route("getblockbyid", solid=True)
def getblockbyid(p: dict, solid: bool) -> dict:
    """The block with id `value`, or {}."""
    block = chain().block_by_id(hex_param(p, "value", 64))
    if block is None or block.number > _top(solid):
        return {}
    return block_json(block, visible(p))


@route("getblockbylimitnext", solid=True)
def getblockbylimitnext(p: dict, solid: bool) -> dict:
    """Blocks startNum <= n < endNum (at most 100): {"block": [...]}, {} when none."""
    start, end = int_param(p, "startNum"), int_param(p, "endNum")
    if start < 0 or end <= start or end - start > MAX_BLOCK_RANGE:
        return {}
    end = min(end, _top(solid) + 1)
    blocks = [chain().block(n) for n in range(start, end)]
    shown = [block_json(b, visible(p)) for b in blocks if b is not None]
    return {"block": shown} if shown else {}


# -- transactions ---------------------------------------------------------------------


def _confirmed(txid: str, solid: bool):
    """A transaction in a block (at or below the solidified one when solid), or None."""
    tx = chain().tx(txid)
    if tx is None or tx.number is None or tx.number > _top(solid):
        return None
    return tx


@route("gettransactionbyid", solid=True)
def gettransactionbyid(p: dict, solid: bool) -> dict:
    """A transaction by txid, mempool included on /wallet; {} when unknown."""
    txid = hex_param(p, "value", 64)
    tx = chain().tx(txid) if not solid else _confirmed(txid, True)
    return tx_json(tx, visible(p)) if tx is not None else {}


@route("gettransactioninfobyid", solid=True)
def gettransactioninfobyid(p: dict, solid: bool) -> dict:
    """A transaction's receipt once it is in a block; {} before."""
    tx = _confirmed(hex_param(p, "value", 64), solid)
    if tx is None:
        return {}
    if tx.receipt is not None:
        return tx_info_json(tx, [], None, visible(p))
    assert tx.world_row is not None
    contract = tx.to_address if tx.type == "TriggerSmartContract" else None
    return tx_info_json(tx, chain().world_logs(tx.world_row[0]), contract, visible(p))


# -- accounts -------------------------------------------------------------------------


@route("getaccount", solid=True)
def getaccount(p: dict, solid: bool) -> dict:
    """An activated account; {} for any other address."""
    address = address_param(p, "address")
    c = chain()
    return account_json(c.account(address), c.head_slot(), visible(p))


@route("getaccountresource", solid=True)
def getaccountresource(p: dict, solid: bool) -> dict:
    """Bandwidth, energy and TRON power: limits, use and the network's totals."""
    c = chain()
    account, resource = c.account_resource(address_param(p, "address"))
    return account_resource_json(account, resource, c.total_power_weight())


@route("getaccountnet", solid=True)
def getaccountnet(p: dict, solid: bool) -> dict:
    """Bandwidth only."""
    account, resource = chain().account_resource(address_param(p, "address"))
    return account_net_json(account, resource)


# -- building, signing, broadcasting --------------------------------------------------


def _parse_tx(p: dict) -> Transaction:
    """A transaction in java-tron's JSON (either visible form); NodeRequestError if unreadable."""
    try:
        return Transaction.from_json(p)
    except (KeyError, ValueError, TypeError) as e:
        raise NodeRequestError(str(e), "java.lang.IllegalArgumentException") from None


def _new_tx(contract_type: str, value: dict, fee_limit: int | None = None) -> Transaction:
    """A transaction referencing the head block, expiring 60 s after it (createtransaction)."""
    from ..tron.transaction import build

    number, bid, head_ms = chain().head()
    return build(contract_type, value, number, bid, head_ms, head_ms + 60_000, fee_limit)


def _contract_value(p: dict, keys: tuple[str, ...], addresses: tuple[str, ...]) -> dict:
    """A contract's value from request parameters, addresses in the 41... form."""
    value = {}
    for key in keys:
        if key in p and p[key] not in (None, ""):
            value[key] = p[key]
    for key in addresses:
        value[key] = tron_address.to_hex(address_param(p, key))
    return value


@route("createtransaction")
def createtransaction(p: dict, solid: bool) -> dict:
    """An unsigned TRX transfer (TransferContract)."""
    value = _contract_value(p, (), ("owner_address", "to_address"))
    value["amount"] = int_param(p, "amount")
    tx = _new_tx("TransferContract", value)
    try:
        chain().check_only(tx)
    except TronRejected as e:
        return {"Error": f"class org.tron.core.exception.ContractValidateException : {e.message}"}
    return tx.to_json(visible=visible(p))


def _call_data(p: dict) -> bytes:
    """The call data: `data`, or `function_selector` + `parameter` (hex)."""
    from ..tron.hashes import keccak256

    selector = p.get("function_selector")
    if selector:
        try:
            parameter = bytes.fromhex(str(p.get("parameter") or ""))
        except ValueError:
            raise NodeRequestError("parameter: not hex") from None
        return keccak256(str(selector).replace(" ", "").encode())[:4] + parameter
    try:
        return bytes.fromhex(str(p.get("data") or ""))
    except ValueError:
        raise NodeRequestError("data: not hex") from None


def _result(ok: bool = True, code: str | None = None, message: str = "", vis=False) -> dict:
    """A java-tron Return: {"result": true}, or the code and message of a failure."""
    if ok:
        return {"result": True}
    return {"code": code, "message": message if vis else message.encode().hex()}


@route("triggersmartcontract")
def triggersmartcontract(p: dict, solid: bool) -> dict:
    """An unsigned TriggerSmartContract, with the energy a dry run used."""
    owner = address_param(p, "owner_address")
    contract = address_param(p, "contract_address")
    data = _call_data(p)
    vis = visible(p)
    value: dict[str, str | int] = {
        "owner_address": owner.hex(),
        "contract_address": contract.hex(),
        "data": data.hex(),
    }
    if int(p.get("call_value") or 0):
        value["call_value"] = int(p["call_value"])
    tx = _new_tx("TriggerSmartContract", value, int(p.get("fee_limit") or 0) or None)
    if contract != tron_address.to_bytes(USDT_ADDRESS):
        return {
            "result": _result(
                False, "CONTRACT_VALIDATE_ERROR", "No contract or not a smart contract", vis
            )
        }
    result = chain().constant_call(owner, contract, data)
    out = {"result": {"result": True}}
    out["energy_used"] = result.energy
    out["transaction"] = tx.to_json(visible=vis)
    return out


def _constant(p: dict) -> tuple[dict, CallResult | None]:
    """A read-only call: (java-tron's answer, the executor's CallResult)."""
    owner = address_param(p, "owner_address") if p.get("owner_address") else bytes(21)
    contract = address_param(p, "contract_address")
    data = _call_data(p)
    vis = visible(p)
    if contract != tron_address.to_bytes(USDT_ADDRESS):
        return {
            "result": _result(
                False, "CONTRACT_VALIDATE_ERROR", "No contract or not a smart contract", vis
            )
        }, None
    result = chain().constant_call(owner, contract, data)
    out: dict = {"result": {"result": True}}
    out["energy_used"] = result.energy
    out["constant_result"] = [result.output.hex()]
    if result.reverted:
        out["result"] = {
            "code": "CONTRACT_EXE_ERROR",
            "message": _msg("REVERT opcode executed", vis),
        }
    tx = _new_tx(
        "TriggerSmartContract",
        {"owner_address": owner.hex(), "contract_address": contract.hex(), "data": data.hex()},
    )
    out["transaction"] = tx.to_json(visible=vis) | {"ret": [{}]}
    return out, result


def _msg(text: str, vis: bool) -> str:
    """A Return message: text when visible, hex otherwise (java-tron's bytes printing)."""
    return text if vis else text.encode().hex()


@route("triggerconstantcontract", solid=True)
def triggerconstantcontract(p: dict, solid: bool) -> dict:
    """Run a view call (balanceOf, decimals...) without a transaction."""
    return _constant(p)[0]


@route("estimateenergy", solid=True)
def estimateenergy(p: dict, solid: bool) -> dict:
    """The energy a call would take: {"result": {"result": true}, "energy_required": n}."""
    out, result = _constant(p)
    if result is None:
        return {"result": out["result"]}
    if result.reverted:
        return {"result": out["result"]}
    return {"result": {"result": True}, "energy_required": result.energy}


@route("getsignweight")
def getsignweight(p: dict, solid: bool) -> dict:
    """The txID of a transaction and its owner's permission, as tronpy asks before signing."""
    tx = _parse_tx(p)
    vis = visible(p)
    tx_out = tx.to_json(visible=vis)
    body: dict = {}
    owner = tx.owner
    account = chain().account(owner)
    if account is None:
        body["result"] = {"code": "PERMISSION_ERROR", "message": "Account does not exist!"}
    else:
        body["permission"] = {
            "permission_name": "owner",
            "threshold": 1,
            "keys": [{"address": address_out(owner, vis), "weight": 1}],
        }
        approved = []
        for signature in tx.signatures:
            try:
                from ..tron.keys import recover

                approved.append(recover(bytes.fromhex(tx.txid), signature))
            except TronRejected:
                body["result"] = {"code": "SIGNATURE_FORMAT_ERROR", "message": "Invalid signature"}
                break
        if "result" not in body:
            if owner in approved:
                body["approved_list"] = [address_out(owner, vis)]
                body["current_weight"] = 1
                body["result"] = {"code": "ENOUGH_PERMISSION"}
            else:
                body["result"] = {"code": "NOT_ENOUGH_PERMISSION"}
    body["transaction"] = {"result": {"result": True}, "txid": tx.txid, "transaction": tx_out}
    return body


@route("broadcasttransaction")
def broadcasttransaction(p: dict, solid: bool) -> dict:
    """Check a signed transaction and take it into the next block."""
    tx = _parse_tx(p)
    vis = visible(p)
    try:
        chain().broadcast(tx)
    except TronRejected as e:
        message = e.message
        if e.code == "CONTRACT_VALIDATE_ERROR" and not message.startswith("Contract validate"):
            message = "Contract validate error : " + message
        if e.code == "SIGERROR" and not message.startswith("Validate signature"):
            message = "Validate signature error: " + message
        return {"code": e.code, "txid": tx.txid, "message": _msg(message, vis)}
    return {"result": True, "txid": tx.txid}


# -- contracts, the node, the network -------------------------------------------------


def _usdt(p: dict) -> bool:
    """Whether `value` names the USDT contract (the only contract of the world)."""
    return address_param(p, "value") == tron_address.to_bytes(USDT_ADDRESS)


@route("getcontract", solid=True)
def getcontract(p: dict, solid: bool) -> dict:
    """The USDT contract with its real ABI; {} for any other address."""
    if not _usdt(p):
        return {}
    vis = visible(p)
    return {
        "origin_address": address_out(USDT_ORIGIN, vis),
        "contract_address": address_out(USDT_ADDRESS, vis),
        "abi": {"entrys": USDT_ABI},
        # The contract runs as native code: there is no bytecode nor code_hash to show, and
        # proto3's printer leaves empty bytes out, as java-tron would.
        "consume_user_resource_percent": 30,
        "name": "TetherToken",
        "origin_energy_limit": 10_000_000,
    }


@route("getcontractinfo", solid=True)
def getcontractinfo(p: dict, solid: bool) -> dict:
    """getcontract's answer inside smart_contract, with the runtime code and energy settings."""
    contract = getcontract(p, solid)
    if not contract:
        return {}
    c = chain()
    cycle = (c.head()[2] - c.start_ms) // int(CHAIN_PARAMETERS["getMaintenanceTimeInterval"])
    return {"smart_contract": contract, "contract_state": {"update_cycle": cycle} if cycle else {}}


@route("getnodeinfo")
def getnodeinfo(p: dict, solid: bool) -> dict:
    """The node: its head and solidified blocks, as tronpy reads them."""
    c = chain()
    number, bid, _ = c.head()
    solid_number = c.solid_number()
    return {
        "beginSyncNum": 0,
        "block": f"Num:{number},ID:{bid}",
        "solidityBlock": f"Num:{solid_number},ID:{c.block_id_of(solid_number)}",
        "currentConnectCount": 0,
        "activeConnectCount": 0,
        "passiveConnectCount": 0,
        "totalFlow": 0,
        "peerInfoList": [],
        "configNodeInfo": {
            "codeVersion": "4.7.6",
            "p2pVersion": "11111",
            "listenPort": 18888,
            "discoverEnable": False,
            "activeNodeSize": 0,
            "passiveNodeSize": 0,
            "sendNodeSize": 0,
            "maxConnectCount": 30,
            "sameIpMaxConnectCount": 2,
            "backupListenPort": 10001,
            "backupMemberSize": 0,
            "backupPriority": 8,
            "dbVersion": 2,
            "minParticipationRate": 15,
            "supportConstant": True,
            "minTimeRatio": 0.0,
            "maxTimeRatio": 5.0,
            "allowCreationOfContracts": 1,
            "allowAdaptiveEnergy": 1,
        },
        "machineInfo": {},
        "cheatWitnessInfoMap": {},
    }


@route("getchainparameters")
def getchainparameters(p: dict, solid: bool) -> dict:
    """The network's parameters: {"chainParameter": [{"key", "value"}...]}."""
    return {
        "chainParameter": [
            {"key": k, "value": v} if v else {"key": k} for k, v in CHAIN_PARAMETERS.items()
        ]
    }


@route("listwitnesses", solid=True)
def listwitnesses(p: dict, solid: bool) -> dict:
    """The block producers, with the blocks each made."""
    from ..world import tron_store

    c = chain()
    vis = visible(p)
    head = c.head()[0]
    rows = c.world_read(tron_store.witnesses)
    count = len(rows)
    out = []
    for address, _name, url, position in rows:
        produced = head // count + (1 if position and position <= head % count else 0)
        entry = {
            "address": address_out(address, vis),
            "voteCount": 0,
            "url": url,
            "totalProduced": produced,
            "latestBlockNum": head - ((head - position) % count),
            "latestSlotNum": (c.time_of(head) // 3000) - ((head - position) % count),
            "isJobs": True,
        }
        out.append({k: v for k, v in entry.items() if v not in (0, "")})
    return {"witnesses": out}
