"""The issuer's portal service: answers requests, keeps them, and carries out the actions.

A freeze, unfreeze or reissue it accepts waits `issuer_answer_minutes` (the world's meta,
from the scenario's `world.issuer_answer_minutes`; real issuers take hours) and is then
carried out on the running Tron chain by a worker thread, or by the next read of the
portal, whichever comes first. Until the sandbox hands it the chain it stays pending.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import WorldError
from ..exchanges.access import Access
from ..tron.errors import TronRejected
from ..tron.live.chain import TronLive
from ..world.clock import WorldClock
from ..world.requesters import Requester
from ..world.store import meta, open_world
from ..world.tron_store import has_tron, service_wallet, treasury_secret
from . import contract
from .policy import basis_refusal, clean_request
from .records import IssuerLog

__all__ = ["ISSUER_ID", "Portal"]

ISSUER_ID = "issuer"
WORKER_SECONDS = 1.0  # how often the worker looks for due actions
log = logging.getLogger(__name__)


class Portal:
    """Answers requests to the issuer, keeps them, and acts on the chain.

    tron_live: the running Tron chain (the node's); the sandbox hands it over once the
    node runs. Actions stay pending without it.
    """

    def __init__(
        self, world_path: str | Path, state_dir: str | Path, tron_live: TronLive | None = None
    ):
        """Read the treasury and the delay from the world; WorldError without a Tron chain."""
        self.world_path = Path(world_path)
        self.tron_live = tron_live
        conn = open_world(self.world_path)
        try:
            if not has_tron(conn):
                raise WorldError(f"{self.world_path}: no Tron chain, so no USDT issuer")
            treasury = treasury_secret(conn)
            info = meta(conn)
        finally:
            conn.close()
        if treasury is None:
            raise WorldError(f"{self.world_path}: the Tron chain has no issuer treasury")
        self.treasury, self._secret = treasury
        self.delay = float(info.get("issuer_answer_minutes", "0") or 0) * 60
        self.clock = WorldClock(int(info["end_time"]))
        self.state_dir = Path(state_dir)
        self.log = IssuerLog(self.state_dir)
        self.access = Access(self.world_path, ISSUER_ID, self.log.path)
        self._run_lock = threading.Lock()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        # Called with (requester id, subject, confidential) once a request is kept and
        # before its actions are carried out (the classroom's tip-off injects).
        self.on_request: list[Callable[[str, str, bool], object]] = []

    # -- requests -----------------------------------------------------------------------

    def submit(self, data, requester: Requester) -> tuple[dict | None, list[dict]]:
        """Clean, answer and store one request; (the stored request, []) or (None, errors).

        A request with field errors is not stored. Agency, officer and email it leaves out
        are the requester's own.
        """
        data = _plain(data)
        for name, value in (
            ("agency", requester.agency),
            ("officer_name", requester.officer_name),
            ("officer_email", requester.officer_email),
        ):
            if data.get(name) in (None, ""):
                data[name] = value
        request, errors = clean_request(data)
        if errors:
            return None, errors
        conn = open_world(self.world_path)
        try:
            service = service_wallet(conn, request["subject"])
        finally:
            conn.close()
        now = time.time()

        def build(number: int) -> tuple[dict, list[dict]]:
            """The answer and actions, inside the log's write transaction."""
            return self._answer(request, requester.id, service, now)

        number = self.log.record(requester.id, self.clock.now(), request, build)
        for listener in self.on_request:
            try:
                listener(requester.id, request["subject"], request["confidential"])
            except Exception:  # a failing listener must not lose the stored request
                log.exception("issuer: request listener")
        self.run_due()
        stored = self.log.get(number, None)
        assert stored is not None  # just written
        return stored, []

    def _answer(
        self, req: dict, requester_id: str, service: tuple | None, now: float
    ) -> tuple[dict, list[dict]]:
        """What the issuer answers at once, and the actions it will carry out."""
        subject, basis = req["subject"], req["legal_basis"]
        items: dict[str, dict] = {}
        actions: list[dict] = []
        for ask in req["requested"]:
            reason = basis_refusal(basis, ask)
            if not reason and ask == "freeze" and service is not None:
                kind, name, label = service
                what = label or f"a {kind} wallet of {name}"
                reason = (
                    f"{subject} is {what}, a service's address holding its customers' "
                    f"funds: Tether does not freeze it. Ask {name} to freeze the account "
                    "of its customer."
                )
                if kind == "treasury":
                    reason = f"{subject} is Tether's own treasury: it is not frozen."
            if not reason and ask in ("unfreeze", "reissue"):
                frozen = [
                    a
                    for a in self.log.actions(subject, "freeze", requester_id)
                    if a["status"] != "refused"
                ]
                if not frozen and "freeze" not in req["requested"]:
                    reason = (
                        f"You have not had {subject} frozen: Tether "
                        f"{'unfreezes' if ask == 'unfreeze' else 'reissues the USDT of'} only "
                        "an address frozen at your own request."
                    )
            if ask == "status":
                items[ask] = {"status": "answered", "reason": ""}
                live = self.tron_live
                if live is not None:
                    items[ask]["blacklisted"] = contract.blacklisted(live, subject)
                    items[ask]["usdt_balance"] = contract.balance(live, subject)
                continue
            items[ask] = {"status": "refused" if reason else "accepted", "reason": reason}
            if not reason:
                actions.append(
                    {
                        "kind": ask,
                        "address": subject,
                        "wallet": (req["wallet"] or None) if ask == "reissue" else None,
                        "due": now + self.delay,
                    }
                )
        refused = [i["reason"] for i in items.values() if i["status"] == "refused"]
        if refused and len(refused) == len(items):
            status, reason = "refused", " ".join(refused)
        else:
            status, reason = ("pending" if actions else "answered"), " ".join(refused)
        answer = {
            "status": status,
            "reason": reason,
            "issuer": "Tether Operations Limited",
            "subject": subject,
            "items": items,
            "due_in_minutes": round(self.delay / 60, 2) if actions else 0,
        }
        return answer, actions

    def get(self, number: int, visible_to: str | None) -> dict | None:
        """A request the requester visible_to may see (None: any), with its actions carried
        out as far as they are due; or None."""
        self.run_due()
        return self.log.get(number, visible_to)

    def listing(self, visible_to: str | None) -> list[dict]:
        """The requests visible_to may see, newest first, without their answers."""
        self.run_due()
        return self.log.listing(visible_to)

    # -- carrying actions out -----------------------------------------------------------

    def run_due(self, now: float | None = None) -> int:
        """Carry out every action whose time has come by now (default: the wall clock; none
        without the chain); how many."""
        live = self.tron_live
        if live is None:
            return 0
        done = 0
        with self._run_lock:
            for action in self.log.due(time.time() if now is None else now):
                try:
                    status, amount, txids, reason = self._carry_out(live, action)
                except TronRejected as e:  # the chain refused the issuer's own call
                    log.warning("issuer action %s refused by the chain: %s", action["id"], e)
                    status, amount, txids, reason = "refused", None, [], f"chain refused: {e}"
                self.log.finish(action["id"], status, amount, txids, reason)
                done += 1
        return done

    def _carry_out(self, live: TronLive, action: dict) -> tuple[str, int | None, list[str], str]:
        """(status, amount, txids, reason) of one action done on the chain."""
        address, who = action["address"], action["requester_id"]
        if action["kind"] == "freeze":
            amount = contract.balance(live, address)
            if contract.blacklisted(live, address):
                # Already frozen at another seat's request: recorded as this one's too.
                return "executed", amount, [], ""
            txid = contract.call(live, self._secret, "addBlackList(address)", [address])
            return "executed", amount, [txid], ""
        frozen = self._frozen_by(address, who)
        if frozen is None:
            return "refused", None, [], f"{address} is not frozen at your request."
        if action["kind"] == "unfreeze":
            others = [
                a
                for a in self.log.actions(address, "freeze")
                if a["requester_id"] != who and self._frozen_by(address, a["requester_id"])
            ]
            txids = []
            if not others and contract.blacklisted(live, address):
                txids.append(
                    contract.call(live, self._secret, "removeBlackList(address)", [address])
                )
            return "executed", None, txids, ""
        # reissue
        if not contract.blacklisted(live, address):
            return "refused", None, [], f"{address} is not on the blacklist."
        done = [a for a in self.log.actions(address, "reissue", who) if a["status"] == "executed"]
        if done:
            return "refused", None, [], f"The USDT of {address} was already reissued to you."
        amount = int(frozen["amount"] or 0)
        if amount <= 0:
            return "refused", 0, [], f"{address} held no USDT when it was frozen."
        txids = []
        if contract.balance(live, address) > 0:
            txids.append(contract.call(live, self._secret, "destroyBlackFunds(address)", [address]))
        txids.append(contract.call(live, self._secret, "issue(uint256)", [amount]))
        txids.append(
            contract.call(
                live, self._secret, "transfer(address,uint256)", [action["wallet"], amount]
            )
        )
        return "executed", amount, txids, ""

    def _frozen_by(self, address: str, requester_id: str) -> dict | None:
        """The requester's executed freeze of address, unless it has unfrozen it since."""
        freezes = [
            a
            for a in self.log.actions(address, "freeze", requester_id)
            if a["status"] == "executed"
        ]
        if not freezes:
            return None
        unfrozen = [
            a
            for a in self.log.actions(address, "unfreeze", requester_id)
            if a["status"] == "executed" and a["id"] > freezes[-1]["id"]
        ]
        return None if unfrozen else freezes[-1]

    # -- the worker ---------------------------------------------------------------------

    def start(self) -> Portal:
        """Start the worker that carries out due actions (once)."""
        if self._worker is None:
            self._stop.clear()
            self._worker = threading.Thread(target=self._work, name="issuer-worker", daemon=True)
            self._worker.start()
        return self

    def _work(self) -> None:
        """Carry out due actions until stopped."""
        while not self._stop.wait(WORKER_SECONDS):
            try:
                self.run_due()
            except Exception:  # a worker that dies leaves every later request pending
                log.exception("issuer worker")

    def close(self) -> None:
        """Stop the worker and wait for it."""
        self._stop.set()
        if self._worker is not None:
            self._worker.join()
            self._worker = None


def _plain(data) -> dict:
    """A form (its lists kept for `requested`) or a JSON object as a plain dict."""
    if hasattr(data, "getlist"):
        return {k: (v if k == "requested" else v[0]) for k, v in data.lists()}
    return dict(data)
