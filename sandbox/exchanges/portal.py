"""One exchange's portal service: the world it reads, its clock and its audit log."""

from __future__ import annotations

from pathlib import Path

from ..errors import WorldError
from ..ledger.live.chain import LiveChainReader
from ..tron.live.chain import TronReader
from ..world.clock import WorldClock
from ..world.requesters import Requester
from ..world.store import meta, open_world
from . import records, tron_records
from .access import Access
from .answer import AnswerContext, answer_request
from .audit import AuditLog
from .policy import TXID, clean_request

__all__ = ["Portal"]


class Portal:
    """Answers requests to one exchange and keeps them; shared by the app's blueprints.

    tron_live: the running Tron chain (the node's), from which payments made while the class
    runs reach the records: its TronLive in the node's process, a TronReplica in another
    (caught up before each request; until the node has opened tron.db, the world's Tron
    chain only, as with None). started: the unix time the world's time began at its end
    (None: now; see create_app).
    """

    def __init__(
        self,
        world_path: str | Path,
        exchange_id: str,
        state_dir: str | Path,
        tron_live: TronReader | None = None,
        started: float | None = None,
    ):
        """Read the exchange from the world; WorldError when it has no such exchange."""
        self.world_path = Path(world_path)
        self.tron_live = tron_live
        conn = open_world(self.world_path)
        try:
            exchange = records.exchange_info(conn, exchange_id)
            end_time = int(meta(conn)["end_time"])
            self.tron = tron_records.has_tron(conn)
        finally:
            conn.close()
        if exchange is None:
            raise WorldError(f"{self.world_path}: no exchange {exchange_id!r}")
        self.exchange = exchange
        self.clock = WorldClock(end_time, started)
        self.state_dir = Path(state_dir)
        self.audit = AuditLog(state_dir, exchange_id)
        self.access = Access(self.world_path, exchange_id, self.audit.path)

    def submit(self, data, requester: Requester) -> tuple[dict, list[dict]]:
        """Clean, answer and log one request of a requester; the stored record and field errors.

        Agency, officer and email the request leaves out are the requester's own.
        """
        data = {**_plain(data)}
        for name, value in (
            ("agency", requester.agency),
            ("officer_name", requester.officer_name),
            ("officer_email", requester.officer_email),
        ):
            if data.get(name) is None:
                data[name] = value
        request, errors = clean_request(data)
        tron_live = tron_records.caught_up(self.tron_live) if self.tron else None

        def build(number, conn):
            """Answer inside the audit log's write transaction."""
            world = open_world(self.world_path)
            try:
                ctx = AnswerContext(
                    world,
                    self.exchange,
                    self.clock.now(),
                    lambda actor_id: self.audit.frozen_since(actor_id, conn),
                    LiveChainReader(self.state_dir / "chain.db"),
                    tron_live,
                    self.tron,
                )
                if (
                    not errors
                    and TXID.match(request["subject"])
                    and not self._known(ctx, request["subject"])
                ):
                    errors.append(
                        {
                            "field": "subject",
                            "message": f"No transaction {request['subject']} is on the Bitcoin "
                            "or the Tron chain: check the transaction id.",
                        }
                    )
                answer, freezes = answer_request(ctx, number, request, errors)
            finally:
                world.close()
            return request, answer, freezes

        return self.audit.record(build, requester.id), errors

    def get(self, number: int, visible_to: str | None) -> dict | None:
        """A logged request the requester visible_to may see (None: any), or None."""
        return self.audit.get(number, visible_to)

    def listing(self, visible_to: str | None) -> list[dict]:
        """The requests visible_to may see, newest first, without their answers."""
        return self.audit.list(visible_to)

    @staticmethod
    def _known(ctx: AnswerContext, txid: str) -> bool:
        """Whether txid is on either chain (the world's or the live one, mempool included)."""
        return records.txid_known(ctx.world, txid, ctx.live) or (
            ctx.tron and tron_records.tron_txid_known(ctx.world, txid, ctx.tron_live)
        )


def _plain(data) -> dict:
    """A form (its lists kept where a field repeats) or a JSON object as a plain dict."""
    if hasattr(data, "getlist"):
        return {k: (v if len(v) > 1 or k == "requested" else v[0]) for k, v in data.lists()}
    return dict(data)
