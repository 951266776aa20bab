"""Accounts and their resources in java-tron's shapes (getaccount, getaccountresource,
getaccountnet), from the executor's Account and TronState.account_resource.

Usage figures are shown recovered to the head slot, as java-tron's Wallet.getAccount runs
its processors' updateUsage first; the times beside them are the stored 3-second slots.
"""

from __future__ import annotations

from typing import Any

from ..tron import resources as res
from ..tron.state import Account
from .render import address_out

__all__ = ["account_json", "account_net_json", "account_resource_json"]

# Stored window sizes are multiplied by this once the window is optimized (java-tron's
# WINDOW_SIZE_PRECISION); 28,800 slots is the 24-hour window.
WINDOW_SIZE_PRECISION = 1_000
WINDOW_SIZE = res.WINDOW_SLOTS * WINDOW_SIZE_PRECISION
# The active permission's operations bitmap every new account gets (all contract types
# but the witness and proposal ones), as mainnet prints it.
ACTIVE_OPERATIONS = "7fff1fc0033efb0f000000000000000000000000000000000000000000000000"
NET_KEYS = ("freeNetUsed", "freeNetLimit", "NetUsed", "NetLimit", "TotalNetLimit", "TotalNetWeight")


def _permissions(address: bytes, visible: bool) -> dict[str, Any]:
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


def _nonzero(pairs: list[tuple[str, int]]) -> dict[str, int]:
    """proto3's JSON printer leaves zero numbers out."""
    return {k: v for k, v in pairs if v}


def _typed(resource: str, fields: dict[str, int]) -> dict[str, Any]:
    """A FreezeV2 / UnFreezeV2 entry: `type` left out for BANDWIDTH (the enum's 0)."""
    head = {} if resource == "BANDWIDTH" else {"type": resource}
    return head | _nonzero(list(fields.items()))


def account_json(account: Account | None, head_slot: int, visible: bool) -> dict[str, Any]:
    """getaccount: {} for an address never activated."""
    if account is None:
        return {}
    a = account
    result: dict[str, Any] = {"address": address_out(a.address, visible)}
    if a.is_contract:
        result["type"] = "Contract"
    result |= _nonzero(
        [
            ("balance", a.balance),
            ("create_time", a.create_time),
            ("latest_opration_time", a.latest_operation_time),  # java-tron's spelling
            ("free_net_usage", res.increase(a.free_net_usage, 0, a.free_net_slot, head_slot)),
            ("latest_consume_free_time", a.free_net_slot),
            ("net_usage", res.increase(a.net_usage, 0, a.net_slot, head_slot)),
            ("latest_consume_time", a.net_slot),
        ]
    )
    result["net_window_size"] = WINDOW_SIZE
    result["net_window_optimized"] = True
    result["account_resource"] = _nonzero(
        [
            ("energy_usage", res.increase(a.energy_usage, 0, a.energy_slot, head_slot)),
            ("latest_consume_time_for_energy", a.energy_slot),
            ("delegated_frozenV2_balance_for_energy", a.delegated["ENERGY"]),
            ("acquired_delegated_frozenV2_balance_for_energy", a.acquired["ENERGY"]),
        ]
    ) | {"energy_window_size": WINDOW_SIZE, "energy_window_optimized": True}
    result |= _permissions(a.address, visible)
    result["frozenV2"] = [
        _typed("BANDWIDTH", {"amount": a.frozen["BANDWIDTH"]}),
        _typed("ENERGY", {"amount": a.frozen["ENERGY"]}),
        {"type": "TRON_POWER"},
    ]
    if a.unfreezing:
        result["unfrozenV2"] = [
            _typed(
                str(u["type"]),
                {
                    "unfreeze_amount": int(u["amount"]),
                    "unfreeze_expire_time": int(u["expire_time"]),
                },
            )
            for u in a.unfreezing
        ]
    result |= _nonzero(
        [
            ("delegated_frozenV2_balance_for_bandwidth", a.delegated["BANDWIDTH"]),
            ("acquired_delegated_frozenV2_balance_for_bandwidth", a.acquired["BANDWIDTH"]),
        ]
    )
    result["asset_optimized"] = True
    return result


def account_resource_json(
    account: Account | None, resource: dict[str, Any], total_power_weight: int
) -> dict[str, Any]:
    """getaccountresource from TronState.account_resource's figures: {} for an address never
    activated; TRON power is every staked TRX, delegated or not (getAllTronPower)."""
    if account is None:
        return {}
    power = sum(account.frozen.values()) + sum(account.delegated.values())
    out = dict(resource)
    if power // res.SUN_PER_TRX:
        out["tronPowerLimit"] = power // res.SUN_PER_TRX
    out["TotalTronPowerWeight"] = total_power_weight
    order = (
        *NET_KEYS,
        "tronPowerUsed",
        "tronPowerLimit",
        "EnergyUsed",
        "EnergyLimit",
        "TotalEnergyLimit",
        "TotalEnergyWeight",
        "TotalTronPowerWeight",
    )
    return {k: out[k] for k in order if out.get(k)}


def account_net_json(account: Account | None, resource: dict[str, Any]) -> dict[str, Any]:
    """getaccountnet: the bandwidth part of getaccountresource; {} for an unknown address."""
    if account is None:
        return {}
    return {k: resource[k] for k in NET_KEYS if resource.get(k)}
