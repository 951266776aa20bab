"""Collect: a crawl started from the page (the toolkit's `crawl`, through the proxy) and
watched there; a CAPTCHA on a login wall is shown in the page and answered there. A crawl
that ends is followed by `extract`, so its artefacts are in the table at once.

One crawl runs at a time, in a thread of its own with its own handle on the case file
(the CLI and the pages keep working on it meanwhile). When the crawl meets a CAPTCHA,
the thread waits for the page's answer; with none in `CAPTCHA_WAIT` seconds the crawl
stops as the CLI's does without a terminal, the challenge kept for the next run.
"""

from __future__ import annotations

import base64
import shlex
import threading
import time
from pathlib import Path

from flask import Blueprint, current_app, g, jsonify, render_template

from ..captcha import Solver
from ..case import Case
from ..crawl import crawl, parse_login
from ..errors import CaptchaPending, InputError, InvestigateError
from ..esplora import DEFAULT_PROXY
from ..extract import extract
from .context import Settings, json_body

bp = Blueprint("collect", __name__, url_prefix="/collect")

CAPTCHA_WAIT = 15 * 60  # seconds a crawl waits for a CAPTCHA's answer in the page
_JOB = "investigate_ui.crawl"


class CrawlJob:
    """One crawl running in a thread; its progress, its result, the CAPTCHA it waits on."""

    def __init__(self, settings: Settings, urls: list[str], options: dict):
        """A crawl of urls with crawl()'s options (not started)."""
        self.settings = settings
        self.urls = urls
        self.options = options
        self._lock = threading.Lock()
        self._answered = threading.Event()
        self._answer: str | None = None
        self._cancelled = False
        self.state: dict = {
            "status": "running",  # running | captcha | done | stopped | failed
            "urls": urls,
            "fetched": 0,
            "pending": 0,
            "url": "",
            "captcha": None,
            "result": None,
            "error": None,
            "started": time.time(),
        }
        self._thread = threading.Thread(target=self._run, name="investigate-ui-crawl", daemon=True)

    def start(self) -> CrawlJob:
        """Run the crawl in its thread."""
        self._thread.start()
        return self

    def snapshot(self) -> dict:
        """The state as the page shows it."""
        with self._lock:
            return dict(self.state)

    @property
    def running(self) -> bool:
        """Whether the crawl has not finished yet."""
        return self._thread.is_alive()

    def answer(self, text: str) -> None:
        """The page's answer to the CAPTCHA the crawl waits on."""
        with self._lock:
            if self.state["status"] != "captcha":
                raise InputError("no CAPTCHA is waiting for an answer")
            self._answer = text
            self.state.update(status="running", captcha=None)
        self._answered.set()

    def _progress(self, fetched: int, pending: int, url: str) -> None:
        """The crawl's progress callback."""
        with self._lock:
            self.state.update(fetched=fetched, pending=pending, url=url)

    def _ask(self, picture: Path) -> str:
        """The Solver's `ask`: show the picture in the page and wait for its answer."""
        image = picture.read_bytes()
        with self._lock:
            self._answered.clear()
            self.state.update(
                status="captcha",
                captcha={
                    "name": picture.name,
                    "src": "data:image/png;base64," + base64.b64encode(image).decode("ascii"),
                },
            )
        if not self._answered.wait(CAPTCHA_WAIT) or self._cancelled:
            with self._lock:
                self.state.update(captcha=None)
            raise CaptchaPending(
                f"no answer to the CAPTCHA {picture.name} in the page (waited up to"
                f" {CAPTCHA_WAIT} s, or the workspace closed); start the crawl again to go on"
                " from it"
            )
        assert self._answer is not None  # set before the event
        return self._answer

    def _run(self) -> None:
        """The crawl, in its thread, on its own handle on the case file."""
        settings = self.settings
        options = self.options
        try:
            with Case(settings.case_path, settings.operator) as case:
                shown = {k: v for k, v in options.items() if k != "login"}
                case.begin(
                    "investigate ui: crawl "
                    + shlex.join(self.urls)
                    + "".join(f" --{k.replace('_', '-')} {v}" for k, v in sorted(shown.items()))
                    + (" --login ***" if options.get("login") else "")
                )
                solver = Solver(case.path.with_name(case.path.stem + "-captchas"), ask=self._ask)
                result = crawl(
                    case,
                    self.urls,
                    proxy=settings.proxy or DEFAULT_PROXY,
                    captcha=solver,
                    progress=self._progress,
                    **options,
                )
                # What a trainee wants next is the artefacts: read the new captures at once.
                case.begin("investigate ui: extract")
                found = extract(case)
            with self._lock:
                self.state.update(status="done", result=result.as_dict(), extracted=found.as_dict())
        except CaptchaPending as e:
            with self._lock:
                partial = e.result.as_dict() if e.result is not None else None
                self.state.update(status="stopped", error=str(e), result=partial)
        except InvestigateError as e:
            partial = getattr(e, "result", None)
            with self._lock:
                self.state.update(
                    status="failed",
                    error=str(e),
                    result=partial.as_dict() if partial is not None else None,
                )
        except Exception as e:  # the thread's end: the page must see it failed, not hang
            with self._lock:
                self.state.update(status="failed", error=f"{type(e).__name__}: {e}")
            raise

    def cancel(self) -> None:
        """Stop waiting for a CAPTCHA's answer (the workspace is closing)."""
        self._cancelled = True
        self._answered.set()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the crawl's thread (tests, shutdown)."""
        self._thread.join(timeout)


def stop_crawl(app) -> None:
    """End the app's crawl's wait for a CAPTCHA and wait for its thread (at shutdown)."""
    job = app.extensions.get(_JOB)
    if job is not None:
        job.cancel()
        job.join(60)


def _job() -> CrawlJob | None:
    """The app's current (or last) crawl."""
    return current_app.extensions.get(_JOB)


def _options(data: dict) -> dict:
    """crawl()'s options from the page's form, checked."""

    def number(key: str, default: int, low: int, high: int) -> int:
        value = data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise InputError(f"{key} {value!r}: expected a whole number from {low} to {high}")
        return value

    options: dict = {
        "depth": number("depth", 2, 0, 20),
        "max_pages": number("max_pages", 200, 1, 100_000),
        "scope": "any" if data.get("follow_offsite") else "site",
        "images": not data.get("no_images"),
        "probe": not data.get("no_probe"),
        "fresh": bool(data.get("fresh")),
    }
    rate = data.get("rate")
    if rate is not None:
        if not isinstance(rate, int | float) or isinstance(rate, bool) or rate < 0:
            raise InputError(f"rate {rate!r}: expected a number of requests per second, 0 or more")
        options["rate"] = float(rate)
    login = data.get("login")
    if login:
        if not isinstance(login, str):
            raise InputError("login: expected USER:PASSWORD")
        options["login"] = parse_login(login)
    return options


@bp.get("/")
def page():
    """The crawl form and the crawl's progress."""
    return render_template("collect.html", proxy=g.settings.proxy or DEFAULT_PROXY)


@bp.post("/api/start")
def start():
    """Start a crawl (one at a time)."""
    data = json_body()
    urls = data.get("urls")
    if isinstance(urls, str):
        urls = urls.split()
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        raise InputError("urls: expected one or more start URLs")
    options = _options(data)
    current = _job()
    if current is not None and current.running:
        raise InputError("a crawl is running already: wait for it to finish")
    job = CrawlJob(g.settings, [u.strip() for u in urls if u.strip()], options)
    current_app.extensions[_JOB] = job.start()
    return jsonify(job.snapshot())


@bp.get("/api/status")
def status():
    """The crawl's progress, its CAPTCHA if it waits on one, its result when done."""
    job = _job()
    return jsonify(job.snapshot() if job else {"status": "idle"})


@bp.post("/api/captcha")
def captcha():
    """The answer to the CAPTCHA the crawl waits on."""
    text = json_body().get("answer")
    if not isinstance(text, str) or not text.strip():
        raise InputError("answer: expected the characters in the picture")
    job = _job()
    if job is None:
        raise InputError("no crawl is running")
    job.answer(text.strip())
    return jsonify(job.snapshot())
