"""The search engine's index: SQLite FTS5 in memory over what the indexed sites show."""

from __future__ import annotations

import re
import sqlite3
import threading

from ..common.world import Site, World, site_url

TOKEN = re.compile(r"\w+", re.UNICODE)


class SearchIndex:
    """Documents (title, text, URL, site, kind) of every site this engine indexes."""

    def __init__(self):
        """An empty in-memory FTS5 index."""
        self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        self._conn.execute(
            "CREATE VIRTUAL TABLE docs USING fts5(title, body, url UNINDEXED,"
            " site UNINDEXED, kind UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')"
        )
        self._lock = threading.Lock()
        self.size = 0

    @classmethod
    def build(cls, world: World, site: Site) -> SearchIndex:
        """Index the sites the `links` table lists for this engine, and their content."""
        index = cls()
        links = world.links.of_site(site.id)
        sites = {s.id: s for s in world.sites.all()}
        targets = {link["target_site_id"] for link in links}
        docs: list[tuple] = []
        for link in links:
            url = site_url(link["address"])
            docs.append((link["title"], link["description"], url, link["title"], "site"))
        for row in world.listings.all_titles():
            target = sites.get(row["site_id"])
            if target is None or target.id not in targets:
                continue
            url = site_url(target.address, f"listing/{row['id']}")
            text = f"{row['category']} - sold by {row['vendor']} - {row['price_btc']:.5f} BTC"
            docs.append((row["title"], text, url, target.name, "listing"))
        for target_id in sorted(targets):
            target = sites.get(target_id)
            if target is None or target.kind not in ("market", "shop"):
                continue
            for account in world.accounts.of_site(target.id, "vendor"):
                path = f"vendor/{account['handle']}" if target.kind == "market" else "about"
                url = site_url(target.address, path)
                text = f"Vendor on {target.name}. {account['bio'][:200]}"
                docs.append((account["handle"], text, url, target.name, "vendor"))
        for row in world.threads.all_titles():
            target = sites.get(row["site_id"])
            if target is None or target.id not in targets:
                continue
            url = site_url(target.address, f"thread/{row['id']}")
            text = f"Thread in {row['board']} by {row['author']}"
            docs.append((row["title"], text, url, target.name, "thread"))
        with index._lock:
            index._conn.executemany(
                "INSERT INTO docs (title, body, url, site, kind) VALUES (?, ?, ?, ?, ?)", docs
            )
            index._conn.commit()
        index.size = len(docs)
        return index

    @staticmethod
    def match_expression(query: str) -> str | None:
        """An FTS5 query from free text: every word must match (as a prefix); None if no word."""
        words = TOKEN.findall(query.lower())[:10]
        if not words:
            return None
        return " AND ".join('"' + w.replace('"', '""') + '"*' for w in words)

    def search(self, query: str, limit: int, offset: int) -> tuple[int, list[dict]]:
        """Total hits and one page of results, best first."""
        expression = self.match_expression(query)
        if expression is None:
            return 0, []
        with self._lock:
            total = self._conn.execute(
                "SELECT count(*) FROM docs WHERE docs MATCH ?", (expression,)
            ).fetchone()[0]
            rows = self._conn.execute(
                "SELECT title, body, url, site, kind FROM docs WHERE docs MATCH ?"
                " ORDER BY bm25(docs, 8.0, 1.0), rowid LIMIT ? OFFSET ?",
                (expression, limit, offset),
            ).fetchall()
        keys = ("title", "body", "url", "site", "kind")
        return total, [dict(zip(keys, row, strict=True)) for row in rows]


def highlight(text: str, query: str) -> list[tuple[str, bool]]:
    """Text split into (piece, matched) parts for words starting with a query word."""
    words = [w.lower() for w in TOKEN.findall(query)][:10]
    parts: list[tuple[str, bool]] = []
    last = 0
    for match in TOKEN.finditer(text):
        if any(match.group(0).lower().startswith(w) for w in words):
            if match.start() > last:
                parts.append((text[last : match.start()], False))
            parts.append((match.group(0), True))
            last = match.end()
    if last < len(text):
        parts.append((text[last:], False))
    return parts
