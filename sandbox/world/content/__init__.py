"""The sites' content: accounts, PGP keys, listings, photos, feedback, forums, posts and links.

`write_content` runs after the builder has stored actors, sites, wallets and the ledger.
It reads them back, derives every row from the world seed alone and inserts the content
tables in one go. One module per site kind; the shared pieces are `world` (what is read
and the seeded randomness), `accounts` (handles and keys) and the text modules.
"""

from __future__ import annotations

import sqlite3

from sandbox.scenario.model import Scenario
from sandbox.world.content.accounts import Accounts, Rows, write_donation
from sandbox.world.content.directory import write_links
from sandbox.world.content.forum import write_forum
from sandbox.world.content.market import write_market
from sandbox.world.content.social import analytics_targets, write_clearnet
from sandbox.world.content.texts import Texts, fill_texts, write_forum_boards, write_site_texts
from sandbox.world.content.world import load_world

__all__ = ["Texts", "fill_texts", "write_content"]

# Markets first: forums quote vendors' market handles, social sites the operators' sites.
KIND_ORDER = ("market", "shop", "donation", "forum", "social", "paste", "wiki", "search")

COLUMNS = {
    "pgp_keys": "fingerprint, actor_id, user_id, created, public_armored, secret_armored",
    "accounts": "id, site_id, actor_id, handle, role, joined, bio, location, email,"
    " pgp_fingerprint, btc_address_id, sales, rating",
    "listings": "id, site_id, account_id, category, title, description, price_btc, price_xmr,"
    " ships_from, ships_to, stock, created",
    "photos": "id, site_id, listing_id, filename, subject, gps_lat, gps_lon, camera_make,"
    " camera_model, camera_serial, taken",
    "feedback": "id, listing_id, buyer_handle, rating, comment, created",
    "boards": "id, site_id, name, description",
    "threads": "id, board_id, account_id, title, created",
    "posts": "id, site_id, thread_id, account_id, body, created",
    "links": "id, site_id, target_site_id, title, description, category",
}


def write_content(conn: sqlite3.Connection, scenario: Scenario, seed: int) -> Texts:
    """Generate every site's content from the stored world and insert it (the caller commits).

    The scenario's own texts go in as written: `fill_texts` fills their placeholders once
    the rest of the world is in.
    """
    world = load_world(conn, scenario, seed)
    book = Accounts(world)
    rows = Rows()
    texts = Texts(scenario)
    shows_analytics = analytics_targets(world)
    order = {kind: n for n, kind in enumerate(KIND_ORDER)}
    for site in sorted(world.sites, key=lambda s: (order.get(s.kind, len(order)), s.id)):
        if site.config.get("mirror_of"):
            continue  # a mirror serves its site's content
        if site.kind in ("market", "shop"):
            write_market(world, book, rows, site)
        elif site.kind == "donation":
            write_donation(world, book, site)
        elif site.kind == "forum" and scenario.site(site.id).forum_boards:
            write_forum_boards(world, book, rows, texts, site)
        elif site.kind == "forum":
            write_forum(world, book, rows, site)
        elif site.kind in ("social", "paste"):
            write_clearnet(world, book, rows, site, shows_analytics.get(site.id, []))
        elif site.kind in ("wiki", "search"):
            write_links(world, rows, texts, site)
        write_site_texts(world, book, texts, site)
    tables = {
        "pgp_keys": book.key_rows(),
        "accounts": [a.row() for a in book.all],
        "listings": rows.listings,
        "photos": rows.photos,
        "feedback": rows.feedback,
        "boards": rows.boards,
        "threads": rows.threads,
        "posts": rows.posts,
        "links": rows.links,
    }
    for table, values in tables.items():
        if values:
            marks = ", ".join("?" * (COLUMNS[table].count(",") + 1))
            conn.executemany(f"INSERT INTO {table} ({COLUMNS[table]}) VALUES ({marks})", values)
    return texts
