"""The scenario's Tron flows (chain: tron), turned into USDT and TRX payments at their times."""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial

from ...errors import BuildError
from ...scenario.model import Flow
from ...scenario.swaps import SwapOrder
from .chain import Sent
from .economy import FEE_RESERVE, SUN, Economy, NoFunds, Wallet

DAY_MS = 86_400_000
RETRY_MS = 1_800_000  # a payment its payer cannot make yet is tried again half an hour later
HOP_FEES = 60 * SUN  # TRX a payer sends a new address of its own so it can move USDT on


class TronStory:
    """Schedules every Tron flow's payments on the economy and records what they paid."""

    def __init__(
        self,
        eco: Economy,
        flows: tuple[Flow, ...],
        personal: dict[str, Wallet],
        members: dict[str, list[str]],
        background: list[str],
        site_config: dict[str, dict],
        start_ms: int,
        end_ms: int,
        rng: random.Random,
        swaps: list[SwapOrder] | None = None,
    ):
        """Queue each payment of each Tron flow (not before first_ms, when funds arrive),
        and the Tron leg of each swap order at the time its plan fixes (scenario/swaps.py)."""
        self.eco = eco
        self.personal = personal
        self.members = members
        self.background = background
        self.site_config = site_config
        self.start_ms = start_ms
        self.end_ms = end_ms
        self.rng = rng
        self.rows: list[tuple] = []  # tron_flow_events
        self.left: dict[tuple[str, int], str] = {}  # (flow, payment) not made yet -> why
        self.paid: set[str] = set()
        self.flows = {f.id: f for f in flows}
        self._donation_addresses: dict[tuple[str, str], Wallet] = {}
        # (order id, leg, tron_txs id, T-address, USDT units, time) of the swap legs made here
        self.swap_legs: list[tuple[str, str, int, str, int, int]] = []
        for order in swaps or ():
            deposit = order.deposit_chain == "tron"
            when = order.created if deposit else order.payout_time
            leg = {"swap": order, "leg": "deposit" if deposit else "payout"}
            self.eco.at(when * 1000, partial(self._swap_leg, order.flow, leg))
        first_ms = start_ms + 2 * 3_600_000  # the starting balances arrive in the first hour
        for flow in flows:
            if flow.kind == "swap":  # its legs are planned above
                continue
            end = flow.end_day if flow.end_day is not None else flow.start_day
            payers = self.members.get(flow.source, [flow.source]) if flow.each else [None]
            for payer in payers:
                days = sorted(rng.uniform(flow.start_day, end) for _ in range(flow.count))
                for day in days:
                    when = max(first_ms, start_ms + int(day * DAY_MS))
                    state: dict = {} if payer is None else {"source": payer}
                    key = (flow.id, len(self.left))
                    self.left[key] = "not due before the world's end"
                    self.eco.at(when, self._event(flow, key, state))

    def _event(self, flow: Flow, key: tuple[str, int], state: dict) -> Callable[[int], None]:
        """The action carrying out one payment, retried while its payer lacks the funds."""

        def run(time_ms: int) -> None:
            try:
                done = RUNNERS[flow.kind](self, flow, state, time_ms)
            except NoFunds as e:
                self.left[key] = str(e)
                if time_ms + RETRY_MS < self.end_ms:
                    self.eco.at(time_ms + RETRY_MS, run)
                return
            if done:
                self.left.pop(key, None)
                self.paid.add(flow.id)
            else:  # a peel chain's next hop
                self.eco.at(time_ms + self.rng.randint(10, 240) * 60_000, run)

        return run

    def finish(self) -> None:
        """Fail the build naming the flows whose payments could not be made.

        Payments that take what is there (cash-outs, flows without amount) are left out
        once their flow made one, as on the Bitcoin-like ledger.
        """
        lines = {}
        for (flow_id, _), why in self.left.items():
            flow = self.flows[flow_id]
            if flow_id in self.paid and (flow.amount is None or flow.kind == "cash_out"):
                continue
            n = sum(1 for f, _ in self.left if f == flow_id)
            lines[flow_id] = (
                f"flow '{flow_id}' (line {flow.line}): {n} Tron payment(s) could not be made "
                f"by the end of the world: {why}"
            )
        if lines:
            raise BuildError("\n".join(lines[k] for k in sorted(lines)))

    # -- helpers ------------------------------------------------------------------------

    def _units(self, flow: Flow) -> int | None:
        """One draw of the flow's amount in the asset's smallest unit (None: everything)."""
        if flow.amount is None:
            return None
        return max(1, round(self.rng.uniform(flow.amount.min, flow.amount.max) * SUN))

    def _payer(self, flow: Flow, state: dict, need: int | None) -> str:
        """The paying actor: fixed by `each`, else a member who holds need."""
        if "source" in state:
            return state["source"]
        group = self.members.get(flow.source, [flow.source])
        if flow.source == "background":
            group = self.background
        if need is None:
            return self.rng.choice(group)
        able = [a for a in group if self._held(self._wallet(a, flow.asset), flow.asset) >= need]
        if not able:
            raise NoFunds(f"no member of '{flow.source}' holds {need / SUN:g} {flow.asset}")
        return self.rng.choice(able)

    def _payee(self, flow: Flow, state: dict) -> str:
        """The receiving actor: the payer itself for an `each` flow to its own group."""
        if "source" in state and flow.target == flow.source:
            return state["source"]
        if "desk" in state:  # an OTC sale's buyer, picked once for its payment
            return state["desk"]
        if flow.target == "background":
            return self.rng.choice(self.background)
        return self.rng.choice(self.members.get(flow.target, [flow.target]))

    def _wallet(self, actor: str, asset: str) -> Wallet:
        """The actor's address holding the most of asset: its own or one it collected
        donations or consolidated into (peel hops move on their own)."""
        own = [self.personal[actor]] + [
            w for w in self.eco.wallets_of(actor) if w.kind in ("donation", "personal")
        ]
        return max(own, key=lambda w: self._held(w, asset))

    def _fuel(self, actor: str, w: Wallet, asset: str, t: int) -> None:
        """Send TRX for the energy to an address of the actor's that must move USDT."""
        if asset == "USDT" and w is not self.personal[actor] and self.eco.trx(w) < FEE_RESERVE:
            self.eco.send_trx(self.personal[actor], w, HOP_FEES, t)

    def _held(self, w: Wallet, asset: str) -> int:
        """What a wallet can pay of asset (TRX: less what its fees need)."""
        if asset == "USDT":
            return self.eco.usdt(w)
        return max(0, self.eco.trx(w) - FEE_RESERVE)

    def _pay(
        self, payer: Wallet, to: Wallet, asset: str, amount: int | None, t: int
    ) -> tuple[Sent, int]:
        """Pay amount of asset (None: all of it); (the transaction, what it paid)."""
        value = self._held(payer, asset) if amount is None else amount
        if asset == "USDT":
            return self.eco.send_usdt(payer, to, value, t), value
        return self.eco.send_trx(payer, to, value, t), value

    def _record(
        self, flow: Flow, paid: tuple[Sent, int], step: str, src: str, dst: str, to: Wallet
    ) -> None:
        """One row of the answer key's Tron flow events."""
        sent, amount = paid
        self.rows.append((flow.id, sent.tx_id, step, src, dst, flow.asset, amount, to.text))

    def _swap_leg(self, flow: Flow, state: dict, t: int) -> None:
        """Carry out a swap leg at exactly its time (its runner never waits for funds)."""
        RUNNERS[flow.kind](self, flow, state, t)

    def _simple(self, flow: Flow, state: dict, t: int, to_of: Callable[[str, str], Wallet]) -> bool:
        """A payer pays one address of the payee's (which to_of picks) the flow's amount."""
        amount = self._units(flow)
        payer = self._payer(flow, state, amount)
        payee = self._payee(flow, state)
        to = to_of(payer, payee)
        source = self._wallet(payer, flow.asset)
        self._fuel(payer, source, flow.asset, t)
        sent = self._pay(source, to, flow.asset, amount, t)
        self._record(flow, sent, flow.kind.replace("_", "-"), payer, payee, to)
        return True

    # -- flow kinds ---------------------------------------------------------------------

    def _transfer(self, flow: Flow, state: dict, t: int) -> bool:
        """A plain payment to the payee's own address."""
        return self._simple(flow, state, t, lambda payer, payee: self.personal[payee])

    def _purchase(self, flow: Flow, state: dict, t: int) -> bool:
        """A buyer pays a shop's vendor directly."""
        return self._simple(flow, state, t, lambda payer, payee: self.personal[payee])

    def _donation(self, flow: Flow, state: dict, t: int) -> bool:
        """A donor pays the campaign's Tron address: its published one, or a fresh one per
        donor when the site says so (from the start, or from `fresh_address_from_day`)."""
        config = self.site_config.get(flow.site or "", {})
        switch = config.get("fresh_address_from_day")
        fresh = bool(config.get("fresh_address_per_donor")) or (
            switch is not None and t >= self.start_ms + int(switch * DAY_MS)
        )

        def address(donor: str, operator: str) -> Wallet:
            key = (flow.site or operator, donor if fresh else "")
            if key not in self._donation_addresses:
                purpose = f"donation:{donor}" if fresh else f"donation:{flow.site or operator}"
                self._donation_addresses[key] = self.eco.wallet(operator, "donation", purpose)
            return self._donation_addresses[key]

        return self._simple(flow, state, t, address)

    def _otc_sale(self, flow: Flow, state: dict, t: int) -> bool:
        """The seller sends USDT (or TRX) to an OTC broker's address; the broker pays cash
        off-chain. `to: background` sells to one of the world's OTC desks."""
        if flow.target == "background":
            desks = sorted(a for a, w in self.personal.items() if w.kind == "otc")
            if not desks:
                raise NoFunds("the world has no OTC desk on Tron (tron_transactions: 0)")
            state["desk"] = self.rng.choice(desks)
        try:
            return self._simple(flow, state, t, lambda payer, payee: self.personal[payee])
        finally:
            state.pop("desk", None)

    def _cash_out(self, flow: Flow, state: dict, t: int) -> bool:
        """A deposit to the payer's own account at the exchange."""
        return self._simple(
            flow, state, t, lambda payer, payee: self.eco.deposit_address(flow.target, payer)
        )

    def _consolidation(self, flow: Flow, state: dict, t: int) -> bool:
        """Everything the actor's donation addresses hold, moved into one new address."""
        source = self._payer(flow, state, None)
        target = self._payee(flow, state)
        into = self.eco.wallet(target, "personal", "consolidation")
        sources = [
            w for (_, _), w in sorted(self._donation_addresses.items()) if w.actor_id == source
        ]
        moved = 0
        for w in sources:
            if self._held(w, flow.asset) <= 0:
                continue
            self._fuel(source, w, flow.asset, t)
            sent = self._pay(w, into, flow.asset, None, t)
            self._record(flow, sent, "consolidation", source, target, into)
            moved += 1
        if not moved:
            raise NoFunds(f"'{source}' has no donations to consolidate yet")
        return True

    def _swap(self, flow: Flow, state: dict, t: int) -> bool:
        """The Tron leg of a swap order (state "swap", "leg"), at the time its plan fixes:
        the payer's USDT to a fresh address of the service, or the service's USDT payout
        to the payee. The Bitcoin side relies on the same plan, so a leg that cannot be
        made then fails the build instead of waiting."""
        order: SwapOrder = state["swap"]
        deposit = state["leg"] == "deposit"
        if deposit:
            payer, payee, value = order.payer, order.service, order.deposit_amount
            to = self.eco.wallet(payee, "swap", f"swap:{order.order_id}")
            source = self._wallet(payer, "USDT")
        else:
            payer, payee, value = order.service, order.payee, order.payout_amount
            to = self.personal[payee]
            source = self.personal[payer]
        try:
            if self._held(source, "USDT") < value:
                raise NoFunds(f"'{payer}' holds {self._held(source, 'USDT') / SUN:g} USDT")
            self._fuel(payer, source, "USDT", t)
            sent = self.eco.send_usdt(source, to, value, t)
        except NoFunds as e:
            raise BuildError(
                f"flow '{flow.id}' (line {flow.line}): the {state['leg']} of swap order "
                f"{order.order_id} ({value / SUN:g} USDT) cannot be made at its time: {e}"
            ) from e
        step = "swap-deposit" if deposit else "swap-payout"
        self.rows.append((flow.id, sent.tx_id, step, payer, payee, "USDT", value, to.text))
        self.swap_legs.append((order.order_id, state["leg"], sent.tx_id, to.text, value, t // 1000))
        return True

    def _peel_chain(self, flow: Flow, state: dict, t: int) -> bool:
        """One hop: the first moves the coins to a new address, each next one peels a little
        off to a stranger and moves the rest to another new address; the last lands at `to`.
        Each new address is activated and fuelled with TRX by the one before it."""
        if "hop" not in state:
            if "first" not in state:  # made once: a retry must not fuel another new address
                amount = self._units(flow)
                source = self._payer(flow, state, amount)
                hop = self.eco.wallet(source, "peel", "peel-hop")
                # Fuel for every hop: each passes on what it does not burn itself.
                fuel = (flow.hops + 1) * 2 * FEE_RESERVE
                self.eco.send_trx(self.personal[source], hop, fuel, t)
                state.update(source=source, first=hop, amount=amount)
            source, hop = state["source"], state["first"]
            origin = self._wallet(source, flow.asset)
            self._fuel(source, origin, flow.asset, t)
            sent = self._pay(origin, hop, flow.asset, state["amount"], t)
            self._record(flow, sent, "hop-0", source, source, hop)
            state.update(hop=1, wallet=hop)
            return False
        source, wallet = state["source"], state["wallet"]
        if state["hop"] < flow.hops:
            held = self._held(wallet, flow.asset)
            peel = int(held * self.rng.uniform(0.03, 0.12))
            stranger = self.rng.choice(self.background)
            sent = self._pay(wallet, self.personal[stranger], flow.asset, peel, t)
            self._record(
                flow, sent, f"hop-{state['hop']}", source, stranger, self.personal[stranger]
            )
            nxt = self.eco.wallet(source, "peel", "peel-hop")
            self.eco.send_trx(wallet, nxt, self.eco.trx(wallet) - FEE_RESERVE - 2 * SUN, t)
            self._pay(wallet, nxt, flow.asset, None, t)
            state.update(hop=state["hop"] + 1, wallet=nxt)
            return False
        target = self._payee(flow, state)
        if self.eco.exchanges.get(target):
            to = self.eco.deposit_address(target, source)
        else:
            to = self.personal[target]
        sent = self._pay(wallet, to, flow.asset, None, t)
        self._record(flow, sent, f"hop-{flow.hops}", source, target, to)
        return True


# What carries out one payment of each Tron flow kind (scenario.model.TRON_FLOW_KINDS).
RUNNERS: dict[str, Callable[[TronStory, Flow, dict, int], bool]] = {
    "donation": TronStory._donation,
    "purchase": TronStory._purchase,
    "consolidation": TronStory._consolidation,
    "peel_chain": TronStory._peel_chain,
    "cash_out": TronStory._cash_out,
    "transfer": TronStory._transfer,
    "otc_sale": TronStory._otc_sale,
    "swap": TronStory._swap,
}
