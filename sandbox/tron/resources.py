"""Bandwidth, energy and fees: java-tron's resource rules and mainnet's chain parameters.

A transaction's bandwidth is its serialized size (signatures included, `ret` left out)
plus 64 bytes per contract for the result (BandwidthProcessor, Constant.
MAX_RESULT_SIZE_IN_TX). Usage of staked and free resources recovers linearly over a
24-hour window of 3-second slots (ResourceProcessor.increase). Staked TRX earns a share
of the network's daily limit in proportion to its weight (TRX) among all staked TRX; the
rest of mainnet's stake is counted so that one staked TRX is worth what it is on mainnet.
"""

from __future__ import annotations

from typing import Any

from ..ledger.codec.varint import varint_size

__all__ = [
    "CHAIN_PARAMETERS",
    "MAX_RESULT_SIZE_IN_TX",
    "NETWORK_ENERGY_WEIGHT",
    "NETWORK_NET_WEIGHT",
    "PRECISION",
    "SLOT_MS",
    "SUN_PER_TRX",
    "WINDOW_SLOTS",
    "bandwidth",
    "chain_parameters_json",
    "increase",
    "share_of_limit",
    "signed_size",
    "slot",
]

SUN_PER_TRX = 1_000_000
SLOT_MS = 3_000
WINDOW_SLOTS = 24 * 3600 * 1000 // SLOT_MS  # 28,800: the 24-hour recovery window
PRECISION = 1_000_000  # ChainConstant.PRECISION of the usage averages
MAX_RESULT_SIZE_IN_TX = 64
PER_SIGN_LENGTH = 65

# The TRX staked for each resource by the rest of mainnet (2025 order of magnitude),
# added to the world's own stake: about 9.5 energy and 1.6 bandwidth a day per staked TRX.
NETWORK_ENERGY_WEIGHT = 19_000_000_000
NETWORK_NET_WEIGHT = 27_000_000_000

# java-tron's `getchainparameters` keys with mainnet's values (energy at 100 sun since
# August 2025, free bandwidth 600 a day since 2024).
CHAIN_PARAMETERS: dict[str, int] = {
    "getMaintenanceTimeInterval": 21_600_000,
    "getAccountUpgradeCost": 9_999_000_000,
    "getCreateAccountFee": 100_000,
    "getTransactionFee": 1_000,
    "getAssetIssueFee": 1_024_000_000,
    "getWitnessPayPerBlock": 8_000_000,
    "getWitnessStandbyAllowance": 115_200_000_000,
    "getCreateNewAccountFeeInSystemContract": 1_000_000,
    "getCreateNewAccountBandwidthRate": 1,
    "getAllowCreationOfContracts": 1,
    "getRemoveThePowerOfTheGr": -1,
    "getEnergyFee": 100,
    "getExchangeCreateFee": 1_024_000_000,
    "getMaxCpuTimeOfOneTx": 80,
    "getAllowUpdateAccountName": 0,
    "getAllowSameTokenName": 1,
    "getAllowDelegateResource": 1,
    "getTotalEnergyLimit": 90_000_000_000,
    "getAllowTvmTransferTrc10": 1,
    "getTotalEnergyCurrentLimit": 180_000_000_000,
    "getAllowMultiSign": 1,
    "getAllowAdaptiveEnergy": 0,
    "getTotalEnergyTargetLimit": 6_250_000,
    "getTotalEnergyAverageUsage": 0,
    "getUpdateAccountPermissionFee": 100_000_000,
    "getMultiSignFee": 1_000_000,
    "getAllowAccountStateRoot": 0,
    "getAllowProtoFilterNum": 0,
    "getAllowTvmConstantinople": 1,
    "getAllowTvmSolidity059": 1,
    "getAllowTvmIstanbul": 1,
    "getAllowShieldedTRC20Transaction": 1,
    "getForbidTransferToContract": 0,
    "getAdaptiveResourceLimitTargetRatio": 10,
    "getAdaptiveResourceLimitMultiplier": 1_000,
    "getChangeDelegation": 1,
    "getWitness127PayPerBlock": 128_000_000,
    "getAllowMarketTransaction": 0,
    "getMarketSellFee": 0,
    "getMarketCancelFee": 0,
    "getAllowPBFT": 0,
    "getAllowTransactionFeePool": 0,
    "getMaxFeeLimit": 15_000_000_000,
    "getAllowOptimizeBlackHole": 1,
    "getAllowNewResourceModel": 1,
    "getAllowTvmFreeze": 0,
    "getAllowTvmVote": 1,
    "getAllowTvmLondon": 1,
    "getAllowTvmCompatibleEvm": 0,
    "getAllowAccountAssetOptimization": 0,
    "getFreeNetLimit": 600,
    "getTotalNetLimit": 43_200_000_000,
    "getAllowHigherLimitForMaxCpuTimeOfOneTx": 1,
    "getAllowAssetOptimization": 1,
    "getAllowNewReward": 1,
    "getMemoFee": 1_000_000,
    "getAllowDelegateOptimization": 1,
    "getUnfreezeDelayDays": 14,
    "getAllowOptimizedReturnValueOfChainId": 1,
    "getAllowDynamicEnergy": 1,
    "getDynamicEnergyThreshold": 5_000_000_000,
    "getDynamicEnergyIncreaseFactor": 2_000,
    "getDynamicEnergyMaxFactor": 34_000,
    "getAllowTvmShangHai": 1,
    "getAllowCancelAllUnfreezeV2": 1,
    "getMaxDelegateLockPeriod": 864_000,
    "getAllowOldRewardOpt": 1,
    "getAllowEnergyAdjustment": 1,
    "getMaxCreateAccountTxSize": 1_000,
    "getAllowStrictMath": 1,
    "getConsensusLogicOptimization": 1,
    "getAllowTvmCancun": 1,
}


def chain_parameters_json(params: dict[str, int]) -> dict[str, Any]:
    """`/wallet/getchainparameters`'s answer: `{"chainParameter": [{"key", "value"}]}`,
    with a zero value left out as java-tron's JSON does."""
    return {
        "chainParameter": [{"key": k, "value": v} if v else {"key": k} for k, v in params.items()]
    }


def slot(timestamp_ms: int, genesis_ms: int) -> int:
    """The head slot of a block time: 3-second slots since the genesis block."""
    return (timestamp_ms - genesis_ms) // SLOT_MS


def signed_size(raw_len: int, signature_lengths: list[int]) -> int:
    """Serialized size of a Transaction (field 1 raw_data, field 2 signatures, no ret)."""
    size = 1 + varint_size(raw_len) + raw_len
    return size + sum(1 + varint_size(n) + n for n in signature_lengths)


def bandwidth(tx_size: int, contracts: int = 1) -> int:
    """Bandwidth points a transaction of tx_size serialized bytes consumes."""
    return tx_size + MAX_RESULT_SIZE_IN_TX * contracts


def _java_round(x: float) -> int:
    # Math.round: half up
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)


def increase(last_usage: int, usage: int, last_slot: int, now_slot: int) -> int:
    """The usage after adding `usage` at now_slot to what was last_usage at last_slot,
    the older part decayed linearly over the window (ResourceProcessor.increase)."""
    if not last_usage and not usage:
        return 0  # nothing used, nothing to decay (most accounts, most of the time)
    average_last = -(-last_usage * PRECISION // WINDOW_SLOTS)
    average_new = -(-usage * PRECISION // WINDOW_SLOTS)
    if last_slot != now_slot:
        if last_slot + WINDOW_SLOTS > now_slot:
            decay = (WINDOW_SLOTS - (now_slot - last_slot)) / WINDOW_SLOTS
            average_last = _java_round(average_last * decay)
        else:
            average_last = 0
    return (average_last + average_new) * WINDOW_SLOTS // PRECISION


def share_of_limit(staked_sun: int, total_limit: int, total_weight: int) -> int:
    """The daily energy or bandwidth limit of staked_sun (calculateGlobal*LimitV2)."""
    if total_weight <= 0:
        return 0
    return int(staked_sun / SUN_PER_TRX * (total_limit / total_weight))
