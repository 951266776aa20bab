"""Read-only access to world.db: one small repository per table, one connection per thread."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.sqlite_pool import ThreadConnections
from sandbox.world.read import open_world
from sandbox.world.secret import keyed_seed


def site_url(address: str, path: str = "") -> str:
    """The URL a visitor types for a page of a world site (its .onion or .test name)."""
    return f"http://{address}/{path}"


@dataclass(frozen=True)
class Site:
    """One row of `sites`, with its scenario knobs decoded from `config`."""

    id: str
    name: str
    kind: str
    operator_id: str | None
    address: str
    server_ip: str
    analytics_id: str | None
    config: dict = field(hash=False, compare=False)
    onion_seed: bytes | None = None

    @property
    def captcha(self) -> bool:
        """Whether forms ask for a CAPTCHA (the scenario's default is yes)."""
        return bool(self.config.get("captcha", True))

    @property
    def ddos_queue(self) -> bool:
        """Whether visitors wait in a DDoS-protection queue first."""
        return bool(self.config.get("ddos_queue", False))

    @property
    def currencies(self) -> list[str]:
        """Currencies prices are shown in."""
        return list(self.config.get("currencies") or ["BTC"])

    @property
    def hidden(self) -> bool:
        """A hidden service (.onion) rather than a .test clearnet site."""
        return self.address.endswith(".onion")

    @property
    def url(self) -> str:
        """The site's base URL as a visitor types it."""
        return site_url(self.address)

    def has_mistake(self, mistake: str) -> bool:
        """Whether the scenario planted this OPSEC mistake on the site."""
        return mistake in (self.config.get("mistakes") or ())


class WorldDB(ThreadConnections):
    """A world file opened read-only, with one sqlite connection per thread."""

    def __init__(self, path: str | Path):
        """Open (and check) the world once in the calling thread."""
        super().__init__()
        self.path = Path(path)
        self.conn()

    def _connect(self) -> sqlite3.Connection:
        """A read-only connection to the world."""
        return open_world(self.path)


class Repo:
    """Base of the table repositories: holds the world connection factory."""

    def __init__(self, db: WorldDB):
        """Keep the database."""
        self.db = db


class MetaRepo(Repo):
    """The `meta` key/value table."""

    def all(self) -> dict[str, str]:
        """Every meta key and value."""
        return {r["key"]: r["value"] for r in self.db.all("SELECT key, value FROM meta")}


class SiteRepo(Repo):
    """The `sites` table."""

    COLUMNS = "id, name, kind, operator_id, address, server_ip, analytics_id, config, onion_seed"

    def _site(self, row: dict) -> Site:
        """A Site from a row."""
        config = json.loads(row.pop("config") or "{}")
        return Site(config=config, **row)

    def get(self, site_id: str) -> Site | None:
        """One site by id."""
        row = self.db.one(f"SELECT {self.COLUMNS} FROM sites WHERE id = ?", (site_id,))
        return self._site(row) if row else None

    def all(self) -> list[Site]:
        """Every site in the scenario's order."""
        return [
            self._site(r) for r in self.db.all(f"SELECT {self.COLUMNS} FROM sites ORDER BY rowid")
        ]


class ActorRepo(Repo):
    """The few public facts of `actors` a service may show (never the answer key)."""

    def name(self, actor_id: str) -> str | None:
        """The actor's full name (used for planted leaks only)."""
        return self.db.value("SELECT name FROM actors WHERE id = ?", (actor_id,))

    def email(self, actor_id: str) -> str | None:
        """The actor's e-mail address (used for planted leaks only)."""
        return self.db.value("SELECT email FROM actors WHERE id = ?", (actor_id,))


class AccountRepo(Repo):
    """The `accounts` table."""

    def get(self, site_id: str, account_id: int) -> dict | None:
        """One account of a site by id."""
        return self.db.one(
            "SELECT * FROM accounts WHERE site_id = ? AND id = ?", (site_id, account_id)
        )

    def by_handle(self, site_id: str, handle: str) -> dict | None:
        """One account of a site by handle (exact, then case-insensitive)."""
        row = self.db.one(
            "SELECT * FROM accounts WHERE site_id = ? AND handle = ?", (site_id, handle)
        )
        if row is None:
            row = self.db.one(
                "SELECT * FROM accounts WHERE site_id = ? AND handle = ? COLLATE NOCASE",
                (site_id, handle),
            )
        return row

    def by_actor(self, site_id: str, actor_id: str) -> dict | None:
        """The actor's account on a site."""
        return self.db.one(
            "SELECT * FROM accounts WHERE site_id = ? AND actor_id = ? ORDER BY id",
            (site_id, actor_id),
        )

    def of_site(self, site_id: str, role: str | None = None) -> list[dict]:
        """Accounts of a site (of one role), in id order."""
        if role is None:
            return self.db.all("SELECT * FROM accounts WHERE site_id = ? ORDER BY id", (site_id,))
        return self.db.all(
            "SELECT * FROM accounts WHERE site_id = ? AND role = ? ORDER BY id", (site_id, role)
        )

    def handle_taken(self, site_id: str, handle: str) -> bool:
        """Whether a world account of the site already uses the handle (any case)."""
        return (
            self.db.value(
                "SELECT 1 FROM accounts WHERE site_id = ? AND handle = ? COLLATE NOCASE",
                (site_id, handle),
            )
            is not None
        )


class KeyRepo(Repo):
    """The `pgp_keys` table."""

    def get(self, fingerprint: str | None) -> dict | None:
        """One key by fingerprint."""
        if not fingerprint:
            return None
        return self.db.one("SELECT * FROM pgp_keys WHERE fingerprint = ?", (fingerprint,))

    def of_actor(self, actor_id: str) -> dict | None:
        """Some key of an actor (the oldest), if any."""
        return self.db.one(
            "SELECT * FROM pgp_keys WHERE actor_id = ? ORDER BY created, fingerprint", (actor_id,)
        )


class ListingRepo(Repo):
    """The `listings` table."""

    def get(self, site_id: str, listing_id: int) -> dict | None:
        """One listing of a site."""
        return self.db.one(
            "SELECT * FROM listings WHERE site_id = ? AND id = ?", (site_id, listing_id)
        )

    def category_counts(self, site_id: str) -> dict[str, int]:
        """Number of listings per category of a site."""
        rows = self.db.all(
            "SELECT category, count(*) AS n FROM listings WHERE site_id = ? GROUP BY category",
            (site_id,),
        )
        return {r["category"]: r["n"] for r in rows}

    def _where(self, site_id: str, categories, query: str | None) -> tuple[str, list]:
        """The WHERE clause for a category set and a search text."""
        sql = "site_id = ?"
        params: list = [site_id]
        if categories is not None:
            cats = list(categories)
            sql += f" AND category IN ({', '.join('?' * len(cats)) or 'NULL'})"
            params += cats
        if query:
            for word in query.split()[:8]:
                pattern = "%" + like_escape(word) + "%"
                sql += " AND (title LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\')"
                params += [pattern, pattern]
        return sql, params

    def count(self, site_id: str, categories=None, query: str | None = None) -> int:
        """Number of listings of a site in these categories matching the query."""
        where, params = self._where(site_id, categories, query)
        return self.db.value(f"SELECT count(*) FROM listings WHERE {where}", params)

    def page(
        self,
        site_id: str,
        categories=None,
        query: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[dict]:
        """Listings with their vendor's handle, newest first."""
        where, params = self._where(site_id, categories, query)
        return self.db.all(
            "SELECT l.*, a.handle AS vendor, a.sales AS vendor_sales, a.rating AS vendor_rating"
            f" FROM (SELECT * FROM listings WHERE {where}) l"
            " JOIN accounts a ON a.id = l.account_id"
            " ORDER BY l.created DESC, l.id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )

    def of_account(self, account_id: int) -> list[dict]:
        """A vendor's listings, newest first."""
        return self.db.all(
            "SELECT * FROM listings WHERE account_id = ? ORDER BY created DESC, id DESC",
            (account_id,),
        )

    def all_titles(self) -> list[dict]:
        """Id, site, title, category and vendor handle of every listing (for the search index)."""
        return self.db.all(
            "SELECT l.id, l.site_id, l.title, l.category, l.price_btc, a.handle AS vendor"
            " FROM listings l JOIN accounts a ON a.id = l.account_id ORDER BY l.id"
        )


class PhotoRepo(Repo):
    """The `photos` table."""

    def get(self, site_id: str, photo_id: int) -> dict | None:
        """One photo of a site."""
        return self.db.one(
            "SELECT p.*, l.created AS listing_created FROM photos p"
            " LEFT JOIN listings l ON l.id = p.listing_id WHERE p.site_id = ? AND p.id = ?",
            (site_id, photo_id),
        )

    def of_listing(self, listing_id: int) -> list[dict]:
        """A listing's photos."""
        return self.db.all(
            "SELECT p.*, l.created AS listing_created FROM photos p"
            " LEFT JOIN listings l ON l.id = p.listing_id WHERE p.listing_id = ? ORDER BY p.id",
            (listing_id,),
        )

    def first_of(self, listing_ids: list[int]) -> dict[int, dict]:
        """The first photo of each of these listings."""
        if not listing_ids:
            return {}
        marks = ", ".join("?" * len(listing_ids))
        rows = self.db.all(
            f"SELECT * FROM photos WHERE listing_id IN ({marks}) ORDER BY id", list(listing_ids)
        )
        out: dict[int, dict] = {}
        for row in rows:
            out.setdefault(row["listing_id"], row)
        return out

    def of_site(self, site_id: str) -> list[dict]:
        """Every photo uploaded to a site, with its listing's creation time."""
        return self.db.all(
            "SELECT p.*, l.created AS listing_created FROM photos p"
            " LEFT JOIN listings l ON l.id = p.listing_id WHERE p.site_id = ? ORDER BY p.id",
            (site_id,),
        )


class FeedbackRepo(Repo):
    """The `feedback` table."""

    def of_listing(self, listing_id: int) -> list[dict]:
        """Feedback on a listing, newest first."""
        return self.db.all(
            "SELECT * FROM feedback WHERE listing_id = ? ORDER BY created DESC, id DESC",
            (listing_id,),
        )

    def of_vendor(self, account_id: int, limit: int = 15) -> list[dict]:
        """Recent feedback on any listing of a vendor, with the listing title."""
        return self.db.all(
            "SELECT f.*, l.title AS listing_title, l.id AS listing_id FROM feedback f"
            " JOIN listings l ON l.id = f.listing_id WHERE l.account_id = ?"
            " ORDER BY f.created DESC, f.id DESC LIMIT ?",
            (account_id, limit),
        )

    def summary_of_vendor(self, account_id: int) -> dict:
        """Counts of positive, neutral and negative feedback of a vendor."""
        row = self.db.one(
            "SELECT sum(f.rating >= 4) AS positive, sum(f.rating = 3) AS neutral,"
            " sum(f.rating <= 2) AS negative, count(*) AS total FROM feedback f"
            " JOIN listings l ON l.id = f.listing_id WHERE l.account_id = ?",
            (account_id,),
        )
        return {k: (v or 0) for k, v in (row or {}).items()}


class BoardRepo(Repo):
    """The `boards` table."""

    def of_site(self, site_id: str) -> list[dict]:
        """Boards of a forum with their thread and post counts."""
        return self.db.all(
            "SELECT b.*,"
            " (SELECT count(*) FROM threads t WHERE t.board_id = b.id) AS threads,"
            " (SELECT count(*) FROM posts p JOIN threads t ON t.id = p.thread_id"
            "  WHERE t.board_id = b.id) AS posts"
            " FROM boards b WHERE b.site_id = ? ORDER BY b.id",
            (site_id,),
        )

    def get(self, site_id: str, board_id: int) -> dict | None:
        """One board of a forum."""
        return self.db.one("SELECT * FROM boards WHERE site_id = ? AND id = ?", (site_id, board_id))


class ThreadRepo(Repo):
    """The `threads` table."""

    SELECT = (
        "SELECT t.*, a.handle AS author, b.name AS board,"
        " (SELECT count(*) FROM posts p WHERE p.thread_id = t.id) AS replies,"
        " (SELECT max(p.created) FROM posts p WHERE p.thread_id = t.id) AS last_post"
        " FROM threads t JOIN accounts a ON a.id = t.account_id JOIN boards b ON b.id = t.board_id"
    )

    def get(self, site_id: str, thread_id: int) -> dict | None:
        """One thread of a forum with its author and board."""
        return self.db.one(f"{self.SELECT} WHERE b.site_id = ? AND t.id = ?", (site_id, thread_id))

    def of_board(self, board_id: int) -> list[dict]:
        """Threads of a board with author, reply count and last activity."""
        return self.db.all(f"{self.SELECT} WHERE t.board_id = ?", (board_id,))

    def all_titles(self) -> list[dict]:
        """Id, forum site, board and title of every thread (for the search index)."""
        return self.db.all(
            "SELECT t.id, b.site_id, b.name AS board, t.title, a.handle AS author"
            " FROM threads t JOIN boards b ON b.id = t.board_id"
            " JOIN accounts a ON a.id = t.account_id ORDER BY t.id"
        )


class PostRepo(Repo):
    """The `posts` table (forum posts, social posts and pastes)."""

    def of_thread(self, thread_id: int) -> list[dict]:
        """Posts of a thread, oldest first, with their authors."""
        return self.db.all(
            "SELECT p.*, a.handle AS author, a.role AS author_role, a.joined AS author_joined"
            " FROM posts p JOIN accounts a ON a.id = p.account_id"
            " WHERE p.thread_id = ? ORDER BY p.created, p.id",
            (thread_id,),
        )

    def count_of_account(self, account_id: int) -> int:
        """Number of posts an account wrote."""
        return self.db.value("SELECT count(*) FROM posts WHERE account_id = ?", (account_id,))

    def of_account(self, account_id: int, limit: int = 20, offset: int = 0) -> list[dict]:
        """An account's posts, newest first, with the thread title when in a thread."""
        return self.db.all(
            "SELECT p.*, t.title AS thread_title FROM posts p"
            " LEFT JOIN threads t ON t.id = p.thread_id"
            " WHERE p.account_id = ? ORDER BY p.created DESC, p.id DESC LIMIT ? OFFSET ?",
            (account_id, limit, offset),
        )

    def get(self, site_id: str, post_id: int) -> dict | None:
        """One post of a site, with its author."""
        return self.db.one(
            "SELECT p.*, a.handle AS author, a.bio AS author_bio FROM posts p"
            " JOIN accounts a ON a.id = p.account_id WHERE p.site_id = ? AND p.id = ?",
            (site_id, post_id),
        )

    def count_of_site(self, site_id: str, query: str | None = None) -> int:
        """Number of posts of a site matching the query."""
        where, params = _post_where(site_id, query)
        return self.db.value(f"SELECT count(*) FROM posts p WHERE {where}", params)

    def page_of_site(
        self, site_id: str, limit: int, offset: int, query: str | None = None
    ) -> list[dict]:
        """A page of a site's posts, newest first, with authors."""
        where, params = _post_where(site_id, query)
        return self.db.all(
            "SELECT p.*, a.handle AS author, a.bio AS author_bio FROM posts p"
            f" JOIN accounts a ON a.id = p.account_id WHERE {where}"
            " ORDER BY p.created DESC, p.id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )


def _post_where(site_id: str, query: str | None) -> tuple[str, list]:
    """WHERE clause over posts p of a site containing every word of query."""
    sql = "p.site_id = ?"
    params: list = [site_id]
    for word in (query or "").split()[:8]:
        sql += " AND p.body LIKE ? ESCAPE '\\'"
        params.append("%" + like_escape(word) + "%")
    return sql, params


class LinkRepo(Repo):
    """The `links` table: what wikis and search engines list."""

    def of_site(self, site_id: str) -> list[dict]:
        """Links a wiki or search site lists, with the target's address and kind."""
        return self.db.all(
            "SELECT l.*, s.address, s.kind AS target_kind FROM links l"
            " JOIN sites s ON s.id = l.target_site_id WHERE l.site_id = ? ORDER BY l.category, l.id",
            (site_id,),
        )


class WalletRepo(Repo):
    """The `wallets` and `addresses` tables, as far as a service publishes them."""

    def of_site(self, site_id: str, kind: str) -> dict | None:
        """A site's wallet of a kind (escrow, donation)."""
        return self.db.one(
            "SELECT * FROM wallets WHERE site_id = ? AND kind = ? ORDER BY id", (site_id, kind)
        )

    def personal(self, actor_id: str) -> dict | None:
        """An actor's personal wallet."""
        return self.db.one(
            "SELECT * FROM wallets WHERE actor_id = ? AND kind = 'personal' ORDER BY id",
            (actor_id,),
        )

    def address(self, address_id: int | None) -> str | None:
        """The address string of an address id."""
        if address_id is None:
            return None
        return self.db.value("SELECT address FROM addresses WHERE id = ?", (address_id,))

    def published(self, wallet_id: int) -> str | None:
        """A wallet's published address, if it has one."""
        return self.db.value(
            "SELECT address FROM addresses WHERE wallet_id = ? AND purpose = 'published'"
            " ORDER BY id",
            (wallet_id,),
        )

    def received(self, wallet_id: int) -> tuple[int, int]:
        """Satoshis received by a wallet's addresses, and the number of payments."""
        row = self.db.one(
            "SELECT coalesce(sum(o.value), 0) AS total, count(*) AS n FROM outputs o"
            " JOIN addresses a ON a.id = o.address_id"
            " WHERE a.wallet_id = ? AND a.purpose NOT IN ('change', 'consolidation')",
            (wallet_id,),
        )
        return (row["total"], row["n"]) if row else (0, 0)


class BlockRepo(Repo):
    """The `blocks` table."""

    def tip(self) -> dict:
        """The latest block."""
        return self.db.one("SELECT * FROM blocks ORDER BY height DESC LIMIT 1") or {
            "height": 0,
            "hash": "0" * 64,
            "time": 0,
        }


class World:
    """Every repository of one world file."""

    def __init__(self, path: str | Path):
        """Open the world read-only."""
        self.db = WorldDB(path)
        self.meta = MetaRepo(self.db)
        self.sites = SiteRepo(self.db)
        self.actors = ActorRepo(self.db)
        self.accounts = AccountRepo(self.db)
        self.keys = KeyRepo(self.db)
        self.listings = ListingRepo(self.db)
        self.photos = PhotoRepo(self.db)
        self.feedback = FeedbackRepo(self.db)
        self.boards = BoardRepo(self.db)
        self.threads = ThreadRepo(self.db)
        self.posts = PostRepo(self.db)
        self.links = LinkRepo(self.db)
        self.wallets = WalletRepo(self.db)
        self.blocks = BlockRepo(self.db)
        info = self.meta.all()
        # The seed the world was generated from: its public seed keyed by the course secret.
        self.seed = keyed_seed(int(info["seed"]), bytes.fromhex(info["secret"]))
        self.start = int(float(info.get("start_time", "0")))
        self.end = int(float(info.get("end_time", "0")))
        self.title = info.get("title", "")

    @property
    def path(self) -> Path:
        """The world file."""
        return self.db.path

    def close(self) -> None:
        """Close the world's connections."""
        self.db.close()


def like_escape(text: str) -> str:
    """Text with LIKE's wildcards escaped (for ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
