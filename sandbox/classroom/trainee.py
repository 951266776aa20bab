"""The trainee's side: join with a seat code, the case, answers, hints, score and wallet."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import replace

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from werkzeug.exceptions import TooManyRequests

from .. import i18n
from ..scenario.i18n import LANGUAGE_NAMES, LANGUAGES, localized
from .auth import client, current_seat, trainee_required
from .compare import MAX_ANSWER
from .markup import MARKDOWN_KINDS, render_markdown
from .progress import SeatTaken, SubmitError, hash_pin

__all__ = ["bp"]

bp = Blueprint("trainee", __name__)
log = logging.getLogger(__name__)
MAX_NAME = 80
MIN_PIN, MAX_PIN = 4, 64
TEXT_MIMES = ("text/", "application/json")
# progress.py's refusals (it knows no request, so no language), as the trainee reads them.
SUBMIT_ERRORS = {
    "You have already solved this objective.": _l("You have already solved this objective."),
    "No attempts left on this objective.": _l("No attempts left on this objective."),
}


def classroom():
    """The app's Classroom."""
    return current_app.extensions["classroom"]


def _language_choice(given: str | None) -> str | None:
    """A language a form sent: None when none was chosen; 400 naming an unknown one."""
    if not given:
        return None
    if given not in LANGUAGES:
        abort(
            400,
            _(
                "There is no language %(given)s: choose one of %(choices)s.",
                given=repr(given),
                choices=", ".join(LANGUAGES),
            ),
        )
    return given


def browser_language() -> str:
    """The language to offer first: the browser's best one the scenario is written in,
    else the scenario's default (meta.locale's)."""
    course = classroom().course
    return i18n.browser_language(course.languages) or course.language


@bp.before_request
def _trainee_language():
    """g.language on trainee pages: the seated trainee's language, else the one picked with
    the pages' language switcher (before joining), else the browser's."""
    seat = current_seat()
    chosen = None
    if seat is not None:
        row = classroom().progress.trainee(seat.n)
        chosen = row["language"] if row is not None else None
    else:
        chosen = i18n.language_of(request.cookies.get(i18n.COOKIE))
    g.language = chosen or browser_language()


def _objectives(seat, progress) -> list[dict]:
    """What the case page shows of each objective for a seat (never the key)."""
    # One url_for for all: objective ids are URL-safe (the scenario's id alphabet), and
    # building 60 URLs per page is a good part of its cost under a class's load.
    base = url_for("trainee.answer", objective_id="__id__")
    hint_base = url_for("trainee.hint", objective_id="__id__")
    out = []
    for objective in classroom().course.objectives:
        sp = progress.get(objective.id)
        attempts = sp.attempts if sp else 0
        solved = bool(sp and sp.solved)
        exhausted = bool(objective.attempts and attempts >= objective.attempts and not solved)
        unlocked = sp.hints if sp else set()
        course = classroom().course
        hints = [
            {
                "position": h.position,
                "cost": h.cost,
                "text": course.hint_text(seat.n, objective.id, h.position, g.language),
            }
            for h in objective.hints
            if h.position in unlocked
        ]
        locked_hints = [h for h in objective.hints if h.position not in unlocked]
        out.append(
            {
                "id": objective.id,
                "answer_url": base.replace("__id__", objective.id),
                "hint_url": hint_base.replace("__id__", objective.id),
                "question": course.question(seat.n, objective.id, g.language),
                "points": objective.points,
                "compare": objective.compare,
                "attempts": attempts,
                "limit": objective.attempts,
                "left": (objective.attempts - attempts) if objective.attempts else None,
                "solved": solved,
                "exhausted": exhausted,
                "last_answer": sp.last_answer if sp else None,
                "hints": hints,
                "next_hint": locked_hints[0] if locked_hints and not solved else None,
                "hints_left": len(locked_hints),
            }
        )
    return out


def _case_page(errors: dict | None = None, status: int = 200, answers: dict | None = None):
    """The case page of the seated trainee, with per-objective errors if any."""
    seat = current_seat()
    c = classroom()
    progress = c.progress.seat(seat.n)
    # Titles in the trainee's language (the files too, where the scenario gives them).
    artefacts = [
        replace(a, title=c.course.artefact_title(a, g.language))
        for a in c.course.artefacts.get(seat.n, [])
    ]
    brief = next((a for a in artefacts if a.kind == "brief"), None)
    brief_text = c.course.brief_in(seat.n, brief.id, g.language) if brief is not None else None
    balance = c.balance(seat.wallet_address)
    body = render_template(
        "classroom/case.html",
        seat=seat,
        trainee=c.progress.trainee(seat.n),
        objectives=_objectives(seat, progress),
        score=c.score(progress),
        max_score=c.course.max_score,
        brief=brief,
        brief_html=render_markdown(brief_text) if brief_text is not None else None,
        artefacts=[a for a in artefacts if a is not brief],
        balance=balance,
        requester=c.course.requesters.get(seat.n),
        messages=_messages(seat.n),
        language=g.language,
        seat_languages=LANGUAGE_NAMES,
        started_at=c.progress.started_at(),
        errors=errors or {},
        answers=answers or {},
    )
    return body, status


def _messages(seat: int, after: int = 0) -> list[dict]:
    """The seat's messages, newest first, each in the trainee's language where given."""
    language = g.language
    default = classroom().course.language
    out = []
    for m in classroom().progress.messages(seat, after):
        texts = m["texts"]
        text = localized(json.loads(texts), language, default) if texts else m["text"]
        out.append({"id": m["id"], "text": text, "time": m["time"]})
    return out


@bp.get("/")
@trainee_required
def case():
    """The trainee's case: brief, artefacts, objectives, hints, score, wallet, messages."""
    return _case_page()


@bp.get("/join")
def join_form():
    """The join form (or the case, for a trainee already seated)."""
    if current_seat() is not None:
        return redirect(url_for("trainee.case"))
    return _join_page(None, "", "")


def _join_page(error: str | None, code: str, name: str, language: str | None = None):
    """The join form, with the language menu set to the language to offer."""
    return render_template(
        "classroom/join.html",
        error=error,
        code=code,
        name=name,
        language=language or g.language,
        seat_languages=LANGUAGE_NAMES,
    )


def _join_refused(error: str, status: int, code: str, name: str):
    """The join form again, with what went wrong (and the language chosen kept)."""
    language = request.form.get("language")
    return _join_page(error, code, name, language if language in LANGUAGES else None), status


@bp.post("/join")
def join():
    """Seat a trainee by code, name and PIN; the first join binds the seat to this browser.

    A bound seat moves to another browser only with its PIN; the code alone is refused and
    the seated trainee keeps their session. Wrong codes and PINs are throttled.
    """
    code = request.form.get("code", "").strip()
    name = " ".join(request.form.get("name", "").split())
    pin = request.form.get("pin", "").strip()
    language = request.form.get("language", "").strip()
    if language and language not in LANGUAGES:
        return _join_refused(
            _(
                "There is no language %(given)s: choose one of %(choices)s.",
                given=repr(language),
                choices=", ".join(LANGUAGES),
            ),
            400,
            code,
            name,
        )
    c = classroom()
    if not c.course.seats:
        return _join_refused(_("This world has no course: ask the instructor."), 400, code, name)
    if not code:
        return _join_refused(_("Type the seat code your instructor gave you."), 400, code, name)
    if len(name) > MAX_NAME:
        return _join_refused(
            _("Your name is too long (at most %(num)s characters).", num=MAX_NAME), 400, code, name
        )
    if len(pin) > MAX_PIN:
        return _join_refused(
            _("Your PIN is too long (at most %(num)s characters).", num=MAX_PIN), 400, code, name
        )
    wait = c.joins.wait(client())
    if wait is not None:
        raise TooManyRequests(
            _(
                "Too many wrong seat codes or PINs from here: wait %(seconds)s seconds and try again.",
                seconds=wait,
            ),
            retry_after=wait,
        )
    seat = c.course.seat_by_code(code)
    if seat is None:
        c.joins.charge(client())
        return _join_refused(
            _("No seat has the code %(code)s: check it with your instructor.", code=repr(code)),
            400,
            code,
            name,
        )
    holder = c.progress.trainee(seat.n)
    token = None
    if holder is None:
        if not name:
            return _join_refused(_("Type your name, so the instructor knows who you are."), 400,
                                 code, name)  # fmt: skip
        if len(pin) < MIN_PIN:
            return _join_refused(
                _(
                    "Choose a PIN of at least %(num)s characters: with your seat code it lets "
                    "you rejoin from another computer. Keep it to yourself.",
                    num=MIN_PIN,
                ),
                400,
                code,
                name,
            )
        with contextlib.suppress(SeatTaken):  # someone was quicker: judged below as a rejoin
            # No menu sent (a script, an old page): the language the page was shown in.
            token = c.progress.claim(seat.n, name, hash_pin(pin), language or g.language)
    if token is None:
        if not pin:
            c.joins.charge(client())  # a right code, but a probe all the same
            return _join_refused(
                _(
                    "Seat %(n)s is already taken. If it is yours, type your PIN to move it to "
                    "this browser; if not, check your seat code with the instructor.",
                    n=seat.n,
                ),
                409,
                code,
                name,
            )
        token = c.progress.rejoin(seat.n, pin, name or None, language or None)
        if token is None:
            c.joins.charge(client())
            return _join_refused(
                _(
                    "Wrong PIN for seat %(n)s. If you forgot it, ask the instructor to release "
                    "the seat.",
                    n=seat.n,
                ),
                403,
                code,
                name,
            )
    # A fresh session on joining: nothing from before carries over (session fixation).
    keep = {k: session[k] for k in ("inst", "isid") if k in session}
    session.clear()
    session.update(keep)
    session.permanent = True
    session["seat"], session["tok"] = seat.n, token
    who = c.progress.trainee(seat.n)
    flash(
        _("Welcome, %(name)s: you are at seat %(n)s.", name=who["name"] if who else name, n=seat.n),
        "ok",
    )
    return redirect(url_for("trainee.case"), code=303)


@bp.post("/language")
@trainee_required
def change_language():
    """Change the language the seated trainee reads the case in."""
    seat = current_seat()
    language = _language_choice(request.form.get("language", "").strip())
    if language is None:
        abort(400, _("Choose a language: one of %(choices)s.", choices=", ".join(LANGUAGES)))
    classroom().progress.set_language(seat.n, language)
    return redirect(url_for("trainee.case"), code=303)


@bp.post("/leave")
def leave():
    """End the trainee's session everywhere its cookie went; rejoin with code and PIN."""
    seat = current_seat()
    if seat is not None:
        classroom().progress.revoke(seat.n, session.get("tok", ""))
    session.pop("seat", None)
    session.pop("tok", None)
    return redirect(url_for("trainee.join_form"), code=303)


def _not_started():
    """The refusal of an answer or hint before the clock starts, or None once it runs."""
    if classroom().progress.started_at() is not None:
        return None
    return _case_page(
        {"_clock": _("The exercise has not started yet: wait for your instructor to start it.")},
        409,
    )


def _objective_or_404(objective_id: str):
    """An objective of the course, or a 404 naming it."""
    objective = classroom().course.by_id.get(objective_id)
    if objective is None:
        abort(404, _("There is no objective %(id)s.", id=repr(objective_id)))
    return objective


def _back_to(objective):
    """See-other redirect to the objective on the case page (after a POST)."""
    return redirect(url_for("trainee.case", _anchor=f"obj-{objective.id}"), code=303)


@bp.post("/objectives/<objective_id>/answer")
@trainee_required
def answer(objective_id: str):
    """Judge and record an answer; refuse an empty one, a solved or exhausted objective."""
    seat = current_seat()
    objective = _objective_or_404(objective_id)
    given = request.form.get("answer", "")
    if not given.strip():
        return _case_page({objective.id: _("Type an answer before submitting.")}, 400)
    if len(given) > MAX_ANSWER:
        return _case_page(
            {
                objective.id: _(
                    "That answer is too long (at most %(num)s characters).", num=MAX_ANSWER
                )
            },
            400,
        )
    refused = _not_started()
    if refused is not None:
        return refused
    c = classroom()
    correct = c.judge(seat.n, objective.id, given)
    try:
        result = c.progress.submit(seat.n, objective.id, given.strip(), correct, objective.attempts)
    except SubmitError as e:
        return _case_page({objective.id: str(SUBMIT_ERRORS.get(str(e), e))}, e.status)
    if correct:
        flash(
            ngettext(
                "Correct: %(id)s solved, +%(num)d point.",
                "Correct: %(id)s solved, +%(num)d points.",
                objective.points,
                id=objective.id,
            ),
            "ok",
        )
        runner = current_app.extensions.get("injects")
        if runner is not None:
            try:
                runner.on_solved(seat.n, objective.id)
            except Exception:  # an inject's failure must never lose the trainee's answer
                log.exception("classroom: on_solved(%s, %s) failed", seat.n, objective.id)
    elif result.left == 0:
        flash(_("Not correct, and that was your last attempt on %(id)s.", id=objective.id), "bad")
    elif result.left is not None:
        flash(
            ngettext(
                "Not correct. %(num)d attempt left on %(id)s.",
                "Not correct. %(num)d attempts left on %(id)s.",
                result.left,
                id=objective.id,
            ),
            "bad",
        )
    else:
        flash(_("Not correct. Try again (%(id)s).", id=objective.id), "bad")
    return _back_to(objective)


@bp.post("/objectives/<objective_id>/hint")
@trainee_required
def hint(objective_id: str):
    """Unlock the next hint of an objective; its cost comes off the score."""
    seat = current_seat()
    objective = _objective_or_404(objective_id)
    refused = _not_started()
    if refused is not None:
        return refused
    c = classroom()
    sp = c.progress.seat(seat.n).get(objective.id)
    if sp is not None and sp.solved:
        return _case_page({objective.id: _("Already solved: no hint needed.")}, 409)
    unlocked = sp.hints if sp else set()
    pending = [h for h in objective.hints if h.position not in unlocked]
    if not pending:
        return _case_page({objective.id: _("There are no more hints for this objective.")}, 409)
    wanted = request.form.get("position", type=int)
    # Hints come in order; a stale form (double click) must not unlock the one after.
    if wanted is not None and wanted != pending[0].position:
        return _back_to(objective)
    hint = pending[0]
    if c.progress.unlock_hint(seat.n, objective.id, hint.position):
        flash(
            ngettext(
                "Hint unlocked for %(id)s (-%(num)d point).",
                "Hint unlocked for %(id)s (-%(num)d points).",
                hint.cost,
                id=objective.id,
            ),
            "ok",
        )
    return _back_to(objective)


@bp.get("/artefacts/<artefact_id>")
@trainee_required
def artefact(artefact_id: str):
    """Download one of the seat's artefacts (inline with ?view=1 for text and images)."""
    seat = current_seat()
    c = classroom()
    found = c.course.artefact(seat.n, artefact_id)
    if found is None:
        abort(404, _("There is no artefact %(id)s in your case.", id=repr(artefact_id)))
    versions = c.course.texts.get((seat.n, f"artefact:{artefact_id}"))
    if versions:  # a brief or note the scenario gives in several languages
        content = c.course.brief_in(seat.n, artefact_id, g.language).encode()
        found = replace(found, title=c.course.artefact_title(found, g.language))
    else:
        content = c.course.artefact_content(seat.n, artefact_id)
    view = request.args.get("view")
    if view and found.kind in MARKDOWN_KINDS:
        page = render_template(
            "classroom/document.html",
            artefact=found,
            body=render_markdown(content.decode("utf-8", "replace")),
        )
        response = Response(page, mimetype="text/html")
        # Evidence to read, never a page to run: no scripts, only the portal's stylesheet.
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'self'; img-src 'self'; sandbox"
        )
        return response
    inline = view and (found.mime.startswith(TEXT_MIMES) or found.mime.startswith("image/"))
    mime = found.mime
    if mime.startswith("text/") and "charset" not in mime:
        mime += "; charset=utf-8"
    disposition = "inline" if inline else "attachment"
    response = Response(content, mimetype=mime)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{found.filename}"'
    # A file is evidence to read, never a page to run: no scripts, whatever it contains.
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


@bp.get("/me.json")
@trainee_required
def me():
    """The trainee's score, solved objectives and messages, for the page's live updates."""
    seat = current_seat()
    c = classroom()
    progress = c.progress.seat(seat.n)
    after = request.args.get("after", 0, type=int)
    return jsonify(
        seat=seat.n,
        score=c.score(progress),
        max_score=c.course.max_score,
        solved=[o for o, sp in progress.items() if sp.solved],
        started_at=c.progress.started_at(),
        now=time.time(),
        messages=_messages(seat.n, after),
    )
