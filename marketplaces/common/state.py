"""What trainees do on the sites: a SQLite file of its own, separate from the read-only world.

Every table carries the site id, so one state file can serve every site of a world. The
file is created on first use, uses WAL so several threads and processes can share it,
and every statement is parameterised.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from sandbox.errors import SandboxError
from sandbox.sqlite_pool import ThreadConnections
from sandbox.wal import connect_wal, immediate

SCHEMA = """
CREATE TABLE IF NOT EXISTS site_secrets (
    site_id TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    sid TEXT PRIMARY KEY,
    site_id TEXT NOT NULL,
    data TEXT NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    site_id TEXT NOT NULL,
    handle TEXT NOT NULL COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    created INTEGER NOT NULL,
    UNIQUE (site_id, handle)
);
CREATE TABLE IF NOT EXISTS captchas (
    id INTEGER PRIMARY KEY,
    site_id TEXT NOT NULL,
    sid TEXT NOT NULL,
    answer TEXT NOT NULL,
    seed TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_captchas_sid ON captchas(site_id, sid);
CREATE TABLE IF NOT EXISTS threads (
    id INTEGER PRIMARY KEY,
    site_id TEXT NOT NULL,
    board_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    title TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS posts (
    id INTEGER PRIMARY KEY,
    site_id TEXT NOT NULL,
    world_thread_id INTEGER,      -- a reply in a thread of the world
    thread_id INTEGER,            -- or a post in a thread a trainee started
    user_id INTEGER NOT NULL,
    body TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_posts_thread ON posts(site_id, world_thread_id, thread_id);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    site_id TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    recipient TEXT NOT NULL,      -- a vendor's handle, or "support"
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY,
    site_id TEXT NOT NULL,
    number INTEGER NOT NULL,      -- per site; also the index the deposit address derives from
    user_id INTEGER,
    sid TEXT,
    listing_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    total_btc REAL NOT NULL,
    total_xmr REAL,
    address TEXT NOT NULL,
    shipping TEXT NOT NULL,
    status TEXT NOT NULL,
    created INTEGER NOT NULL,
    UNIQUE (site_id, number)
);
CREATE TABLE IF NOT EXISTS donor_addresses (
    id INTEGER PRIMARY KEY,
    site_id TEXT NOT NULL,
    sid TEXT NOT NULL,
    number INTEGER NOT NULL,
    address TEXT NOT NULL,
    created INTEGER NOT NULL,
    UNIQUE (site_id, sid),
    UNIQUE (site_id, number)
);
CREATE TABLE IF NOT EXISTS swap_orders (
    id INTEGER PRIMARY KEY,
    site_id TEXT NOT NULL,
    number INTEGER NOT NULL,      -- per site; also the index the deposit address derives from
    order_id TEXT NOT NULL UNIQUE,
    sid TEXT NOT NULL,
    deposit_chain TEXT NOT NULL,  -- btc | tron
    deposit_asset TEXT NOT NULL,  -- BTC | USDT
    deposit_address TEXT NOT NULL,
    payout_chain TEXT NOT NULL,
    payout_asset TEXT NOT NULL,
    payout_address TEXT NOT NULL,
    rate REAL NOT NULL,           -- USDT per BTC when the order was made
    fee REAL NOT NULL,
    created INTEGER NOT NULL,     -- world time
    -- the payout watcher's record (marketplaces/swap/watcher.py): awaiting deposit ->
    -- paying (claimed, before broadcasting: a crash then never pays twice) -> paid, or
    -- deposit too small / payout failed
    status TEXT NOT NULL DEFAULT 'awaiting deposit',
    deposit_txid TEXT,
    deposit_amount INTEGER,       -- satoshis or USDT units (6 decimals)
    payout_txid TEXT,
    payout_amount INTEGER,
    paid INTEGER,                 -- world time of the payout
    UNIQUE (site_id, number)
);
CREATE INDEX IF NOT EXISTS idx_swap_orders_deposit ON swap_orders(site_id, deposit_address);
CREATE INDEX IF NOT EXISTS idx_swap_orders_payout ON swap_orders(site_id, payout_address);
CREATE TABLE IF NOT EXISTS swap_requests ( -- a swap service's law-enforcement log, append-only
    id INTEGER PRIMARY KEY,
    site_id TEXT NOT NULL,
    number INTEGER NOT NULL,      -- per site
    requester_id TEXT NOT NULL,
    received INTEGER NOT NULL,    -- world time
    request TEXT NOT NULL,        -- JSON, as cleaned
    answer TEXT NOT NULL,         -- JSON
    UNIQUE (site_id, number)
);
CREATE TRIGGER IF NOT EXISTS swap_requests_no_update BEFORE UPDATE ON swap_requests
BEGIN SELECT RAISE(ABORT, 'the request log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS swap_requests_no_delete BEFORE DELETE ON swap_requests
BEGIN SELECT RAISE(ABORT, 'the request log is append-only'); END;
CREATE TABLE IF NOT EXISTS site_notices (
    site_id TEXT PRIMARY KEY,     -- a site whose every page shows this notice instead (injects)
    kind TEXT NOT NULL,           -- exit_scam
    text TEXT NOT NULL,
    created INTEGER NOT NULL
);
"""

SESSION_DAYS = 30

# Trainees' site passwords: scrypt at n=2^13, r=8, p=1 (8 MB, about 20 ms a hash here). The
# server pays one hash per registration and login, and a class logs in at once: werkzeug's
# default (n=2^15) cost about 100 ms idle and 330 ms on a busy 2-core laptop. Still a
# memory-hard KDF with a fresh salt, at the cost of the classroom's PINs
# (sandbox/classroom/progress.py). Hashes stored at another cost keep verifying:
# check_password_hash reads n, r and p from the stored hash.
PASSWORD_HASH_METHOD = "scrypt:8192:8:1"

# The swap orders' payout columns, added to a state file that predates them.
_PAYOUT_COLUMNS = (
    ("status", "TEXT NOT NULL DEFAULT 'awaiting deposit'"),
    ("deposit_txid", "TEXT"),
    ("deposit_amount", "INTEGER"),
    ("payout_txid", "TEXT"),
    ("payout_amount", "INTEGER"),
    ("paid", "INTEGER"),
)


class HandleTaken(SandboxError, ValueError):
    """A registration under a handle that is already used."""


class StateStore(ThreadConnections):
    """The trainees' state file: created on first use, one connection per thread."""

    def __init__(self, path: str | Path):
        """Create the file and its tables if needed."""
        super().__init__()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn().executescript(SCHEMA)
        self._add_payout_columns()

    def _add_payout_columns(self) -> None:
        """Give a state file made before the payout watcher its order columns."""
        conn = self.conn()
        have = {r[1] for r in conn.execute("PRAGMA table_info(swap_orders)")}
        for column, kind in _PAYOUT_COLUMNS:
            if column not in have:
                conn.execute(f"ALTER TABLE swap_orders ADD COLUMN {column} {kind}")

    def _connect(self) -> sqlite3.Connection:
        """A connection in autocommit mode on the WAL-journalled state file."""
        conn = connect_wal(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        return conn

    # -- per-site secret ----------------------------------------------------------------

    def _site_row(self, site_id: str) -> sqlite3.Row:
        """The site's secret row, made on first use."""
        conn = self.conn()
        conn.execute(
            "INSERT OR IGNORE INTO site_secrets (site_id, secret, created) VALUES (?, ?, ?)",
            (site_id, secrets.token_hex(32), int(time.time())),
        )
        return conn.execute(
            "SELECT secret, created FROM site_secrets WHERE site_id = ?", (site_id,)
        ).fetchone()

    def site_secret(self, site_id: str) -> str:
        """The site's signing secret, made once and kept so cookies survive restarts."""
        return self._site_row(site_id)["secret"]

    def first_seen(self, site_id: str) -> int:
        """When the site first ran on this state file (its clock starts then)."""
        return int(self._site_row(site_id)["created"])

    # -- sessions -----------------------------------------------------------------------

    def load_session(self, site_id: str, sid: str) -> dict | None:
        """A stored session's data, or None when unknown or expired."""
        row = self.one(
            "SELECT data, updated FROM sessions WHERE sid = ? AND site_id = ?", (sid, site_id)
        )
        if row is None or row["updated"] < time.time() - SESSION_DAYS * 86_400:
            return None
        try:
            data = json.loads(row["data"])
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def save_session(self, site_id: str, sid: str, data: dict) -> None:
        """Store a session's data."""
        now = int(time.time())
        self.conn().execute(
            "INSERT INTO sessions (sid, site_id, data, created, updated) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(sid) DO UPDATE SET data = excluded.data, updated = excluded.updated",
            (sid, site_id, json.dumps(data, sort_keys=True), now, now),
        )

    def delete_session(self, site_id: str, sid: str) -> None:
        """Forget a session."""
        self.conn().execute("DELETE FROM sessions WHERE sid = ? AND site_id = ?", (sid, site_id))

    def purge_sessions(self, site_id: str) -> None:
        """Drop sessions and CAPTCHA challenges older than the session lifetime."""
        cutoff = int(time.time()) - SESSION_DAYS * 86_400
        conn = self.conn()
        conn.execute("DELETE FROM sessions WHERE site_id = ? AND updated < ?", (site_id, cutoff))
        conn.execute("DELETE FROM captchas WHERE site_id = ? AND created < ?", (site_id, cutoff))

    # -- users --------------------------------------------------------------------------

    def create_user(self, site_id: str, handle: str, password: str, now: int) -> int:
        """Register a trainee account; HandleTaken when the handle is in use."""
        try:
            cur = self.conn().execute(
                "INSERT INTO users (site_id, handle, password_hash, created) VALUES (?, ?, ?, ?)",
                (site_id, handle, generate_password_hash(password, PASSWORD_HASH_METHOD), now),
            )
        except sqlite3.IntegrityError as e:
            raise HandleTaken(handle) from e
        return _inserted_id(cur)

    def user(self, site_id: str, user_id: int | None) -> dict | None:
        """A trainee account by id (without its password hash)."""
        if user_id is None:
            return None
        return self.one(
            "SELECT id, site_id, handle, created FROM users WHERE site_id = ? AND id = ?",
            (site_id, user_id),
        )

    def user_by_handle(self, site_id: str, handle: str) -> dict | None:
        """A trainee account by handle (any case), without its password hash."""
        return self.one(
            "SELECT id, site_id, handle, created FROM users WHERE site_id = ? AND handle = ?",
            (site_id, handle),
        )

    def check_login(self, site_id: str, handle: str, password: str) -> dict | None:
        """The account when handle and password match, else None."""
        row = self.one(
            "SELECT id, handle, password_hash FROM users WHERE site_id = ? AND handle = ?",
            (site_id, handle),
        )
        if row is None or not check_password_hash(row["password_hash"], password):
            return None
        return {"id": row["id"], "handle": row["handle"]}

    # -- CAPTCHA ------------------------------------------------------------------------

    def new_captcha(self, site_id: str, sid: str, answer: str, seed: str) -> int:
        """Store a fresh challenge (replacing the session's previous one); returns its id."""
        conn = self.conn()
        conn.execute("DELETE FROM captchas WHERE site_id = ? AND sid = ?", (site_id, sid))
        cur = conn.execute(
            "INSERT INTO captchas (site_id, sid, answer, seed, created) VALUES (?, ?, ?, ?, ?)",
            (site_id, sid, answer, seed, int(time.time())),
        )
        return _inserted_id(cur)

    def captcha(self, site_id: str, sid: str, captcha_id: int) -> dict | None:
        """A session's challenge by id."""
        return self.one(
            "SELECT * FROM captchas WHERE site_id = ? AND sid = ? AND id = ?",
            (site_id, sid, captcha_id),
        )

    def take_captcha(self, site_id: str, sid: str) -> str | None:
        """The answer of a session's current challenge, which is used up by asking."""
        conn = self.conn()
        row = conn.execute(
            "SELECT id, answer FROM captchas WHERE site_id = ? AND sid = ? ORDER BY id DESC",
            (site_id, sid),
        ).fetchone()
        if row is None:
            return None
        conn.execute("DELETE FROM captchas WHERE site_id = ? AND sid = ?", (site_id, sid))
        return row["answer"]

    # -- forum --------------------------------------------------------------------------

    def create_thread(
        self, site_id: str, board_id: int, user_id: int, title: str, body: str, now: int
    ) -> int:
        """A trainee's new thread with its first post; returns the thread id."""
        conn = self.conn()
        with immediate(conn):
            cur = conn.execute(
                "INSERT INTO threads (site_id, board_id, user_id, title, created)"
                " VALUES (?, ?, ?, ?, ?)",
                (site_id, board_id, user_id, title, now),
            )
            thread_id = _inserted_id(cur)
            conn.execute(
                "INSERT INTO posts (site_id, thread_id, user_id, body, created)"
                " VALUES (?, ?, ?, ?, ?)",
                (site_id, thread_id, user_id, body, now),
            )
        return thread_id

    def add_post(
        self,
        site_id: str,
        user_id: int,
        body: str,
        now: int,
        world_thread_id: int | None = None,
        thread_id: int | None = None,
    ) -> int:
        """A trainee's reply in a world thread or in a trainee thread."""
        cur = self.conn().execute(
            "INSERT INTO posts (site_id, world_thread_id, thread_id, user_id, body, created)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (site_id, world_thread_id, thread_id, user_id, body, now),
        )
        return _inserted_id(cur)

    def thread(self, site_id: str, thread_id: int) -> dict | None:
        """A trainee thread with its author's handle."""
        return self.one(
            "SELECT t.*, u.handle AS author FROM threads t JOIN users u ON u.id = t.user_id"
            " WHERE t.site_id = ? AND t.id = ?",
            (site_id, thread_id),
        )

    def threads_of_board(self, site_id: str, board_id: int) -> list[dict]:
        """Trainee threads of a board with author, reply count and last activity."""
        return self.all(
            "SELECT t.*, u.handle AS author,"
            " (SELECT count(*) - 1 FROM posts p WHERE p.thread_id = t.id) AS replies,"
            " (SELECT max(p.created) FROM posts p WHERE p.thread_id = t.id) AS last_post"
            " FROM threads t JOIN users u ON u.id = t.user_id"
            " WHERE t.site_id = ? AND t.board_id = ?",
            (site_id, board_id),
        )

    def posts_of(
        self, site_id: str, world_thread_id: int | None = None, thread_id: int | None = None
    ) -> list[dict]:
        """Trainee posts of a world thread or of a trainee thread, oldest first."""
        column = "world_thread_id" if world_thread_id is not None else "thread_id"
        value = world_thread_id if world_thread_id is not None else thread_id
        return self.all(
            "SELECT p.*, u.handle AS author, u.created AS author_joined FROM posts p"
            f" JOIN users u ON u.id = p.user_id WHERE p.site_id = ? AND p.{column} = ?"
            " ORDER BY p.created, p.id",
            (site_id, value),
        )

    def post_counts(self, site_id: str) -> dict[int, int]:
        """Number of trainee posts per world thread."""
        rows = self.conn().execute(
            "SELECT world_thread_id, count(*) FROM posts WHERE site_id = ?"
            " AND world_thread_id IS NOT NULL GROUP BY world_thread_id",
            (site_id,),
        )
        return {r[0]: r[1] for r in rows}

    def posts_of_user(self, site_id: str, user_id: int) -> list[dict]:
        """A trainee's posts, newest first."""
        return self.all(
            "SELECT * FROM posts WHERE site_id = ? AND user_id = ? ORDER BY created DESC, id DESC",
            (site_id, user_id),
        )

    # -- messages -----------------------------------------------------------------------

    def add_message(
        self, site_id: str, user_id: int, recipient: str, subject: str, body: str, now: int
    ) -> int:
        """Store a trainee's message to a vendor or to support; returns its id."""
        cur = self.conn().execute(
            "INSERT INTO messages (site_id, user_id, recipient, subject, body, created)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (site_id, user_id, recipient, subject, body, now),
        )
        return _inserted_id(cur)

    def messages_of(self, site_id: str, user_id: int) -> list[dict]:
        """A trainee's sent messages, newest first."""
        return self.all(
            "SELECT * FROM messages WHERE site_id = ? AND user_id = ? ORDER BY created DESC, id DESC",
            (site_id, user_id),
        )

    # -- orders and addresses -----------------------------------------------------------

    def create_order(self, site_id: str, address_for, now: int, **values) -> dict:
        """A new order whose number is the next of the site; address_for(number) gives its address."""
        conn = self.conn()
        with immediate(conn):
            number = conn.execute(
                "SELECT coalesce(max(number), 0) + 1 FROM orders WHERE site_id = ?", (site_id,)
            ).fetchone()[0]
            address = address_for(number)
            row = {
                "site_id": site_id,
                "number": number,
                "address": address,
                "status": "awaiting payment",
                "created": now,
                **values,
            }
            columns = ", ".join(row)
            marks = ", ".join("?" * len(row))
            conn.execute(f"INSERT INTO orders ({columns}) VALUES ({marks})", list(row.values()))
        return row

    def order(self, site_id: str, number: int) -> dict | None:
        """One order of a site by number."""
        return self.one("SELECT * FROM orders WHERE site_id = ? AND number = ?", (site_id, number))

    def orders_of(self, site_id: str, user_id: int | None = None, sid: str | None = None):
        """A trainee's orders (by account, else by session), newest first."""
        if user_id is not None:
            return self.all(
                "SELECT * FROM orders WHERE site_id = ? AND user_id = ? ORDER BY number DESC",
                (site_id, user_id),
            )
        return self.all(
            "SELECT * FROM orders WHERE site_id = ? AND sid = ? AND user_id IS NULL"
            " ORDER BY number DESC",
            (site_id, sid),
        )

    def donor_address(self, site_id: str, sid: str, address_for, now: int) -> str:
        """The visitor session's own donation address, made on first request."""
        conn = self.conn()
        row = conn.execute(
            "SELECT address FROM donor_addresses WHERE site_id = ? AND sid = ?", (site_id, sid)
        ).fetchone()
        if row is not None:
            return row[0]
        with immediate(conn):
            row = conn.execute(
                "SELECT address FROM donor_addresses WHERE site_id = ? AND sid = ?",
                (site_id, sid),
            ).fetchone()
            if row is not None:
                return row[0]
            number = conn.execute(
                "SELECT coalesce(max(number), 0) + 1 FROM donor_addresses WHERE site_id = ?",
                (site_id,),
            ).fetchone()[0]
            address = address_for(number)
            conn.execute(
                "INSERT INTO donor_addresses (site_id, sid, number, address, created)"
                " VALUES (?, ?, ?, ?, ?)",
                (site_id, sid, number, address, now),
            )
        return address

    # -- swap services: orders and the law-enforcement log -------------------------------

    def create_swap_order(self, site_id: str, address_for, now: int, **values) -> dict:
        """A new swap order; address_for(number) gives its deposit address on its chain."""
        conn = self.conn()
        with immediate(conn):
            number = conn.execute(
                "SELECT coalesce(max(number), 0) + 1 FROM swap_orders WHERE site_id = ?",
                (site_id,),
            ).fetchone()[0]
            row = {
                "site_id": site_id,
                "number": number,
                "order_id": secrets.token_hex(8),
                "deposit_address": address_for(number),
                "created": now,
                **values,
            }
            columns = ", ".join(row)
            marks = ", ".join("?" * len(row))
            conn.execute(
                f"INSERT INTO swap_orders ({columns}) VALUES ({marks})", list(row.values())
            )
        return row

    def swap_order(self, site_id: str, order_id: str) -> dict | None:
        """One swap order of a site by its order id."""
        return self.one(
            "SELECT * FROM swap_orders WHERE site_id = ? AND order_id = ?", (site_id, order_id)
        )

    def swap_orders_awaiting(self) -> list[dict]:
        """Every site's live orders still awaiting their deposit, oldest first."""
        return self.all(
            "SELECT * FROM swap_orders WHERE status = 'awaiting deposit' ORDER BY id", ()
        )

    def claim_swap_payout(self, order_id: str, deposit_txid: str, deposit_amount: int) -> bool:
        """Mark an awaiting order as being paid; False when another claim came first (so
        a payout is made once, also across restarts)."""
        conn = self.conn()
        with immediate(conn):
            cur = conn.execute(
                "UPDATE swap_orders SET status = 'paying', deposit_txid = ?, deposit_amount = ?"
                " WHERE order_id = ? AND status = 'awaiting deposit'",
                (deposit_txid, deposit_amount, order_id),
            )
        return cur.rowcount == 1

    def settle_swap_order(
        self, order_id: str, status: str, txid: str | None, amount: int | None, now: int
    ) -> None:
        """Record a claimed order's outcome: paid (with the payout) or why not."""
        conn = self.conn()
        with immediate(conn):
            conn.execute(
                "UPDATE swap_orders SET status = ?, payout_txid = ?, payout_amount = ?, paid = ?"
                " WHERE order_id = ? AND status = 'paying'",
                (status, txid, amount, now, order_id),
            )

    def swap_orders_about(self, site_id: str, address: str) -> list[dict]:
        """A site's live orders whose deposit or payout address is address, oldest first."""
        return self.all(
            "SELECT * FROM swap_orders WHERE site_id = ? AND (deposit_address = ?"
            " OR payout_address = ?) ORDER BY number",
            (site_id, address, address),
        )

    def log_swap_request(
        self, site_id: str, requester_id: str, now: int, request: dict, answer_for
    ) -> tuple[int, dict]:
        """Append a law-enforcement request and its answer, answer_for(number), to the
        site's log; (its number, the answer)."""
        conn = self.conn()
        with immediate(conn):
            number = conn.execute(
                "SELECT coalesce(max(number), 0) + 1 FROM swap_requests WHERE site_id = ?",
                (site_id,),
            ).fetchone()[0]
            answer = answer_for(number)
            conn.execute(
                "INSERT INTO swap_requests (site_id, number, requester_id, received, request,"
                " answer) VALUES (?, ?, ?, ?, ?, ?)",
                (site_id, number, requester_id, now, json.dumps(request), json.dumps(answer)),
            )
        return number, answer

    def swap_request(self, site_id: str, number: int, requester_id: str | None) -> dict | None:
        """One logged request (only the requester's own unless requester_id is None)."""
        row = self.one(
            "SELECT * FROM swap_requests WHERE site_id = ? AND number = ?"
            " AND (? IS NULL OR requester_id = ?)",
            (site_id, number, requester_id, requester_id),
        )
        return _swap_request(row) if row else None

    def swap_requests(self, site_id: str, requester_id: str | None) -> list[dict]:
        """The logged requests (the requester's own unless requester_id is None), newest first."""
        rows = self.all(
            "SELECT * FROM swap_requests WHERE site_id = ? AND (? IS NULL OR requester_id = ?)"
            " ORDER BY number DESC",
            (site_id, requester_id, requester_id),
        )
        return [_swap_request(r) for r in rows]

    # -- site notices and actors' accounts (injects) ------------------------------------

    def set_notice(self, site_id: str, kind: str, text: str, now: int) -> None:
        """Make every page of the site show a notice (an exit scam) until cleared."""
        self.conn().execute(
            "INSERT INTO site_notices (site_id, kind, text, created) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(site_id) DO UPDATE SET kind = excluded.kind, text = excluded.text,"
            " created = excluded.created",
            (site_id, kind, text, now),
        )

    def clear_notice(self, site_id: str) -> None:
        """Let the site serve its pages again."""
        self.conn().execute("DELETE FROM site_notices WHERE site_id = ?", (site_id,))

    def notice(self, site_id: str) -> dict | None:
        """The site's notice (site_id, kind, text, created), or None."""
        return self.one("SELECT * FROM site_notices WHERE site_id = ?", (site_id,))

    def actor_user(self, site_id: str, handle: str, joined: int) -> int:
        """The account a world actor posts through (injects): made once, no one can log in."""
        conn = self.conn()
        conn.execute(
            "INSERT OR IGNORE INTO users (site_id, handle, password_hash, created)"
            " VALUES (?, ?, '!', ?)",
            (site_id, handle, joined),
        )
        return conn.execute(
            "SELECT id FROM users WHERE site_id = ? AND handle = ?", (site_id, handle)
        ).fetchone()[0]


def _swap_request(row: dict) -> dict:
    """A logged swap request with its JSON columns read."""
    return {**row, "request": json.loads(row["request"]), "answer": json.loads(row["answer"])}


def _inserted_id(cur: sqlite3.Cursor) -> int:
    """The rowid SQLite gave the row an INSERT just wrote (set by every successful INSERT)."""
    assert cur.lastrowid is not None
    return cur.lastrowid
