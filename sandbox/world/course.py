"""The course tables of a world: seats, objectives, the answer key, hints, injects, artefacts.

Written at the end of `sandbox build`, once the ledger and the content are in, because the
answers are read from them. A scenario without objectives leaves every table empty.
Positions (objectives, hints, injects, artefacts) are 0-based, in scenario order.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ..errors import BuildError
from ..scenario.i18n import Text
from ..scenario.model import Artefact, Inject, Scenario
from .answers import Answers
from .artefacts import make_artefacts, translated
from .content.texts import language_of, site_language
from .seats import Seat, make_seats


def write_course(conn: sqlite3.Connection, scenario: Scenario) -> list[Seat]:
    """Fill the course tables of a world whose other tables are complete; returns the seats."""
    if not scenario.objectives:
        return []
    seats = make_seats(conn, scenario)
    answers = Answers(conn, scenario)
    conn.executemany(
        "INSERT INTO seats VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                s.n,
                s.code,
                json.dumps(s.bindings, sort_keys=True),
                s.wallet_address,
                s.wallet_wif,
                s.tron_address,
                s.tron_key,
            )
            for s in seats
        ],
    )
    conn.executemany(
        "INSERT INTO objectives VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                o.id,
                i,
                o.points,
                o.compare,
                float(o.tolerance),
                int(o.tolerance_relative),
                o.attempts,
                # Spelling groups are lists among the texts.
                json.dumps(list(o.accept) + [list(g) for g in o.spellings], ensure_ascii=False),
            )
            for i, o in enumerate(scenario.objectives)
        ],
    )
    key, hints, files = [], [], []
    # Texts given in several languages: every language's version, placeholders filled.
    texts: list[tuple[int, str, str, str]] = []

    def versions(n: int, item: str, value: Text, seat: Seat | None = None) -> None:
        """The rows of one text given as a mapping language -> text (none for a string)."""
        if not isinstance(value, str):
            texts.extend((n, item, lang, answers.fill(value, seat, lang)) for lang in value)

    versions(0, "title", scenario.meta.title)
    versions(0, "summary", scenario.meta.summary)
    shared: dict = {}  # artefacts every seat shares, made once (make_artefacts' cache)
    for seat in seats:
        for o in scenario.objectives:
            try:
                question = answers.fill(o.question, seat)
                answer = answers.value(o.answer, seat)
                hints += [
                    (seat.n, o.id, i, answers.fill(h.text, seat), h.cost)
                    for i, h in enumerate(o.hints)
                ]
                versions(seat.n, f"question:{o.id}", o.question, seat)
                for i, h in enumerate(o.hints):
                    versions(seat.n, f"hint:{o.id}:{i}", h.text, seat)
            except BuildError as e:
                raise BuildError(f"objective '{o.id}' (line {o.line}), seat {seat.n}: {e}") from e
            key.append((seat.n, o.id, question, json.dumps(answer)))
        for position, art in enumerate(make_artefacts(answers, scenario, seat, shared)):
            aid, kind, title, filename, mime, content = art
            files.append((seat.n, aid, position, kind, title, filename, mime, content))
        texts += _artefact_versions(answers, scenario, seat)
    conn.executemany("INSERT INTO seat_objectives VALUES (?, ?, ?, ?)", key)
    conn.executemany("INSERT INTO hints VALUES (?, ?, ?, ?, ?)", hints)
    conn.executemany("INSERT INTO artefacts VALUES (?, ?, ?, ?, ?, ?, ?, ?)", files)
    conn.executemany("INSERT INTO course_texts VALUES (?, ?, ?, ?)", texts)
    conn.executemany(
        "INSERT INTO injects VALUES (?, ?, ?, ?, ?, ?, ?)",
        [_inject_row(answers, i, inj, seats) for i, inj in enumerate(scenario.injects)],
    )
    return seats


def _artefact_versions(
    answers: Answers, scenario: Scenario, seat: Seat
) -> list[tuple[int, str, str, str]]:
    """course_texts rows of a seat's briefs and notes given in several languages: each
    language's title (artefact-title:ID) and file (artefact:ID)."""
    if not any(translated(a, scenario) for a in scenario.artefacts):
        return []
    rows = []
    for language in scenario.languages:

        def only(art: Artefact) -> bool:
            """The artefacts whose file differs by language."""
            return translated(art, scenario)

        for art in make_artefacts(answers, scenario, seat, {}, language, only):
            aid, _, title, _, _, content = art
            rows.append((seat.n, f"artefact-title:{aid}", language, title))
            rows.append((seat.n, f"artefact:{aid}", language, content.decode()))
    return rows


def _inject_row(answers: Answers, position: int, inj: Inject, seats: list[Seat]) -> tuple:
    """One injects row: its trigger and, per seat, its resolved and filled configuration."""
    if inj.at is not None:
        trigger = "at"
    elif inj.solved is not None:
        trigger = "solved"
    elif inj.when is not None:
        trigger = inj.when
    else:
        trigger = "manual"
    config = {}
    for seat in seats:
        try:
            config[str(seat.n)] = _inject_config(answers, inj, seat)
        except BuildError as e:
            raise BuildError(f"inject '{inj.id}' (line {inj.line}), seat {seat.n}: {e}") from e
    return (
        inj.id,
        position,
        trigger,
        inj.at,
        inj.solved,
        inj.action,
        json.dumps(config, sort_keys=True),
    )


def _inject_config(answers: Answers, inj: Inject, seat: Seat) -> dict:
    """What the inject does for one seat, with world ids and filled texts."""
    # A forum post or exit-scam notice is shown on the site, in its writer's language.
    written_in = _site_language(answers, inj, seat) if inj.action != "message" else None
    conf: dict[str, Any] = {
        "text": answers.fill(inj.text, seat, written_in),
        "title": answers.fill(inj.title, seat, written_in),
        "site": answers.resolve(inj.site, seat) if inj.site else None,
        "actor": answers.resolve(inj.actor, seat) if inj.actor else None,
        "to": answers.resolve(inj.to, seat) if inj.to else None,
        "amount": inj.amount,
    }
    if inj.action == "message" and not isinstance(inj.text, str):
        # The message in every language it is given in; "text" is the default's.
        conf["texts"] = {lang: answers.fill(inj.text, seat, lang) for lang in inj.text}
    if conf["site"] is not None:
        conf["site_address"] = answers.site(conf["site"], "address")
    if inj.action == "move_funds" and conf["to"] and conf["actor"]:
        # Where the coins go: the payer's deposit address at that exchange when it has one
        # (as a cash-out would use), else null and the runtime makes one.
        conf["to_address"] = answers.one(
            "SELECT ad.address FROM addresses ad JOIN wallets w ON w.id = ad.wallet_id"
            " WHERE w.actor_id = ? AND w.kind = 'deposit' AND ad.purpose = ?"
            " ORDER BY ad.id LIMIT 1",
            conf["to"],
            f"deposit:{conf['actor']}",
        )
        # The seat's own share of the payer's coins when seats share it (seats.py).
        wallet = answers.seat_wallet(conf["actor"], seat)
        if wallet is not None:
            conf["wallet"] = wallet
    if inj.action == "move_usdt" and conf["actor"]:
        # A fresh address of the payer (seat's own), or the `to` actor's address.
        conf["to_address"] = (
            answers.tron_receiving(conf["to"])
            if conf["to"]
            else answers.tipoff_address(conf["actor"], seat)
        )
    return conf


def _site_language(answers: Answers, inj: Inject, seat: Seat) -> str:
    """The language of what an inject writes on a site, as of the site's own texts: the
    site's `language`, else its author's (a notice: the site operator's), else meta.locale's."""
    scenario = answers.scenario
    site_id = answers.resolve(inj.site, seat) if inj.site else None
    site = next((s for s in scenario.sites if s.id == site_id), None)
    if inj.actor:
        given = site.language if site is not None else None
        return language_of(scenario, answers.resolve(inj.actor, seat), given)
    return site_language(scenario, site) if site is not None else scenario.language


def answer_key(conn: sqlite3.Connection, seat: int | None = None) -> dict:
    """The instructor's answer key of a built world (every seat, or one).

    {"scenario": name, "seed": public seed, "secret": course secret (hex), "seats": [{"n",
    "code", "bindings", "wallet" (address or None), "objectives": [{"id", "question",
    "answer", "accept", "points", "compare"}]}]}, in seat and objective order; accept lists
    the other answers the objective takes.
    """
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    objectives = [
        (oid, points, compare, json.loads(accept))
        for oid, points, compare, accept in conn.execute(
            "SELECT id, points, compare, accept FROM objectives ORDER BY position"
        )
    ]
    answers: dict[int, dict[str, tuple]] = {}
    for n, oid, question, answer in conn.execute(
        "SELECT seat, objective_id, question, answer FROM seat_objectives"
    ):
        answers.setdefault(n, {})[oid] = (question, json.loads(answer))
    sql = "SELECT n, code, bindings, wallet_address FROM seats"
    rows = conn.execute(
        sql + " WHERE n = ?" if seat is not None else sql + " ORDER BY n",
        () if seat is None else (seat,),
    ).fetchall()
    seats = []
    for n, code, bindings, wallet in rows:
        mine = answers.get(n, {})
        seats.append(
            {
                "n": n,
                "code": code,
                "bindings": json.loads(bindings),
                "wallet": wallet,
                "objectives": [
                    {
                        "id": oid,
                        "question": mine[oid][0],
                        "answer": mine[oid][1],
                        "accept": accept,
                        "points": points,
                        "compare": compare,
                    }
                    for oid, points, compare, accept in objectives
                    if oid in mine
                ],
            }
        )
    return {
        "scenario": meta.get("scenario"),
        "seed": int(meta["seed"]),
        "secret": meta["secret"],
        "seats": seats,
    }
