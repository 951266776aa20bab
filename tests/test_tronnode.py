"""java-tron's HTTP API on a served world (slow: it builds one): every endpoint the issue lists, GET and POST,
`visible` true and false, its /walletsolidity/ twin, field names and value types against
java-tron's real answers (written in below), and java-tron's answers to bad input."""

from __future__ import annotations

import json

import pytest
import requests

from . import tron_checker
from .tron_node_world import build_tron_world, served_node, world_rows

USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
USDT_HEX = "41a614f803b6fd780986a42c78ec9c7f77e6ded13c"

# -- java-tron's answers, as its docs record them ---------------------------------------
# Values are from the examples of tronprotocol.github.io/documentation-en/api/http/... (Nile
# and mainnet answers) and developers.tron.network's API reference; fields java-tron's
# proto3 printer leaves out when zero are listed in OPTIONAL.

TX = {  # a block's / gettransactionbyid's transaction (mainnet USDT transfer)
    "ret": [{"contractRet": "SUCCESS"}],
    "signature": [
        "d5c0d2d8e8a4f1b9b0c0e7c3ef9cd04c7b1f2e0bb4e3f5a4bb7cd77f2b31b2f6"
        "5b4a3f2a0b2c2d0f9e8a7c6b5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d601"
    ],
    "txID": "0fd5c5d7ff3e3c3c46c5a1b3f2ed1a08e9e2f7e8c0f6c1e2f9e1f0e4b1a2c3d4",
    "raw_data": {
        "contract": [
            {
                "parameter": {
                    "value": {
                        "data": "a9059cbb0000000000000000000000009ac4b0e2b1f1d3d6d1a4a4e0c5e8c1a2"
                        "b3c4d5e600000000000000000000000000000000000000000000000000000000"
                        "05f5e100",
                        "owner_address": "41e552f6487585c2b58bc2c9bb4492bc1f17132cd0",
                        "contract_address": USDT_HEX,
                    },
                    "type_url": "type.googleapis.com/protocol.TriggerSmartContract",
                },
                "type": "TriggerSmartContract",
            }
        ],
        "ref_block_bytes": "8a4c",
        "ref_block_hash": "29c3c7ae4da9b0e4",
        "expiration": 1705329654000,
        "fee_limit": 100000000,
        "timestamp": 1705329595873,
    },
    "raw_data_hex": "0a028a4c220829c3c7ae4da9b0e440f0",
}
BLOCK = {  # /wallet/getnowblock on Nile, block 66987627
    "blockID": "0000000003fe266bf6b6d392f654dc2e5011601546ed04623d9fcc4e9d439a25",
    "block_header": {
        "raw_data": {
            "number": 66987627,
            "txTrieRoot": "f8156964cc3e5793a368f938a18ea45c02bd48fe3a412f7091ce8d9ef56df174",
            "witness_address": "41e7860196ad5b5718c1d6326babab039b70b8c1cd",
            "parentHash": "0000000003fe266a65d5194c947f6f7a059d4646c8e9a5293226bc7fdcfc775e",
            "version": 34,
            "timestamp": 1777445307000,
        },
        "witness_signature": "55a29981b2ba121613788de5d1b6bd87579ef63479f4fbb7bc99b1c721769487"
        "023cb74ea3b604778ed448bf1c90db3db0fd8fedc85102cfda4231fd1c75d6e100",
    },
    "transactions": [TX],
}
TX_INFO = {  # /wallet/gettransactioninfobyid of a USDT transfer
    "id": "0fd5c5d7ff3e3c3c46c5a1b3f2ed1a08e9e2f7e8c0f6c1e2f9e1f0e4b1a2c3d4",
    "fee": 6379500,
    "blockNumber": 58437197,
    "blockTimeStamp": 1705329597000,
    "contractResult": ["0000000000000000000000000000000000000000000000000000000000000001"],
    "contract_address": USDT_HEX,
    "receipt": {
        "energy_usage": 10000,
        "energy_fee": 6379500,
        "origin_energy_usage": 100,
        "energy_usage_total": 64285,
        "net_usage": 345,
        "net_fee": 345000,
        "energy_penalty_total": 49635,
        "result": "SUCCESS",
    },
    "log": [
        {
            "address": "a614f803b6fd780986a42c78ec9c7f77e6ded13c",
            "topics": [
                "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
                "000000000000000000000000e552f6487585c2b58bc2c9bb4492bc1f17132cd0",
                "0000000000000000000000009ac4b0e2b1f1d3d6d1a4a4e0c5e8c1a2b3c4d5e6",
            ],
            "data": "0000000000000000000000000000000000000000000000000000000005f5e100",
        }
    ],
    "result": "FAILED",
    "resMessage": "5245564552542066",
    "withdraw_expire_amount": 1000000,
}
KEY = {"address": "41dd791d6b49e190062d650e6a23c575510d35f2f9", "weight": 1}
ACCOUNT = {  # /wallet/getaccount on Nile (41dd791d...), Stake 2.0 fields
    "address": "41dd791d6b49e190062d650e6a23c575510d35f2f9",
    "type": "Contract",
    "balance": 1793227200,
    "create_time": 1776933207000,
    "latest_opration_time": 1777444809000,
    "free_net_usage": 441,
    "latest_consume_free_time": 59248157,
    "net_usage": 269,
    "latest_consume_time": 59248157,
    "net_window_size": 28800000,
    "net_window_optimized": True,
    "account_resource": {
        "energy_usage": 13045,
        "latest_consume_time_for_energy": 59248157,
        "energy_window_size": 28800000,
        "delegated_frozenV2_balance_for_energy": 2000000,
        "acquired_delegated_frozenV2_balance_for_energy": 1000000,
        "energy_window_optimized": True,
    },
    "owner_permission": {"permission_name": "owner", "threshold": 1, "keys": [KEY]},
    "active_permission": [
        {
            "type": "Active",
            "id": 2,
            "permission_name": "active",
            "threshold": 1,
            "operations": "7fff1fc0033efb0f000000000000000000000000000000000000000000000000",
            "keys": [KEY],
        }
    ],
    "frozenV2": [
        {"amount": 1000000},
        {"type": "ENERGY", "amount": 5000000},
        {"type": "TRON_POWER"},
    ],
    "unfrozenV2": [
        {"type": "ENERGY", "unfreeze_amount": 1000000, "unfreeze_expire_time": 1778049609000}
    ],
    "delegated_frozenV2_balance_for_bandwidth": 1000000,
    "acquired_delegated_frozenV2_balance_for_bandwidth": 1000000,
    "asset_optimized": True,
}
ACCOUNT_RESOURCE = {  # /wallet/getaccountresource on Nile
    "freeNetUsed": 441,
    "freeNetLimit": 600,
    "NetUsed": 269,
    "NetLimit": 1,
    "TotalNetLimit": 43200000000,
    "TotalNetWeight": 68305209098,
    "tronPowerUsed": 1,
    "tronPowerLimit": 6,
    "EnergyUsed": 13045,
    "EnergyLimit": 373,
    "TotalEnergyLimit": 180000000000,
    "TotalEnergyWeight": 2411528185,
    "TotalTronPowerWeight": 70716737283,
}
NET_KEYS = ("freeNetUsed", "freeNetLimit", "NetUsed", "NetLimit", "TotalNetLimit", "TotalNetWeight")
ACCOUNT_NET = {k: ACCOUNT_RESOURCE[k] for k in NET_KEYS}
UNSIGNED = {  # createtransaction / triggersmartcontract's transaction (visible=false)
    "visible": False,
    "txID": "c0f1e3e6a1f0e1b7cf3b7f2a6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d",
    "raw_data": {
        "contract": [
            {
                "parameter": {
                    "value": {
                        "amount": 1000,
                        "owner_address": "41dd791d6b49e190062d650e6a23c575510d35f2f9",
                        "to_address": "41e552f6487585c2b58bc2c9bb4492bc1f17132cd0",
                    },
                    "type_url": "type.googleapis.com/protocol.TransferContract",
                },
                "type": "TransferContract",
            }
        ],
        "ref_block_bytes": "266b",
        "ref_block_hash": "f6b6d392f654dc2e",
        "expiration": 1777445367000,
        "fee_limit": 100000000,
        "timestamp": 1777445308000,
    },
    "raw_data_hex": "0a02266b2208f6b6d392f654dc2e40d8",
}
TRIGGER = {  # /wallet/triggersmartcontract
    "result": {"result": True},
    "energy_used": 29631,
    "transaction": UNSIGNED,
}
CONSTANT = {  # /wallet/triggerconstantcontract of balanceOf
    "result": {"result": True, "code": "CONTRACT_EXE_ERROR", "message": "REVERT opcode executed"},
    "energy_used": 935,
    "constant_result": ["00000000000000000000000000000000000000000000000000000000000f4240"],
    "transaction": UNSIGNED | {"ret": [{}]},
}
ESTIMATE = {"result": {"result": True}, "energy_required": 14910}  # /wallet/estimateenergy
SIGN_WEIGHT = {  # /wallet/getsignweight of a signed transfer
    "permission": {"permission_name": "owner", "threshold": 1, "keys": [KEY]},
    "approved_list": ["41dd791d6b49e190062d650e6a23c575510d35f2f9"],
    "current_weight": 1,
    "result": {"code": "ENOUGH_PERMISSION", "message": "Permission is enough"},
    "transaction": {
        "result": {"result": True},
        "txid": UNSIGNED["txID"],
        "transaction": UNSIGNED | {"signature": TX["signature"]},
    },
}
ABI_ENTRY = {
    "constant": True,
    "name": "balanceOf",
    "inputs": [{"name": "who", "type": "address", "indexed": True}],
    "outputs": [{"name": "", "type": "uint256"}],
    "payable": False,
    "anonymous": False,
    "type": "Function",
    "stateMutability": "View",
}
CONTRACT = {  # /wallet/getcontract of TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t (mainnet)
    "bytecode": "6080604052",
    "consume_user_resource_percent": 30,
    "name": "TetherToken",
    "origin_address": "41a5cb2a4f5d7e0b8f4e4e1d4e2a3bb8f7a3d5c9e1",
    "abi": {"entrys": [ABI_ENTRY]},
    "origin_energy_limit": 10000000,
    "contract_address": USDT_HEX,
    "code_hash": "2f3a0e6b1d6f3e6c5c0b8e2b3d1b6a0a9c8f7e6d5c4b3a2918a7b6c5d4e3f2a1",
}
CONTRACT_INFO = {  # /wallet/getcontractinfo
    "runtimecode": "6080604052",
    "smart_contract": CONTRACT,
    "contract_state": {"energy_usage": 1000, "energy_factor": 12000, "update_cycle": 8000},
}
NODE_INFO = {  # /wallet/getnodeinfo (the fields tronpy and explorers read)
    "beginSyncNum": 66987600,
    "block": "Num:66987627,ID:0000000003fe266bf6b6d392f654dc2e5011601546ed04623d9fcc4e9d439a25",
    "solidityBlock": "Num:66987608,ID:0000000003fe2658a07b3d2a7c2f0e1c0cbd4e21c4a8ae4c1f1b1d0c3e2b1a09",
    "currentConnectCount": 30,
    "activeConnectCount": 2,
    "passiveConnectCount": 28,
    "totalFlow": 0,
    "peerInfoList": [{"host": "3.225.171.164", "port": 18888}],
    "configNodeInfo": {
        "codeVersion": "4.7.6",
        "p2pVersion": "11111",
        "listenPort": 18888,
        "discoverEnable": True,
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
    "machineInfo": {"threadCount": 90, "cpuCount": 8},
    "cheatWitnessInfoMap": {},  # a map witness -> count, empty while none cheats
}
CHAIN_PARAMETERS = {"chainParameter": [{"key": "getEnergyFee", "value": 100}]}
WITNESSES = {  # /wallet/listwitnesses
    "witnesses": [
        {
            "address": "41e7860196ad5b5718c1d6326babab039b70b8c1cd",
            "voteCount": 3281542452,
            "url": "https://www.binance.com/en/staking",
            "totalProduced": 2301134,
            "totalMissed": 123,
            "latestBlockNum": 66987627,
            "latestSlotNum": 592481565,
            "isJobs": True,
        }
    ]
}
OWNER = "41e552f6487585c2b58bc2c9bb4492bc1f17132cd0"
CONTRACT_VALUES = {  # raw_data.contract[0].parameter.value of each contract type the world has
    "TransferContract": {"amount": 1000000, "owner_address": OWNER, "to_address": USDT_HEX},
    "TriggerSmartContract": {
        "data": "a9059cbb",
        "owner_address": OWNER,
        "contract_address": USDT_HEX,
        "call_value": 0,
    },
    "FreezeBalanceV2Contract": {
        "owner_address": OWNER,
        "frozen_balance": 1000000000,
        "resource": "ENERGY",
    },
    "UnfreezeBalanceV2Contract": {
        "owner_address": OWNER,
        "unfreeze_balance": 1000000,
        "resource": "ENERGY",
    },
    "WithdrawExpireUnfreezeContract": {"owner_address": OWNER},
    "DelegateResourceContract": {
        "owner_address": OWNER,
        "resource": "ENERGY",
        "balance": 100000000000,
        "receiver_address": USDT_HEX,
        "lock": True,
        "lock_period": 86400,
    },
    "UnDelegateResourceContract": {
        "owner_address": OWNER,
        "resource": "ENERGY",
        "balance": 1000000,
        "receiver_address": USDT_HEX,
    },
    "AccountCreateContract": {"owner_address": OWNER, "account_address": USDT_HEX},
}
# Fields proto3's printer leaves out when they are zero, false or empty.
OPTIONAL = frozenset(
    {
        "transactions", "fee", "contract_address", "log", "result", "resMessage",
        "withdraw_expire_amount", "energy_usage", "energy_fee", "origin_energy_usage",
        "energy_usage_total", "net_usage", "net_fee", "energy_penalty_total", "type",
        "free_net_usage", "latest_consume_free_time", "latest_consume_time",
        "latest_consume_time_for_energy", "delegated_frozenV2_balance_for_energy",
        "acquired_delegated_frozenV2_balance_for_energy", "unfrozenV2",
        "delegated_frozenV2_balance_for_bandwidth",
        "acquired_delegated_frozenV2_balance_for_bandwidth", "amount", "latest_opration_time",
        "freeNetUsed", "NetUsed", "NetLimit", "tronPowerUsed", "tronPowerLimit", "EnergyUsed",
        "EnergyLimit", "fee_limit", "code", "message", "bytecode", "code_hash", "runtimecode",
        "energy_factor", "update_cycle", "totalMissed", "voteCount", "inputs", "outputs",
        "constant", "payable", "anonymous", "indexed", "stateMutability", "name", "value",
        "resource", "call_value", "lock", "lock_period", "machineInfo", "threadCount", "cpuCount", "peerInfoList", "cheatWitnessInfoMap",
        "contract_state", "data", "ret", "contractRet", "visible", "to_address", "topics",
    }
)  # fmt: skip


def assert_shape(recorded: object, got: object, where: str = "$") -> None:
    """got has recorded's field names (less the OPTIONAL ones), none it lacks, and values of
    the same JSON types, all the way down (a list's items against its first item)."""
    if isinstance(recorded, dict):
        assert isinstance(got, dict), f"{where}: {type(got).__name__}, not an object"
        if "parameter" in recorded and "type" in got:  # a contract: its type's own value
            assert got["type"] in CONTRACT_VALUES, f"{where}: unknown type {got['type']}"
            value = CONTRACT_VALUES[got["type"]]
            recorded = recorded | {"parameter": recorded["parameter"] | {"value": value}}
        extra = set(got) - set(recorded)
        assert not extra, f"{where}: fields java-tron does not answer: {sorted(extra)}"
        missing = set(recorded) - set(got) - OPTIONAL
        assert not missing, f"{where}: missing {sorted(missing)}"
        for key in set(recorded) & set(got):
            assert_shape(recorded[key], got[key], f"{where}.{key}")
    elif isinstance(recorded, list):
        assert isinstance(got, list), f"{where}: {type(got).__name__}, not a list"
        if recorded:
            model = recorded[0]
            if all(isinstance(r, dict) for r in recorded):  # entries of one message type
                model = {k: v for r in recorded for k, v in r.items()}
            for i, item in enumerate(got):
                assert_shape(model, item, f"{where}[{i}]")
    else:
        assert type(got) is type(recorded), f"{where}: {got!r} is not a {type(recorded).__name__}"


def test_assert_shape_catches_differences():
    """The comparison fails on an unknown field, a missing one and a wrong type."""
    with pytest.raises(AssertionError, match="does not answer"):
        assert_shape({"a": 1}, {"a": 1, "b": 2})
    with pytest.raises(AssertionError, match="missing"):
        assert_shape({"a": 1, "blockID": "x"}, {"a": 1})
    with pytest.raises(AssertionError, match="is not a int"):
        assert_shape({"a": [{"n": 1}]}, {"a": [{"n": "1"}]})


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The tf-donations world."""
    return build_tron_world(tmp_path_factory.mktemp("tronnode"))


@pytest.fixture(scope="module", params=["node", "workers"])
def node(request, world, tmp_path_factory):
    """(URL, chain, world path) of the served world: the node's own process alone, then its
    port served by worker processes as `sandbox up` serves it."""
    state = tmp_path_factory.mktemp(f"tronnode-{request.param}")
    with served_node(world, state, workers=request.param == "workers") as (url, chain):
        yield url, chain, world


def call(url: str, path: str, body: dict | None = None, *, get: bool = False) -> dict:
    """One request, POST with a JSON body or GET with a query string; java-tron's 200."""
    if get:
        r = requests.get(url + path, params=body or {}, timeout=30)
    else:
        r = requests.post(url + path, json=body or {}, timeout=30)
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r.json()


def usdt_tx(world) -> tuple[str, str, int]:
    """(txid, owner, block) of a world USDT transfer."""
    return world_rows(
        world,
        "SELECT t.txid, t.owner, t.block FROM trc20_transfers f JOIN tron_txs t ON t.id = f.tx_id "
        "WHERE t.result = 'SUCCESS' LIMIT 1",
    )[0]


def staker(world) -> str:
    """A world address that stakes or delegates energy (the exchanges' energy wallets)."""
    return world_rows(
        world,
        "SELECT owner FROM tron_txs WHERE type = 'DelegateResourceContract' LIMIT 1",
    )[0][0]


@pytest.mark.slow
@pytest.mark.parametrize("get", [False, True])
@pytest.mark.parametrize("solid", [False, True])
def test_blocks(node, get, solid):
    """getnowblock, getblockbynum, getblockbyid and getblockbylimitnext."""
    url, _chain, world = node
    prefix = "walletsolidity/" if solid else "wallet/"
    now = call(url, prefix + "getnowblock", get=get)
    assert_shape(BLOCK, now)
    _txid, _owner, number = usdt_tx(world)
    block = call(url, prefix + "getblockbynum", {"num": number}, get=get)
    assert_shape(BLOCK, block)
    assert block["transactions"] and block["block_header"]["raw_data"]["number"] == number
    same = call(url, prefix + "getblockbyid", {"value": block["blockID"]}, get=get)
    assert same == block
    visible = call(url, prefix + "getblockbynum", {"num": number, "visible": True}, get=get)
    assert visible["block_header"]["raw_data"]["witness_address"].startswith("T")
    page = call(url, prefix + "getblockbylimitnext", {"startNum": number, "endNum": number + 3})
    assert [b["block_header"]["raw_data"]["number"] for b in page["block"]] == [
        number,
        number + 1,
        number + 2,
    ]
    for b in page["block"]:
        assert_shape(BLOCK, b)
    assert call(url, prefix + "getblockbynum", {"num": 10**9}) == {}


def witness_secrets(world) -> list[bytes]:
    """The world's witnesses' keys, in producing order."""
    rows = world_rows(world, "SELECT secret FROM tron_witnesses ORDER BY position")
    return [bytes(r[0]) for r in rows]


@pytest.mark.slow
def test_blocks_are_signed_by_their_witnesses(node):
    """The world keeps no block signature: every fourth stored block, the empty block after
    some, the head and a block made now, as served, are each signed by their witness (the
    independent checker, with the world's witness keys)."""
    url, chain, world = node
    secrets = witness_secrets(world)
    stored = [n for (n,) in world_rows(world, "SELECT number FROM tron_blocks WHERE number > 0")]
    empty = sorted({n + 1 for n in stored[::40]} - set(stored))
    assert stored and empty
    made = chain.produce()
    with requests.Session() as session:
        for number in [*stored[::4], *empty, chain.world_tip, made]:
            r = session.post(url + "wallet/getblockbynum", json={"num": number}, timeout=30)
            tron_checker.check_served_block(r.json(), secrets)
    shown = call(url, "wallet/getblockbynum", {"num": stored[0]})
    forged = shown | {"blockID": shown["blockID"][:-8] + "0" * 8}
    with pytest.raises(AssertionError, match="block id"):
        tron_checker.check_served_block(forged, secrets)
    turned = {**shown, "block_header": {**shown["block_header"]}}
    turned["block_header"]["witness_signature"] = call(
        url, "wallet/getblockbynum", {"num": empty[0]}
    )["block_header"]["witness_signature"]
    with pytest.raises(AssertionError, match="not its witness"):
        tron_checker.check_served_block(turned, secrets)


@pytest.mark.slow
@pytest.mark.parametrize("solid", [False, True])
def test_transaction_and_info(node, solid):
    """gettransactionbyid and gettransactioninfobyid, hex and visible."""
    url, _chain, world = node
    txid, owner, _number = usdt_tx(world)
    prefix = "walletsolidity/" if solid else "wallet/"
    tx = call(url, prefix + "gettransactionbyid", {"value": txid})
    assert_shape(TX, tx)
    assert tx["txID"] == txid
    info = call(url, prefix + "gettransactioninfobyid", {"value": txid}, get=True)
    assert_shape(TX_INFO, info)
    assert info["receipt"]["result"] == "SUCCESS" and info["contract_address"] == USDT_HEX
    shown = call(url, prefix + "gettransactioninfobyid", {"value": txid, "visible": True})
    assert shown["contract_address"] == USDT and shown["log"][0]["address"] == USDT
    seen = call(url, prefix + "gettransactionbyid", {"value": txid, "visible": True})
    value = seen["raw_data"]["contract"][0]["parameter"]["value"]
    assert value["owner_address"] == owner and value["contract_address"] == USDT


@pytest.mark.slow
@pytest.mark.parametrize("solid", [False, True])
def test_accounts(node, solid):
    """getaccount, getaccountresource and getaccountnet of a staking account."""
    url, chain, world = node
    address = staker(world)
    prefix = "walletsolidity/" if solid else "wallet/"
    account = call(url, prefix + "getaccount", {"address": address, "visible": True})
    assert_shape(ACCOUNT, account)
    assert account["address"] == address
    assert account["account_resource"]["delegated_frozenV2_balance_for_energy"] > 0
    hexed = call(url, prefix + "getaccount", {"address": address}, get=True)
    assert hexed["address"].startswith("41") and hexed["balance"] == account["balance"]
    resource = call(url, prefix + "getaccountresource", {"address": address, "visible": True})
    assert_shape(ACCOUNT_RESOURCE, resource)
    assert resource["freeNetLimit"] == 600 and resource["tronPowerLimit"] > 0
    net = call(url, prefix + "getaccountnet", {"address": address, "visible": True})
    assert_shape(ACCOUNT_NET, net)
    assert net == {k: resource[k] for k in NET_KEYS if k in resource}
    receiver = world_rows(
        world,
        "SELECT to_address FROM tron_txs WHERE type = 'DelegateResourceContract' LIMIT 1",
    )[0][0]
    got = call(url, prefix + "getaccountresource", {"address": receiver, "visible": True})
    assert got["EnergyLimit"] > 0
    unknown = "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8"
    for path in ("getaccount", "getaccountresource", "getaccountnet"):
        assert call(url, prefix + path, {"address": unknown, "visible": True}) == {}


@pytest.mark.slow
def test_build_sign_weight_and_broadcast(node):
    """createtransaction, getsignweight, broadcasttransaction (with java-tron's refusals)."""
    url, chain, world = node
    owner_row = world_rows(
        world, "SELECT address, secret FROM tron_accounts WHERE wallet = 'hot' LIMIT 1"
    )[0]
    owner, secret = owner_row[0], bytes(owner_row[1])
    body = {"owner_address": owner, "to_address": staker(world), "amount": 1000}
    unsigned = call(url, "wallet/createtransaction", body | {"visible": True})
    assert_shape(UNSIGNED, unsigned)
    hexed = call(url, "wallet/createtransaction", body, get=True)
    assert hexed["raw_data"]["contract"][0]["parameter"]["value"]["owner_address"].startswith("41")
    weight = call(url, "wallet/getsignweight", unsigned | {"signature": []})
    assert weight["result"]["code"] == "NOT_ENOUGH_PERMISSION"
    from tronpy.keys import PrivateKey

    signature = PrivateKey(secret).sign_msg_hash(bytes.fromhex(unsigned["txID"])).hex()
    signed = unsigned | {"signature": [signature]}
    weight = call(url, "wallet/getsignweight", signed)
    assert_shape(SIGN_WEIGHT, weight)
    assert weight["result"]["code"] == "ENOUGH_PERMISSION" and weight["approved_list"] == [owner]
    assert weight["transaction"]["txid"] == unsigned["txID"]
    assert call(url, "wallet/broadcasttransaction", signed) == {
        "result": True,
        "txid": unsigned["txID"],
    }
    again = call(url, "wallet/broadcasttransaction", signed)
    assert again["code"] == "DUP_TRANSACTION_ERROR"
    # java-tron checks for a duplicate first, so the forgery is of a new transaction.
    other = call(url, "wallet/createtransaction", body | {"amount": 999, "visible": True})
    forged = other | {"signature": [PrivateKey(bytes(range(1, 33))).sign_msg_hash(
        bytes.fromhex(other["txID"])).hex()]}  # fmt: skip
    refused = call(url, "wallet/broadcasttransaction", forged | {"visible": True})
    assert refused["code"] == "SIGERROR" and "signature" in refused["message"].lower()
    number = chain.produce()
    block = call(url, "wallet/getblockbynum", {"num": number})
    assert unsigned["txID"] in {t["txID"] for t in block["transactions"]}
    tron_checker.check_served_block(block, witness_secrets(world))


@pytest.mark.slow
def test_contract_calls(node):
    """triggersmartcontract, triggerconstantcontract, estimateenergy: shapes and figures."""
    url, _chain, world = node
    _txid, owner, _number = usdt_tx(world)
    balances = json.loads(
        world_rows(world, "SELECT state FROM tron_contracts WHERE address = ?", (USDT,))[0][0]
    )["balances"]
    holder = max(balances, key=balances.get)
    word = "0" * 24 + bytes.fromhex(_hex(holder))[1:].hex()
    read = {
        "owner_address": owner,
        "contract_address": USDT,
        "function_selector": "balanceOf(address)",
        "parameter": word,
        "visible": True,
    }
    constant = call(url, "wallet/triggerconstantcontract", read)
    assert_shape(CONSTANT, constant)
    assert int(constant["constant_result"][0], 16) > 0 and constant["energy_used"] > 0
    solid = call(url, "walletsolidity/triggerconstantcontract", read)
    assert solid["constant_result"] == constant["constant_result"]
    transfer = read | {
        "owner_address": holder,
        "function_selector": "transfer(address,uint256)",
        "parameter": word + f"{1:064x}",
    }
    estimate = call(url, "wallet/estimateenergy", transfer)
    assert_shape(ESTIMATE, estimate)
    assert estimate["energy_required"] > 10_000
    trigger = call(url, "wallet/triggersmartcontract", transfer | {"fee_limit": 50_000_000})
    assert_shape(TRIGGER, trigger)
    assert trigger["transaction"]["raw_data"]["fee_limit"] == 50_000_000
    refused = call(url, "wallet/triggerconstantcontract", read | {"contract_address": holder})
    assert refused["result"]["code"] == "CONTRACT_VALIDATE_ERROR"


def _hex(address: str) -> str:
    """The 41... form of a T... address (base58check, read with tronpy's helper)."""
    from tronpy.keys import to_hex_address

    return to_hex_address(address)


@pytest.mark.slow
@pytest.mark.parametrize("solid", [False, True])
def test_contract_node_and_network(node, solid):
    """getcontract (the real USDT ABI), getcontractinfo, getnodeinfo, getchainparameters,
    listwitnesses."""
    url, _chain, world = node
    prefix = "walletsolidity/" if solid else "wallet/"
    contract = call(url, prefix + "getcontract", {"value": USDT, "visible": True})
    assert_shape(CONTRACT, contract)
    names = {e.get("name") for e in contract["abi"]["entrys"]}
    assert {"transfer", "balanceOf", "addBlackList", "isBlackListed", "Transfer"} <= names
    hexed = call(url, prefix + "getcontract", {"value": USDT_HEX}, get=True)
    assert hexed["contract_address"] == USDT_HEX
    assert_shape(CONTRACT_INFO, call(url, prefix + "getcontractinfo", {"value": USDT}))
    witnesses = call(url, prefix + "listwitnesses")
    assert_shape(WITNESSES, witnesses)
    count = world_rows(world, "SELECT count(*) FROM tron_witnesses")[0][0]
    assert len(witnesses["witnesses"]) == count
    if not solid:
        info = call(url, "wallet/getnodeinfo", get=True)
        assert_shape(NODE_INFO, info)
        head = call(url, "wallet/getnowblock")
        assert info["block"] == (
            f"Num:{head['block_header']['raw_data']['number']},ID:{head['blockID']}"
        )
        params = call(url, "wallet/getchainparameters")
        assert_shape(CHAIN_PARAMETERS, params)
        assert {"key": "getEnergyFee", "value": 100} in params["chainParameter"]


@pytest.mark.slow
def test_bad_input(node):
    """java-tron's answers to what it cannot read: 200 with {"Error": "class ... : ..."}
    naming the field (as java-tron's servlets do), a 404 for an unknown path; nothing
    stored."""
    url, chain, _world = node
    r = requests.post(url + "wallet/getaccount", data="{not json", timeout=10)
    assert r.status_code == 200 and r.json()["Error"].startswith("class com.alibaba.fastjson")
    error = call(url, "wallet/getaccount", {"address": "Tnotanaddress"})["Error"]
    assert error.startswith("class java.lang.IllegalArgumentException") and "Tnotanaddress" in error
    error = call(url, "wallet/gettransactionbyid", {"value": "zz"})["Error"]
    assert "value" in error and "zz" in error
    error = call(url, "wallet/getblockbynum", {"num": "ten"})["Error"]
    assert "NumberFormatException" in error and "num" in error
    assert call(url, "wallet/gettransactionbyid", {"value": "ab" * 32}) == {}
    error = call(url, "wallet/broadcasttransaction", {"raw_data": {"contract": []}})
    assert "Error" in error or error.get("code")
    head = chain.head()[0]
    r = requests.post(url + "wallet/nosuchthing", json={}, timeout=10)
    assert r.status_code == 404
    assert chain.head()[0] == head
