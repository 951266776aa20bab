"""Exchanges' law-enforcement portals and their records."""

from __future__ import annotations

import html
import io
import ipaddress
import json
import re
import shutil
import sqlite3
import subprocess
import threading

import pytest
import requests
from werkzeug.serving import make_server

from sandbox.exchanges import create_app, is_frozen
from sandbox.scenario import load_scenario
from sandbox.world.exchange_records import write_exchange_records
from sandbox.world.secret import keyed_seed
from tests.course_secret import SECRET

DOC_NETS = [
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
]


@pytest.fixture(scope="module")
def world(tiny_world):
    """Facts of the tiny world the answers are checked against."""
    conn = sqlite3.connect(f"file:{tiny_world}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        cashout = conn.execute(
            """
            SELECT t.txid, o.value, a.address FROM flow_events f
            JOIN transactions t ON t.id = f.tx_id JOIN outputs o ON o.tx_id = t.id
            JOIN addresses a ON a.id = o.address_id
            WHERE f.flow_id = 'cashout' AND a.purpose = 'deposit:kestrel'
            """
        ).fetchone()
        hot = conn.execute(
            """
            SELECT a.address FROM addresses a JOIN wallets w ON w.id = a.wallet_id
            WHERE w.actor_id = 'bitbarn' AND w.kind = 'hot' ORDER BY a.id LIMIT 1
            """
        ).fetchone()[0]
        paid = conn.execute(
            """
            SELECT a.address FROM outputs o JOIN transactions t ON t.id = o.tx_id
            JOIN addresses a ON a.id = o.address_id JOIN wallets w ON w.id = a.wallet_id
            WHERE t.kind = 'withdrawal' AND w.actor_id = 'kestrel' LIMIT 1
            """
        ).fetchone()[0]
        batch = conn.execute(
            """
            SELECT t.txid FROM transactions t JOIN outputs o ON o.tx_id = t.id
            JOIN inputs i ON i.tx_id = t.id AND i.n = 0
            JOIN outputs po ON po.tx_id = i.prev_tx_id AND po.n = i.prev_n
            JOIN addresses pa ON pa.id = po.address_id JOIN wallets pw ON pw.id = pa.wallet_id
            WHERE t.kind = 'withdrawal' AND pw.actor_id = 'bitbarn'
            GROUP BY t.id HAVING count(*) > 3 LIMIT 1
            """
        ).fetchone()[0]
        name = conn.execute("SELECT name FROM actors WHERE id = 'bitbarn'").fetchone()[0]
        sweep = conn.execute(
            """
            SELECT t.txid FROM transactions t JOIN outputs o ON o.tx_id = t.id
            JOIN addresses a ON a.id = o.address_id JOIN wallets w ON w.id = a.wallet_id
            WHERE t.kind = 'sweep' AND w.actor_id = 'bitbarn' LIMIT 1
            """
        )
        kestrel = dict(conn.execute("SELECT * FROM actors WHERE id = 'kestrel'").fetchone())
        return {
            "address": cashout["address"],
            "txid": cashout["txid"],
            "value": cashout["value"],
            "hot": hot,
            "paid": paid,
            "batch": batch,
            "sweep": sweep.fetchone()[0],
            "kestrel": kestrel,
            "name": name,
        }
    finally:
        conn.close()


def requester(world_path, requester_id: str = "analyst") -> dict:
    """A requester of a world, with its credentials."""
    conn = sqlite3.connect(f"file:{world_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM requesters WHERE id = ?", (requester_id,)).fetchone()
    finally:
        conn.close()
    return dict(row)


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def log_in(client, who: dict) -> None:
    """Log a test client in to the portal's web pages as a requester."""
    token = csrf_of(client.get("/le/login").get_data(as_text=True))
    form = {"login": who["login"], "password": who["password"], "csrf": token}
    response = client.post("/le/login", data=form)
    assert response.status_code == 303, response.data


def _client(tiny_world, state, exchange="bitbarn", who="analyst"):
    """A test client of one exchange's app, logged in and sending the requester's API token."""
    client = create_app(tiny_world, exchange, state).test_client()
    creds = requester(tiny_world, who)
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {creds['token']}"
    log_in(client, creds)
    return client


def _form(client, body: dict) -> dict:
    """A request as the web form posts it, with the session's CSRF token."""
    return {**body, "csrf": csrf_of(client.get("/le/request").get_data(as_text=True))}


def _request(subject, **over):
    """A complete court-order request about subject asking for KYC and transactions."""
    body = {
        "agency": "National Crime Agency",
        "officer_name": "DC Jo Smith",
        "officer_email": "jo.smith@nca.gov.test",
        "case_number": "OP-KESTREL-7",
        "legal_basis": "court_order",
        "document_reference": "CO/2026/0042",
        "subject": subject,
        "requested": ["kyc", "transactions"],
    }
    body.update(over)
    return body


def _ask(client, subject, **over) -> dict:
    """Submit through the JSON API and return the answer."""
    response = client.post("/api/le/requests", json=_request(subject, **over))
    assert response.status_code in (201, 400), response.data
    return response.get_json()["answer"]


def test_cashout_deposit_address_gives_kestrel_kyc_and_deposits(tiny_world, world, tmp_path):
    """A court order about kestrel's cash-out deposit address returns his identity and deposits."""
    answer = _ask(_client(tiny_world, tmp_path), world["address"])
    assert answer["status"] == "answered"
    assert answer["subject"]["match"] == "deposit_address"
    (account,) = answer["accounts"]
    assert account["account_id"].startswith("BB-")
    who, k = account["subscriber"], world["kestrel"]
    for key in ("name", "birth_date", "nationality", "document_number", "street", "city"):
        assert who[key] == k[key]
    assert (who["phone"], who["email"]) == (k["phone"], k["email"])
    assert account["bank_account"]["iban"] == k["iban"]
    deposit = {d["txid"]: d for d in account["deposits"]}[world["txid"]]
    assert deposit["value"] == world["value"]
    assert deposit["address"] == world["address"]
    assert "logins" not in account  # not asked


def test_txid_subject_finds_the_same_customer(tiny_world, world, tmp_path):
    """The cash-out transaction's id leads to the same account as its deposit address."""
    client = _client(tiny_world, tmp_path)
    by_address = _ask(client, world["address"], requested=["kyc"])
    by_txid = _ask(client, world["txid"].upper(), requested=["kyc"])
    assert by_txid["subject"] == {"value": world["txid"], "type": "txid", "match": "deposit_tx"}
    assert by_txid["accounts"][0]["account_id"] == by_address["accounts"][0]["account_id"]


def test_withdrawal_destination_and_batches(tiny_world, world, tmp_path):
    """An address bitbarn paid out to is its customer's; a batch txid asks for an address."""
    client = _client(tiny_world, tmp_path)
    answer = _ask(client, world["paid"], requested=["transactions"])
    assert answer["subject"]["match"] == "withdrawal_destination"
    assert world["paid"] in {w["address"] for w in answer["accounts"][0]["withdrawals"]}
    batch = _ask(client, world["batch"])
    assert batch["reason"] == "batched_withdrawal"
    assert batch["accounts"] == [] and len(batch["outputs"]) > 1


def test_other_exchange_has_no_records(tiny_world, world, tmp_path):
    """coinvault knows nothing of bitbarn's deposit address."""
    answer = _ask(_client(tiny_world, tmp_path, "coinvault"), world["address"])
    assert (answer["status"], answer["reason"]) == ("refused", "no_records")
    assert "no records responsive" in answer["message"].lower()
    assert answer["accounts"] == []


def test_own_hot_wallet_and_sweep_are_operational(tiny_world, world, tmp_path):
    """The hot wallet and a sweep are the exchange's own: no customer data."""
    client = _client(tiny_world, tmp_path)
    for subject in (world["hot"], world["sweep"]):
        answer = _ask(client, subject)
        assert answer["reason"] == "operational_wallet", answer
        assert "own operational wallet" in answer["message"]
        assert answer["accounts"] == []


def test_incomplete_request_refused(tiny_world, world, tmp_path):
    """Missing fields: the API answers 400 with field errors; the form shows a refusal."""
    client = _client(tiny_world, tmp_path)
    response = client.post("/api/le/requests", json=_request(world["address"], agency=""))
    assert response.status_code == 400
    body = response.get_json()
    assert [e["field"] for e in body["errors"]] == ["agency"]
    assert body["answer"]["reason"] == "incomplete" and body["answer"]["accounts"] == []
    form = {"subject": world["address"], "legal_basis": "subpoena", "requested": ["kyc"]}
    form = _form(client, {**form, "officer_email": ""})
    page = client.post("/le/request", data=form, follow_redirects=True)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Incomplete request" in text and "Officer email is required" in text
    assert "Shaun" not in text


def test_missing_document_reference_and_no_asks(tiny_world, world, tmp_path):
    """A court order needs its reference number; something must be asked."""
    client = _client(tiny_world, tmp_path)
    response = client.post(
        "/api/le/requests", json=_request(world["address"], document_reference="", requested=[])
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert fields == {"document_reference", "requested"}


@pytest.mark.parametrize(
    "subject", ["bc1qnotanaddress", "1BoatSLRHtKNngkdXEeobR76b53LETtpyX", "ab" * 31]
)
def test_malformed_subject_refused(tiny_world, subject, tmp_path):
    """A subject that is neither a valid address nor 64 hex characters is refused."""
    response = _client(tiny_world, tmp_path).post("/api/le/requests", json=_request(subject))
    assert response.status_code == 400
    body = response.get_json()
    assert body["errors"][0]["field"] == "subject"
    assert body["answer"]["reason"] == "malformed_subject"


def test_informal_request_confirms_and_preserves_only(tiny_world, world, tmp_path):
    """Without legal process the exchange only confirms it holds records and preserves them."""
    answer = _ask(
        _client(tiny_world, tmp_path),
        world["address"],
        legal_basis="informal",
        document_reference="",
        requested=["kyc", "transactions", "logins"],
    )
    assert (answer["status"], answer["reason"]) == ("refused", "legal_basis")
    assert answer["records_held"] is True and answer["accounts"] == []
    assert answer["preservation"]["until"] > answer["date"]
    assert {r["item"] for r in answer["refused"]} == {"kyc", "transactions", "logins"}
    assert "Shaun" not in json.dumps(answer)


def test_emergency_gets_subscriber_info_only(tiny_world, world, tmp_path):
    """An emergency request gets KYC with a note; transactions need legal process."""
    answer = _ask(
        _client(tiny_world, tmp_path),
        world["address"],
        legal_basis="emergency",
        details="Threat to life posted on a forum.",
    )
    assert answer["status"] == "partially answered"
    assert answer["provided"] == ["kyc"]
    assert [r["item"] for r in answer["refused"]] == ["transactions"]
    assert "deposits" not in answer["accounts"][0]
    assert answer["accounts"][0]["subscriber"]["name"] == world["kestrel"]["name"]
    assert any("emergency" in n for n in answer["notes"])


def test_freeze_needs_a_court_order(tiny_world, world, tmp_path):
    """A subpoena gets records but no freeze; a court order freezes the account."""
    client = _client(tiny_world, tmp_path)
    assert not is_frozen(tmp_path, "bitbarn", "kestrel")
    answer = _ask(client, world["address"], legal_basis="subpoena", requested=["kyc", "freeze"])
    assert answer["status"] == "partially answered"
    assert (
        answer["refused"][0]["item"] == "freeze" and "court order" in answer["refused"][0]["reason"]
    )
    assert not is_frozen(tmp_path, "bitbarn", "kestrel")

    answer = _ask(client, world["address"], requested=["freeze"])
    assert answer["status"] == "answered"
    assert answer["accounts"][0]["status"] == "frozen"
    assert answer["accounts"][0]["freeze"]["status"] == "frozen"
    assert is_frozen(tmp_path, "bitbarn", "kestrel")
    assert not is_frozen(tmp_path, "coinvault", "kestrel")
    again = _ask(client, world["txid"], requested=["freeze"])
    assert again["accounts"][0]["freeze"]["status"] == "already frozen"


def test_logins_and_planted_correlations(tiny_world, world, tmp_path, tiny_db):
    """Login IPs come from documentation ranges; kestrel slips his home IP, admin his server's."""
    for (ip,) in tiny_db.execute("SELECT ip FROM exchange_logins"):
        assert any(ipaddress.ip_address(ip) in net for net in DOC_NETS), ip
    answer = _ask(_client(tiny_world, tmp_path), world["address"], requested=["logins"])
    logins = answer["accounts"][0]["logins"]
    assert logins and all({"time", "ip", "user_agent", "country"} <= set(x) for x in logins)
    assert "GB" in {x["country"] for x in logins}  # his real home IP, among VPN exits
    server = tiny_db.execute("SELECT server_ip FROM sites WHERE id = 'market'").fetchone()[0]
    admin = {
        r[0] for r in tiny_db.execute("SELECT ip FROM exchange_logins WHERE actor_id = 'admin'")
    }
    assert server in admin
    others = tiny_db.execute(
        "SELECT count(*) FROM exchange_logins WHERE ip = ? AND actor_id != 'admin'", (server,)
    ).fetchone()[0]
    assert others == 0


def test_accounts_cover_every_customer(tiny_db):
    """Everyone who deposited or banks with an exchange has an account opened before it."""
    rows = tiny_db.execute(
        """
        SELECT a.purpose, min(b.time), w.actor_id FROM addresses a
        JOIN wallets w ON w.id = a.wallet_id JOIN outputs o ON o.address_id = a.id
        JOIN transactions t ON t.id = o.tx_id JOIN blocks b ON b.height = t.height
        WHERE w.kind = 'deposit' GROUP BY a.id
        """
    ).fetchall()
    opened = {(r[0], r[1]): r[2] for r in tiny_db.execute(
        "SELECT exchange_id, actor_id, opened FROM exchange_accounts")}  # fmt: skip
    assert rows
    for purpose, first, exchange in rows:
        assert opened[(exchange, purpose.split(":", 1)[1])] < first
    banked = tiny_db.execute("SELECT exchange_id, id FROM actors WHERE exchange_id IS NOT NULL")
    assert all(tuple(r) in opened for r in banked)


def test_exchange_records_are_deterministic(tiny_path, tiny_world, tmp_path):
    """The same world and seed give the same accounts and logins, row for row."""
    public = load_scenario(str(tiny_path))
    scenario = public.with_seed(keyed_seed(public.world.seed, SECRET))  # as the build keys it
    dumps = []
    for n in range(2):
        path = tmp_path / f"w{n}.db"
        shutil.copy(tiny_world, path)
        conn = sqlite3.connect(path)
        conn.execute("DELETE FROM exchange_accounts")
        conn.execute("DELETE FROM exchange_logins")
        write_exchange_records(conn, scenario, scenario.world.seed)
        dumps.append(
            [
                conn.execute("SELECT * FROM exchange_accounts ORDER BY 1, 2").fetchall(),
                conn.execute("SELECT * FROM exchange_logins ORDER BY 1, 2, 3, 4").fetchall(),
            ]
        )
        conn.close()
    assert dumps[0] == dumps[1]
    assert len(dumps[0][0]) > 10 and len(dumps[0][1]) > 50
    built = sqlite3.connect(tiny_world)
    assert built.execute("SELECT * FROM exchange_accounts ORDER BY 1, 2").fetchall() == dumps[0][0]
    built.close()


def _pdf_text(data: bytes) -> str:
    """The text of a PDF, with pypdf or pdftotext; skip when neither is installed."""
    try:
        from pypdf import PdfReader
    except ImportError:
        if shutil.which("pdftotext") is None:
            pytest.skip("neither pypdf nor pdftotext is installed")
        out = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True)
        return out.stdout.decode()
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_audit_log_survives_restart_and_downloads(tiny_world, world, tmp_path):
    """Requests stay in the log across app restarts; JSON and PDF carry case and answer."""
    answer = _ask(_client(tiny_world, tmp_path), world["address"])
    _ask(_client(tiny_world, tmp_path), world["address"], agency="")
    client = _client(tiny_world, tmp_path)
    listing = client.get("/le/requests").get_data(as_text=True)
    assert answer["reference"] in listing and "OP-KESTREL-7" in listing
    assert client.get("/api/le/requests").get_json()["requests"][0]["reference"].endswith("00002")
    page = client.get("/le/requests/1").get_data(as_text=True)
    assert world["kestrel"]["name"] in page and world["txid"] in page

    download = client.get("/le/requests/1.json")
    assert download.mimetype == "application/json"
    assert "attachment" in download.headers["Content-Disposition"]
    data = json.loads(download.data)
    assert data["request"]["case_number"] == "OP-KESTREL-7"
    assert data["answer"] == answer

    pdf = client.get("/le/requests/1.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    text = _pdf_text(pdf.data)
    for expected in ("OP-KESTREL-7", answer["reference"], world["kestrel"]["name"], world["txid"]):
        assert expected in text
    assert answer["accounts"][0]["account_id"] in text

    assert client.get("/le/requests/99").status_code == 404
    assert client.get("/api/le/requests/99").status_code == 404
    log = sqlite3.connect(tmp_path / "exchanges.db")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        log.execute("UPDATE requests SET status = 'answered'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        log.execute("DELETE FROM requests")
    log.close()


def test_each_exchange_numbers_its_own_requests(tiny_world, world, tmp_path):
    """Two exchanges share the state file but keep separate logs."""
    bitbarn, coinvault = _client(tiny_world, tmp_path), _client(tiny_world, tmp_path, "coinvault")
    assert _ask(bitbarn, world["address"])["reference"] == "BB-LE-00001"
    assert _ask(coinvault, world["address"])["reference"] == "CV-LE-00001"
    assert len(coinvault.get("/api/le/requests").get_json()["requests"]) == 1


def test_json_api(tiny_world, world, tmp_path):
    """POST gives 201 with id and answer and a Location; GET returns it; bad bodies 400."""
    client = _client(tiny_world, tmp_path)
    response = client.post("/api/le/requests", json=_request(world["address"]))
    assert response.status_code == 201
    body = response.get_json()
    assert body["id"] == 1 and body["answer"]["status"] == "answered"
    assert response.headers["Location"].endswith("/api/le/requests/1")
    fetched = client.get("/api/le/requests/1").get_json()
    assert fetched["answer"] == body["answer"] and fetched["request"]["subject"] == world["address"]
    bad = client.post("/api/le/requests", data="not json", content_type="text/plain")
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "body"
    csv = client.post("/api/le/requests", json=_request(world["address"], requested="kyc, logins"))
    assert csv.status_code == 201 and csv.get_json()["answer"]["provided"] == ["kyc", "logins"]


def test_request_fields_are_escaped(tiny_world, world, tmp_path):
    """A script in the agency name comes back escaped on every page."""
    client = _client(tiny_world, tmp_path)
    evil = "<script>alert(1)</script>"
    form = _form(client, _request(world["address"], agency=evil, details=evil))
    page = client.post("/le/request", data=form, follow_redirects=True).get_data(as_text=True)
    assert evil not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    listing = client.get("/le/requests").get_data(as_text=True)
    assert evil not in listing and "&lt;script&gt;" in listing


def test_public_pages(tiny_world, world, tmp_path):
    """Home and law-enforcement pages carry the exchange's name; assets are local."""
    client = _client(tiny_world, tmp_path)
    home = html.unescape(client.get("/").get_data(as_text=True))  # names such as O'Brien
    assert "Buy bitcoin" in home and "Fees" in home and world["name"] in home
    policy = client.get("/law-enforcement").get_data(as_text=True)
    assert "court order" in policy.lower() and "MLAT" in policy
    assert "http://" not in home + policy and "https://" not in home + policy
    assert client.get("/static/exchange.css").status_code == 200
    form = client.get("/le/request").get_data(as_text=True)
    for name in ("agency", "officer_name", "officer_email", "case_number", "legal_basis",
                 "document_reference", "subject", "requested"):  # fmt: skip
        assert f'name="{name}"' in form


def test_served_over_http(tiny_world, world, tmp_path):
    """On a real loopback server, a tool posts a request and downloads the PDF."""
    server = make_server("127.0.0.1", 0, create_app(tiny_world, "bitbarn", tmp_path), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        analyst = requester(tiny_world)
        response = requests.post(
            f"{base}/api/le/requests",
            json=_request(world["txid"]),
            headers={"Authorization": f"Bearer {analyst['token']}"},
            timeout=10,
        )
        assert response.status_code == 201
        assert (
            response.json()["answer"]["accounts"][0]["subscriber"]["name"]
            == world["kestrel"]["name"]
        )
        browser = requests.Session()
        page = browser.get(f"{base}/le/login", timeout=10).text
        form = {"login": "analyst", "password": analyst["password"], "csrf": csrf_of(page)}
        assert browser.post(f"{base}/le/login", data=form, timeout=10).ok
        pdf = browser.get(base + response.json()["links"]["pdf"], timeout=10)
        assert pdf.headers["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    finally:
        server.shutdown()
        server.server_close()
