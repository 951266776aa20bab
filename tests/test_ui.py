"""`investigate ui`: the browser workspace, served for real over a case of the tiny world.

The case is a copy of the session's crawl of the tiny world, extracted; the world is
served (its explorer on a loopback port) for the module, and the workspace runs on
waitress on 127.0.0.1 in front of the same case file. Clients are `requests` sessions
(one with the token's cookie, one without) and, in the browser tests, headless Chromium.
"""

from __future__ import annotations

import hashlib
import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from investigator_tools.case import Case
from investigator_tools.chain.labels import set_label
from investigator_tools.chain.sync import sync
from investigator_tools.esplora import Esplora
from investigator_tools.extract import extract
from investigator_tools.report import write_report
from investigator_tools.ui import Settings, UiServer
from investigator_tools.ui.app import COOKIE
from investigator_tools.ui.evidence import CAPTURE_CSP
from sandbox.serve import Sandbox
from tests.processes import as_from_a_terminal, stop
from tests.test_portal_server import hang_up_trigger
from tests.test_report import _analyst_token

UI = Path(__file__).resolve().parent.parent / "investigator_tools" / "ui"
OPERATOR = "trainee7@classroom"


@pytest.fixture(scope="module")
def world(tiny_world, tiny_crawl, tmp_path_factory):
    """The served tiny world and an extracted, synced case of it; the address to follow."""
    folder = tmp_path_factory.mktemp("ui")
    path = tiny_crawl.copy_to(folder)
    with Sandbox(
        tiny_world, socks_port=0, http_port=0, explorer_port=0, state=folder / "state"
    ) as sandbox:
        port = next(s.port for s in sandbox.sites if s.site_id == "explorer")
        explorer = f"http://127.0.0.1:{port}/"
        with Case(path, operator=OPERATOR) as case:
            case.begin("investigate extract")
            extract(case)
            case.begin(f"investigate sync --explorer {explorer}")
            sync(case, Esplora(explorer))
            # The crawled address the chain paid most often: one with counterparties to draw.
            address = case.conn.execute(
                "SELECT a.normalized FROM artefacts a JOIN chain_addresses c ON c.address ="
                " a.normalized JOIN chain_outputs o ON o.address_id = c.id WHERE a.kind ="
                " 'btc_address' GROUP BY a.normalized ORDER BY COUNT(*) DESC LIMIT 1"
            ).fetchone()[0]
        host, socks_port = sandbox.gateway.socks_address
        yield {
            "case": path,
            "explorer": explorer,
            "address": address,
            "folder": folder,
            "proxy": f"socks5h://{host}:{socks_port}",
            "exchanges": {s.name: s.address for s in sandbox.sites if s.kind == "exchange"},
            "token": _analyst_token(tiny_world),
            "market": next(s.address for s in sandbox.sites if s.site_id == "market"),
            "state": folder / "state",
        }


def _serve(world) -> UiServer:
    """A workspace over the module's case, with a fresh token."""
    settings = Settings(
        world["case"], explorer=world["explorer"], proxy=world["proxy"], operator=OPERATOR
    )
    return UiServer(settings, 0).start()


@pytest.fixture(scope="module")
def ui(world):
    """The workspace, served for the module."""
    server = _serve(world)
    yield server
    server.stop()


@pytest.fixture
def client(ui) -> requests.Session:
    """A session that opened the printed URL: it holds the cookie."""
    session = requests.Session()
    session.trust_env = False
    response = session.get(ui.url, allow_redirects=False)
    assert response.status_code == 303
    assert session.cookies.get(COOKIE) == ui.settings.token
    return session


def _post(session: requests.Session, ui: UiServer, path: str, body) -> requests.Response:
    """A JSON POST as the workspace's pages send it."""
    return session.post(ui.base + path.lstrip("/"), json=body)


# -- the token -----------------------------------------------------------------------------


PAGES = [
    "",
    "collect/",
    "collect/api/status",
    "evidence/artefacts",
    "evidence/api/artefacts",
    "evidence/captures",
    "evidence/captures/1",
    "evidence/captures/1/body",
    "evidence/custody",
    "evidence/correlations",
    "evidence/api/correlations",
    "money/",
    "money/api/graph",
    "act/requests",
    "act/sweep",
    "report/",
    "static/vendor/cytoscape.min.js",
]


def test_without_the_token_every_page_is_403(ui, client):
    """A second session without the cookie, or with a wrong token, gets 403 everywhere."""
    stranger = requests.Session()
    stranger.trust_env = False
    for path in PAGES:
        assert stranger.get(ui.base + path).status_code == 403, path
        assert client.get(ui.base + path).status_code == 200, path
    assert stranger.get(ui.base + "?token=" + "x" * 43).status_code == 403
    assert stranger.get(ui.base + "?token=%C3%A9t%C3%A9").status_code == 403  # not ASCII
    assert stranger.get(ui.base, cookies={COOKIE: "wrong"}).status_code == 403
    response = stranger.post(ui.base + "money/api/add", json={"target": "x"})
    assert response.status_code == 403


def test_the_token_becomes_a_strict_httponly_cookie(ui):
    """The URL's token sets the cookie (HttpOnly, SameSite=Strict) and is dropped from the URL."""
    response = requests.get(ui.url + "&x=1", allow_redirects=False)
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).query == "x=1"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}={ui.settings.token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie


def test_it_listens_on_loopback_only(ui):
    """The server is bound to 127.0.0.1 and the token is long and random."""
    assert ui.base.startswith("http://127.0.0.1:")
    assert len(ui.settings.token) >= 40
    assert Settings("x.db").token != Settings("x.db").token


def test_every_page_has_a_strict_policy(ui, client):
    """Scripts and styles from the app only, no inline script, framing by the app only."""
    for path in PAGES[:-1]:
        headers = client.get(ui.base + path).headers
        csp = headers["Content-Security-Policy"]
        if path.endswith("/body"):
            continue
        assert "default-src 'self'" in csp and "script-src 'self'" in csp, path
        assert "unsafe-inline" not in csp and "frame-ancestors 'self'" in csp, path
        assert "img-src 'self' data:" in csp and "frame-src 'self'" in csp
        assert headers["X-Frame-Options"] == "SAMEORIGIN"
    for template in (UI / "templates").glob("*.html"):
        text = template.read_text(encoding="utf-8")
        # No inline script or style, no handler attribute: the CSP would block them anyway.
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"\son[a-z]+=|\sstyle=|<style", text), template.name


def test_changes_must_be_json_from_the_app(ui, client):
    """A form post (what a hostile page could send) is refused; so is a foreign Origin."""
    response = client.post(ui.base + "money/api/add", data={"target": "x"})
    assert response.status_code == 415
    response = client.post(
        ui.base + "money/api/add",
        json={"target": "x"},
        headers={"Origin": "http://evil.example"},
    )
    assert response.status_code == 403


# -- evidence ------------------------------------------------------------------------------


def test_artefacts_json_has_every_sighting_in_full(world, ui, client):
    """Every artefact of the case: kind, whole value, URL, capture time and SHA-256."""
    rows = client.get(ui.base + "evidence/api/artefacts").json()["artefacts"]
    with Case(world["case"]) as case:
        stored = case.conn.execute(
            "SELECT a.kind, a.normalized, a.url, c.sha256 FROM artefacts a"
            " JOIN captures c ON c.id = a.capture_id"
        ).fetchall()
    assert len(rows) == len(stored) > 20
    assert {(r["kind"], r["value"], r["url"], r["sha256"]) for r in rows} == {
        tuple(s) for s in stored
    }
    assert any(len(r["value"]) > 60 for r in rows if r["kind"] == "pgp_key") or any(
        r["kind"] == "btc_address" and len(r["value"]) >= 42 for r in rows
    )
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", r["fetched_at"]) for r in rows)


def test_captures_and_custody_pages_show_the_case(world, ui, client):
    """The captures list (URL, time, proxy, SHA-256) and every custody entry."""
    with Case(world["case"]) as case:
        captures = case.captures()
        custody = case.custody()
    page = client.get(ui.base + "evidence/captures").text
    for c in captures[:40]:
        assert c.sha256 in page and f'captures/{c.id}"' in page
    assert captures[0].via and captures[0].via in page
    page = client.get(ui.base + "evidence/custody").text
    assert "Every capture matches" in page
    for entry in custody:
        assert entry["command"][:40].replace("'", "&#39;") in page


def test_correlations_are_run_and_listed_with_their_evidence(world, ui, client):
    """The toolkit's correlate from the page: each link with its sites and evidence."""
    from investigator_tools.correlate import correlate

    response = _post(client, ui, "evidence/api/correlate", {})
    assert response.status_code == 200, response.text
    links = response.json()["links"]
    assert client.get(ui.base + "evidence/api/correlations").json()["links"] == links
    with Case(world["case"]) as case:
        expected = correlate(case).links
    assert {(link["family"], link["value"]) for link in links} == {
        (link.family, link.value) for link in expected
    }
    assert any(link["value"] == "kestrel" for link in links)
    for link in links:
        assert len(link["sites"]) >= 2 and all(e["sha256"] and e["url"] for e in link["evidence"])
    response = _post(client, ui, "evidence/api/correlate", {"families": ["shoe_size"]})
    assert response.status_code == 400 and "families: expected" in response.json()["error"]


def test_a_capture_opens_in_a_frame_that_runs_nothing(world, ui, client):
    """The frame is sandbox="" and the body comes with a CSP that forbids every load."""
    with Case(world["case"]) as case:
        page = next(c for c in case.captures() if (c.content_type or "").startswith("text/html"))
    html = client.get(ui.base + f"evidence/captures/{page.id}").text
    frame = re.search(r"<iframe[^>]*>", html).group(0)
    assert 'sandbox=""' in frame and f'src="/evidence/captures/{page.id}/body"' in frame
    body = client.get(ui.base + f"evidence/captures/{page.id}/body")
    assert body.content == page.body
    assert hashlib.sha256(body.content).hexdigest() == page.sha256
    csp = body.headers["Content-Security-Policy"]
    assert csp == CAPTURE_CSP
    assert csp.startswith("default-src 'none'; img-src data:") and "sandbox" in csp
    assert "script-src" not in csp and body.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(ui.base + "evidence/captures/999999").status_code == 404


# -- collect -------------------------------------------------------------------------------


def _crawl_state(session, ui, until: tuple[str, ...]) -> dict:
    """The crawl's state once it is in one of `until` (polled; the crawl runs in a thread)."""
    for _ in range(1200):
        state = session.get(ui.base + "collect/api/status").json()
        if state["status"] in until:
            return state
        time.sleep(0.1)
    raise AssertionError(f"the crawl never reached {until}: {state}")


def _newest_captcha_answer(world) -> str:
    """What the trainee reads in the picture: the newest challenge's answer in the site's state."""
    conn = sqlite3.connect(world["state"] / "state.db")
    try:
        return conn.execute("SELECT answer FROM captchas ORDER BY id DESC LIMIT 1").fetchone()[0]
    finally:
        conn.close()


def test_a_crawl_started_in_the_page_is_answered_there_and_captured(world, ui, client):
    """A crawl behind the market's login wall: the CAPTCHAs (the login's, then the
    registration's) are shown by the page and answered there; the walled page is captured."""
    wall = f"http://{world['market']}/messages?to=kestrel"
    for body, message in (
        ({"urls": []}, "urls: expected"),
        ({"urls": [wall], "depth": -1}, "depth -1"),
        ({"urls": [wall], "login": "nopassword"}, "USER:PASSWORD"),
    ):
        response = _post(client, ui, "collect/api/start", body)
        assert response.status_code == 400 and message in response.json()["error"], body
    assert _post(client, ui, "collect/api/captcha", {"answer": "x"}).status_code == 400
    body = {
        "urls": [wall],
        "depth": 0,
        "max_pages": 5,
        "rate": 0,
        "no_probe": True,
        "no_images": True,
        "fresh": True,  # the session's crawl logged in already: forget its cookies
        "login": "pageuser:a long pass 51",
    }
    response = _post(client, ui, "collect/api/start", body)
    assert response.status_code == 200, response.text
    answered = 0
    while True:
        state = _crawl_state(client, ui, ("captcha", "done", "stopped", "failed"))
        if state["status"] != "captcha":
            break
        assert state["captcha"]["src"].startswith("data:image/png;base64,")
        again = _post(client, ui, "collect/api/start", body)
        assert again.status_code == 400 and "running already" in again.json()["error"]
        response = _post(
            client, ui, "collect/api/captcha", {"answer": _newest_captcha_answer(world)}
        )
        assert response.status_code == 200, response.text
        answered += 1
    assert state["status"] == "done", state
    assert answered == 2 and world["market"] in state["result"]["logins"]
    # The new captures were extracted at the end: their artefacts are in the table.
    assert state["extracted"]["read"] >= 1
    rows = client.get(ui.base + "evidence/api/artefacts").json()["artefacts"]
    assert any(r["url"] == wall for r in rows)
    again = _post(client, ui, "evidence/api/extract", {})
    assert again.status_code == 200 and again.json()["read"] == 0
    bad = _post(client, ui, "evidence/api/extract", {"rescan": "yes"})
    assert bad.status_code == 400 and "rescan: expected" in bad.json()["error"]
    with Case(world["case"]) as case:
        body_of_wall = next(c.body for c in case.captures() if c.url == wall)
        custody = [e["command"] for e in case.custody()]
    assert b"Logged in as" in body_of_wall
    crawl_entry = next(c for c in custody if c.startswith("investigate ui: crawl "))
    assert "--login ***" in crawl_entry and "a long pass" not in crawl_entry


# -- follow the money ----------------------------------------------------------------------


def test_add_expand_annotate_survive_a_restart_and_reach_the_report(world, ui, client):
    """An address is added and expanded (amounts, labels, the rest folded); notes and tags on
    a node and a link are kept in the case, there after a restart, and in the report."""
    address = world["address"]
    response = _post(client, ui, "money/api/add", {"target": address})
    assert response.status_code == 200, response.text
    assert response.json()["node"] == {"id": address, "kind": "address"}
    response = _post(client, ui, "money/api/expand", {"node": address, "top": 2})
    assert response.status_code == 200, response.text
    graph = response.json()["graph"]
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert nodes[address]["expanded"] and len(nodes) >= 3
    edges = [e for e in graph["edges"] if address in (e["source"], e["target"])]
    assert edges and all(e["amount"] > 0 for e in edges)
    # At most two drawn each way; any more are one folded node per side, with their sum.
    for side in ("in", "out"):
        drawn = [e for e in edges if (e["target"] if side == "in" else e["source"]) == address]
        assert len([e for e in drawn if not e["id"].count("rest:")]) <= 2
        rest = nodes.get(f"rest:{address}:{side}")
        if rest:
            assert rest["kind"] == "rest" and rest["data"]["count"] >= 1
    # A label set on the command line meanwhile shows on the graph.
    with Case(world["case"]) as case:
        set_label(case, address, "Vendor hot wallet", "suspect")
    edge = edges[0]
    note = _post(
        client,
        ui,
        "money/api/annotate",
        {"kind": "node", "target": address, "note": "Paid by the buyers", "tags": ["vendor", "x"]},
    )
    assert note.status_code == 200, note.text
    note = _post(
        client,
        ui,
        "money/api/annotate",
        {"kind": "edge", "target": edge["id"], "note": "First payment", "tags": ["flow"]},
    )
    assert note.status_code == 200, note.text
    saved = _post(client, ui, "money/api/layout", {"positions": {address: [10.5, -20]}})
    assert saved.json() == {"saved": 1}

    # A restart: a new server, a new token, the same case file.
    again = _serve(world)
    try:
        session = requests.Session()
        session.trust_env = False
        session.get(again.url)
        graph = session.get(again.base + "money/api/graph").json()
        assert again.settings.token != ui.settings.token
    finally:
        again.stop()
    node = next(n for n in graph["nodes"] if n["id"] == address)
    assert node["note"] == "Paid by the buyers" and node["tags"] == ["vendor", "x"]
    assert node["position"] == {"x": 10.5, "y": -20.0}
    assert node["label"] == "Vendor hot wallet" and node["label_source"] == "analyst"
    link = next(e for e in graph["edges"] if e["id"] == edge["id"])
    assert link["note"] == "First payment" and link["tags"] == ["flow"]

    with Case(world["case"], operator=OPERATOR) as case:
        result = write_report(case, world["folder"] / "report")
        custody = [e["command"] for e in case.custody()]
    html = result.files["html"].read_text(encoding="utf-8")
    section = html[html.index('id="annotations"') : html.index('id="graph"')]
    assert "Paid by the buyers" in section and "vendor, x" in section
    assert "First payment" in section and "flow" in section and address in section
    assert f"investigate ui: expand {address} --top 2" in custody
    assert f"investigate ui: annotate node {address}" in custody


def test_expanded_links_keep_when_each_payment_was_made(world, ui, client):
    """Each link an expansion draws keeps its payments' block times and amounts (what the
    page's time window filters): they add up to the link's amount, and each time is a block
    time of one of the address's transactions."""
    address = world["address"]
    _post(client, ui, "money/api/add", {"target": address})
    response = _post(client, ui, "money/api/expand", {"node": address, "top": 1})
    assert response.status_code == 200, response.text
    edges = [
        e
        for e in response.json()["graph"]["edges"]
        if address in (e["source"], e["target"]) and e["asset"] is None
    ]
    with Case(world["case"]) as case:
        times = {
            r[0]
            for r in case.conn.execute(
                "SELECT b.time FROM chain_addresses a JOIN ("
                " SELECT address_id, tx_id FROM chain_outputs UNION"
                " SELECT address_id, tx_id FROM chain_inputs) u ON u.address_id = a.id"
                " JOIN chain_txs t ON t.id = u.tx_id JOIN chain_blocks b ON b.height = t.height"
                " WHERE a.address = ?",
                (address,),
            )
        }
    assert edges and any(
        e["source"].startswith("rest:") or e["target"].startswith("rest:") for e in edges
    )
    for edge in edges:
        assert edge["times"], edge["id"]
        assert {t for t, _ in edge["times"]} <= times, edge["id"]
        # Each payment's share is rounded to a satoshi: at most half a satoshi off each.
        assert abs(sum(a for _, a in edge["times"]) - edge["amount"]) <= len(edge["times"])


def test_auto_trace_draws_its_hops_and_the_report_keeps_it(world, ui, client):
    """A trace from the address (the toolkit's, stopping at labelled services) draws each
    hop's transaction with the traced amounts, and is kept in the case for the report."""
    from investigator_tools.chain.labels import LabelBook
    from investigator_tools.chain.trace import trace

    address = world["address"]
    assert _post(client, ui, "money/api/add", {"target": address}).status_code == 200
    response = _post(
        client,
        ui,
        "money/api/trace",
        {"target": address, "method": "fifo", "direction": "forward", "hops": 3},
    )
    assert response.status_code == 200, response.text
    done = response.json()
    with Case(world["case"]) as case:
        expected = trace(case, address, hops=3, method="fifo", labels=LabelBook(case)).as_dict()
    assert done["hops"] == len(expected["hops"]) >= 1
    nodes = {n["id"]: n for n in done["graph"]["nodes"]}
    edges = {e["id"]: e for e in done["graph"]["edges"]}
    for hop in expected["hops"]:
        assert (
            nodes[hop["txid"]]["kind"] == "tx" and nodes[hop["txid"]]["data"]["hop"] == hop["hop"]
        )
        for o in hop["outputs"]:
            if o["tainted"]:
                assert edges[f"{hop['txid']}>{o['address']}"]["amount"] > 0
    assert [s["label"] for s in done["services"]] == [s["label"] for s in expected["services"]]
    with Case(world["case"], operator=OPERATOR) as case:
        html = write_report(case, world["folder"] / "report-trace").files["html"].read_text()
    assert all(h["txid"] in html for h in expected["hops"])
    for body, message in (
        ({"target": address, "method": "magic"}, "method 'magic'"),
        ({"target": address, "hops": 0}, "hops 0"),
        ({"target": address, "direction": "sideways"}, "direction 'sideways'"),
        ({"target": "bc1qtypo"}, "target 'bc1qtypo'"),
    ):
        response = _post(client, ui, "money/api/trace", body)
        assert response.status_code == 400 and message in response.json()["error"], body


def test_a_request_prefilled_from_the_graph_gets_the_kyc_answer(world, ui, client):
    """The exchange the money reached is asked about the deposit that fed it, from the
    page's form: the answer is stored in the case and listed; the token is not stored."""
    from investigator_tools.chain.labels import LabelBook
    from investigator_tools.chain.trace import trace

    with Case(world["case"]) as case:
        books = LabelBook(case, Esplora(world["explorer"]))
        result = trace(case, world["address"], hops=8, labels=books).as_dict()
    service = next(
        e
        for e in result["endpoints"]
        if e["kind"] == "service" and e["label"] in world["exchanges"]
    )
    hop = next(h for h in result["hops"] if h["txid"] == service["txid"])
    deposit = max(hop["inputs"], key=lambda i: i["tainted"])["address"]
    page = client.get(ui.base + "act/requests", params={"subject": deposit}).text
    assert f'value="{deposit}"' in page
    body = {
        "exchange": world["exchanges"][service["label"]],
        "subject": deposit,
        "asks": ["kyc", "transactions"],
        "legal_basis": "court_order",
        "document_ref": "CO-2026-17",
        "case_number": "OP-UI-1",
        "agency": "Cyber Unit",
        "officer": "J. Smith",
        "email": "j.smith@police.test",
        "token": world["token"],
    }
    missing = _post(client, ui, "act/api/request", {**body, "token": ""})
    assert missing.status_code == 400 and "no API token" in missing.json()["error"]
    response = _post(client, ui, "act/api/request", body)
    assert response.status_code == 200, response.text
    answer = response.json()
    accounts = answer["record"]["answer"]["accounts"]
    assert accounts and accounts[0]["subscriber"]["name"] in "\n".join(answer["lines"])
    page = client.get(ui.base + "act/requests").text
    assert deposit in page and answer["record"]["reference"] in page
    with Case(world["case"]) as case:
        dump = "\n".join(case.conn.iterdump())
        custody = [e["command"] for e in case.custody()]
    assert world["token"] not in dump
    assert any(
        c.startswith("investigate ui: request ") and c.endswith("--token ***") for c in custody
    )


def test_a_picture_of_the_graph_reaches_the_report(world, ui, client):
    """The canvas kept as a PNG is shown in the report with its SHA-256; bad pictures are not."""
    import base64
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(out, format="PNG")
    png = out.getvalue()
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    response = _post(client, ui, "money/api/picture", {"png": url})
    assert response.status_code == 200, response.text
    assert response.json()["sha256"] == hashlib.sha256(png).hexdigest()
    for bad, message in (
        ("data:image/gif;base64,R0lG", "expected a data:image/png"),
        ("data:image/png;base64,@@@", "not valid base64"),
        ("data:image/png;base64," + base64.b64encode(b"GIF89a").decode(), "not a PNG"),
    ):
        response = _post(client, ui, "money/api/picture", {"png": bad})
        assert response.status_code == 400 and message in response.json()["error"]
    with Case(world["case"], operator=OPERATOR) as case:
        html = write_report(case, world["folder"] / "report-picture").files["html"].read_text()
    figure = html[html.index('id="workspace-picture"') :]
    assert url in figure and hashlib.sha256(png).hexdigest() in figure


def test_a_sweep_is_checked_first_then_broadcast_on_confirmation(world, ui, client, tiny_world):
    """The dialog's check builds and signs without sending; the confirmation broadcasts the
    same transaction; neither the key nor the words are stored."""
    from tests.test_request_sweep import fresh_address, funded_key

    conn = sqlite3.connect(f"file:{tiny_world}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        wif, source, value = funded_key(conn)
    finally:
        conn.close()
    dest = fresh_address()
    for body, message in (
        ({"to": dest}, "give a key (WIF) or recovery words"),
        ({"to": dest, "key": wif, "mnemonic": "abandon " * 12}, "not both"),
        ({"to": "bc1qtypo", "key": wif}, "to 'bc1qtypo'"),
        ({"to": dest, "key": wif, "fee_rate": -1}, "fee_rate -1"),
    ):
        response = _post(client, ui, "act/api/sweep", body)
        assert response.status_code == 400 and message in response.json()["error"], body
    explorer = Esplora(world["explorer"])
    checked = _post(client, ui, "act/api/sweep", {"to": dest, "key": wif})
    assert checked.status_code == 200, checked.text
    check = checked.json()
    assert check["status"] == "not broadcast" and check["total"] == value
    assert "raw_hex" not in check and explorer.address_utxo(dest) == []
    sent = _post(
        client,
        ui,
        "act/api/sweep",
        {"to": dest, "key": wif, "confirm": True, "fee_rate": check["fee_rate"]},
    )
    assert sent.status_code == 200, sent.text
    done = sent.json()
    assert done["status"] == "broadcast" and done["txid"] == check["txid"]
    assert sum(u["value"] for u in explorer.address_utxo(dest)) == check["amount"]
    with Case(world["case"]) as case:
        dump = "\n".join(case.conn.iterdump())
        custody = [e["command"] for e in case.custody()]
    assert wif not in dump
    assert f"investigate ui: sweep --key *** --to {dest} --dry-run" in custody
    assert f"investigate ui: sweep --key *** --to {dest}" in custody
    assert "Seize" in client.get(ui.base + "act/sweep", params={"to": dest}).text


def test_the_report_button_writes_the_report_and_shows_it(world, ui, client):
    """The report is written beside the case, as the CLI does, and shown under its own CSP."""
    response = _post(client, ui, "report/api/write", {"pdf": "yes"})
    assert response.status_code == 400 and "pdf: expected" in response.json()["error"]
    response = _post(client, ui, "report/api/write", {"pdf": False})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["verified"] and result["captures"] > 50
    assert Path(result["files"]["html"]) == world["case"].with_name("case-report") / "report.html"
    shown = client.get(ui.base + "report/view")
    assert shown.status_code == 200 and 'id="annotations"' in shown.text
    assert shown.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert client.get(ui.base + "report/report.pdf").status_code == 404
    assert "Open the report" in client.get(ui.base + "report/").text


def test_a_cluster_collapses_into_one_node_and_opens_again(world, ui, client):
    """The addresses of one wallet (the toolkit's co-spend clustering) become one node with
    the cluster's size; their links go to it, summed; uncollapsing draws them again."""
    from investigator_tools.chain.cluster import cluster, members

    with Case(world["case"]) as case:
        # A transaction spending from several addresses (not CoinJoin-like): one wallet's.
        txid = case.conn.execute(
            "SELECT t.txid FROM chain_txs t JOIN chain_inputs i ON i.tx_id = t.id"
            " WHERE t.equal_outputs < 3 GROUP BY t.id HAVING COUNT(DISTINCT i.address_id) >= 2"
            " ORDER BY COUNT(DISTINCT i.address_id), t.id LIMIT 1"
        ).fetchone()[0]
    assert _post(client, ui, "money/api/add", {"target": txid}).status_code == 200
    response = _post(client, ui, "money/api/expand", {"node": txid, "top": 20})
    assert response.status_code == 200, response.text
    payers = [e["source"] for e in response.json()["graph"]["edges"] if e["target"] == txid]
    with Case(world["case"]) as case:
        cluster(case)
        on_graph = {r[0] for r in case.conn.execute("SELECT id FROM workspace_nodes")}
        address = payers[0]
        wallet = members(case, address)
    in_wallet = on_graph & {m["address"] for m in wallet["addresses"]}
    assert len(in_wallet) >= 2 and wallet["size"] >= len(in_wallet)
    before = client.get(ui.base + "money/api/graph").json()
    response = _post(client, ui, "money/api/collapse", {"node": address})
    assert response.status_code == 200, response.text
    done = response.json()
    assert done["node"] == f"cluster:{wallet['cluster']}" and done["size"] == wallet["size"]
    assert set(done["collapsed"]) == in_wallet
    graph = done["graph"]
    ids = {n["id"] for n in graph["nodes"]}
    assert done["node"] in ids and not ids & in_wallet
    for e in graph["edges"]:
        assert e["source"] not in in_wallet and e["target"] not in in_wallet
    outside = [
        e for e in before["edges"] if (e["source"] in in_wallet) != (e["target"] in in_wallet)
    ]
    assert sum(
        e["amount"] for e in graph["edges"] if done["node"] in (e["source"], e["target"])
    ) == sum(e["amount"] for e in outside)
    response = _post(client, ui, "money/api/expand", {"node": done["node"]})
    assert response.status_code == 400 and "uncollapse it first" in response.json()["error"]
    response = _post(client, ui, "money/api/uncollapse", {"node": done["node"]})
    assert response.status_code == 200 and set(response.json()["shown"]) == in_wallet
    after = response.json()["graph"]
    assert {n["id"] for n in after["nodes"]} == {n["id"] for n in before["nodes"]}
    assert sorted(e["id"] for e in after["edges"]) == sorted(e["id"] for e in before["edges"])
    response = _post(client, ui, "money/api/uncollapse", {"node": address})
    assert response.status_code == 400 and "not a cluster node" in response.json()["error"]


def test_the_money_path_between_two_addresses_is_drawn(world, ui, client):
    """The toolkit's shortest path from the address to one its money reached, step by step."""
    from investigator_tools.chain.analysis import shortest_path
    from investigator_tools.chain.labels import LabelBook
    from investigator_tools.chain.trace import trace

    source = world["address"]
    with Case(world["case"]) as case:
        # With the explorer's labels, as the workspace reads them: the trace stops at
        # services, as the path does, so what the trace reached the path reaches too.
        labels = LabelBook(case, Esplora(world["explorer"]))
        result = trace(case, source, hops=3, method="poison", labels=labels).as_dict()
        far = max(result["hops"], key=lambda h: h["hop"])
        target = next(o["address"] for o in far["outputs"] if o["tainted"] and o["address"])
        expected = shortest_path(case, source, target, labels=labels)
    assert expected["found"] and expected["hops"] >= 1
    response = _post(client, ui, "money/api/path", {"from": source, "to": target})
    assert response.status_code == 200, response.text
    done = response.json()
    assert done["found"] and done["steps"] == expected["steps"]
    edges = {e["id"]: e for e in done["graph"]["edges"]}
    for step in expected["steps"]:
        assert edges[f"{step['txid']}>{step['to']}"]["amount"] == step["amount"]
        assert f"{step['from']}>{step['txid']}" in edges
    response = _post(client, ui, "money/api/path", {"from": source, "to": source})
    assert response.status_code == 400 and "the same" in response.json()["error"]
    response = _post(client, ui, "money/api/path", {"from": source, "to": target, "hops": 99})
    assert response.status_code == 400 and "hops 99" in response.json()["error"]


def test_bad_input_is_one_clear_error_and_loses_nothing(world, ui, client):
    """Typos, unknown nodes and malformed bodies get 400 with the reason; the graph stays."""
    before = client.get(ui.base + "money/api/graph").json()
    cases = [
        ("money/api/add", {"target": "bc1qnotanaddress"}, "address or txid"),
        ("money/api/add", {}, "target: expected a non-empty string"),
        ("money/api/add", {"target": "ab" * 32}, "not in the local index"),
        ("money/api/expand", {"node": "nothing-here"}, "is not on the graph"),
        ("money/api/expand", {"node": world["address"], "top": "many"}, "top: expected"),
        ("money/api/expand", {"node": world["address"], "top": 0}, "expected 1 to 200"),
        ("money/api/annotate", {"kind": "node", "target": "nope", "note": "x"}, "not on the graph"),
        ("money/api/annotate", {"kind": "leaf", "target": "x"}, "expected node or edge"),
        (
            "money/api/annotate",
            {"kind": "node", "target": world["address"], "tags": "vendor"},
            "tags: expected a list",
        ),
        ("money/api/layout", {"positions": {world["address"]: "left"}}, "expected [x, y]"),
        ("money/api/label", {"address": world["address"], "name": " "}, "name: expected"),
    ]
    for path, body, message in cases:
        response = _post(client, ui, path, body)
        assert response.status_code == 400, (path, body, response.text)
        assert message in response.json()["error"], (path, response.json())
    response = client.post(
        ui.base + "money/api/add", data="[1", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and "JSON object" in response.json()["error"]
    assert client.get(ui.base + "money/api/graph").json() == before


def test_an_unreachable_explorer_is_a_502_naming_it(world, tmp_path):
    """With the explorer down, adding says which explorer could not be reached."""
    settings = Settings(world["case"], explorer="http://127.0.0.1:9/", operator=OPERATOR)
    with UiServer(settings, 0) as server:
        session = requests.Session()
        session.trust_env = False
        session.get(server.url)
        response = _post(session, server, "money/api/add", {"target": world["address"]})
    assert response.status_code == 502
    assert "127.0.0.1:9" in response.json()["error"]


def test_cytoscape_is_vendored_at_its_pinned_version():
    """The vendored library matches the SHA-256 recorded beside it, with its licence."""
    vendor = UI / "static" / "vendor"
    name, version, digest = (vendor / "VERSION").read_text().split()
    assert name == "cytoscape" and re.fullmatch(r"3\.\d+\.\d+", version)
    assert hashlib.sha256((vendor / "cytoscape.min.js").read_bytes()).hexdigest() == digest
    assert (
        digest in (vendor / "README.md").read_text()
        and version in (vendor / "README.md").read_text()
    )
    assert (
        "MIT" in (vendor / "cytoscape.LICENSE").read_text()
        or "Permission is hereby granted" in (vendor / "cytoscape.LICENSE").read_text()
    )


def test_the_command_prints_a_tokened_url_and_stops_on_ctrl_c(world):
    """`investigate ui --no-browser` serves the case at the URL it prints until SIGINT."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from investigator_tools.cli import cli; cli()",
            "--case",
            str(world["case"]),
            "ui",
            "--no-browser",
            "--explorer",
            world["explorer"],
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=as_from_a_terminal,
    )
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/\?token=[\w-]+", line)
        assert url, line
        session = requests.Session()
        session.trust_env = False
        assert session.get(url.group(0)).status_code == 200
        assert requests.get(url.group(0).split("?")[0]).status_code == 403
    finally:
        rest = stop(proc, signal.SIGINT)
    assert proc.returncode == 0, rest


def test_a_bad_port_or_case_is_one_clear_error(world, tmp_path, runner):
    """A port in use, or a folder given as the case: exit 1 with one message."""
    from investigator_tools.cli import cli

    with UiServer(Settings(world["case"]), 0) as taken:
        result = runner.invoke(
            cli, ["--case", str(world["case"]), "ui", "--no-browser", "--port", str(taken.port)]
        )
    assert result.exit_code == 1 and f"--port {taken.port}: cannot listen" in result.output
    result = runner.invoke(cli, ["--case", str(tmp_path), "ui", "--no-browser"])
    assert result.exit_code == 1 and "not a case file" in result.output


# -- in the browser ------------------------------------------------------------------------


def _requests_made(driver) -> list[str]:
    """Every URL the page asked for, from Chromium's performance log."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


@pytest.mark.browser
def test_in_chromium_add_expand_annotate(world, ui, tiny_world):
    """In headless Chromium at 1280x800: open the URL, add the address, expand it, annotate
    it; every request goes to 127.0.0.1, no policy violation; a second browser gets 403."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.chromium import CHROMEDRIVER, CHROMIUM, SHOTS, page_problems, start_chromium

    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    address = world["address"]
    driver = start_chromium(height=800, logs=True)
    other = start_chromium(height=800)
    try:
        driver.get(ui.url)
        assert "token=" not in driver.current_url
        wait = WebDriverWait(driver, 60)
        # A crawl behind the market's login wall, its CAPTCHAs answered in the page.
        driver.get(ui.base + "collect/")
        form = driver.find_element(By.ID, "crawl-form")
        form.find_element(By.NAME, "urls").send_keys(
            f"http://{world['market']}/messages?to=kestrel"
        )
        form.find_element(By.NAME, "login").send_keys("browseruser:a long pass 51")
        depth = form.find_element(By.NAME, "depth")
        depth.clear()
        depth.send_keys("0")
        for flag in ("no_images", "no_probe", "fresh"):
            form.find_element(By.NAME, flag).click()
        driver.find_element(By.ID, "start-crawl").click()
        progress = driver.find_element(By.ID, "progress")
        for _ in range(3):
            wait.until(lambda d: progress.get_attribute("data-status") in ("captcha", "done"))
            if progress.get_attribute("data-status") == "done":
                break
            wait.until(lambda d: d.find_element(By.ID, "captcha-img").get_attribute("src"))
            driver.save_screenshot(str(SHOTS / "ui-crawl-captcha.png"))
            driver.find_element(By.ID, "captcha-answer").send_keys(_newest_captcha_answer(world))
            driver.find_element(By.ID, "captcha-send").click()
            wait.until(lambda d: progress.get_attribute("data-status") != "captcha")
        assert progress.get_attribute("data-status") == "done"
        assert f"logged in on {world['market']}" in driver.find_element(By.ID, "crawl-result").text

        driver.get(ui.base + "money/")
        root = driver.find_element(By.ID, "money")
        wait.until(lambda d: root.get_attribute("data-ready") == "1")
        field = driver.find_element(By.ID, "add-target")
        field.clear()
        field.send_keys(address)
        driver.find_element(By.ID, "add-button").click()
        wait.until(lambda d: d.find_element(By.ID, "sel-id").text == address)
        nodes = int(root.get_attribute("data-nodes"))
        driver.find_element(By.ID, "expand").click()
        wait.until(
            lambda d: (
                root.get_attribute("data-busy") == "0" and int(root.get_attribute("data-nodes")) > 1
            )
        )
        assert int(root.get_attribute("data-nodes")) >= nodes
        note = driver.find_element(By.ID, "note")
        note.clear()
        note.send_keys("Seen on the market's vendor page")
        tags = driver.find_element(By.ID, "tags")
        tags.clear()
        tags.send_keys("vendor, browser")
        driver.find_element(By.ID, "save-note").click()
        wait.until(lambda d: root.get_attribute("data-busy") == "0")
        wait.until(lambda d: "Note saved" in d.find_element(By.ID, "toast").text)
        driver.find_element(By.ID, "trace").click()
        wait.until(lambda d: d.find_element(By.ID, "trace-result").text.startswith("Traced"))
        # The time filter hides the traced transactions before a date, and shows them again.
        pick = (
            "const e = document.getElementById(arguments[0]); e.value = arguments[1];"
            " e.dispatchEvent(new Event('change'));"
        )
        driver.execute_script(pick, "time-to", "2000-01-01")
        assert int(root.get_attribute("data-hidden")) >= 1
        driver.execute_script(pick, "time-to", "")
        assert root.get_attribute("data-hidden") == "0"
        driver.find_element(By.ID, "keep-picture").click()
        wait.until(lambda d: "Picture kept" in d.find_element(By.ID, "toast").text)
        driver.find_element(By.ID, "large-text").click()
        assert "large" in driver.find_element(By.TAG_NAME, "html").get_attribute("class")
        driver.find_element(By.ID, "fit").click()
        SHOTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(SHOTS / "ui-money-graph.png"))
        driver.find_element(By.ID, "large-text").click()

        # The selected address prefills the request form; the report button writes the report.
        driver.find_element(By.ID, "request-link").click()
        wait.until(lambda d: d.find_elements(By.ID, "request-form"))
        assert driver.find_element(By.NAME, "subject").get_attribute("value") == address
        driver.save_screenshot(str(SHOTS / "ui-request.png"))
        driver.get(ui.base + "report/")
        driver.find_element(By.ID, "write-report").click()
        wait.until(lambda d: "captures verified" in d.find_element(By.ID, "report-status").text)
        driver.get(ui.base + "report/view")
        picture = driver.find_element(By.CSS_SELECTOR, "#workspace-picture img")
        assert picture.get_attribute("src").startswith("data:image/png;base64,")
        assert driver.execute_script("return arguments[0].naturalWidth", picture) > 200

        driver.get(ui.base + "evidence/artefacts")
        wait.until(lambda d: d.find_element(By.ID, "artefacts").get_attribute("data-ready") == "1")
        rows = driver.find_elements(By.CSS_SELECTOR, "#artefacts tbody tr")
        assert len(rows) > 20
        driver.find_element(By.ID, "filter").send_keys(address)
        shown = driver.find_elements(By.CSS_SELECTOR, "#artefacts tbody tr")
        assert 0 < len(shown) < len(rows)
        assert all(address in r.text for r in shown)
        driver.save_screenshot(str(SHOTS / "ui-artefacts.png"))
        # A seizure in the sweep dialog: checked first, broadcast once confirmed.
        from tests.test_request_sweep import fresh_address, funded_key

        conn = sqlite3.connect(f"file:{tiny_world}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            wif = funded_key(conn, offset=1)[0]
        finally:
            conn.close()
        driver.get(ui.base + "act/sweep")
        sweep_form = driver.find_element(By.ID, "sweep-form")
        sweep_form.find_element(By.NAME, "key").send_keys(wif)
        sweep_form.find_element(By.NAME, "to").send_keys(fresh_address())
        driver.find_element(By.ID, "sweep-check").click()
        wait.until(lambda d: d.find_element(By.ID, "sweep-text").text.startswith("Moves"))
        driver.save_screenshot(str(SHOTS / "ui-sweep-check.png"))
        driver.find_element(By.ID, "sweep-confirm").click()
        wait.until(lambda d: d.find_element(By.ID, "sweep-done").text.startswith("broadcast:"))

        driver.get(ui.base + "evidence/correlations")
        driver.find_element(By.ID, "correlate").click()
        wait.until(lambda d: d.find_element(By.ID, "correlate-status").text.endswith("links"))
        assert "kestrel" in driver.find_element(By.ID, "correlations").text
        driver.save_screenshot(str(SHOTS / "ui-correlations.png"))
        with Case(world["case"]) as case:
            page = next(
                c for c in case.captures() if (c.content_type or "").startswith("text/html")
            )
        driver.get(ui.base + f"evidence/captures/{page.id}")
        frame = driver.find_element(By.ID, "capture-frame")
        assert frame.get_attribute("sandbox") == ""
        driver.save_screenshot(str(SHOTS / "ui-capture.png"))

        # Chromium's own pages (chrome://, its new-tab page) are no network request.
        made = [u for u in _requests_made(driver) if not u.startswith(("chrome", "data:"))]
        assert any("/money/api/expand" in u for u in made), made
        assert all(urlsplit(u).hostname == "127.0.0.1" for u in made), made
        problems = page_problems(driver)
        assert not problems, "\n".join(problems)

        other.get(ui.base + "money/")
        assert "403 Forbidden" in other.find_element(By.TAG_NAME, "body").text
    finally:
        driver.quit()
        other.quit()
    with Case(world["case"]) as case:
        stored = case.conn.execute(
            "SELECT note, tags FROM annotations WHERE target_kind = 'node' AND target = ?",
            (address,),
        ).fetchone()
    assert stored[0] == "Seen on the market's vendor page"
    assert json.loads(stored[1]) == ["vendor", "browser"]


def test_stop_still_stops_when_waitress_closed_its_wake_up_pipe(world):
    """A workspace whose wake-up pipe was closed under waitress (a hang-up it answers by
    closing the trigger): stop() still ends the loop and frees the port, no EBADF."""
    server = _serve(world)
    hang_up_trigger(server)
    thread = server._thread
    server.stop()
    assert thread is not None and not thread.is_alive()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(server.base, timeout=5)
