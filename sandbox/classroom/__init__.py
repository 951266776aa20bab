"""The classroom portal: trainees work their case, the instructor watches and drives it.

    app = create_app("world.db", "world.state/", instructor_password="...")
    reads = create_replica_app("world.db", "world.state/", "http://127.0.0.1:PORT/")

Trainees join with a seat code, read their brief and artefacts, answer objectives (judged
against the world's answer key, which is never sent to them), unlock hints and see their
score and funded training wallet. The instructor logs in with the password given at
start and gets a live board, the gateway's connection log, injects, resets, a CSV export
and a projector view. Progress lives in `<state>/classroom.db` (see progress.py).

The replica app serves the portal from worker processes: it answers a seated trainee's
pages (the case, artefacts, the live updates) and the join form from classroom.db, and
passes everything else (joining, answers, hints, the instructor's side) to the app at
PORT, in the process where the throttles, the inject runner and the password are.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, Request, g, render_template, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from .. import i18n
from ..leader import Leader, pass_on_unless
from ..ledger.codec.amounts import format_btc
from ..ledger.live.chain import LiveChainReader
from ..world.store import open_world, scenario_locale, unspent_of
from . import auth
from .compare import answer_matches
from .course import Course, load_course
from .progress import Progress, SeatProgress, SubmitError, Submitted
from .throttle import Rate, Throttle

__all__ = [
    "Classroom",
    "Course",
    "Progress",
    "SeatProgress",
    "SubmitError",
    "Submitted",
    "create_app",
    "create_replica_app",
    "load_course",
]

PACKAGE = Path(__file__).resolve().parent
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
TICK_SECONDS = 1.0
# Wrong guesses allowed: a client may mistype a few times a minute; all clients together
# get enough for a class of 40 to each mistype once (right ones cost nothing).
JOIN_LIMITS = (Rate(10, 60), Rate(60, 60))
LOGIN_LIMITS = (Rate(6, 60), Rate(20, 60))
log = logging.getLogger(__name__)


@dataclass
class Classroom:
    """What the portal's requests share: the course, the progress store and the secrets."""

    world: Path
    state: Path
    course: Course
    progress: Progress
    password: str
    secret: bytes
    instructor_mac: str = ""
    runner: Any = None
    # The gateway's log reader, handed over by the sandbox: (visitor, limit) ->
    # (connections, containment events), newest first; None when no gateway logs here.
    gateway_log: Callable[[str | None, int], tuple[list, list]] | None = None
    joins: Throttle = field(default_factory=lambda: Throttle(*JOIN_LIMITS))
    logins: Throttle = field(default_factory=lambda: Throttle(*LOGIN_LIMITS))
    _world_unspent: dict[str, int] = field(default_factory=dict, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _ticker: threading.Thread | None = field(default=None, repr=False)

    @property
    def chain_db(self) -> Path:
        """The live chain the explorer writes, where sweeps are judged."""
        return self.state / "chain.db"

    def tick_now(self) -> None:
        """Fire what is due right away (the clock just started: minute-0 injects)."""
        if self.runner is None:
            return
        try:
            self.runner.tick()
        except Exception:  # the ticker will try again; starting the clock must not fail
            log.exception("classroom: inject tick failed")

    def judge(self, seat: int, objective_id: str, answer: str) -> bool:
        """Whether an answer is right for a seat, against the key."""
        objective = self.course.by_id[objective_id]
        key = self.course.key.get((seat, objective_id))
        if key is None:
            return False
        return answer_matches(
            objective.compare,
            answer,
            key,
            tolerance=objective.tolerance,
            relative=objective.tolerance_relative,
            chain_db=self.chain_db,
            accept=objective.accept,
            spellings=objective.spellings,
        )

    def score(self, progress: dict[str, SeatProgress]) -> int:
        """Points of solved objectives minus the cost of unlocked hints, never below 0."""
        total = 0
        for objective in self.course.objectives:
            sp = progress.get(objective.id)
            if sp is None:
                continue
            if sp.solved:
                total += objective.points
            total -= sum(h.cost for h in objective.hints if h.position in sp.hints)
        return max(total, 0)

    def balance(self, address: str | None) -> int | None:
        """The training wallet's balance in satoshis (world and live chain), None if unknown."""
        if not address:
            return None
        try:
            world_sum = self._world_unspent.get(address)
            if world_sum is None:  # the world never changes while served: read it once
                world = open_world(self.world)
                try:
                    world_sum = unspent_of(world, address)
                finally:
                    world.close()
                self._world_unspent[address] = world_sum
            live_in, live_out = LiveChainReader(self.chain_db).received_and_spent(address)
        except sqlite3.Error:
            return None
        return world_sum + live_in - live_out

    def start_ticker(self, runner) -> None:
        """Call the inject runner's tick() every second in a background thread."""

        def loop():
            """Tick until closed; an inject that fails is logged, never fatal."""
            while not self._stop.wait(TICK_SECONDS):
                try:
                    runner.tick()
                except Exception:
                    log.exception("classroom: inject tick failed")

        self._ticker = threading.Thread(target=loop, name="classroom-injects", daemon=True)
        self._ticker.start()

    def close(self) -> None:
        """Stop the ticker and close the progress store."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
        close = getattr(self.runner, "close", None)
        if close is not None:
            close()
        self.progress.close()


def _inject_runner(classroom: Classroom, sandbox, live):
    """The inject runner of injects.py for this classroom (None when it cannot load)."""
    try:
        from .injects import Injects
    except ImportError:  # a partial install: the portal still works, injects do not
        log.exception("classroom: the inject runner cannot be loaded")
        return None
    return Injects(classroom.world, classroom.state, classroom.progress, sandbox, live)


def create_app(
    world_path: str | Path,
    state_dir: str | Path,
    instructor_password: str,
    *,
    sandbox=None,
    live=None,
    gateway_log=None,
    inject_runner=None,
    tick: bool = True,
) -> Flask:
    """The classroom portal of a world; progress is kept in state_dir/classroom.db.

    sandbox is the running Sandbox the injects act on (sites offline), live the live chain
    it hands over (funds moved on it); without them only message injects can fire.
    gateway_log reads the gateway's connection log for the instructor (see
    `Classroom.gateway_log`). tick=False leaves timed injects to the caller.
    """
    if not instructor_password:
        raise ValueError("the classroom needs an instructor password")
    classroom = _classroom(world_path, state_dir, instructor_password)
    classroom.gateway_log = gateway_log
    app = _app(classroom)
    runner = (
        inject_runner if inject_runner is not None else _inject_runner(classroom, sandbox, live)
    )
    classroom.runner = runner
    if runner is not None:
        app.extensions["injects"] = runner
        if tick:
            classroom.start_ticker(runner)
    return app


# What a worker process answers itself: a trainee's reads. Joining and answers are
# throttled per client in the portal's own process; hints, the runner's reactions to a
# solved objective and the instructor's side (its password is not in the workers) live
# there too.
READ_ENDPOINTS = frozenset(
    ("trainee.case", "trainee.join_form", "trainee.artefact", "trainee.me", "static", "healthz")
)


def create_replica_app(world_path: str | Path, state_dir: str | Path, leader: str) -> Flask:
    """The portal's app for a worker process: a trainee's pages read from classroom.db,
    every other request passed to create_app's process at leader (http://HOST:PORT/)."""
    app = _app(_classroom(world_path, state_dir, None))
    pass_on_unless(app, Leader(leader, "the classroom"), _answered_here, _unavailable)
    return app


def _answered_here(incoming: Request) -> bool:
    """Whether a worker answers the request: a read of READ_ENDPOINTS, not from a browser
    with an instructor's session (whose pages the workers cannot check)."""
    return (
        incoming.method in ("GET", "HEAD")
        and incoming.endpoint in READ_ENDPOINTS
        and "inst" not in session
    )


def _unavailable(why: str):
    """503 while the portal's own process starts or restarts, on the portal's error page."""
    title = str(_l("Not available"))
    page = render_template("classroom/error.html", code=503, title=title, message=why)
    return page, 503, {"Retry-After": "2"}


def _classroom(world_path: str | Path, state_dir: str | Path, password: str | None) -> Classroom:
    """What the app's requests share; password None: no instructor can log in here."""
    world = Path(world_path).resolve()
    state = Path(state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    secret = auth.load_secret(state)
    classroom = Classroom(world, state, load_course(world), Progress(state), password or "", secret)
    if password:
        classroom.instructor_mac = auth.instructor_mac(secret, password)
    return classroom


def _app(classroom: Classroom) -> Flask:
    """The portal's Flask app over classroom."""
    app = Flask(
        __name__,
        template_folder=str(PACKAGE / "templates"),
        static_folder=str(PACKAGE / "static"),
        static_url_path="/static",
    )
    app.config.update(
        SECRET_KEY=classroom.secret,
        SESSION_COOKIE_NAME="classroom",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=64_000,
        PERMANENT_SESSION_LIFETIME=14 * 24 * 3600,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  # Flask's default provider has it
    app.add_template_filter(format_btc, "btc")
    app.extensions["classroom"] = classroom
    i18n.init_app(app, scenario_locale=scenario_locale(classroom.world), cookie=_language_cookie)

    from .instructor import bp as instructor_bp
    from .trainee import bp as trainee_bp

    app.register_blueprint(trainee_bp)
    app.register_blueprint(instructor_bp)

    @app.before_request
    def _csrf():
        """Every form POST carries the session's CSRF token."""
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            auth.check_csrf()

    @app.context_processor
    def _globals():
        """What every page's layout uses."""
        return {
            "csrf_token": auth.csrf_token,
            # The course as this reader sees it: its title in the trainee's language, or on
            # the instructor's side (no g.language) in the instructor's.
            "course": classroom.course.read_in(g.get("language") or str(get_locale())),
            "me": auth.current_seat(),
            "instructor": auth.is_instructor(),
        }

    @app.after_request
    def _headers(response):
        """Nothing from elsewhere, no framing, and no caching of anyone's progress."""
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    for code, title in (
        (400, _l("Bad request")),
        (403, _l("Not allowed")),
        (404, _l("Not found")),
        (405, _l("Method not allowed")),
        (409, _l("Not accepted")),
        (413, _l("Too large")),
        (429, _l("Too many attempts")),
        (503, _l("Not available")),
    ):
        app.register_error_handler(code, _error_page(code, title))

    @app.get("/healthz")
    def healthz():
        """Liveness: a constant answer (also the benchmark's baseline)."""
        return "ok\n", 200, {"Content-Type": "text/plain"}

    return app


def _language_cookie(path: str) -> str:
    """The instructor's side keeps a language of its own, apart from a trainee's."""
    return "lang_instructor" if path.startswith("/instructor") else i18n.COOKIE


def _error_page(code: int, title: Any):
    """An error handler rendering the portal's error page with the abort's message."""

    def handler(e):
        """Show the message in the portal's look (JSON for JSON endpoints)."""
        title_text = str(title)  # lazy: in the request's language
        message = getattr(e, "description", "") or title_text
        retry = getattr(e, "retry_after", None)
        headers = {"Retry-After": str(retry)} if retry is not None else {}
        if request.path.endswith(".json"):
            return {"error": message}, code, headers
        return (
            render_template("classroom/error.html", code=code, title=title_text, message=message),
            code,
            headers,
        )

    return handler
