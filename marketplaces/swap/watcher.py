"""The swap service's payout watcher: pays live orders once their deposit is in a block.

While the sandbox runs, a thread looks every second at the site's orders still awaiting
their deposit. A deposit counts once a block of the live chain holds it (Bitcoin: chain.db's
mined blocks; Tron: tron.db's produced blocks, USDT transfers to the deposit address); every
deposit to the address in blocks by then counts, and the payout is what arrived at the
order's rate minus its fee (pro rata: an under- or overpaid order pays for what came). The
service pays from its own keys through the other live chain: USDT `transfer` from its
personal Tron account, BTC from its personal wallet's coins (the world's and the live
chain's change). An order is claimed in state.db before the payout is broadcast, so a
payout is made once, also across restarts; a crash between claim and broadcast leaves the
order "paying", never paid twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sandbox.errors import SandboxError
from sandbox.ledger.address import script_pubkey
from sandbox.ledger.keys import Key
from sandbox.ledger.live.chain import LiveChain
from sandbox.ledger.live.mempool import dust_threshold
from sandbox.ledger.tx import Tx, TxIn, TxOut, serialize, sign_input
from sandbox.tron import address as tron_address
from sandbox.tron.abi import encode, selector
from sandbox.tron.keys import TronKey
from sandbox.tron.live.chain import TronLive
from sandbox.tron.transaction import build
from sandbox.tron.usdt import USDT_ADDRESS
from sandbox.world import store as world_db
from sandbox.world import tron_store

log = logging.getLogger(__name__)

SATS = 100_000_000  # satoshis in a BTC
UNITS = 1_000_000  # USDT units in a USDT (6 decimals)
# Payouts below these are not worth a transaction: the order ends "deposit too small".
MIN_PAYOUT = {"btc": 10_000, "tron": UNITS}
FEE_RATE = 5  # sat/vB of the service's BTC payouts
_INPUT_VSIZE = {"p2wpkh": 68, "p2sh": 91, "p2pkh": 148}
FEE_LIMIT = 100_000_000  # sun: at most 100 TRX burnt for a USDT payout's energy


class PayoutError(SandboxError):
    """A payout the service cannot make (no coins, no key, the chain refused it)."""


def payout_of(order: dict, deposited: int) -> int:
    """What an order pays for what arrived (satoshis or USDT units), rate and fee applied,
    rounded to the unit."""
    keep = 1 - float(order["fee"])
    if order["deposit_chain"] == "btc":  # satoshis -> USDT units
        return round(deposited * float(order["rate"]) * keep * UNITS / SATS)
    return round(deposited * keep * SATS / (UNITS * float(order["rate"])))


class SwapWatcher:
    """Pays one swap site's live orders; start() runs it in a thread, stop() ends it."""

    def __init__(
        self,
        site_id: str,
        operator_id: str | None,
        state: Any,
        clock: Callable[[], int],
        btc: LiveChain | None,
        tron: TronLive | None,
        interval: float = 1.0,
    ):
        """The site, its operator (whose keys pay), its state, its clock and both chains."""
        self.site_id = site_id
        self.operator_id = operator_id
        self.state = state
        self.clock = clock
        self.btc = btc
        self.tron = tron
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"swap-{site_id}", daemon=True)

    def start(self) -> SwapWatcher:
        """Start watching."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception:  # one bad pass must not stop the service for the class
                log.exception("swap watcher of %s", self.site_id)

    # -- one pass -------------------------------------------------------------------------

    def poll(self) -> int:
        """Pay every order whose deposit is in a block; returns how many were settled."""
        settled = 0
        for order in self.state.swap_orders_awaiting():
            if order["site_id"] != self.site_id:
                continue
            found = self._deposit(order)
            if found is None:
                continue
            txid, deposited = found
            if not self.state.claim_swap_payout(order["order_id"], txid, deposited):
                continue  # claimed already (another pass, an earlier run)
            settled += 1
            amount = payout_of(order, deposited)
            if amount < MIN_PAYOUT[order["payout_chain"]]:
                self._settle(order, "deposit too small", None, None)
                continue
            try:
                paid = self._pay(order, amount)
            except PayoutError as e:
                log.warning("swap order %s not paid: %s", order["order_id"], e)
                self._settle(order, "payout failed", None, None)
                continue
            self._settle(order, "paid", paid, amount)
        return settled

    def _settle(self, order: dict, status: str, txid: str | None, amount: int | None) -> None:
        self.state.settle_swap_order(order["order_id"], status, txid, amount, self.clock())

    def _deposit(self, order: dict) -> tuple[str, int] | None:
        """(first txid, total) of the deposits to the order's address in blocks, or None."""
        address = order["deposit_address"]
        if order["deposit_chain"] == "btc":
            if self.btc is None:
                return None
            rows = self.btc.read.deposits_to([address])
            if not rows:
                return None
            return rows[0]["txid"], sum(r["value"] for r in rows)
        if self.tron is None:
            return None
        legs = self.tron.live_trc20_of(
            address,
            sent=False,
            contract=USDT_ADDRESS,
            confirmed=True,  # in a produced block, not the mempool
            newest_first=False,
            limit=1000,
        )
        if not legs:
            return None
        return legs[0][7], sum(int(leg[5]) for leg in legs)

    def _pay(self, order: dict, amount: int) -> str:
        if self.operator_id is None:
            raise PayoutError(f"swap site {self.site_id!r} has no operator to pay from")
        if order["payout_chain"] == "tron":
            return self._pay_usdt(order["payout_address"], amount)
        return self._pay_btc(order["payout_address"], amount)

    # -- the payouts ----------------------------------------------------------------------

    def _pay_usdt(self, to: str, units: int) -> str:
        """A USDT transfer from the operator's personal Tron account, broadcast live."""
        from sandbox.tron.errors import TronRejected

        if self.tron is None:
            raise PayoutError("no live Tron chain to pay USDT on")
        found = self.tron.world_read(lambda c: tron_store.personal_key(c, self.operator_id))
        if found is None:
            raise PayoutError(f"{self.operator_id!r} has no Tron account")
        address, secret = found
        data = selector("transfer(address,uint256)") + encode(["address", "uint256"], [to, units])
        value = {
            "owner_address": tron_address.to_hex(tron_address.to_bytes(address)),
            "contract_address": tron_address.to_hex(tron_address.to_bytes(USDT_ADDRESS)),
            "data": data.hex(),
        }
        number, bid, head_ms = self.tron.head()
        tx = build("TriggerSmartContract", value, number, bid, head_ms, head_ms + 60_000, FEE_LIMIT)
        try:
            return self.tron.broadcast(tx.sign(TronKey(bytes(secret))))
        except TronRejected as e:
            raise PayoutError(f"the Tron node refused the payout: {e}") from None

    def _pay_btc(self, to: str, sats: int) -> str:
        """A BTC payment from the operator's personal wallet, change back to it, broadcast
        live; the chain's lock is held from choosing coins to broadcasting."""
        from sandbox.ledger.live.mempool import BroadcastError

        live = self.btc
        if live is None:
            raise PayoutError("no live Bitcoin chain to pay BTC on")
        actor = self.operator_id
        assert actor is not None
        with live._lock, live.world.borrow() as world:
            mine = {r[0]: r[1:] for r in world_db.wallet_addresses(world, actor)}
            if not mine:
                raise PayoutError(f"{actor!r} has no Bitcoin wallet")
            rows = world_db.wallet_unspent(world, actor)
            ok = live.spendable([(r[0], r[1]) for r in rows])
            coins = [r for r, fine in zip(rows, ok, strict=True) if fine]
            coins += live.read.unspent_paying(list(mine))
            coins.sort(key=lambda c: (-c[2], c[0], c[1]))
            pay_script = script_pubkey(to)
            change_to = max(coins, key=lambda c: c[2])[3] if coins else ""
            chosen: list = []
            total = fee = 0
            for coin in coins:
                chosen.append(coin)
                total += coin[2]
                size = 11 + sum(_INPUT_VSIZE[mine[c[3]][0]] for c in chosen) + 2 * 9 + 2 * 34
                fee = FEE_RATE * size
                if total >= sats + fee:
                    break
            else:
                raise PayoutError(f"{actor!r} has {total} sat, not {sats} plus the fee")
            outputs = [TxOut(sats, pay_script)]
            change_script = script_pubkey(change_to)
            if total - sats - fee >= dust_threshold(change_script):
                outputs.append(TxOut(total - sats - fee, change_script))
            tx = Tx(
                inputs=[TxIn(bytes.fromhex(c[0])[::-1], c[1]) for c in chosen],
                outputs=outputs,
            )
            for i, (_, _, value, address) in enumerate(chosen):
                sign_input(tx, i, Key(bytes(mine[address][1])), script_pubkey(address), value)
            try:
                return live.broadcast(serialize(tx).hex())
            except BroadcastError as e:
                raise PayoutError(f"the Bitcoin chain refused the payout: {e}") from None
