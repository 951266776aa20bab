"""Course tables of a v2 world: seats, the answer key, injects, artefacts, `each` flows."""

from __future__ import annotations

import io
import json
import re
import sqlite3
from pathlib import Path

import pytest
from embit import bip32, bip39
from PIL import Image

from sandbox.ledger.address import p2wpkh_address
from sandbox.ledger.keys import Key
from sandbox.scenario import load_scenario
from sandbox.world.build import build_world
from sandbox.world.read import world_info
from sandbox.world.schema import DIGEST_ORDER
from sandbox.world.seats import CODE_ALPHABET, seat_codes
from sandbox.world.secret import keyed_seed
from tests.course_secret import SECRET

DATA = Path(__file__).parent / "data"
COURSE_TABLES = ("seats", "objectives", "seat_objectives", "hints", "injects", "artefacts")
COIN = 100_000_000


@pytest.fixture(scope="session")
def course():
    """The course scenario of tests/data/course.yaml."""
    return load_scenario(str(DATA / "course.yaml"))


@pytest.fixture(scope="session")
def course_world(course, tmp_path_factory) -> Path:
    """The course scenario's world, built once."""
    out = tmp_path_factory.mktemp("course") / "course.db"
    build_world(course, out, secret=SECRET)
    return out


@pytest.fixture
def db(course_world):
    """A read-only connection to the course world."""
    conn = sqlite3.connect(f"file:{course_world}?mode=ro", uri=True)
    yield conn
    conn.close()


def _answers(db, seat: int) -> dict:
    """{objective id: answer} of one seat, from seat_objectives."""
    rows = db.execute(
        "SELECT objective_id, answer FROM seat_objectives WHERE seat = ?", (seat,)
    ).fetchall()
    return {oid: json.loads(answer) for oid, answer in rows}


def _subject(db, seat: int) -> str:
    """The actor a seat investigates."""
    (bindings,) = db.execute("SELECT bindings FROM seats WHERE n = ?", (seat,)).fetchone()
    return json.loads(bindings)["subject"]


def _personal_outputs(db, actor: str, unspent: bool = False) -> list[tuple[str, int]]:
    """(address, value) of every output paid to an actor's personal wallet."""
    rows = db.execute(
        "SELECT ad.address, o.value, o.tx_id, o.n FROM outputs o"
        " JOIN addresses ad ON ad.id = o.address_id JOIN wallets w ON w.id = ad.wallet_id"
        " WHERE w.actor_id = ? AND w.kind = 'personal'",
        (actor,),
    ).fetchall()
    spent = set(db.execute("SELECT prev_tx_id, prev_n FROM inputs").fetchall())
    return [(a, v) for a, v, t, n in rows if not unspent or (t, n) not in spent]


def test_seats_have_unique_unambiguous_codes_and_wrap_over_the_group(db, course):
    """Six seat codes like KT4-9QX without 0/O/1/I/L, unique, keyed by the course secret;
    the four vendors are dealt in a shuffled order, then again, neighbours never alike."""
    rows = db.execute("SELECT n, code, bindings FROM seats ORDER BY n").fetchall()
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]
    codes = [r[1] for r in rows]
    assert len(set(codes)) == 6
    for code in codes:
        assert re.fullmatch(r"[2-9A-HJKMNP-Z]{3}-[2-9A-HJKMNP-Z]{3}", code), code
        assert not set(code) & set("01OIL")
    assert set(CODE_ALPHABET).isdisjoint("01OIL")
    keyed = keyed_seed(course.world.seed, SECRET)
    assert codes == seat_codes(keyed, 6)
    assert seat_codes(course.world.seed, 6) != codes  # the public seed alone does not give them
    subjects = [json.loads(r[2])["subject"] for r in rows]
    assert sorted(subjects[:4]) == ["vendors-1", "vendors-2", "vendors-3", "vendors-4"]
    assert subjects[4:] == subjects[:2]
    assert all(a != b for a, b in zip(subjects, subjects[1:], strict=False))


def test_seat_wallet_is_the_funded_first_address_of_its_trainee(db):
    """Seat n's wallet is trainees-n's first address, holds 0.01 BTC, and its WIF is its key."""
    trainees = db.execute("SELECT count(*) FROM actors WHERE grp = 'trainees'").fetchone()[0]
    assert trainees == 6
    for n, address, wif in db.execute("SELECT n, wallet_address, wallet_wif FROM seats"):
        (first,) = db.execute(
            "SELECT ad.address FROM addresses ad JOIN wallets w ON w.id = ad.wallet_id"
            " WHERE w.actor_id = ? AND w.kind = 'personal' ORDER BY ad.id LIMIT 1",
            (f"trainees-{n}",),
        ).fetchone()
        assert address == first
        assert p2wpkh_address(Key.from_wif(wif).public_key) == address
        held = sum(v for a, v in _personal_outputs(db, f"trainees-{n}", True) if a == address)
        assert held == COIN // 100


def test_group_bound_answers_differ_across_seats(db):
    """Seats 1-4 investigate different vendors, so their answers differ; seat 5 repeats seat 1."""
    answers = [_answers(db, n) for n in range(1, 7)]
    for oid in ("name", "email", "pgp", "addresses", "balance", "cash-total", "cash-txids"):
        values = [json.dumps(a[oid]) for a in answers[:4]]
        assert len(set(values)) == 4, oid
        assert answers[4][oid] == answers[0][oid], oid
    assert answers[0]["seize"]["pay_to"] != answers[4]["seize"]["pay_to"]  # own wallet each
    # Seats 1 and 5 share vendors-1, but each seizes its own share of its coins.
    assert not set(answers[0]["seize"]["spend_from"]) & set(answers[4]["seize"]["spend_from"])
    assert answers[0]["market-name"] == answers[3]["market-name"] == "Test Market"


def test_actor_answers_match_the_world_rows(db):
    """Each actor field of seat 2's answer key is what the world's own tables say."""
    subject = _subject(db, 2)
    key = _answers(db, 2)
    db.row_factory = sqlite3.Row
    actor = db.execute("SELECT * FROM actors WHERE id = ?", (subject,)).fetchone()
    db.row_factory = None
    for oid, column in (
        ("name", "name"),
        ("username", "username"),
        ("email", "email"),
        ("phone", "phone"),
        ("city", "city"),
        ("country", "country"),
        ("iban", "iban"),
        ("document", "document_number"),
    ):
        assert key[oid] == actor[column], oid
    (exchange_name,) = db.execute(
        "SELECT name FROM actors WHERE id = ?", (actor["exchange_id"],)
    ).fetchone()
    assert key["exchange"] == exchange_name
    (account,) = db.execute(
        "SELECT account_id FROM exchange_accounts WHERE actor_id = ? AND exchange_id = ?",
        (subject, actor["exchange_id"]),
    ).fetchone()
    assert key["account"] == account
    handle, fingerprint = db.execute(
        "SELECT handle, pgp_fingerprint FROM accounts WHERE actor_id = ? ORDER BY id LIMIT 1",
        (subject,),
    ).fetchone()
    assert key["handle"] == handle
    assert key["pgp"] == fingerprint.upper() and re.fullmatch(r"[0-9A-F]{40}", key["pgp"])
    assert db.execute(
        "SELECT count(*) FROM pgp_keys WHERE actor_id = ? AND upper(fingerprint) = ?",
        (subject, key["pgp"]),
    ).fetchone() == (1,)
    received = _personal_outputs(db, subject)
    assert key["addresses"] == sorted({a for a, _ in received}) and len(key["addresses"]) > 1
    unspent = _personal_outputs(db, subject, unspent=True)
    assert key["balance"] == round(sum(v for _, v in unspent) / COIN, 8) > 0
    assert key["seize"]["spend_from"] == sorted({a for a, _ in unspent})
    (wallet,) = db.execute("SELECT wallet_address FROM seats WHERE n = 2").fetchone()
    assert key["seize"]["pay_to"] == wallet
    (ip,) = db.execute(
        "SELECT ip FROM exchange_logins WHERE actor_id = ? ORDER BY time DESC LIMIT 1",
        (subject,),
    ).fetchone()
    assert key["login-ip"] == ip
    (published,) = db.execute(
        "SELECT ad.address FROM accounts ac JOIN addresses ad ON ad.id = ac.btc_address_id"
        " WHERE ac.actor_id = 'kestrel' AND ac.site_id = 'market'"
    ).fetchone()
    assert key["published"] == published


def test_site_answers_match_the_world_and_the_chain(db):
    """Site fields are the sites rows; donation addresses and total are the donation outputs."""
    key = _answers(db, 1)
    name, address, ip = db.execute(
        "SELECT name, address, server_ip FROM sites WHERE id = 'market'"
    ).fetchone()
    assert (key["market-name"], key["market-onion"], key["market-ip"]) == (name, address, ip)
    assert address.endswith(".onion")
    (ua,) = db.execute("SELECT analytics_id FROM sites WHERE id = 'shop'").fetchone()
    assert key["shop-ua"] == ua and ua
    (operator,) = db.execute(
        "SELECT a.name FROM actors a JOIN sites s ON s.operator_id = a.id WHERE s.id = 'campaign'"
    ).fetchone()
    assert key["operator"] == operator
    # The donations on the chain: outputs of the donation flow's txs into the campaign wallet.
    outputs = db.execute(
        "SELECT ad.address, o.value FROM transactions t JOIN outputs o ON o.tx_id = t.id"
        " JOIN addresses ad ON ad.id = o.address_id JOIN wallets w ON w.id = ad.wallet_id"
        " WHERE t.flow_id = 'donations' AND w.kind = 'donation' AND w.site_id = 'campaign'"
    ).fetchall()
    assert len(outputs) == 15
    assert key["donation-addresses"] == sorted({a for a, _ in outputs})
    assert key["donated"] == round(sum(v for _, v in outputs) / COIN, 8)


def test_flow_answers_of_a_member_match_the_chain(db):
    """vcash restricted to the seat's vendor: its two deposits, as the chain shows them."""
    for seat in (1, 3):
        subject = _subject(db, seat)
        key = _answers(db, seat)
        (bitbarn,) = db.execute("SELECT name FROM actors WHERE id = 'bitbarn'").fetchone()
        deposits = db.execute(
            "SELECT t.txid, ad.address, o.value FROM transactions t"
            " JOIN outputs o ON o.tx_id = t.id JOIN addresses ad ON ad.id = o.address_id"
            " JOIN wallets w ON w.id = ad.wallet_id"
            " WHERE t.flow_id = 'vcash' AND w.actor_id = 'bitbarn' AND ad.purpose = ?",
            (f"deposit:{subject}",),
        ).fetchall()
        assert len(deposits) == 2
        assert key["cash-count"] == 2
        assert key["cash-txids"] == sorted(t for t, _, _ in deposits)
        assert key["cash-addresses"] == sorted({a for _, a, _ in deposits})
        assert key["cash-total"] == round(sum(v for _, _, v in deposits) / COIN, 8)
        assert key["cash-exchange"] == bitbarn
        # Kestrel's sales go through the mixer, then to his cash-out at bitbarn.
        assert key["sales-exchange"] == bitbarn


def _input_owners(db, tx_id: int) -> set[str]:
    """The actors whose wallets a transaction spends from."""
    return {
        r[0]
        for r in db.execute(
            "SELECT w.actor_id FROM inputs i JOIN outputs o"
            " ON o.tx_id = i.prev_tx_id AND o.n = i.prev_n"
            " JOIN addresses ad ON ad.id = o.address_id"
            " JOIN wallets w ON w.id = ad.wallet_id WHERE i.tx_id = ?",
            (tx_id,),
        )
    }


def test_each_flow_pays_from_every_member(db):
    """An `each` flow makes count payments per member, paid from that member's own wallet."""
    members = [f"vendors-{k}" for k in range(1, 5)]
    for flow, step, count in (("vcash", "cash-out", 2), ("vmix", "mix-deposit", 1)):
        payers: dict[str, int] = {}
        events = db.execute(
            "SELECT tx_id, source_id FROM flow_events WHERE flow_id = ? AND step = ?", (flow, step)
        ).fetchall()
        for tx_id, source in events:
            assert _input_owners(db, tx_id) == {source}
            payers[source] = payers.get(source, 0) + 1
        assert payers == dict.fromkeys(members, count), flow
    # vmix goes from the group to itself: each member's coins come back to that member.
    payouts = db.execute(
        "SELECT tx_id, target_id FROM flow_events WHERE flow_id = 'vmix' AND step = 'mix-payout'"
    ).fetchall()
    assert sorted(t for _, t in payouts) == members
    for tx_id, target in payouts:
        owners = {
            r[0]
            for r in db.execute(
                "SELECT w.actor_id FROM outputs o JOIN addresses ad ON ad.id = o.address_id"
                " JOIN wallets w ON w.id = ad.wallet_id WHERE o.tx_id = ? AND ad.purpose = 'mixed'",
                (tx_id,),
            )
        }
        assert owners == {target}


def test_questions_hints_objectives_and_injects_rows(db, course):
    """Placeholders are filled per seat; objectives, hints and injects rows follow the scenario."""
    for seat in (1, 2):
        subject = _subject(db, seat)
        (handle,) = db.execute(
            "SELECT handle FROM accounts WHERE actor_id = ? ORDER BY id LIMIT 1", (subject,)
        ).fetchone()
        code, wallet = db.execute(
            "SELECT code, wallet_address FROM seats WHERE n = ?", (seat,)
        ).fetchone()
        questions = dict(
            db.execute(
                "SELECT objective_id, question FROM seat_objectives WHERE seat = ?", (seat,)
            ).fetchall()
        )
        assert len(questions) == len(course.objectives)
        assert all("{" not in q for q in questions.values())
        assert questions["name"] == f"What is the real name of the vendor {handle}?"
        assert questions["seize"] == f"Sweep {handle}'s coins to {wallet} (seat {code})."
        assert questions["published"] == "Address kestrel publishes?"
        injects = {r[0]: r for r in db.execute("SELECT * FROM injects ORDER BY position")}
        tip = json.loads(injects["tip"][6])[str(seat)]
        assert tip["text"] == f"Good. Now follow {handle}'s money."
        move = json.loads(injects["move"][6])[str(seat)]
        assert (move["actor"], move["to"], move["amount"]) == (subject, "bitbarn", 0.02)
        post = json.loads(injects["post"][6])[str(seat)]
        assert post["title"] == f"Where is {handle}?" and post["site"] == "forum"
        hints = db.execute(
            "SELECT objective_id, position, text, cost FROM hints WHERE seat = ?"
            " ORDER BY objective_id, position",
            (seat,),
        ).fetchall()
        assert hints == [
            ("name", 0, f"Search {handle} on Chirper.", 5),  # filled per seat
            ("name", 1, "Ask the exchange.", 8),
        ]
    assert [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in injects.values()] == [
        ("exit", 0, "at", 30.0, None, "exit_scam"),
        ("tip", 1, "solved", None, "name", "message"),
        ("move", 2, "manual", None, None, "move_funds"),
        ("post", 3, "at", 10.0, None, "forum_post"),
        ("down", 4, "manual", None, None, "site_offline"),
        ("up", 5, "manual", None, None, "site_online"),
    ]
    assert set(json.loads(injects["exit"][6])) == {str(n) for n in range(1, 7)}
    objectives = db.execute("SELECT * FROM objectives ORDER BY position").fetchall()
    assert [o[0] for o in objectives] == [o.id for o in course.objectives]
    by_id = {o[0]: o for o in objectives}
    assert by_id["name"][1:] == (0, 20, "nocase", 0.0, 0, 5, "[]")
    assert by_id["donated"][3:6] == ("number", 0.02, 1)  # "2%": a fraction
    assert by_id["seize"][2:] == (30, "sweep", 0.0, 0, 0, "[]")
    assert db.execute("SELECT DISTINCT seat FROM hints").fetchall() == [(n,) for n in range(1, 7)]


def test_artefacts_of_every_kind(db):
    """Each seat gets its brief, note, phone notes and screenshot, with its own details."""
    rows = db.execute(
        "SELECT seat, id, position, kind, title, filename, mime, content FROM artefacts"
        " ORDER BY seat, position"
    ).fetchall()
    assert len(rows) == 6 * 4
    first = [r[1:7] for r in rows[:4]]
    assert first == [
        ("brief", 0, "brief", "Case brief", "brief.md", "text/markdown"),
        ("notes", 1, "text", "Informant's note", "notes.txt", "text/plain"),
        ("phone", 2, "phone_notes", "Seized phone: notes", "phone-notes.txt", "text/plain"),
        ("shot", 3, "screenshot", "Screenshot from a tip-off", "screenshot.png", "image/png"),
    ]
    code, wallet, wif = db.execute(
        "SELECT code, wallet_address, wallet_wif FROM seats WHERE n = 1"
    ).fetchone()
    (onion,) = db.execute("SELECT address FROM sites WHERE id = 'market'").fetchone()
    brief = rows[0][7].decode()
    assert brief.startswith("# Tiny course\n")
    assert "four more vendors" in brief and code in brief and wallet in brief and wif in brief
    assert f"(http://{onion}/)" in brief
    notes = rows[1][7].decode()
    assert notes.startswith("Informant's note\n") and f"Your seat: {code}." in notes
    assert "{" not in (brief + notes).replace("{name.field}", "")  # the one literal pair
    image = Image.open(io.BytesIO(rows[3][7]))
    assert image.format == "PNG" and image.size == (1000, 620)
    shots = {r[7] for r in rows if r[1] == "shot"}
    assert len(shots) == 4  # one per vendor; seats 5 and 6 repeat seats 1 and 2


def test_phone_notes_hold_the_recovery_words_of_the_wallet(db):
    """The backup note's 12 BIP39 words derive (BIP84, as wallet apps do) the suspect's wallet."""
    for seat in (1, 4):
        subject = _subject(db, seat)
        (text,) = db.execute(
            "SELECT content FROM artefacts WHERE seat = ? AND id = 'phone'", (seat,)
        ).fetchone()
        text = text.decode()
        assert "wallet backup" in text and text.count("Created: ") >= 4
        found = re.search(r"^seed words:\n([a-z ]+)\n([a-z ]+)$", text, re.M)
        words = f"{found.group(1)} {found.group(2)}"
        assert len(words.split()) == 12 and bip39.mnemonic_is_valid(words)
        account = bip32.HDKey.from_seed(bip39.mnemonic_to_seed(words)).derive("m/84h/0h/0h")
        wallet = {
            a
            for (a,) in db.execute(
                "SELECT ad.address FROM addresses ad JOIN wallets w ON w.id = ad.wallet_id"
                " WHERE w.actor_id = ? AND w.kind = 'personal'",
                (subject,),
            )
        }
        derived = {
            p2wpkh_address(account.derive([chain, i]).key.get_public_key().sec())
            for chain in (0, 1)
            for i in range(len(wallet))
        }
        assert wallet <= derived  # every address of the wallet comes from the words
        unspent = {a for a, _ in _personal_outputs(db, subject, unspent=True)}
        assert unspent and unspent == set(_answers(db, seat)["seize"]["spend_from"])
        (receive,) = re.findall(r"^receive: (\S+)$", text, re.M)
        assert receive in wallet


def test_course_world_is_deterministic(course, course_world, tmp_path):
    """A second build gives the same digest, seats, answer key and artefact bytes."""
    again = tmp_path / "again.db"
    build_world(course, again, secret=SECRET)
    assert world_info(again)["digest"] == world_info(course_world)["digest"]
    for table in COURSE_TABLES:
        order = DIGEST_ORDER[table]
        a = sqlite3.connect(again).execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
        b = (
            sqlite3.connect(course_world)
            .execute(f"SELECT * FROM {table} ORDER BY {order}")
            .fetchall()
        )
        assert a == b and a, table
    meta = dict(sqlite3.connect(again).execute("SELECT key, value FROM meta"))
    assert meta["version"] == "2" and meta["brief_title"] == "Case brief"


def test_v1_world_has_empty_course_tables(tiny_db):
    """A world without objectives has the course tables, empty, and no trainees."""
    for table in COURSE_TABLES:
        assert tiny_db.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
    assert tiny_db.execute("SELECT count(*) FROM actors WHERE grp = 'trainees'").fetchone() == (0,)
    keys = {k for (k,) in tiny_db.execute("SELECT key FROM meta")}
    assert "version" not in keys


def test_key_command(sandbox, course_world, db, tiny_world):
    """`sandbox key` prints every seat's answers as JSON or a table, and one seat with --seat."""
    result = sandbox("key", course_world, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["scenario"] == "course" and len(data["seats"]) == 6
    seat = data["seats"][2]
    code, bindings, wallet = db.execute(
        "SELECT code, bindings, wallet_address FROM seats WHERE n = 3"
    ).fetchone()
    assert (seat["n"], seat["code"], seat["bindings"], seat["wallet"]) == (
        3,
        code,
        json.loads(bindings),
        wallet,
    )
    assert [o["id"] for o in seat["objectives"]][:3] == ["name", "username", "handle"]
    assert {o["id"]: o["answer"] for o in seat["objectives"]} == _answers(db, 3)
    name = seat["objectives"][0]
    assert set(name) == {"id", "question", "answer", "accept", "points", "compare"}
    assert (name["points"], name["compare"]) == (20, "nocase")
    one = json.loads(sandbox("key", course_world, "--json", "--seat", "3").output)
    assert one["seats"] == [seat]
    text = sandbox("key", course_world, "--seat", "3")
    assert text.exit_code == 0
    assert code in text.output and seat["objectives"][0]["answer"] in text.output
    assert f"subject={seat['bindings']['subject']}" in text.output
    assert data["seats"][0]["code"] not in text.output
    missing = sandbox("key", course_world, "--seat", "99")
    assert missing.exit_code == 1 and "no seat 99" in missing.output
    v1 = sandbox("key", tiny_world)
    assert v1.exit_code == 0 and "no objectives" in v1.output


def test_camera_serial_is_the_exif_serial_of_the_vendors_photos(db):
    """camera_serial names the serial the EXIF data of the actor's listing photos carries."""
    serials = {
        r[0]
        for r in db.execute(
            "SELECT p.camera_serial FROM photos p JOIN listings l ON l.id = p.listing_id "
            "JOIN accounts a ON a.id = l.account_id WHERE a.actor_id = 'kestrel'"
        )
    }
    assert _answers(db, 1)["camera"] in serials - {None}


def test_doubled_braces_stay_literal_in_texts(db):
    """`{{name.field}}` is written as `{name.field}`, not filled or refused."""
    (brief,) = db.execute(
        "SELECT content FROM artefacts WHERE seat = 1 AND id = 'brief'"
    ).fetchone()
    text = bytes(brief).decode() if not isinstance(brief, str) else brief
    assert "Placeholders look like {name.field}." in text
