"""The answer key: every answer field of ANSWER_FIELDS derived from a built world, per seat.

An objective's answer is a `Ref` (actor, site or flow; an id or a seat variable `$name`;
a field), looked up in the finished world's tables, so the key says exactly what the
world shows. Values are JSON: a string, a number, a sorted list, or a sweep mapping.

Actor fields
    name, username, email, phone, city, country, iban, document_number: its `actors` row.
    handle: its handle on the sites: the one of its first account (by id).
    exchange: the name of the exchange actor it banks with (`actors.exchange_id`).
    exchange_account: its `exchange_accounts.account_id` there (else its first account).
    pgp_fingerprint: the key of its first account (by id) that shows one, else its first
        `pgp_keys` row; 40 uppercase hex digits.
    address: the address its first account (by id) with `btc_address_id` publishes.
    addresses: sorted addresses of its personal wallet that received any output.
    balance: BTC unspent in its personal wallet at the end of the world (8 decimals).
    login_ip: the ip of its latest `exchange_logins` row.
    tron_address: the address of its own Tron wallet (`tron_accounts` wallet personal,
        purpose receive), where transfers and OTC sales to it arrive.
    camera_serial: the camera serial in the EXIF data of its first listing photo with one.
    sweep: {"spend_from": sorted addresses of the seat's own wallet of the actor (its
        personal wallet, or the stash wallet of the seat's share, see seats.py) holding
        unspent outputs at the end, "pay_to": the seat's training wallet address}.
    freeze: {"freeze_of": the actor's own Tron addresses (no service wallet), "requester":
        the seat's requester id}: judged from the USDT issuer's records.
    seize: {"seize_from": those addresses, "pay_to": the seat's Tron training wallet,
        "requester": the seat's requester id}.

Site fields
    name, address (.onion or .test host), server_ip, analytics_id: its `sites` row.
    operator_name: the real name of its operator actor.
    published_address: a donation site's `published` address (none for per-donor sites).
    donation_addresses: sorted set of the addresses that donation flows on that site paid.

Flow fields count the flow's *payments*: the `flow_events` steps where the payer pays.

    ============== ================ ==============================================
    flow kind      payment step     what it is
    ============== ================ ==============================================
    donation       donation         donor -> campaign address
    purchase       purchase         buyer -> market escrow address, or shop vendor
    commission     commission       market escrow -> operator
    consolidation  consolidation    the sweep into one address
    peel_chain     hop-0            the payer's payment into its peel chain
    mixing         mix-deposit      payer -> mixer deposit address
    cash_out       cash-out         payer -> its deposit address at the exchange
    transfer       transfer         payer -> receiver
    otc_sale       otc-sale         seller -> OTC broker (Tron)
    swap           swap-deposit     payer -> the swap service's fresh deposit address
    ============== ================ ==============================================

    total: BTC sum of those payments' amounts (8 decimals); count: their number;
    txids: sorted txids of their transactions; addresses: sorted set of the addresses
    they paid (the output of the payment's value in each transaction).
    exchange: the name of the exchange the money reached: the first exchange a step of
    the flow pays (cash_out, a peel chain ending at an exchange); otherwise the story is
    followed: a later flow on the same chain paid by one of this flow's receivers, and so on.

A flow with `chain: tron` is counted the same way from `tron_flow_events` (the Tron
simulation records the same payment steps): total is the sum in the flow's asset (USDT or
TRX, 6 decimals), txids are Tron txids, addresses the T... addresses the payments paid.
Site fields stay on the Bitcoin chain: donation_addresses counts only its donation flows.

A swap flow has a leg on each chain: its payments (total, count, txids, addresses) are the
deposits on the flow's `chain` (BTC or USDT), and payout_txids, payout_addresses and
payout_total sum up the service's payouts on the other chain (step swap-payout: USDT on
Tron for a BTC deposit, BTC for a USDT one). Other flows have no payouts.

`member: M` keeps the events whose source or target is M. Where the payment step does
not name the receiver (a market purchase pays the escrow; a mixer pays out later), and M
pays nothing in it, M's received steps count instead: escrow-payout for purchase,
mix-payout for mixing (what the member really got, as the chain shows it).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import BuildError
from ..ledger.codec.amounts import btc_to_sat, format_btc, sat_to_btc
from ..scenario.i18n import Text, localized
from ..scenario.model import ANSWER_FIELDS, Ref, Scenario
from ..tron import address as tron_address
from ..tron.keys import TronKey
from . import tron_store
from .seats import Seat

TRON_UNIT = 1_000_000  # USDT and TRX (sun) both have 6 decimals

PAYMENT_STEPS = {
    "donation": "donation",
    "purchase": "purchase",
    "commission": "commission",
    "consolidation": "consolidation",
    "peel_chain": "hop-0",
    "mixing": "mix-deposit",
    "cash_out": "cash-out",
    "transfer": "transfer",
    "otc_sale": "otc-sale",
    "swap": "swap-deposit",
}
# A swap's other leg: the service's payout on the other chain (the payout_* flow fields).
PAYOUT_STEP = "swap-payout"
RECEIVED_STEPS = {"purchase": "escrow-payout", "mixing": "mix-payout"}
ACTOR_COLUMNS = (
    "name", "username", "email", "phone", "city", "country", "iban", "document_number",
)  # fmt: skip
SITE_COLUMNS = ("name", "address", "server_ip", "analytics_id")
# `{{` and `}}` are literal braces (as the validator documents); they are matched first so
# that `{{x.y}}` stays the text `{x.y}`.
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z0-9_-]+)\.([a-z_]+)\}")


USDT_UNIT = 1_000_000  # one USDT in the token's 10^-6 units


@dataclass(frozen=True)
class Event:
    """One flow_events (or tron_flow_events) row, with its transaction's txid.

    address: the address a Tron payment paid (a Bitcoin one is found from its outputs).
    """

    rowid: int
    flow_id: str
    tx_id: int
    txid: str
    step: str
    source: str | None
    target: str | None
    amount: int
    chain: str = "btc"
    address: str | None = None


class Answers:
    """Looks answers up in a built world (its tables complete, indexes preferably made)."""

    def __init__(self, conn: sqlite3.Connection, scenario: Scenario):
        """Answers of scenario's world, read through conn."""
        self.conn = conn
        self.scenario = scenario
        self.flows = {f.id: f for f in scenario.flows}
        self.actor_ids = {r[0] for r in conn.execute("SELECT id FROM actors")}
        self.site_ids = {r[0] for r in conn.execute("SELECT id FROM sites")}
        self.exchanges = {
            r[0]: r[1] for r in conn.execute("SELECT id, name FROM actors WHERE role='exchange'")
        }
        self._events: dict[str, list[Event]] = {}
        self._usdt_holding: dict[str, list[str]] = {}  # actor -> its addresses holding USDT

    # -- references -------------------------------------------------------------------

    @staticmethod
    def resolve(ref_id: str, seat: Seat | None) -> str:
        """An id, with a `$variable` replaced by the seat's binding."""
        if not ref_id.startswith("$"):
            return ref_id
        name = ref_id[1:]
        if seat is None or name not in seat.bindings:
            raise BuildError(f"seat variable {ref_id} is not bound")
        return seat.bindings[name]

    def value(self, ref: Ref, seat: Seat | None = None):
        """The answer a reference has for a seat."""
        target = self.resolve(ref.id, seat)
        if ref.of == "actor":
            return self.actor(target, ref.field, seat)
        if ref.of == "site":
            return self.site(target, ref.field)
        if ref.of == "flow":
            member = self.resolve(ref.member, seat) if ref.member else None
            return self.flow(target, ref.field, member)
        raise BuildError(f"unknown reference kind {ref.of!r}")

    def fill(self, text: Text, seat: Seat | None = None, language: str | None = None) -> str:
        """text (in language, else the scenario's default) with its {name.field}
        placeholders replaced by this seat's values."""
        text = localized(text, language, self.scenario.language)

        def one(m: re.Match) -> str:
            name, fld = m.group(1), m.group(2)
            if name is None:
                return m.group(0)[0]
            if name == "seat":
                if seat is None or fld not in ("code", "wallet"):
                    raise BuildError(f"unknown placeholder {m.group(0)}")
                value = seat.code if fld == "code" else seat.wallet_address
                if value is None:
                    raise BuildError(f"{m.group(0)}: the seats have no training wallet")
                return value
            target = seat.bindings.get(name, name) if seat else name
            if target in self.actor_ids and fld in ANSWER_FIELDS["actor"]:
                value = self.actor(target, fld, seat)
            elif target in self.site_ids and fld in ANSWER_FIELDS["site"]:
                value = self.site(target, fld)
            elif target in self.flows and fld in ANSWER_FIELDS["flow"]:
                value = self.flow(target, fld, None)
                if self.flows[target].chain == "tron" and fld == "total":
                    return format_tron(value)
            else:
                raise BuildError(f"unknown placeholder {m.group(0)}")
            return render(value)

        return PLACEHOLDER.sub(one, text)

    # -- actors -----------------------------------------------------------------------

    def one(self, sql: str, *args):
        """The first column of the first row, or None."""
        row = self.conn.execute(sql, args).fetchone()
        return None if row is None else row[0]

    def actor(self, actor_id: str, fld: str, seat: Seat | None = None):
        """One actor field."""
        if actor_id not in self.actor_ids:
            raise BuildError(f"no actor {actor_id!r} in the world")
        look_up = ACTOR_FIELDS.get(fld)
        if look_up is None:
            raise BuildError(f"no actor field {fld!r}")
        value = look_up(self, actor_id, seat)
        if value is None or value == []:
            raise BuildError(f"actor {actor_id!r} has no {fld} in the world")
        return value

    def _actor_handle(self, actor_id: str, seat) -> str | None:
        """The handle of the actor's first account."""
        return self.one("SELECT handle FROM accounts WHERE actor_id = ? ORDER BY id", actor_id)

    def _actor_exchange(self, actor_id: str, seat) -> str | None:
        """Name of the exchange the actor banks with."""
        ex = self.one("SELECT exchange_id FROM actors WHERE id = ?", actor_id)
        return self.exchanges.get(ex)

    def _actor_exchange_account(self, actor_id: str, seat) -> str | None:
        """The actor's account reference at its exchange (else its first one)."""
        return self.one(
            "SELECT e.account_id FROM exchange_accounts e JOIN actors a ON a.id = e.actor_id"
            " WHERE e.actor_id = ? ORDER BY e.exchange_id != coalesce(a.exchange_id, ''),"
            " e.exchange_id LIMIT 1",
            actor_id,
        )

    def _actor_pgp_fingerprint(self, actor_id: str, seat) -> str | None:
        """The fingerprint of the key the actor shows first, uppercase."""
        return self.pgp_fingerprint(actor_id)

    def pgp_fingerprint(self, actor_id: str) -> str | None:
        """The fingerprint of the key the actor shows first, uppercase (None: it has none)."""
        fp = self.one(
            "SELECT pgp_fingerprint FROM accounts WHERE actor_id = ?"
            " AND pgp_fingerprint IS NOT NULL ORDER BY id LIMIT 1",
            actor_id,
        ) or self.one(
            "SELECT fingerprint FROM pgp_keys WHERE actor_id = ? ORDER BY rowid LIMIT 1", actor_id
        )
        return fp.upper() if fp else None

    def _actor_camera_serial(self, actor_id: str, seat) -> str | None:
        """The camera serial the EXIF data of the actor's listing photos carries."""
        return self.one(
            "SELECT p.camera_serial FROM photos p JOIN listings l ON l.id = p.listing_id"
            " JOIN accounts ac ON ac.id = l.account_id WHERE ac.actor_id = ?"
            " AND p.camera_serial IS NOT NULL ORDER BY p.id LIMIT 1",
            actor_id,
        )

    def _actor_address(self, actor_id: str, seat) -> str | None:
        """The receiving address the actor publishes first."""
        return self.one(
            "SELECT ad.address FROM accounts ac JOIN addresses ad ON ad.id = ac.btc_address_id"
            " WHERE ac.actor_id = ? ORDER BY ac.id LIMIT 1",
            actor_id,
        )

    def _personal(
        self, actor_id: str, unspent: bool, wallet_id: int | None = None
    ) -> list[tuple[int, str, int]]:
        """(address id, address, value) of outputs paid to the actor's personal wallet.

        wallet_id: that wallet of the actor instead (a stash).
        """
        sql = (
            "SELECT ad.id, ad.address, o.value, o.tx_id, o.n FROM wallets w"
            " JOIN addresses ad ON ad.wallet_id = w.id"
            " JOIN outputs o ON o.address_id = ad.id"
            " WHERE w.actor_id = ? AND "
        )
        sql += "w.kind = 'personal'" if wallet_id is None else "w.id = ?"
        if unspent:
            sql += (
                " AND NOT EXISTS (SELECT 1 FROM inputs i"
                " WHERE i.prev_tx_id = o.tx_id AND i.prev_n = o.n)"
            )
        args = (actor_id,) if wallet_id is None else (actor_id, wallet_id)
        return [(r[0], r[1], r[2]) for r in self.conn.execute(sql, args)]

    def _actor_addresses(self, actor_id: str, seat) -> list[str]:
        """Every address of the personal wallet that received an output."""
        return sorted({a for _, a, _ in self._personal(actor_id, False)})

    def _actor_balance(self, actor_id: str, seat) -> float:
        """BTC unspent in the personal wallet at the end of the world."""
        return sat_to_btc(sum(v for _, _, v in self._personal(actor_id, True)))

    @staticmethod
    def seat_wallet(actor_id: str, seat: Seat | None) -> int | None:
        """The wallets.id of the seat's share of the actor's coins (None: its personal wallet)."""
        stash = seat.stashes.get(actor_id) if seat is not None else None
        return stash[1] if stash else None

    def holdings(self, actor_id: str, seat: Seat | None = None) -> list[tuple[int, str, int]]:
        """(address id, address, unspent sats) per address holding coins, by id.

        The addresses of the actor's personal wallet, or of the seat's share of its coins.
        """
        held: dict[int, list] = {}
        wallet = self.seat_wallet(actor_id, seat)
        for aid, address, value in self._personal(actor_id, True, wallet):
            held.setdefault(aid, [aid, address, 0])[2] += value
        return [tuple(held[k]) for k in sorted(held)]

    def _actor_login_ip(self, actor_id: str, seat) -> str | None:
        """The IP of the actor's latest exchange login."""
        return self.one(
            "SELECT ip FROM exchange_logins WHERE actor_id = ? ORDER BY time DESC, ip LIMIT 1",
            actor_id,
        )

    def _actor_sweep(self, actor_id: str, seat) -> dict | None:
        """What a sweep must spend from, and where it must pay."""
        spend_from = sorted({a for _, a, _ in self.holdings(actor_id, seat)})
        if not spend_from:
            raise BuildError(f"actor {actor_id!r} holds no coins at the end of the world")
        if seat is None or seat.wallet_address is None:
            raise BuildError("a sweep answer needs seats with a training wallet (seats.wallet)")
        return {"spend_from": spend_from, "pay_to": seat.wallet_address}

    def _actor_tron_address(self, actor_id: str, seat) -> str | None:
        """The address of the actor's own Tron wallet, where payments to it arrive."""
        found = tron_store.addresses_of(self.conn, actor_id, "personal", "receive")
        return found[0] if found else None

    def _tron_addresses(self, actor_id: str) -> list[str]:
        """The actor's own Tron addresses (none of a service's wallets), sorted."""
        service = set(tron_store.SERVICE_WALLETS)
        return sorted(
            a
            for a in tron_store.addresses_of(self.conn, actor_id)
            if (tron_store.account_owner(self.conn, a) or (None, ""))[1] not in service
        )

    def tipoff_address(self, actor_id: str, seat: Seat) -> str:
        """The fresh address a move_usdt inject moves the actor's USDT to for a seat: its key
        derives from the actor's own (nobody else can make it) and the seat."""
        addresses = self._tron_addresses(actor_id)
        secret = tron_store.account_secret(self.conn, addresses[0]) if addresses else None
        if secret is None:
            raise BuildError(f"actor {actor_id!r} has no Tron address to move USDT from")
        derived = hashlib.sha256(b"tip-off:" + secret + str(seat.n).encode()).digest()
        return tron_address.to_base58(TronKey(derived).address)

    def tron_receiving(self, actor_id: str) -> str:
        """Where USDT paid to an actor goes: its first own Tron address."""
        addresses = self._tron_addresses(actor_id)
        if not addresses:
            raise BuildError(f"actor {actor_id!r} has no Tron address to be paid at")
        return addresses[0]

    def _moved_to(self, actor_id: str, seat: Seat) -> list[str]:
        """The addresses the seat's move_usdt injects move this actor's USDT to."""
        return [
            self.tipoff_address(actor_id, seat)
            for inj in self.scenario.injects
            if inj.action == "move_usdt"
            and inj.to is None
            and inj.actor is not None
            and self.resolve(inj.actor, seat) == actor_id
        ]

    def _actor_freeze(self, actor_id: str, seat) -> dict | None:
        """Which addresses a freeze at the issuer must blacklist (the actor's own, and where
        a tip-off inject moves its USDT for this seat), and whose request it is."""
        addresses = self._tron_addresses(actor_id)
        if not addresses:
            raise BuildError(f"actor {actor_id!r} has no Tron address to freeze")
        if seat is None:
            raise BuildError("a freeze answer is a seat's own request: it needs seats")
        # Only a freeze where the money is stops it: an emptied address is no answer. The
        # same for every seat (and for seize): read the balances once per actor.
        if actor_id not in self._usdt_holding:
            self._usdt_holding[actor_id] = [
                a for a in addresses if tron_store.usdt_balance(self.conn, a) >= USDT_UNIT
            ]
        holding = self._usdt_holding[actor_id]
        moved = self._moved_to(actor_id, seat)
        if not holding and not moved:
            raise BuildError(
                f"actor {actor_id!r} holds no USDT at the end of the world, so no freeze at "
                "the issuer can stop any (USDT deposited at an exchange sits in its hot "
                "wallet: that is the exchange's to freeze)"
            )
        return {"freeze_of": sorted({*holding, *moved}), "requester": f"seat-{seat.n}"}

    def _actor_seize(self, actor_id: str, seat) -> dict | None:
        """Whose frozen USDT a reissue must return, to which wallet, at whose request."""
        frozen = self._actor_freeze(actor_id, seat)
        assert frozen is not None and seat is not None  # _actor_freeze raised otherwise
        if seat.tron_address is None:
            raise BuildError(
                "a seize answer pays the seat's Tron training wallet: the seats need a "
                "training wallet (seats.wallet) in a world whose story uses Tron"
            )
        return {
            "seize_from": frozen["freeze_of"],
            "pay_to": seat.tron_address,
            "requester": frozen["requester"],
        }

    # -- sites ------------------------------------------------------------------------

    def site(self, site_id: str, fld: str):
        """One site field."""
        if site_id not in self.site_ids:
            raise BuildError(f"no site {site_id!r} in the world")
        look_up = SITE_FIELDS.get(fld)
        if look_up is None:
            raise BuildError(f"no site field {fld!r}")
        value = look_up(self, site_id)
        if value is None or value == []:
            raise BuildError(f"site {site_id!r} has no {fld} in the world")
        return value

    def _site_operator_name(self, site_id: str) -> str | None:
        """The real name of the site's operator."""
        return self.one(
            "SELECT a.name FROM sites s JOIN actors a ON a.id = s.operator_id WHERE s.id = ?",
            site_id,
        )

    def _site_published_address(self, site_id: str) -> str | None:
        """A donation site's one published address (None: a fresh address per donor)."""
        if any(s.id == site_id and s.fresh_address_per_donor for s in self.scenario.sites):
            return None
        return self.one(
            "SELECT a.address FROM addresses a JOIN wallets w ON w.id = a.wallet_id"
            " WHERE w.site_id = ? AND w.kind = 'donation' AND a.purpose = 'published'",
            site_id,
        )

    def _site_tron_published_address(self, site_id: str) -> str | None:
        """A donation site's one published Tron address (None: a fresh one per donor)."""
        site = next(s for s in self.scenario.sites if s.id == site_id)
        if site.fresh_address_per_donor or site.operator is None:
            return None
        published = tron_store.addresses_of(
            self.conn, site.operator, "donation", f"donation:{site_id}"
        )
        return published[0] if published else None

    def _site_donation_addresses(self, site_id: str, chain: str = "btc") -> list[str]:
        """Every address the site's donation flows on chain paid."""
        flows = [
            f.id
            for f in self.scenario.flows
            if f.kind == "donation" and f.site == site_id and f.chain == chain
        ]
        return sorted(
            {a for f in flows for e in self.events(f) if (a := self.paid_address(e)) is not None}
        )

    # -- flows ------------------------------------------------------------------------

    def events(self, flow_id: str) -> list[Event]:
        """Every event of a flow, in the order they were recorded (a swap's Bitcoin legs
        first, then its Tron legs: it has events on both chains)."""
        if flow_id not in self._events:
            flow = self.flows[flow_id]
            events = []
            if flow.chain == "btc" or flow.kind == "swap":
                events += [
                    Event(*r)
                    for r in self.conn.execute(
                        "SELECT e.rowid, e.flow_id, e.tx_id, t.txid, e.step, e.source_id,"
                        " e.target_id, e.amount FROM flow_events e JOIN transactions t"
                        " ON t.id = e.tx_id WHERE e.flow_id = ? ORDER BY e.rowid",
                        (flow_id,),
                    )
                ]
            if flow.chain == "tron" or flow.kind == "swap":
                events += [
                    Event(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[8], "tron", r[9])
                    for r in tron_store.flow_events(self.conn, flow_id)
                ]
            self._events[flow_id] = events
        return self._events[flow_id]

    def payouts(self, flow_id: str, member: str | None = None) -> list[Event]:
        """A swap flow's payouts on the other chain (to one member, when given)."""
        events = [e for e in self.events(flow_id) if e.step == PAYOUT_STEP]
        return events if member is None else [e for e in events if e.target == member]

    def payments(self, flow_id: str, member: str | None = None) -> list[Event]:
        """The flow's payment events (of one member, when given): what flow fields count."""
        kind = self.flows[flow_id].kind
        step = PAYMENT_STEPS[kind]
        events = [e for e in self.events(flow_id) if e.step == step]
        if member is None:
            return events
        mine = [e for e in events if member in (e.source, e.target)]
        if not mine and kind in RECEIVED_STEPS:
            mine = [
                e
                for e in self.events(flow_id)
                if e.step == RECEIVED_STEPS[kind] and e.target == member
            ]
        return mine

    def paid_address(self, event: Event) -> str | None:
        """The address an event's transaction paid its amount to."""
        if event.chain == "tron":
            return event.address
        rows = self.conn.execute(
            "SELECT ad.address, ad.purpose FROM outputs o JOIN addresses ad ON ad.id = o.address_id"
            " WHERE o.tx_id = ? AND o.value = ? ORDER BY o.n",
            (event.tx_id, event.amount),
        ).fetchall()
        rows.sort(key=lambda r: r[1] == "change")
        return rows[0][0] if rows else None

    def flow(self, flow_id: str, fld: str, member: str | None = None):
        """One flow field."""
        if flow_id not in self.flows:
            raise BuildError(f"no flow {flow_id!r} in the scenario")
        if member is not None and member not in self.actor_ids:
            raise BuildError(f"no actor {member!r} in the world")
        look_up = FLOW_FIELDS.get(fld)
        if look_up is None:
            raise BuildError(f"no flow field {fld!r}")
        value = look_up(self, flow_id, member)
        if value is None:
            who = f" of {member!r}" if member else ""
            raise BuildError(f"flow {flow_id!r} has no payments{who} in the world")
        return value

    def _flow_total(self, payments: list[Event]) -> float:
        """Sum of the payments: BTC, or the Tron flow's asset (6 decimals)."""
        if payments[0].chain == "tron":
            return round(sum(e.amount for e in payments) / TRON_UNIT, 6)
        return sat_to_btc(sum(e.amount for e in payments))

    def _flow_count(self, payments: list[Event]) -> int:
        """How many payments there are."""
        return len(payments)

    def _flow_txids(self, payments: list[Event]) -> list[str]:
        """The payments' txids."""
        return sorted({e.txid for e in payments})

    def _flow_addresses(self, payments: list[Event]) -> list[str]:
        """The addresses the payments paid."""
        return sorted({a for e in payments if (a := self.paid_address(e)) is not None})

    def _flow_exchange(self, flow_id: str, member: str | None) -> str | None:
        """Name of the first exchange the flow's money reached, following the story."""
        events = self.events(flow_id)
        if member is not None:
            events = [e for e in events if member in (e.source, e.target)]
        visited = {flow_id}
        chain = self.flows[flow_id].chain
        while events:
            for e in events:
                if e.target in self.exchanges:
                    return self.exchanges[e.target]
            receivers = {e.target for e in events if e.target in self.actor_ids}
            since = min(e.tx_id for e in events)
            events = []
            for f in self.scenario.flows:
                if f.id in visited or f.chain != chain:  # tx ids order only one chain
                    continue
                later, paid = [], set(receivers)
                for e in self.events(f.id):  # the receivers' payments, and what they led to
                    if e.source in paid and e.tx_id > since:
                        later.append(e)
                        paid.add(e.target)
                if later:
                    visited.add(f.id)
                    events = later
                    break
        return None


def _actor_column(column: str) -> Callable[[Answers, str, Seat | None], object]:
    """An actor field read as it is from the actor's `actors` row."""

    def look_up(answers: Answers, actor_id: str, seat: Seat | None) -> object:
        return answers.one(f"SELECT {column} FROM actors WHERE id = ?", actor_id)

    return look_up


def _site_column(column: str) -> Callable[[Answers, str], object]:
    """A site field read as it is from the site's `sites` row."""

    def look_up(answers: Answers, site_id: str) -> object:
        return answers.one(f"SELECT {column} FROM sites WHERE id = ?", site_id)

    return look_up


def _of_payments(
    summary: Callable[[Answers, list[Event]], object],
) -> Callable[[Answers, str, str | None], object]:
    """A flow field summarising the flow's payments (of the member); None when there are none."""

    def look_up(answers: Answers, flow_id: str, member: str | None) -> object:
        payments = answers.payments(flow_id, member)
        return summary(answers, payments) if payments else None

    return look_up


def _of_payouts(
    summary: Callable[[Answers, list[Event]], object],
) -> Callable[[Answers, str, str | None], object]:
    """A flow field summarising a swap's payouts (to the member); None when there are none."""

    def look_up(answers: Answers, flow_id: str, member: str | None) -> object:
        payouts = answers.payouts(flow_id, member)
        return summary(answers, payouts) if payouts else None

    return look_up


# How each answer field of scenario.model.ANSWER_FIELDS is looked up (all of them, and no
# other): actor fields from (answers, actor id, seat), site fields from (answers, site id),
# flow fields from (answers, flow id, member).
ACTOR_FIELDS: dict[str, Callable[[Answers, str, Seat | None], object]] = {
    **{column: _actor_column(column) for column in ACTOR_COLUMNS},
    "handle": Answers._actor_handle,
    "exchange": Answers._actor_exchange,
    "exchange_account": Answers._actor_exchange_account,
    "pgp_fingerprint": Answers._actor_pgp_fingerprint,
    "address": Answers._actor_address,
    "addresses": Answers._actor_addresses,
    "balance": Answers._actor_balance,
    "login_ip": Answers._actor_login_ip,
    "tron_address": Answers._actor_tron_address,
    "camera_serial": Answers._actor_camera_serial,
    "sweep": Answers._actor_sweep,
    "freeze": Answers._actor_freeze,
    "seize": Answers._actor_seize,
}
SITE_FIELDS: dict[str, Callable[[Answers, str], object]] = {
    **{column: _site_column(column) for column in SITE_COLUMNS},
    "operator_name": Answers._site_operator_name,
    "published_address": Answers._site_published_address,
    "donation_addresses": Answers._site_donation_addresses,
    "tron_published_address": Answers._site_tron_published_address,
    "tron_donation_addresses": lambda a, site_id: a._site_donation_addresses(site_id, "tron"),
}
FLOW_FIELDS: dict[str, Callable[[Answers, str, str | None], object]] = {
    "total": _of_payments(Answers._flow_total),
    "count": _of_payments(Answers._flow_count),
    "txids": _of_payments(Answers._flow_txids),
    "addresses": _of_payments(Answers._flow_addresses),
    "exchange": Answers._flow_exchange,
    "payout_txids": _of_payouts(Answers._flow_txids),
    "payout_addresses": _of_payouts(Answers._flow_addresses),
    "payout_total": _of_payouts(Answers._flow_total),
}


def format_tron(amount: float) -> str:
    """A USDT or TRX amount with its 6 decimals, e.g. "1821.646024"."""
    units = round(amount * TRON_UNIT)
    return f"{units // TRON_UNIT}.{units % TRON_UNIT:06d}"


def render(value) -> str:
    """An answer value as text in a question or artefact."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):  # the answer key's floats are BTC amounts
        return format_btc(btc_to_sat(value))
    if isinstance(value, list):
        return ", ".join(render(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {render(v)}" for k, v in value.items())
    return str(value)


def seat_answers(conn: sqlite3.Connection, scenario: Scenario, seat: Seat) -> dict:
    """{objective id: answer} for one seat."""
    answers = Answers(conn, scenario)
    return {o.id: answers.value(o.answer, seat) for o in scenario.objectives}
