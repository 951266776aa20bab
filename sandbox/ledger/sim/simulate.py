"""Runs the ledger block by block: bootstrap, services on their cadence, story, background noise."""

from __future__ import annotations

import math
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from ...errors import BuildError
from ...scenario.model import Scenario
from ...scenario.swaps import plan_swaps
from ..codec.amounts import format_btc
from ..hd import HDKeys, recovery_words
from .chain import Chain
from .economy import COIN, Economy, Exchange, InsufficientFunds, Withdrawal
from .story import Story
from .wallet import AddressBook, Wallet

BOOTSTRAP_MATURITY = 101
MIXER_FLOAT = 150 * COIN


@dataclass(frozen=True)
class LedgerSummary:
    """What the simulation made."""

    blocks: int
    transactions: int
    addresses: int
    tip_hash: str
    first_time: int
    last_time: int


def simulate(
    conn: sqlite3.Connection,
    scenario: Scenario,
    actors: list[dict],
    sites: list[dict],
    start_time: int,
    progress: Callable[[int, int], None] | None = None,
    recovery_actors: frozenset[str] = frozenset(),
    stashes: dict[str, tuple[int, int, str]] | None = None,
) -> LedgerSummary:
    """Generate the whole ledger of a world into conn and return its summary.

    The personal wallets of recovery_actors derive their keys from recovery words (hd.py).
    stashes: actor -> (stash wallets, satoshis each share needs, what takes them): in the
    last block the actor splits its coins evenly between its personal wallet and that
    many new stash wallets (one per further seat sharing its case, see world/seats.py).
    """
    sim = _Simulation(conn, scenario, actors, sites, start_time, recovery_actors, stashes)
    try:
        return sim.run(progress)
    finally:
        sim.chain.close()
        sim.book.close()


class _Simulation:
    """State of one ledger generation."""

    def __init__(
        self,
        conn,
        scenario: Scenario,
        actors: list[dict],
        sites: list[dict],
        start_time: int,
        recovery_actors: frozenset[str] = frozenset(),
        stashes: dict[str, tuple[int, int, str]] | None = None,
    ):
        """Create every wallet the actors and sites need."""
        self.recovery_actors = recovery_actors
        self.stashes = stashes or {}
        knobs = scenario.world
        self.conn = conn
        self.rng = random.Random(f"ledger:{knobs.seed}")
        self.book = AddressBook(knobs.seed)
        self.chain = Chain(conn, self.book)
        self.eco = Economy(
            self.chain, self.book, self.rng, (knobs.fee_rate.min, knobs.fee_rate.max)
        )
        self.scenario = scenario
        self.start_time = start_time
        self.end_time = start_time + knobs.days * 86_400  # flows are due up to here
        self.interval = knobs.block_interval
        self.target = knobs.transactions
        self.members: dict[str, list[str]] = {"background": []}
        self.spenders: list[Wallet] = []
        self.vendors: dict[str, list[tuple[str, Wallet]]] = {}
        self.initial: list[tuple[Wallet, int, str]] = []
        self._setup(actors, sites)

    # -- set-up -----------------------------------------------------------------------

    def _setup(self, actors: list[dict], sites: list[dict]) -> None:
        """Wallets for pools, exchanges, the mixer, markets, donation sites and every person."""
        eco, book, rng = self.eco, self.book, self.rng
        balances = {a.id: a.balance for a in self.scenario.actors}
        for a in actors:
            role, aid = a["role"], a["id"]
            if a["grp"] != aid:
                self.members.setdefault(a["grp"], []).append(aid)
            if role == "miner":
                eco.pools.append(eco.wallet(aid, "mining", label=a["name"]))
            elif role == "exchange":
                eco.exchanges[aid] = Exchange(
                    aid, eco.wallet(aid, "hot", label=a["name"]), eco.wallet(aid, "deposit")
                )
            elif role == "mixer":
                eco.mixer_pool[aid] = eco.wallet(aid, "mixer", label=a["name"])
                eco.mixer_in[aid] = eco.wallet(aid, "mixer-deposit", label=a["name"])
                self.initial.append((eco.mixer_pool[aid], MIXER_FLOAT, aid))
        for a in actors:
            if a["role"] in ("miner", "exchange", "mixer"):
                continue
            aid, opsec = a["id"], a["opsec"]
            if a["background"]:
                kind = rng.choices(("p2wpkh", "p2sh", "p2pkh"), (80, 14, 6))[0]
                reuse = rng.random() < 0.08
            else:
                kind = "p2pkh" if "legacy_addresses" in opsec else "p2wpkh"
                reuse = "reuses_address" in opsec
            w = eco.wallet(aid, "personal", address_type=kind, reuse=reuse)
            if aid in self.recovery_actors:
                w.hd = HDKeys(recovery_words(self.scenario.world.seed, aid))
            eco.personal[aid] = w
            if a["role"] == "vendor" or (reuse and not a["background"]):
                published = book.new(w, "published")
                if reuse:
                    w.receive_address = published
            if a["background"]:
                self.members["background"].append(aid)
                self.spenders.append(w)
                balance = int(COIN * min(5.0, rng.lognormvariate(math.log(0.05), 1.2)))
                self.initial.append((w, balance, aid))
            elif a["grp"].endswith("-vendors"):
                self.spenders.append(w)
                self.vendors.setdefault(a["grp"][: -len("-vendors")], []).append((aid, w))
            else:
                grant = balances.get(a["grp"], 0.0)
                if grant > 0:
                    self.initial.append((w, int(grant * COIN), aid))
        self.exchange_of = {a["id"]: a["exchange_id"] for a in actors if a.get("exchange_id")}
        self.customers = [a["id"] for a in actors if a.get("exchange_id") and not a["background"]]
        opsec_of = {a["id"]: a["opsec"] for a in actors}
        for s in sites:
            config = s["config"]
            if s["kind"] == "market":
                eco.escrow[s["id"]] = eco.wallet(
                    s["operator_id"] or s["id"], "escrow", site_id=s["id"], label=s["name"]
                )
                eco.commission[s["id"]] = config.get("commission", 0.0)
            elif s["kind"] == "donation" and s["operator_id"]:
                legacy = "legacy_addresses" in opsec_of.get(s["operator_id"], ())
                w = eco.wallet(
                    s["operator_id"],
                    "donation",
                    site_id=s["id"],
                    address_type="p2pkh" if legacy else "p2wpkh",
                )
                published = book.new(w, "published")
                if not config.get("fresh_address_per_donor"):
                    w.receive_address = published
                    w.reuse = True
                if config.get("fresh_address_from_day") is not None:
                    day = config["fresh_address_from_day"]
                    eco.fresh_from[s["id"]] = self.start_time + int(day * 86_400)
                eco.donation[s["id"]] = w
        self.miners = (
            rng.sample(self.spenders, max(1, len(self.spenders) // 20)) if self.spenders else []
        )
        self.site_kinds = {s["id"]: s["kind"] for s in sites}
        if not eco.pools or not eco.exchanges:
            raise ValueError("the world needs at least one mining pool and one exchange")

    # -- the run ----------------------------------------------------------------------

    def run(self, progress) -> LedgerSummary:
        """Mine every block from bootstrap to the world's end."""
        eco, chain, rng = self.eco, self.chain, self.rng
        knobs = self.scenario.world
        main_blocks = max(1, knobs.days * 86_400 // self.interval)
        needed = sum(v for _, v, _ in self.initial)
        funding_blocks = math.ceil(needed / (COIN * 50 * 0.75)) + 4
        funding_blocks += math.ceil(len(self.initial) / 80 / len(eco.exchanges))
        boot = BOOTSTRAP_MATURITY + funding_blocks
        times = self._block_times(boot, main_blocks)
        total = len(times)
        # Tron's flows are tron/sim's; a swap has a leg on each chain, planned for both.
        flows = tuple(f for f in self.scenario.flows if f.chain == "btc" and f.kind != "swap")
        story = Story(
            eco,
            flows,
            self.members,
            self.site_kinds,
            self.start_time,
            rng,
            plan_swaps(self.scenario),
        )
        funded = False
        for height, time in enumerate(times):
            chain.begin_block(time)
            eco.new_block_fee()
            if height >= BOOTSTRAP_MATURITY:
                if height % 12 == 0 or height < boot:
                    eco.pool_payouts(self.miners if height >= boot else [])
                if not funded and height > BOOTSTRAP_MATURITY + funding_blocks // 2:
                    self._fund_initial_balances()
                    funded = True
                eco.exchange_withdrawals()
            if height >= boot:
                if height % 36 == 0:
                    eco.exchange_sweeps()
                if height % 72 == 0:
                    for wallet in self._service_wallets():
                        eco.tidy(wallet)
                if height % 4 == 0:
                    eco.market_payouts()
                eco.mixer_payouts()
                # Payments are due up to the world's last second, which the last block's
                # random time may fall short of: that block takes them all.
                story.run_due(time if height < total - 1 else max(time, self.end_time))
                expected = self.target * (height + 1) // total
                self._background(expected - 1)
                if height == total - 1:
                    self._fund_stashes()
            eco.close_block()
            if progress and (height % 50 == 0 or height == total - 1):
                progress(height + 1, total)
        story.finish()
        # Exchanges give each customer a deposit address at sign-up: a named actor has one
        # even if it never deposited, so a live deposit (move_funds) reaches its own account.
        for aid in self.customers:
            if self.exchange_of[aid] in eco.exchanges:
                eco.deposit_address(self.exchange_of[aid], aid)
        chain.flush()
        self.conn.executemany("INSERT INTO wallets VALUES (?,?,?,?,?)", eco.wallet_rows())
        self.conn.executemany(
            "INSERT INTO swap_legs VALUES (?,?,'btc',?,?,NULL,?,?)", story.swap_legs
        )
        return LedgerSummary(
            blocks=total + 1,  # the genesis block and the simulated ones
            transactions=chain.tx_count,
            addresses=len(self.book),
            tip_hash=chain.tip_hash,
            first_time=times[0],
            last_time=times[-1],
        )

    def _fund_stashes(self) -> None:
        """Each shared actor pays an equal share of its coins into each of its stash wallets.

        The stash wallets are made last (their ids and addresses follow everything else's),
        so sharing leaves the rest of the world as it was. Raises BuildError naming what
        takes the coins when a share would hold less than it needs.
        """
        for actor in sorted(self.stashes):
            count, need, why = self.stashes[actor]
            personal = self.eco.personal.get(actor)
            if personal is None:
                raise BuildError(f"{why}: actor {actor!r} has no wallet whose coins seats share")
            held = self.eco.spendable(personal)
            # What the funding transaction's fee may take: generous, at this block's rate.
            fee = int(self.eco.fee_rate() * (150 * len(personal.utxos) + 43 * (count + 1) + 20))
            share = (held - fee) // (count + 1) // 1000 * 1000
            if share < need:
                raise BuildError(
                    f"{why}: {count + 1} seats share {actor!r}'s coins, but it holds "
                    f"{format_btc(held)} BTC at the end of the world: a share of "
                    f"{format_btc(max(0, share))} BTC is under the {format_btc(need)} BTC each "
                    "seat needs; give it more funds, or fewer seats per case"
                )
            payments = []
            for k in range(1, count + 1):
                stash = self.eco.wallet(actor, "stash", address_type=personal.address_type)
                if actor in self.recovery_actors:
                    stash.hd = HDKeys(recovery_words(self.scenario.world.seed, actor, k))
                payments.append((self.book.new(stash, "receive"), share))
            self.eco.pay(personal, payments, "payment", largest_first=True)

    def _service_wallets(self) -> list[Wallet]:
        """Wallets of exchanges, the mixer, markets and pools: the ones that pile up coins."""
        eco = self.eco
        hot = [ex.hot for ex in eco.exchanges.values()]
        return hot + list(eco.mixer_pool.values()) + list(eco.escrow.values()) + eco.pools

    def _block_times(self, boot: int, main_blocks: int) -> list[int]:
        """Block times: a Poisson-like spread over the world's days, bootstrap blocks before it."""
        span = main_blocks * self.interval
        main = sorted(self.start_time + int(self.rng.uniform(0, span)) for _ in range(main_blocks))
        times = [self.start_time - (boot - i) * self.interval for i in range(boot)] + main
        for i in range(1, len(times)):  # strictly increasing, as the issue asks
            if times[i] <= times[i - 1]:
                times[i] = times[i - 1] + 1
        return times

    def _fund_initial_balances(self) -> None:
        """Everyone who starts with coins bought them at an exchange: queue those withdrawals."""
        exchanges = list(self.eco.exchanges.values())
        for wallet, value, actor_id in self.initial:
            ex_id = self.exchange_of.get(actor_id)
            ex = self.eco.exchanges[ex_id] if ex_id else self.rng.choice(exchanges)
            address = self.book.receive(wallet, "withdrawal")
            ex.queue.append(Withdrawal(address, value, actor_id=actor_id))

    # -- background noise -------------------------------------------------------------

    def _background(self, until: int) -> None:
        """Ordinary users' payments until the chain holds `until` transactions."""
        rng, chain = self.rng, self.chain
        spenders = self.spenders
        if not spenders:
            return
        attempts = 0
        actions = (
            self._p2p,
            self._deposit,
            self._buy,
            self._consolidate,
            self._mix,
            self._coinjoin,
        )
        weights = (60, 16, 12, 6, 2, 1)
        while chain.tx_count < until and attempts < 4 * (until - chain.tx_count) + 20:
            attempts += 1
            wallet = rng.choice(spenders)
            action = rng.choices(actions, weights)[0]
            try:
                action(wallet)
            except InsufficientFunds:
                self._refill(wallet)

    def _refill(self, wallet: Wallet) -> None:
        """A user short of coins buys some at their exchange."""
        ex_id = self.exchange_of.get(wallet.actor_id)
        ex = self.eco.exchanges[ex_id] if ex_id else next(iter(self.eco.exchanges.values()))
        if any(w.actor_id == wallet.actor_id for w in ex.queue):
            return
        value = int(COIN * min(3.0, self.rng.lognormvariate(math.log(0.05), 1.0)))
        ex.queue.append(
            Withdrawal(self.book.receive(wallet, "withdrawal"), value, actor_id=wallet.actor_id)
        )

    def _amount(self, wallet: Wallet, low: float, high: float) -> int:
        """A share of what the wallet can spend, often rounded the way people round."""
        value = int(self.eco.spendable(wallet) * self.rng.uniform(low, high))
        if value < 20_000:
            raise InsufficientFunds("too little")
        if self.rng.random() < 0.35:
            digits = len(str(value)) - 2
            value = round(value, -digits)
        return value

    def _p2p(self, wallet: Wallet) -> None:
        """Pay another user."""
        payee = self.rng.choice(self.spenders)
        if payee is wallet:
            raise InsufficientFunds("no payee")
        value = self._amount(wallet, 0.05, 0.7)
        self.eco.pay(wallet, [(self.book.receive(payee), value)], "payment")

    def _deposit(self, wallet: Wallet) -> None:
        """Send coins to one's exchange account."""
        ex_id = self.exchange_of.get(wallet.actor_id) or next(iter(self.eco.exchanges))
        address = self.eco.deposit_address(ex_id, wallet.actor_id)
        if self.rng.random() < 0.25:
            self.eco.sweep(wallet, address, "deposit")
        else:
            self.eco.pay(wallet, [(address, self._amount(wallet, 0.2, 0.9))], "deposit")

    def _buy(self, wallet: Wallet) -> None:
        """Order something from a generated vendor on a market."""
        if not self.vendors:
            raise InsufficientFunds("no markets")
        market = self.rng.choice(sorted(self.vendors))
        vendor_id, vendor = self.rng.choice(self.vendors[market])
        if vendor is wallet:
            raise InsufficientFunds("own shop")
        value = int(COIN * self.rng.uniform(0.001, 0.04))
        if self.eco.spendable(wallet) < value * 1.2:
            raise InsufficientFunds("too little")
        self.eco.order(wallet, market, vendor, vendor_id, value)

    def _consolidate(self, wallet: Wallet) -> None:
        """Merge one's small coins into one."""
        if len(wallet.utxos) < 3:
            return self._p2p(wallet)
        self.eco.sweep(wallet, self.book.new(wallet, "consolidation"), "payment")

    def _mix(self, wallet: Wallet) -> None:
        """Send some coins through the mixer."""
        if not self.eco.mixer_pool:
            return self._p2p(wallet)
        mixer = self.rng.choice(sorted(self.eco.mixer_pool))
        self.eco.mix(wallet, mixer, self._amount(wallet, 0.3, 0.9), wallet, None, None, None)

    def _coinjoin(self, wallet: Wallet) -> None:
        """Join a CoinJoin round with other users."""
        k = self.rng.randint(5, 12)
        denomination = self.rng.choice((1_000_000, 5_000_000, 10_000_000))
        able = [
            w
            for w in self.rng.sample(self.spenders, min(len(self.spenders), 40))
            if self.eco.spendable(w) > denomination * 1.1
        ]
        if len(able) < 3:
            raise InsufficientFunds("no round")
        self.eco.coinjoin(able[:k], denomination)
