"""The inject runner: the scenario's events, fired at their time, at a milestone or by hand.

    injects = Injects(world_path, state_dir, progress, sandbox)
    injects.tick()                       # every `at` inject whose time has come (once)
    injects.on_solved(3, "vendor-name")  # seat 3 solved it: its `solved` injects fire
    injects.fire("down")                 # the instructor fires one by hand
    injects.on_request("seat-3", "T...", confidential=False)  # a request to the issuer
    injects.list()                       # what the instructor page shows

The injects table of world.db gives each inject's trigger, action and a config per seat
(variables already resolved to world ids, placeholders filled). An inject whose config
is the same for every seat fires once for the class (recorded with seat None), else once
per seat. Every action changes what trainees see through the gateway:

message       a note on the trainee's page (progress.add_message)
site_offline  the site's onion stops resolving (Tor: descriptor cannot be found)
site_online   it comes back (and an exit-scam notice on it is lifted)
exit_scam     every page of the site is a 503 "withdrawals paused" notice (state.db)
forum_post    a new thread by the actor's forum account, dated now (state.db)
move_funds    a real signed transaction from the actor's coins, broadcast on the live
              chain (so it is on the explorer, mined); from its personal wallet, or from
              the seat's own share (config "wallet": a wallets.id) when seats share it
move_usdt     the actor's USDT (config "amount", else all of it) moves on the live Tron
              chain, signed with the actor's own key from the world, to config
              "to_address" (a fresh address of the actor for the seat, or the `to`
              actor's): a tip-off, typically `when: disclosed`, which fires for a seat
              that asked the USDT issuer about an address of the actor without
              confidentiality, before the issuer acts on it

A fire that fails raises InjectError and records nothing.
"""

from __future__ import annotations

import builtins
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from ..errors import InjectError
from ..issuer.contract import balance as usdt_balance
from ..issuer.contract import call as usdt_call
from ..ledger.address import InvalidAddress, decode_address, script_pubkey
from ..ledger.codec.amounts import format_btc
from ..ledger.keys import Key
from ..ledger.live.chain import LiveChain
from ..ledger.live.mempool import BroadcastError, dust_threshold
from ..ledger.tx import Tx, TxIn, TxOut, serialize, sign_input, vsize
from ..tron.errors import TronRejected
from ..world import store as world_db
from ..world import tron_store
from ..world.clock import WorldClock
from ..world.store import open_world
from .course import Inject, load_course

if TYPE_CHECKING:
    from marketplaces.common.state import StateStore

__all__ = ["FEE_RATE", "Fired", "Injects"]

log = logging.getLogger(__name__)

FEE_RATE = 5  # sat/vB for the suspect's transactions
# Upper bounds of an input's virtual size by the type of the address it spends.
_INPUT_VSIZE = {"p2wpkh": 68, "p2sh": 91, "p2pkh": 148}
_NOTICE_TEXT = "Withdrawals are paused for maintenance."
# Sites served by other apps than the marketplaces: no exit-scam page, no forum.
_NOT_MARKETPLACES = ("explorer", "exchange", "issuer")


class Fired(NamedTuple):
    """One fire of an inject: for a seat (None: the class), and what it did."""

    inject: str
    seat: int | None
    detail: str  # move_funds: the txid; forum_post: the thread's URL path; else a summary


def _seats(inject: Inject) -> list[int | None]:
    """The seats an inject has a config for, in order (None alone: a world without seats)."""
    return sorted(inject.configs, key=lambda seat: -1 if seat is None else seat)


class Injects:
    """Fires a world's injects against a running sandbox and records them in progress."""

    def __init__(
        self,
        world_path: str | Path,
        state_dir: str | Path,
        progress,
        sandbox=None,
        live: LiveChain | None = None,
    ):
        """Read the injects; sandbox is the running Sandbox (sites, gateway), live its chain."""
        self.world_path = Path(world_path).resolve()
        self.state_dir = Path(state_dir)
        self.progress = progress
        self.sandbox = sandbox
        self.live = live
        self.injects = load_course(self.world_path).injects
        self._by_id = {i.id: i for i in self.injects}
        self._lock = threading.RLock()
        self._store: StateStore | None = None
        self.errors: dict[tuple[str, int | None], str] = {}  # last failure of automatic fires

    # -- triggers -----------------------------------------------------------------------

    def tick(self, now: float | None = None) -> list[Fired]:
        """Fire every `at` inject that is due and has not fired; returns (id, seat) fired."""
        started = self.progress.started_at()
        if started is None:
            return []
        now = time.time() if now is None else now
        due = [
            i
            for i in self.injects
            if i.trigger == "at" and i.at_minutes is not None and started + i.at_minutes * 60 <= now
        ]
        if not due:
            return []
        fired = self._fired()  # one read; _auto checks again under the lock
        done = []
        for inject in due:
            seats = [None] if inject.shared is not None else _seats(inject)
            for seat in seats:
                if (inject.id, seat) not in fired:
                    done += self._auto(inject, seat)
        return done

    def on_request(self, requester_id: str, subject: str, confidential: bool) -> list[Fired]:
        """A requester asked the USDT issuer about subject: fire, for its seat, the
        `when: disclosed` injects whose actor holds that address, unless it asked for
        confidentiality."""
        if confidential or not requester_id.startswith("seat-"):
            return []
        try:
            seat = int(requester_id.removeprefix("seat-"))
        except ValueError:
            return []
        done = []
        for inject in self.injects:
            if inject.trigger != "disclosed":
                continue
            actor = (inject.config(seat) or {}).get("actor")
            if not actor:
                continue
            with self._world() as conn:
                addresses = set(tron_store.addresses_of(conn, actor))
            if subject in addresses:
                done += self._auto(inject, seat)
        return done

    def _fired(self) -> set[tuple[str, int | None]]:
        """Every (inject, seat) fired so far (seat None: for the class)."""
        return {(r["inject"], r["seat"]) for r in self.progress.fired_list()}

    def on_solved(self, seat: int, objective_id: str) -> list[Fired]:
        """Fire, for that seat only, the `solved` injects of an objective it just solved."""
        done = []
        for inject in self.injects:
            if inject.trigger == "solved" and inject.objective_id == objective_id:
                done += self._auto(inject, seat)
        return done

    def _auto(self, inject: Inject, seat: int | None) -> list[Fired]:
        """Fire an automatic inject once for a seat (or the class); failures are kept, not raised."""
        with self._lock:
            if self.progress.fired(inject.id, seat):
                return []
            try:
                detail = self._act(inject, seat)
            except InjectError as e:
                if self.errors.get((inject.id, seat)) != str(e):
                    log.warning("inject %s for %s failed: %s", inject.id, _who(seat), e)
                self.errors[(inject.id, seat)] = str(e)
                return []
            self.errors.pop((inject.id, seat), None)
            self._record(inject, seat)
        return [Fired(inject.id, seat, detail)]

    def fire(self, inject_id: str, seat: int | None = None) -> list[Fired]:
        """The instructor fires an inject by hand (again, too): for one seat, or every seat.

        Raises InjectError (unknown inject or seat, or the action failed); a fire that fails
        for one seat leaves the seats fired before it recorded.
        """
        inject = self._by_id.get(inject_id)
        if inject is None:
            raise InjectError(f"no inject {inject_id!r}")
        seats = _seats(inject) if seat is None and inject.shared is None else [seat]
        done = []
        with self._lock:
            for s in seats:
                detail = self._act(inject, s)
                self._record(inject, s)
                done.append(Fired(inject.id, s, detail))
        return done

    def _record(self, inject: Inject, seat: int | None) -> None:
        """Note the fire in progress and the log."""
        self.progress.record_inject(inject.id, seat)
        log.info("inject %s (%s) fired for %s", inject.id, inject.action, _who(seat))

    def list(self) -> list[dict]:
        """Every inject with its trigger, action, what it does, and whether it fired."""
        started = self.progress.started_at()
        fired = self._fired()
        out = []
        for inject in self.injects:
            seats = sorted(s for s in inject.configs if s is not None)
            fired_all = (inject.id, None) in fired
            fired_seats = sorted(s for i, s in fired if i == inject.id and s is not None)
            due = None
            if inject.trigger == "at" and started is not None and inject.at_minutes is not None:
                due = started + inject.at_minutes * 60
            shared = inject.shared
            sample = shared if shared is not None else inject.configs[seats[0]]
            out.append(
                {
                    "id": inject.id,
                    "position": inject.position,
                    "trigger": inject.trigger,
                    "at_minutes": inject.at_minutes,
                    "objective_id": inject.objective_id,
                    "action": inject.action,
                    "summary": _summary(inject.action, sample or {}),
                    "per_seat": shared is None,
                    "due": due,
                    "fired": fired_all or bool(fired_seats),
                    "fired_all": fired_all,
                    "fired_seats": fired_seats,
                    "errors": {s: e for (i, s), e in self.errors.items() if i == inject.id},
                }
            )
        return out

    def close(self) -> None:
        """Close this thread's state-file connection."""
        if self._store is not None:
            self._store.close()

    # -- actions ------------------------------------------------------------------------

    def _act(self, inject: Inject, seat: int | None) -> str:
        """Run an inject's action with the config of a seat (None: the class)."""
        cfg = inject.config(seat)
        action = self.ACTIONS.get(inject.action)
        if action is None:
            raise InjectError(f"inject {inject.id!r}: unknown action {inject.action!r}")
        try:
            return action(self, inject, seat, cfg)
        except InjectError as e:
            raise InjectError(f"inject {inject.id!r} ({inject.action}): {e}") from None

    def _do_message(self, inject: Inject, seat: int | None, cfg: dict) -> str:
        """A message on the trainee's page (everyone's when seat is None)."""
        text = _need(cfg, "text")
        self.progress.add_message(seat, text, cfg.get("texts"))
        return text

    def _do_site_offline(self, inject: Inject, seat: int | None, cfg: dict) -> str:
        """Take the site out of the gateway: its onion no longer resolves."""
        self._sandbox_site(cfg)
        self.sandbox.set_online(cfg["site"], False)
        return f"{cfg['site']} offline"

    def _do_site_online(self, inject: Inject, seat: int | None, cfg: dict) -> str:
        """Bring the site back, and lift an exit-scam notice on it."""
        site = self._sandbox_site(cfg)
        self.sandbox.set_online(cfg["site"], True)
        if site.kind not in _NOT_MARKETPLACES:
            self._state().clear_notice(cfg["site"])
        return f"{cfg['site']} online"

    def _do_exit_scam(self, inject: Inject, seat: int | None, cfg: dict) -> str:
        """Every page of the site becomes the 'withdrawals paused' notice."""
        site_id = _need(cfg, "site")
        kind = self._site_kind(site_id)
        if kind in _NOT_MARKETPLACES:
            raise InjectError(f"site {site_id!r} is an {kind}: exit scams are for hidden services")
        text = cfg.get("text") or _NOTICE_TEXT
        self._state().set_notice(site_id, "exit_scam", text, self._site_clock(site_id))
        return f"{site_id} exit-scams: {text}"

    def _do_forum_post(self, inject: Inject, seat: int | None, cfg: dict) -> str:
        """A new thread on the forum by the actor's account, dated on the forum's clock."""
        site_id, actor = _need(cfg, "site"), _need(cfg, "actor")
        text = _need(cfg, "text")
        title = (cfg.get("title") or text.splitlines()[0])[:150]
        if self._site_kind(site_id) != "forum":
            raise InjectError(f"site {site_id!r} is not a forum")
        with self._world() as conn:
            account = world_db.poster(conn, site_id, actor)
            if account is None:
                raise InjectError(f"no actor {actor!r}")
            boards = world_db.boards_of(conn, site_id)
        if not boards:
            raise InjectError(f"forum {site_id!r} has no boards")
        wanted = str(cfg.get("board") or "")
        board = next(
            (b for b in boards if wanted and wanted in (str(b["id"]), b["name"])), boards[0]
        )
        now = self._site_clock(site_id)
        state = self._state()
        user_id = state.actor_user(site_id, account["handle"], account["joined"] or now)
        thread_id = state.create_thread(site_id, board["id"], user_id, title, text, now)
        return f"/thread/t{thread_id}"

    def _do_move_funds(self, inject: Inject, seat: int | None, cfg: dict) -> str:
        """The actor's wallet pays `to` (amount BTC, or everything minus the fee)."""
        actor, to = _need(cfg, "actor"), _need(cfg, "to")
        amount = cfg.get("amount")
        wallet = cfg.get("wallet")
        live = self._live()
        # Hold the chain's lock from choosing coins to broadcast: nobody spends them between.
        with live._lock, live.world.borrow() as world:
            coins = self._coins(live, world, actor, wallet)
            if not coins:
                raise InjectError(f"actor {actor!r} has no coins to move")
            # The builder may have chosen the address already (the payer's deposit address).
            pay_to = cfg.get("to_address") or self._destination(live, world, actor, to)
            change_to = self._change_address(live, world, actor, coins, wallet)
            raw = _build(coins, pay_to, change_to, amount, actor)
            try:
                txid = live.broadcast(raw.hex())
            except BroadcastError as e:
                raise InjectError(f"the transaction was refused: {e}") from None
        log.info("inject %s: %s moved funds to %s in %s", inject.id, actor, pay_to, txid)
        return txid

    def _do_move_usdt(self, inject: Inject, seat: int | None, cfg: dict) -> str:
        """The actor's USDT moves from its richest Tron address to config to_address."""
        actor, pay_to = _need(cfg, "actor"), _need(cfg, "to_address")
        chain = getattr(self.sandbox, "tron_live", None) if self.sandbox is not None else None
        if chain is None:
            raise InjectError("no running Tron node: USDT moves on its live chain")
        with self._world() as conn:
            addresses = tron_store.addresses_of(conn, actor)
            held = sorted(((usdt_balance(chain, a), a) for a in addresses), reverse=True)
            if not held or held[0][0] <= 0:
                raise InjectError(f"actor {actor!r} holds no USDT to move")
            value, source = held[0]
            secret = tron_store.account_secret(conn, source)
        assert secret is not None  # addresses_of lists only addresses with a key
        amount = cfg.get("amount")
        units = value if amount is None else min(value, round(float(amount) * 1_000_000))
        try:
            txid = usdt_call(chain, secret, "transfer(address,uint256)", [pay_to, units])
        except TronRejected as e:
            raise InjectError(f"the transfer was refused: {e}") from None
        log.info("inject %s: %s moved %s USDT to %s in %s", inject.id, actor, units, pay_to, txid)
        return txid

    # What each inject action does (scenario.model.INJECT_ACTIONS, all of them).
    ACTIONS: ClassVar[dict[str, Callable[[Injects, Inject, int | None, dict], str]]] = {
        "message": _do_message,
        "site_offline": _do_site_offline,
        "site_online": _do_site_online,
        "exit_scam": _do_exit_scam,
        "forum_post": _do_forum_post,
        "move_funds": _do_move_funds,
        "move_usdt": _do_move_usdt,
    }

    # -- helpers: sites -----------------------------------------------------------------

    def _world(self):
        """A fresh read-only connection to world.db (closed on leaving a with block)."""
        return contextlib.closing(open_world(self.world_path))

    def _site_kind(self, site_id: str) -> str:
        """A site's kind, or InjectError for an unknown site."""
        with self._world() as conn:
            kind = world_db.site_kind(conn, site_id)
        if kind is None:
            raise InjectError(f"no site {site_id!r} in this world")
        return kind

    def _sandbox_site(self, cfg: dict):
        """The running server of the config's site."""
        site_id = _need(cfg, "site")
        if self.sandbox is None:
            raise InjectError("no running sandbox to take sites down or up")
        site = next((s for s in self.sandbox.sites if s.site_id == site_id), None)
        if site is None or self.sandbox.gateway is None:
            raise InjectError(f"site {site_id!r} is not running")
        return site

    def _state(self):
        """The marketplaces' state file (trainees' posts, site notices)."""
        if self._store is None:
            from marketplaces.common.state import StateStore

            self._store = StateStore(self.state_dir / "state.db")
        return self._store

    def _site_clock(self, site_id: str) -> int:
        """The site's clock now, as its app computes it (world tip + time since first run)."""
        with self._world() as conn:
            tip = world_db.tip_time(conn)
        return WorldClock(tip, self._state().first_seen(site_id)).now()

    # -- helpers: coins -----------------------------------------------------------------

    def _live(self) -> LiveChain:
        """The live chain the sandbox handed over (its explorer's, the one writer of chain.db)."""
        if self.live is None:
            if self.sandbox is None:
                raise InjectError("no running sandbox: the live chain is the explorer's")
            raise InjectError("the world has no explorer: no live chain to broadcast on")
        return self.live

    @staticmethod
    def _wallet_addresses(
        world, actor: str, kind: str = "personal", wallet: int | None = None
    ) -> dict[str, tuple]:
        """address -> (type, secret, purpose, id) of an actor's wallets of one kind.

        wallet: only that wallet of the actor (a wallets.id), whatever its kind.
        """
        rows = world_db.wallet_addresses(world, actor, kind, wallet)
        return {r[0]: r[1:] for r in rows}

    # builtins.list: the class's own `list` method shadows the builtin in its body.
    def _coins(
        self, live, world, actor: str, wallet: int | None = None
    ) -> builtins.list[tuple[str, int, int, str, str, bytes]]:
        """The actor's spendable coins: (txid, n, value, address, type, secret), world and live.

        Those of its personal wallet, or of `wallet` (the seat's share of its coins).
        """
        mine = self._wallet_addresses(world, actor, wallet=wallet)
        if not mine:
            what = "personal wallet" if wallet is None else f"wallet {wallet}"
            raise InjectError(f"actor {actor!r} has no {what}")
        rows = world_db.wallet_unspent(world, actor, wallet=wallet)
        # The ledger's own test of a spendable coin (unspent, the mempool's spends
        # included; a coinbase only once mature), as broadcasting will check it.
        spendable = live.spendable([(r[0], r[1]) for r in rows])
        found = [r for r, ok in zip(rows, spendable, strict=True) if ok]
        # Coins the live chain paid to the actor (an earlier move's change, a trainee's
        # payment): unspent outputs of live transactions, coinbases aside.
        found += live.read.unspent_paying(mine)
        return [(t, n, v, a, mine[a][0], mine[a][1]) for t, n, v, a in found]

    def _used(self, live, world, address_id: int, address: str) -> bool:
        """Whether an address ever received coins (world or live)."""
        if world_db.ever_paid(world, address_id):
            return True
        return live.read.ever_paid(address)

    def _unused(self, live, world, addresses: dict[str, tuple], purposes=None) -> str | None:
        """The first address (of the given purposes, if any) that never received coins."""
        for address, (_, _, purpose, address_id) in addresses.items():
            if purposes is not None and (purpose or "") not in purposes:
                continue
            if not self._used(live, world, address_id, address):
                return address
        return None

    def _destination(self, live, world, payer: str, to: str) -> str:
        """Where the coins go: an exchange's deposit address, a person's receiving address."""
        try:
            decode_address(to)
            return to  # a plain address
        except (InvalidAddress, ValueError):
            pass
        if not world_db.has_actor(world, to):
            raise InjectError(f"no actor {to!r} to move funds to")
        deposits = self._wallet_addresses(world, to, "deposit")
        if deposits:
            # The payer's own deposit address there (exchanges give one per customer, and
            # their records name the customer by it); else a deposit address nobody used.
            own = [a for a, v in deposits.items() if v[2] == f"deposit:{payer}"]
            found = own[0] if own else self._unused(live, world, deposits)
            if found is None:
                raise InjectError(f"exchange {to!r} has no deposit address for {payer!r}")
            return found
        mixer = self._wallet_addresses(world, to, "mixer-deposit")
        if mixer:
            return self._unused(live, world, mixer) or list(mixer)[-1]
        personal = self._wallet_addresses(world, to)
        if not personal:
            raise InjectError(f"actor {to!r} has no wallet to receive")
        published = [a for a, v in personal.items() if v[2] == "published"]
        if published:
            return published[0]
        receive = {a: v for a, v in personal.items() if v[2] == "receive"}
        return self._unused(live, world, receive) or (list(receive) or list(personal))[-1]

    def _change_address(self, live, world, actor: str, coins, wallet: int | None = None) -> str:
        """The payer's change address: one of its wallet's never used, else its biggest coin's."""
        mine = self._wallet_addresses(world, actor, wallet=wallet)
        fresh = self._unused(live, world, mine, purposes={"change", "receive"})
        return fresh or max(coins, key=lambda c: c[2])[3]


def _build(coins, pay_to: str, change_to: str, amount, actor: str) -> bytes:
    """Choose coins, sign with the world's keys, and serialize the payment."""
    pay_script = script_pubkey(pay_to)
    change_script = script_pubkey(change_to)
    coins = sorted(coins, key=lambda c: (-c[2], c[0], c[1]))
    if amount is None:
        chosen = coins
        size = 11 + sum(_INPUT_VSIZE[c[4]] for c in chosen) + 9 + len(pay_script)
        value = sum(c[2] for c in chosen) - FEE_RATE * size
        if value < dust_threshold(pay_script):
            raise InjectError(f"actor {actor!r} has too little to cover the fee")
        outputs = [TxOut(value, pay_script)]
    else:
        target = round(float(amount) * 100_000_000)
        if target <= 0:
            raise InjectError(f"amount must be positive, got {amount}")
        chosen, total = [], 0
        outs = 2 * 9 + len(pay_script) + len(change_script)
        for coin in coins:
            chosen.append(coin)
            total += coin[2]
            fee = FEE_RATE * (11 + sum(_INPUT_VSIZE[c[4]] for c in chosen) + outs)
            if total >= target + fee:
                break
        else:
            have = format_btc(sum(c[2] for c in coins))
            raise InjectError(f"actor {actor!r} has {have} BTC, not {amount} plus the fee")
        outputs = [TxOut(target, pay_script)]
        change = total - target - fee
        if change >= dust_threshold(change_script):
            outputs.append(TxOut(change, change_script))
    tx = Tx(
        inputs=[TxIn(bytes.fromhex(c[0])[::-1], c[1]) for c in chosen],
        outputs=outputs,
    )
    for i, (_, _, value, address, _, secret) in enumerate(chosen):
        sign_input(tx, i, Key(secret), script_pubkey(address), value)
    if vsize(tx) * FEE_RATE > sum(c[2] for c in chosen) - sum(o.value for o in outputs):
        raise InjectError("fee estimate below the transaction's size (a bug)")
    return serialize(tx)


def _need(cfg: dict, key: str) -> str:
    """A value the action cannot do without, or InjectError naming it."""
    value = cfg.get(key)
    if value in (None, ""):
        raise InjectError(f"its config has no {key!r}")
    return value


def _who(seat: int | None) -> str:
    """'seat 3' or 'the class', for the log."""
    return "the class" if seat is None else f"seat {seat}"


def _summary(action: str, cfg: dict) -> str:
    """One line on what an inject does, for the instructor."""
    if action == "message":
        return cfg.get("text", "")
    if action in ("site_offline", "site_online"):
        return f"{action.replace('_', ' ')}: {cfg.get('site')}"
    if action == "exit_scam":
        return f"exit scam on {cfg.get('site')}: {cfg.get('text') or _NOTICE_TEXT}"
    if action == "forum_post":
        return f"{cfg.get('actor')} posts on {cfg.get('site')}: {cfg.get('title', '')}"
    if action == "move_funds":
        amount = cfg.get("amount")
        what = "everything" if amount is None else f"{amount} BTC"
        return f"{cfg.get('actor')} moves {what} to {cfg.get('to')}"
    if action == "move_usdt":
        amount = cfg.get("amount")
        what = "all its USDT" if amount is None else f"{amount} USDT"
        return f"{cfg.get('actor')} moves {what} to {cfg.get('to') or 'a fresh address'}"
    return action
