"""How an exchange answers a law-enforcement request, from the world and its policy.

`answer_request` returns the answer as a JSON-ready dict, and the accounts to freeze.
It never discloses more than the legal basis allows, and never names the world's
internal actor ids: customers appear by their account ids only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..ledger.codec.amounts import format_btc
from ..ledger.live.chain import LiveChainReader
from ..tron.live.chain import TronReader
from ..world.exchange_records import account_prefix
from . import records, tron_records
from .clock import utc
from .policy import ASKS, LEGAL_BASES, allowed, subject_chain, subject_kind

__all__ = ["AnswerContext", "answer_request", "reference"]

PRESERVATION_DAYS = 90
EMERGENCY_NOTE = (
    "Subscriber information is disclosed under our emergency disclosure policy, on your "
    "representation of an imminent risk of death or serious physical injury. Please follow "
    "up with legal process within 30 days. Transaction history and login records require a "
    "court order / production order, a subpoena or an MLAT request."
)
OPERATIONAL_TX = {
    "sweep": "a sweep of customer deposit addresses into our hot wallet",
    "withdrawal": "a payout from our hot wallet",
    "consolidation": "a consolidation of our own funds",
    "activation": "the activation of a customer deposit address with TRX from our own wallet",
    "energy": "a stake or delegation of energy by our own wallet (it pays our sweeps' fees)",
    "inflow": "a payment into our own operational wallet",
}


@dataclass
class AnswerContext:
    """What answering needs: the world, the exchange, the time, the freeze lookup, the live chain."""

    world: sqlite3.Connection
    exchange: dict
    now: int
    frozen_since: Callable[[str], int | None]
    live: LiveChainReader | None = None  # <state>/chain.db, once the explorer made it
    tron_live: TronReader | None = None  # the running Tron chain (tron.db), once the node runs
    tron: bool = False  # whether the world has a Tron chain


def reference(exchange_id: str, number: int) -> str:
    """The exchange's reference for a request, e.g. "CV-LE-00007"."""
    return f"{account_prefix(exchange_id)}-LE-{number:05d}"


def answer_request(
    ctx: AnswerContext, number: int, request: dict, errors: list[dict]
) -> tuple[dict, list[dict]]:
    """The answer to a request, and the accounts ({actor_id, account_id}) it freezes."""
    ex = ctx.exchange
    answer = {
        "reference": reference(ex["id"], number),
        "number": number,
        "exchange": {k: ex[k] for k in ("id", "name", "domain", "email")},
        "date": ctx.now,
        "date_utc": utc(ctx.now),
        "case_number": request.get("case_number", ""),
        "subject": {"value": request.get("subject", ""), "type": None, "match": None},
        "status": "refused",
        "reason": None,
        "message": "",
        "errors": errors,
        "records_held": None,
        "provided": [],
        "refused": [],
        "notes": [],
        "accounts": [],
    }
    if errors:
        return _refuse_invalid(answer, errors), []
    subject = request["subject"]
    kind = subject_kind(subject)
    answer["subject"]["type"] = kind
    if kind == "txid":
        match = records.match_txid(ctx.world, ex["id"], subject, ctx.live)
        if match is None and ctx.tron:
            match = tron_records.match_tron_txid(ctx.world, ex["id"], subject, ctx.tron_live)
    elif subject_chain(subject) == "tron":
        match = tron_records.match_tron_address(ctx.world, ex["id"], subject) if ctx.tron else None
    else:
        match = records.match_address(ctx.world, ex["id"], subject)
    what = "transaction" if kind == "txid" else "address"
    if match is None:
        answer["records_held"] = False
        answer["reason"] = "no_records"
        answer["message"] = (
            f"No records responsive to your request: we searched our records for the {what} "
            f"{subject} and it is not associated with any account at {ex['name']}."
        )
        return answer, []
    answer["subject"]["match"] = match.kind
    if match.kind in ("operational_wallet", "operational_tx"):
        return _operational(answer, match, ex), []
    answer["records_held"] = True
    if match.kind == "withdrawal_tx" and len(match.customers) > 1:
        return _batched(answer, match, ex), []
    return _disclose(ctx, answer, request, match)


def _refuse_invalid(answer: dict, errors: list[dict]) -> dict:
    """Refuse an incomplete request, or one whose subject is no address or txid."""
    fields = {e["field"] for e in errors}
    malformed = fields == {"subject"} and answer["subject"]["value"]
    answer["reason"] = "malformed_subject" if malformed else "incomplete"
    if malformed:
        answer["message"] = (
            "Your request cannot be processed. "
            + " ".join(e["message"] for e in errors)
            + " Please check it and submit a new request."
        )
    else:
        answer["message"] = (
            "Your request is incomplete and cannot be processed. Please correct the following "
            "and submit a new request: " + " ".join(e["message"] for e in errors)
        )
    return answer


def _operational(answer: dict, match: records.Match, ex: dict) -> dict:
    """Answer about the exchange's own wallet: there is no customer behind it."""
    answer["reason"] = "operational_wallet"
    answer["records_held"] = False
    if match.kind == "operational_wallet":
        answer["message"] = (
            f"This is our own operational wallet: the address belongs to {ex['name']}'s hot "
            "wallet, which pools the funds of all customers. It is not attributable to any "
            "customer, so there is no customer data to disclose. To identify a customer, "
            "name the deposit address or the withdrawal destination address."
        )
    else:
        what = OPERATIONAL_TX.get(match.tx_kind or "", "an internal movement of our own funds")
        answer["message"] = (
            f"This transaction is {what}: our own operational wallet, not attributable to any "
            "customer, so there is no customer data to disclose. To identify a customer, name "
            "the deposit address or the withdrawal destination address."
        )
    return answer


def _batched(answer: dict, match: records.Match, ex: dict) -> dict:
    """Refuse to name every customer of a batched withdrawal; list its outputs instead."""
    answer["reason"] = "batched_withdrawal"
    answer["outputs"] = [
        {
            "n": o["n"],
            "address": o["address"],
            "value": o["value"],
            **(
                {"asset": o["asset"], "amount": tron_records.format_tron(o["value"])}
                if "asset" in o
                else {"amount_btc": format_btc(o["value"])}
            ),
        }
        for o in match.outputs
    ]
    answer["message"] = (
        f"This transaction is a batched withdrawal from {ex['name']}'s hot wallet paying "
        f"{len(match.customers)} different customers. To protect uninvolved customers we "
        "disclose records only for a destination address named in the request: please submit "
        "a new request naming the output address of interest (listed below)."
    )
    return answer


def _disclose(
    ctx: AnswerContext, answer: dict, request: dict, match: records.Match
) -> tuple[dict, list[dict]]:
    """Give what the legal basis allows about the matched customer(s); freeze if ordered."""
    ex, basis = ctx.exchange, request["legal_basis"]
    until = ctx.now + PRESERVATION_DAYS * 86_400
    grant = {}
    for ask in request["requested"]:
        ok, why = allowed(basis, ask)
        grant[ask] = ok
        if not ok:
            answer["refused"].append({"item": ask, "label": ASKS[ask], "reason": why})
    answer["provided"] = [a for a in request["requested"] if grant[a]]
    count = len(match.customers)
    if not answer["provided"]:
        answer["reason"] = "legal_basis"
        answer["preservation"] = {"until": until, "until_utc": utc(until)}
        answer["message"] = (
            f"We can confirm that we hold records responsive to your request ({count} "
            f"account{'s' if count != 1 else ''}). We do not disclose customer data on "
            f"{_a(LEGAL_BASES[basis])}. We have preserved the records until {utc(until)}; "
            "please serve a court order / production order, a subpoena or an MLAT request "
            f"quoting our reference {answer['reference']}."
        )
        return answer, []
    freezes = []
    for actor_id in match.customers:
        acc, freeze = _account(ctx, actor_id, grant, answer)
        answer["accounts"].append(acc)
        if freeze:
            freezes.append(freeze)
    if basis == "emergency":
        answer["notes"].append(EMERGENCY_NOTE)
    if answer["refused"]:
        answer["status"] = "partially answered"
        answer["reason"] = "legal_basis"
        answer["preservation"] = {"until": until, "until_utc": utc(until)}
        answer["message"] = (
            "We have answered your request in part; the items listed as refused require "
            f"further legal process. The records are preserved until {utc(until)}."
        )
    else:
        answer["status"] = "answered"
        answer["message"] = (
            f"Please find below the records of {ex['name']} responsive to your request, "
            f"produced under {_a(LEGAL_BASES[basis])} ({request['document_reference']})."
        )
    return answer, freezes


def _a(name: str) -> str:
    """A legal basis name with its article, in lower case."""
    name = name.lower()
    if name.startswith("mlat"):
        return "an MLAT request"
    return ("an " if name[0] in "aeiou" else "a ") + name


def _account(
    ctx: AnswerContext, actor_id: str, grant: dict, answer: dict
) -> tuple[dict, dict | None]:
    """One customer's account section: the granted items, and the freeze to record if any."""
    ex_id = ctx.exchange["id"]
    row = records.account(ctx.world, ex_id, actor_id) or {}
    account_id = row.get("account_id") or "(not on file)"
    since = ctx.frozen_since(actor_id)
    acc: dict[str, Any] = {
        "account_id": account_id,
        "opened": row.get("opened"),
        "opened_utc": utc(row.get("opened")),
        "tier": row.get("tier"),
        "kyc_level": row.get("kyc_level"),
        "status": "frozen" if since is not None else row.get("status", "active"),
    }
    if grant.get("kyc"):
        acc["subscriber"] = records.subscriber(ctx.world, actor_id)
        acc["bank_account"] = {"iban": row.get("bank_iban")}
    if grant.get("transactions"):
        found = records.deposits(ctx.world, ex_id, actor_id, ctx.live)
        acc["deposits"] = [_movement(m) for m in found]
        acc["withdrawals"] = [_movement(m) for m in records.withdrawals(ctx.world, ex_id, actor_id)]
        acc["total_deposited_btc"] = format_btc(sum(m["value"] for m in acc["deposits"]))
        acc["total_withdrawn_btc"] = format_btc(sum(m["value"] for m in acc["withdrawals"]))
        if ctx.tron:
            _tron_movements(ctx, actor_id, acc)
    if grant.get("logins"):
        acc["logins"] = [
            {**login, "time_utc": utc(login["time"])}
            for login in records.logins(ctx.world, ex_id, actor_id)
        ]
    freeze = None
    if grant.get("freeze"):
        if since is not None:
            acc["freeze"] = {"status": "already frozen", "since": since, "since_utc": utc(since)}
            answer["notes"].append(
                f"Account {account_id} was already frozen on {utc(since)}; no further action."
            )
        else:
            acc["freeze"] = {"status": "frozen", "since": ctx.now, "since_utc": utc(ctx.now)}
            acc["status"] = "frozen"
            freeze = {"actor_id": actor_id, "account_id": account_id}
            answer["notes"].append(
                f"Account {account_id} has been frozen as ordered: no funds can leave it "
                "until the order is lifted."
            )
    return acc, freeze


def _tron_movements(ctx: AnswerContext, actor_id: str, acc: dict) -> None:
    """The customer's Tron deposits and withdrawals (USDT and TRX), with totals per asset."""
    ex_id = ctx.exchange["id"]
    acc["tron_deposits"] = [
        {**m, "time_utc": utc(m["time"])}
        for m in tron_records.tron_deposits(ctx.world, ex_id, actor_id, ctx.tron_live)
    ]
    acc["tron_withdrawals"] = [
        {**m, "time_utc": utc(m["time"])}
        for m in tron_records.tron_withdrawals(ctx.world, ex_id, actor_id)
    ]
    for key, rows in (("deposited", acc["tron_deposits"]), ("withdrawn", acc["tron_withdrawals"])):
        for asset in ("usdt", "trx"):
            total = sum(m["value"] for m in rows if m["asset"] == asset.upper())
            acc[f"total_{key}_{asset}"] = tron_records.format_tron(total)


def _movement(m: dict) -> dict:
    """A deposit or withdrawal as the answer lists it."""
    return {
        "txid": m["txid"],
        "time": m["time"],
        "time_utc": utc(m["time"]),
        "address": m["address"],
        "value": m["value"],
        "amount_btc": format_btc(m["value"]),
        "block_height": m["height"],
    }
