"""The Tron executor: USDT's calls, logs and energy, TRX transfers, activation,
bandwidth and energy payment, broadcast checks and snapshots (sandbox.tron.state)."""

from __future__ import annotations

import eth_abi
import pytest
from tronpy.abi import trx_abi
from tronpy.contract import Contract

from sandbox.tron import abi
from sandbox.tron.address import from_public_key, to_base58
from sandbox.tron.errors import TronRejected
from sandbox.tron.hashes import keccak256
from sandbox.tron.resources import SUN_PER_TRX, WINDOW_SLOTS, increase
from sandbox.tron.state import TronState
from sandbox.tron.usdt import USDT_ABI, USDT_ADDRESS, ZERO_ADDRESS

GENESIS = 1_700_000_000_000
TX_SIZE = 204  # a signed TRX transfer: bandwidth 268 with the 64-byte result
USDT_TX_SIZE = 281  # a signed USDT transfer: bandwidth 345


def addr(n: int) -> bytes:
    """A real address (from the public key of secret n)."""
    from coincurve import PrivateKey

    return from_public_key(PrivateKey(n.to_bytes(32, "big")).public_key.format(compressed=False))


ISSUER, ALICE, BOB, CAROL = addr(1), addr(2), addr(3), addr(4)


def tron_contract() -> Contract:
    return Contract(USDT_ADDRESS, abi=USDT_ABI)


def encode_call(name: str, *args: object) -> bytes:
    """Call data exactly as tronpy builds it (selector + its own ABI encoder)."""
    method = tron_contract().functions[name]
    body = method._prepare_parameter(*args) if args else ""
    return bytes.fromhex(method.function_signature_hash) + bytes.fromhex(body)


def decode_output(name: str, output: bytes) -> object:
    return tron_contract().functions[name].parse_output(output.hex())


class Chain:
    """A state with a block clock; send() applies transactions in successive blocks."""

    def __init__(self) -> None:
        self.state = TronState(genesis_ms=GENESIS, usdt_owner=ISSUER)
        self.number = 0
        for a in (ISSUER, ALICE):
            self.state.credit_genesis(a, 10_000 * SUN_PER_TRX)

    def now(self) -> int:
        return GENESIS + self.number * 3000

    def send(
        self, owner: bytes, kind: str, value: dict, *, fee_limit: int = 0, size: int = TX_SIZE
    ):
        self.number += 1
        value = {"owner_address": owner.hex(), **value}
        return self.state.apply(
            owner,
            kind,
            value,
            txid=f"{self.number:064x}",
            tx_size=size,
            block_number=self.number,
            timestamp_ms=self.now(),
            fee_limit=fee_limit,
        )

    def call(self, owner: bytes, name: str, *args: object, fee_limit: int = 100 * SUN_PER_TRX):
        data = encode_call(name, *args)
        value = {"contract_address": abi.address_word(USDT_ADDRESS)[12:].hex(), "data": data.hex()}
        value["contract_address"] = "41" + value["contract_address"]
        return self.send(
            owner, "TriggerSmartContract", value, fee_limit=fee_limit, size=USDT_TX_SIZE
        )

    def view(self, name: str, *args: object) -> object:
        result = self.state.constant_call(ALICE, USDT_ADDRESS, encode_call(name, *args))
        assert result.ok
        return decode_output(name, result.output)

    def supply_conserved(self) -> None:
        usdt = self.state.usdt
        assert sum(usdt.balances.values()) == usdt.total_supply == self.view("totalSupply")


@pytest.fixture
def chain() -> Chain:
    c = Chain()
    r = c.call(ISSUER, "issue", 1_000_000 * 10**6)
    assert r.result == "SUCCESS"
    return c


def test_selectors_and_topics_are_keccak_of_the_signatures():
    assert abi.selector("transfer(address,uint256)").hex() == "a9059cbb"
    assert abi.selector("balanceOf(address)").hex() == "70a08231"
    assert (
        abi.event_topic("Transfer(address,address,uint256)").hex()
        == "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
    )
    assert abi.event_topic("AddedBlackList(address)") == keccak256(b"AddedBlackList(address)")


def test_constant_calls_decode_with_tronpy(chain: Chain):
    assert chain.view("name") == "Tether USD"
    assert chain.view("symbol") == "USDT"
    assert chain.view("decimals") == 6
    assert chain.view("totalSupply") == 1_000_000 * 10**6
    assert chain.view("balanceOf", to_base58(ISSUER)) == 1_000_000 * 10**6
    assert chain.view("balanceOf", to_base58(BOB)) == 0
    assert chain.view("owner") == to_base58(ISSUER)
    assert chain.view("isBlackListed", to_base58(BOB)) is False
    assert chain.view("getBlackListStatus", to_base58(BOB)) is False
    # the same bytes through plain eth-abi
    out = chain.state.constant_call(BOB, USDT_ADDRESS, encode_call("balanceOf", to_base58(ISSUER)))
    assert eth_abi.decode(["uint256"], out.output) == (10**12,)


def test_abi_entries_are_java_tron_shaped():
    names = {e.get("name") for e in USDT_ABI if e["type"] == "Function"}
    assert {"transfer", "transferFrom", "approve", "issue", "redeem", "destroyBlackFunds"} <= names
    transfer = next(e for e in USDT_ABI if e.get("name") == "transfer")
    assert transfer == {
        "name": "transfer",
        "inputs": [{"name": "_to", "type": "address"}, {"name": "_value", "type": "uint256"}],
        "outputs": [{"type": "bool"}],
        "type": "Function",
        "stateMutability": "Nonpayable",
    }
    destroyed = next(e for e in USDT_ABI if e.get("name") == "DestroyedBlackFunds")
    assert destroyed["inputs"][0] == {
        "indexed": True,
        "name": "_blackListedUser",
        "type": "address",
    }


def test_transfer_logs_and_energy(chain: Chain):
    first = chain.call(ISSUER, "transfer", to_base58(BOB), 500 * 10**6)
    assert first.result == "SUCCESS" and first.energy_usage_total == 130_285
    assert first.energy_penalty_total == 100_635
    assert trx_abi.decode_single("(bool)", first.contract_result) == (True,)
    info = first.to_json()
    [log] = info["log"]
    assert log["address"] == "a614f803b6fd780986a42c78ec9c7f77e6ded13c"
    event = tron_contract().events.Transfer.get_event_data(
        {"address": USDT_ADDRESS, "topics": log["topics"], "data": log["data"]}
    )
    assert event["args"] == {"from": to_base58(ISSUER), "to": to_base58(BOB), "value": 500 * 10**6}
    second = chain.call(ISSUER, "transfer", to_base58(BOB), 1)
    assert second.energy_usage_total == 64_285
    # no staked energy: all of it burned at the energy price
    assert second.energy_fee == 64_285 * chain.state.params["getEnergyFee"]
    assert chain.state.account(BOB) is None  # USDT does not activate an address
    chain.supply_conserved()


def test_blacklisted_sender_reverts_and_pays_energy(chain: Chain):
    chain.call(ISSUER, "transfer", to_base58(ALICE), 100 * 10**6)
    listed = chain.call(ISSUER, "addBlackList", to_base58(ALICE))
    topics = [t.hex() for t in listed.logs[0].topics]
    assert topics == [
        abi.event_topic("AddedBlackList(address)").hex(),
        abi.address_word(ALICE).hex(),
    ]
    assert chain.view("isBlackListed", to_base58(ALICE)) is True
    before = chain.state.account(ALICE).balance
    r = chain.call(ALICE, "transfer", to_base58(BOB), 1)
    assert r.result == "REVERT" and r.failed and r.logs == []
    assert r.energy_usage_total > 0 and r.energy_fee == r.energy_usage_total * 100
    info = r.to_json()
    assert info["result"] == "FAILED"
    assert bytes.fromhex(info["resMessage"]) == b"REVERT opcode executed"
    assert info["receipt"]["result"] == "REVERT" and info["contractResult"] == [""]
    assert chain.state.account(ALICE).balance == before - r.fee
    assert chain.state.usdt.balance_of(ALICE) == 100 * 10**6
    # the issuer destroys the funds: supply falls with them
    destroyed = chain.call(ISSUER, "destroyBlackFunds", to_base58(ALICE))
    assert destroyed.result == "SUCCESS"
    assert eth_abi.decode(["uint256"], destroyed.logs[0].data) == (100 * 10**6,)
    assert chain.state.usdt.balance_of(ALICE) == 0
    chain.supply_conserved()
    chain.call(ISSUER, "removeBlackList", to_base58(ALICE))
    assert chain.view("getBlackListStatus", to_base58(ALICE)) is False


def test_issue_redeem_and_owner_only(chain: Chain):
    supply = chain.view("totalSupply")
    r = chain.call(ISSUER, "redeem", 10 * 10**6)
    assert [log.topics[0] for log in r.logs] == [
        abi.event_topic("Redeem(uint256)"),
        abi.event_topic("Transfer(address,address,uint256)"),
    ]
    assert r.logs[1].topics[2] == abi.address_word(ZERO_ADDRESS)
    assert chain.view("totalSupply") == supply - 10 * 10**6
    assert chain.call(ALICE, "issue", 5).result == "REVERT"
    # more than the treasury holds: SafeMath's assert spends all the energy given
    too_much = chain.call(ISSUER, "redeem", 10**30, fee_limit=5 * SUN_PER_TRX)
    assert too_much.result == "ILLEGAL_OPERATION"
    assert too_much.energy_usage_total == 5 * SUN_PER_TRX // 100
    chain.supply_conserved()


def test_allowance_flow(chain: Chain):
    chain.call(ISSUER, "transfer", to_base58(ALICE), 1_000 * 10**6)
    approved = chain.call(ALICE, "approve", to_base58(ISSUER), 300 * 10**6)
    assert approved.logs[0].topics[0] == abi.event_topic("Approval(address,address,uint256)")
    assert chain.view("allowance", to_base58(ALICE), to_base58(ISSUER)) == 300 * 10**6
    over = chain.call(ISSUER, "transferFrom", to_base58(ALICE), to_base58(CAROL), 301 * 10**6)
    assert over.result == "REVERT"
    ok = chain.call(ISSUER, "transferFrom", to_base58(ALICE), to_base58(CAROL), 200 * 10**6)
    assert ok.result == "SUCCESS"
    assert chain.view("allowance", to_base58(ALICE), to_base58(ISSUER)) == 100 * 10**6
    assert chain.view("balanceOf", to_base58(CAROL)) == 200 * 10**6
    chain.supply_conserved()


def test_trx_transfer_activates_and_records_first_funder(chain: Chain):
    before = chain.state.account(ALICE).balance
    r = chain.send(ALICE, "TransferContract", {"to_address": BOB.hex(), "amount": 5 * SUN_PER_TRX})
    bob = chain.state.account(BOB)
    assert bob is not None and bob.activated_by == ALICE and bob.create_time == chain.now()
    # 1 TRX to create the account + 0.1 TRX for the bandwidth of a creating transaction
    assert r.fee == 1_100_000 and r.net_fee == 100_000 and r.activated == BOB
    assert chain.state.account(ALICE).balance == before - 5 * SUN_PER_TRX - 1_100_000
    second = chain.send(ALICE, "TransferContract", {"to_address": BOB.hex(), "amount": 1})
    assert second.fee == 0 and second.net_usage == TX_SIZE + 64
    assert chain.state.account(BOB).activated_by == ALICE  # the first funder stays


def test_free_bandwidth_then_burned_trx(chain: Chain):
    chain.send(ALICE, "TransferContract", {"to_address": BOB.hex(), "amount": 10 * SUN_PER_TRX})
    points = TX_SIZE + 64
    fees = [
        chain.send(BOB, "TransferContract", {"to_address": ALICE.hex(), "amount": 1})
        for _ in range(3)
    ]
    # 600 free points a day pay two transfers of 268; the third burns 1000 sun a byte
    assert [r.net_usage for r in fees] == [points, points, 0]
    assert fees[2].net_fee == points * 1000 and fees[2].fee == points * 1000
    # the free allowance recovers over the 24-hour window
    assert increase(600, 0, 0, WINDOW_SLOTS) == 0
    assert increase(600, 0, 0, WINDOW_SLOTS // 2) == 300


def test_energy_from_stake_and_delegation_else_burned(chain: Chain):
    chain.call(ISSUER, "transfer", to_base58(ALICE), 100 * 10**6)
    chain.call(ISSUER, "transfer", to_base58(CAROL), 100 * 10**6)
    frozen = chain.send(
        ALICE,
        "FreezeBalanceV2Contract",
        {"frozen_balance": 8_000 * SUN_PER_TRX, "resource": "ENERGY"},
    )
    assert frozen.fee == 0
    staked = chain.call(ALICE, "transfer", to_base58(CAROL), 1)
    assert staked.energy_usage == 64_285 and staked.energy_fee == 0
    # delegate the stake to the issuer: it pays with Alice's energy, Alice burns TRX
    chain.send(
        ALICE,
        "DelegateResourceContract",
        {"receiver_address": ISSUER.hex(), "balance": 8_000 * SUN_PER_TRX, "resource": "ENERGY"},
    )
    paid = chain.call(ISSUER, "transfer", to_base58(CAROL), 1)
    assert paid.energy_fee == 0 and paid.energy_usage == 64_285
    burned = chain.call(ALICE, "transfer", to_base58(CAROL), 1)
    assert burned.energy_usage == 0 and burned.energy_fee == 64_285 * 100
    resource = chain.state.account_resource(ISSUER, chain.now())
    assert resource["EnergyLimit"] > 64_285 and resource["EnergyUsed"] > 0


def test_check_refuses_with_java_tron_codes(chain: Chain):
    def check(owner: bytes, kind: str, value: dict, **kw: int) -> TronRejected:
        with pytest.raises(TronRejected) as caught:
            chain.state.check(
                owner,
                kind,
                {"owner_address": owner.hex(), **value},
                tx_size=TX_SIZE,
                now_ms=chain.now(),
                **kw,
            )
        return caught.value

    balance = chain.state.account(ALICE).balance
    e = check(ALICE, "TransferContract", {"to_address": BOB.hex(), "amount": balance})
    assert e.code == "CONTRACT_VALIDATE_ERROR"
    assert (
        e.message
        == "Contract validate error : Validate TransferContract error, balance is not sufficient."
    )
    e = check(ALICE, "TransferContract", {"to_address": ALICE.hex(), "amount": 1})
    assert e.message.endswith("Cannot transfer TRX to yourself.")
    e = check(ALICE, "TransferContract", {"to_address": "nonsense", "amount": 1})
    assert e.message.endswith("Invalid toAddress!")
    e = check(BOB, "TransferContract", {"to_address": ALICE.hex(), "amount": 1})
    assert e.message.endswith(f"account [{to_base58(BOB)}] does not exist")
    e = check(
        ALICE, "TriggerSmartContract", {"contract_address": CAROL.hex(), "data": ""}, fee_limit=1
    )
    assert e.message.endswith("No contract or not a smart contract")
    usdt = "41a614f803b6fd780986a42c78ec9c7f77e6ded13c"
    e = check(
        ALICE, "TriggerSmartContract", {"contract_address": usdt, "data": ""}, fee_limit=16 * 10**9
    )
    assert e.message.endswith("feeLimit must be >= 0 and <= 15000000000")
    e = check(ALICE, "FreezeBalanceV2Contract", {"frozen_balance": 10})
    assert e.message.endswith("frozenBalance must be greater than or equal to 1 TRX")
    # nothing changed by the refusals
    assert chain.state.account(ALICE).balance == balance and chain.state.account(BOB) is None
    # a poor account cannot pay for bandwidth once its free allowance is gone
    chain.send(ALICE, "TransferContract", {"to_address": BOB.hex(), "amount": 1_000})
    with pytest.raises(TronRejected) as caught:
        for _ in range(4):
            chain.send(BOB, "TransferContract", {"to_address": ALICE.hex(), "amount": 1})
    assert caught.value.code == "BANDWITH_ERROR"


def test_snapshot_restore_round_trip(chain: Chain):
    chain.call(ISSUER, "transfer", to_base58(ALICE), 50 * 10**6)
    chain.call(ALICE, "approve", to_base58(BOB), 7)
    chain.call(ISSUER, "addBlackList", to_base58(CAROL))
    chain.send(ALICE, "TransferContract", {"to_address": BOB.hex(), "amount": 3 * SUN_PER_TRX})
    chain.send(
        ALICE, "FreezeBalanceV2Contract", {"frozen_balance": 5 * SUN_PER_TRX, "resource": "ENERGY"}
    )
    chain.send(
        ALICE,
        "DelegateResourceContract",
        {"receiver_address": BOB.hex(), "balance": 2 * SUN_PER_TRX, "resource": "ENERGY"},
    )
    rows = chain.state.snapshot()
    again = TronState.restore(*rows, genesis_ms=GENESIS)
    assert again.snapshot() == rows
    assert again.usdt.allowance(ALICE, BOB) == 7 and again.usdt.is_blacklisted(CAROL)
    assert again.account(BOB).acquired["ENERGY"] == 2 * SUN_PER_TRX
    assert again.total_weight("ENERGY") == chain.state.total_weight("ENERGY")


def test_constant_call_of_a_write_keeps_nothing(chain: Chain):
    data = encode_call("transfer", to_base58(BOB), 5)
    result = chain.state.constant_call(ISSUER, USDT_ADDRESS, data)
    assert result.ok and result.energy == 130_285 and len(result.logs) == 1
    assert chain.state.usdt.balance_of(BOB) == 0
    chain.supply_conserved()
    with pytest.raises(TronRejected) as caught:
        chain.state.constant_call(ISSUER, CAROL, data)
    assert caught.value.code == "CONTRACT_VALIDATE_ERROR"


def _twin_states() -> tuple[TronState, TronState]:
    """Two equal states: the issuer, users with TRX and USDT, one with staked energy."""
    twins = []
    for _ in range(2):
        c = Chain()
        for who in (BOB, CAROL):
            c.send(ISSUER, "TransferContract", {"to_address": who.hex(), "amount": 50 * 10**6})
        c.call(ISSUER, "issue", 10**12)
        for who in (ALICE, BOB):
            c.call(ISSUER, "transfer", to_base58(who), 10**9)
        stake = {"frozen_balance": 1_000 * SUN_PER_TRX, "resource": "ENERGY"}
        c.send(ALICE, "FreezeBalanceV2Contract", stake)
        twins.append(c.state)
    return twins[0], twins[1]


def test_the_fast_usdt_transfer_is_apply_s():
    # apply_usdt_transfer either does what apply() does with the same call (receipt, state)
    # or declines and changes nothing: random transfers, blacklists and fee rates, small
    # and large fee limits, senders without TRX for the energy.
    import copy
    import random

    rng = random.Random(11)
    fast, general = _twin_states()
    people = [ISSUER, ALICE, BOB, CAROL, addr(9)]
    declined = taken = 0
    for n in range(1, 1500):
        owner, to = rng.choice(people), rng.choice(people + [ZERO_ADDRESS])
        amount = rng.choice([0, 1, 10**6, 10**9, 10**10, rng.randrange(10**8)])
        fee_limit = rng.choice([0, 10**6, 30 * 10**6, 100 * 10**6, 2 * 10**10])
        if rng.random() < 0.02:  # the issuer's fee rate, or a blacklisting
            rate, most, listing = rng.choice([0, 10]), rng.choice([0, 10**6]), rng.random()
            for state in (fast, general):
                if listing < 0.5:
                    state.usdt.basis_points_rate, state.usdt.maximum_fee = rate, most
                else:
                    state.usdt.blacklist ^= {CAROL}
        args = dict(tx_size=USDT_TX_SIZE, block_number=n, timestamp_ms=GENESIS + n * 30_000)
        data = abi.selector("transfer(address,uint256)") + bytes(11) + to
        data += amount.to_bytes(32, "big")
        value = {
            "owner_address": owner.hex(),
            "contract_address": "41" + abi.address_word(USDT_ADDRESS)[12:].hex(),
            "data": data.hex(),
        }
        before = copy.deepcopy(fast.__dict__)
        try:
            receipt = fast.apply_usdt_transfer(owner, to, amount, fee_limit=fee_limit, **args)
        except TronRejected as e:
            receipt = e
        if receipt is None:
            declined += 1
            assert fast.snapshot() == TronState.snapshot(_restored(before))
            receipt = _apply_or_reason(fast, owner, value, fee_limit, args)
        else:
            taken += not isinstance(receipt, TronRejected)
        expected = _apply_or_reason(general, owner, value, fee_limit, args)
        if isinstance(expected, TronRejected):
            assert isinstance(receipt, TronRejected) and receipt.args == expected.args
        else:
            assert receipt.to_json() == expected.to_json()
            assert receipt.logs == expected.logs and receipt.fee == expected.fee
        assert fast.snapshot() == general.snapshot()
    assert declined > 100 and taken > 150


def _restored(state_dict: dict) -> TronState:
    state = TronState.__new__(TronState)
    state.__dict__.update(state_dict)
    return state


def _apply_or_reason(state: TronState, owner: bytes, value: dict, fee_limit: int, args: dict):
    try:
        return state.apply(
            owner, "TriggerSmartContract", value, txid="", fee_limit=fee_limit, **args
        )
    except TronRejected as e:
        return e


def test_the_byte_builders_write_raw_after_reference_s_bytes():
    # The build's USDT and TRX transfers are encoded from their bytes; the same bytes as
    # raw_after_reference makes from the JSON value (itself checked against protobuf's).
    import random

    from sandbox.tron import protobuf

    rng = random.Random(5)
    for _ in range(1000):
        owner, target = b"\x41" + rng.randbytes(20), b"\x41" + rng.randbytes(20)
        expiration, timestamp = rng.randrange(1, 2**45), rng.randrange(1, 2**45)
        data = rng.randbytes(rng.choice([1, 4, 36, 68, 127, 128, 300]))
        fee_limit = rng.choice([0, 1, 100_000_000, rng.randrange(2**40)])
        value = {"owner_address": owner.hex(), "contract_address": target.hex(), "data": data.hex()}
        common = protobuf.raw_after_reference(
            "TriggerSmartContract", value, expiration, timestamp, fee_limit
        )
        assert common == (
            protobuf.trigger_after_reference(owner, target, data, expiration, timestamp, fee_limit),
            owner,
        )
        amount = rng.choice([1, 127, 128, 2**40, 2**63 - 1])
        value = {"owner_address": owner.hex(), "to_address": target.hex(), "amount": amount}
        common = protobuf.raw_after_reference("TransferContract", value, expiration, timestamp, 0)
        assert common == (
            protobuf.transfer_after_reference(owner, target, amount, expiration, timestamp),
            owner,
        )
