"""Who holds what on the Tron chain and the services that move it: the issuer's treasury,
exchanges (a deposit address per customer, swept into the hot wallet on energy the
exchange delegates, batched withdrawals), and the payments everyone makes."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from ...errors import SandboxError
from .. import address as tron_address
from ..hashes import keccak256
from ..keys import TronKey, tron_secret
from ..usdt import USDT_ADDRESS
from .chain import Sent, TronChain

SUN = 1_000_000  # sun per TRX; USDT has 6 decimals too
USDT_FEE_LIMIT = 100 * SUN
FEE_RESERVE = (
    20 * SUN
)  # TRX a sender keeps back for the energy a USDT transfer burns (13 TRX to a new holder)
ACTIVATION = 1 * SUN  # what an exchange sends a new deposit address to activate it
DELEGATED = 50_000 * SUN  # staked TRX whose energy an exchange delegates per deposit address
USDT_HEX = tron_address.to_hex(USDT_ADDRESS)


def _selector(signature: str) -> bytes:
    """The 4-byte function selector of a Solidity signature."""
    return keccak256(signature.encode())[:4]


TRANSFER = _selector("transfer(address,uint256)")
ISSUE = _selector("issue(uint256)")
ADD_BLACK_LIST = _selector("addBlackList(address)")
DESTROY_BLACK_FUNDS = _selector("destroyBlackFunds(address)")


class NoFunds(SandboxError):
    """A payer does not hold what a payment needs (yet)."""


@dataclass(eq=False)
class Wallet:
    """One address with its key, and who holds it."""

    key: TronKey
    actor_id: str | None
    kind: str  # personal | deposit | hot | energy | treasury | otc | p2p | donation | peel ...
    purpose: str
    label: str | None = None
    raw: bytes = b""
    hex: str = ""
    text: str = ""

    def __post_init__(self) -> None:
        """Derive the address forms once."""
        self.raw = self.key.address
        self.hex = self.raw.hex()
        self.text = tron_address.to_base58(self.raw)


@dataclass(eq=False)
class Exchange:
    """An exchange's Tron side: hot wallet, energy wallet, customers' deposit addresses."""

    actor_id: str
    hot: Wallet
    energy: Wallet
    deposits: dict[str, Wallet] = field(default_factory=dict)
    queue: list[tuple[Wallet, str, int, Callable[[Sent], None] | None]] = field(
        default_factory=list
    )
    delegated: set[bytes] = field(default_factory=set)


class Economy:
    """Keys, balances and the services' behaviour over one TronChain."""

    def __init__(self, chain: TronChain, seed: int):
        """An economy with no wallet yet, keys derived from seed."""
        self.chain = chain
        self.state = chain.state
        self.seed = seed
        self.wallets: list[Wallet] = []
        self._by_actor: dict[str | None, list[Wallet]] = {}
        self.exchanges: dict[str, Exchange] = {}
        self.activated: dict[bytes, tuple[int, str | None]] = {}
        self.treasury = self.wallet(None, "treasury", "issuer", "Tether: Treasury")
        self._queue: list[tuple[int, int, Callable[[int], None]]] = []
        self._seq = 0
        self._pending_sweep: set[bytes] = set()

    # -- wallets ----------------------------------------------------------------------

    def wallet(
        self, actor_id: str | None, kind: str, purpose: str, label: str | None = None
    ) -> Wallet:
        """A new address with a key derived from the seed and its place in the world."""
        n = len(self.wallets)
        key = TronKey(tron_secret(self.seed, f"{kind}:{actor_id}:{purpose}:{n}"))
        w = Wallet(key, actor_id, kind, purpose, label)
        self.wallets.append(w)
        self._by_actor.setdefault(actor_id, []).append(w)
        return w

    def wallets_of(self, actor_id: str) -> list[Wallet]:
        """Every address made for an actor so far."""
        return list(self._by_actor.get(actor_id, ()))

    def deposit_address(self, exchange_id: str, customer: str) -> Wallet:
        """The customer's own deposit address at an exchange, made at first use."""
        ex = self.exchanges[exchange_id]
        if customer not in ex.deposits:
            ex.deposits[customer] = self.wallet(exchange_id, "deposit", f"deposit:{customer}")
        return ex.deposits[customer]

    def trx(self, w: Wallet) -> int:
        """Sun the address holds (0 when not activated)."""
        account = self.state.accounts.get(w.raw)
        return account.balance if account is not None else 0

    def usdt(self, w: Wallet) -> int:
        """USDT (in 10^-6) the address holds."""
        return self.state.usdt.balances.get(w.raw, 0)

    # -- the clock ----------------------------------------------------------------------

    def at(self, time_ms: int, action: Callable[[int], None]) -> None:
        """Run action(time_ms) when the chain gets there."""
        self._seq += 1
        heapq.heappush(self._queue, (time_ms, self._seq, action))

    def run_until(self, end_ms: int) -> None:
        """Carry out every queued action due by end_ms, in time order."""
        while self._queue and self._queue[0][0] <= end_ms:
            time_ms, _, action = heapq.heappop(self._queue)
            action(time_ms)

    # -- payments -----------------------------------------------------------------------

    def send_trx(self, payer: Wallet, to: Wallet, amount: int, time_ms: int) -> Sent:
        """A TransferContract; NoFunds when the payer lacks amount (plus its bandwidth)."""
        if amount <= 0 or self.trx(payer) < amount + SUN // 2:
            raise NoFunds(f"{payer.text} holds too little TRX")
        sent = self.chain.send_trx(payer.key, payer.raw, to.raw, amount, time_ms)
        if sent is None:
            raise NoFunds(f"{payer.text}: TRX transfer refused")
        if to.raw not in self.activated:
            self.activated[to.raw] = (self.chain.tip_number, payer.text)
        self._deposited(to, time_ms)
        return sent

    def send_usdt(self, payer: Wallet, to: Wallet, amount: int, time_ms: int) -> Sent:
        """A USDT transfer(); NoFunds when the payer lacks the USDT or TRX for the energy."""
        if amount <= 0 or self.usdt(payer) < amount:
            raise NoFunds(f"{payer.text} holds too little USDT")
        if payer.raw not in self.activated and payer is not self.treasury:
            raise NoFunds(f"{payer.text} is not activated")
        if payer.kind != "deposit" and self.trx(payer) < FEE_RESERVE:
            raise NoFunds(f"{payer.text} holds too little TRX for the energy")
        sent = self.chain.send_usdt(payer.key, payer.raw, to.raw, amount, time_ms, USDT_FEE_LIMIT)
        if sent is None or not sent.ok:
            raise NoFunds(f"{payer.text}: USDT call refused {sent}")
        self._deposited(to, time_ms)
        return sent

    def issue(self, amount: int, time_ms: int) -> Sent:
        """The issuer's treasury mints amount USDT to itself."""
        return self._trigger(self.treasury, ISSUE + amount.to_bytes(32, "big"), time_ms)

    def attempt_usdt(self, payer: Wallet, to: Wallet, amount: int, time_ms: int) -> Sent | None:
        """A USDT transfer that may revert (a blacklisted sender's): it is still in a block,
        with the energy it burned."""
        data = TRANSFER + bytes(11) + to.raw + amount.to_bytes(32, "big")
        value = {"owner_address": payer.hex, "contract_address": USDT_HEX, "data": data.hex()}
        return self.chain.send(payer.key, "TriggerSmartContract", value, time_ms, USDT_FEE_LIMIT)

    def blacklist(self, w: Wallet, time_ms: int) -> Sent:
        """The issuer adds an address to the USDT blacklist."""
        return self._trigger(self.treasury, ADD_BLACK_LIST + bytes(11) + w.raw, time_ms)

    def destroy_black_funds(self, w: Wallet, time_ms: int) -> Sent:
        """The issuer burns the USDT of a blacklisted address."""
        return self._trigger(self.treasury, DESTROY_BLACK_FUNDS + bytes(11) + w.raw, time_ms)

    def _trigger(self, payer: Wallet, data: bytes, time_ms: int) -> Sent:
        """A TriggerSmartContract on the USDT contract."""
        value = {"owner_address": payer.hex, "contract_address": USDT_HEX, "data": data.hex()}
        sent = self.chain.send(payer.key, "TriggerSmartContract", value, time_ms, USDT_FEE_LIMIT)
        if sent is None or not sent.ok:
            raise NoFunds(f"{payer.text}: USDT call refused {sent}")
        return sent

    # -- exchanges ----------------------------------------------------------------------

    def _deposited(self, to: Wallet, time_ms: int) -> None:
        """A payment reached an address: a deposit address gets swept a little later."""
        if to.kind != "deposit" or to.raw in self._pending_sweep:
            return
        self._pending_sweep.add(to.raw)
        delay = 300_000 + (int.from_bytes(to.raw[-3:], "big") % 90) * 60_000
        self.at(time_ms + delay, partial(self._sweep, to))

    def _sweep(self, deposit: Wallet, time_ms: int) -> None:
        """The exchange moves a deposit address's coins to its hot wallet.

        A USDT sweep is paid by energy the exchange's energy wallet delegates to the
        deposit address (after activating it with 1 TRX): the deposit address burns no TRX.
        """
        self._pending_sweep.discard(deposit.raw)
        ex = self.exchanges[deposit.actor_id or ""]
        usdt = self.usdt(deposit)
        if usdt > 0:
            # Activated with 1 TRX; topped up when its free bandwidth is spent and the
            # sweeps have burned what it had.
            if deposit.raw not in self.activated or self.trx(deposit) < SUN // 2:
                self.send_trx(ex.energy, deposit, ACTIVATION, time_ms)
            if deposit.raw not in ex.delegated:
                value = {
                    "owner_address": ex.energy.hex,
                    "receiver_address": deposit.hex,
                    "balance": DELEGATED,
                    "resource": "ENERGY",
                }
                if self.chain.send(ex.energy.key, "DelegateResourceContract", value, time_ms):
                    ex.delegated.add(deposit.raw)
            self.send_usdt(deposit, ex.hot, usdt, time_ms)
        trx = self.trx(deposit) - SUN // 2
        if trx >= 5 * SUN and deposit.raw not in ex.delegated:
            self.send_trx(deposit, ex.hot, trx, time_ms)

    def withdraw(
        self,
        exchange_id: str,
        to: Wallet,
        asset: str,
        amount: int,
        time_ms: int,
        then: Callable[[Sent], None] | None = None,
    ) -> None:
        """Queue a withdrawal; the exchange pays its queue in batches every few minutes."""
        ex = self.exchanges[exchange_id]
        if not ex.queue:
            self.at(time_ms + 180_000 + len(to.text) * 1000, lambda t: self._pay_queue(ex, t))
        ex.queue.append((to, asset, amount, then))

    def _pay_queue(self, ex: Exchange, time_ms: int) -> None:
        """One batch: the hot wallet pays every queued withdrawal in the same block."""
        queue, ex.queue = ex.queue, []
        for to, asset, amount, then in queue:
            if asset == "TRX":
                if self.trx(ex.hot) < amount + 1000 * SUN:
                    self._refill_trx(ex, amount, time_ms)
                sent = self.send_trx(ex.hot, to, amount, time_ms)
            else:
                if self.usdt(ex.hot) < amount:
                    self.mint(ex.hot, amount * 2 + 1_000_000 * SUN, time_ms)
                sent = self.send_usdt(ex.hot, to, amount, time_ms)
            if then is not None:
                then(sent)

    def _refill_trx(self, ex: Exchange, amount: int, time_ms: int) -> None:
        """The energy wallet tops the hot wallet's TRX up (exchanges move their own float)."""
        self.send_trx(ex.energy, ex.hot, amount + 100_000 * SUN, time_ms)

    def mint(self, to: Wallet, amount: int, time_ms: int) -> None:
        """The treasury issues amount USDT and sends it to a service wallet."""
        self.issue(amount, time_ms)
        self.send_usdt(self.treasury, to, amount, time_ms)
