"""The scenario's flows, turned into payments scheduled at simulated times."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from ...errors import BuildError
from ...scenario.model import Flow
from ...scenario.swaps import SwapOrder
from ..codec.amounts import format_btc
from .chain import DUST
from .economy import COIN, Economy, InsufficientFunds
from .wallet import Wallet

DAY = 86_400
# A payment that takes what is there waits for at least this much (or the whole amount).
LEAST_PAYMENT = 100_000


@dataclass(order=True)
class _Event:
    """One payment of a flow, due at a time."""

    time: int
    seq: int
    flow: Flow
    index: int
    state: dict
    short: bool = field(default=False, compare=False)  # last tried, the payer lacked funds


class Story:
    """Runs the flows' payments when their time comes, retrying while funds are not there yet."""

    def __init__(
        self,
        eco: Economy,
        flows: tuple[Flow, ...],
        members: dict[str, list[str]],
        site_kinds: dict[str, str],
        start_time: int,
        rng: random.Random,
        swaps: list[SwapOrder] | None = None,
    ):
        """Schedule every payment of every flow; of swap flows, their legs on this ledger.

        swaps: every swap order of the world (scenario.swaps.plan_swaps), which fixes each
        leg's time and amount so the Tron side makes the other leg without asking this one.
        """
        self.eco = eco
        self.members = members
        self.site_kinds = site_kinds
        self.rng = rng
        self.start_time = start_time
        self.failures: dict[str, str] = {}
        self.paid: set[tuple[str, str | None]] = set()  # (flow id, fixed payer) that paid
        self._queue: list[_Event] = []
        self._seq = 0
        self._fresh: dict[tuple[str, str], int] = {}
        # (order id, leg, tx row id, address row id, satoshis, time) of the swap legs made here
        self.swap_legs: list[tuple[str, str, int, int, int, int]] = []
        for order in swaps or ():
            if order.deposit_chain == "btc":
                self._push(
                    order.created, order.flow, order.index, {"swap": order, "leg": "deposit"}
                )
            else:
                self._push(
                    order.payout_time, order.flow, order.index, {"swap": order, "leg": "payout"}
                )
        for flow in flows:
            if flow.kind == "swap":  # planned above
                continue
            end = flow.end_day if flow.end_day is not None else flow.start_day
            # An `each` flow runs its payments once per member of the `from` group, with
            # that member fixed as the payer (state "source"); other flows pick one per payment.
            payers = self.members.get(flow.source, [flow.source]) if flow.each else [None]
            for payer in payers:
                times = sorted(rng.uniform(flow.start_day, end) for _ in range(flow.count))
                for i, day in enumerate(times):
                    state = {} if payer is None else {"source": payer, "fixed": True}
                    self._push(start_time + int(day * DAY), flow, i, state)

    def _push(self, time: int, flow: Flow, index: int, state: dict) -> None:
        """Queue one event."""
        self._seq += 1
        heapq.heappush(self._queue, _Event(time, self._seq, flow, index, state))

    @property
    def pending(self) -> int:
        """Events not yet carried out."""
        return len(self._queue)

    def run_due(self, now: int) -> None:
        """Carry out every event due by now; ones that cannot be paid yet wait a block."""
        retry = []
        while self._queue and self._queue[0].time <= now:
            event = heapq.heappop(self._queue)
            try:
                self._run(event)
                self.failures.pop(event.flow.id, None)
                self.paid.add((event.flow.id, event.state.get("source")))
            except InsufficientFunds as e:
                self.failures[event.flow.id] = str(e)
                event.short = True
                retry.append(event)
        for event in retry:
            event.time = now + 1
            heapq.heappush(self._queue, event)

    def finish(self) -> None:
        """Fail the build naming every flow that could not be carried out.

        Flows that take what is there (commission, cash-outs, flows without an amount)
        may make fewer payments than their count: those that still found too little to take
        at the end of the world are left out, once the flow (or the member an `each` flow
        fixed) has made one.
        """
        self._queue = [
            e
            for e in self._queue
            if not (
                e.short
                and _takes_what_is_there(e.flow)
                and (e.flow.id, e.state.get("source")) in self.paid
            )
        ]
        if not self._queue:
            return
        left: dict[str, int] = {}
        for event in self._queue:
            left[event.flow.id] = left.get(event.flow.id, 0) + 1
        lines = [
            f"flow '{fid}' (line {next(e.flow.line for e in self._queue if e.flow.id == fid)}): "
            f"{n} payment(s) could not be made by the end of the world: "
            f"{self.failures.get(fid, 'not due before the last block')}"
            for fid, n in sorted(left.items())
        ]
        raise BuildError("\n".join(lines))

    # -- helpers ----------------------------------------------------------------------

    def _member(self, actor_id: str, need: int | None = None) -> str:
        """A member of a group (the actor itself when it is not a group) who can pay need."""
        group = self.members.get(actor_id, [actor_id])
        if need is None:
            return self.rng.choice(group)
        able = [a for a in group if self.eco.spendable(self.eco.personal[a]) > need]
        if not able:
            raise InsufficientFunds(f"no member of '{actor_id}' holds {format_btc(need)} BTC")
        return self.rng.choice(able)

    def _payer(self, event: _Event, need: int | None = None) -> str:
        """The payer of an event: the member an `each` flow fixed, or one able to pay need."""
        if not event.state.get("fixed"):
            return self._member(event.flow.source, need)
        payer = event.state["source"]
        if need is not None and self.eco.spendable(self.eco.personal[payer]) <= need:
            raise InsufficientFunds(f"'{payer}' does not hold {format_btc(need)} BTC")
        return payer

    def _payee(self, event: _Event) -> str:
        """The receiver: the payer itself when an `each` flow pays its own group, else a member."""
        flow = event.flow
        if event.state.get("fixed") and flow.target == flow.source:
            return event.state["source"]
        return self._member(flow.target)

    def _amount(self, flow: Flow) -> int | None:
        """One draw of the flow's amount in satoshis (None: everything)."""
        if flow.amount is None:
            return None
        btc = self.rng.uniform(flow.amount.min, flow.amount.max)
        return max(1000, int(round(btc, 6) * COIN))

    def _receive(self, actor_id: str, purpose: str) -> int:
        """A receiving address of an actor's personal wallet."""
        return self.eco.book.receive(self.eco.personal[actor_id], purpose)

    def _pay_or_sweep(
        self, wallet: Wallet, address: int, value: int | None, kind: str, flow: Flow
    ) -> tuple[int, int]:
        """Pay value to an address, or sweep the whole wallet there when value is None."""
        if value is None:
            return self.eco.sweep(wallet, address, kind, flow.id)
        return self.eco.pay(wallet, [(address, value)], kind, flow.id), value

    # -- flows ------------------------------------------------------------------------

    def _run(self, event: _Event) -> None:
        """Carry out one event of a flow."""
        flow = event.flow
        FLOW_RUNNERS[flow.kind](self, event, flow)

    def _donation(self, event: _Event, flow: Flow) -> None:
        """A donor pays the campaign's address (or the donor's own fresh one)."""
        value = self._amount(flow)
        donor = self._payer(event, value)
        wallet = self.eco.donation.get(flow.site) if flow.site else None
        if wallet is None:
            wallet = self.eco.personal[self._payee(event)]
        switched = event.time >= self.eco.fresh_from.get(flow.site or "", event.time + 1)
        if wallet.receive_address is None or switched:  # a fresh address for each donor
            key = (wallet.actor_id, donor)
            if key not in self._fresh:
                self._fresh[key] = self.eco.book.new(wallet, f"donation:{donor}")
            address = self._fresh[key]
        else:
            address = wallet.receive_address
        tx_id, value = self._pay_or_sweep(self.eco.personal[donor], address, value, "payment", flow)
        self.eco.chain.record_flow(flow.id, tx_id, "donation", donor, wallet.actor_id, value)

    def _purchase(self, event: _Event, flow: Flow) -> None:
        """A buyer orders from a vendor: through market escrow, or straight to a shop."""
        value = self._amount(flow) or COIN // 100
        buyer = self._payer(event, value)
        vendor = self._payee(event)
        kind = self.site_kinds.get(flow.site or "")
        if kind == "market":
            assert flow.site is not None  # a market's kind came from its id
            self.eco.order(
                self.eco.personal[buyer],
                flow.site,
                self.eco.personal[vendor],
                vendor,
                value,
                flow.id,
                buyer,
            )
            return
        tx_id = self.eco.pay(
            self.eco.personal[buyer], [(self._receive(vendor, "sale"), value)], "payment", flow.id
        )
        self.eco.chain.record_flow(flow.id, tx_id, "purchase", buyer, vendor, value)

    def _commission(self, event: _Event, flow: Flow) -> None:
        """The market's escrow pays the operator's share of sales."""
        market = flow.site or next(
            (m for m, w in self.eco.escrow.items() if w.actor_id == flow.source), None
        )
        if market is None:
            raise InsufficientFunds(f"'{flow.source}' runs no market escrow")
        # The escrow pays what it owes (or the flow's amount), as far as it holds it: its
        # fees and the vendors' payouts come out of the same coins.
        owed = self._amount(flow)
        if owed is None:
            owed = self.eco.commission_due.get(market, 0)
        value = min(owed, self.eco.payable(self.eco.escrow[market]))
        if value < min(owed, LEAST_PAYMENT) or value <= 0:
            raise InsufficientFunds(f"the escrow of market '{market}' holds too little yet")
        target = self._payee(event)
        tx_id = self.eco.pay(
            self.eco.escrow[market],
            [(self._receive(target, "commission"), value)],
            "payment",
            flow.id,
            largest_first=True,
        )
        self.eco.commission_due[market] = max(0, self.eco.commission_due.get(market, 0) - value)
        self.eco.chain.record_flow(flow.id, tx_id, "commission", market, target, value)

    def _consolidation(self, event: _Event, flow: Flow) -> None:
        """Sweep the source's collected coins (its donation wallet first) into one address."""
        source = self._payer(event)
        wallet = self.eco.donation.get(flow.site or "")
        if wallet is None:
            wallet = next(
                (w for w in self.eco.donation.values() if w.actor_id == source),
                self.eco.personal[source],
            )
        target = self._payee(event)
        address = self.eco.book.new(self.eco.personal[target], "consolidation")
        tx_id, value = self.eco.sweep(wallet, address, "consolidation", flow.id)
        self.eco.chain.record_flow(flow.id, tx_id, "consolidation", source, target, value)

    def _peel_chain(self, event: _Event, flow: Flow) -> None:
        """One hop of a peel chain: a small peel off, the rest on to the next hop."""
        state = event.state
        source = state.setdefault("source", self._member(flow.source))
        if "wallet" not in state:
            hop_wallet = self.eco.wallet(source, "peel")
            first = self.eco.book.new(hop_wallet, "peel-hop")
            tx_id, value = self._pay_or_sweep(
                self.eco.personal[source], first, self._amount(flow), "payment", flow
            )
            self.eco.chain.record_flow(flow.id, tx_id, "hop-0", source, source, value)
            state.update(wallet=hop_wallet, hop=1)
        elif state["hop"] < flow.hops:
            wallet = state["wallet"]
            held = self.eco.spendable(wallet)
            peel = int(held * self.rng.uniform(0.03, 0.12))
            payee = self.rng.choice(self.members["background"])
            address = self.eco.book.receive(self.eco.personal[payee], "peel")
            tx_id = self.eco.pay(wallet, [(address, peel)], "payment", flow.id)
            self.eco.chain.record_flow(flow.id, tx_id, f"hop-{state['hop']}", source, payee, peel)
            state["hop"] += 1
        else:
            target = self._payee(event)
            if target in self.eco.exchanges:
                address = self.eco.deposit_address(target, source)
            else:
                address = self._receive(target, "peel-end")
            tx_id, value = self.eco.sweep(state["wallet"], address, "payment", flow.id)
            self.eco.chain.record_flow(flow.id, tx_id, f"hop-{flow.hops}", source, target, value)
            return
        blocks = self.rng.randint(1, 6)
        self._push(event.time + blocks * 600, flow, event.index, state)

    def _mixing(self, event: _Event, flow: Flow) -> None:
        """Coins go into the mixer and come back to the target from unrelated coins."""
        value = self._amount(flow)
        source = self._payer(event, value)
        target = self._payee(event)
        assert flow.via is not None  # the scenario checks give a mixing flow its mixer
        self.eco.mix(
            self.eco.personal[source],
            flow.via,
            value,
            self.eco.personal[target],
            flow.id,
            source,
            target,
        )

    def _cash_out(self, event: _Event, flow: Flow) -> None:
        """The source deposits coins at its account on an exchange: the amount, or what it has."""
        value = self._amount(flow)
        if value is None:
            source = self._payer(event)
            address = self.eco.deposit_address(flow.target, source)
            tx_id, value = self.eco.sweep(self.eco.personal[source], address, "deposit", flow.id)
        else:
            if event.state.get("fixed"):
                source = event.state["source"]
            else:
                try:
                    source = self._member(flow.source, value)
                except InsufficientFunds:  # none holds the amount: the one who holds the most
                    group = self.members.get(flow.source, [flow.source])
                    source = max(group, key=lambda a: self.eco.payable(self.eco.personal[a]))
            wallet = self.eco.personal[source]
            wanted, value = value, min(value, self.eco.payable(wallet))
            if value < min(wanted, LEAST_PAYMENT) or value <= DUST:
                raise InsufficientFunds(f"'{source}' holds too little to cash out yet")
            address = self.eco.deposit_address(flow.target, source)
            tx_id = self.eco.pay(wallet, [(address, value)], "deposit", flow.id, largest_first=True)
        self.eco.chain.record_flow(flow.id, tx_id, "cash-out", source, flow.target, value)

    def _swap(self, event: _Event, flow: Flow) -> None:
        """One leg of a swap order on this ledger, at its planned time and amount: the payer's
        deposit to a fresh address of the swap service, or the service's payout to the payee.

        The other chain relies on the plan, so a leg that cannot be made then fails the build.
        """
        order: SwapOrder = event.state["swap"]
        deposit = event.state["leg"] == "deposit"
        if deposit:
            payer, payee, value = order.payer, order.service, order.deposit_amount
            address = self.eco.book.new(self.eco.personal[payee], f"swap:{order.order_id}")
        else:
            payer, payee, value = order.service, order.payee, order.payout_amount
            address = self._receive(payee, "swap")
        wallet = self.eco.personal[payer]
        try:
            if self.eco.spendable(wallet) <= value:
                raise InsufficientFunds(f"'{payer}' does not hold {format_btc(value)} BTC")
            tx_id = self.eco.pay(wallet, [(address, value)], "payment", flow.id)
        except InsufficientFunds as e:
            leg = "deposit" if deposit else "payout"
            raise BuildError(
                f"flow '{flow.id}' (line {flow.line}): the {leg} of swap order "
                f"{order.order_id} ({format_btc(value)} BTC) cannot be made at its time: {e}"
            ) from e
        step = "swap-deposit" if deposit else "swap-payout"
        self.eco.chain.record_flow(flow.id, tx_id, step, payer, payee, value)
        leg = "deposit" if deposit else "payout"
        self.swap_legs.append((order.order_id, leg, tx_id, address, value, event.time))

    def _transfer(self, event: _Event, flow: Flow) -> None:
        """A plain payment from one actor to another."""
        value = self._amount(flow)
        source = self._payer(event, value)
        target = self._payee(event)
        tx_id, value = self._pay_or_sweep(
            self.eco.personal[source], self._receive(target, "transfer"), value, "payment", flow
        )
        self.eco.chain.record_flow(flow.id, tx_id, "transfer", source, target, value)


# What carries out one event of each flow kind (scenario.model.FLOW_KINDS, all of them).
FLOW_RUNNERS: dict[str, Callable[[Story, _Event, Flow], None]] = {
    "donation": Story._donation,
    "purchase": Story._purchase,
    "commission": Story._commission,
    "consolidation": Story._consolidation,
    "peel_chain": Story._peel_chain,
    "mixing": Story._mixing,
    "cash_out": Story._cash_out,
    "transfer": Story._transfer,
    "swap": Story._swap,
}


def _takes_what_is_there(flow: Flow) -> bool:
    """Whether a flow's payments take what the payer holds rather than a set amount."""
    return flow.kind in ("commission", "cash_out") or flow.amount is None
