"""Extraction: every leak planted in the tiny world is found in the crawl; nothing invalid is."""

from __future__ import annotations

import io
import json
import os
import sqlite3

import base58
import bech32
import pytest
from click.testing import CliRunner
from PIL import Image

from investigator_tools.case import Case
from investigator_tools.chain.codec.base58 import B58_ALPHABET as B58
from investigator_tools.chain.codec.hashes import keccak256
from investigator_tools.cli import cli as investigate
from investigator_tools.extract import artefacts, extract, find, summary
from investigator_tools.extract.addresses import (
    bitcoin_address,
    ethereum_address,
    monero_address,
)
from investigator_tools.extract.base import Document
from investigator_tools.extract.exif import read_exif
from investigator_tools.extract.onions import is_valid_onion, onion_from_key
from sandbox.onion import onion_address


@pytest.fixture(scope="module")
def world(tiny_world):
    """The tiny world's answer key, read-only."""
    conn = sqlite3.connect(f"file:{tiny_world}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def case(tiny_crawl, tmp_path_factory):
    """A copy of the session's crawl of the tiny world, extracted."""
    case = Case(tiny_crawl.copy_to(tmp_path_factory.mktemp("extract-case")))
    case.sites = tiny_crawl.sites
    case.first_run = extract(case)
    yield case
    case.close()


def found(case: Case, kind: str) -> list[dict]:
    """The stored artefacts of one kind."""
    return artefacts(case, kind)


def hosts_of(case: Case, kind: str, value: str) -> set[str]:
    """The sites an artefact value was seen on."""
    return {a["host"] for a in found(case, kind) if a["normalized"] == value}


# -- the planted leaks -----------------------------------------------------------------


def test_email_in_kestrels_pgp_user_id(case, world):
    """Each of kestrel's keys is parsed, and the email in its user id is reported."""
    keys = world.execute("SELECT fingerprint, user_id FROM pgp_keys WHERE actor_id = 'kestrel'")
    keys = keys.fetchall()
    assert keys
    stored = {a["normalized"]: a for a in found(case, "pgp_key")}
    for fingerprint, user_id in keys:
        email = user_id.split("<")[1].rstrip(">").lower()
        key = stored[fingerprint]
        assert email in key["details"]["emails"]
        assert key["details"]["algorithm"] and key["details"]["created"]
        sightings = [a for a in found(case, "email") if a["normalized"] == email]
        assert any("pgp_uid" in a["details"].get("sources", []) for a in sightings)


def test_kestrel_username_on_market_shop_and_chirper(case):
    """The reused handle is seen on the market, on his shop and on the social site."""
    sites = hosts_of(case, "username", "kestrel")
    for site in ("market", "shop", "social"):
        assert case.sites[site] in sites
    profile = [
        a
        for a in found(case, "username")
        if a["normalized"] == "kestrel" and "url" in a["details"].get("sources", [])
    ]
    assert {a["url"].split("/", 3)[3] for a in profile} >= {"vendor/kestrel", "u/kestrel"}


def test_kestrels_reused_bitcoin_address(case, world):
    """His published receiving address is reported (with its type) on his vendor page."""
    row = world.execute(
        "SELECT a.address, a.type FROM accounts c JOIN addresses a ON a.id = c.btc_address_id"
        " WHERE c.actor_id = 'kestrel' AND c.site_id = 'market'"
    ).fetchone()
    sightings = [a for a in found(case, "btc_address") if a["normalized"] == row["address"]]
    assert sightings and sightings[0]["details"]["type"] == row["type"]
    assert any(a["url"].endswith("/vendor/kestrel") for a in sightings)


def test_exif_gps_and_camera_serial(case, world):
    """Every photo with EXIF gives its GPS position and the camera's body serial."""
    photos = world.execute(
        "SELECT site_id, filename, gps_lat, gps_lon, camera_make, camera_serial FROM photos"
        " WHERE camera_serial IS NOT NULL"
    ).fetchall()
    assert photos
    serials = {a["value"]: a for a in found(case, "camera_serial")}
    for photo in photos:
        assert photo["camera_serial"] in serials
    positions = [(a["details"]["lat"], a["details"]["lon"]) for a in found(case, "gps")]
    for photo in photos:
        assert any(
            abs(lat - photo["gps_lat"]) < 1e-4 and abs(lon - photo["gps_lon"]) < 1e-4
            for lat, lon in positions
        ), photo["filename"]
    exif_sites = {a["host"] for a in found(case, "exif")}
    assert {case.sites["market"], case.sites["shop"]} <= exif_sites


def test_server_status_leaks_the_market_ip(case, world):
    """The market's /server-status names its real IP, its vhosts and clients."""
    ip = world.execute("SELECT server_ip FROM sites WHERE id = 'market'").fetchone()[0]
    leaks = [a for a in found(case, "server_ip") if a["normalized"] == ip]
    assert leaks and leaks[0]["host"] == case.sites["market"]
    assert leaks[0]["url"].endswith("/server-status")
    vhosts = {a["normalized"] for a in found(case, "vhost")}
    assert case.sites["market"] in vhosts and any(v.endswith(".test") for v in vhosts)
    assert found(case, "client_ip")


def test_shop_analytics_id_also_in_a_social_post(case, world):
    """The shop's analytics id is found on the shop and in a post on the social site."""
    ua = world.execute("SELECT analytics_id FROM sites WHERE id = 'shop'").fetchone()[0]
    assert hosts_of(case, "analytics_id", ua) >= {case.sites["shop"], case.sites["social"]}


def test_onions_are_valid_and_include_every_site(case):
    """Onion artefacts are checksum-valid, and every onion site of the world is among them."""
    onions = {a["normalized"] for a in found(case, "onion")}
    assert all(is_valid_onion(o) for o in onions)
    assert {a for s, a in case.sites.items() if a.endswith(".onion")} <= onions


def test_no_invalid_address_is_reported(case):
    """Every Bitcoin address passes an independent checksum (the base58/bech32 libraries)."""
    addresses = found(case, "btc_address")
    assert addresses
    for item in addresses:
        value = item["value"]
        if value.lower().startswith("bc1"):
            version, program = bech32.decode("bc", value.lower())
            assert version is not None and program, value
        else:
            assert base58.b58decode_check(value)[0] in (0, 5), value
    pgp_noise = [a for a in addresses if "BEGIN PGP" in (a["context"] or "")]
    assert pgp_noise == []


def test_extract_again_is_idempotent(case):
    """A second run reads nothing new; a rescan finds the same artefacts."""
    before = {(r["kind"], r["sightings"]) for r in summary(case)}
    again = extract(case)
    assert again.read == 0 and again.added == 0
    rescan = extract(case, rescan=True)
    assert rescan.read == case.first_run.read
    assert {(r["kind"], r["sightings"]) for r in summary(case)} == before
    dupes = case.conn.execute(
        "SELECT kind, normalized, capture_id FROM artefacts GROUP BY 1, 2, 3 HAVING COUNT(*) > 1"
    ).fetchall()
    assert dupes == []


def test_own_account_is_not_an_artefact(case):
    """The crawler's own account (registered to pass the login wall) is not reported."""
    from tests.test_crawl import LOGIN

    assert not [a for a in found(case, "username") if a["normalized"] == LOGIN[0]]


def test_cli_extract(case):
    """`investigate extract` prints a table; --json prints the artefacts with their captures."""
    runner = CliRunner()
    table = runner.invoke(investigate, ["--case", str(case.path), "extract"])
    assert table.exit_code == 0, table.output
    assert "btc_address" in table.stdout and "camera_serial" in table.stdout
    out = runner.invoke(investigate, ["--case", str(case.path), "extract", "--json"])
    assert out.exit_code == 0
    payload = json.loads(out.stdout)
    assert payload["run"]["read"] == 0
    kinds = {a["kind"] for a in payload["artefacts"]}
    assert {"pgp_key", "email", "username", "gps", "server_ip", "analytics_id"} <= kinds
    assert all(a["sha256"] and a["url"] for a in payload["artefacts"])


def test_cli_extract_prints_whole_values(case):
    """No value is cut with an ellipsis: the table wraps them, --wide keeps each on one line,
    --csv lists every artefact whole (and spreadsheet-safe)."""
    import csv
    import io

    from investigator_tools.extract import summary
    from investigator_tools.spreadsheet import safe_cell

    runner = CliRunner()
    examples = [v for row in summary(case) for v in row["examples"]]
    longest = max(examples, key=len)
    assert len(longest) > 60  # an onion address, a PGP fingerprint: wider than a column
    table = runner.invoke(investigate, ["--case", str(case.path), "extract"])
    assert table.exit_code == 0 and "…" not in table.stdout
    wide = runner.invoke(investigate, ["--case", str(case.path), "extract", "--wide"])
    assert wide.exit_code == 0 and "…" not in wide.stdout
    lines = wide.stdout.splitlines()
    for value in examples:
        assert any(value in line for line in lines), value
    out = runner.invoke(investigate, ["--case", str(case.path), "extract", "--csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    stored = artefacts(case)
    assert len(rows) == len(stored)
    assert [(r["kind"], r["normalized"], r["url"]) for r in rows] == [
        (a["kind"], safe_cell(a["normalized"]), a["url"]) for a in stored
    ]
    assert longest in {r["normalized"] for r in rows}


# -- unit tests: checksums and look-alikes ----------------------------------------------


def doc(text: str, content_type: str = "text/plain", url: str = "http://x.test/") -> Document:
    """A document made from a string."""
    return Document(url, "x.test", content_type, text.encode())


def kinds(text: str, content_type: str = "text/plain") -> dict[str, set[str]]:
    """kind -> normalized values found in a text."""
    out: dict[str, set[str]] = {}
    for item in find(doc(text, content_type)):
        out.setdefault(item.kind, set()).add(item.normalized)
    return out


def flip(value: str, at: int) -> str:
    """The string with one character changed (to another of the same alphabet)."""
    alphabet = B58 if value[at] in B58 else "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    return value[:at] + alphabet[(alphabet.index(value[at]) + 1) % len(alphabet)] + value[at + 1 :]


BTC_VALID = [
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
    "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
    "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
    "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
]


@pytest.mark.parametrize("value", BTC_VALID)
def test_valid_bitcoin_addresses(value):
    """Real mainnet addresses of every type are reported."""
    expected = value.lower() if value.lower().startswith("bc1") else value
    assert kinds(f"pay to {value} now")["btc_address"] == {expected}


@pytest.mark.parametrize("value", BTC_VALID)
def test_bitcoin_addresses_with_a_typo_are_not_reported(value):
    """One changed character anywhere breaks the checksum: not reported."""
    for at in (5, len(value) // 2, len(value) - 1):
        typo = flip(value, at)
        assert bitcoin_address(typo) is None
        assert "btc_address" not in kinds(f"send to {typo}")


def test_bitcoin_look_alikes():
    """Truncated, extended, mixed-case, v0-as-bech32m and testnet strings are not reported."""
    good = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
    text = " ".join(
        [
            good[:-1],  # truncated
            good + "z",  # longer: no word boundary
            "bc1qAr0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",  # mixed case
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # v0 with a bech32m checksum
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # v1 with bech32
            "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",  # testnet
            "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn",  # testnet P2PKH
            "3" + "x" * 33,
        ]
    )
    assert "btc_address" not in kinds(text)


def _monero_encode(raw: bytes) -> str:
    """Monero's block base58 (8-byte blocks as 11 characters), written independently."""
    sizes = [0, 2, 3, 5, 6, 7, 9, 10, 11]
    out = ""
    for start in range(0, len(raw), 8):
        block = raw[start : start + 8]
        number, chars = int.from_bytes(block, "big"), ""
        for _ in range(sizes[len(block)]):
            number, digit = divmod(number, 58)
            chars = B58[digit] + chars
        out += chars
    return out


def _monero(prefix: int, payload: bytes) -> str:
    """A Monero address of a network byte and keys (+ payment id)."""
    data = bytes([prefix]) + payload
    return _monero_encode(data + keccak256(data)[:4])


def test_monero_addresses():
    """Standard, subaddress and integrated addresses pass; one changed character fails."""
    fund = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
    sub = _monero(42, os.urandom(64))
    integrated = _monero(19, os.urandom(72))
    assert len(sub) == 95 and sub[0] == "8" and len(integrated) == 106
    assert monero_address(fund) == {"network": "mainnet", "type": "standard"}
    assert monero_address(sub)["type"] == "subaddress"
    assert monero_address(integrated)["type"] == "integrated"
    assert kinds(f"XMR: {fund} or {sub}; {integrated}")["xmr_address"] == {fund, sub, integrated}
    for value in (fund, sub, integrated):
        assert monero_address(flip(value, 40)) is None
    assert "xmr_address" not in kinds(f"{flip(fund, 12)} {'4' + 'A' * 94}")


def test_ethereum_addresses():
    """EIP-55 mixed case must match; single-case addresses carry no checksum and pass."""
    good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    assert ethereum_address(good) == {"checksum": "eip55"}
    assert ethereum_address(good.lower()) == {"checksum": "none"}
    bad = good[:-1] + "D"
    assert ethereum_address(bad) is None
    assert kinds(f"{good} {bad} 0x{'ab' * 32}")["eth_address"] == {good}


def test_onion_checksums_match_the_sandbox():
    """Our SHA3-256 checksum gives the same names as the sandbox; look-alikes fail."""
    key = os.urandom(32)
    name = onion_from_key(key)
    assert name == onion_address(key)
    lookalike = name[:10] + ("a" if name[10] != "a" else "b") + name[11:]
    assert is_valid_onion(name) and not is_valid_onion(lookalike)
    found_ = kinds(f"visit http://{name}/ not http://{lookalike}/ nor expyuzz4wqqyqhjn.onion")
    assert found_["onion"] == {name}


def test_contacts_and_messengers():
    """Emails, international phone numbers and messenger handles; file names are not emails."""
    text = (
        "mail kestrel@mailbox.test, jabber: kes@xmpp.example.test, logo@2x.png, "
        "call +44 7911 123456, price 0.00123, order 12345678901, "
        "telegram @KestrelUK, https://t.me/kestrel_shop, Wickr: kes.uk, Session ID "
        "05d871fc80ca007eed9b2f4df72853e2a2d5465a92fcb1889fb5c84aa2833b3b40"
    )
    out = kinds(text)
    assert out["email"] == {"kestrel@mailbox.test"}
    assert out["xmpp"] == {"kes@xmpp.example.test"}
    assert out["phone"] == {"+447911123456"}
    assert out["telegram"] == {"kestreluk", "kestrel_shop"}
    assert out["wickr"] == {"kes.uk"}
    assert out["session_id"] == {
        "05d871fc80ca007eed9b2f4df72853e2a2d5465a92fcb1889fb5c84aa2833b3b40"
    }


def test_handles_from_urls_structure_and_mentions():
    """Profile URLs, labelled fields, links and @mentions give usernames with their source."""
    html = """<html><body>
      <table class="kv"><tr><th>Vendor</th><td><a href="/vendor/Kestrel">Kestrel</a></td></tr></table>
      <a href="/u/other_one">x</a> <p>thanks @friend42, css @media is not one</p>
    </body></html>"""
    items = find(Document("http://m.onion/listing/3", "m.onion", "text/html", html.encode()))
    sources = {a.normalized: a.details["sources"] for a in items if a.kind == "username"}
    assert sources == {
        "kestrel": ["structure", "link"],
        "other_one": ["link"],
        "friend42": ["mention"],
    }
    own = find(Document("http://m.onion/user/bob", "m.onion", "text/html", b"<p>hi</p>"))
    assert [(a.normalized, a.details["sources"]) for a in own] == [("bob", ["url"])]


def test_analytics_ids():
    """UA-, G- and GTM- ids; words that merely look like them are not."""
    out = kinds("gtag('config', 'UA-12345678-1'); G-ABCDE12345 GTM-K9PQ2X G-STRINGS GTM-ABC")
    assert out["analytics_id"] == {"UA-12345678-1", "G-ABCDE12345", "GTM-K9PQ2X"}


def test_pgp_key_block(world):
    """A key block from the world parses to its fingerprint, user id and email."""
    row = world.execute("SELECT fingerprint, user_id, public_armored FROM pgp_keys").fetchone()
    page = f"<pre class='armor'>{row['public_armored']}</pre>"
    items = find(Document("http://k.onion/pgp", "k.onion", "text/html", page.encode()))
    key = next(a for a in items if a.kind == "pgp_key")
    assert key.normalized == row["fingerprint"]
    assert f"{key.details['user_ids'][0]['name']}" in row["user_id"]
    if "@" in row["user_id"]:
        assert any(a.kind == "email" for a in items)
    assert not [a for a in items if a.kind in ("btc_address", "xmr_address")]


def test_exif_of_a_made_photo():
    """GPS (decimal, signed by reference), make, model, serial and date from a JPEG."""
    image = Image.new("RGB", (8, 8))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "EOS 250D"
    exif.get_ifd(0x8769).update({0x9003: "2026:03:01 10:00:00", 0xA431: "123456"})
    exif.get_ifd(0x8825).update({1: "S", 2: (33.0, 51.0, 54.0), 3: "E", 4: (151.0, 12.0, 36.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    info = read_exif(buffer.getvalue())
    assert info["make"] == "Canon" and info["body_serial"] == "123456"
    assert info["lat"] == pytest.approx(-33.865) and info["lon"] == pytest.approx(151.21)
    items = find(Document("http://s.onion/p.jpg", "s.onion", "image/jpeg", buffer.getvalue()))
    assert {a.kind for a in items} == {"exif", "gps", "camera_serial"}
    plain = io.BytesIO()
    image.save(plain, "JPEG")
    assert find(Document("http://s.onion/q.jpg", "s.onion", "image/jpeg", plain.getvalue())) == []


def test_open_directory_listing():
    """An Apache "Index of" page gives the listing and its file names."""
    html = """<html><head><title>Index of /uploads</title></head><body><h1>Index of /uploads</h1>
    <table><tr><th><a href="?C=N;O=D">Name</a></th></tr>
    <tr><td><a href="/">Parent Directory</a></td></tr>
    <tr><td><a href="IMG_1.JPG">IMG_1.JPG</a></td><td>2026-03-01 10:00</td><td>1.2M</td></tr>
    <tr><td><a href="config.php.bak">config.php.bak</a></td><td>2026-02-01</td><td>612</td></tr>
    </table><address>Apache/2.4.62 (Debian) Server at x.onion Port 80</address></body></html>"""
    items = find(Document("http://x.onion/uploads/", "x.onion", "text/html", html.encode()))
    listing = next(a for a in items if a.kind == "open_directory")
    assert [f["name"] for f in listing.details["files"]] == ["IMG_1.JPG", "config.php.bak"]
    assert listing.normalized == "x.onion/uploads"


def test_server_status_auto_and_ips():
    """The ?auto form names the server; other IPs are reported, loopback is not."""
    auto = "203.0.113.9\nServerVersion: Apache/2.4.62\nScoreboard: __W_\n"
    assert kinds(auto)["server_ip"] == {"203.0.113.9"}
    out = kinds("VPS 198.51.100.7, db 10.0.0.5, local 127.0.0.1, version 2.4.62, 1.2.3.4.5")
    assert out["ip"] == {"198.51.100.7", "10.0.0.5"}
