"""The ledger's economy: wallets that pay, and the services that move money on a schedule.

The Economy owns every wallet and knows how to pay, sweep and batch. Services (mining pools,
exchanges, the mixer, market escrows) act on fixed cadences; background users pay each other
at random; story flows (sandbox.ledger.sim.story) call the same primitives, so the story's
transactions look exactly like the noise they hide in.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field

from ...errors import SandboxError
from ..codec.amounts import COIN
from .chain import COINBASE_MATURITY, DUST, Chain
from .wallet import AddressBook, Utxo, Wallet


class InsufficientFunds(SandboxError):
    """A wallet cannot pay what is asked at this height."""


@dataclass(slots=True)
class Withdrawal:
    """A customer's request to take coins out of an exchange, paid in the next batch."""

    address_id: int
    value: int
    flow_id: str | None = None
    step: str = "withdrawal"
    actor_id: str | None = None


@dataclass(slots=True)
class Exchange:
    """A custodial exchange: deposit addresses per customer, a hot wallet, batched withdrawals."""

    actor_id: str
    hot: Wallet
    deposits: Wallet
    deposit_of: dict[str, int] = field(default_factory=dict)  # customer actor id -> address id
    queue: list[Withdrawal] = field(default_factory=list)


@dataclass(slots=True)
class MixOrder:
    """Coins a mixer owes a customer, paid out in chunks after a delay."""

    due: int
    wallet: Wallet
    value: int
    chunks: int
    flow_id: str | None
    actor_id: str | None


@dataclass(slots=True)
class Order:
    """A market order waiting in escrow until the buyer finalizes."""

    due: int
    market: str
    vendor: Wallet
    value: int
    flow_id: str | None
    vendor_id: str


class Economy:
    """All wallets and services of the world, and the primitives that make transactions."""

    def __init__(self, chain: Chain, book: AddressBook, rng: random.Random, fee_rate: tuple):
        """An economy writing to chain, with keys from book."""
        self.chain = chain
        self.book = book
        self.rng = rng
        self.fee_min, self.fee_max = fee_rate
        self.base_fee = self.fee_min
        self.wallets: list[Wallet] = []
        self.personal: dict[str, Wallet] = {}
        self.exchanges: dict[str, Exchange] = {}
        self.mixer_pool: dict[str, Wallet] = {}
        self.mixer_in: dict[str, Wallet] = {}
        self.mix_orders: list[MixOrder] = []
        self.escrow: dict[str, Wallet] = {}
        self.commission: dict[str, float] = {}
        self.commission_due: dict[str, int] = {}
        self.orders: list[Order] = []
        self.pools: list[Wallet] = []
        self.maturing: deque[tuple[Wallet, Utxo]] = deque()
        self.donation: dict[str, Wallet] = {}
        self.fresh_from: dict[str, int] = {}  # donation site -> time its donors get fresh addresses

    # -- wallets ----------------------------------------------------------------------

    def wallet(self, actor_id: str, kind: str, **kw) -> Wallet:
        """Create and register a wallet."""
        w = Wallet(id=len(self.wallets) + 1, actor_id=actor_id, kind=kind, **kw)
        self.wallets.append(w)
        return w

    def wallet_rows(self) -> list[tuple]:
        """Rows for the wallets table."""
        return [(w.id, w.actor_id, w.kind, w.site_id, w.label) for w in self.wallets]

    def fee_rate(self) -> float:
        """A fee rate (sat/vB) for one transaction, around this block's market rate."""
        return self.base_fee * self.rng.uniform(0.85, 1.4)

    def new_block_fee(self) -> None:
        """Let the fee market drift a little between blocks."""
        span = self.fee_max - self.fee_min
        target = self.fee_min + span * self.rng.random() ** 2
        self.base_fee = max(1.0, 0.9 * self.base_fee + 0.1 * target)

    # -- paying -----------------------------------------------------------------------

    def _select(self, wallet: Wallet, need: int, largest_first: bool) -> list[Utxo]:
        """Pick confirmed coins of a wallet worth at least need (before fees)."""
        height = self.chain.height
        usable = [u for u in wallet.utxos if u.height < height]
        if largest_first:
            usable.sort(key=lambda u: u.value, reverse=True)
        else:
            self.rng.shuffle(usable)
        chosen, total = [], 0
        for u in usable:
            chosen.append(u)
            total += u.value
            if total >= need or len(chosen) >= 400:
                break
        if total < need:
            raise InsufficientFunds(f"{wallet.actor_id} holds {total} of {need} sat spendable")
        return chosen

    def _spend(self, wallet: Wallet, coins: list[Utxo]) -> None:
        """Remove spent coins from a wallet."""
        spent = {(u.tx_id, u.n) for u in coins}
        wallet.utxos = [u for u in wallet.utxos if (u.tx_id, u.n) not in spent]

    def _credit(self, tx_id: int, payments: list[tuple[int, int]]) -> None:
        """Give each output of a new transaction to the wallet owning its address."""
        height = self.chain.height
        wallet_of = self.book.wallet_of
        wallets = self.wallets
        for n, (address_id, value) in enumerate(payments):
            wallets[wallet_of[address_id] - 1].utxos.append(
                Utxo(tx_id, n, value, address_id, height)
            )

    def pay(
        self,
        wallet: Wallet,
        payments: list[tuple[int, int]],
        kind: str,
        flow_id: str | None = None,
        largest_first: bool = False,
        fee_rate: float | None = None,
    ) -> int:
        """Pay (address id, value) pairs from a wallet with change back; returns the tx id."""
        need = sum(v for _, v in payments)
        rate = fee_rate or self.fee_rate()
        types = self.book.types
        out_types = [types[a] for a, _ in payments] + [wallet.address_type]
        coins = self._select(wallet, need + int(rate * 150), largest_first)
        total = sum(u.value for u in coins)
        fee = math.ceil(rate * self.chain.vsize([types[u.address_id] for u in coins], out_types))
        change = total - need - fee
        if change < 0:
            coins = self._select(wallet, need + fee * 2, True)
            total = sum(u.value for u in coins)
            fee = math.ceil(
                rate * self.chain.vsize([types[u.address_id] for u in coins], out_types)
            )
            change = total - need - fee
            if change < 0:
                raise InsufficientFunds(f"{wallet.actor_id} cannot cover the fee")
        outputs = list(payments)
        if change > DUST:
            outputs.append((self.book.change(wallet), change))
            if len(outputs) > 1 and self.rng.random() < 0.5:  # wallets shuffle outputs (BIP69-ish)
                outputs.insert(self.rng.randrange(len(outputs)), outputs.pop())
        else:
            fee += change
        tx_id = self.chain.add_tx(coins, outputs, fee, kind, flow_id)
        self._spend(wallet, coins)
        self._credit(tx_id, outputs)
        return tx_id

    def sweep(
        self,
        wallet: Wallet,
        to_address: int,
        kind: str,
        flow_id: str | None = None,
        coins: list[Utxo] | None = None,
        fee_rate: float | None = None,
    ) -> tuple[int, int]:
        """Send every confirmed coin of a wallet (or the given ones) to one address, no change."""
        height = self.chain.height
        if coins is None:
            coins = [u for u in wallet.utxos if u.height < height][:500]
        if not coins:
            raise InsufficientFunds(f"{wallet.actor_id} has nothing to sweep")
        rate = fee_rate or self.fee_rate()
        types = self.book.types
        fee = math.ceil(
            rate * self.chain.vsize([types[u.address_id] for u in coins], [types[to_address]])
        )
        value = sum(u.value for u in coins) - fee
        if value <= DUST:
            raise InsufficientFunds(f"{wallet.actor_id} holds too little to sweep")
        tx_id = self.chain.add_tx(coins, [(to_address, value)], fee, kind, flow_id)
        self._spend(wallet, coins)
        self._credit(tx_id, [(to_address, value)])
        return tx_id, value

    def tidy(self, wallet: Wallet, keep: int = 120) -> None:
        """Consolidate a service wallet's smallest coins when it holds too many, as services do."""
        if len(wallet.utxos) <= keep * 2:
            return
        height = self.chain.height
        small = sorted((u for u in wallet.utxos if u.height < height), key=lambda u: u.value)
        coins = small[: len(small) - keep][:300]
        if len(coins) >= 20:
            self.sweep(
                wallet,
                self.book.new(wallet, "consolidation"),
                "consolidation",
                coins=coins,
                fee_rate=max(1.0, self.base_fee * 0.5),
            )

    def spendable(self, wallet: Wallet) -> int:
        """Satoshis a wallet can spend in the current block."""
        return wallet.balance(self.chain.height)

    def payable(self, wallet: Wallet) -> int:
        """The most one payment from a wallet can send now, after the highest fee it may pay.

        It spends the largest confirmed coins, as many as `pay` takes at once.
        """
        height = self.chain.height
        coins = sorted((u for u in wallet.utxos if u.height < height), key=lambda u: -u.value)
        coins = coins[:400]
        if not coins:
            return 0
        size = self.chain.vsize([self.book.types[u.address_id] for u in coins], ["p2pkh"] * 2)
        # pay() may ask for twice the fee of a rate up to 1.4 x the market rate
        fee = math.ceil(size * max(self.fee_max, self.base_fee) * 3)
        return max(0, sum(u.value for u in coins) - fee - DUST)

    # -- mining -----------------------------------------------------------------------

    def close_block(self) -> None:
        """Mine the block: its reward goes to a pool, spendable after coinbase maturity."""
        pool = self.rng.choices(self.pools, weights=range(len(self.pools) + 1, 1, -1))[0]
        address = self.book.new(pool, "coinbase")
        utxo = self.chain.end_block(address)
        self.maturing.append((pool, utxo))
        height = self.chain.height
        while self.maturing and self.maturing[0][1].height + COINBASE_MATURITY <= height:
            wallet, utxo = self.maturing.popleft()
            wallet.utxos.append(utxo)

    # -- exchanges --------------------------------------------------------------------

    def deposit_address(self, exchange_id: str, customer_id: str) -> int:
        """The customer's deposit address at an exchange (one per customer, reused)."""
        ex = self.exchanges[exchange_id]
        address = ex.deposit_of.get(customer_id)
        if address is None:
            address = self.book.new(ex.deposits, f"deposit:{customer_id}")
            ex.deposit_of[customer_id] = address
        return address

    def exchange_sweeps(self) -> None:
        """Each exchange moves confirmed customer deposits into its hot wallet."""
        height = self.chain.height
        for ex in self.exchanges.values():
            coins = [u for u in ex.deposits.utxos if u.height < height]
            for start in range(0, len(coins), 150):
                batch = coins[start : start + 150]
                if sum(u.value for u in batch) > 20_000:
                    self.sweep(
                        ex.deposits,
                        self.book.new(ex.hot, "hot"),
                        "sweep",
                        coins=batch,
                        fee_rate=max(1.0, self.base_fee * 0.6),
                    )

    def exchange_withdrawals(self) -> None:
        """Each exchange pays its queued withdrawals in one batch transaction."""
        for ex in self.exchanges.values():
            if not ex.queue:
                continue
            batch, ex.queue = ex.queue[:80], ex.queue[80:]
            payments = [(w.address_id, w.value) for w in batch]
            try:
                tx_id = self.pay(ex.hot, payments, "withdrawal", largest_first=True)
            except InsufficientFunds:
                ex.queue = batch + ex.queue
                continue
            for w in batch:
                if w.flow_id:
                    self.chain.record_flow(
                        w.flow_id, tx_id, w.step, ex.actor_id, w.actor_id, w.value
                    )

    # -- mixer ------------------------------------------------------------------------

    def mixer_payouts(self) -> None:
        """Pay mix orders that are due from the pool, in chunks, and sweep deposits into it."""
        height = self.chain.height
        due = [o for o in self.mix_orders if o.due <= height]
        if due:
            self.mix_orders = [o for o in self.mix_orders if o.due > height]
        for order in due:
            mixer = next(iter(self.mixer_pool))
            pool = self.mixer_pool[mixer]
            parts = _split(order.value, order.chunks, self.rng)
            payments = [(self.book.new(order.wallet, "mixed"), v) for v in parts]
            try:
                tx_id = self.pay(pool, payments, "mix-payout", flow_id=order.flow_id)
            except InsufficientFunds:
                order.due = height + 1
                self.mix_orders.append(order)
                continue
            if order.flow_id:
                self.chain.record_flow(
                    order.flow_id, tx_id, "mix-payout", mixer, order.actor_id, order.value
                )
        for mixer, wallet in self.mixer_in.items():
            if self.spendable(wallet) > COIN // 10 and self.rng.random() < 0.3:
                self.sweep(wallet, self.book.new(self.mixer_pool[mixer], "pool"), "mix-sweep")

    def mix(
        self,
        source: Wallet,
        mixer_id: str,
        value: int | None,
        target: Wallet,
        flow_id: str | None,
        source_id: str | None,
        target_id: str | None,
    ) -> int:
        """Send coins into a mixer; it pays the target back later from unrelated coins."""
        deposit = self.book.new(self.mixer_in[mixer_id], "mix-deposit")
        if value is None:
            tx_id, value = self.sweep(source, deposit, "mix-deposit", flow_id)
        else:
            tx_id = self.pay(source, [(deposit, value)], "mix-deposit", flow_id)
        fee = int(value * self.rng.uniform(0.01, 0.03))
        delay = self.rng.randint(6, 72)
        self.mix_orders.append(
            MixOrder(
                self.chain.height + delay,
                target,
                value - fee,
                self.rng.randint(2, 5),
                flow_id,
                target_id,
            )
        )
        if flow_id:
            self.chain.record_flow(flow_id, tx_id, "mix-deposit", source_id, mixer_id, value)
        return tx_id

    # -- markets ----------------------------------------------------------------------

    def order(
        self,
        buyer: Wallet,
        market: str,
        vendor: Wallet,
        vendor_id: str,
        value: int,
        flow_id: str | None = None,
        buyer_id: str | None = None,
    ) -> int:
        """A buyer pays a fresh escrow address; the market pays the vendor when finalized."""
        escrow = self.escrow[market]
        address = self.book.new(escrow, "escrow-order")
        tx_id = self.pay(buyer, [(address, value)], "purchase", flow_id)
        if flow_id:
            self.chain.record_flow(flow_id, tx_id, "purchase", buyer_id, market, value)
        cut = self.commission.get(market, 0.0)
        vendor_share = int(value * (1 - cut))
        self.commission_due[market] = self.commission_due.get(market, 0) + value - vendor_share
        due = self.chain.height + self.rng.randint(36, 432)  # buyers finalize in 6 h to 3 days
        self.orders.append(Order(due, market, vendor, vendor_share, flow_id, vendor_id))
        return tx_id

    def market_payouts(self) -> None:
        """Each market pays finalized orders to vendors in one batch."""
        height = self.chain.height
        due = [o for o in self.orders if o.due <= height]
        if not due:
            return
        self.orders = [o for o in self.orders if o.due > height]
        by_market: dict[str, list[Order]] = {}
        for o in due:
            by_market.setdefault(o.market, []).append(o)
        for market, orders in by_market.items():
            payments = [(self.book.receive(o.vendor, "sale"), o.value) for o in orders]
            try:
                tx_id = self.pay(self.escrow[market], payments, "escrow-payout", largest_first=True)
            except InsufficientFunds:
                for o in orders:
                    o.due = height + 1
                self.orders.extend(orders)
                continue
            for o in orders:
                if o.flow_id:
                    self.chain.record_flow(
                        o.flow_id, tx_id, "escrow-payout", market, o.vendor_id, o.value
                    )

    # -- coinjoin ---------------------------------------------------------------------

    def coinjoin(self, participants: list[Wallet], denomination: int) -> int | None:
        """Several users mix coins in one transaction with equal outputs (Wasabi/JoinMarket-like)."""
        rate = self.fee_rate()
        types = self.book.types
        share_fee = math.ceil(rate * 200)
        spends, outputs = [], []
        for w in participants:
            try:
                coins = self._select(w, denomination + share_fee + DUST, False)
            except InsufficientFunds:
                continue
            spends.append((w, coins))
        if len(spends) < 3:
            return None
        coins_all = [u for _, coins in spends for u in coins]
        changes = []
        for w, coins in spends:
            outputs.append((self.book.new(w, "coinjoin"), denomination))
            change = sum(u.value for u in coins) - denomination - share_fee
            if change > DUST:
                changes.append((self.book.new(w, "change"), change))
        self.rng.shuffle(outputs)
        outputs.extend(changes)
        fee = sum(u.value for u in coins_all) - sum(v for _, v in outputs)
        vsize = self.chain.vsize(
            [types[u.address_id] for u in coins_all], [types[a] for a, _ in outputs]
        )
        if fee < vsize:  # equal shares must still pay at least 1 sat/vB
            return None
        tx_id = self.chain.add_tx(coins_all, outputs, fee, "coinjoin")
        for w, coins in spends:
            self._spend(w, coins)
        self._credit(tx_id, outputs)
        return tx_id

    # -- pools ------------------------------------------------------------------------

    def pool_payouts(self, miners: list[Wallet]) -> None:
        """Pools sell most matured rewards to exchanges and pay the rest out to small miners."""
        exchanges = list(self.exchanges.values())
        for pool in self.pools:
            available = self.spendable(pool)
            if available < 10 * COIN:
                continue
            payments = []
            to_exchanges = int(available * 0.75)
            for ex, share in zip(
                exchanges, _split(to_exchanges, len(exchanges), self.rng), strict=True
            ):
                payments.append((self.book.new(ex.hot, "hot"), share))
            if miners:
                k = min(len(miners), self.rng.randint(5, 25))
                rest = int(available * 0.2)
                for w, share in zip(
                    self.rng.sample(miners, k), _split(rest, k, self.rng), strict=True
                ):
                    payments.append((self.book.receive(w, "mining"), share))
            self.pay(pool, payments, "pool-payout", largest_first=True)


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """Split an amount into parts of random, not equal, sizes."""
    if parts <= 1:
        return [total]
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    scale = total / sum(weights)
    shares = [int(w * scale) for w in weights]
    shares[-1] += total - sum(shares)
    return shares
