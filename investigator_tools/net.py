"""Reaching hidden services: an HTTP client over the gateway's SOCKS (or HTTP) proxy.

`Client` wraps a `requests.Session` that always goes through the proxy (names resolved
by the proxy, as Tor needs), waits in DDoS-protection queues (503/429 + Retry-After,
keeping the queue cookie), retries the circuit failures Tor is known for, keeps a polite
pace per site, and turns every way a site can be out of reach into one `NetworkError`
that names the URL and says why.
"""

from __future__ import annotations

import email.utils
import html
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookiejar import Cookie
from pathlib import Path
from urllib.parse import urlsplit

import requests
from requests.cookies import RequestsCookieJar, create_cookie

from .errors import InputError, NetworkError, ProxyUnreachable

DEFAULT_PROXY = "socks5h://127.0.0.1:9050"
DEFAULT_RATE = 10.0  # requests per second per site: polite to a classroom laptop
DEFAULT_TIMEOUT = (15.0, 60.0)  # connect (a Tor circuit can take a while), read
MAX_BODY = 25 * 1024 * 1024  # nothing a hidden service serves needs more; caps a bad link
MAX_QUEUE_WAIT = 120.0  # total seconds one URL may spend in a DDoS queue
# Tor Browser's user agent: every Tor Browser user sends the same one.
USER_AGENT = "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"
PROXY_SCHEMES = ("socks5h", "socks4a", "http", "https")

# What a SOCKS5 reply code means when it comes from Tor (or the sandbox gateway).
SOCKS_REPLIES = {
    0x01: "general failure: bad onion address or circuit failure",
    0x02: "the proxy refused the destination: no such host (not an onion or .test site of "
    "this network)",
    0x03: "network unreachable",
    0x04: "host unreachable: no such host (unknown onion service), or it is offline",
    0x05: "connection refused by the site",
    0x06: "timed out (TTL expired) while reaching the site",
    0x07: "command not supported by the proxy",
    0x08: "address type not supported by the proxy",
}
# Reply codes worth another try: Tor's circuit failures are often transient.
TRANSIENT_SOCKS = {0x01, 0x04, 0x06}
_SOCKS_CODE = re.compile(r"\b0x([0-9A-Fa-f]{2})\b")


@dataclass
class Page:
    """One HTTP response, read in full (up to MAX_BODY)."""

    url: str  # what was asked for
    final_url: str  # where redirects ended
    status: int
    headers: dict[str, str]
    body: bytes
    truncated: bool = False
    history: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str | None:
        """The Content-Type header, if any."""
        return self.headers.get("content-type")

    @property
    def host(self) -> str:
        """The host name of the final URL."""
        return (urlsplit(self.final_url).hostname or "").lower()

    @property
    def is_html(self) -> bool:
        """Whether the body is an HTML page."""
        return "html" in (self.content_type or "").lower()

    def text(self) -> str:
        """The body decoded as text (UTF-8 unless the header says otherwise)."""
        match = re.search(r"charset=([\w-]+)", self.content_type or "", re.I)
        try:
            return self.body.decode(match.group(1) if match else "utf-8", "replace")
        except LookupError:
            return self.body.decode("utf-8", "replace")


def check_proxy(proxy: str) -> str:
    """The proxy URL if it is one the toolkit can use, else InputError saying why."""
    parts = urlsplit(proxy)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme in ("socks5", "socks4"):
        raise InputError(
            f"proxy {proxy}: use {parts.scheme}h:// or socks4a:// so the proxy resolves names"
            " (.onion names only resolve inside Tor; local DNS would also leak them)"
        )
    if parts.scheme not in PROXY_SCHEMES or not parts.hostname or not port:
        raise InputError(
            f"proxy {proxy!r}: expected socks5h://HOST:PORT (Tor, the sandbox gateway) or"
            " http://HOST:PORT (an HTTP proxy such as Privoxy)"
        )
    return proxy


def check_onion(url: str) -> None:
    """InputError when a URL's .onion name fails the v3 checksum (a typo or a look-alike)."""
    host = (urlsplit(url).hostname or "").lower()
    if not host.endswith(".onion"):
        return
    from .extract.onions import is_valid_onion  # the checksum code lives with the extractor

    if not is_valid_onion(host):
        raise InputError(
            f"{url}: {host} is not a valid v3 onion address (56 base32 characters whose"
            " checksum must match: a typo, a truncated copy or a phishing look-alike)"
        )


def make_session(
    proxy: str = DEFAULT_PROXY, cookies: RequestsCookieJar | str | Path | None = None
) -> requests.Session:
    """A requests.Session that sends everything through the proxy, never directly."""
    check_proxy(proxy)
    session = requests.Session()
    # Environment proxies (HTTP_PROXY, NO_PROXY...) must never route around the gateway.
    session.trust_env = False
    session.proxies = {"http": proxy, "https": proxy}
    session.headers.update(
        {
            "User-Agent": USER_AGENT,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "en-US,en;q=0.5",
        }
    )
    if cookies is not None:
        jar = cookies if isinstance(cookies, RequestsCookieJar) else load_cookies(cookies)
        session.cookies.update(jar)
    return session


class RateLimiter:
    """At most `rate` requests per second to each host (0 or None: no limit)."""

    def __init__(self, rate: float | None, sleep: Callable[[float], None] = time.sleep):
        """Limit to `rate` requests per second per host."""
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self.sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> None:
        """Block until the host may be asked again."""
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next.get(host, now))
            self._next[host] = at + self.interval
        if at > now:
            self.sleep(at - now)


class Client:
    """Fetches pages through the proxy: queues, retries, pacing and clear errors."""

    def __init__(
        self,
        proxy: str = DEFAULT_PROXY,
        *,
        rate: float | None = DEFAULT_RATE,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        cookies: RequestsCookieJar | str | Path | None = None,
        retries: int = 2,
        max_queue_wait: float = MAX_QUEUE_WAIT,
        sleep: Callable[[float], None] = time.sleep,
    ):
        """Set up a session over `proxy` (socks5h://... or http://...)."""
        self.proxy = proxy
        self.session = make_session(proxy, cookies)
        self.limiter = RateLimiter(rate, sleep)
        self.timeout = timeout
        self.retries = retries
        self.max_queue_wait = max_queue_wait
        self.sleep = sleep
        self.queue_waited = 0.0  # seconds spent in DDoS queues, for reports
        # Hosts whose last answer was not a DDoS-queue page: a crawl fetches ahead only there.
        self.admitted: set[str] = set()
        self._lock = threading.Lock()  # the counters above, when threads share the client

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()

    def __enter__(self) -> Client:
        """Use in a with block."""
        return self

    def __exit__(self, *exc) -> None:
        """Close on leaving it."""
        self.close()

    def get(self, url: str, **kwargs) -> Page:
        """GET a URL (waiting in a DDoS queue if there is one)."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs) -> Page:
        """POST a form."""
        return self.request("POST", url, data=data, **kwargs)

    def request(self, method: str, url: str, **kwargs) -> Page:
        """Send a request; NetworkError when the site cannot be reached."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"{url!r}: not an http:// or https:// URL")
        check_onion(url)
        host = parts.hostname.lower()
        waited = 0.0
        while True:
            page = self._send(method, url, **kwargs)
            delay = _queue_delay(page)
            if delay is None:
                with self._lock:
                    self.admitted.add(host)
                return page
            with self._lock:
                self.admitted.discard(host)
            if waited + delay > self.max_queue_wait:
                raise NetworkError(
                    f"{url}: still in the site's DDoS-protection queue after {waited:.0f} s;"
                    " try again later"
                )
            # The queue cookie set by that answer stays in the session: it is our place.
            self.sleep(delay)
            waited += delay
            with self._lock:
                self.queue_waited += delay

    def _send(self, method: str, url: str, **kwargs) -> Page:
        """One request with retries of transient failures, read in full."""
        host = (urlsplit(url).hostname or "").lower()
        attempt = 0
        while True:
            self.limiter.wait(host)
            try:
                with self.session.request(
                    method, url, timeout=self.timeout, stream=True, **kwargs
                ) as response:
                    body, truncated = _read(response)
                    page = Page(
                        url=url,
                        final_url=response.url,
                        status=response.status_code,
                        headers={k.lower(): v for k, v in response.headers.items()},
                        body=body,
                        truncated=truncated,
                        history=[r.url for r in response.history],
                    )
            except requests.RequestException as exc:
                error = network_error(url, self.proxy, exc)
                if attempt < self.retries and _transient(exc):
                    attempt += 1
                    self.sleep(0.2 * attempt)
                    continue
                raise error from exc
            _proxy_refusal(page, self.proxy)
            return page


def _read(response: requests.Response) -> tuple[bytes, bool]:
    """The body of a streamed response, cut at MAX_BODY."""
    chunks, size = [], 0
    for chunk in response.iter_content(64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY:
            return b"".join(chunks)[:MAX_BODY], True
    return b"".join(chunks), False


def _queue_delay(page: Page) -> float | None:
    """Seconds a DDoS-queue (or rate-limit) answer asks us to wait, or None."""
    if page.status not in (429, 503):
        return None
    value = page.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            return None
        seconds = when - time.time()
    # Waiting 0 would spin; a queue asking for an hour is not one we want to sit in blindly.
    return min(max(seconds, 0.5), 60.0)


def _transient(exc: Exception) -> bool:
    """Whether a failure may go away on a new circuit (Tor's usual hiccups)."""
    if isinstance(exc, requests.Timeout | requests.exceptions.ChunkedEncodingError):
        return True
    code = socks_code(str(exc))
    return code in TRANSIENT_SOCKS


def socks_code(message: str) -> int | None:
    """The SOCKS5 reply code quoted in an error message, if any."""
    match = _SOCKS_CODE.search(message)
    return int(match.group(1), 16) if match else None


def network_error(url: str, proxy: str, exc: Exception) -> NetworkError:
    """A NetworkError that names the URL and says, in plain words, what went wrong."""
    message = str(exc)
    if isinstance(exc, requests.exceptions.ProxyError) or (
        "Connection refused" in message and socks_code(message) is None
    ):
        return ProxyUnreachable(
            f"{url}: cannot reach the proxy {proxy} (connection refused); is Tor or"
            " `sandbox up` running, and is the port right?"
        )
    code = socks_code(message)
    if code is not None and code in SOCKS_REPLIES:
        return NetworkError(f"{url}: unreachable through {proxy}: {SOCKS_REPLIES[code]}")
    if isinstance(exc, requests.Timeout):
        return NetworkError(f"{url}: timed out through {proxy}")
    if isinstance(exc, requests.exceptions.SSLError):
        return NetworkError(f"{url}: TLS failed ({message})")
    return NetworkError(f"{url}: unreachable through {proxy} ({message})")


def _proxy_refusal(page: Page, proxy: str) -> None:
    """An HTTP proxy's own refusal page (Privoxy's, the gateway's) raised as NetworkError."""
    if not proxy.startswith(("http://", "https://")) or page.status not in (403, 502, 503, 504):
        return
    if "retry-after" in page.headers:
        return  # the site's own queue, not the proxy
    head = page.body[:4000].decode("utf-8", "replace")
    if "Forwarding failure" in head or "sandbox gateway" in head or "Privoxy" in head:
        body = re.sub(r"(?is)<(title|h1)>.*?</\1>", " ", head)
        paragraphs = re.findall(r"(?is)<p>(.*?)</p>", body)
        reason = (
            html.unescape(re.sub(r"<[^>]+>|\s+", " ", paragraphs[0]).strip()) if paragraphs else ""
        )
        raise NetworkError(
            f"{page.url}: the proxy {proxy} could not reach it (HTTP {page.status}):"
            f" {reason or 'no reason given'}"
        )


# -- cookies -----------------------------------------------------------------------------


def load_cookies(path: str | Path) -> RequestsCookieJar:
    """Cookies from a Netscape cookies.txt (browser export) or a JSON list of objects."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read the cookies file ({e})") from e
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        cookies = _json_cookies(path, text)
    else:
        cookies = _netscape_cookies(path, text)
    jar = RequestsCookieJar()
    for cookie in cookies:
        jar.set_cookie(cookie)
    return jar


def _netscape_cookies(path: Path, text: str) -> list[Cookie]:
    """Parse cookies.txt: domain, subdomains flag, path, secure, expiry, name, value."""
    cookies = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        http_only = line.startswith("#HttpOnly_")
        if http_only:
            line = line[len("#HttpOnly_") :]
        if not line or line.startswith("#"):
            continue
        fields = raw.rstrip("\r\n").split("\t")
        if http_only:
            fields[0] = fields[0][len("#HttpOnly_") :]
        if len(fields) == 6:  # some exporters drop an empty value's tab
            fields.append("")
        if len(fields) != 7:
            raise InputError(
                f"{path}, line {number}: not a Netscape cookies.txt line (expected 7"
                f" tab-separated fields: domain, flag, path, secure, expiry, name, value;"
                f" got {len(fields)})"
            )
        domain, _flag, cpath, secure, expires, name, value = fields
        if not domain or not name:
            raise InputError(f"{path}, line {number}: empty domain or cookie name")
        if secure.upper() not in ("TRUE", "FALSE"):
            raise InputError(f"{path}, line {number}: secure flag {secure!r} is not TRUE/FALSE")
        try:
            expiry = int(float(expires)) if expires.strip() else None
        except ValueError as e:
            raise InputError(f"{path}, line {number}: expiry {expires!r} is not a number") from e
        cookies.append(
            create_cookie(
                name,
                value,
                domain=domain,
                path=cpath or "/",
                secure=secure.upper() == "TRUE",
                expires=expiry or None,
                rest={"HttpOnly": None} if http_only else {},
            )
        )
    if not cookies:
        raise InputError(f"{path}: no cookies in the file (expected Netscape cookies.txt or JSON)")
    return cookies


def _json_cookies(path: Path, text: str) -> list[Cookie]:
    """Parse a JSON list of {name, value, domain, path} (browser extensions' export)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}, line {e.lineno}: not valid JSON ({e.msg})") from e
    if isinstance(data, dict) and isinstance(data.get("cookies"), list):
        data = data["cookies"]  # Playwright/Puppeteer storage state
    if not isinstance(data, list) or not data:
        raise InputError(f"{path}: expected a JSON list of cookies [{{name, value, domain, path}}]")
    cookies = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise InputError(f"{path}: cookie #{index + 1} is not an object")
        missing = [k for k in ("name", "value", "domain") if not isinstance(item.get(k), str)]
        if missing:
            raise InputError(
                f"{path}: cookie #{index + 1} has no {', '.join(missing)} (strings required)"
            )
        expires = item.get("expirationDate", item.get("expires"))
        cookies.append(
            create_cookie(
                item["name"],
                item["value"],
                domain=item["domain"],
                path=item.get("path") or "/",
                secure=bool(item.get("secure", False)),
                expires=int(expires) if isinstance(expires, int | float) and expires > 0 else None,
            )
        )
    return cookies


def jar_to_json(jar: RequestsCookieJar) -> list[dict]:
    """A cookie jar as the JSON list load_cookies reads back."""
    return [
        {
            "name": c.name,
            "value": c.value,
            "domain": c.domain,
            "path": c.path,
            "secure": c.secure,
            "expires": c.expires,
        }
        for c in jar
    ]


def jar_from_json(items: list[dict]) -> RequestsCookieJar:
    """The inverse of jar_to_json."""
    jar = RequestsCookieJar()
    for item in items:
        jar.set_cookie(
            create_cookie(
                item["name"],
                item["value"],
                domain=item["domain"],
                path=item.get("path") or "/",
                secure=bool(item.get("secure")),
                expires=item.get("expires"),
            )
        )
    return jar
