"""Accounts and their resources in java-tron's shapes (getaccount, getaccountresource,
getaccountnet), from the executor's Account."""

from __future__ import annotations

from ..tron.resources import CHAIN_PARAMETERS
from .render import address_out

__all__ = ["account_json", "account_net_json", "account_resource_json"]

WINDOW_MS = 28_800_000  # java-tron's 24-hour resource window, in ms (window size 28800 * 1000)
ACTIVE_OPERATIONS = "7fff1fc0033efb0f000000000000000000000000000000000000000000000000"
TOTAL_NET_LIMIT = 43_200_000_000
TOTAL_ENERGY_LIMIT = 180_000_000_000


def _get(account, name: str, default=0):
    """An attribute of the executor's Account, or default when it has none."""
    return getattr(account, name, default) or default


def _permissions(address: bytes, visible: bool) -> dict:
    """The default owner and active permissions every account has until it changes them."""
    key = [{"address": address_out(address, visible), "weight": 1}]
    return {
        "owner_permission": {"permission_name": "owner", "threshold": 1, "keys": key},
        "active_permission": [
            {
                "type": "Active",
                "id": 2,
                "permission_name": "active",
                "threshold": 1,
                "operations": ACTIVE_OPERATIONS,
                "keys": key,
            }
        ],
    }


def account_json(address: bytes, account, visible: bool) -> dict:
    """getaccount: {} for an address never activated."""
    if account is None:
        return {}
    frozen = _get(account, "frozen", {})
    out_ = _get(account, "delegated_out", {})
    in_ = _get(account, "delegated_in", {})
    result: dict = {"address": address_out(address, visible)}
    pairs = [
        ("balance", _get(account, "balance")),
        ("create_time", _get(account, "create_time")),
        ("latest_opration_time", _get(account, "latest_operation_time")),
        ("free_net_usage", _get(account, "free_net_used")),
        ("latest_consume_free_time", _get(account, "free_net_time")),
        ("net_usage", _get(account, "net_used")),
        ("latest_consume_time", _get(account, "net_time")),
    ]
    result.update({k: v for k, v in pairs if v})
    result["net_window_size"] = WINDOW_MS
    result["net_window_optimized"] = True
    resource = {
        "energy_usage": _get(account, "energy_used"),
        "latest_consume_time_for_energy": _get(account, "energy_time"),
        "delegated_frozenV2_balance_for_energy": out_.get("ENERGY", 0),
        "acquired_delegated_frozenV2_balance_for_energy": in_.get("ENERGY", 0),
    }
    result["account_resource"] = {k: v for k, v in resource.items() if v} | {
        "energy_window_size": WINDOW_MS,
        "energy_window_optimized": True,
    }
    result.update(_permissions(address, visible))
    bandwidth = {"amount": frozen.get("BANDWIDTH", 0)} if frozen.get("BANDWIDTH") else {}
    energy = {"type": "ENERGY"} | ({"amount": frozen["ENERGY"]} if frozen.get("ENERGY") else {})
    result["frozenV2"] = [bandwidth, energy, {"type": "TRON_POWER"}]
    if out_.get("BANDWIDTH"):
        result["delegated_frozenV2_balance_for_bandwidth"] = out_["BANDWIDTH"]
    if in_.get("BANDWIDTH"):
        result["acquired_delegated_frozenV2_balance_for_bandwidth"] = in_["BANDWIDTH"]
    return result


def _limits(state, account) -> tuple[int, int, int, int]:
    """(NetLimit, EnergyLimit, TotalNetWeight, TotalEnergyWeight) of an account."""
    net_weight = max(1, int(getattr(state, "total_net_weight", 0) or 0))
    energy_weight = max(1, int(getattr(state, "total_energy_weight", 0) or 0))
    frozen = _get(account, "frozen", {})
    out_ = _get(account, "delegated_out", {})
    in_ = _get(account, "delegated_in", {})
    bw = frozen.get("BANDWIDTH", 0) + in_.get("BANDWIDTH", 0) - out_.get("BANDWIDTH", 0)
    en = frozen.get("ENERGY", 0) + in_.get("ENERGY", 0) - out_.get("ENERGY", 0)
    net = bw // 1_000_000 * TOTAL_NET_LIMIT // net_weight
    energy = en // 1_000_000 * TOTAL_ENERGY_LIMIT // energy_weight
    return net, energy, net_weight, energy_weight


def _free_net_limit() -> int:
    """The free daily bandwidth of every account (getFreeNetLimit)."""
    return int(CHAIN_PARAMETERS.get("getFreeNetLimit", 600))


def account_resource_json(state, account) -> dict:
    """getaccountresource: {} for an address never activated."""
    if account is None:
        return {}
    net, energy, net_weight, energy_weight = _limits(state, account)
    pairs = [
        ("freeNetUsed", _get(account, "free_net_used")),
        ("freeNetLimit", _free_net_limit()),
        ("NetUsed", _get(account, "net_used")),
        ("NetLimit", net),
        ("TotalNetLimit", TOTAL_NET_LIMIT),
        ("TotalNetWeight", net_weight),
        ("EnergyUsed", _get(account, "energy_used")),
        ("EnergyLimit", energy),
        ("TotalEnergyLimit", TOTAL_ENERGY_LIMIT),
        ("TotalEnergyWeight", energy_weight),
    ]
    return {k: v for k, v in pairs if v}


def account_net_json(state, account) -> dict:
    """getaccountnet: freeNetLimit even for an unknown address, as java-tron answers."""
    if account is None:
        return {"freeNetLimit": _free_net_limit(), "TotalNetLimit": TOTAL_NET_LIMIT}
    resource = account_resource_json(state, account)
    keys = ("freeNetUsed", "freeNetLimit", "NetUsed", "NetLimit", "TotalNetLimit", "TotalNetWeight")
    return {k: resource[k] for k in keys if k in resource}
