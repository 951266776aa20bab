"""The hidden services (marketplaces/): every site kind through Flask's test client.

The tiny world (conftest) covers the defaults: CAPTCHA on, `server_status` on the market,
`analytics_id` on the shop, EXIF kept by one careless vendor. A second small world built
here turns the other knobs: CAPTCHA off, the DDoS queue, `open_directory` and `exif_gps`
on a market, a fresh donation address per donor, a paste site and a bigger forum.
"""

from __future__ import annotations

import io
import re
import sqlite3
import time
import warnings
from collections import deque
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup
from PIL import Image
from werkzeug.security import generate_password_hash

from marketplaces import KINDS, create_site_app
from marketplaces.common.addresses import fresh_address
from marketplaces.common.state import PASSWORD_HASH_METHOD
from marketplaces.common.world import World
from sandbox.ledger.address import decode_address
from sandbox.pgp import verify_clearsigned
from sandbox.scenario import load_scenario
from sandbox.world.build import build_world

VARIANT = """\
meta:
  title: Marketplace variant world
  summary: The knobs the tiny world leaves at their defaults.
  locale: en_GB
world:
  seed: 11
  start: 2026-03-01
  days: 3
  background_users: 40
  transactions: 1500
actors:
  - {id: coinvault, kind: organisation, role: exchange}
  - {id: admin, role: admin, exchange: coinvault}
  - {id: kestrel, role: vendor, username: kestrel, exchange: coinvault, balance: 0.1}
  - {id: fundraiser, role: fundraiser, exchange: coinvault, balance: 0.01}
  - {id: donors, role: donor, count: 6, balance: 0.2}
  - {id: buyers, role: buyer, count: 5, balance: 0.5}
sites:
  - id: bazaar
    kind: market
    name: Queue Bazaar
    operator: admin
    vendors: 3
    listings: 24
    featured: [kestrel]
    captcha: false
    ddos_queue: true
    mistakes: [open_directory, exif_gps]
  - {id: fund, kind: donation, name: Fresh Fund, operator: fundraiser, fresh_address_per_donor: true}
  - {id: agora, kind: forum, name: Agora, operator: admin, boards: 1, threads: 30, posts: 140}
  - {id: pastebin, kind: paste, name: Pastey, onion: false, domain: pastey.test, posts: 30}
flows:
  - {id: donations, kind: donation, from: donors, to: fundraiser, site: fund, count: 6, amount: {min: 0.01, max: 0.02}}
  - {id: sales, kind: purchase, from: buyers, to: kestrel, site: bazaar, count: 4, amount: {min: 0.01, max: 0.02}}
"""


# -- fixtures and helpers -----------------------------------------------------------------


@pytest.fixture(scope="module")
def variant_world(tmp_path_factory) -> Path:
    """A second small world with every knob the tiny one leaves at its default."""
    folder = tmp_path_factory.mktemp("variant")
    scenario = folder / "variant.yaml"
    scenario.write_text(VARIANT)
    out = folder / "variant.db"
    build_world(load_scenario(str(scenario)), out)
    return out


@pytest.fixture(scope="module")
def tiny(tiny_world) -> World:
    """The tiny world opened for the services."""
    world = World(tiny_world)
    yield world
    world.close()


@pytest.fixture(scope="module")
def variant(variant_world) -> World:
    """The variant world opened for the services."""
    world = World(variant_world)
    yield world
    world.close()


def db(world: World) -> sqlite3.Connection:
    """A plain read-only connection to a world for the tests' own expectations."""
    conn = sqlite3.connect(f"file:{world.path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def app_for(world: World, site_id: str, state: Path, queue_seconds: int | None = None):
    """A site's app on a state file, in testing mode."""
    app = create_site_app(world, site_id, state)
    app.config["TESTING"] = True
    if queue_seconds is not None:
        app.config["DDOS_QUEUE_SECONDS"] = queue_seconds
    return app


def client_for(world: World, site_id: str, state: Path, queue_seconds: int | None = 0):
    """A test client of a site (the DDoS queue lets everyone in at once unless told)."""
    return app_for(world, site_id, state, queue_seconds).test_client()


def soup(response) -> BeautifulSoup:
    """A response body parsed as HTML."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text(response) -> str:
    """The visible text of an HTML response, whitespace collapsed."""
    return " ".join(soup(response).get_text(" ").split())


def csrf(response) -> str:
    """The CSRF token of the first form of a page."""
    field = soup(response).find("input", attrs={"name": "csrf_token"})
    assert field is not None, "form without a CSRF token"
    return field["value"]


def captcha_answer(client, state: Path, site_id: str) -> str:
    """The answer of the client's current CAPTCHA, read from the state file."""
    sid = client.get_cookie("session").value
    conn = sqlite3.connect(state)
    try:
        row = conn.execute(
            "SELECT answer FROM captchas WHERE site_id = ? AND sid = ? ORDER BY id DESC",
            (site_id, sid),
        ).fetchone()
    finally:
        conn.close()
    assert row is not None, "no CAPTCHA stored for this session"
    return row[0]


def register(client, state: Path, site_id: str, handle: str, password: str = "correct horse"):
    """Register (answering the CAPTCHA when there is one) and return the response."""
    page = client.get("/register")
    assert page.status_code == 200
    form = {"csrf_token": csrf(page), "handle": handle, "password": password, "confirm": password}
    if soup(page).find("input", attrs={"name": "captcha"}):
        form["captcha"] = captcha_answer(client, state, site_id)
    return client.post("/register", data=form)


def login(client, state: Path, site_id: str, handle: str, password: str = "correct horse"):
    """Log in (answering the CAPTCHA when there is one) and return the response."""
    page = client.get("/login")
    form = {"csrf_token": csrf(page), "handle": handle, "password": password}
    if soup(page).find("input", attrs={"name": "captcha"}):
        form["captcha"] = captcha_answer(client, state, site_id)
    return client.post("/login", data=form)


def sites_of(world: World) -> dict[str, str]:
    """Site id -> kind, of the sites marketplaces serves (not the explorer or exchanges)."""
    return {site.id: site.kind for site in world.sites.all() if site.kind in KINDS}


# -- every kind renders its world content --------------------------------------------------


def test_market_pages_show_listings_and_vendors(tiny, tmp_path):
    """Home, categories, listing and vendor pages render the world's market content."""
    c = client_for(tiny, "market", tmp_path / "state.db")
    conn = db(tiny)
    home = c.get("/")
    assert home.status_code == 200
    listing = conn.execute(
        "SELECT l.*, a.handle FROM listings l JOIN accounts a ON a.id = l.account_id"
        " WHERE l.site_id = 'market' ORDER BY l.created DESC LIMIT 1"
    ).fetchone()
    assert listing["title"] in text(home)
    counts = conn.execute(
        "SELECT category, count(*) FROM listings WHERE site_id = 'market' GROUP BY category"
    ).fetchall()
    top = {}
    for category, n in counts:
        top[category.split(">")[0].strip()] = top.get(category.split(">")[0].strip(), 0) + n
    menu = soup(home).select("ul.cats li a")
    shown = {a.find("span").get_text(): int(a.find(class_="count").get_text()) for a in menu}
    for name, n in top.items():
        assert shown[name] == n

    page = c.get(f"/listing/{listing['id']}")
    assert page.status_code == 200
    body = text(page)
    assert listing["title"] in body and listing["handle"] in body
    assert f"{listing['price_xmr']:.4f} XMR" in body  # the market takes XMR too
    assert str(listing["stock"]) in body
    photos = conn.execute("SELECT * FROM photos WHERE listing_id = ?", (listing["id"],))
    for photo in photos:
        assert f"/photos/{photo['id']}/{photo['filename']}" in page.get_data(as_text=True)
    for row in conn.execute("SELECT comment FROM feedback WHERE listing_id = ?", (listing["id"],)):
        assert row["comment"] in body

    vendor = conn.execute(
        "SELECT * FROM accounts WHERE site_id = 'market' AND handle = 'kestrel'"
    ).fetchone()
    profile = c.get("/vendor/kestrel")
    assert profile.status_code == 200
    body = text(profile)
    assert vendor["bio"][:60] in body and vendor["location"] in body
    assert f"{vendor['sales']}" in body
    published = conn.execute(
        "SELECT address FROM addresses WHERE id = ?", (vendor["btc_address_id"],)
    ).fetchone()["address"]
    assert published in body  # the planted reused address
    careful = conn.execute(
        "SELECT handle FROM accounts WHERE site_id = 'market' AND role = 'vendor'"
        " AND btc_address_id IS NULL"
    ).fetchone()["handle"]
    assert "Direct payments" not in text(c.get(f"/vendor/{careful}"))


def test_market_rate_comes_from_the_world(tiny, tmp_path):
    """The sidebar's BTC/XMR rate is the world's (meta `btc_per_xmr`), the rate of its XMR prices."""
    conn = db(tiny)
    rate = float(conn.execute("SELECT value FROM meta WHERE key = 'btc_per_xmr'").fetchone()[0])
    listing = conn.execute(
        "SELECT price_btc, price_xmr FROM listings WHERE site_id = 'market' AND price_xmr > 0"
        " ORDER BY price_xmr DESC LIMIT 1"
    ).fetchone()
    assert listing["price_xmr"] == pytest.approx(listing["price_btc"] / rate, abs=1e-4)
    home = client_for(tiny, "market", tmp_path / "state.db").get("/")
    assert f"1 BTC = {round(1 / rate)} XMR" in text(home)


def test_market_paging_and_search(tiny, tmp_path):
    """Category pages hold 20 listings each; search finds a listing by a word of its title."""
    c = client_for(tiny, "market", tmp_path / "state.db")
    conn = db(tiny)
    tops: dict[str, int] = {}
    for category, n in conn.execute(
        "SELECT category, count(*) FROM listings WHERE site_id = 'market' GROUP BY category"
    ):
        top = category.split(">")[0].strip()
        tops[top] = tops.get(top, 0) + n
    top, total = max(tops.items(), key=lambda kv: kv[1])
    slug = re.sub(r"[^a-z0-9]+", "-", top.lower()).strip("-")
    pages = -(-total // 20)
    rows = [
        soup(c.get(f"/category/{slug}?page={n}")).select("table.listings tr")[1:]
        for n in range(1, pages + 1)
    ]
    assert [len(r) for r in rows] == [20] * (pages - 1) + [total - 20 * (pages - 1)]
    links = [r.a["href"] for page in rows for r in page if r.a]
    assert len(set(links)) == total
    assert c.get(f"/category/{slug}?page={pages + 1}").status_code == 404
    assert c.get(f"/category/{slug}?page=abc").status_code == 400
    assert c.get("/category/no-such-category").status_code == 404
    # Search results are paged the same way: nearly every listing mentions an "e".
    hits = conn.execute(
        "SELECT count(*) FROM listings WHERE site_id = 'market'"
        " AND (title LIKE '%e%' OR description LIKE '%e%')"
    ).fetchone()[0]
    assert hits > 20
    first = soup(c.get("/search?q=e")).select("table.listings tr")[1:]
    second = soup(c.get("/search?q=e&page=2")).select("table.listings tr")[1:]
    assert len(first) == 20 and len(second) == min(20, hits - 20)
    assert f"{hits} results" in text(c.get("/search?q=e"))

    title = conn.execute("SELECT id, title FROM listings WHERE site_id = 'market'").fetchone()
    word = max(re.findall(r"[A-Za-z]{4,}", title["title"]), key=len)
    found = c.get("/search", query_string={"q": word})
    assert found.status_code == 200
    assert f"/listing/{title['id']}" in found.get_data(as_text=True)
    assert "0 results" in text(c.get("/search?q=zzzyyyxxx"))


def test_shop_pages(tiny, tmp_path):
    """The shop shows its vendor's listings, PGP key and about page."""
    c = client_for(tiny, "shop", tmp_path / "state.db")
    conn = db(tiny)
    titles = [r[0] for r in conn.execute("SELECT title FROM listings WHERE site_id = 'shop'")]
    home = text(c.get("/"))
    for title in titles:
        assert title in home
    about = c.get("/about")
    assert about.status_code == 200
    assert "BEGIN PGP PUBLIC KEY BLOCK" in about.get_data(as_text=True)
    listing_id = conn.execute("SELECT id FROM listings WHERE site_id = 'shop'").fetchone()[0]
    assert c.get(f"/listing/{listing_id}").status_code == 200
    market_listing = conn.execute("SELECT id FROM listings WHERE site_id = 'market'").fetchone()[0]
    assert c.get(f"/listing/{market_listing}").status_code == 404  # other sites' listings


def test_forum_pages_and_paging(tiny, variant, tmp_path):
    """Boards, threads, posts and profiles render; long boards are paged."""
    c = client_for(tiny, "forum", tmp_path / "state.db")
    conn = db(tiny)
    index = text(c.get("/"))
    for (name,) in conn.execute("SELECT name FROM boards WHERE site_id = 'forum'"):
        assert name in index
    thread = conn.execute("SELECT * FROM threads ORDER BY id").fetchone()
    page = c.get(f"/thread/{thread['id']}")
    body = text(page)
    assert thread["title"] in body
    posts = conn.execute(
        "SELECT p.body, a.handle FROM posts p JOIN accounts a ON a.id = p.account_id"
        " WHERE p.thread_id = ?",
        (thread["id"],),
    ).fetchall()
    for post in posts:
        assert post["handle"] in body
        assert " ".join(post["body"].split("http")[0].split())[:40] in body
    board = text(c.get(f"/board/{thread['board_id']}"))
    assert thread["title"] in board

    author = conn.execute(
        "SELECT a.*, (SELECT count(*) FROM posts p WHERE p.account_id = a.id) AS n"
        " FROM accounts a WHERE a.site_id = 'forum' AND a.pgp_fingerprint IS NOT NULL"
    ).fetchone()
    profile = c.get(f"/user/{author['handle']}")
    assert profile.status_code == 200
    assert f"Posts {author['n']}" in text(profile)
    assert "BEGIN PGP PUBLIC KEY BLOCK" in profile.get_data(as_text=True)
    assert c.get("/user/nobody-here").status_code == 404

    # The variant forum has one board of 30 threads: two pages of 25.
    v = client_for(variant, "agora", tmp_path / "state2.db")
    board_id = db(variant).execute("SELECT id FROM boards WHERE site_id = 'agora'").fetchone()[0]
    rows1 = soup(v.get(f"/board/{board_id}")).select("table.grid tr")[1:]
    rows2 = soup(v.get(f"/board/{board_id}?page=2")).select("table.grid tr")[1:]
    assert (len(rows1), len(rows2)) == (25, 5)
    assert v.get(f"/board/{board_id}?page=3").status_code == 404
    longest = (
        db(variant)
        .execute(
            "SELECT thread_id, count(*) AS n FROM posts WHERE site_id = 'agora'"
            " GROUP BY thread_id ORDER BY n DESC"
        )
        .fetchone()
    )
    pages = -(-longest["n"] // 20)
    last = v.get(f"/thread/{longest['thread_id']}?page={pages}")
    assert last.status_code == 200
    assert len(soup(last).select("div.post")) == longest["n"] - 20 * (pages - 1)


def test_donation_page_shows_published_address(tiny, tmp_path):
    """The campaign shows the published donation address, progress, the key and an FAQ."""
    c = client_for(tiny, "campaign", tmp_path / "state.db")
    conn = db(tiny)
    address = conn.execute(
        "SELECT a.address FROM addresses a JOIN wallets w ON w.id = a.wallet_id"
        " WHERE w.site_id = 'campaign' AND w.kind = 'donation' AND a.purpose = 'published'"
    ).fetchone()[0]
    page = c.get("/")
    assert page.status_code == 200
    assert address in text(page)
    assert "raised" in text(page) and "BEGIN PGP PUBLIC KEY BLOCK" in page.get_data(as_text=True)
    assert text(c.get("/")).count(address) == 1
    assert c.get("/faq").status_code == 200


def test_donation_fresh_address_per_visitor(variant, tmp_path):
    """With fresh_address_per_donor each visitor session gets its own valid address."""
    state = tmp_path / "state.db"
    first, second = client_for(variant, "fund", state), client_for(variant, "fund", state)

    def shown(client) -> str:
        """The address on the campaign page."""
        return soup(client.get("/")).find(class_="address").get_text().strip()

    a, b = shown(first), shown(second)
    assert a != b
    assert shown(first) == a  # the same visitor keeps theirs
    for address in (a, b):
        assert decode_address(address)[0] == "p2wpkh"


def test_wiki_links_every_hidden_service(tiny, tmp_path):
    """The wiki links every other hidden service by its onion address."""
    c = client_for(tiny, "wiki", tmp_path / "state.db")
    page = soup(c.get("/"))
    hrefs = {a["href"] for a in page.find_all("a", href=True)}
    for site in tiny.sites.all():
        if site.hidden and site.id != "wiki":
            assert f"http://{site.address}/" in hrefs
    assert "How to stay safe" in page.get_text()


def test_search_engine_finds_listings_threads_vendors(tiny, tmp_path):
    """Ahmia-like search over the world's own sites links to onion URLs."""
    c = client_for(tiny, "search", tmp_path / "state.db")
    conn = db(tiny)
    market = tiny.sites.get("market").address
    listing = conn.execute("SELECT id, title FROM listings WHERE site_id = 'market'").fetchone()
    hits = c.get("/search", query_string={"q": listing["title"]})
    assert hits.status_code == 200
    assert f"http://{market}/listing/{listing['id']}" in hits.get_data(as_text=True)
    assert f"http://{market}/vendor/kestrel" in c.get("/search?q=kestrel").get_data(as_text=True)
    forum = tiny.sites.get("forum").address
    thread = conn.execute("SELECT id, title FROM threads").fetchone()
    assert f"http://{forum}/thread/{thread['id']}" in c.get(
        "/search", query_string={"q": thread["title"]}
    ).get_data(as_text=True)
    for odd in ('"', "AND OR NOT", "a*", "NEAR(", "-", "\u00e9t\u00e9"):
        assert c.get("/search", query_string={"q": odd}).status_code == 200


def test_social_and_paste_profiles(tiny, variant, tmp_path):
    """Clearnet profiles show display name, handle, bio and location; posts are listed and paged."""
    c = client_for(tiny, "social", tmp_path / "state.db")
    conn = db(tiny)
    member = conn.execute(
        "SELECT * FROM accounts WHERE site_id = 'social' AND actor_id = 'kestrel'"
    ).fetchone()
    profile = c.get(f"/u/{member['handle']}")
    assert profile.status_code == 200
    body = text(profile)
    assert member["bio"] in body and member["location"] in body and f"@{member['handle']}" in body
    total = conn.execute("SELECT count(*) FROM posts WHERE site_id = 'social'").fetchone()[0]
    assert total > 20
    assert len(soup(c.get("/")).select("div.status")) == 20
    last = -(-total // 20)
    assert len(soup(c.get(f"/?page={last}")).select("div.status")) == total - 20 * (last - 1)

    p = client_for(variant, "pastebin", tmp_path / "state2.db")
    paste = db(variant).execute("SELECT * FROM posts WHERE site_id = 'pastebin'").fetchone()
    raw = p.get(f"/raw/{paste['id']}")
    assert raw.mimetype == "text/plain" and raw.get_data(as_text=True) == paste["body"]
    assert p.get(f"/p/{paste['id']}").status_code == 200
    author = (
        db(variant)
        .execute("SELECT handle FROM accounts WHERE id = ?", (paste["account_id"],))
        .fetchone()[0]
    )
    assert p.get(f"/u/{author}").status_code == 200


# -- accounts, CAPTCHA and the queue ------------------------------------------------------


def test_register_and_login_with_captcha(tiny, tmp_path):
    """Registration and login need the CAPTCHA answer stored server-side for the session."""
    state = tmp_path / "state.db"
    c = client_for(tiny, "market", state)
    page = c.get("/register")
    img = soup(page).find("div", class_="captcha").img["src"]
    png = c.get(img)
    assert png.mimetype == "image/png"
    assert Image.open(io.BytesIO(png.data)).size == (240, 80)
    wrong = c.post(
        "/register",
        data={
            "csrf_token": csrf(page),
            "handle": "trainee1",
            "password": "correct horse",
            "confirm": "correct horse",
            "captcha": "WRONG1",
        },
    )
    assert wrong.status_code == 400 and "Wrong CAPTCHA" in text(wrong)
    done = register(c, state, "market", "trainee1")
    assert done.status_code == 302
    assert "Logged in as trainee1" in text(c.get("/"))
    c.post("/logout", data={"csrf_token": csrf(c.get("/messages"))})
    assert "Logged in as" not in text(c.get("/"))
    bad = login(c, state, "market", "trainee1", "not the password")
    assert bad.status_code == 200 and "Wrong username or password" in text(bad)
    assert login(c, state, "market", "trainee1").status_code == 302
    assert "Logged in as trainee1" in text(c.get("/"))
    # A world handle or a taken one cannot be registered.
    other = client_for(tiny, "market", state)
    assert register(other, state, "market", "kestrel").status_code == 400
    assert register(other, state, "market", "TRAINEE1").status_code == 400


def test_passwords_hashed_at_the_named_cost_and_old_hashes_still_log_in(tiny, tmp_path):
    """New accounts get PASSWORD_HASH_METHOD; one stored at werkzeug's old default cost
    (registered before the cost changed) still logs in, and only with its password."""
    state = tmp_path / "state.db"
    c = client_for(tiny, "market", state)
    assert register(c, state, "market", "newcomer").status_code == 302
    conn = sqlite3.connect(state)
    try:
        stored = conn.execute("SELECT password_hash FROM users WHERE handle = 'newcomer'")
        assert stored.fetchone()[0].startswith(PASSWORD_HASH_METHOD + "$")
        with conn:
            conn.execute(
                "INSERT INTO users (site_id, handle, password_hash, created)"
                " VALUES ('market', 'veteran', ?, 0)",
                (generate_password_hash("old horse 12", method="scrypt:32768:8:1"),),
            )
    finally:
        conn.close()
    old = client_for(tiny, "market", state)
    bad = login(old, state, "market", "veteran", "old horse 13")
    assert "Wrong username or password" in text(bad)
    assert login(old, state, "market", "veteran", "old horse 12").status_code == 302
    assert "Logged in as veteran" in text(old.get("/"))


def test_captcha_off_when_the_scenario_says_so(variant, tmp_path):
    """captcha: false -> no CAPTCHA field, registration works without one."""
    state = tmp_path / "state.db"
    c = client_for(variant, "bazaar", state)
    page = c.get("/register")
    assert soup(page).find("input", attrs={"name": "captcha"}) is None
    assert register(c, state, "bazaar", "nocaptcha").status_code == 302
    assert "Logged in as nocaptcha" in text(c.get("/"))


def test_ddos_queue_then_access(variant, tiny, tmp_path):
    """ddos_queue: the first visit waits in the queue (meta refresh, signed cookie), then gets in."""
    c = client_for(variant, "bazaar", tmp_path / "state.db", queue_seconds=1)
    first = c.get("/listing/1")
    assert first.status_code == 503
    assert first.headers["Retry-After"] == "1"
    refresh = soup(first).find("meta", attrs={"http-equiv": "refresh"})["content"]
    assert refresh.startswith("1;url=/listing/1")
    assert "You are in the queue" in text(first)
    assert c.get_cookie("dcap") is not None
    assert c.get("/listing/1").status_code == 503  # too early
    time.sleep(1.1)
    assert c.get("/listing/1").status_code == 200
    assert c.get("/").status_code == 200
    forged = client_for(variant, "bazaar", tmp_path / "state.db", queue_seconds=1)
    forged.set_cookie("dcap", "eyJ0IjoxfQ.forged.signature")
    assert forged.get("/").status_code == 503
    assert forged.get("/static/css/base.css").status_code == 200  # the queue page needs it
    assert client_for(tiny, "market", tmp_path / "s2.db").get("/").status_code == 200


def test_session_survives_restart(tiny, tmp_path):
    """Sessions live in the state file: a re-created app still knows the logged-in trainee."""
    state = tmp_path / "state.db"
    c = client_for(tiny, "forum", state)
    register(c, state, "forum", "persistent")
    cookie = c.get_cookie("session").value
    again = client_for(tiny, "forum", state)
    again.set_cookie("session", cookie)
    assert "Logged in as persistent" in text(again.get("/"))


# -- orders and payment addresses ---------------------------------------------------------


def _order(client, listing_id: int, quantity: int = 1):
    """Place an order through the checkout form; returns the order page."""
    form_page = client.get(f"/listing/{listing_id}/order")
    assert form_page.status_code == 200
    placed = client.post(
        f"/listing/{listing_id}/order",
        data={
            "csrf_token": csrf(form_page),
            "quantity": str(quantity),
            "shipping": "-----BEGIN PGP MESSAGE-----\nxyz\n-----END PGP MESSAGE-----",
        },
    )
    assert placed.status_code == 302
    return client.get(placed.headers["Location"])


def test_orders_get_fresh_escrow_addresses(tiny, tmp_path):
    """Every order shows its own valid mainnet bech32 escrow address, stored in the state."""
    state = tmp_path / "state.db"
    c = client_for(tiny, "market", state)
    assert c.get("/listing/2/order").status_code == 302  # login first
    register(c, state, "market", "buyer1")
    conn = db(tiny)
    listing = conn.execute(
        "SELECT * FROM listings WHERE site_id = 'market' AND stock > 2"
    ).fetchone()
    pages = [_order(c, listing["id"]), _order(c, listing["id"], 2)]
    addresses = [soup(p).find(class_="address").get_text().strip() for p in pages]
    assert addresses[0] != addresses[1]
    for address in addresses:
        kind, program = decode_address(address)
        assert kind == "p2wpkh" and len(program) == 20 and address.startswith("bc1q")
    escrow = conn.execute(
        "SELECT id FROM wallets WHERE site_id = 'market' AND kind = 'escrow'"
    ).fetchone()[0]
    assert addresses == [fresh_address(tiny.seed, escrow, "escrow/market", n) for n in (1, 2)]
    assert f"{listing['price_btc'] * 2:.5f}" in text(pages[1])
    stored = sqlite3.connect(state).execute("SELECT address FROM orders ORDER BY number").fetchall()
    assert [r[0] for r in stored] == addresses
    listed = text(c.get("/orders"))
    assert all(a in listed for a in addresses)
    # Another trainee cannot see them; a bad quantity is a 400.
    other = client_for(tiny, "market", state)
    register(other, state, "market", "buyer2")
    assert other.get("/orders/1").status_code == 404
    form_page = other.get(f"/listing/{listing['id']}/order")
    bad = other.post(
        f"/listing/{listing['id']}/order",
        data={"csrf_token": csrf(form_page), "quantity": "lots", "shipping": "x"},
    )
    assert bad.status_code == 400
    # Order numbers go on after a restart.
    again = client_for(tiny, "market", state)
    again.set_cookie("session", other.get_cookie("session").value)
    third = soup(_order(again, listing["id"])).find(class_="address").get_text().strip()
    assert third == fresh_address(tiny.seed, escrow, "escrow/market", 3)


def test_shop_order_pays_the_vendor(tiny, tmp_path):
    """A shop order (with CAPTCHA) shows the vendor's payment address to that session only."""
    state = tmp_path / "state.db"
    c = client_for(tiny, "shop", state)
    conn = db(tiny)
    listing = conn.execute("SELECT * FROM listings WHERE site_id = 'shop'").fetchone()
    page = c.get(f"/checkout/{listing['id']}")
    placed = c.post(
        f"/checkout/{listing['id']}",
        data={
            "csrf_token": csrf(page),
            "quantity": "1",
            "shipping": "encrypted",
            "captcha": captcha_answer(c, state, "shop"),
        },
    )
    assert placed.status_code == 302
    order = c.get(placed.headers["Location"])
    address = soup(order).find(class_="address").get_text().strip()
    reused = conn.execute(
        "SELECT a.address FROM accounts x JOIN addresses a ON a.id = x.btc_address_id"
        " WHERE x.site_id = 'shop'"
    ).fetchone()[0]
    assert address == reused  # kestrel reuses one address everywhere
    stranger = client_for(tiny, "shop", state)
    assert stranger.get(placed.headers["Location"]).status_code == 404


# -- trainee text: stored, escaped, kept --------------------------------------------------

EVIL = "<script>alert('x')</script> <b>bold</b> & more"


def test_forum_posts_are_escaped_and_survive_restart(tiny, tmp_path):
    """New threads and replies are stored, rendered escaped, and still there after a restart."""
    state = tmp_path / "state.db"
    c = client_for(tiny, "forum", state)
    register(c, state, "forum", "poster")
    board_id = db(tiny).execute("SELECT id FROM boards WHERE site_id = 'forum'").fetchone()[0]
    form = c.get(f"/board/{board_id}/new")
    made = c.post(
        f"/board/{board_id}/new",
        data={"csrf_token": csrf(form), "title": f"Title {EVIL}", "body": f"Body {EVIL}"},
    )
    assert made.status_code == 302
    thread_url = made.headers["Location"]
    page = c.get(thread_url).get_data(as_text=True)
    assert "&lt;script&gt;" in page and "<script>alert" not in page and "<b>bold" not in page
    world_thread = db(tiny).execute("SELECT id FROM threads").fetchone()[0]
    reply = c.post(
        f"/thread/{world_thread}/reply",
        data={"csrf_token": csrf(c.get(f"/thread/{world_thread}")), "body": f"Reply {EVIL}"},
    )
    assert reply.status_code == 302
    again = client_for(tiny, "forum", tmp_path / "state.db")
    for url in (thread_url, reply.headers["Location"].split("#")[0]):
        html = again.get(url).get_data(as_text=True)
        assert "&lt;script&gt;alert(" in html and "<script>alert" not in html
    board = text(again.get(f"/board/{board_id}"))
    assert f"Title {EVIL}" in board
    assert "Posts 2" in text(again.get("/user/poster"))
    # Empty or missing bodies are malformed forms.
    assert (
        c.post(
            f"/thread/{world_thread}/reply",
            data={"csrf_token": csrf(c.get(f"/thread/{world_thread}")), "body": "   "},
        ).status_code
        == 400
    )
    assert c.post(f"/board/{board_id}/new", data={"csrf_token": csrf(form)}).status_code == 400


def test_market_messages_are_escaped_and_survive_restart(tiny, tmp_path):
    """Messages to vendors and support are stored and shown back escaped."""
    state = tmp_path / "state.db"
    c = client_for(tiny, "market", state)
    register(c, state, "market", "writer")
    page = c.get("/messages?to=kestrel")
    assert soup(page).find("option", selected=True)["value"] == "kestrel"
    sent = c.post(
        "/messages",
        data={"csrf_token": csrf(page), "to": "kestrel", "subject": EVIL, "body": EVIL},
    )
    assert sent.status_code == 302
    again = client_for(tiny, "market", state)
    again.set_cookie("session", c.get_cookie("session").value)
    html = again.get("/messages").get_data(as_text=True)
    assert html.count("&lt;script&gt;alert(") == 2 and "<script>alert" not in html
    unknown = again.post(
        "/messages",
        data={
            "csrf_token": csrf(again.get("/messages")),
            "to": "nobody",
            "subject": "s",
            "body": "b",
        },
    )
    assert unknown.status_code == 400
    stored = sqlite3.connect(state).execute("SELECT recipient, body FROM messages").fetchall()
    assert stored == [("kestrel", EVIL)]


# -- keys, mirrors, canary ----------------------------------------------------------------


def _load_key(armored: str):
    """A pgpy key from armour."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgpy

        key, _ = pgpy.PGPKey.from_blob(armored)
    return key


def test_pgp_keys_parse(tiny, tmp_path):
    """Vendor keys and every site's /pgp.txt are real OpenPGP keys."""
    conn = db(tiny)
    vendor = conn.execute(
        "SELECT pgp_fingerprint FROM accounts WHERE site_id = 'market' AND handle = 'kestrel'"
    ).fetchone()[0]
    page = client_for(tiny, "market", tmp_path / "state.db").get("/vendor/kestrel")
    armored = soup(page).find("pre", class_="armor").get_text()
    key = _load_key(armored)
    assert key.fingerprint.replace(" ", "") == vendor
    for site_id in sites_of(tiny):
        pgp = client_for(tiny, site_id, tmp_path / "state.db").get("/pgp.txt")
        assert pgp.mimetype == "text/plain"
        assert _load_key(pgp.get_data(as_text=True)).is_public


def test_mirrors_and_canary_are_signed(tiny, tmp_path):
    """/mirrors.txt and /canary.txt verify with /pgp.txt; the canary quotes the tip block."""
    tip = db(tiny).execute("SELECT height, hash FROM blocks ORDER BY height DESC").fetchone()
    for site_id in sites_of(tiny):
        c = client_for(tiny, site_id, tmp_path / "state.db")
        public = c.get("/pgp.txt").get_data(as_text=True)
        mirrors = c.get("/mirrors.txt").get_data(as_text=True)
        canary = c.get("/canary.txt").get_data(as_text=True)
        assert verify_clearsigned(public, mirrors), site_id
        assert verify_clearsigned(public, canary), site_id
        assert tiny.sites.get(site_id).address in mirrors
        assert tip["hash"] in canary and f"Height: {tip['height']}" in canary
        assert not verify_clearsigned(public, canary.replace(tip["hash"], "0" * 64))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgpy

            assert _load_key(public).verify(pgpy.PGPMessage.from_blob(canary))
        robots = c.get("/robots.txt")
        assert robots.status_code == 200 and robots.get_data(as_text=True).startswith("User-agent")


# -- planted OPSEC mistakes ---------------------------------------------------------------


def test_server_status_leaks_the_real_ip_where_planted(tiny, variant, tmp_path):
    """mod_status shows sites.server_ip and other vhosts where planted; 404 elsewhere."""
    c = client_for(tiny, "market", tmp_path / "state.db")
    page = c.get("/server-status")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    ip = tiny.sites.get("market").server_ip
    assert f"Apache Server Status for {ip}" in body
    assert "Server Version: Apache/2.4" in body and "Scoreboard Key" in body
    cells = [td.get_text() for td in soup(page).find_all("td")]
    assert ip in cells and any(cell.endswith(".blog.test:443") for cell in cells)
    assert any(tiny.sites.get("market").address in cell for cell in cells)
    auto = c.get("/server-status?auto").get_data(as_text=True)
    assert "Scoreboard: " in auto and "ServerVersion: Apache/2.4" in auto
    for world, site_id in ((tiny, "shop"), (tiny, "forum"), (variant, "bazaar")):
        assert (
            client_for(world, site_id, tmp_path / "s.db").get("/server-status").status_code == 404
        )


def _exif(jpeg: bytes) -> tuple[dict, dict, dict]:
    """IFD0, the Exif IFD and the GPS IFD of a JPEG."""
    exif = Image.open(io.BytesIO(jpeg)).getexif()
    return dict(exif), dict(exif.get_ifd(0x8769)), dict(exif.get_ifd(0x8825))


def _degrees(dms, ref: str) -> float:
    """EXIF degrees/minutes/seconds to signed decimal degrees."""
    value = float(dms[0]) + float(dms[1]) / 60 + float(dms[2]) / 3600
    return -value if ref in ("S", "W") else value


def test_photos_carry_exif_exactly_when_set(tiny, tmp_path):
    """Photo JPEGs keep camera, serial, time and GPS when the row has them; none otherwise."""
    c = client_for(tiny, "market", tmp_path / "state.db")
    conn = db(tiny)
    planted = conn.execute(
        "SELECT * FROM photos WHERE site_id = 'market' AND gps_lat IS NOT NULL"
    ).fetchone()
    clean = conn.execute(
        "SELECT * FROM photos WHERE site_id = 'market' AND gps_lat IS NULL"
    ).fetchone()
    jpeg = c.get(f"/photos/{planted['id']}/{planted['filename']}")
    assert jpeg.mimetype == "image/jpeg"
    ifd0, sub, gps = _exif(jpeg.data)
    assert ifd0[0x010F] == planted["camera_make"] and ifd0[0x0110] == planted["camera_model"]
    assert sub[0xA431] == planted["camera_serial"]
    assert sub[0x9003].startswith(time.strftime("%Y:%m:%d", time.gmtime(planted["taken"])))
    assert abs(_degrees(gps[2], gps[1]) - planted["gps_lat"]) < 1e-5
    assert abs(_degrees(gps[4], gps[3]) - planted["gps_lon"]) < 1e-5
    scrubbed = c.get(f"/photos/{clean['id']}/{clean['filename']}")
    assert scrubbed.status_code == 200 and _exif(scrubbed.data) == ({}, {}, {})
    assert c.get(f"/photos/{clean['id']}/wrong.jpg").status_code == 404


def test_open_directory_where_planted(variant, tiny, tmp_path):
    """open_directory: Apache's "Index of /uploads" with photos (EXIF), a config backup, a note."""
    c = client_for(variant, "bazaar", tmp_path / "state.db")
    index = c.get("/uploads/")
    assert index.status_code == 200
    assert soup(index).title.get_text() == "Index of /uploads"
    headers = [th.get_text() for th in soup(index).find_all("th")]
    assert {"Name", "Last modified", "Size"} <= set(headers)
    names = [a["href"] for a in soup(index).find_all("a") if not a["href"].startswith(("?", "/"))]
    assert "config.php.bak" in names and any(n.endswith(".txt") for n in names)
    config = c.get("/uploads/config.php.bak").get_data(as_text=True)
    assert "DB_HOST" in config and variant.sites.get("bazaar").server_ip in config
    photo = next(n for n in names if n.lower().endswith(".jpg"))
    _, _, gps = _exif(c.get(f"/uploads/{photo}").data)
    assert gps, "exif_gps site: uploaded photos keep GPS"
    assert c.get("/icons/image2.gif").mimetype == "image/gif"
    assert c.get("/uploads/../world.db").status_code == 404
    # exif_gps on the site: every listing photo keeps its EXIF.
    conn = db(variant)
    assert (
        conn.execute(
            "SELECT count(*) FROM photos WHERE site_id = 'bazaar' AND gps_lat IS NULL"
        ).fetchone()[0]
        == 0
    )
    t = client_for(tiny, "market", tmp_path / "s.db")
    assert t.get("/uploads/").status_code == 404
    assert t.get("/uploads/config.php.bak").status_code == 404
    assert t.get("/icons/blank.gif").status_code == 404


def test_analytics_id_where_planted(tiny, tmp_path):
    """analytics_id: the shop's pages carry the id in an inline, network-free gtag snippet."""
    analytics = tiny.sites.get("shop").analytics_id
    assert analytics
    c = client_for(tiny, "shop", tmp_path / "state.db")
    for path in ("/", "/about"):
        html = c.get(path).get_data(as_text=True)
        assert f"gtag('config', '{analytics}')" in html
        script = soup(c.get(path)).find("script")
        assert script is not None and not script.get("src")
    for site_id in ("market", "forum", "campaign"):
        html = client_for(tiny, site_id, tmp_path / "s.db").get("/").get_data(as_text=True)
        assert "gtag(" not in html and "<script" not in html
    # The operator's blog head, posted on the social site, carries the same id.
    social = client_for(tiny, "social", tmp_path / "s.db")
    found = social.get("/search", query_string={"q": analytics})
    assert analytics in text(found) and "0 posts" not in text(found)


# -- offline, errors ----------------------------------------------------------------------

SCHEME_URL = re.compile(r"""https?://([A-Za-z0-9.-]+)""")
ATTRS = ("href", "src", "action", "srcset", "poster", "data", "formaction")
# Hosts that may appear in the text of world content (pastes, posts) without being fetched.
TEXT_HOSTS = ("localhost", "127.0.0.1", "www.w3.org")


def _world_hosts(*worlds: World) -> set[str]:
    """Every site address of the worlds."""
    return {site.address for world in worlds for site in world.sites.all()}


def _bad_hosts_in_html(html: str, allowed: set[str]) -> list[str]:
    """URLs a page loads or links outside the world (attributes must name a world site; text
    may only mention .onion and .test names, which never leave the sandbox)."""
    bad = []
    page = BeautifulSoup(html, "html.parser")
    for tag in page.find_all(True):
        for attr in ATTRS:
            value = tag.get(attr)
            if value and (host := urlsplit(value).hostname) and host not in allowed:
                bad.append(f"{tag.name}[{attr}]={value}")
        if tag.name == "meta" and "url=" in (tag.get("content") or ""):
            host = urlsplit(tag["content"].split("url=", 1)[1]).hostname
            if host and host not in allowed:
                bad.append(f"meta refresh {tag['content']}")
        if tag.name == "style" or tag.get("style"):
            for match in re.finditer(
                r"url\(\s*['\"]?([^)'\"]+)", tag.get_text() + (tag.get("style") or "")
            ):
                host = urlsplit(match.group(1)).hostname
                if host and host not in allowed:
                    bad.append(f"css url({match.group(1)})")
    for match in SCHEME_URL.finditer(html):
        host = match.group(1).lower()
        if not host.endswith((".onion", ".test")) and host not in TEXT_HOSTS:
            bad.append(match.group(0))
    return bad


def _crawl(client, limit: int = 45) -> list[tuple[str, str]]:
    """Pages of a site reachable from its front page (same site only): (path, html)."""
    seen, queue, pages = {"/"}, deque(["/"]), []
    while queue and len(pages) < limit:
        path = queue.popleft()
        response = client.get(path)
        assert response.status_code < 500, path
        if response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        pages.append((path, html))
        for a in BeautifulSoup(html, "html.parser").find_all("a", href=True):
            target = urlsplit(urljoin(path, a["href"]))
            if target.netloc or target.path.startswith(("/logout",)):
                continue
            link = target.path + (f"?{target.query}" if target.query else "")
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return pages


def test_no_page_or_file_refers_to_an_outside_host(tiny, variant, tmp_path):
    """Architecture rule 4 (offline): every page of every site kind loads and links nothing outside the world."""
    allowed = _world_hosts(tiny, variant)
    bad: list[str] = []
    for world in (tiny, variant):
        for site_id, kind in sites_of(world).items():
            state = tmp_path / f"{site_id}.db"
            c = client_for(world, site_id, state)
            if kind in ("market", "forum"):
                register(c, state, site_id, "crawler")
            extra = ["/server-status", "/uploads/", "/login", "/register", "/logo.svg"]
            pages = _crawl(c)
            for path in extra:
                response = c.get(path)
                if response.status_code == 200:
                    pages.append((path, response.get_data(as_text=True)))
            assert len(pages) > 1, site_id
            for path, html in pages:
                bad += [f"{site_id}{path}: {b}" for b in _bad_hosts_in_html(html, allowed)]
    # The source files of every package are scanned in tests/test_offline.py.
    assert not bad, "\n".join(bad)


def test_errors_are_pages_never_500s(tiny, tmp_path):
    """Unknown paths and ids are styled 404s, malformed forms 400s, nothing crashes."""
    state = tmp_path / "state.db"
    c = client_for(tiny, "market", state)
    missing = c.get("/listing/99999")
    assert missing.status_code == 404
    assert "Test Market" in text(missing) and "Not Found" in text(missing)
    for path in (
        "/nope",
        "/listing/abc",
        "/listing/99999999999999999999999999",
        "/vendor/nobody",
        "/vendor/%00",
        "/photos/1/x.jpg",
        "/captcha/1.png",
        "/orders/1",
        "/category/",
    ):
        assert c.get(path).status_code in (302, 404), path
    assert c.get("/search?q=" + "x" * 101).status_code == 400
    assert c.get("/category/drugs?page=0").status_code == 400
    assert c.post("/").status_code == 405
    # No CSRF token, missing fields, oversized bodies.
    assert c.post("/register", data={"handle": "a"}).status_code == 400
    page = c.get("/register")
    assert c.post("/register", data={"csrf_token": csrf(page)}).status_code == 400
    assert c.post("/login", data={"csrf_token": csrf(c.get("/login"))}).status_code == 400
    big = c.post("/login", data={"csrf_token": "x", "handle": "a" * 400_000})
    assert big.status_code == 413
    for site_id, kind in sites_of(tiny).items():
        other = client_for(tiny, site_id, state)
        for path in ("/does/not/exist", "/%ff", "/search?q=%00", "/?page=-1", "/u/<script>"):
            response = other.get(path)
            assert response.status_code < 500, (site_id, path)
            assert "<script>" not in response.get_data(as_text=True) or kind == "shop"
