"""The account state Tron transactions apply to: TRX balances, staking, delegation,
bandwidth and energy, and the USDT contract.

`TronState.check` refuses what java-tron's broadcast refuses (with its return code and
message); `TronState.apply` executes a transaction as a block does and returns the
receipt `gettransactioninfobyid` answers. A contract call that fails (a REVERT, as a
blacklisted sender's transfer) is not refused: it goes into the block and pays its
bandwidth and energy, as on mainnet. The transaction comes in decoded: the contract's type
name and its value dict in java-tron's JSON (addresses 41... hex, T... or 21 bytes).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import resources as res
from .address import to_base58, to_bytes, to_hex
from .errors import InvalidTronAddress, TronRejected
from .transaction import Transaction
from .usdt import USDT_CONTRACT_NAME, ZERO_ADDRESS, CallResult, Log, Usdt

__all__ = ["Account", "Receipt", "TronState"]

RESOURCES = ("BANDWIDTH", "ENERGY")
UNFREEZE_LIMIT = 32
VALIDATE = "Contract validate error : "
_TRUE_WORD = bytes(31) + b"\x01"  # a call's output `true`, ABI-encoded


def _size(tx: Transaction) -> int:
    """The size a transaction's bandwidth is charged on."""
    return res.signed_size(len(tx.raw_bytes), [len(s) for s in tx.signatures])


def _reject(message: str) -> TronRejected:
    return TronRejected("CONTRACT_VALIDATE_ERROR", VALIDATE + message)


@dataclass
class Account:
    """One account. Usage figures and their times are in java-tron's units (points and
    3-second slots); `frozen` is staked TRX (sun) the account keeps, `delegated` what it
    staked for others, `acquired` what others delegated to it."""

    address: bytes
    balance: int = 0
    create_time: int = 0
    activated_by: bytes | None = None
    is_contract: bool = False
    frozen: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESOURCES, 0))
    delegated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESOURCES, 0))
    acquired: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESOURCES, 0))
    delegated_to: dict[bytes, dict[str, int]] = field(default_factory=dict)
    unfreezing: list[dict[str, Any]] = field(default_factory=list)
    net_usage: int = 0
    net_slot: int = 0
    free_net_usage: int = 0
    free_net_slot: int = 0
    energy_usage: int = 0
    energy_slot: int = 0
    latest_operation_time: int = 0

    def to_json(self) -> str:
        """The account as JSON text (T... addresses)."""
        return json.dumps(
            {
                "address": to_base58(self.address),
                "balance": self.balance,
                "create_time": self.create_time,
                "activated_by": to_base58(self.activated_by) if self.activated_by else None,
                "is_contract": self.is_contract,
                "frozen": self.frozen,
                "delegated": self.delegated,
                "acquired": self.acquired,
                "delegated_to": {to_base58(a): r for a, r in sorted(self.delegated_to.items())},
                "unfreezing": self.unfreezing,
                "net_usage": self.net_usage,
                "net_slot": self.net_slot,
                "free_net_usage": self.free_net_usage,
                "free_net_slot": self.free_net_slot,
                "energy_usage": self.energy_usage,
                "energy_slot": self.energy_slot,
                "latest_operation_time": self.latest_operation_time,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Account:
        """The account to_json() wrote."""
        d = json.loads(text)
        return cls(
            address=to_bytes(d["address"]),
            balance=d["balance"],
            create_time=d["create_time"],
            activated_by=to_bytes(d["activated_by"]) if d["activated_by"] else None,
            is_contract=d["is_contract"],
            frozen=d["frozen"],
            delegated=d["delegated"],
            acquired=d["acquired"],
            delegated_to={to_bytes(a): r for a, r in d["delegated_to"].items()},
            unfreezing=d["unfreezing"],
            net_usage=d["net_usage"],
            net_slot=d["net_slot"],
            free_net_usage=d["free_net_usage"],
            free_net_slot=d["free_net_slot"],
            energy_usage=d["energy_usage"],
            energy_slot=d["energy_slot"],
            latest_operation_time=d["latest_operation_time"],
        )


@dataclass
class Receipt:
    """What `gettransactioninfobyid` answers for one applied transaction."""

    txid: str
    block_number: int
    timestamp_ms: int
    contract_type: str
    fee: int = 0
    net_usage: int = 0
    net_fee: int = 0
    energy_usage: int = 0
    energy_fee: int = 0
    origin_energy_usage: int = 0
    energy_usage_total: int = 0
    energy_penalty_total: int = 0
    result: str = "SUCCESS"  # receipt.result / ret[0].contractRet
    contract_result: bytes = b""
    contract_address: bytes | None = None
    logs: list[Log] = field(default_factory=list)
    message: str = ""  # resMessage on failure
    withdraw_expire_amount: int = 0
    activated: bytes | None = None  # the account this transaction created

    @property
    def failed(self) -> bool:
        """The contract did not succeed (the transaction is still in its block)."""
        return self.result != "SUCCESS"

    def to_json(self) -> dict[str, Any]:
        """gettransactioninfobyid's JSON (visible=false), zero fields left out as java-tron
        does; log addresses are 20 bytes hex without 0x41, as java-tron writes them."""
        receipt: dict[str, Any] = {}
        for key in (
            "energy_usage",
            "energy_fee",
            "origin_energy_usage",
            "energy_usage_total",
            "net_usage",
            "net_fee",
        ):
            if getattr(self, key):
                receipt[key] = getattr(self, key)
        vm = self.contract_type == "TriggerSmartContract"
        if vm:
            receipt["result"] = self.result
            if self.energy_penalty_total:
                receipt["energy_penalty_total"] = self.energy_penalty_total
        out: dict[str, Any] = {"id": self.txid}
        if self.fee:
            out["fee"] = self.fee
        out["blockNumber"] = self.block_number
        out["blockTimeStamp"] = self.timestamp_ms
        out["contractResult"] = [self.contract_result.hex()]
        if self.contract_address:
            out["contract_address"] = self.contract_address.hex()
        out["receipt"] = receipt
        if self.logs:
            out["log"] = [
                {
                    "address": log.address[1:].hex(),
                    "topics": [t.hex() for t in log.topics],
                    "data": log.data.hex(),
                }
                for log in self.logs
            ]
        if self.failed:
            out["result"] = "FAILED"
            out["resMessage"] = self.message.encode().hex()
        if self.withdraw_expire_amount:
            out["withdraw_expire_amount"] = self.withdraw_expire_amount
        return out


def _addr(value: dict[str, Any], key: str, what: str) -> bytes:
    try:
        return to_bytes(value[key])
    except (KeyError, TypeError, InvalidTronAddress):
        raise _reject(what) from None


def _resource(value: dict[str, Any]) -> str:
    # proto3 JSON leaves out the default, BANDWIDTH (0)
    resource = value.get("resource", "BANDWIDTH")
    if resource in (0, 1):
        resource = RESOURCES[resource]
    if resource not in RESOURCES:
        raise _reject("ResourceCode error, valid ResourceCode[BANDWIDTH、ENERGY]")
    return str(resource)


_CONTRACTS = (
    "TransferContract",
    "AccountCreateContract",
    "TriggerSmartContract",
    "FreezeBalanceV2Contract",
    "UnfreezeBalanceV2Contract",
    "WithdrawExpireUnfreezeContract",
    "DelegateResourceContract",
    "UnDelegateResourceContract",
)


class TronState:
    """All accounts and the USDT contract; transactions are checked and applied here."""

    def __init__(
        self,
        chain_parameters: dict[str, int] | None = None,
        *,
        genesis_ms: int = 0,
        usdt_owner: str | bytes = ZERO_ADDRESS,
    ):
        """An empty chain whose block 0 is at genesis_ms; usdt_owner is the issuer."""
        self.params = {**res.CHAIN_PARAMETERS, **(chain_parameters or {})}
        self.genesis_ms = genesis_ms
        self.accounts: dict[bytes, Account] = {}
        self.usdt = Usdt(usdt_owner)
        self.accounts[self.usdt.address] = Account(
            self.usdt.address, create_time=genesis_ms, is_contract=True
        )
        self._staked = dict.fromkeys(RESOURCES, 0)

    # --- reads ---

    def account(self, address: str | bytes) -> Account | None:
        """The account at an address, or None if it has not been activated."""
        return self.accounts.get(to_bytes(address))

    def total_weight(self, resource: str) -> int:
        """TotalEnergyWeight / TotalNetWeight: staked TRX of the network and the world."""
        network = res.NETWORK_ENERGY_WEIGHT if resource == "ENERGY" else res.NETWORK_NET_WEIGHT
        return network + self._staked[resource] // res.SUN_PER_TRX

    def _limit(self, account: Account, resource: str) -> int:
        staked = account.frozen[resource] + account.acquired[resource]
        if not staked:
            return 0  # what share_of_limit gives for no stake
        total = (
            self.params["getTotalEnergyCurrentLimit"]
            if resource == "ENERGY"
            else self.params["getTotalNetLimit"]
        )
        return res.share_of_limit(staked, total, self.total_weight(resource))

    def _slot(self, timestamp_ms: int) -> int:
        return res.slot(timestamp_ms, self.genesis_ms)

    def account_resource(self, address: str | bytes, now_ms: int) -> dict[str, Any]:
        """`getaccountresource`'s figures for an account at now_ms (zeros left out)."""
        acc = self.accounts.get(to_bytes(address))
        now = self._slot(now_ms)
        out: dict[str, Any] = {}
        if acc is not None:
            out["freeNetUsed"] = res.increase(acc.free_net_usage, 0, acc.free_net_slot, now)
            out["freeNetLimit"] = self.params["getFreeNetLimit"]
            out["NetUsed"] = res.increase(acc.net_usage, 0, acc.net_slot, now)
            out["NetLimit"] = self._limit(acc, "BANDWIDTH")
            out["EnergyUsed"] = res.increase(acc.energy_usage, 0, acc.energy_slot, now)
            out["EnergyLimit"] = self._limit(acc, "ENERGY")
        out["TotalNetLimit"] = self.params["getTotalNetLimit"]
        out["TotalNetWeight"] = self.total_weight("BANDWIDTH")
        out["TotalEnergyLimit"] = self.params["getTotalEnergyCurrentLimit"]
        out["TotalEnergyWeight"] = self.total_weight("ENERGY")
        return {k: v for k, v in out.items() if v}

    # --- genesis ---

    def credit_genesis(self, address: str | bytes, sun: int) -> Account:
        """An account that exists from block 0 with a balance (the world's allocations)."""
        raw = to_bytes(address)
        acc = self.accounts.get(raw) or Account(raw, create_time=self.genesis_ms)
        acc.balance += sun
        self.accounts[raw] = acc
        return acc

    # --- constant calls ---

    def constant_call(self, owner: str | bytes, contract: str | bytes, data: bytes) -> CallResult:
        """triggerconstantcontract: run a call without keeping anything it writes."""
        if to_bytes(contract) != self.usdt.address:
            raise _reject("No contract or not a smart contract")
        return self.usdt.call(to_bytes(owner), data, constant=True)

    # --- broadcast checks ---

    def check(
        self,
        owner: str | bytes,
        contract_type: str,
        value: dict[str, Any],
        *,
        tx_size: int,
        now_ms: int,
        fee_limit: int = 0,
    ) -> None:
        """Raise TronRejected where java-tron's broadcast refuses the transaction
        (bandwidth it cannot pay: BANDWITH_ERROR; a contract that does not validate:
        CONTRACT_VALIDATE_ERROR with java-tron's message). Changes nothing."""
        raw_owner = to_bytes(owner)
        acc = self.accounts.get(raw_owner)
        if acc is None:
            raise _reject(f"account [{to_base58(raw_owner)}] does not exist")
        self._validate_after_bandwidth(acc, contract_type, value, tx_size, now_ms, fee_limit)

    def _validate_after_bandwidth(
        self,
        acc: Account,
        contract_type: str,
        value: dict[str, Any],
        tx_size: int,
        now_ms: int,
        fee_limit: int,
    ) -> None:
        # java-tron takes the bandwidth first, then the actuator validates what is left
        if contract_type not in _CONTRACTS:
            raise _reject("Unknown contract type")
        _, net_fee = self._bandwidth(
            acc, contract_type, value, tx_size, self._slot(now_ms), dry=True
        )
        acc.balance -= net_fee
        try:
            self._validate(acc, contract_type, value, fee_limit)
        finally:
            acc.balance += net_fee

    def _validate(
        self, acc: Account, contract_type: str, value: dict[str, Any], fee_limit: int
    ) -> int:
        """The actuator's validate(); returns the contract's own fee (sun)."""
        fee: int = _VALIDATORS[contract_type](self, acc, value, fee_limit)
        return fee

    def _validate_TransferContract(self, acc: Account, value: dict[str, Any], _fl: int) -> int:
        to = _addr(value, "to_address", "Invalid toAddress!")
        if to == acc.address:
            raise _reject("Cannot transfer TRX to yourself.")
        amount = int(value.get("amount", 0))
        if amount <= 0:
            raise _reject("Amount must be greater than 0.")
        fee = 0 if to in self.accounts else self.params["getCreateNewAccountFeeInSystemContract"]
        if acc.balance < amount + fee:
            raise _reject("Validate TransferContract error, balance is not sufficient.")
        return fee

    def _validate_AccountCreateContract(self, acc: Account, value: dict[str, Any], _fl: int) -> int:
        new = _addr(value, "account_address", "Invalid account address")
        if new in self.accounts:
            raise _reject("Account has existed")
        fee = self.params["getCreateNewAccountFeeInSystemContract"]
        if acc.balance < fee:
            raise _reject("Validate CreateAccountActuator error, insufficient fee.")
        return fee

    def _validate_TriggerSmartContract(
        self, acc: Account, value: dict[str, Any], fee_limit: int
    ) -> int:
        contract = _addr(
            value, "contract_address", "Cannot get contract address from TriggerContract"
        )
        if contract != self.usdt.address:
            raise _reject("No contract or not a smart contract")
        if int(value.get("call_value", 0)) < 0:
            raise _reject("callValue must be >= 0")
        if fee_limit < 0 or fee_limit > self.params["getMaxFeeLimit"]:
            raise _reject(f"feeLimit must be >= 0 and <= {self.params['getMaxFeeLimit']}")
        if int(value.get("call_value", 0)) > acc.balance:
            raise _reject("validateForSmartContract failure, not enough balance")
        return 0

    def _validate_FreezeBalanceV2Contract(
        self, acc: Account, value: dict[str, Any], _fl: int
    ) -> int:
        amount = int(value.get("frozen_balance", 0))
        if amount <= 0:
            raise _reject("frozenBalance must be positive")
        if amount < res.SUN_PER_TRX:
            raise _reject("frozenBalance must be greater than or equal to 1 TRX")
        if amount > acc.balance:
            raise _reject("frozenBalance must be less than or equal to accountBalance")
        _resource(value)
        return 0

    def _validate_UnfreezeBalanceV2Contract(
        self, acc: Account, value: dict[str, Any], _fl: int
    ) -> int:
        resource = _resource(value)
        if acc.frozen[resource] <= 0:
            raise _reject(
                "no frozenBalance(Energy)"
                if resource == "ENERGY"
                else "no frozenBalance(BANDWIDTH)"
            )
        amount = int(value.get("unfreeze_balance", 0))
        if amount <= 0 or amount > acc.frozen[resource]:
            raise _reject(f"Invalid unfreeze_balance, [{amount}] is invalid")
        if len(acc.unfreezing) >= UNFREEZE_LIMIT:
            raise _reject("Invalid unfreeze operation, unfreezing times is over limit")
        return 0

    def _validate_WithdrawExpireUnfreezeContract(
        self, acc: Account, value: dict[str, Any], _fl: int
    ) -> int:
        return 0

    def _validate_DelegateResourceContract(
        self, acc: Account, value: dict[str, Any], _fl: int
    ) -> int:
        amount = int(value.get("balance", 0))
        if amount < res.SUN_PER_TRX:
            raise _reject("delegateBalance must be greater than or equal to 1 TRX")
        resource = _resource(value)
        if acc.frozen[resource] < amount:
            kind = "FreezeEnergyV2" if resource == "ENERGY" else "FreezeBandwidthV2"
            raise _reject(f"delegateBalance must be less than or equal to available {kind} balance")
        receiver = _addr(value, "receiver_address", "Invalid receiverAddress")
        if receiver == acc.address:
            raise _reject("receiverAddress must not be the same as ownerAddress")
        target = self.accounts.get(receiver)
        if target is None:
            raise _reject(f"Account[{receiver.hex()}] not exists")
        if target.is_contract:
            raise _reject("Do not allow delegate resources to contract addresses")
        return 0

    def _validate_UnDelegateResourceContract(
        self, acc: Account, value: dict[str, Any], _fl: int
    ) -> int:
        receiver = _addr(value, "receiver_address", "Invalid receiverAddress")
        if receiver == acc.address:
            raise _reject("receiverAddress must not be the same as ownerAddress")
        amount = int(value.get("balance", 0))
        if amount <= 0:
            raise _reject("unDelegateBalance must be more than 0 TRX")
        resource = _resource(value)
        have = acc.delegated_to.get(receiver, {}).get(resource, 0)
        if have < amount:
            label = "Energy" if resource == "ENERGY" else "Bandwidth"
            raise _reject(
                f"insufficient delegateFrozenBalance({label}), request={amount}, unlock_balance={have}"
            )
        return 0

    # --- bandwidth ---

    def _creates_account(self, contract_type: str, value: dict[str, Any]) -> bool:
        if contract_type == "AccountCreateContract":
            return True
        if contract_type != "TransferContract":
            return False
        try:
            return to_bytes(value["to_address"]) not in self.accounts
        except (KeyError, TypeError, InvalidTronAddress):
            return False  # the actuator's validate says what is wrong with it

    def _bandwidth(
        self,
        acc: Account,
        contract_type: str,
        value: dict[str, Any],
        tx_size: int,
        now: int,
        *,
        dry: bool,
    ) -> tuple[int, int]:
        """Consume the transaction's bandwidth as BandwidthProcessor.consume does; returns
        (net_usage, net_fee): points taken from stake or the free allowance, or TRX burned.
        dry: only check that it can be paid."""
        points = res.bandwidth(tx_size)
        staked_left = self._limit(acc, "BANDWIDTH") - res.increase(
            acc.net_usage, 0, acc.net_slot, now
        )
        if self._creates_account(contract_type, value):
            cost = points * self.params["getCreateNewAccountBandwidthRate"]
            if cost <= staked_left:
                if not dry:
                    acc.net_usage = res.increase(acc.net_usage, cost, acc.net_slot, now)
                    acc.net_slot = now
                return cost, 0
            fee = self.params["getCreateAccountFee"]
            if acc.balance < fee:
                raise TronRejected("BANDWITH_ERROR", "Account resource insufficient error.")
            if not dry:
                acc.balance -= fee
            return 0, fee
        if points <= staked_left:
            if not dry:
                acc.net_usage = res.increase(acc.net_usage, points, acc.net_slot, now)
                acc.net_slot = now
            return points, 0
        free_used = res.increase(acc.free_net_usage, 0, acc.free_net_slot, now)
        if points <= self.params["getFreeNetLimit"] - free_used:
            if not dry:
                acc.free_net_usage = res.increase(
                    acc.free_net_usage, points, acc.free_net_slot, now
                )
                acc.free_net_slot = now
            return points, 0
        fee = points * self.params["getTransactionFee"]
        if acc.balance < fee:
            raise TronRejected("BANDWITH_ERROR", "Account resource insufficient error.")
        if not dry:
            acc.balance -= fee
        return 0, fee

    def check_transaction(self, tx: Transaction, now_ms: int) -> None:
        """check() of a signed transaction."""
        self.check(
            tx.owner, tx.contract_type, tx.value,
            tx_size=_size(tx), now_ms=now_ms, fee_limit=tx.fee_limit,
        )  # fmt: skip

    # --- apply ---

    def apply_transaction(self, tx: Transaction, block_number: int, timestamp_ms: int) -> Receipt:
        """apply() of a signed transaction."""
        return self.apply(
            tx.owner, tx.contract_type, tx.value, txid=tx.txid, tx_size=_size(tx),
            block_number=block_number, timestamp_ms=timestamp_ms, fee_limit=tx.fee_limit,
        )  # fmt: skip

    def apply(
        self,
        owner: str | bytes,
        contract_type: str,
        value: dict[str, Any],
        *,
        txid: str,
        tx_size: int,
        block_number: int,
        timestamp_ms: int,
        fee_limit: int = 0,
    ) -> Receipt:
        """Execute a transaction in a block at timestamp_ms and return its receipt.

        tx_size: the signed transaction's serialized size without `ret`
        (resources.signed_size). Raises TronRejected (nothing changed) for a transaction
        check() refuses."""
        raw_owner = to_bytes(owner)
        acc = self.accounts.get(raw_owner)
        if acc is None:
            raise _reject(f"account [{to_base58(raw_owner)}] does not exist")
        # _validate_after_bandwidth() then _bandwidth(dry=False), in one pass: the bandwidth
        # is taken, the actuator validates what is left (it reads none of the bandwidth
        # figures), and a refused transaction gets the account back as it was.
        if contract_type not in _CONTRACTS:
            raise _reject("Unknown contract type")
        now = self._slot(timestamp_ms)
        saved = (acc.balance, acc.net_usage, acc.net_slot, acc.free_net_usage, acc.free_net_slot)
        net_usage, net_fee = self._bandwidth(acc, contract_type, value, tx_size, now, dry=False)
        try:
            self._validate(acc, contract_type, value, fee_limit)
        except BaseException:
            acc.balance, acc.net_usage, acc.net_slot, acc.free_net_usage, acc.free_net_slot = saved
            raise
        receipt = Receipt(
            txid, block_number, timestamp_ms, contract_type, net_usage=net_usage, net_fee=net_fee
        )
        acc.latest_operation_time = timestamp_ms
        _APPLIERS[contract_type](self, acc, value, receipt, now, fee_limit)
        receipt.fee += receipt.net_fee + receipt.energy_fee
        return receipt

    def apply_usdt_transfer(
        self,
        owner: bytes,
        to: bytes,
        amount: int,
        *,
        tx_size: int,
        block_number: int,
        timestamp_ms: int,
        fee_limit: int,
    ) -> Receipt | None:
        """apply() of a TriggerSmartContract by owner (21 bytes) calling the USDT contract's
        transfer(to, amount) without call value, where the call succeeds and the issuer
        takes no fee (Usdt.plain_transfer): the same effects and receipt, without decoding
        the call (the build makes a million). None, with nothing changed, in any other case
        (apply() then decides). Raises TronRejected as apply() does."""
        acc = self.accounts.get(owner)
        usdt = self.usdt
        if acc is None or not 0 <= fee_limit <= self.params["getMaxFeeLimit"]:
            return None
        cost = usdt.plain_transfer(owner, to, amount)
        if cost is None:
            return None
        now = self._slot(timestamp_ms)
        saved = (acc.balance, acc.net_usage, acc.net_slot, acc.free_net_usage, acc.free_net_slot)
        net_usage, net_fee = self._bandwidth(
            acc, "TriggerSmartContract", {}, tx_size, now, dry=False
        )
        # _apply_TriggerSmartContract's energy, for a call that spends base + penalty
        price = self.params["getEnergyFee"]
        used_before = res.increase(acc.energy_usage, 0, acc.energy_slot, now)
        frozen_left = max(self._limit(acc, "ENERGY") - used_before, 0)
        limit = min(frozen_left + max(acc.balance, 0) // price, fee_limit // price)
        base, penalty = cost
        used = base + penalty
        if used > limit:  # OUT_OF_ENERGY: apply()'s to make
            acc.balance, acc.net_usage, acc.net_slot, acc.free_net_usage, acc.free_net_slot = saved
            return None
        acc.latest_operation_time = timestamp_ms
        from_frozen = min(used, frozen_left)
        energy_fee = (used - from_frozen) * price
        acc.energy_usage = res.increase(acc.energy_usage, from_frozen, acc.energy_slot, now)
        acc.energy_slot = now
        acc.balance -= energy_fee
        return Receipt(
            "", block_number, timestamp_ms, "TriggerSmartContract", fee=net_fee + energy_fee,
            net_usage=net_usage, net_fee=net_fee, energy_usage=from_frozen,
            energy_fee=energy_fee, energy_usage_total=used, energy_penalty_total=penalty,
            contract_result=_TRUE_WORD, contract_address=usdt.address,
            logs=[usdt.move_plain(owner, to, amount)],
        )  # fmt: skip

    def _apply_TransferContract(
        self, acc: Account, value: dict[str, Any], receipt: Receipt, now: int, _fl: int
    ) -> None:
        to = to_bytes(value["to_address"])
        amount = int(value["amount"])
        target = self.accounts.get(to)
        if target is None:
            target = self._create(to, acc.address, receipt)
            acc.balance -= self.params["getCreateNewAccountFeeInSystemContract"]
            receipt.fee += self.params["getCreateNewAccountFeeInSystemContract"]
        acc.balance -= amount
        target.balance += amount

    def _create(self, address: bytes, funder: bytes, receipt: Receipt) -> Account:
        target = Account(address, create_time=receipt.timestamp_ms, activated_by=funder)
        self.accounts[address] = target
        receipt.activated = address
        return target

    def _apply_AccountCreateContract(
        self, acc: Account, value: dict[str, Any], receipt: Receipt, now: int, _fl: int
    ) -> None:
        self._create(to_bytes(value["account_address"]), acc.address, receipt)
        acc.balance -= self.params["getCreateNewAccountFeeInSystemContract"]
        receipt.fee += self.params["getCreateNewAccountFeeInSystemContract"]

    def _apply_FreezeBalanceV2Contract(
        self, acc: Account, value: dict[str, Any], receipt: Receipt, now: int, _fl: int
    ) -> None:
        resource = _resource(value)
        amount = int(value["frozen_balance"])
        acc.balance -= amount
        acc.frozen[resource] += amount
        self._staked[resource] += amount

    def _withdraw_expired(self, acc: Account, receipt: Receipt) -> None:
        expired = [u for u in acc.unfreezing if u["expire_time"] <= receipt.timestamp_ms]
        if expired:
            amount = sum(u["amount"] for u in expired)
            acc.balance += amount
            acc.unfreezing = [u for u in acc.unfreezing if u["expire_time"] > receipt.timestamp_ms]
            receipt.withdraw_expire_amount = amount

    def _apply_UnfreezeBalanceV2Contract(
        self, acc: Account, value: dict[str, Any], receipt: Receipt, now: int, _fl: int
    ) -> None:
        resource = _resource(value)
        amount = int(value["unfreeze_balance"])
        self._withdraw_expired(acc, receipt)
        acc.frozen[resource] -= amount
        self._staked[resource] -= amount
        delay = self.params["getUnfreezeDelayDays"] * 86_400_000
        acc.unfreezing.append(
            {"type": resource, "amount": amount, "expire_time": receipt.timestamp_ms + delay}
        )

    def _apply_WithdrawExpireUnfreezeContract(
        self, acc: Account, value: dict[str, Any], receipt: Receipt, now: int, _fl: int
    ) -> None:
        self._withdraw_expired(acc, receipt)

    def _apply_DelegateResourceContract(
        self, acc: Account, value: dict[str, Any], receipt: Receipt, now: int, _fl: int
    ) -> None:
        resource = _resource(value)
        amount = int(value["balance"])
        receiver = self.accounts[to_bytes(value["receiver_address"])]
        acc.frozen[resource] -= amount
        acc.delegated[resource] += amount
        slot = acc.delegated_to.setdefault(receiver.address, dict.fromkeys(RESOURCES, 0))
        slot[resource] += amount
        receiver.acquired[resource] += amount

    def _apply_UnDelegateResourceContract(
        self, acc: Account, value: dict[str, Any], receipt: Receipt, now: int, _fl: int
    ) -> None:
        resource = _resource(value)
        amount = int(value["balance"])
        receiver_address = to_bytes(value["receiver_address"])
        slot = acc.delegated_to[receiver_address]
        slot[resource] -= amount
        if not any(slot.values()):
            del acc.delegated_to[receiver_address]
        acc.delegated[resource] -= amount
        acc.frozen[resource] += amount
        receiver = self.accounts.get(receiver_address)
        if receiver is not None:
            receiver.acquired[resource] -= amount

    def _apply_TriggerSmartContract(
        self, acc: Account, value: dict[str, Any], receipt: Receipt, now: int, fee_limit: int
    ) -> None:
        price = self.params["getEnergyFee"]
        used_before = res.increase(acc.energy_usage, 0, acc.energy_slot, now)
        frozen_left = max(self._limit(acc, "ENERGY") - used_before, 0)
        call_value = int(value.get("call_value", 0))
        limit = min(frozen_left + max(acc.balance - call_value, 0) // price, fee_limit // price)
        data = (
            bytes.fromhex(value.get("data", ""))
            if isinstance(value.get("data", ""), str)
            else value["data"]
        )
        receipt.contract_address = self.usdt.address
        if call_value > 0:
            # TetherToken's functions are not payable: Solidity 0.4 reverts on call value
            result = self.usdt.call(acc.address, b"", energy_limit=limit)
        else:
            result = self.usdt.call(acc.address, data, energy_limit=limit)
        used = result.energy
        from_frozen = min(used, frozen_left)
        acc.energy_usage = res.increase(acc.energy_usage, from_frozen, acc.energy_slot, now)
        acc.energy_slot = now
        receipt.energy_usage = from_frozen
        receipt.energy_fee = (used - from_frozen) * price
        acc.balance -= receipt.energy_fee
        receipt.energy_usage_total = used
        receipt.energy_penalty_total = result.penalty
        receipt.result = result.result
        receipt.contract_result = result.output
        receipt.logs = result.logs
        receipt.message = result.message

    # --- persistence ---

    def snapshot(self) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
        """Rows for the world's tables: (address, Account.to_json()) for tron_state and
        (address, name, state json) for tron_contracts."""
        accounts = [(to_base58(a), acc.to_json()) for a, acc in sorted(self.accounts.items())]
        contracts = [
            (
                to_base58(self.usdt.address),
                USDT_CONTRACT_NAME,
                json.dumps(self.usdt.to_json(), sort_keys=True),
            )
        ]
        return accounts, contracts

    @classmethod
    def restore(
        cls,
        accounts: list[tuple[str, str]],
        contracts: list[tuple[str, str, str]],
        chain_parameters: dict[str, int] | None = None,
        *,
        genesis_ms: int = 0,
    ) -> TronState:
        """The state snapshot() wrote."""
        state = cls(chain_parameters, genesis_ms=genesis_ms)
        for _address, text in accounts:
            acc = Account.from_json(text)
            state.accounts[acc.address] = acc
            for r in RESOURCES:
                state._staked[r] += acc.frozen[r] + acc.delegated[r]
        for address, _name, text in contracts:
            if to_hex(address) == to_hex(state.usdt.address):
                state.usdt = Usdt.from_json(json.loads(text))
        return state


# Each contract type's actuator: validate() and execute(), as java-tron's.
_VALIDATORS: dict[str, Callable[..., int]] = {
    "TransferContract": TronState._validate_TransferContract,
    "AccountCreateContract": TronState._validate_AccountCreateContract,
    "TriggerSmartContract": TronState._validate_TriggerSmartContract,
    "FreezeBalanceV2Contract": TronState._validate_FreezeBalanceV2Contract,
    "UnfreezeBalanceV2Contract": TronState._validate_UnfreezeBalanceV2Contract,
    "WithdrawExpireUnfreezeContract": TronState._validate_WithdrawExpireUnfreezeContract,
    "DelegateResourceContract": TronState._validate_DelegateResourceContract,
    "UnDelegateResourceContract": TronState._validate_UnDelegateResourceContract,
}
_APPLIERS: dict[str, Callable[..., None]] = {
    "TransferContract": TronState._apply_TransferContract,
    "AccountCreateContract": TronState._apply_AccountCreateContract,
    "TriggerSmartContract": TronState._apply_TriggerSmartContract,
    "FreezeBalanceV2Contract": TronState._apply_FreezeBalanceV2Contract,
    "UnfreezeBalanceV2Contract": TronState._apply_UnfreezeBalanceV2Contract,
    "WithdrawExpireUnfreezeContract": TronState._apply_WithdrawExpireUnfreezeContract,
    "DelegateResourceContract": TronState._apply_DelegateResourceContract,
    "UnDelegateResourceContract": TronState._apply_UnDelegateResourceContract,
}
