"""Template filters, paging and small helpers shared by every site kind."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import abort, request
from markupsafe import Markup, escape

from sandbox.ledger.codec.amounts import btc_to_sat, format_btc

HANDLE = re.compile(r"^[A-Za-z0-9_-]{3,24}$")


@dataclass(frozen=True)
class Page:
    """One page of a longer list."""

    items: list
    number: int
    pages: int
    total: int
    per_page: int

    @property
    def has_prev(self) -> bool:
        """Whether a previous page exists."""
        return self.number > 1

    @property
    def has_next(self) -> bool:
        """Whether a next page exists."""
        return self.number < self.pages

    @property
    def offset(self) -> int:
        """Index of the page's first item in the whole list."""
        return (self.number - 1) * self.per_page


def page_number() -> int:
    """The ?page= argument: 1 when absent, 400 when not a positive integer."""
    raw = request.args.get("page", "1")
    if not raw.isdigit() or int(raw) < 1 or len(raw) > 6:
        abort(400, "Bad page number.")
    return int(raw)


def page_count(total: int, per_page: int) -> int:
    """Number of pages of a list (at least one)."""
    return max(1, math.ceil(total / per_page))


def paginate(items: list, per_page: int) -> Page:
    """The requested page of an in-memory list; 404 past the last page."""
    number = page_number()
    pages = page_count(len(items), per_page)
    if number > pages:
        abort(404)
    start = (number - 1) * per_page
    return Page(items[start : start + per_page], number, pages, len(items), per_page)


def page_of(total: int, per_page: int, fetch) -> Page:
    """The requested page of a list counted in SQL; fetch(limit, offset) gives its items."""
    number = page_number()
    pages = page_count(total, per_page)
    if number > pages:
        abort(404)
    return Page(fetch(per_page, (number - 1) * per_page), number, pages, total, per_page)


def fmt_date(ts: int | float | None, fmt: str = "%Y-%m-%d") -> str:
    """A unix time as a UTC date."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(int(ts), UTC).strftime(fmt)


def fmt_datetime(ts: int | float | None) -> str:
    """A unix time as a UTC date and time."""
    return fmt_date(ts, "%Y-%m-%d %H:%M UTC")


def fmt_ago(ts: int | float | None, now: int | float) -> str:
    """How long before now a time was, as forums show it."""
    if ts is None:
        return "never"
    seconds = max(0, int(now - ts))
    for size, unit in ((31_536_000, "year"), (2_592_000, "month"), (86_400, "day"), (3600, "hour")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    minutes = seconds // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''} ago" if minutes else "just now"


def fmt_btc(value: float | None) -> str:
    """A BTC amount with eight decimals, trailing zeros trimmed to at least five."""
    if value is None:
        return ""
    return format_btc(btc_to_sat(value), min_decimals=5)


def fmt_xmr(value: float | None) -> str:
    """An XMR amount with four decimals."""
    return "" if value is None else f"{value:.4f}"


def stars(rating: float | None) -> str:
    """A rating out of five as filled and empty stars."""
    if rating is None:
        return "no rating"
    full = max(0, min(5, round(rating)))
    return "\u2605" * full + "\u2606" * (5 - full)


def vendor_level(sales: int | None) -> int:
    """The vendor level badge (1-10) markets give by number of sales."""
    steps = (0, 10, 25, 50, 100, 200, 400, 800, 1600, 3200)
    return sum(1 for s in steps if (sales or 0) >= s)


_URL = re.compile(r"https?://([a-z0-9.-]+\.(?:onion|test))(/[A-Za-z0-9/._~%?=#+:-]*)?")


def make_linkify(known_hosts: set[str]):
    """A filter that escapes text, then links URLs of the world's own sites (others stay text)."""

    def linkify(text: str | None) -> Markup:
        """Escaped text in which http(s) URLs of world sites are links."""
        escaped = str(escape(text or ""))

        def link(match: re.Match) -> str:
            """One URL as an anchor when its host is a world site."""
            if match.group(1) not in known_hosts:
                return match.group(0)
            url = match.group(0)
            return f'<a href="{url}" rel="noreferrer">{url}</a>'

        return Markup(_URL.sub(link, escaped))

    return linkify


def clean_text(value: str | None, field: str, *, max_len: int, min_len: int = 1) -> str:
    """A form field stripped; 400 when missing, too short or too long."""
    if value is None:
        abort(400, f"Missing field: {field}.")
    value = value.replace("\r\n", "\n").strip()
    if len(value) < min_len or len(value) > max_len:
        abort(400, f"{field} must be {min_len} to {max_len} characters.")
    if "\x00" in value:
        abort(400, f"{field} contains a NUL character.")
    return value


def form_int(field: str, lo: int, hi: int) -> int:
    """An integer form field within [lo, hi]; 400 otherwise."""
    raw = request.form.get(field)
    if raw is None or not raw.strip().isdigit() or len(raw.strip()) > 9:
        abort(400, f"{field} must be a whole number.")
    value = int(raw)
    if not lo <= value <= hi:
        abort(400, f"{field} must be between {lo} and {hi}.")
    return value
