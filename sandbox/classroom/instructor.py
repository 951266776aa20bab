"""The instructor's side: login, live board, seats and key, connection log, injects, resets."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import TooManyRequests

from ..errors import InjectError
from ..scenario.i18n import LANGUAGE_NAMES, localized
from ..spreadsheet import safe_cell
from ..world.store import open_world, site_rows
from .auth import client, current_seat, instructor_required, is_instructor, password_ok

__all__ = ["bp"]

bp = Blueprint("instructor", __name__, url_prefix="/instructor")
# What the board's events are, as the instructor reads them (progress.py names them in English).
EVENT_KINDS = {
    "joined": _l("joined"),
    "answer": _l("answer"),
    "hint": _l("hint"),
    "inject": _l("inject"),
}


@bp.app_context_processor
def _event_kinds() -> dict:
    """The event names for the board, its projector view and its script."""
    return {"event_kinds": EVENT_KINDS}


LOG_LIMIT = 300


def classroom():
    """The app's Classroom."""
    return current_app.extensions["classroom"]


def _texts_language() -> str:
    """The language of the scenario's texts on an instructor page: the one asked for with
    `?texts=` (a seat's, to read what its trainee reads), else the instructor's own; a text
    without that translation falls back to the scenario's default (Course.text)."""
    asked = request.args.get("texts", "")
    if asked in classroom().course.languages:
        return asked
    return str(get_locale())


def _iso(t: float | None) -> str:
    """A Unix time as local ISO 8601 (seconds), '' for None."""
    return datetime.fromtimestamp(t).isoformat(timespec="seconds") if t else ""


@bp.app_template_filter("clock")
def clock(t: float | None) -> str:
    """A Unix time as HH:MM:SS of the laptop's clock."""
    return datetime.fromtimestamp(t).strftime("%H:%M:%S") if t else "-"


@bp.get("/login")
def login_form():
    """The instructor's login form."""
    if is_instructor():
        return redirect(url_for("instructor.board"))
    return render_template("classroom/instructor/login.html", error=None, next=_next())


def _next() -> str:
    """Where to go after logging in: an instructor page only (never another site)."""
    target = request.values.get("next", "")
    if target.startswith("/instructor") and "//" not in target and "\\" not in target:
        return target
    return url_for("instructor.board")


@bp.post("/login")
def login():
    """Check the password in constant time; a wrong one is a 403, a flood of them a 429."""
    c = classroom()
    wait = c.logins.wait(client())
    if wait is not None:
        raise TooManyRequests(
            _(
                "Too many wrong passwords from here: wait %(seconds)s seconds and try again.",
                seconds=wait,
            ),
            retry_after=wait,
        )
    if not password_ok(request.form.get("password", "")):
        c.logins.charge(client())
        return (
            render_template(
                "classroom/instructor/login.html", error=_("Wrong password."), next=_next()
            ),
            403,
        )
    csrf = session.get("csrf")
    trainee = {k: session[k] for k in ("seat", "tok") if k in session}
    session.clear()  # a fresh session for the new privilege
    session.update(trainee)
    session["csrf"] = csrf
    session.permanent = True
    session["inst"] = c.instructor_mac
    session["isid"] = c.progress.open_instructor_session()
    return redirect(_next(), code=303)


@bp.post("/logout")
def logout():
    """Log the instructor out: the session ends server-side, so a copied cookie dies too."""
    sid = session.pop("isid", None)
    if isinstance(sid, str):
        classroom().progress.close_instructor_session(sid)
    session.pop("inst", None)
    return redirect(url_for("instructor.login_form"), code=303)


def board_data() -> dict:
    """The live board: every seat's progress on every objective, scores and latest events."""
    c = classroom()
    course = c.course
    trainees = c.progress.trainees()
    board = c.progress.board()
    seats = []
    for n, seat in course.seats.items():
        progress = board.get(n, {})
        trainee = trainees.get(n)
        cells = {}
        for o in course.objectives:
            sp = progress.get(o.id)
            if sp is None:
                continue
            cells[o.id] = {
                "solved": sp.solved,
                "attempts": sp.attempts,
                "hints": len(sp.hints),
                "exhausted": bool(o.attempts and sp.attempts >= o.attempts and not sp.solved),
            }
        seats.append(
            {
                "n": n,
                "code": seat.code,
                "name": trainee["name"] if trainee else None,
                "score": c.score(progress),
                "solved": sum(1 for sp in progress.values() if sp.solved),
                "attempts": sum(sp.attempts for sp in progress.values()),
                "cells": cells,
            }
        )
    names = {n: t["name"] for n, t in trainees.items()}
    events = [
        dict(e, name=names.get(e["seat"]) if e["seat"] is not None else None)
        for e in c.progress.events(15)
    ]
    return {
        "now": time.time(),
        "started_at": c.progress.started_at(),
        "max_score": course.max_score,
        "objectives": [{"id": o.id, "points": o.points} for o in course.objectives],
        "seats": seats,
        "events": events,
    }


@bp.get("/")
@instructor_required
def board():
    """The live board (the page fills itself from board.json every few seconds)."""
    return render_template("classroom/instructor/board.html", data=board_data())


@bp.get("/board.json")
@instructor_required
def board_json():
    """The board's data, polled by the board and the demo view."""
    return jsonify(board_data())


@bp.get("/demo")
@instructor_required
def demo():
    """The projector view: big scoreboard, the clock and the latest events."""
    return render_template("classroom/instructor/demo.html", data=board_data())


@bp.get("/seats")
@instructor_required
def seats():
    """Every seat with its code to hand out, its case and who sits there."""
    c = classroom()
    return render_template(
        "classroom/instructor/seats.html",
        seats=list(c.course.seats.values()),
        trainees=c.progress.trainees(),
    )


@bp.get("/seats/<int:n>")
@instructor_required
def seat(n: int):
    """One seat: its questions with the key, its submissions and hints."""
    c = classroom()
    found = c.course.seats.get(n)
    if found is None:
        abort(404, _("There is no seat %(n)s.", n=n))
    progress = c.progress.seat(n)
    language = _texts_language()
    rows = []
    for o in c.course.objectives:
        rows.append(
            {
                "objective": o,
                "question": c.course.question(n, o.id, language),
                "hints": [c.course.hint_text(n, o.id, h.position, language) for h in o.hints],
                "key": json.dumps(c.course.key.get((n, o.id)), ensure_ascii=False),
                "progress": progress.get(o.id),
            }
        )
    trainee = c.progress.trainees().get(n)
    injected = [(i, _inject_text(i, language, n)) for i in c.course.injects]
    return render_template(
        "classroom/instructor/seat.html",
        inject_texts=[(i.id, text) for i, text in injected if text],
        seat=found,
        trainee=trainee,
        texts_language=language,
        # The languages the scenario is written in, to read the seat's texts in another one.
        text_languages=[(code, LANGUAGE_NAMES.get(code, code)) for code in c.course.languages],
        trainee_language=trainee["language"] if trainee else None,
        rows=rows,
        score=c.score(progress),
        submissions=c.progress.submissions(n),
        messages=c.progress.messages(n),
    )


def _sites() -> dict[str, str]:
    """World site names by host name, to label the connection log."""
    c = classroom()
    cached = current_app.extensions.get("classroom_sites")
    if cached is None:
        conn = open_world(c.world)
        try:
            cached = {r["address"]: r["name"] for r in site_rows(conn)}
        finally:
            conn.close()
        cached["classroom.test"] = "Classroom"  # a site's name, as the others: not translated
        current_app.extensions["classroom_sites"] = cached
    return cached


def _gateway_log(visitor: str | None) -> tuple[list[dict], list[dict], str | None]:
    """The latest gateway connections and containment events, and why none if none."""
    read = classroom().gateway_log
    if read is None:
        return [], [], _("No gateway runs with this classroom: there is no connection log.")
    try:
        connections, containment = read(visitor, LOG_LIMIT)
    except FileNotFoundError:
        return [], [], _("The gateway has not logged anything yet (no gateway.db).")
    except sqlite3.Error as e:
        return [], [], _("The gateway log cannot be read: %(error)s", error=e)
    return [dict(r) for r in connections], [dict(r) for r in containment], None


@bp.get("/connections")
@instructor_required
def connections():
    """The gateway's connection log: who reached which site, and who tried to leave."""
    visitor = request.args.get("visitor") or None
    rows, containment, problem = _gateway_log(visitor)
    return render_template(
        "classroom/instructor/connections.html",
        rows=rows,
        containment=containment,
        problem=problem,
        visitor=visitor,
        sites=_sites(),
    )


def _trigger(inject) -> str:
    """An inject's trigger in words."""
    if inject.trigger == "at":
        return _("%(minutes)s min after the start", minutes=format(inject.at_minutes, "g"))
    if inject.trigger == "solved":
        return _("when a seat solves %(id)s", id=inject.objective_id)
    return _("by hand")


def _inject_text(inject, language: str, seat: int | None = None) -> str:
    """A message inject's text for a seat (None: the class's) in a language, the scenario's
    default where not given; "" for another action, or for the class when the text differs
    by seat (each seat's page shows its own)."""
    if inject.action != "message":
        return ""
    try:
        config = inject.config(seat) if seat is not None else inject.shared
    except InjectError:
        return ""
    if not config:
        return ""
    return localized(config.get("texts"), language, classroom().course.language) or str(
        config.get("text", "")
    )


@bp.get("/injects")
@instructor_required
def injects():
    """Every inject with its trigger and when it fired, with a fire button each."""
    c = classroom()
    fired: dict[str, list] = {}
    for row in c.progress.fired_list():
        fired.setdefault(row["inject"], []).append(row)
    language = _texts_language()
    return render_template(
        "classroom/instructor/injects.html",
        injects=[
            {
                "inject": i,
                "trigger": _trigger(i),
                "text": _inject_text(i, language),
                "fired": fired.get(i.id, []),
            }
            for i in c.course.injects
        ],
        texts_language=language,
        runner=current_app.extensions.get("injects") is not None,
        seats=list(c.course.seats.values()),
        started_at=c.progress.started_at(),
    )


def _seat_field() -> int | None:
    """The optional seat of a form: None for the whole class; 400 for an unknown seat."""
    raw = request.form.get("seat", "").strip()
    if raw in ("", "all"):
        return None
    if not raw.isdigit() or int(raw) not in classroom().course.seats:
        abort(400, _("There is no seat %(n)s.", n=repr(raw)))
    return int(raw)


@bp.post("/injects/<inject_id>/fire")
@instructor_required
def fire(inject_id: str):
    """Fire an inject now, for one seat or the whole class."""
    c = classroom()
    if c.course.inject(inject_id) is None:
        abort(404, _("There is no inject %(id)s.", id=repr(inject_id)))
    seat = _seat_field()
    runner = current_app.extensions.get("injects")
    if runner is None:
        abort(503, _("The inject runner is not available in this sandbox."))
    try:
        runner.fire(inject_id, seat=seat)
    except (InjectError, KeyError, ValueError) as e:
        flash(_("%(id)s: not fired: %(error)s", id=inject_id, error=e), "bad")
        return redirect(url_for("instructor.injects"), code=303)
    if seat is not None:
        flash(_("Inject %(id)s fired for seat %(n)s.", id=inject_id, n=seat), "ok")
    else:
        flash(_("Inject %(id)s fired for the whole class.", id=inject_id), "ok")
    return redirect(url_for("instructor.injects"), code=303)


@bp.post("/clock/start")
@instructor_required
def start_clock():
    """Start (or restart) the exercise clock that timed injects count from."""
    c = classroom()
    c.progress.start()
    c.tick_now()  # injects at minute 0 reach the trainees now, not at the next tick
    flash(_("Exercise clock started."), "ok")
    back = request.form.get("back", "")
    if not (back.startswith("/instructor") and "//" not in back):
        back = url_for("instructor.board")
    return redirect(back, code=303)


@bp.post("/reset")
@instructor_required
def reset():
    """Reset one seat's progress, or everyone's (which also stops the clock)."""
    c = classroom()
    if request.form.get("all") == "1":
        if request.form.get("confirm") != "RESET":
            abort(400, _("To reset everyone, type %(word)s in the confirmation box.", word="RESET"))
        c.progress.reset()
        flash(_("Everyone's progress was reset and the clock stopped."), "ok")
    else:
        seat = _seat_field()
        if seat is None:
            abort(400, _("Name the seat to reset (or reset everyone)."))
        c.progress.reset(seat)
        flash(_("Seat %(n)s was reset (its trainee stays seated).", n=seat), "ok")
    return redirect(url_for("instructor.board"), code=303)


@bp.post("/seats/<int:n>/release")
@instructor_required
def release(n: int):
    """Free a seat: its trainee is signed out everywhere and its PIN forgotten."""
    c = classroom()
    if n not in c.course.seats:
        abort(404, _("There is no seat %(n)s.", n=n))
    if c.progress.release(n):
        flash(
            _(
                "Seat %(n)s released: its trainee is signed out and the next join with its code "
                "binds it afresh (progress kept; reset it separately if needed).",
                n=n,
            ),
            "ok",
        )
    else:
        flash(_("Seat %(n)s was already free.", n=n), "ok")
    back = request.form.get("back", "")
    if not (back.startswith("/instructor") and "//" not in back):
        back = url_for("instructor.seat", n=n)
    return redirect(back, code=303)


@bp.get("/results.csv")
@instructor_required
def results_csv():
    """Every seat's results as CSV: score, then solved/attempts/hints/time per objective."""
    data = board_data()
    c = classroom()
    board = c.progress.board()
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["seat", "code", "name", "score", "solved", "attempts"]
    for o in data["objectives"]:
        header += [f"{o['id']}:solved", f"{o['id']}:attempts", f"{o['id']}:hints",
                   f"{o['id']}:solved_at"]  # fmt: skip
    writer.writerow([safe_cell(v) for v in header])
    for s in data["seats"]:
        row = [s["n"], s["code"], s["name"] or "", s["score"], s["solved"], s["attempts"]]
        progress = board.get(s["n"], {})
        for o in data["objectives"]:
            sp = progress.get(o["id"])
            row += (
                [int(sp.solved), sp.attempts, len(sp.hints), _iso(sp.solved_at)]
                if sp
                else [0, 0, 0, ""]
            )
        writer.writerow([safe_cell(v) for v in row])
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="results-{stamp}.csv"'},
    )


@bp.before_request
def _trainee_never():
    """A trainee's cookie never reaches the instructor side, even with a guessed URL."""
    # instructor_required does this per view; this also covers the login form, so a
    # trainee is told plainly that the instructor side is not theirs.
    if (
        current_seat() is not None
        and not is_instructor()
        and request.endpoint
        not in (
            "instructor.login_form",
            "instructor.login",
        )
    ):
        if request.path.endswith(".json"):
            return jsonify(error="instructor only"), 403
        abort(403, "This page is for the instructor only.")
    return None
