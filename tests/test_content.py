"""Site content: deterministic, sized by the knobs, planted leaks where (and only where) asked."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.onion import OnionKey
from sandbox.scenario.model import Actor, Flow, Meta, Scenario, Site, WorldKnobs
from sandbox.world.content import write_content
from sandbox.world.content.market import allocate
from sandbox.world.schema import create_tables

pgpy = pytest.importorskip("pgpy")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
START = 1_772_323_200  # 2026-03-01
DAYS = 30
CONTENT_TABLES = {
    "pgp_keys": "fingerprint",
    "accounts": "id",
    "listings": "id",
    "photos": "id",
    "feedback": "id",
    "boards": "id",
    "threads": "id",
    "posts": "id",
    "links": "id",
}
ANALYTICS_ID = "UA-31415926-1"

SCENARIO = Scenario(
    name="content-test",
    meta=Meta(title="Content test"),
    world=WorldKnobs(seed=7, start=date(2026, 3, 1), days=DAYS, background_users=40),
    actors=(
        Actor("coinvault", "exchange", kind="organisation", domain="coinvault.test"),
        Actor("boss", "admin", username="nightowl", opsec=("email_in_pgp",)),
        Actor("basalt", "admin", opsec=("reuses_pgp_key",)),
        Actor("warden", "admin", username="warden"),
        Actor(
            "kestrel",
            "vendor",
            name="Daniel Kessler",
            username="kestrel",
            opsec=(
                "reuses_username",
                "email_in_pgp",
                "exif_gps",
                "reuses_address",
                "posts_personal_details",
            ),
        ),
        Actor("lunamoth", "vendor", username="lunamoth", opsec=("reuses_pgp_key",)),
        Actor("quiet", "vendor"),
        Actor("ember", "fundraiser", username="ember", opsec=("posts_personal_details",)),
        Actor("buyers", "buyer", count=4),
    ),
    sites=(
        Site(
            "market",
            "market",
            "Night Market",
            operator="boss",
            vendors=3,
            listings=30,
            featured=("kestrel", "lunamoth", "quiet"),
            currencies=("BTC", "XMR"),
        ),
        Site(
            "bazaar",
            "market",
            "Stone Bazaar",
            operator="basalt",
            vendors=2,
            listings=20,
            featured=("kestrel", "lunamoth", "quiet"),
            categories=("Cannabis", "Fraud", "Forged Documents", "Prescription"),
            mistakes=("exif_gps",),
        ),
        Site(
            "shop",
            "shop",
            "Kestrel Shop",
            operator="kestrel",
            listings=6,
            categories=("Cannabis",),
            mistakes=("analytics_id",),
        ),
        Site(
            "forum",
            "forum",
            "The Den",
            operator="warden",
            boards=4,
            threads=12,
            posts=60,
            featured=("kestrel", "ember", "boss"),
        ),
        Site("fund", "donation", "Ember Fund", operator="ember"),
        Site("wiki", "wiki", "Hidden Links"),
        Site("search", "search", "Seek"),
        Site("social", "social", "Chirper", onion=False, domain="chirper.test", posts=40),
        Site("paste", "paste", "Pastey", onion=False, domain="pastey.test", posts=12),
    ),
    flows=(
        Flow("sales", "purchase", "buyers", "kestrel", site="market", count=5),
        Flow("gifts", "donation", "buyers", "ember", site="fund", count=3),
    ),
)

PEOPLE = {  # actor id -> (name, username, email, city, country, locale)
    "boss": ("Anton Reisz", "nightowl", "anton.reisz@mailbox.test", "Leipzig", "Germany", "de_DE"),
    "basalt": ("Lydia Moss", "lmoss41", "lydia.moss7@webpost.test", "Leeds", "United Kingdom",
               "en_GB"),
    "warden": ("Kaylee Gordon", "warden", "k.gordon@inboxly.test", "Tulsa", "United States",
               "en_US"),
    "kestrel": ("Daniel Kessler", "kestrel", "daniel.kessler12@freemail.test", "Zeitz",
                "Germany", "de_DE"),
    "lunamoth": ("Gina Marsh", "lunamoth", "gina.marsh@mailbox.test", "Rotterdam", "Netherlands",
                 "nl_NL"),
    "quiet": ("Carrie Lane", "clane33", "carrie.lane@webpost.test", "Austin", "United States",
              "en_US"),
    "ember": ("Ruth Calder", "ember", "ruth.calder@inboxly.test", "Dundee", "United Kingdom",
              "en_GB"),
}  # fmt: skip
CITIES = (("Lyon", "France", "fr_FR"), ("Milan", "Italy", "it_IT"), ("Krakow", "Poland", "pl_PL"))


def actor_rows() -> list[tuple]:
    """Rows of `actors` as the builder would store them for SCENARIO."""
    rows = []

    def add(aid, grp, role, kind, name, username, email, city, country, locale, opsec, bg=0):
        """One actor row."""
        rows.append(
            (aid, grp, role, kind, name, username, email, None, None, country, country, city,
             None, None, None, locale, json.dumps(list(opsec)), None, None, bg)
        )  # fmt: skip

    add("coinvault", "coinvault", "exchange", "organisation", "CoinVault", "coinvault",
        "compliance@coinvault.test", "Dublin", "Ireland", "en_IE", ())  # fmt: skip
    for actor in SCENARIO.actors:
        if actor.id in PEOPLE:
            add(actor.id, actor.id, actor.role, "person", *PEOPLE[actor.id], actor.opsec)
    for n in range(1, 5):
        city, country, locale = CITIES[n % 3]
        add(f"buyers-{n}", "buyers", "buyer", "person", f"Buyer Number{n}", f"bnumber{n}",
            f"buyer{n}@mailbox.test", city, country, locale, ())  # fmt: skip
    for site in SCENARIO.sites:
        for n in range(1, site.vendors + 1):
            city, country, locale = CITIES[n % 3]
            add(f"{site.id}-vendor-{n}", f"{site.id}-vendors", "vendor", "person",
                f"Vendor {site.id.title()}{n}", f"v{site.id}{n}", f"v{n}@{site.id}.test", city,
                country, locale, ())  # fmt: skip
    for n in range(1, SCENARIO.world.background_users + 1):
        city, country, locale = CITIES[n % 3]
        add(f"bg-{n}", "background", "user", "person", f"Person Surname{n}", f"psurname{n}",
            f"p{n}@webpost.test", city, country, locale, (), bg=1)  # fmt: skip
    return rows


def site_rows(scenario: Scenario) -> list[tuple]:
    """Rows of `sites`: real onion names, .test names for the clearnet ones."""
    rows = []
    for site in scenario.sites:
        if site.onion:
            key = OnionKey.from_seed(hashlib.sha256(f"onion:{site.id}".encode()).digest())
            address = key.address
        else:
            address = site.domain
        config = {
            "vendors": site.vendors,
            "listings": site.listings,
            "featured": list(site.featured),
            "boards": site.boards,
            "threads": site.threads,
            "posts": site.posts,
            "categories": list(site.categories),
            "currencies": list(site.currencies),
            "captcha": site.captcha,
            "ddos_queue": site.ddos_queue,
            "commission": site.commission,
            "fresh_address_per_donor": site.fresh_address_per_donor,
            "mistakes": list(site.mistakes),
        }
        analytics = ANALYTICS_ID if "analytics_id" in site.mistakes else None
        rows.append(
            (site.id, site.name, site.kind, site.operator, address, None, None, "192.0.2.10",
             analytics, json.dumps(config, sort_keys=True))
        )  # fmt: skip
    return rows


def fake_world(path: Path, scenario: Scenario = SCENARIO) -> sqlite3.Connection:
    """A world database holding what the builder stores before the content is written."""
    conn = sqlite3.connect(path)
    create_tables(conn)
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [("start_time", str(START)), ("end_time", str(START + DAYS * 86_400))],
    )
    actors = actor_rows()
    conn.executemany(f"INSERT INTO actors VALUES ({', '.join('?' * 20)})", actors)
    conn.executemany(f"INSERT INTO sites VALUES ({', '.join('?' * 10)})", site_rows(scenario))
    wallets: list[tuple] = []
    addresses: list[tuple] = []

    def wallet(actor_id: str, kind: str, site_id: str | None, purposes: tuple[str, ...]) -> None:
        """A wallet with one address per purpose."""
        wallets.append((len(wallets) + 1, actor_id, kind, site_id, None))
        for purpose in purposes:
            n = len(addresses) + 1
            fake = "bc1q" + hashlib.sha256(f"address-{n}".encode()).hexdigest()[:38]
            addresses.append((n, fake, len(wallets), "p2wpkh", b"\x01" * 32, purpose))

    for row in actors:
        if row[3] == "person":
            vendor = row[2] == "vendor"
            wallet(row[0], "personal", None, ("receive", "published") if vendor else ("receive",))
    for site in scenario.sites:
        if site.kind == "market":
            wallet(site.operator, "escrow", site.id, ("receive",))
        if site.kind == "donation":
            wallet(site.operator, "donation", site.id, ("published",))
    conn.executemany("INSERT INTO wallets VALUES (?, ?, ?, ?, ?)", wallets)
    conn.executemany("INSERT INTO addresses VALUES (?, ?, ?, ?, ?, ?)", addresses)
    conn.commit()
    return conn


def dump(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every content row, table by table, in key order."""
    return {
        table: conn.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()
        for table, key in CONTENT_TABLES.items()
    }


def content_digest(path: str, seed: int) -> str:
    """SHA-256 over all content rows of a fresh fake world (run in a subprocess by a test)."""
    conn = fake_world(Path(path))
    write_content(conn, SCENARIO, seed)
    return hashlib.sha256(repr(dump(conn)).encode()).hexdigest()


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> sqlite3.Connection:
    """The fake world with its content written."""
    conn = fake_world(tmp_path_factory.mktemp("content") / "world.db")
    write_content(conn, SCENARIO, SCENARIO.world.seed)
    conn.commit()
    return conn


def q(conn: sqlite3.Connection, sql: str, *args) -> list[tuple]:
    """Rows of a query."""
    return conn.execute(sql, args).fetchall()


def opsec(conn: sqlite3.Connection) -> dict[str, set[str]]:
    """Each actor's OPSEC traits."""
    return {aid: set(json.loads(o)) for aid, o in q(conn, "SELECT id, opsec FROM actors")}


# --- determinism -------------------------------------------------------------------------


def test_same_seed_same_rows_other_seed_other_rows(world, tmp_path):
    """Two worlds written with one seed are identical, row for row; another seed differs."""
    again = fake_world(tmp_path / "again.db")
    write_content(again, SCENARIO, SCENARIO.world.seed)
    first, second = dump(world), dump(again)
    for table in CONTENT_TABLES:
        assert first[table], f"{table} is empty"
        assert first[table] == second[table], table
    other = fake_world(tmp_path / "other.db")
    write_content(other, SCENARIO, SCENARIO.world.seed + 1)
    third = dump(other)
    for table in ("pgp_keys", "accounts", "listings", "photos", "feedback", "threads", "posts"):
        assert third[table] != first[table], table


def test_rows_do_not_depend_on_hash_randomisation(tmp_path):
    """The content digest is the same under different PYTHONHASHSEEDs (no set-order leaks)."""
    digests = set()
    for hash_seed in ("1", "2"):
        path = tmp_path / f"h{hash_seed}.db"
        code = (
            "import warnings; warnings.simplefilter('ignore');"
            "from tests.test_content import content_digest;"
            f"print(content_digest({str(path)!r}, 7))"
        )
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        digests.add(out.stdout.strip())
    assert len(digests) == 1


# --- knobs --------------------------------------------------------------------------------


def test_listing_counts_follow_the_knobs(world):
    """Each market and shop has exactly its `listings` knob, spread over all its vendors."""
    counts = dict(q(world, "SELECT site_id, count(*) FROM listings GROUP BY site_id"))
    assert counts == {"market": 30, "bazaar": 20, "shop": 6}
    per_vendor = q(
        world,
        "SELECT a.site_id, a.actor_id, count(l.id) FROM accounts a "
        "LEFT JOIN listings l ON l.account_id = a.id WHERE a.role = 'vendor' GROUP BY a.id",
    )
    market = {actor: n for site, actor, n in per_vendor if site == "market"}
    assert set(market) == {
        "kestrel",
        "lunamoth",
        "quiet",
        *(f"market-vendor-{i}" for i in (1, 2, 3)),
    }
    assert min(market.values()) >= 1
    assert max(market.values()) > 30 / 6  # skewed: some vendors are bigger than average


def test_forum_knobs(world):
    """Boards, threads and posts of the forum match its knobs."""
    assert q(world, "SELECT count(*) FROM boards WHERE site_id = 'forum'") == [(4,)]
    assert q(
        world,
        "SELECT count(*) FROM threads t JOIN boards b ON b.id = t.board_id WHERE b.site_id = 'forum'",
    ) == [(12,)]
    assert q(world, "SELECT count(*) FROM posts WHERE site_id = 'forum'") == [(60,)]
    names = [n for (n,) in q(world, "SELECT name FROM boards ORDER BY id")]
    assert names == ["Announcements", "Drugs", "Security & OPSEC", "Vendors"]
    admin = q(world, "SELECT id FROM accounts WHERE site_id = 'forum' AND role = 'admin'")[0][0]
    announce = q(
        world,
        "SELECT count(*) FROM threads t JOIN boards b ON b.id = t.board_id "
        "WHERE b.name = 'Announcements' AND t.account_id = ?",
        admin,
    )
    assert announce[0][0] >= 1


def test_clearnet_post_counts(world):
    """Social and paste sites have their `posts` knob, all outside threads."""
    counts = dict(
        q(world, "SELECT site_id, count(*) FROM posts WHERE thread_id IS NULL GROUP BY 1")
    )
    assert counts == {"social": 40, "paste": 12}


def test_every_site_has_its_accounts(world):
    """Admins on markets and the forum, vendors with keys, the fundraiser, shop owner."""
    roles = q(world, "SELECT site_id, actor_id, role FROM accounts")
    assert ("market", "boss", "admin") in roles
    assert ("bazaar", "basalt", "admin") in roles
    assert ("forum", "warden", "admin") in roles
    assert ("shop", "kestrel", "vendor") in roles
    assert ("fund", "ember", "operator") in roles
    assert ("market", "buyers-1", "buyer") in roles
    assert {r[0] for r in roles} >= {"market", "bazaar", "shop", "forum", "fund", "social", "paste"}
    keyless = q(
        world,
        "SELECT site_id, handle FROM accounts WHERE role IN ('vendor', 'admin', 'operator') "
        "AND site_id IN ('market', 'bazaar', 'shop', 'fund', 'forum') AND pgp_fingerprint IS NULL",
    )
    assert keyless == []


# --- planted leaks --------------------------------------------------------------------------


def test_email_in_pgp_user_id_only_where_planted(world):
    """Real emails appear in PGP user ids exactly for email_in_pgp actors."""
    traits = opsec(world)
    emails = dict(q(world, "SELECT id, email FROM actors"))
    seen_planted = set()
    for actor_id, user_id in q(world, "SELECT actor_id, user_id FROM pgp_keys"):
        if "email_in_pgp" in traits[actor_id]:
            assert user_id.endswith(f"<{emails[actor_id]}>")
            seen_planted.add(actor_id)
        else:
            assert emails[actor_id] not in user_id
            assert "@" not in user_id or user_id.endswith(".onion>")
    assert seen_planted == {"boss", "kestrel"}


def test_same_handle_across_sites_only_for_reusers(world):
    """reuses_username: the real user name on every site; everyone else a new handle per site."""
    traits = opsec(world)
    usernames = dict(q(world, "SELECT id, username FROM actors"))
    handles = defaultdict(list)
    for actor_id, site_id, handle in q(world, "SELECT actor_id, site_id, handle FROM accounts"):
        handles[actor_id].append((site_id, handle))
    assert {s for s, _ in handles["kestrel"]} >= {"market", "bazaar", "shop", "forum", "social"}
    for actor_id, accounts in handles.items():
        names = [h.lower() for _, h in accounts]
        if "reuses_username" in traits[actor_id]:
            assert set(names) == {usernames[actor_id].lower()}
        else:
            assert len(set(names)) == len(names), (actor_id, accounts)
    for site_id, handle, n in q(
        world,
        "SELECT site_id, lower(handle), count(*) FROM accounts GROUP BY 1, 2 HAVING count(*) > 1",
    ):
        pytest.fail(f"handle {handle} used {n} times on {site_id}")


def test_social_profile_of_reuser_shows_name_and_city(world):
    """The reused handle on the social site leads to the real name and city."""
    bio, location = q(
        world, "SELECT bio, location FROM accounts WHERE site_id = 'social' AND handle = 'kestrel'"
    )[0]
    assert "Daniel Kessler" in bio and "Zeitz" in bio and location == "Zeitz"


def test_personal_details_leak_on_forum_and_social(world):
    """posts_personal_details actors mention their city on the forum and the social site."""
    for actor_id, city in (("kestrel", "Zeitz"), ("ember", "Dundee")):
        for site_id in ("forum", "social"):
            bodies = [
                b
                for (b,) in q(
                    world,
                    "SELECT p.body FROM posts p JOIN accounts a ON a.id = p.account_id "
                    "WHERE a.actor_id = ? AND p.site_id = ?",
                    actor_id,
                    site_id,
                )
            ]
            assert any(city in b for b in bodies), (actor_id, site_id)
    careful = q(
        world,
        "SELECT p.body FROM posts p JOIN accounts a ON a.id = p.account_id "
        "WHERE a.actor_id = 'quiet'",
    )
    assert not any("Austin" in b for (b,) in careful)


def test_exif_only_where_planted_and_one_serial_per_actor(world):
    """EXIF survives for exif_gps vendors and on exif_gps sites; one camera serial per actor."""
    traits = opsec(world)
    serials = defaultdict(set)
    with_exif = 0
    rows = q(
        world,
        "SELECT p.site_id, a.actor_id, p.filename, p.gps_lat, p.gps_lon, p.camera_make, "
        "p.camera_serial, p.taken FROM photos p JOIN listings l ON l.id = p.listing_id "
        "JOIN accounts a ON a.id = l.account_id",
    )
    assert len(rows) == len(q(world, "SELECT id FROM photos"))
    for site_id, actor_id, filename, lat, lon, make, serial, taken in rows:
        planted = site_id == "bazaar" or "exif_gps" in traits[actor_id]
        if planted:
            assert None not in (lat, lon, make, serial, taken)
            assert re.fullmatch(r"(IMG|DSC|PXL|\d{8})[_\w]*\.(JPG|jpg)", filename), filename
            serials[actor_id].add(serial)
            with_exif += 1
        else:
            assert (lat, lon, make, serial, taken) == (None,) * 5
    assert with_exif > 0 and "kestrel" in serials and "bazaar-vendor-1" in serials
    assert all(len(s) == 1 for s in serials.values())
    assert len({next(iter(s)) for s in serials.values()}) == len(serials)
    lat, lon = q(
        world,
        "SELECT avg(gps_lat), avg(gps_lon) FROM photos p JOIN listings l ON l.id = p.listing_id "
        "JOIN accounts a ON a.id = l.account_id WHERE a.actor_id = 'kestrel'",
    )[0]
    assert abs(lat - 51.05) < 0.1 and abs(lon - 12.14) < 0.1  # Zeitz, Germany


def test_analytics_id_shown_in_a_clearnet_post(world):
    """The shop operator posts his blog's HTML with the shop's analytics id on a clearnet site."""
    posts = q(
        world,
        "SELECT p.site_id, a.actor_id, p.body FROM posts p JOIN accounts a ON a.id = p.account_id "
        "WHERE p.body LIKE ?",
        f"%{ANALYTICS_ID}%",
    )
    assert posts
    site_id, actor_id, body = posts[0]
    assert site_id in ("social", "paste") and actor_id == "kestrel"
    assert f"ga('create', '{ANALYTICS_ID}'" in body and "Daniel Kessler" in body


def test_reused_address_is_the_published_one(world):
    """reuses_address vendors show their published address everywhere; the fund its own."""
    published = dict(
        q(
            world,
            "SELECT w.actor_id || '/' || w.kind || '/' || coalesce(w.site_id, ''), a.id "
            "FROM addresses a JOIN wallets w ON w.id = a.wallet_id WHERE a.purpose = 'published'",
        )
    )
    vendors = q(world, "SELECT actor_id, btc_address_id FROM accounts WHERE role = 'vendor'")
    kestrel = {addr for actor, addr in vendors if actor == "kestrel"}
    assert kestrel == {published["kestrel/personal/"]}
    assert all(addr is None for actor, addr in vendors if actor != "kestrel")
    fund = q(world, "SELECT btc_address_id FROM accounts WHERE site_id = 'fund'")[0][0]
    assert fund == published["ember/donation/fund"]


def test_pgp_key_reuse_only_where_planted(world):
    """reuses_pgp_key: one fingerprint on every site; others a key per site."""
    keys = defaultdict(set)
    for actor_id, fpr in q(
        world, "SELECT actor_id, pgp_fingerprint FROM accounts WHERE pgp_fingerprint IS NOT NULL"
    ):
        keys[actor_id].add(fpr)
    assert len(keys["lunamoth"]) == 1
    assert len(keys["kestrel"]) == 3  # market, bazaar, shop
    assert len(keys["quiet"]) == 2
    owners = dict(q(world, "SELECT fingerprint, actor_id FROM pgp_keys"))
    for actor_id, fprs in keys.items():
        assert all(owners[f] == actor_id for f in fprs)


# --- integrity ------------------------------------------------------------------------------


def test_every_key_parses_with_pgpy(world):
    """Each stored key is a valid OpenPGP key with the stored fingerprint, user id and time."""
    rows = q(
        world, "SELECT fingerprint, user_id, created, public_armored, secret_armored FROM pgp_keys"
    )
    start, end = START - 366 * 86_400, START + 5 * 86_400
    for fpr, user_id, created, public, secret in rows:
        for armored in (public, secret):
            key, _ = pgpy.PGPKey.from_blob(armored)
            assert key.fingerprint.replace(" ", "") == fpr
            assert key.userids[0].userid == user_id
            assert int(key.created.timestamp()) == created
        assert start <= created <= end


def test_references_are_consistent(world):
    """Listings, photos, feedback, threads and posts point at rows that exist, on the same site."""
    assert (
        q(
            world,
            "SELECT l.id FROM listings l LEFT JOIN accounts a ON a.id = l.account_id "
            "WHERE a.id IS NULL OR a.site_id != l.site_id OR a.role NOT IN ('vendor', 'admin')",
        )
        == []
    )
    assert (
        q(
            world,
            "SELECT p.id FROM photos p LEFT JOIN listings l ON l.id = p.listing_id "
            "WHERE l.id IS NULL OR l.site_id != p.site_id",
        )
        == []
    )
    assert (
        q(
            world,
            "SELECT f.id FROM feedback f LEFT JOIN listings l ON l.id = f.listing_id "
            "WHERE l.id IS NULL OR f.created < l.created OR f.rating NOT BETWEEN 1 AND 5",
        )
        == []
    )
    assert (
        q(
            world,
            "SELECT p.id FROM posts p LEFT JOIN accounts a ON a.id = p.account_id "
            "WHERE a.id IS NULL OR a.site_id != p.site_id",
        )
        == []
    )
    assert (
        q(
            world,
            "SELECT p.id FROM posts p JOIN threads t ON t.id = p.thread_id "
            "JOIN boards b ON b.id = t.board_id WHERE b.site_id != p.site_id OR p.created < t.created",
        )
        == []
    )
    end = START + DAYS * 86_400
    for table in ("listings", "feedback", "threads", "posts"):
        assert q(world, f"SELECT count(*) FROM {table} WHERE created NOT BETWEEN ? AND ?",
                 START, end) == [(0,)], table  # fmt: skip


def test_no_empty_texts(world):
    """Handles, bios, titles, descriptions and post bodies are never blank."""
    for table, columns in {
        "accounts": ("handle", "bio"),
        "listings": ("title", "description", "category"),
        "posts": ("body",),
        "threads": ("title",),
        "feedback": ("comment", "buyer_handle"),
        "links": ("title", "description", "category"),
    }.items():
        for column in columns:
            blank = q(world, f"SELECT count(*) FROM {table} WHERE trim({column}) = ''")
            assert blank == [(0,)], f"{table}.{column}"


def test_listing_prices_and_currencies(world):
    """Prices are in range; XMR prices exactly where the site takes XMR, at one fixed rate."""
    for site_id, btc, xmr, stock in q(
        world, "SELECT site_id, price_btc, price_xmr, stock FROM listings"
    ):
        assert 0.0005 <= btc <= 0.2
        assert stock >= 1
        if site_id == "market":
            assert xmr == pytest.approx(btc / 0.004, rel=1e-3)
        else:
            assert xmr is None
    sample = q(world, "SELECT title, description FROM listings WHERE ships_from = 'Germany'")
    assert sample and "Germany" in sample[0][1]


def test_directories_list_every_hidden_service(world):
    """The wiki links every other hidden service; the search engine indexes all of them."""
    hidden = {s for (s,) in q(world, "SELECT id FROM sites WHERE address LIKE '%.onion'")}
    wiki = {t for (t,) in q(world, "SELECT target_site_id FROM links WHERE site_id = 'wiki'")}
    search = {t for (t,) in q(world, "SELECT target_site_id FROM links WHERE site_id = 'search'")}
    assert wiki == hidden - {"wiki"}
    assert search == hidden
    assert "social" not in wiki | search


@given(total=st.integers(0, 500), weights=st.lists(st.floats(0.01, 100), max_size=40))
def test_allocate_splits_exactly(total, weights):
    """Listing shares add up to the knob, one at least each when there are enough."""
    counts = allocate(total, weights)
    assert len(counts) == len(weights)
    if weights:
        assert sum(counts) == total
        assert min(counts) >= (1 if total >= len(weights) else 0)


def test_sparse_world_does_not_fail(tmp_path):
    """No operators, no background users, no featured actors: content is still written."""
    bare = Scenario(
        name="bare",
        meta=Meta(title="Bare"),
        world=WorldKnobs(seed=2, start=date(2026, 3, 1), days=DAYS, background_users=0),
        actors=(Actor("quiet", "vendor"),),
        sites=(
            Site("m", "market", "Lonely Market", vendors=1),
            Site("f", "forum", "Empty Forum"),
            Site("s", "social", "Quiet Social", onion=False, domain="quiet.test"),
            Site("w", "wiki", "Links"),
        ),
    )
    conn = sqlite3.connect(tmp_path / "bare.db")
    create_tables(conn)
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [("start_time", str(START)), ("end_time", str(START + DAYS * 86_400))],
    )
    rows = [r for r in actor_rows() if r[0] in ("quiet",)]
    rows.append(("m-vendor-1", "m-vendors", "vendor", "person", "Vera Lone", "vlone1", None,
                 None, None, "Spain", "Spain", "Valencia", None, None, None, "es_ES", "[]",
                 None, None, 0))  # fmt: skip
    conn.executemany(f"INSERT INTO actors VALUES ({', '.join('?' * 20)})", rows)
    conn.executemany(f"INSERT INTO sites VALUES ({', '.join('?' * 10)})", site_rows(bare))
    write_content(conn, bare, 2)
    assert q(conn, "SELECT count(*) FROM listings") == [(8,)]  # default: 8 per vendor
    assert q(conn, "SELECT count(*) FROM boards") == [(6,)]
    assert q(conn, "SELECT count(*) FROM links") == [(2,)]
    assert q(conn, "SELECT count(*) FROM pgp_keys") == [(1,)]
