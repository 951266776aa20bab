"""Read-only access to world.db: the one module that runs SQL on a built world.

The build writes world.db (sandbox/world/*.py and the ledger's simulation, see
docs/architecture.md); every service reads it through here: `open_world` opens it, `World`
holds one small repository per table (the sites' way in, one connection per thread), and the
module-level functions answer the sandbox's own questions (its sites, meta, course tables).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import WorldError
from ..sqlite_pool import ThreadConnections
from .schema import SCHEMA_VERSION
from .secret import keyed_seed


def open_world(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to a world file, or WorldError saying why not."""
    path = Path(path)
    if not path.is_file():
        raise WorldError(f"{path}: no such world file (build one with `sandbox build`)")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        rows = dict(conn.execute("SELECT key, value FROM meta"))
    except sqlite3.DatabaseError as e:
        raise WorldError(f"{path}: not a world file ({e})") from e
    if rows.get("format") != str(SCHEMA_VERSION):
        raise WorldError(
            f"{path}: world format {rows.get('format')!r}, this sandbox reads {SCHEMA_VERSION}"
        )
    if "digest" not in rows:
        raise WorldError(f"{path}: incomplete world (its build did not finish)")
    conn.row_factory = sqlite3.Row
    return conn


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

    @property
    def server(self) -> str | None:
        """The Server header the scenario gives the site (None: the site's own choice)."""
        return self.config.get("server")

    @property
    def description(self) -> str | None:
        """The scenario's description of the site (None: the site's built-in text)."""
        return self.config.get("description")

    @property
    def language(self) -> str | None:
        """The language of the scenario's texts on the site (None: it has none)."""
        return self.config.get("language")

    @property
    def channels(self) -> list[dict]:
        """A social site's channels, as the build filled them (content/texts.py)."""
        return list(self.config.get("channels") or ())


class WorldDB(ThreadConnections):
    """A world file opened read-only, one pooled connection lent to each thread."""

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

    def tron_published(self, actor_id: str, site_id: str) -> str | None:
        """The one Tron address an actor collects a site's donations on (None: none, or a
        fresh address per donor from the start)."""
        return self.db.value(
            "SELECT address FROM tron_accounts WHERE actor_id = ? AND wallet = 'donation'"
            " AND purpose = ?",
            (actor_id, f"donation:{site_id}"),
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


class SwapOrderRepo(Repo):
    """The `swap_orders` table: the swap services' records of the story's orders."""

    def about(self, service_id: str, subject: str) -> list[dict]:
        """A service's orders whose deposit or payout address or txid is subject, oldest first."""
        return self.db.all(
            "SELECT * FROM swap_orders WHERE service_id = ? AND (deposit_address = ?"
            " OR payout_address = ? OR deposit_txid = ? OR payout_txid = ?)"
            " ORDER BY created, order_id",
            (service_id, subject, subject, subject, subject),
        )


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
        self.swap_orders = SwapOrderRepo(self.db)
        info = self.meta.all()
        # The seed the world was generated from: its public seed keyed by the course secret.
        self.seed = keyed_seed(int(info["seed"]), bytes.fromhex(info["secret"]))
        self.start = int(float(info.get("start_time", "0")))
        self.end = int(float(info.get("end_time", "0")))
        self.title = info.get("title", "")
        # The fixed BTC/XMR rate of the world's XMR prices (absent from older world files).
        rate = info.get("btc_per_xmr")
        self.xmr_per_btc = round(1 / float(rate)) if rate else None
        # The swap services' rate (USDT per BTC) and fee (absent from older world files).
        self.btc_usdt = float(info.get("btc_usdt", "60000"))
        self.swap_fee = float(info.get("swap_fee", "0.01"))

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


# The sandbox's own questions, each over a connection from open_world.


def meta(conn: sqlite3.Connection) -> dict[str, str]:
    """The world's meta table: scenario, seed, digest, times, knobs."""
    return {r[0]: r[1] for r in conn.execute("SELECT key, value FROM meta")}


def scenario_locale(path: str | Path) -> str | None:
    """The scenario's `meta.locale` of the world at path (a page's default language)."""
    conn = open_world(path)
    try:
        return meta(conn).get("locale")
    finally:
        conn.close()


def site_rows(conn: sqlite3.Connection) -> list[dict]:
    """Every site as a dict of its columns (id, name, kind, address, onion_seed...), in
    the scenario's order."""
    return [dict(r) for r in conn.execute("SELECT * FROM sites ORDER BY rowid")]


def exchange_names(conn: sqlite3.Connection) -> list[str]:
    """The names of the world's exchanges."""
    return [r[0] for r in conn.execute("SELECT name FROM sites WHERE kind = 'exchange'")]


def block_time(conn: sqlite3.Connection, height: int) -> int | None:
    """The time of the world's block at height, or None."""
    row = conn.execute("SELECT time FROM blocks WHERE height = ?", (height,)).fetchone()
    return row[0] if row is not None else None


def _course_rows(conn: sqlite3.Connection, sql: str) -> list[sqlite3.Row]:
    """The rows of a query on the course tables, or none when the world predates them."""
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []


def course_seats(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """The seats of a course world, by number."""
    return _course_rows(conn, "SELECT * FROM seats ORDER BY n")


def course_hints(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every seat's hints, by seat, objective and position."""
    return _course_rows(conn, "SELECT * FROM hints ORDER BY seat, objective_id, position")


def course_objectives(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """The objectives, in the brief's order."""
    return _course_rows(conn, "SELECT * FROM objectives ORDER BY position")


def seat_objectives(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every seat's question and answer (JSON) per objective."""
    return _course_rows(conn, "SELECT seat, objective_id, question, answer FROM seat_objectives")


def course_injects(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """The injects, in the scenario's order."""
    return _course_rows(conn, "SELECT * FROM injects ORDER BY position")


def course_texts(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """The texts given in several languages (seat 0: every seat's), none in older worlds."""
    return _course_rows(conn, "SELECT * FROM course_texts ORDER BY seat, item, language")


def artefact_index(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every seat's artefacts without their content, by seat and position."""
    return _course_rows(
        conn,
        "SELECT seat, id, position, kind, title, filename, mime FROM artefacts "
        "ORDER BY seat, position",
    )


def artefact_content(conn: sqlite3.Connection, seat: int, artefact_id: str) -> bytes | None:
    """The bytes of a seat's artefact, or None when there is none by that id."""
    row = conn.execute(
        "SELECT content FROM artefacts WHERE seat = ? AND id = ?", (seat, artefact_id)
    ).fetchone()
    if row is None:
        return None
    content = row[0]
    return content.encode() if isinstance(content, str) else bytes(content)


def unspent_of(conn: sqlite3.Connection, address: str) -> int:
    """Satoshis the world leaves unspent on an address (0 for an address it never paid)."""
    (total,) = conn.execute(
        "SELECT coalesce(sum(o.value), 0) FROM addresses a "
        "JOIN outputs o ON o.address_id = a.id "
        "LEFT JOIN inputs i ON i.prev_tx_id = o.tx_id AND i.prev_n = o.n "
        "WHERE a.address = ? AND i.tx_id IS NULL",
        (address,),
    ).fetchone()
    return total


def site_kind(conn: sqlite3.Connection, site_id: str) -> str | None:
    """A site's kind, or None when the world has no such site."""
    row = conn.execute("SELECT kind FROM sites WHERE id = ?", (site_id,)).fetchone()
    return row[0] if row is not None else None


def poster(conn: sqlite3.Connection, site_id: str, actor_id: str) -> sqlite3.Row | None:
    """handle and joined of an actor's first account on a site; else its username as handle
    (joined None); None for no such actor."""
    row = conn.execute(
        "SELECT handle, joined FROM accounts WHERE site_id = ? AND actor_id = ?"
        " ORDER BY id LIMIT 1",
        (site_id, actor_id),
    ).fetchone()
    if row is None:  # the actor joins the site to post
        row = conn.execute(
            "SELECT username AS handle, NULL AS joined FROM actors WHERE id = ?", (actor_id,)
        ).fetchone()
    return row


def boards_of(conn: sqlite3.Connection, site_id: str) -> list[sqlite3.Row]:
    """(id, name) of a forum's boards."""
    return conn.execute(
        "SELECT id, name FROM boards WHERE site_id = ? ORDER BY id", (site_id,)
    ).fetchall()


# What an exchange's records are made of (sandbox/exchanges/records.py decides what each
# exchange may see of them).


def exchange_row(conn: sqlite3.Connection, exchange_id: str) -> dict | None:
    """Name, domain and contact details of an exchange, or None if the world has no such one."""
    row = conn.execute(
        """
        SELECT a.id, a.name, a.email, a.phone, a.street, a.city, a.country, s.address AS domain
        FROM actors a JOIN sites s ON s.id = a.id AND s.kind = 'exchange'
        WHERE a.id = ? AND a.role = 'exchange'
        """,
        (exchange_id,),
    ).fetchone()
    return dict(row) if row else None


def tx_payer(conn: sqlite3.Connection, tx_id: int) -> str | None:
    """The actor whose wallet funded a transaction (its first input's owner)."""
    row = conn.execute(
        """
        SELECT w.actor_id FROM inputs i
        JOIN outputs o ON o.tx_id = i.prev_tx_id AND o.n = i.prev_n
        JOIN addresses a ON a.id = o.address_id JOIN wallets w ON w.id = a.wallet_id
        WHERE i.tx_id = ? ORDER BY i.n LIMIT 1
        """,
        (tx_id,),
    ).fetchone()
    return row[0] if row else None


def address_owner(conn: sqlite3.Connection, address: str) -> sqlite3.Row | None:
    """An address's id and purpose with its wallet's kind and actor, or None."""
    return conn.execute(
        """
        SELECT a.id, a.purpose, w.kind, w.actor_id FROM addresses a
        JOIN wallets w ON w.id = a.wallet_id WHERE a.address = ?
        """,
        (address,),
    ).fetchone()


def withdrawals_paying(conn: sqlite3.Connection, address_id: int) -> list[int]:
    """The ids of the withdrawal transactions that pay an address."""
    rows = conn.execute(
        """
        SELECT DISTINCT t.id FROM outputs o JOIN transactions t ON t.id = o.tx_id
        WHERE o.address_id = ? AND t.kind = 'withdrawal'
        """,
        (address_id,),
    )
    return [r[0] for r in rows]


def tx_kind(conn: sqlite3.Connection, txid: str) -> sqlite3.Row | None:
    """A world transaction's id and the ledger's kind of it, or None."""
    return conn.execute("SELECT id, kind FROM transactions WHERE txid = ?", (txid,)).fetchone()


def tx_outputs_owned(conn: sqlite3.Connection, tx_id: int) -> list[sqlite3.Row]:
    """A transaction's outputs with their address, purpose and wallet kind and actor."""
    return conn.execute(
        """
        SELECT o.n, o.value, a.address, a.purpose, w.kind, w.actor_id FROM outputs o
        JOIN addresses a ON a.id = o.address_id JOIN wallets w ON w.id = a.wallet_id
        WHERE o.tx_id = ? ORDER BY o.n
        """,
        (tx_id,),
    ).fetchall()


def exchange_account(conn: sqlite3.Connection, exchange_id: str, actor_id: str) -> dict | None:
    """A customer's exchange_accounts row, or None."""
    try:
        row = conn.execute(
            "SELECT * FROM exchange_accounts WHERE exchange_id = ? AND actor_id = ?",
            (exchange_id, actor_id),
        ).fetchone()
    except sqlite3.OperationalError:  # a world built before exchange records existed
        return None
    return dict(row) if row else None


def actor_identity(conn: sqlite3.Connection, actor_id: str) -> dict:
    """The identity an actor gives (KYC fields), or {} for no such actor."""
    row = conn.execute(
        """
        SELECT name, birth_date, nationality, document_number, street, city, country,
               phone, email, username
        FROM actors WHERE id = ?
        """,
        (actor_id,),
    ).fetchone()
    return dict(row) if row else {}


def deposits_into(conn: sqlite3.Connection, exchange_id: str, purpose: str) -> list[dict]:
    """Every payment into an exchange's deposit addresses of that purpose, oldest first."""
    rows = conn.execute(
        """
        SELECT t.txid, b.time, o.value, a.address, t.height FROM wallets w
        JOIN addresses a ON a.wallet_id = w.id
        JOIN outputs o ON o.address_id = a.id
        JOIN transactions t ON t.id = o.tx_id JOIN blocks b ON b.height = t.height
        WHERE w.actor_id = ? AND w.kind = 'deposit' AND a.purpose = ?
        ORDER BY t.height, t.position, o.n
        """,
        (exchange_id, purpose),
    )
    return [dict(r) for r in rows]


def deposit_addresses(conn: sqlite3.Connection, exchange_id: str, purpose: str) -> list[str]:
    """An exchange's deposit addresses of that purpose."""
    rows = conn.execute(
        "SELECT a.address FROM addresses a JOIN wallets w ON w.id = a.wallet_id"
        " WHERE w.actor_id = ? AND w.kind = 'deposit' AND a.purpose = ?",
        (exchange_id, purpose),
    )
    return [r[0] for r in rows]


def withdrawals_to(conn: sqlite3.Connection, actor_id: str) -> list[sqlite3.Row]:
    """Every withdrawal output paying an actor's addresses, oldest first, with its tx id."""
    return conn.execute(
        """
        SELECT t.id AS tx_id, t.txid, b.time, o.value, a.address, t.height FROM wallets w
        JOIN addresses a ON a.wallet_id = w.id
        JOIN outputs o ON o.address_id = a.id
        JOIN transactions t ON t.id = o.tx_id AND t.kind = 'withdrawal'
        JOIN blocks b ON b.height = t.height
        WHERE w.actor_id = ?
        ORDER BY t.height, t.position, o.n
        """,
        (actor_id,),
    ).fetchall()


def exchange_logins(conn: sqlite3.Connection, exchange_id: str, actor_id: str) -> list[dict]:
    """A customer's logins to an exchange: time, IP, user agent, IP country."""
    try:
        rows = conn.execute(
            """
            SELECT time, ip, user_agent, country FROM exchange_logins
            WHERE exchange_id = ? AND actor_id = ? ORDER BY time, ip
            """,
            (exchange_id, actor_id),
        )
        return [dict(r) for r in rows]
    except sqlite3.OperationalError:  # a world built before exchange records existed
        return []


# The world's chain as the explorer reads it: transactions by internal id, the coins they
# spend, an address's history and totals, blocks. Each takes a connection from open_world
# (or the live chain's pool of world connections).

BLOCK_COLUMNS = "height, hash, prev_hash, merkle_root, time, version, bits, nonce, tx_count"

_HISTORY_SQL = """
SELECT tx_id FROM (
    SELECT tx_id FROM outputs WHERE address_id = :a AND tx_id < :before
    UNION
    SELECT i.tx_id FROM outputs o JOIN inputs i ON i.prev_tx_id = o.tx_id AND i.prev_n = o.n
    WHERE o.address_id = :a AND i.tx_id < :before
) ORDER BY tx_id DESC LIMIT :limit
"""


def _marks(values) -> str:
    """Placeholders for an IN (...) list."""
    return ",".join("?" * len(values))


def tx_id_of(conn: sqlite3.Connection, txid: str) -> int | None:
    """The world's internal id of a transaction, or None when the world has no such one."""
    row = conn.execute("SELECT id FROM transactions WHERE txid = ?", (txid,)).fetchone()
    return row[0] if row is not None else None


def txs_by_id(conn: sqlite3.Connection, ids: list[int]) -> list[tuple]:
    """(id, txid, height, position, raw, fee) of the transactions with these ids."""
    sql = (
        f"SELECT id, txid, height, position, raw, fee FROM transactions WHERE id IN ({_marks(ids)})"
    )
    return conn.execute(sql, ids).fetchall()


def spent_coins(conn: sqlite3.Connection, ids: list[int]) -> list[tuple]:
    """(tx_id, n, value, address, type, secret) of every input of these transactions."""
    sql = (
        "SELECT i.tx_id, i.n, o.value, a.address, a.type, a.secret FROM inputs i "
        "JOIN outputs o ON o.tx_id = i.prev_tx_id AND o.n = i.prev_n "
        f"JOIN addresses a ON a.id = o.address_id WHERE i.tx_id IN ({_marks(ids)})"
    )
    return conn.execute(sql, ids).fetchall()


def heavy_tx_ids(conn: sqlite3.Connection, min_inputs: int) -> list[int]:
    """Ids of the transactions with at least min_inputs inputs, most inputs first."""
    rows = conn.execute(
        "SELECT tx_id FROM inputs GROUP BY tx_id HAVING count(*) >= ? ORDER BY count(*) DESC",
        (min_inputs,),
    )
    return [r[0] for r in rows]


def block_ids(conn: sqlite3.Connection, heights) -> dict[int, tuple[str, int]]:
    """height -> (hash, time) of the world's blocks at these heights."""
    heights = list(heights)
    sql = f"SELECT height, hash, time FROM blocks WHERE height IN ({_marks(heights)})"
    return {h: (bh, t) for h, bh, t in conn.execute(sql, heights)}


def output_spenders(conn: sqlite3.Connection, tx_id: int) -> list[tuple]:
    """(n, spending tx id or None, its input index or None) for each output of a transaction."""
    return conn.execute(
        "SELECT o.n, i.tx_id, i.n FROM outputs o LEFT JOIN inputs i "
        "ON i.prev_tx_id = o.tx_id AND i.prev_n = o.n WHERE o.tx_id = ? ORDER BY o.n",
        (tx_id,),
    ).fetchall()


def tx_places(conn: sqlite3.Connection, ids: list[int]) -> dict[int, tuple[str, int]]:
    """id -> (txid, height) of the transactions with these ids."""
    sql = f"SELECT id, txid, height FROM transactions WHERE id IN ({_marks(ids)})"
    return {i: (t, h) for i, t, h in conn.execute(sql, ids)}


def scripthash_address(conn: sqlite3.Connection, scripthash: bytes) -> str | None:
    """The address whose output script has this SHA-256 (Esplora's scripthash), or None."""
    row = conn.execute(
        "SELECT a.address FROM scripthashes s JOIN addresses a ON a.id = s.address_id"
        " WHERE s.hash = ?",
        (scripthash,),
    ).fetchone()
    return row[0] if row else None


def addresses_with_prefix(conn: sqlite3.Connection, prefix: str, limit: int) -> list[str]:
    """Up to limit addresses starting with prefix, in order."""
    rows = conn.execute(
        "SELECT address FROM addresses WHERE address >= ? AND address < ? ORDER BY address LIMIT ?",
        (prefix, prefix + "\U0010ffff", limit),
    )
    return [r[0] for r in rows]


def address_id(conn: sqlite3.Connection, address: str) -> int | None:
    """The world's id of an address, or None if the world never used it."""
    row = conn.execute("SELECT id FROM addresses WHERE address = ?", (address,)).fetchone()
    return row[0] if row else None


def address_history(conn: sqlite3.Connection, addr_id: int, before: int, limit: int) -> list[int]:
    """Ids of the transactions paying or spending from an address, below before, newest first."""
    rows = conn.execute(_HISTORY_SQL, {"a": addr_id, "before": before, "limit": limit})
    return [r[0] for r in rows]


def touches_address(conn: sqlite3.Connection, addr_id: int, tx_id: int) -> bool:
    """Whether a transaction pays the address or spends a coin of it."""
    funds = conn.execute(
        "SELECT 1 FROM outputs WHERE address_id = ? AND tx_id = ?", (addr_id, tx_id)
    ).fetchone()
    spends = conn.execute(
        "SELECT 1 FROM inputs i JOIN outputs o ON o.tx_id = i.prev_tx_id AND o.n = i.prev_n "
        "WHERE i.tx_id = ? AND o.address_id = ?",
        (tx_id, addr_id),
    ).fetchone()
    return bool(funds or spends)


def address_totals(conn: sqlite3.Connection, addr_id: int) -> tuple[int, int, int, int, int]:
    """(funded count, funded sum, spent count, spent sum, transaction count) of an address."""
    funded = conn.execute(
        "SELECT count(*), coalesce(sum(value), 0) FROM outputs WHERE address_id = ?",
        (addr_id,),
    ).fetchone()
    spent = conn.execute(
        "SELECT count(*), coalesce(sum(o.value), 0) FROM outputs o JOIN inputs i "
        "ON i.prev_tx_id = o.tx_id AND i.prev_n = o.n WHERE o.address_id = ?",
        (addr_id,),
    ).fetchone()
    txs = conn.execute(
        "SELECT count(*) FROM (SELECT tx_id FROM outputs WHERE address_id = :a UNION "
        "SELECT i.tx_id FROM outputs o JOIN inputs i ON i.prev_tx_id = o.tx_id "
        "AND i.prev_n = o.n WHERE o.address_id = :a)",
        {"a": addr_id},
    ).fetchone()
    return funded[0], funded[1], spent[0], spent[1], txs[0]


def address_unspent(conn: sqlite3.Connection, addr_id: int, limit: int) -> list[tuple]:
    """(txid, n, value, height) of an address's unspent coins, newest first, at most limit."""
    return conn.execute(
        "SELECT t.txid, o.n, o.value, t.height FROM outputs o "
        "JOIN transactions t ON t.id = o.tx_id WHERE o.address_id = ? AND NOT EXISTS "
        "(SELECT 1 FROM inputs i WHERE i.prev_tx_id = o.tx_id AND i.prev_n = o.n) "
        "ORDER BY o.tx_id DESC LIMIT ?",
        (addr_id, limit),
    ).fetchall()


def block_by(conn: sqlite3.Connection, column: str, value) -> tuple | None:
    """The BLOCK_COLUMNS of the block whose column ("hash" or "height") is value, or None."""
    if column not in ("hash", "height"):
        raise ValueError(f"blocks are found by hash or height, not {column!r}")
    sql = f"SELECT {BLOCK_COLUMNS} FROM blocks WHERE {column} = ?"
    return conn.execute(sql, (value,)).fetchone()


def blocks_between(conn: sqlite3.Connection, low: int, top: int) -> list[tuple]:
    """The BLOCK_COLUMNS of the blocks from top down to low."""
    sql = f"SELECT {BLOCK_COLUMNS} FROM blocks WHERE height BETWEEN ? AND ? ORDER BY height DESC"
    return conn.execute(sql, (low, top)).fetchall()


def block_times(conn: sqlite3.Connection, low: int, top: int) -> list[int]:
    """The times of the blocks from low to top."""
    sql = "SELECT time FROM blocks WHERE height BETWEEN ? AND ?"
    return [r[0] for r in conn.execute(sql, (low, top))]


def block_txids(conn: sqlite3.Connection, height: int) -> list[str]:
    """Every txid of the world's block at height, in block order."""
    sql = "SELECT txid FROM transactions WHERE height = ? ORDER BY position"
    return [r[0] for r in conn.execute(sql, (height,))]


def block_tx_ids(conn: sqlite3.Connection, height: int, start: int, count: int) -> list[int]:
    """Ids of count transactions of a block from position start."""
    rows = conn.execute(
        "SELECT id FROM transactions WHERE height = ? AND position >= ? ORDER BY position LIMIT ?",
        (height, start, count),
    )
    return [r[0] for r in rows]


def fee_samples(conn: sqlite3.Connection, low: int) -> list[tuple[int, int, int]]:
    """(fee, raw size, segwit inputs) of each non-coinbase transaction from height low up."""
    return conn.execute(
        "SELECT t.fee, length(t.raw), count(a.id) FROM transactions t "
        "JOIN inputs i ON i.tx_id = t.id "
        "JOIN outputs o ON o.tx_id = i.prev_tx_id AND o.n = i.prev_n "
        "LEFT JOIN addresses a ON a.id = o.address_id AND a.type != 'p2pkh' "
        "WHERE t.height >= ? AND t.position > 0 GROUP BY t.id",
        (low,),
    ).fetchall()


def service_labels(conn: sqlite3.Connection, addresses: list[str]) -> list[tuple[str, str, str]]:
    """(address, label, wallet kind) of those addresses whose wallet has a public label."""
    return conn.execute(
        "SELECT a.address, w.label, w.kind FROM addresses a "
        "JOIN wallets w ON w.id = a.wallet_id "
        f"WHERE a.address IN ({_marks(addresses)}) AND w.label IS NOT NULL",
        addresses,
    ).fetchall()


# -- the running side's reads: the live chain's coins and the inject runner's wallets ----


def world_coin(
    conn: sqlite3.Connection, txid: str, n: int
) -> tuple[int, int, int, str, bool] | None:
    """(height, position, value, address, spent) of output n of a world transaction, or None."""
    row = conn.execute(
        "SELECT t.height, t.position, o.value, a.address, EXISTS (SELECT 1 FROM inputs i "
        "WHERE i.prev_tx_id = t.id AND i.prev_n = o.n) FROM transactions t "
        "JOIN outputs o ON o.tx_id = t.id AND o.n = ? "
        "JOIN addresses a ON a.id = o.address_id WHERE t.txid = ?",
        (n, txid),
    ).fetchone()
    return (row[0], row[1], row[2], row[3], bool(row[4])) if row is not None else None


def unspent_outputs(conn: sqlite3.Connection, tx_id: int) -> list[int]:
    """The output numbers of a world transaction that no world transaction spends."""
    rows = conn.execute(
        "SELECT n FROM outputs o WHERE tx_id = ? AND NOT EXISTS "
        "(SELECT 1 FROM inputs i WHERE i.prev_tx_id = o.tx_id AND i.prev_n = o.n)",
        (tx_id,),
    )
    return [r[0] for r in rows]


def tip_time(conn: sqlite3.Connection) -> int:
    """The time of the world's last block (its end_time if it has none)."""
    row = conn.execute("SELECT time FROM blocks ORDER BY height DESC LIMIT 1").fetchone()
    if row and row[0]:
        return row[0]
    return int(meta(conn)["end_time"])


def has_actor(conn: sqlite3.Connection, actor_id: str) -> bool:
    """Whether the world has an actor by that id."""
    return conn.execute("SELECT 1 FROM actors WHERE id = ?", (actor_id,)).fetchone() is not None


def wallet_addresses(
    conn: sqlite3.Connection, actor_id: str, kind: str = "personal", wallet: int | None = None
) -> list[tuple[str, str, bytes, str | None, int]]:
    """(address, type, secret, purpose, id) of an actor's wallets of one kind, or of one
    wallet (a wallets.id) whatever its kind, in address order."""
    where = "w.kind = ?" if wallet is None else "w.id = ?"
    rows = conn.execute(
        "SELECT a.address, a.type, a.secret, a.purpose, a.id FROM addresses a"
        f" JOIN wallets w ON w.id = a.wallet_id WHERE w.actor_id = ? AND {where}"
        " ORDER BY a.id",
        (actor_id, kind if wallet is None else wallet),
    )
    return [(r[0], r[1], bytes(r[2]), r[3], r[4]) for r in rows]


def wallet_unspent(
    conn: sqlite3.Connection, actor_id: str, kind: str = "personal", wallet: int | None = None
) -> list[tuple[str, int, int, str]]:
    """(txid, n, value, address) of the outputs the world leaves unspent on an actor's
    wallets of one kind, or on one wallet whatever its kind."""
    where = "w.kind = ?" if wallet is None else "w.id = ?"
    return conn.execute(
        "SELECT t.txid, o.n, o.value, a.address FROM outputs o"
        " JOIN transactions t ON t.id = o.tx_id JOIN addresses a ON a.id = o.address_id"
        f" JOIN wallets w ON w.id = a.wallet_id WHERE w.actor_id = ? AND {where}"
        " AND NOT EXISTS (SELECT 1 FROM inputs i WHERE i.prev_tx_id = o.tx_id"
        " AND i.prev_n = o.n)",
        (actor_id, kind if wallet is None else wallet),
    ).fetchall()


def ever_paid(conn: sqlite3.Connection, address_id: int) -> bool:
    """Whether the world ever paid the address with this id."""
    row = conn.execute("SELECT 1 FROM outputs WHERE address_id = ? LIMIT 1", (address_id,))
    return row.fetchone() is not None
