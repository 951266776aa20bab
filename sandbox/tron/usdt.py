"""USDT on Tron: Tether's TetherToken contract at TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t, as
native code.

No EVM runs: each function of the real contract (Solidity 0.4.18, Pausable,
StandardTokenWithFees, BlackList) is written out here with its `require`s (a REVERT with
no data), its SafeMath `assert`s (an invalid opcode that spends all the energy given),
its return values and its events, so that call data, outputs and logs are byte for byte
what a client sees from the real one. Energy figures are those mainnet charges today
(dynamic energy included): 64,285 for a transfer to an address that holds USDT,
130,285 to one that holds none.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import SandboxError
from . import abi
from .address import to_base58, to_bytes

__all__ = [
    "DECIMALS",
    "NAME",
    "SYMBOL",
    "USDT_ABI",
    "USDT_ADDRESS",
    "USDT_CONTRACT_NAME",
    "ZERO_ADDRESS",
    "CallResult",
    "Log",
    "Usdt",
]

USDT_ADDRESS = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
USDT_CONTRACT_NAME = "TetherToken"
NAME = "Tether USD"
SYMBOL = "USDT"
DECIMALS = 6
ZERO_ADDRESS = b"\x41" + bytes(20)  # T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb: mints come from it
MAX_UINT = 2**256 - 1
MAX_SETTABLE_BASIS_POINTS = 20
MAX_SETTABLE_FEE = 50

# Energy of the two transfer paths as mainnet receipts show them (base + dynamic penalty).
TRANSFER_TO_HOLDER = (14_650, 49_635)
TRANSFER_TO_NEW = (29_650, 100_635)
# The contract's dynamic energy factor (java-tron keeps it in units of 1/10000).
ENERGY_FACTOR = 33_881
# Base energy of the other paths, read from the opcodes each one runs (SSTORE to a new
# slot 20,000, to a used one 5,000, SLOAD 800, LOG3 about 1,900).
BASE_ENERGY = {
    "revert": 1_062,
    "transferFrom": 20_262,
    "transferFrom_new": 35_262,
    "approve_new": 22_315,
    "approve": 7_315,
    "issue": 12_871,
    "redeem": 12_871,
    "blacklist_new": 22_030,
    "blacklist": 7_030,
    "destroy": 12_437,
    "owner_op": 7_120,
    "view": 553,
    "view_string": 1_376,
}

# (name, inputs, outputs, constant); the order and names of the ABI java-tron answers.
_F = "function"
_FUNCTIONS: list[tuple[str, list[tuple[str, str]], list[tuple[str, str]], bool]] = [
    ("name", [], [("", "string")], True),
    ("deprecate", [("_upgradedAddress", "address")], [], False),
    ("approve", [("_spender", "address"), ("_value", "uint256")], [("", "bool")], False),
    ("deprecated", [], [("", "bool")], True),
    ("addBlackList", [("_evilUser", "address")], [], False),
    ("totalSupply", [], [("", "uint256")], True),
    (
        "transferFrom",
        [("_from", "address"), ("_to", "address"), ("_value", "uint256")],
        [("", "bool")],
        False,
    ),
    ("upgradedAddress", [], [("", "address")], True),
    ("decimals", [], [("", "uint8")], True),
    ("maximumFee", [], [("", "uint256")], True),
    ("_totalSupply", [], [("", "uint256")], True),
    ("unpause", [], [], False),
    ("getBlackListStatus", [("_maker", "address")], [("", "bool")], True),
    ("paused", [], [("", "bool")], True),
    (
        "decreaseApproval",
        [("_spender", "address"), ("_subtractedValue", "uint256")],
        [("", "bool")],
        False,
    ),
    ("balanceOf", [("who", "address")], [("", "uint256")], True),
    ("calcFee", [("_value", "uint256")], [("", "uint256")], True),
    ("pause", [], [], False),
    ("owner", [], [("", "address")], True),
    ("symbol", [], [("", "string")], True),
    ("transfer", [("_to", "address"), ("_value", "uint256")], [("", "bool")], False),
    ("oldBalanceOf", [("who", "address")], [("", "uint256")], True),
    ("setParams", [("newBasisPoints", "uint256"), ("newMaxFee", "uint256")], [], False),
    ("issue", [("amount", "uint256")], [], False),
    (
        "increaseApproval",
        [("_spender", "address"), ("_addedValue", "uint256")],
        [("", "bool")],
        False,
    ),
    ("redeem", [("amount", "uint256")], [], False),
    (
        "allowance",
        [("_owner", "address"), ("_spender", "address")],
        [("remaining", "uint256")],
        True,
    ),
    ("basisPointsRate", [], [("", "uint256")], True),
    ("isBlackListed", [("", "address")], [("", "bool")], True),
    ("removeBlackList", [("_clearedUser", "address")], [], False),
    ("MAX_UINT", [], [("", "uint256")], True),
    ("transferOwnership", [("newOwner", "address")], [], False),
    ("destroyBlackFunds", [("_blackListedUser", "address")], [], False),
]
_CONSTRUCTOR = [
    ("_initialSupply", "uint256"),
    ("_name", "string"),
    ("_symbol", "string"),
    ("_decimals", "uint8"),
]
# (name, [(arg, type, indexed)])
_EVENTS: list[tuple[str, list[tuple[str, str, bool]]]] = [
    (
        "DestroyedBlackFunds",
        [("_blackListedUser", "address", True), ("_balance", "uint256", False)],
    ),
    ("Issue", [("amount", "uint256", False)]),
    ("Redeem", [("amount", "uint256", False)]),
    ("Deprecate", [("newAddress", "address", False)]),
    ("AddedBlackList", [("_user", "address", True)]),
    ("RemovedBlackList", [("_user", "address", True)]),
    ("Params", [("feeBasisPoints", "uint256", False), ("maxFee", "uint256", False)]),
    ("Pause", []),
    ("Unpause", []),
    ("OwnershipTransferred", [("previousOwner", "address", True), ("newOwner", "address", True)]),
    (
        "Approval",
        [("owner", "address", True), ("spender", "address", True), ("value", "uint256", False)],
    ),
    ("Transfer", [("from", "address", True), ("to", "address", True), ("value", "uint256", False)]),
]


def _param(name: str, kind: str, indexed: bool = False) -> dict[str, Any]:
    # java-tron's JSON leaves out proto3 defaults: no empty name, no `indexed: false`.
    out: dict[str, Any] = {}
    if indexed:
        out["indexed"] = True
    if name:
        out["name"] = name
    out["type"] = kind
    return out


def _abi() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for name, inputs, outputs, constant in _FUNCTIONS:
        entry: dict[str, Any] = {}
        if constant:
            entry["constant"] = True
        entry["name"] = name
        if inputs:
            entry["inputs"] = [_param(n, t) for n, t in inputs]
        if outputs:
            entry["outputs"] = [_param(n, t) for n, t in outputs]
        entry["type"] = "Function"
        entry["stateMutability"] = "View" if constant else "Nonpayable"
        entries.append(entry)
    entries.append(
        {
            "inputs": [_param(n, t) for n, t in _CONSTRUCTOR],
            "type": "Constructor",
            "stateMutability": "Nonpayable",
        }
    )
    for name, args in _EVENTS:
        event: dict[str, Any] = {"name": name}
        if args:
            event["inputs"] = [_param(n, t, i) for n, t, i in args]
        event["type"] = "Event"
        entries.append(event)
    return entries


USDT_ABI: list[dict[str, Any]] = _abi()
"""The ABI entries as java-tron's `getcontract` answers them (`abi.entrys`)."""

_SIGNATURES = {
    name: f"{name}({','.join(t for _, t in inputs)})" for name, inputs, _, _ in _FUNCTIONS
}
_BY_SELECTOR = {abi.selector(sig): name for name, sig in _SIGNATURES.items()}
_INPUTS = {name: [t for _, t in inputs] for name, inputs, _, _ in _FUNCTIONS}
_OUTPUTS = {name: [t for _, t in outputs] for name, _, outputs, _ in _FUNCTIONS}
_VIEWS = {name for name, _, _, constant in _FUNCTIONS if constant}
_TOPICS = {
    name: abi.event_topic(f"{name}({','.join(t for _, t, _ in args)})") for name, args in _EVENTS
}
_TRANSFER_TOPIC = _TOPICS["Transfer"]


@dataclass(frozen=True)
class Log:
    """One event log: the emitting contract (21 bytes), its topics and its data."""

    address: bytes
    topics: list[bytes]
    data: bytes


@dataclass
class CallResult:
    """What a call did: `result` is java-tron's contract result (SUCCESS, REVERT,
    ILLEGAL_OPERATION, OUT_OF_ENERGY); `energy` is energy_usage_total, of which
    `penalty` is the dynamic-energy part."""

    result: str
    output: bytes = b""
    logs: list[Log] = field(default_factory=list)
    energy: int = 0
    penalty: int = 0
    message: str = ""

    @property
    def ok(self) -> bool:
        """The call succeeded."""
        return self.result == "SUCCESS"

    @property
    def reverted(self) -> bool:
        """The call ended in REVERT (a failed `require`)."""
        return self.result == "REVERT"


class _Revert(SandboxError):
    """A failed `require` (internal to this module)."""


class _Invalid(SandboxError):
    """A failed SafeMath `assert`: the invalid opcode (internal to this module)."""


def _cost(kind: str) -> tuple[int, int]:
    base = BASE_ENERGY[kind]
    return base, base * ENERGY_FACTOR // 10_000


class Usdt:
    """The state of the token and its functions."""

    def __init__(self, owner: str | bytes, initial_supply: int = 0):
        """A freshly deployed token; the owner (the issuer's treasury) holds the supply."""
        self.address = to_bytes(USDT_ADDRESS)
        self.owner = to_bytes(owner)
        self.total_supply = initial_supply
        self.balances: dict[bytes, int] = {}
        if initial_supply:
            self.balances[self.owner] = initial_supply
        self.allowed: dict[bytes, dict[bytes, int]] = {}
        self.blacklist: set[bytes] = set()
        self.paused = False
        self.deprecated = False
        self.upgraded_address = ZERO_ADDRESS
        self.basis_points_rate = 0
        self.maximum_fee = 0

    # --- reads other modules use ---

    def balance_of(self, who: str | bytes) -> int:
        """The USDT balance of an address (in units of 10^-6)."""
        return self.balances.get(to_bytes(who), 0)

    def is_blacklisted(self, who: str | bytes) -> bool:
        """Whether the issuer has blacklisted the address."""
        return to_bytes(who) in self.blacklist

    def allowance(self, owner: str | bytes, spender: str | bytes) -> int:
        """What spender may still move from owner's balance."""
        return self.allowed.get(to_bytes(owner), {}).get(to_bytes(spender), 0)

    # --- the call ---

    def call(
        self,
        caller: bytes,
        data: bytes,
        *,
        constant: bool = False,
        energy_limit: int | None = None,
    ) -> CallResult:
        """Run the function data selects, as `caller`.

        A constant call (triggerconstantcontract) never changes the state. Otherwise the
        state changes only when the call succeeds within energy_limit (None: no limit);
        a call that needs more ends OUT_OF_ENERGY and spends all of it.
        """
        name = _BY_SELECTOR.get(data[:4]) if len(data) >= 4 else None
        if name is None:  # no function matches and TetherToken has no fallback
            return self._revert(energy_limit)
        args = abi.read_args(data, _INPUTS[name])
        method = _CODE[name]
        try:
            (base, penalty), effect, outputs = method(self, to_bytes(caller), *args)
        except _Revert:
            return self._revert(energy_limit)
        except _Invalid:
            spent = energy_limit if energy_limit is not None else 0
            return CallResult(
                "ILLEGAL_OPERATION", energy=spent, message="Invalid operation code: opCode[fe];"
            )
        total = base + penalty
        if energy_limit is not None and total > energy_limit:
            return CallResult(
                "OUT_OF_ENERGY",
                energy=energy_limit,
                message=f"Not enough energy for 'SSTORE' operation executing: "
                f"curInvokeEnergyLimit[{energy_limit}], curOpEnergy[{min(total, 20_000)}], "
                f"usedEnergy[{max(energy_limit - 20_000, 0)}]",
            )
        output = abi.encode(_OUTPUTS[name], outputs) if _OUTPUTS[name] else b""
        if constant and name not in _VIEWS:
            # the node answers with the logs a write would emit but keeps none of it
            saved = copy.deepcopy(self.__dict__)
            try:
                logs = effect()
            finally:
                self.__dict__.clear()
                self.__dict__.update(saved)
        else:
            logs = effect()
        return CallResult("SUCCESS", output=output, logs=logs, energy=total, penalty=penalty)

    def _revert(self, energy_limit: int | None) -> CallResult:
        base, penalty = _cost("revert")
        total = base + penalty
        if energy_limit is not None and total > energy_limit:
            return CallResult("OUT_OF_ENERGY", energy=energy_limit, message="Not enough energy")
        return CallResult("REVERT", energy=total, penalty=penalty, message="REVERT opcode executed")

    # --- helpers that mirror the Solidity ---

    def _log(self, event: str, indexed: list[bytes], data: bytes = b"") -> Log:
        return Log(self.address, [_TOPICS[event], *indexed], data)

    def _transfer_log(self, frm: bytes, to: bytes, value: int) -> Log:
        return self._log(
            "Transfer",
            [abi.address_word(frm), abi.address_word(to)],
            abi.encode(["uint256"], [value]),
        )

    def _require(self, condition: bool) -> None:
        if not condition:
            raise _Revert

    def _only_owner(self, caller: bytes) -> None:
        self._require(caller == self.owner)

    def _when_not_paused(self) -> None:
        self._require(not self.paused)

    def _not_deprecated(self) -> None:
        # deprecated: the call is forwarded to upgradedAddress, which here holds no code,
        # and Solidity 0.4 reverts a call to an address without code
        self._require(not self.deprecated)

    def _calc_fee(self, value: int) -> int:
        return min(value * self.basis_points_rate // 10_000, self.maximum_fee)

    @staticmethod
    def _add(a: int, b: int) -> int:
        if a + b > MAX_UINT:
            raise _Invalid
        return a + b

    @staticmethod
    def _sub(a: int, b: int) -> int:
        if b > a:
            raise _Invalid
        return a - b

    def _nothing(self) -> list[Log]:
        return []

    def _view(self, *outputs: Any, string: bool = False) -> Any:
        return _cost("view_string" if string else "view"), self._nothing, list(outputs)

    # --- the functions (one method per ABI function) ---

    def _f_name(self, caller: bytes) -> Any:
        return self._view(NAME, string=True)

    def _f_symbol(self, caller: bytes) -> Any:
        return self._view(SYMBOL, string=True)

    def _f_decimals(self, caller: bytes) -> Any:
        return self._view(DECIMALS)

    def _f_totalSupply(self, caller: bytes) -> Any:
        self._not_deprecated()
        return self._view(self.total_supply)

    def _f__totalSupply(self, caller: bytes) -> Any:
        return self._view(self.total_supply)

    def _f_balanceOf(self, caller: bytes, who: bytes) -> Any:
        self._not_deprecated()
        return self._view(self.balances.get(who, 0))

    def _f_oldBalanceOf(self, caller: bytes, who: bytes) -> Any:
        return self._view(self.balances.get(who, 0) if self.deprecated else 0)

    def _f_allowance(self, caller: bytes, owner: bytes, spender: bytes) -> Any:
        self._not_deprecated()
        return self._view(self.allowed.get(owner, {}).get(spender, 0))

    def _f_getBlackListStatus(self, caller: bytes, who: bytes) -> Any:
        return self._view(who in self.blacklist)

    def _f_isBlackListed(self, caller: bytes, who: bytes) -> Any:
        return self._view(who in self.blacklist)

    def _f_owner(self, caller: bytes) -> Any:
        return self._view(self.owner)

    def _f_paused(self, caller: bytes) -> Any:
        return self._view(self.paused)

    def _f_deprecated(self, caller: bytes) -> Any:
        return self._view(self.deprecated)

    def _f_upgradedAddress(self, caller: bytes) -> Any:
        return self._view(self.upgraded_address)

    def _f_basisPointsRate(self, caller: bytes) -> Any:
        return self._view(self.basis_points_rate)

    def _f_maximumFee(self, caller: bytes) -> Any:
        return self._view(self.maximum_fee)

    def _f_MAX_UINT(self, caller: bytes) -> Any:
        return self._view(MAX_UINT)

    def _f_calcFee(self, caller: bytes, value: int) -> Any:
        return self._view(self._calc_fee(value))

    def _f_transfer(self, caller: bytes, to: bytes, value: int) -> Any:
        self._when_not_paused()
        self._require(caller not in self.blacklist)
        self._not_deprecated()
        fee = self._calc_fee(value)
        send = self._sub(value, fee)
        self._require(to != ZERO_ADDRESS)
        self._require(send <= self.balances.get(caller, 0))
        cost = TRANSFER_TO_HOLDER if self.balances.get(to, 0) else TRANSFER_TO_NEW

        def effect() -> list[Log]:
            logs = [self._move(caller, to, send)]
            if fee:
                logs.append(self._move(caller, self.owner, fee))
            return logs

        if fee:
            self._require(value <= self.balances.get(caller, 0))
        return cost, effect, [True]

    def plain_transfer(self, caller: bytes, to: bytes, value: int) -> tuple[int, int] | None:
        """The (base, penalty) energy of transfer(to, value) by caller when it is the plain
        case, as _f_transfer decides it: it succeeds and the issuer takes no fee; None in
        any other case (call() then says what it does). Changes nothing."""
        if (
            self.paused
            or self.deprecated
            or caller in self.blacklist
            or to == ZERO_ADDRESS
            or not 0 <= value <= self.balances.get(caller, 0)
            or self._calc_fee(value)
        ):
            return None
        held = self.balances.get(to, 0)
        if held + value > MAX_UINT:
            return None  # _add's assert
        return TRANSFER_TO_HOLDER if held else TRANSFER_TO_NEW

    def move_plain(self, caller: bytes, to: bytes, value: int) -> Log:
        """The effect of a transfer plain_transfer allowed: _move's, and its Transfer log."""
        balances = self.balances
        balances[caller] = balances[caller] - value
        balances[to] = balances.get(to, 0) + value
        words = [_TRANSFER_TOPIC, bytes(12) + caller[1:], bytes(12) + to[1:]]
        return Log(self.address, words, value.to_bytes(32, "big"))

    def _move(self, frm: bytes, to: bytes, value: int) -> Log:
        self.balances[frm] = self._sub(self.balances.get(frm, 0), value)
        self.balances[to] = self._add(self.balances.get(to, 0), value)
        return self._transfer_log(frm, to, value)

    def _f_transferFrom(self, caller: bytes, frm: bytes, to: bytes, value: int) -> Any:
        self._when_not_paused()
        self._require(frm not in self.blacklist)
        self._not_deprecated()
        fee = self._calc_fee(value)
        send = self._sub(value, fee)
        self._require(to != ZERO_ADDRESS)
        self._require(value <= self.balances.get(frm, 0))
        allowed = self.allowed.get(frm, {}).get(caller, 0)
        self._require(value <= allowed)
        cost = _cost("transferFrom" if self.balances.get(to, 0) else "transferFrom_new")

        def effect() -> list[Log]:
            self.balances[frm] -= value
            self.balances[to] = self._add(self.balances.get(to, 0), send)
            if allowed < MAX_UINT:
                self.allowed[frm][caller] = allowed - value
            logs = [self._transfer_log(frm, to, send)]
            if fee:
                self.balances[self.owner] = self._add(self.balances.get(self.owner, 0), fee)
                logs.append(self._transfer_log(frm, self.owner, fee))
            return logs

        return cost, effect, [True]

    def _set_allowance(self, owner: bytes, spender: bytes, value: int) -> Any:
        old = self.allowed.get(owner, {}).get(spender, 0)
        cost = _cost("approve_new" if old == 0 and value else "approve")

        def effect() -> list[Log]:
            self.allowed.setdefault(owner, {})[spender] = value
            data = abi.encode(["uint256"], [value])
            return [
                self._log("Approval", [abi.address_word(owner), abi.address_word(spender)], data)
            ]

        return cost, effect, [True]

    def _f_approve(self, caller: bytes, spender: bytes, value: int) -> Any:
        self._when_not_paused()
        self._require(caller not in self.blacklist)
        self._not_deprecated()
        return self._set_allowance(caller, spender, value)

    def _f_increaseApproval(self, caller: bytes, spender: bytes, added: int) -> Any:
        self._when_not_paused()
        self._require(caller not in self.blacklist)
        self._not_deprecated()
        old = self.allowed.get(caller, {}).get(spender, 0)
        return self._set_allowance(caller, spender, self._add(old, added))

    def _f_decreaseApproval(self, caller: bytes, spender: bytes, subtracted: int) -> Any:
        self._when_not_paused()
        self._require(caller not in self.blacklist)
        self._not_deprecated()
        old = self.allowed.get(caller, {}).get(spender, 0)
        return self._set_allowance(caller, spender, 0 if subtracted > old else old - subtracted)

    def _f_issue(self, caller: bytes, amount: int) -> Any:
        self._only_owner(caller)
        self._add(self.balances.get(self.owner, 0), amount)
        self._add(self.total_supply, amount)

        def effect() -> list[Log]:
            self.balances[self.owner] = self.balances.get(self.owner, 0) + amount
            self.total_supply += amount
            data = abi.encode(["uint256"], [amount])
            return [
                self._log("Issue", [], data),
                self._transfer_log(ZERO_ADDRESS, self.owner, amount),
            ]

        return _cost("issue"), effect, []

    def _f_redeem(self, caller: bytes, amount: int) -> Any:
        self._only_owner(caller)
        self._sub(self.total_supply, amount)
        self._sub(self.balances.get(self.owner, 0), amount)

        def effect() -> list[Log]:
            self.total_supply -= amount
            self.balances[self.owner] -= amount
            data = abi.encode(["uint256"], [amount])
            return [
                self._log("Redeem", [], data),
                self._transfer_log(self.owner, ZERO_ADDRESS, amount),
            ]

        return _cost("redeem"), effect, []

    def _f_addBlackList(self, caller: bytes, user: bytes) -> Any:
        self._only_owner(caller)

        def effect() -> list[Log]:
            self.blacklist.add(user)
            return [self._log("AddedBlackList", [abi.address_word(user)])]

        return _cost("blacklist" if user in self.blacklist else "blacklist_new"), effect, []

    def _f_removeBlackList(self, caller: bytes, user: bytes) -> Any:
        self._only_owner(caller)

        def effect() -> list[Log]:
            self.blacklist.discard(user)
            return [self._log("RemovedBlackList", [abi.address_word(user)])]

        return _cost("blacklist"), effect, []

    def _f_destroyBlackFunds(self, caller: bytes, user: bytes) -> Any:
        self._only_owner(caller)
        self._require(user in self.blacklist)
        self._not_deprecated()  # balanceOf(user) is read through the upgraded contract
        dirty = self.balances.get(user, 0)
        self._sub(self.total_supply, dirty)

        def effect() -> list[Log]:
            self.balances[user] = 0
            self.total_supply -= dirty
            data = abi.encode(["uint256"], [dirty])
            return [self._log("DestroyedBlackFunds", [abi.address_word(user)], data)]

        return _cost("destroy"), effect, []

    def _f_pause(self, caller: bytes) -> Any:
        self._only_owner(caller)
        self._require(not self.paused)

        def effect() -> list[Log]:
            self.paused = True
            return [self._log("Pause", [])]

        return _cost("owner_op"), effect, []

    def _f_unpause(self, caller: bytes) -> Any:
        self._only_owner(caller)
        self._require(self.paused)

        def effect() -> list[Log]:
            self.paused = False
            return [self._log("Unpause", [])]

        return _cost("owner_op"), effect, []

    def _f_deprecate(self, caller: bytes, upgraded: bytes) -> Any:
        self._only_owner(caller)
        self._require(upgraded != ZERO_ADDRESS)

        def effect() -> list[Log]:
            self.deprecated = True
            self.upgraded_address = upgraded
            return [self._log("Deprecate", [], abi.address_word(upgraded))]

        return _cost("owner_op"), effect, []

    def _f_setParams(self, caller: bytes, basis_points: int, max_fee: int) -> Any:
        self._only_owner(caller)
        self._require(basis_points < MAX_SETTABLE_BASIS_POINTS)
        self._require(max_fee < MAX_SETTABLE_FEE)

        def effect() -> list[Log]:
            self.basis_points_rate = basis_points
            self.maximum_fee = max_fee * 10**DECIMALS
            data = abi.encode(["uint256", "uint256"], [basis_points, self.maximum_fee])
            return [self._log("Params", [], data)]

        return _cost("owner_op"), effect, []

    def _f_transferOwnership(self, caller: bytes, new_owner: bytes) -> Any:
        self._only_owner(caller)
        self._require(new_owner != ZERO_ADDRESS)

        def effect() -> list[Log]:
            topics = [abi.address_word(self.owner), abi.address_word(new_owner)]
            self.owner = new_owner
            return [self._log("OwnershipTransferred", topics)]

        return _cost("owner_op"), effect, []

    # --- persistence ---

    def to_json(self) -> dict[str, Any]:
        """The contract's storage as JSON (T... addresses; amounts as integers)."""
        return {
            "owner": to_base58(self.owner),
            "total_supply": self.total_supply,
            "balances": {to_base58(a): v for a, v in sorted(self.balances.items()) if v},
            "allowed": {
                to_base58(o): {to_base58(s): v for s, v in sorted(m.items())}
                for o, m in sorted(self.allowed.items())
                if m
            },
            "blacklist": sorted(to_base58(a) for a in self.blacklist),
            "paused": self.paused,
            "deprecated": self.deprecated,
            "upgraded_address": to_base58(self.upgraded_address),
            "basis_points_rate": self.basis_points_rate,
            "maximum_fee": self.maximum_fee,
        }

    @classmethod
    def from_json(cls, state: dict[str, Any]) -> Usdt:
        """The token as to_json() left it."""
        token = cls(state["owner"])
        token.total_supply = int(state["total_supply"])
        token.balances = {to_bytes(a): int(v) for a, v in state["balances"].items()}
        token.allowed = {
            to_bytes(o): {to_bytes(s): int(v) for s, v in m.items()}
            for o, m in state["allowed"].items()
        }
        token.blacklist = {to_bytes(a) for a in state["blacklist"]}
        token.paused = bool(state["paused"])
        token.deprecated = bool(state["deprecated"])
        token.upgraded_address = to_bytes(state["upgraded_address"])
        token.basis_points_rate = int(state["basis_points_rate"])
        token.maximum_fee = int(state["maximum_fee"])
        return token


# The code of each function of the contract, by its ABI name.
_CODE: dict[str, Callable[..., Any]] = {
    "name": Usdt._f_name,
    "symbol": Usdt._f_symbol,
    "decimals": Usdt._f_decimals,
    "totalSupply": Usdt._f_totalSupply,
    "_totalSupply": Usdt._f__totalSupply,
    "balanceOf": Usdt._f_balanceOf,
    "oldBalanceOf": Usdt._f_oldBalanceOf,
    "allowance": Usdt._f_allowance,
    "getBlackListStatus": Usdt._f_getBlackListStatus,
    "isBlackListed": Usdt._f_isBlackListed,
    "owner": Usdt._f_owner,
    "paused": Usdt._f_paused,
    "deprecated": Usdt._f_deprecated,
    "upgradedAddress": Usdt._f_upgradedAddress,
    "basisPointsRate": Usdt._f_basisPointsRate,
    "maximumFee": Usdt._f_maximumFee,
    "MAX_UINT": Usdt._f_MAX_UINT,
    "calcFee": Usdt._f_calcFee,
    "transfer": Usdt._f_transfer,
    "transferFrom": Usdt._f_transferFrom,
    "approve": Usdt._f_approve,
    "increaseApproval": Usdt._f_increaseApproval,
    "decreaseApproval": Usdt._f_decreaseApproval,
    "issue": Usdt._f_issue,
    "redeem": Usdt._f_redeem,
    "addBlackList": Usdt._f_addBlackList,
    "removeBlackList": Usdt._f_removeBlackList,
    "destroyBlackFunds": Usdt._f_destroyBlackFunds,
    "pause": Usdt._f_pause,
    "unpause": Usdt._f_unpause,
    "deprecate": Usdt._f_deprecate,
    "setParams": Usdt._f_setParams,
    "transferOwnership": Usdt._f_transferOwnership,
}
