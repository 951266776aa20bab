"""Labels of Tron addresses: the analyst's (`investigate label T...`) and Tronscan's public
tags (`/api/account?address=` answers `publicTag`, `redTag` for the issuer's blacklist).

Labels share the case's chain_labels table with Bitcoin's (the address forms never clash);
a Tronscan tag is stored with source `tronscan` and never replaces an analyst's label.
"""

from __future__ import annotations

import time

from ..case import Case
from ..chain.store import ensure_tron_schema
from ..errors import NetworkError, RemoteError
from ..esplora import HttpClient

__all__ = ["TRONSCAN", "TronLabels", "category_of"]

TRONSCAN = "tronscan"
MAX_LOOKUPS = 2000  # Tronscan accounts one analysis may read (a wide poison trace)

# A public tag's words -> the kind of service (Tronscan gives names, not categories).
_CATEGORIES = (
    ("exchange", ("hot wallet", "deposit", "exchange", "cold wallet")),
    ("swap", ("swap", "exchanger", "instant")),
    ("otc", ("otc",)),
    ("issuer", ("tether", "treasury", "issuer")),
    ("mixer", ("mixer",)),
)


def category_of(name: str) -> str:
    """The kind of service a public tag names (`service` when no word says)."""
    lower = name.lower()
    for category, words in _CATEGORIES:
        if any(w in lower for w in words):
            return category
    return "service"


class TronLabels:
    """Labels of Tron addresses; with a Tronscan URL, asks it about addresses not asked yet."""

    def __init__(
        self,
        case: Case,
        tronscan: str | None = None,
        proxy: str | None = None,
        max_lookups: int = MAX_LOOKUPS,
    ):
        """The case's labels; tronscan is Tronscan's base URL (its API under /api)."""
        ensure_tron_schema(case)
        self.case = case
        self.client = HttpClient(tronscan.rstrip("/") + "/api", proxy) if tronscan else None
        self.left = max_lookups
        self.labels: dict[str, tuple[str, str | None, str]] = {}
        self.blacklisted: dict[str, bool] = {}
        for r in case.conn.execute("SELECT address, name, category, source FROM chain_labels"):
            if r[0].startswith("T"):
                self.labels[r[0]] = (r[1], r[2], r[3])
        self.checked = {r[0] for r in case.conn.execute("SELECT address FROM tron_label_checks")}

    def get(self, address: str, ask: bool = True) -> tuple[str, str | None, str] | None:
        """(name, category, source) of a labelled address, or None; Tronscan is asked once
        per address (ask=False: only what is known already)."""
        if ask and address not in self.labels and self.client is not None:
            self._ask(address)
        return self.labels.get(address)

    def _ask(self, address: str) -> None:
        """Read Tronscan's account page of an address not read before."""
        if address in self.checked or self.left <= 0 or self.client is None:
            return
        self.left -= 1
        try:
            answer = self.client.request("GET", "account", params={"address": address}).json()
        except NetworkError as e:
            raise NetworkError(
                f"{e} (use --offline to work with the labels already stored)"
            ) from None
        except ValueError:
            raise RemoteError(f"{self.client.url('account')}: the answer is not JSON") from None
        tag = str(answer.get("publicTag") or "").strip()
        self.blacklisted[address] = bool(answer.get("redTag"))
        now = time.time()
        conn = self.case.conn
        if tag:
            category = category_of(tag)
            conn.execute(
                "INSERT INTO chain_labels VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(address) DO "
                "UPDATE SET name = excluded.name, category = excluded.category "
                "WHERE chain_labels.source = 'tronscan'",
                (address, tag, category, TRONSCAN, now, self.case.operator, self.case.custody_id),
            )
            row = conn.execute(
                "SELECT name, category, source FROM chain_labels WHERE address = ?", (address,)
            ).fetchone()
            self.labels[address] = (row[0], row[1], row[2])
        conn.execute("INSERT OR REPLACE INTO tron_label_checks VALUES (?, ?)", (address, now))
        self.checked.add(address)
