"""Address labels: the analyst's own, and the public ones the explorer shows on its pages.

The explorer's REST API carries no labels, but its web pages badge every address of a
known service (exchange, market, mixer, mining pool) on a transaction's page, and an
address's page says "Publicly known as ...". Pages read for labels are captured in the
case like any other page. An analyst's label always wins over an imported one.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote

from bs4 import BeautifulSoup

from ..case import Case
from ..errors import InputError, NetworkError
from ..esplora import Esplora
from .address import normalize_address
from .codec.tron import is_tron_address
from .store import ensure_schema

__all__ = [
    "LabelBook",
    "import_explorer_labels",
    "list_labels",
    "parse_label_page",
    "remove_label",
    "set_label",
]

ANALYST = "analyst"
EXPLORER = "explorer"
LOOKUP_WORKERS = 6
MAX_PAGES = 2000  # explorer pages one analysis may read for labels (a wide poison trace)


def _label_address(text: str) -> str:
    """A Bitcoin address in canonical form, or a Tron address (T..., valid checksum) as is."""
    return text.strip() if is_tron_address(text.strip()) else normalize_address(text)


def set_label(case: Case, address: str, name: str, category: str | None = None) -> dict:
    """Label an address (the analyst's label replaces any earlier one)."""
    ensure_schema(case)
    address = _label_address(address)
    name = name.strip()
    if not name:
        raise InputError("a label needs a name")
    case.conn.execute(
        "INSERT OR REPLACE INTO chain_labels VALUES (?, ?, ?, ?, ?, ?, ?)",
        (address, name, category, ANALYST, time.time(), case.operator, case.custody_id),
    )
    return {"address": address, "name": name, "category": category, "source": ANALYST}


def remove_label(case: Case, address: str) -> bool:
    """Forget an address's label; whether there was one."""
    ensure_schema(case)
    address = _label_address(address)
    cur = case.conn.execute("DELETE FROM chain_labels WHERE address = ?", (address,))
    return cur.rowcount > 0


def list_labels(case: Case) -> list[dict]:
    """Every label of the case, by name then address."""
    ensure_schema(case)
    rows = case.conn.execute(
        "SELECT address, name, category, source, created, operator FROM chain_labels "
        "ORDER BY name, address"
    )
    return [dict(r) for r in rows]


def _store_imported(case: Case, found: dict[str, tuple[str, str | None]]) -> int:
    """Store labels read from the explorer, never over an analyst's; how many were new."""
    before = case.conn.total_changes
    now = time.time()
    case.conn.executemany(
        "INSERT INTO chain_labels VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(address) DO UPDATE "
        "SET name = excluded.name, category = excluded.category "
        "WHERE chain_labels.source = 'explorer'",
        [
            (address, name, category, EXPLORER, now, case.operator, case.custody_id)
            for address, (name, category) in found.items()
        ],
    )
    return case.conn.total_changes - before


def parse_label_page(html: str) -> dict[str, tuple[str, str | None]]:
    """Address -> (label, category) of every badged address on an explorer page."""
    soup = BeautifulSoup(html, "html.parser")
    found: dict[str, tuple[str, str | None]] = {}
    for badge in soup.select("span.badge"):
        name = badge.get_text(" ", strip=True)
        if not name:
            continue
        category = badge.get("title")
        category = category if category is None else str(category)
        address = None
        link = badge.find_previous_sibling("a")
        if link is not None and "/address/" in (link.get("href") or ""):
            address = unquote(str(link["href"]).rsplit("/address/", 1)[1]).split("?")[0]
        elif badge.find_parent("h1") is not None:
            # An address page: the badge in the title belongs to the page's address.
            shown = soup.select_one("p.hash")
            address = shown.get_text(strip=True) if shown else None
        if address:
            found[address] = (name, category)
    return found


def _page_labels(explorer: Esplora, path: str):
    """Fetch one explorer page: (the response, the labels on it)."""
    response = explorer.page(path)
    return response, parse_label_page(response.text)


def import_explorer_labels(case: Case, explorer: Esplora, targets: list[str]) -> dict:
    """Read the public labels on the explorer's pages of these txids and addresses."""
    ensure_schema(case)
    paths = []
    for target in targets:
        text = target.strip()
        if len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text):
            paths.append(f"tx/{text.lower()}")
        else:
            paths.append(f"address/{normalize_address(text)}")
    found = _fetch_pages(case, explorer, paths)
    new = _store_imported(case, found)
    for path in paths:
        if path.startswith("tx/"):
            _mark_checked(case, [path[3:]])
    return {"pages": len(paths), "labels": found, "new": new}


def _fetch_pages(case: Case, explorer: Esplora, paths: list[str]) -> dict:
    """Labels of several pages, fetched in parallel, each page captured in the case."""
    found: dict[str, tuple[str, str | None]] = {}
    if not paths:
        return found
    with ThreadPoolExecutor(max_workers=LOOKUP_WORKERS) as pool:
        results = list(pool.map(lambda p: _page_labels(explorer, p), paths))
    for response, labels in results:
        case.capture(
            response.url,
            explorer.web.host,
            response.status_code,
            response.headers.get("Content-Type"),
            response.content,
            via=explorer.proxy,
        )
        found.update(labels)
    return found


def _mark_checked(case: Case, txids: list[str]) -> None:
    """Remember that these transactions' pages were read."""
    now = time.time()
    case.conn.executemany(
        "INSERT OR REPLACE INTO chain_label_checks VALUES (?, ?)", [(t, now) for t in txids]
    )


class LabelBook:
    """The labels an analysis sees, by address id; asks the explorer about new transactions."""

    def __init__(self, case: Case, explorer: Esplora | None = None, max_pages: int = MAX_PAGES):
        """Labels of the case; with an explorer, pages of transactions not read yet are read."""
        ensure_schema(case)
        self.case = case
        self.explorer = explorer
        self.pages_left = max_pages
        self.by_id: dict[int, tuple[str, str | None, str]] = {}
        self._checked: set[str] | None = None
        self._reload()

    def _reload(self) -> None:
        """Load every label of an address the index knows."""
        self.by_id = {
            r[0]: (r[1], r[2], r[3])
            for r in self.case.conn.execute(
                "SELECT a.id, l.name, l.category, l.source FROM chain_labels l "
                "JOIN chain_addresses a ON a.address = l.address"
            )
        }

    def get(self, address_id: int | None) -> tuple[str, str | None, str] | None:
        """(name, category, source) of a labelled address, or None."""
        return self.by_id.get(address_id) if address_id else None

    def lookup(self, txids: list[str]) -> None:
        """Read the explorer's pages of transactions not read before (nothing without one)."""
        if self.explorer is None or not txids or self.pages_left <= 0:
            return
        if self._checked is None:
            self._checked = {
                r[0] for r in self.case.conn.execute("SELECT txid FROM chain_label_checks")
            }
        todo = [t for t in dict.fromkeys(txids) if t not in self._checked][: self.pages_left]
        if not todo:
            return
        self.pages_left -= len(todo)
        try:
            found = _fetch_pages(self.case, self.explorer, [f"tx/{t}" for t in todo])
        except NetworkError as e:
            raise NetworkError(
                f"{e} (use --offline to work with the labels already stored)"
            ) from None
        if _store_imported(self.case, found):
            self._reload()
        _mark_checked(self.case, todo)
        self._checked.update(todo)
