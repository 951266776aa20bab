"""Runs the Tron chain of a world: genesis, the issuer and the exchanges, the starting
balances, the story's Tron flows and the background users' payments, in time order."""

from __future__ import annotations

import math
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from ...scenario.model import Scenario
from ...scenario.swaps import plan_swaps
from .. import address as tron_address
from ..block import witnesses as make_witnesses
from ..state import TronState
from .chain import TronChain
from .economy import DELEGATED, FEE_RESERVE, SUN, Economy, Exchange, NoFunds, Wallet
from .sealer import rare_collections
from .story import TronStory

HOUR_MS = 3_600_000
GENESIS_TRX = {"treasury": 10_000_000, "hot": 50_000_000, "energy": 500_000_000}
USER_TRX = (50, 600)  # TRX a background Tron user buys at the start (range)


@dataclass(frozen=True)
class TronSummary:
    """What the Tron simulation made."""

    transactions: int
    stored_blocks: int
    tip_number: int
    tip_id: str
    start_ms: int
    genesis: dict[str, int]  # T... address -> sun credited in block 0


def simulate_tron(
    conn: sqlite3.Connection,
    scenario: Scenario,
    actors: list[dict],
    sites: list[dict],
    start_time: int,
    progress: Callable[[int, int], None] | None = None,
) -> TronSummary:
    """Generate the whole Tron chain of a world into conn's tron tables."""
    with rare_collections():
        return _TronSimulation(conn, scenario, actors, sites, start_time).run(progress)


class _TronSimulation:
    """State of one Tron chain generation."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        scenario: Scenario,
        actors: list[dict],
        sites: list[dict],
        start_time: int,
    ):
        """The chain, the economy, and a wallet for every actor who has one."""
        knobs = scenario.world
        self.conn = conn
        self.scenario = scenario
        self.rng = random.Random(f"tron:{knobs.seed}")
        self.start_ms = start_time * 1000
        self.end_ms = self.start_ms + knobs.days * 86_400_000
        self.witnesses = make_witnesses(knobs.seed)
        eco_seed = knobs.seed
        self.economy_seed = eco_seed
        self.actors = actors
        self.sites = sites
        self.target = knobs.tron_transactions
        tron_of = {a.id: a.tron for a in scenario.actors}
        self.members: dict[str, list[str]] = {}
        self.named: list[dict] = []
        self.background_ids: list[str] = []
        for a in actors:
            grp = a["grp"]
            if grp != a["id"]:
                self.members.setdefault(grp, []).append(a["id"])
            if a["background"]:
                self.background_ids.append(a["id"])
            elif tron_of.get(grp) is not None and a["role"] != "exchange":
                self.named.append(a)
        self.tron_of = tron_of

    def run(self, progress) -> TronSummary:
        """Make every block from genesis to the world's end."""
        state = TronState(genesis_ms=self.start_ms)
        chain = TronChain(self.conn, state, self.witnesses, self.start_ms)
        eco = Economy(chain, self.economy_seed)
        self.eco, self.chain, self.state = eco, chain, state
        state.usdt.owner = eco.treasury.raw
        self._genesis()
        personal = self._people()
        site_config = {s["id"]: s["config"] for s in self.sites}
        bg = [a for a in self.users]
        story = TronStory(
            eco,
            tuple(f for f in self.scenario.flows if f.chain == "tron" and f.kind != "swap"),
            personal,
            self.members,
            bg,
            site_config,
            self.start_ms,
            self.end_ms,
            self.rng,
            plan_swaps(self.scenario),
        )
        steps = 50
        noise = _NoiseControl(self, steps)
        for k in range(1, steps + 1):
            noise.schedule(k)
            eco.run_until(self.start_ms + (self.end_ms - self.start_ms) * k // steps)
            if progress:
                progress(k, steps)
        story.finish()
        tip, tip_id = chain.finish(self.end_ms)
        self._write(story)
        stored = self.conn.execute("SELECT count(*) FROM tron_blocks").fetchone()[0]
        return TronSummary(chain.tx_count, stored, tip, tip_id, self.start_ms, self.genesis)

    # -- set-up -------------------------------------------------------------------------

    def _genesis(self) -> None:
        """Genesis allocations (as java-tron's genesis block makes them): the issuer's treasury
        and each exchange's hot and energy wallets hold TRX from block 0; the energy wallet
        then stakes its TRX for energy."""
        eco, state = self.eco, self.state
        self.genesis = {eco.treasury.text: GENESIS_TRX["treasury"] * SUN}
        state.credit_genesis(eco.treasury.raw, GENESIS_TRX["treasury"] * SUN)
        eco.activated[eco.treasury.raw] = (0, None)
        for a in self.actors:
            if a["role"] != "exchange":
                continue
            hot = eco.wallet(a["id"], "hot", "hot", f"{a['name']}: Hot Wallet")
            energy = eco.wallet(a["id"], "energy", "energy", f"{a['name']}: Energy")
            eco.exchanges[a["id"]] = Exchange(a["id"], hot, energy)
            for w, key in ((hot, "hot"), (energy, "energy")):
                state.credit_genesis(w.raw, GENESIS_TRX[key] * SUN)
                self.genesis[w.text] = GENESIS_TRX[key] * SUN
                eco.activated[w.raw] = (0, None)
        t = self.start_ms + 60_000
        for ex in eco.exchanges.values():
            stake = {
                "owner_address": ex.energy.hex,
                "frozen_balance": GENESIS_TRX["energy"] * SUN // 2,
                "resource": "ENERGY",
            }
            self.chain.send(ex.energy.key, "FreezeBalanceV2Contract", stake, t)
            delegate = {
                "owner_address": ex.energy.hex,
                "receiver_address": ex.hot.hex,
                "balance": DELEGATED * 100,
                "resource": "ENERGY",
            }
            self.chain.send(ex.energy.key, "DelegateResourceContract", delegate, t)
            eco.mint(ex.hot, 50_000_000 * SUN, t + 30_000)

    def _people(self) -> dict[str, Wallet]:
        """A personal Tron address for every named actor with a Tron wallet and for the
        background users who use Tron; each buys its starting TRX and USDT at its exchange."""
        eco, rng = self.eco, self.rng
        exchanges = sorted(eco.exchanges)
        exchange_of = {a["id"]: a.get("exchange_id") for a in self.actors}
        personal: dict[str, Wallet] = {}
        first = self.start_ms + 5 * 60_000
        for a in self.named:
            w = eco.wallet(a["id"], "personal", "receive")
            personal[a["id"]] = w
            grant = self.tron_of[a["grp"]]
            # TRX for the fees of every Tron payment it makes; a peel chain fuels its hops.
            fees = sum(
                60 * f.count + (2 * FEE_RESERVE // SUN * (f.hops + 1) if f.hops else 0)
                for f in self.scenario.flows
                if f.chain == "tron"
                and f.source in (a["id"], a["grp"])
                # a swap service pays each BTC -> USDT order's payout on Tron
                or f.kind == "swap"
                and f.chain == "btc"
                and f.via == a["id"]
            )
            trx = int(((grant.trx if grant else 0) + 60 + fees) * SUN)
            usdt = int(round((grant.usdt if grant else 0) * SUN))
            ex = exchange_of.get(a["id"]) or rng.choice(exchanges)
            when = first + rng.randint(0, 50) * 60_000
            eco.withdraw(ex, w, "TRX", trx, when)
            if usdt:
                eco.withdraw(ex, w, "USDT", usdt, when + 60_000)
        # Background users on Tron: about one per 40 noise transactions.
        wanted = min(len(self.background_ids), max(20, self.target // 40))
        self.users = sorted(rng.sample(self.background_ids, wanted)) if wanted else []
        for uid in self.users:
            w = eco.wallet(uid, "personal", "receive")
            personal[uid] = w
            ex = exchange_of.get(uid) or rng.choice(exchanges)
            when = first + rng.randint(0, 60 * 24 * 3) * 60_000
            eco.withdraw(ex, w, "TRX", rng.randint(*USER_TRX) * SUN, when)
            usdt = int(min(50_000, rng.lognormvariate(math.log(300), 1.3)) * SUN)
            eco.withdraw(ex, w, "USDT", usdt, when + 120_000)
        # A few of them trade for a living: OTC brokers and P2P merchants.
        k = max(1, len(self.users) // 60)
        self.brokers = self.users[:k]
        self.traders = self.users[k : 3 * k]
        for uid in self.brokers + self.traders:
            personal[uid].kind = "otc" if uid in self.brokers else "p2p"
            ex = exchange_of.get(uid) or rng.choice(exchanges)
            eco.withdraw(ex, personal[uid], "TRX", 5_000 * SUN, first + HOUR_MS)
            eco.withdraw(ex, personal[uid], "USDT", 200_000 * SUN, first + HOUR_MS + 60_000)
        self.personal = personal
        self.exchange_of = {u: exchange_of.get(u) or rng.choice(exchanges) for u in personal}
        return personal

    # -- background noise ---------------------------------------------------------------

    def _blacklist(self, t: int) -> None:
        """The issuer blacklists a user's address (a scam or a sanctions match): the user's
        next USDT transfers revert, paying their energy; some days later the issuer may
        destroy the frozen USDT."""
        rng, eco = self.rng, self.eco
        able = [u for u in self.users if u not in self.brokers + self.traders]
        if len(able) < 2:
            return
        uid = rng.choice(able)
        self.users.remove(uid)  # it stops paying anyone; it only tries to move its USDT
        me = self.personal[uid]
        try:
            eco.blacklist(me, t)
        except NoFunds:
            return
        for _ in range(rng.randint(1, 3)):
            later = t + rng.randint(10, 60 * 24) * 60_000
            eco.at(later, partial(self._try_escape, me))
        if rng.random() < 0.5:
            eco.at(t + rng.randint(3, 10) * 86_400_000, partial(self._destroy, me))

    def _try_escape(self, me: Wallet, t: int) -> None:
        """A blacklisted user tries to move its USDT out; the contract reverts it."""
        eco = self.eco
        held = eco.usdt(me)
        if held < SUN or eco.trx(me) < FEE_RESERVE:
            return
        to = self.personal[self.rng.choice(self.users)]
        eco.attempt_usdt(me, to, held, t)

    def _destroy(self, me: Wallet, t: int) -> None:
        """The issuer burns a blacklisted address's USDT (destroyBlackFunds)."""
        if self.eco.usdt(me) > 0:
            self.eco.destroy_black_funds(me, t)

    def _act(self, t: int) -> None:
        """One user does one thing: pays someone, trades, deposits or withdraws."""
        rng, eco = self.rng, self.eco
        uid = rng.choice(self.users)
        me = self.personal[uid]
        roll = rng.random()
        try:
            if roll < 0.34:
                other = self.personal[rng.choice(self.users)]
                if other is not me:
                    eco.send_usdt(me, other, self._amount(eco.usdt(me)), t)
            elif roll < 0.46:
                other = self.personal[rng.choice(self.users)]
                if other is not me:
                    trx = eco.trx(me) - 60 * SUN
                    eco.send_trx(me, other, self._amount(trx, round_to=SUN), t)
            elif roll < 0.62:
                deposit = eco.deposit_address(self.exchange_of[uid], uid)
                eco.send_usdt(me, deposit, self._amount(eco.usdt(me), 0.3, 1.0), t)
            elif roll < 0.72:
                broker = self.personal[rng.choice(self.brokers)]
                if rng.random() < 0.5:
                    eco.send_usdt(me, broker, self._amount(eco.usdt(me), 0.3, 1.0), t)
                else:
                    eco.send_usdt(broker, me, self._amount(eco.usdt(broker), 0.001, 0.05), t)
            elif roll < 0.88:
                trader = self.personal[rng.choice(self.traders)]
                if rng.random() < 0.5:
                    eco.send_usdt(trader, me, self._amount(eco.usdt(trader), 0.002, 0.04), t)
                else:
                    eco.send_usdt(me, trader, self._amount(eco.usdt(me)), t)
            else:
                self._refill(uid, t)
        except NoFunds:
            self._refill(uid, t)

    def _amount(self, held: int, low: float = 0.05, high: float = 0.6, round_to: int = 0) -> int:
        """A share of what is held, often rounded to whole USDT the way people pay."""
        value = int(held * self.rng.uniform(low, high))
        if value < SUN:
            raise NoFunds("too little")
        if round_to or self.rng.random() < 0.5:
            value = value // SUN * SUN
        return value

    def _refill(self, uid: str, t: int) -> None:
        """A user short of coins withdraws some from their exchange (a trader deposits the
        surplus instead when it holds plenty)."""
        eco, rng = self.eco, self.rng
        me = self.personal[uid]
        if eco.trx(me) < 60 * SUN:
            eco.withdraw(self.exchange_of[uid], me, "TRX", rng.randint(*USER_TRX) * SUN, t)
            return
        usdt = int(min(20_000, rng.lognormvariate(math.log(300), 1.2)) * SUN) + SUN
        eco.withdraw(self.exchange_of[uid], me, "USDT", usdt, t)

    # -- writing ------------------------------------------------------------------------

    def _write(self, story: TronStory) -> None:
        """The rows besides blocks and transactions: witnesses, accounts, end state, flows."""
        c = self.conn
        c.executemany(
            "INSERT INTO tron_witnesses VALUES (?,?,?,?,?)",
            [
                (tron_address.to_base58(w.key.address), w.name, w.url, w.key.secret, i)
                for i, w in enumerate(self.witnesses)
            ],
        )
        rows = []
        for w in self.eco.wallets:
            block, by = self.eco.activated.get(w.raw, (None, None))
            rows.append((w.text, w.actor_id, w.kind, w.purpose, w.key.secret, w.label, block, by))
        c.executemany("INSERT INTO tron_accounts VALUES (?,?,?,?,?,?,?,?)", rows)
        accounts, contracts = self.state.snapshot()
        c.executemany("INSERT INTO tron_state VALUES (?,?)", accounts)
        c.executemany("INSERT INTO tron_contracts VALUES (?,?,?)", contracts)
        c.executemany("INSERT INTO tron_flow_events VALUES (?,?,?,?,?,?,?,?)", story.rows)
        c.executemany("INSERT INTO swap_legs VALUES (?,?,'tron',?,NULL,?,?,?)", story.swap_legs)


class _NoiseControl:
    """Schedules the users' actions window by window so that the chain ends up with about
    `tron_transactions` transactions in all (story and services included): each window gets
    as many actions as the transactions still missing need, at the yield seen so far."""

    def __init__(self, sim: _TronSimulation, steps: int):
        """No action scheduled yet; noise begins a few days into the world."""
        self.sim = sim
        self.steps = steps
        days = max(1, sim.scenario.world.days)
        self.begin = sim.start_ms + 4 * 86_400_000 // days + HOUR_MS
        self.actions = 0
        self.yield_per_action = 1.3  # transactions an action makes (sweeps, withdrawals)
        self.first_count: int | None = None
        self.blacklists = 0

    def schedule(self, k: int) -> None:
        """Queue the actions of window k (of steps)."""
        sim = self.sim
        if not sim.users or sim.target <= 0:
            return
        span = sim.end_ms - sim.start_ms
        lo = max(self.begin, sim.start_ms + span * (k - 1) // self.steps)
        hi = sim.start_ms + span * k // self.steps
        if hi <= lo:
            return
        done = sim.chain.tx_count
        if self.first_count is None:
            self.first_count = done
        elif self.actions:
            self.yield_per_action = max(1.0, (done - self.first_count) / self.actions)
        share = (hi - self.begin) / (sim.end_ms - self.begin)
        missing = sim.target * share - done
        count = max(0, round(missing / self.yield_per_action))
        for _ in range(count):
            sim.eco.at(int(sim.rng.uniform(lo, hi)), sim._act)
        self.actions += count
        # The issuer blacklists about one user per 10,000 transactions of noise.
        due = max(2, sim.target // 10_000) * share
        while self.blacklists + 1 <= due and len(sim.users) > 10:
            self.blacklists += 1
            sim.eco.at(int(sim.rng.uniform(lo, hi)), sim._blacklist)
