"""Crawling hidden services into the case: breadth-first, resumable, through login walls.

`crawl(case, urls)` visits the start pages, then the pages and images they link to, level
by level, staying on the start sites unless told to follow other `.onion`/`.test` sites.
Every response is stored with `Case.capture` (SHA-256, time, proxy, custody entry). The
frontier and the visited set live in the case file, so an interrupted crawl (Ctrl-C, a
page limit, a dropped proxy) continues where it stopped when run again, without fetching
or storing anything twice; session cookies are kept there too.

On each new site the crawler also asks for the paths careless operators leave open
(/server-status, /uploads/, /robots.txt, /pgp.txt, /mirrors.txt, /canary.txt), as an
investigator would. It never submits a form except a login or registration form, and only
when given credentials; a CAPTCHA on it goes to the `captcha` callback (a human). When the
callback cannot answer now it raises CaptchaPending: the crawl stops with the challenge's
page saved in the case, and the next run asks for that same picture first. Logout links
are never followed.

Fetches overlap parsing and storing: a few threads fetch the next queued entries while
the crawl stores the current one, but entries are still taken, stored and logged one at a
time in the frontier's order (depth, then when found), so a crawl stores the same pages in
the same order as a sequential one. Every request still waits for the per-site `rate`; a
site is only fetched ahead once it has answered without a DDoS queue, and never while the
crawler logs in on it (a page fetched meanwhile would replace the login's CAPTCHA).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.etree
import lxml.html
from bs4 import BeautifulSoup, Tag

from .case import Case
from .errors import CaptchaPending, InputError, NetworkError
from .extract.onions import is_valid_onion
from .net import (
    DEFAULT_PROXY,
    DEFAULT_RATE,
    Client,
    Page,
    ProxyUnreachable,
    jar_from_json,
    jar_to_json,
    load_cookies,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS crawl_frontier (
    url TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    depth INTEGER NOT NULL,       -- links from a start page
    kind TEXT NOT NULL,           -- page | image | probe
    state TEXT NOT NULL,          -- queued | done | failed | deep (beyond --depth) | offsite
    referrer TEXT,
    status INTEGER,
    capture_id INTEGER REFERENCES captures(id),
    note TEXT,
    added_at REAL NOT NULL,
    done_at REAL
);
CREATE INDEX IF NOT EXISTS idx_frontier_state ON crawl_frontier(state, depth);
CREATE TABLE IF NOT EXISTS crawl_scope (host TEXT PRIMARY KEY, added_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS crawl_events (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    custody_id INTEGER,
    host TEXT NOT NULL,
    event TEXT NOT NULL,          -- login, register, login-failed, captcha, login-wall
    detail TEXT
);
"""

PROBES = ("/server-status", "/uploads/", "/robots.txt", "/pgp.txt", "/mirrors.txt", "/canary.txt")
IMAGE_EXT = re.compile(r"\.(?:jpe?g|png|gif|webp|bmp|tiff?|heic)$", re.I)
LOGOUT = re.compile(r"log[-_]?out|sign[-_]?out|log[-_]?off", re.I)
APACHE_SORT = re.compile(r"^C=[NMSD];O=[AD]$")  # the column-sort links of "Index of" pages
REGISTER = re.compile(r"regist|sign[-_ ]?up|create.*account", re.I)
LOGIN = re.compile(r"log[-_ ]?in|sign[-_ ]?in", re.I)
CAPTCHA_TRIES = 3
FETCH_THREADS = 4  # fetches in flight beside the one being stored: enough to hide the proxy's delay
PENDING_META = "crawl_captcha_pending"  # host -> the login page whose CAPTCHA waits for a human

CaptchaSolver = Callable[[bytes], str | None]
Progress = Callable[[int, int, str], None]


@dataclass
class CrawlResult:
    """What one crawl run did."""

    fetched: int = 0  # requests for frontier entries this run
    captured: int = 0  # new captures stored
    images: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    login_walls: list[str] = field(default_factory=list)  # pages behind a login we could not pass
    logins: list[str] = field(default_factory=list)  # hosts logged in to this run
    pending: int = 0  # still queued: run again to continue
    stopped: bool = False  # the page limit was reached
    offsite: list[str] = field(default_factory=list)  # linked sites not crawled
    queue_waited: float = 0.0  # seconds spent in DDoS-protection queues
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        """Fetches per second over the run."""
        return self.fetched / self.elapsed if self.elapsed > 0 else 0.0

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return {
            "fetched": self.fetched,
            "captured": self.captured,
            "images": self.images,
            "failed": [{"url": u, "reason": r} for u, r in self.failed],
            "login_walls": self.login_walls,
            "logins": self.logins,
            "pending": self.pending,
            "stopped": self.stopped,
            "offsite": self.offsite,
            "queue_waited": round(self.queue_waited, 1),
            "elapsed": round(self.elapsed, 3),
            "pages_per_second": round(self.rate, 2),
        }


def crawl(
    case: Case,
    urls: Iterable[str],
    *,
    proxy: str = DEFAULT_PROXY,
    depth: int = 2,
    max_pages: int = 200,
    rate: float | None = None,
    scope: str = "site",
    images: bool = True,
    cookies=None,
    captcha: CaptchaSolver | None = None,
    login: tuple[str, str] | None = None,
    probe: bool = True,
    fresh: bool = False,
    progress: Progress | None = None,
    threads: int = FETCH_THREADS,
) -> CrawlResult:
    """Crawl from `urls` into the case; run again with the same case to resume.

    depth: links to follow from a start page; max_pages: fetches in this run; rate:
    requests per second per site (None: 10, 0: no limit); scope: "site" (the start sites
    only) or "any" (every .onion/.test site linked); cookies: a cookies.txt/JSON file or
    a jar; captcha: called with a CAPTCHA image's bytes, returns its text; login: (user,
    password) for login walls (registers when the login fails); fresh: forget the saved
    frontier and start over (captures are kept); threads: fetches in flight ahead of the
    one being stored (0: one fetch at a time).

    A `captcha` callback that cannot answer now raises CaptchaPending: the crawl stops (the
    frontier, cookies and the open challenge saved) and raises it with `.result` set.
    """
    if scope not in ("site", "any"):
        raise InputError(f"scope {scope!r}: expected 'site' or 'any'")
    if depth < 0 or max_pages < 0 or threads < 0:
        raise InputError("depth, max_pages and threads must be 0 or more")
    starts = [normalize_start(u) for u in urls]
    case.ensure(SCHEMA)
    if fresh:
        case.set_meta("crawl_cookies", [])
        case.set_meta("crawl_logged_in", [])
        case.set_meta(PENDING_META, {})
    crawler = _Crawler(
        case,
        proxy=proxy,
        depth=depth,
        rate=DEFAULT_RATE if rate is None else rate,
        scope=scope,
        images=images,
        cookies=cookies,
        captcha=captcha,
        login=login,
        probe=probe,
        progress=progress,
        threads=threads,
    )
    return crawler.run(starts, max_pages, fresh)


def normalize_start(url: str) -> str:
    """A start URL with a scheme and a path; InputError for what cannot be a site."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{url!r}: not an http(s) URL of a site")
    host = parts.hostname.lower()
    if host.endswith(".onion") and not is_valid_onion(host):
        raise InputError(f"{url}: {host} is not a valid v3 onion address (checksum fails)")
    return urldefrag(url if parts.path else url + "/")[0]


def parse_login(value: str) -> tuple[str, str]:
    """USER:PASSWORD as a pair; InputError if there is no colon or either part is empty."""
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise InputError("--login: expected USER:PASSWORD (both non-empty)")
    return user, password


def crawlable_host(host: str) -> bool:
    """Whether a host is a site of the dark network (an onion or a .test name)."""
    return host.endswith(".onion") or host.endswith(".test")


class _Crawler:
    """One crawl run's state: the client, the scope and the case's frontier."""

    def __init__(self, case: Case, **options):
        """Set up the client and the case tables."""
        self.case = case
        self.conn = case.conn
        self.depth = options["depth"]
        self.scope = options["scope"]
        self.images = options["images"]
        self.captcha = options["captcha"]
        self.credentials = options["login"]
        self.probe = options["probe"]
        self.progress = options["progress"]
        self.proxy = options["proxy"]
        # The proxy as recorded with each capture: a SOCKS password stays out of the case.
        parts = urlsplit(self.proxy)
        user = f"{parts.username}@" if parts.username else ""
        self.via = f"{parts.scheme}://{user}{parts.hostname}:{parts.port}"
        cookies = options["cookies"]
        case.ensure(SCHEMA)
        self.client = Client(self.proxy, rate=options["rate"])
        saved = case.get_meta("crawl_cookies")
        if saved:
            self.client.session.cookies.update(jar_from_json(saved))
        if cookies is not None:
            jar = load_cookies(cookies) if not hasattr(cookies, "set_cookie") else cookies
            self.client.session.cookies.update(jar)
        self.logged_in: set[str] = set(case.get_meta("crawl_logged_in", []))
        self.gave_up: set[str] = set()
        self.result = CrawlResult()
        self.threads = options["threads"]
        self.pool = ThreadPoolExecutor(self.threads) if self.threads else None
        self.ahead: dict[str, Future] = {}  # url -> its GET, started before its turn
        self.scoped: dict[str, bool] = {}  # host -> in scope, for this run

    # -- the frontier ---------------------------------------------------------------

    def _in_scope(self, host: str) -> bool:
        """Whether pages of a host are crawled (crawl_scope changes only in _prepare, before
        the first answer is remembered)."""
        if self.scope == "any":
            return crawlable_host(host)
        if host not in self.scoped:
            self.scoped[host] = (
                self.conn.execute("SELECT 1 FROM crawl_scope WHERE host = ?", (host,)).fetchone()
                is not None
            )
        return self.scoped[host]

    def _add(self, url: str, depth: int, kind: str, referrer: str | None) -> None:
        """Put a URL in the frontier (queued, or parked as deep/offsite) unless known."""
        self._add_all([(url, kind)], depth, referrer)

    def _add_all(self, targets: list[tuple[str, str]], depth: int, referrer: str | None) -> None:
        """_add for every (url, kind) one page leads to, in one statement."""
        now = time.time()
        rows = []
        for url, kind in targets:
            host = (urlsplit(url).hostname or "").lower()
            if not self._in_scope(host):
                state = "offsite"
            elif kind == "page" and depth > self.depth:
                state = "deep"
            else:
                state = "queued"
            rows.append((url, host, depth, kind, state, referrer, now))
        self.conn.executemany(
            "INSERT OR IGNORE INTO crawl_frontier (url, host, depth, kind, state, referrer,"
            " added_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def _prepare(self, starts: list[str], fresh: bool) -> None:
        """Add the start pages, and wake parked entries the new settings now allow."""
        now = time.time()
        if fresh:
            self.conn.execute("DELETE FROM crawl_frontier")
            self.conn.execute("DELETE FROM crawl_scope")
        for url in starts:
            host = (urlsplit(url).hostname or "").lower()
            self.conn.execute(
                "INSERT OR IGNORE INTO crawl_scope (host, added_at) VALUES (?, ?)", (host, now)
            )
            self.conn.execute(
                "INSERT INTO crawl_frontier (url, host, depth, kind, state, added_at)"
                " VALUES (?, ?, 0, 'page', 'queued', ?) ON CONFLICT(url) DO UPDATE SET"
                " depth = 0, state = 'queued' WHERE state IN ('deep', 'offsite', 'failed')",
                (url, host, now),
            )
        # A failed fetch gets another chance on a new run; Tor hiccups pass.
        self.conn.execute("UPDATE crawl_frontier SET state = 'queued' WHERE state = 'failed'")
        self.conn.execute(
            "UPDATE crawl_frontier SET state = 'queued' WHERE state = 'deep' AND depth <= ?",
            (self.depth,),
        )
        for url, host, depth, kind in self.conn.execute(
            "SELECT url, host, depth, kind FROM crawl_frontier WHERE state = 'offsite'"
        ).fetchall():
            if self._in_scope(host):
                state = "deep" if kind == "page" and depth > self.depth else "queued"
                self.conn.execute("UPDATE crawl_frontier SET state = ? WHERE url = ?", (state, url))
        if self.scope == "site":
            # A run limited to the start sites parks what an earlier --follow-offsite queued.
            self.conn.execute(
                "UPDATE crawl_frontier SET state = 'offsite' WHERE state = 'queued'"
                " AND host NOT IN (SELECT host FROM crawl_scope)"
            )
        # --no-images parks queued pictures; a later run with pictures wakes them.
        old, new = ("skipped", "queued") if self.images else ("queued", "skipped")
        self.conn.execute(
            "UPDATE crawl_frontier SET state = ? WHERE state = ? AND kind = 'image'", (new, old)
        )

    def _next(self):
        """The next queued entry, breadth first."""
        return self.conn.execute(
            "SELECT url, host, depth, kind, referrer FROM crawl_frontier WHERE state = 'queued'"
            " ORDER BY depth, rowid LIMIT 1"
        ).fetchone()

    def _fetch_ahead(self, budget: int) -> None:
        """Start the GETs of the next queued entries (at most `budget` more fetches in all)."""
        if self.pool is None:
            return
        window = min(2 * self.threads, budget)
        upcoming = self.conn.execute(
            "SELECT url, host FROM crawl_frontier WHERE state = 'queued'"
            " ORDER BY depth, rowid LIMIT ?",
            (2 * self.threads + 1,),
        ).fetchall()[1:]  # the first is the entry about to be stored
        # A fetch whose entry left the window (done through a redirect, or passed by links
        # found since) is dropped: its page is fetched again in its turn if it comes.
        near = {url for url, _ in upcoming}
        for url in [u for u in self.ahead if u not in near]:
            del self.ahead[url]
        for url, host in upcoming:
            if len(self.ahead) >= window:
                break
            # A site in a DDoS queue is asked once at a time, as a browser would.
            if url not in self.ahead and host in self.client.admitted:
                self.ahead[url] = self.pool.submit(self.client.get, url)

    def _get(self, url: str) -> Page:
        """An entry's page: the GET started ahead if there is one, else a GET now."""
        future = self.ahead.pop(url, None)
        return future.result() if future is not None else self.client.get(url)

    def _settle(self, host: str) -> None:
        """Wait for the fetches ahead on a host and forget them: its session is changing."""
        mine = {u: f for u, f in self.ahead.items() if urlsplit(u).hostname == host}
        for url in mine:
            del self.ahead[url]
        wait(mine.values())

    def _stop_fetching(self) -> None:
        """Cancel what has not started and wait for the fetches in flight."""
        self.ahead.clear()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _pending(self) -> int:
        """How many entries are still queued."""
        return self.conn.execute(
            "SELECT COUNT(*) FROM crawl_frontier WHERE state = 'queued'"
        ).fetchone()[0]

    # -- the run --------------------------------------------------------------------

    def run(self, starts: list[str], max_pages: int, fresh: bool) -> CrawlResult:
        """Crawl until the frontier is empty or max_pages fetches were made."""
        started = time.monotonic()
        before = self.conn.execute("SELECT COUNT(*) FROM captures").fetchone()[0]
        self._prepare(starts, fresh)
        start_failures = []
        try:
            self._resume_captchas()
            while True:
                entry = self._next()
                if entry is None:
                    break
                if self.result.fetched >= max_pages:
                    self.result.stopped = True
                    break
                url, host, depth, kind, referrer = entry
                self._fetch_ahead(max_pages - self.result.fetched - 1)
                try:
                    self._visit(url, host, depth, kind)
                except ProxyUnreachable:
                    raise
                except NetworkError as e:
                    self._fail(url, str(e))
                    if depth == 0:
                        start_failures.append(str(e))
                except InputError as e:
                    self._fail(url, str(e))
                if self.progress:
                    self.progress(self.result.fetched, self._pending(), url)
        except CaptchaPending as e:
            e.result = self.result
            raise
        finally:
            self._stop_fetching()
            self.case.set_meta("crawl_cookies", jar_to_json(self.client.session.cookies))
            self.case.set_meta("crawl_logged_in", sorted(self.logged_in))
            self.client.close()
            self.result.pending = self._pending()
            self.result.captured = (
                self.conn.execute("SELECT COUNT(*) FROM captures").fetchone()[0] - before
            )
            self.result.offsite = [
                r[0]
                for r in self.conn.execute(
                    "SELECT DISTINCT host FROM crawl_frontier WHERE state = 'offsite' ORDER BY host"
                )
            ]
            self.result.queue_waited = self.client.queue_waited
            self.result.elapsed = time.monotonic() - started
        if start_failures:
            error = NetworkError("; ".join(start_failures))
            error.result = self.result
            raise error
        return self.result

    def _fail(self, url: str, reason: str) -> None:
        """Mark a frontier entry failed."""
        self.conn.execute(
            "UPDATE crawl_frontier SET state = 'failed', note = ?, done_at = ? WHERE url = ?",
            (reason, time.time(), url),
        )
        self.result.failed.append((url, reason))

    def _visit(self, url: str, host: str, depth: int, kind: str) -> None:
        """Fetch one entry, get past a login wall if we can, store it, queue its links."""
        self.result.fetched += 1
        page = self._get(url)
        tree = _tree(page)
        if tree is not None and has_login_form(tree):
            if self._get_in(page, _soup(page)):
                page = self.client.get(url)
                tree = _tree(page)
            elif page.history or urlsplit(page.final_url).path != urlsplit(url).path:
                self.result.login_walls.append(url)
                self._event(page.host, "login-wall", url)
        if kind == "probe" and page.status >= 400:
            # An absent leak is not evidence worth storing.
            self._done(url, page.status, None, "probe: not there")
            return
        self.conn.execute("BEGIN")
        try:
            capture = self.case.capture(
                page.final_url, page.host, page.status, page.content_type, page.body, self.via
            )
            note = f"redirected to {page.final_url}" if page.final_url != url else None
            if page.truncated:
                note = (note + "; " if note else "") + "truncated"
            self._done(url, page.status, capture.id, note)
            if page.final_url != url:
                self._add(page.final_url, depth, kind, url)
                self._done(page.final_url, page.status, capture.id, f"reached from {url}")
            if kind == "image" or (page.content_type or "").startswith("image/"):
                self.result.images += 1
            if tree is not None and page.status < 400:
                self._discover(page, tree, depth)
            elif urlsplit(page.final_url).path == "/robots.txt" and page.status < 400:
                # What a site asks crawlers to avoid is what an investigator wants to see.
                for target in robots_paths(page.final_url, page.text()):
                    self._add(target, depth + 1, "page", page.final_url)
            if self.probe and page.status < 400:
                self._probe(page.host, page.final_url, depth)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def _done(self, url: str, status: int, capture_id: int | None, note: str | None) -> None:
        """Mark a frontier entry fetched."""
        self.conn.execute(
            "UPDATE crawl_frontier SET state = 'done', status = ?, capture_id = ?, note = ?,"
            " done_at = ? WHERE url = ?",
            (status, capture_id, note, time.time(), url),
        )

    def _discover(self, page: Page, tree, depth: int) -> None:
        """Queue the links and images of a page."""
        self._add_all(tree_links(page.final_url, tree, self.images), depth + 1, page.final_url)

    def _probe(self, host: str, base: str, depth: int) -> None:
        """On a site's first page, queue the paths careless operators leave open."""
        if self.conn.execute(
            "SELECT 1 FROM crawl_frontier WHERE host = ? AND kind = 'probe' LIMIT 1", (host,)
        ).fetchone():
            return
        for path in PROBES:
            self._add(urljoin(base, path), depth + 1, "probe", base)

    # -- login walls ------------------------------------------------------------------

    def _event(self, host: str, event: str, detail: str | None = None) -> None:
        """Log what the crawler did on a site beyond fetching (logins, walls)."""
        self.conn.execute(
            "INSERT INTO crawl_events (time, custody_id, host, event, detail) VALUES (?, ?, ?, ?, ?)",
            (time.time(), self.case.custody_id, host, event, detail),
        )

    def _get_in(self, page: Page, soup: BeautifulSoup) -> bool:
        """Log in (registering first if needed) on the site of a login-form page."""
        host = page.host
        if self.credentials is None or host in self.logged_in or host in self.gave_up:
            return False
        # One attempt per site and run: a human should not face CAPTCHAs for every page.
        self.gave_up.add(host)
        # Pages fetched ahead would open new challenges in the session, or be stale once in.
        self._settle(host)
        if is_registration(login_form(soup)):
            # Try the account first: registering an existing name fails.
            target = form_link(page.final_url, soup, LOGIN)
            if target is not None:
                page = self.client.get(target)
                soup = _soup(page)
        return self._log_in_from(page, soup)

    def _log_in_from(self, page: Page, soup: BeautifulSoup) -> bool:
        """Submit a login form (then register if the login fails), or a registration form."""
        host = page.host
        user, _ = self.credentials
        if not is_registration(login_form(soup)):
            if self._submit(page, soup):
                self._logged_in(host, "login", user)
                return True
            register = form_link(page.final_url, soup, REGISTER)
            if register is None:
                self._event(host, "login-failed", f"as {user}; no registration link")
                return False
            page = self.client.get(register)
            soup = _soup(page)
        if login_form(soup) is not None and self._submit(page, soup):
            self._logged_in(host, "register", user)
            return True
        self._event(host, "login-failed", f"as {user}; registration failed too")
        return False

    def _resume_captchas(self) -> None:
        """Answer the CAPTCHAs an earlier run stopped on, before anything else on their sites.

        Any page of the site could open a new challenge in the session and void the one the
        human was shown, so the saved login page is submitted first.
        """
        pending = dict(self.case.get_meta(PENDING_META, {}))
        for host in sorted(pending):
            if self.credentials is None or host in self.logged_in:
                continue
            saved = pending.pop(host)
            self.case.set_meta(PENDING_META, pending)
            self.gave_up.add(host)
            page = Page(
                url=saved["url"],
                final_url=saved["url"],
                status=200,
                headers={"content-type": "text/html; charset=utf-8"},
                body=saved["html"].encode(),
            )
            soup = _soup(page)
            form = login_form(soup)
            image = captcha_image(page.final_url, form) if form is not None else None
            try:
                if image is None or self.client.get(image).status >= 400:
                    # The challenge is gone (a page of the site opened a new one since):
                    # the next login wall starts the login afresh.
                    self._event(host, "captcha", "the last run's challenge expired")
                    self.gave_up.discard(host)
                    continue
                self._event(host, "captcha", "answering the challenge the last run stopped on")
                self._log_in_from(page, soup)
            except NetworkError as e:
                self._event(host, "login-failed", str(e))

    def _logged_in(self, host: str, how: str, user: str) -> None:
        """Remember a site we are logged in to."""
        self.logged_in.add(host)
        self.gave_up.discard(host)
        self.result.logins.append(host)
        self._event(host, how, f"as {user}")
        # Our own persona shows on the pages from now on; extraction leaves it out.
        accounts = self.case.get_meta("crawl_accounts", [])
        if {"host": host, "user": user} not in accounts:
            self.case.set_meta("crawl_accounts", [*accounts, {"host": host, "user": user}])

    def _submit(self, page: Page, soup: BeautifulSoup) -> bool:
        """Fill and post a login or registration form (asking for its CAPTCHA); True if in."""
        user, password = self.credentials
        for _ in range(CAPTCHA_TRIES):
            form = login_form(soup)
            if form is None:
                return True
            fields = fill_form(form, user, password)
            image = captcha_image(page.final_url, form)
            if image is not None:
                if self.captcha is None:
                    self._event(page.host, "captcha", "needed, but no one to solve it")
                    return False
                picture = self.client.get(image)
                if picture.status >= 400:
                    # The saved challenge of an earlier run expired: nothing to answer.
                    self._event(page.host, "captcha", f"image gone (HTTP {picture.status})")
                    return False
                try:
                    answer = self.captcha(picture.body)
                except CaptchaPending:
                    self._keep_challenge(page)
                    raise
                if not answer:
                    return False
                fields[_captcha_field(form)] = answer.strip()
            action = urljoin(page.final_url, _attr(form, "action") or page.final_url)
            page = self.client.post(action, data=fields)
            soup = _soup(page)
            if login_form(soup) is None:
                return page.status < 400
            error = soup.select_one(".error, .alert, .flash-error")
            message = error.get_text(" ", strip=True) if error else ""
            if "captcha" not in message.lower():
                return False  # wrong password or a taken name: another CAPTCHA will not help
            self._event(page.host, "captcha", f"rejected: {message}")
        return False

    def _keep_challenge(self, page: Page) -> None:
        """Save the login page whose CAPTCHA waits for a human (not the password: it is
        filled in again from --login)."""
        pending = dict(self.case.get_meta(PENDING_META, {}))
        pending[page.host] = {"url": page.final_url, "html": page.text()}
        self.case.set_meta(PENDING_META, pending)
        self._event(page.host, "captcha", "waiting for a human answer; the crawl stopped")


def _attr(tag: Tag, name: str, default: str = "") -> str:
    """An attribute as text (bs4 gives multi-valued ones, such as class, as a list)."""
    value = tag.get(name)
    if value is None:
        return default
    return value if isinstance(value, str) else " ".join(value)


def _soup(page: Page) -> BeautifulSoup:
    """The parsed HTML of a page."""
    return BeautifulSoup(page.text(), "lxml")


def _tree(page: Page):
    """An HTML page parsed by lxml (the fast path every page takes), or None."""
    if not page.is_html or not page.body.strip():
        return None
    try:
        return lxml.html.document_fromstring(page.text())
    except ValueError:  # a str with an XML encoding declaration: let lxml read the bytes
        return lxml.html.document_fromstring(page.body)
    except lxml.etree.ParserError:
        return None


def has_login_form(tree) -> bool:
    """Whether an lxml-parsed page has a login or registration form (see login_form)."""
    for form in tree.iter("form"):
        if (form.get("method") or "get").lower() == "post" and any(
            field_.get("type") == "password" for field_ in form.iter("input")
        ):
            return True
    return False


def links(base: str, soup: BeautifulSoup, images: bool = True) -> list[tuple[str, str]]:
    """The (url, "page" | "image") a page leads to: its links, frames and pictures."""
    targets = [(_attr(t, "href"), "page") for t in soup.find_all(["a", "area"], href=True)]
    targets += [(_attr(t, "src"), "page") for t in soup.find_all(["iframe", "frame"], src=True)]
    if images:
        targets += [(_attr(t, "src"), "image") for t in soup.find_all("img", src=True)]
    return _followable(base, targets, images)


def tree_links(base: str, tree, images: bool = True) -> list[tuple[str, str]]:
    """links() of an lxml-parsed page: the same URLs in the same order."""
    targets = [(t.get("href"), "page") for t in tree.iter("a", "area") if t.get("href") is not None]
    targets += [
        (t.get("src"), "page") for t in tree.iter("iframe", "frame") if t.get("src") is not None
    ]
    if images:
        targets += [(t.get("src"), "image") for t in tree.iter("img") if t.get("src") is not None]
    return _followable(base, targets, images)


def _followable(base: str, targets: list, images: bool) -> list[tuple[str, str]]:
    """The crawlable (url, kind) of raw link targets, first kind kept, in order."""
    found: dict[str, str] = {}
    for raw, kind in targets:
        url = _resolve(base, raw)
        if url is None:
            continue
        if IMAGE_EXT.search(urlsplit(url).path):
            kind = "image"
        if kind == "image" and not images:
            continue
        found.setdefault(url, kind)
    return list(found.items())


@lru_cache(maxsize=4096)
def _onion_ok(host: str) -> bool:
    """is_valid_onion, remembered: every page links to the same few sites many times."""
    return is_valid_onion(host)


def _resolve(base: str, raw: str | None) -> str | None:
    """An absolute, crawlable URL for a link, or None for what must not be followed."""
    if not raw or raw.startswith(
        ("mailto:", "javascript:", "data:", "bitcoin:", "monero:", "tel:")
    ):
        return None
    url = urldefrag(urljoin(base, raw.strip()))[0]
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not crawlable_host(host):
        return None  # the clearnet is out of the exercise (and a containment event)
    if host.endswith(".onion") and not _onion_ok(host):
        return None  # a typo or a phishing look-alike: nothing answers there
    if LOGOUT.search(parts.path) or LOGOUT.search(parts.query):
        return None
    if APACHE_SORT.match(parts.query) or "/captcha/" in parts.path:
        return None
    return url


def robots_paths(base: str, text: str) -> list[str]:
    """The followable URLs a robots.txt names (Allow, Disallow, Sitemap; no wildcards)."""
    found = []
    for line in text.splitlines():
        field_, _, value = line.partition(":")
        value = value.split("#", 1)[0].strip()
        if field_.strip().lower() not in ("allow", "disallow", "sitemap") or not value:
            continue
        if "*" in value or "$" in value:
            continue
        url = _resolve(base, value)
        if url is not None and url not in found:
            found.append(url)
    return found


def login_form(soup: BeautifulSoup | None) -> Tag | None:
    """The page's login or registration form (a form with a password field), if any."""
    if soup is None:
        return None
    for form in soup.find_all("form"):
        if (_attr(form, "method") or "get").lower() == "post" and form.find(
            "input", attrs={"type": "password"}
        ):
            return form
    return None


def is_registration(form: Tag | None) -> bool:
    """Whether a form opens an account (a password confirmation, or a register action)."""
    if form is None:
        return False
    passwords = form.find_all("input", attrs={"type": "password"})
    return len(passwords) > 1 or bool(REGISTER.search(_attr(form, "action")))


def form_link(base: str, soup: BeautifulSoup, pattern: re.Pattern) -> str | None:
    """The first link whose address or text matches (the login or the registration page)."""
    for tag in soup.find_all("a", href=True):
        if LOGOUT.search(_attr(tag, "href")):
            continue
        if pattern.search(_attr(tag, "href")) or pattern.search(tag.get_text(" ", strip=True)):
            return urljoin(base, _attr(tag, "href"))
    return None


def captcha_image(base: str, form: Tag) -> str | None:
    """The URL of the CAPTCHA picture in a form, if it has one."""
    for img in form.find_all("img", src=True):
        hint = " ".join([_attr(img, "src"), _attr(img, "alt"), _attr(img, "class")])
        if "captcha" in hint.lower():
            return urljoin(base, _attr(img, "src"))
    return None


def _captcha_field(form: Tag) -> str:
    """The name of the input the CAPTCHA answer goes in."""
    for field_ in form.find_all("input"):
        if "captcha" in " ".join([_attr(field_, "name"), _attr(field_, "id")]).lower():
            return _attr(field_, "name")
    return "captcha"


def fill_form(form: Tag, user: str, password: str) -> dict[str, str]:
    """A login/registration form's fields: hidden ones as sent, user name and passwords."""
    fields: dict[str, str] = {}
    user_set = False
    for field_ in form.find_all(["input", "textarea", "select"]):
        name = _attr(field_, "name")
        if not name:
            continue
        kind = (_attr(field_, "type") or "text").lower()
        if kind == "password":
            fields[name] = password
        elif kind in ("hidden",):
            fields[name] = _attr(field_, "value")
        elif kind in ("checkbox", "radio"):
            if field_.has_attr("checked"):
                fields[name] = _attr(field_, "value", "on")
        elif kind in ("submit", "button", "image", "file", "reset") or "captcha" in name.lower():
            continue
        elif not user_set and kind in ("text", "email", "search"):
            fields[name] = user
            user_set = True
        else:
            fields[name] = _attr(field_, "value")
    return fields
