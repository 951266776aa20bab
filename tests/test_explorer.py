"""The block explorer: Esplora's JSON shapes, paging and errors, numbers against the world,
witnesses, the web pages, and a real Esplora client over HTTP."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading

import pytest
from werkzeug.serving import make_server

from sandbox.explorer import create_app, create_replica_app
from sandbox.explorer.esplora import tx_json, tx_json_bytes
from sandbox.explorer.witnesses import HEAVY_INPUTS, WitnessStore, unpack_prevouts
from sandbox.ledger.address import script_pubkey
from sandbox.ledger.block import bits_to_target
from sandbox.ledger.codec.hashes import sha256d
from sandbox.ledger.tx import parse, serialize, txid, verify_input, wtxid
from sandbox.ledger.witness import full_transaction, with_witnesses
from sandbox.portal_server import PortalServer

# -- Esplora's JSON shapes, written from its API.md and electrs' rest.rs -----------------


class Opt:
    """A field Esplora leaves out when it has no value."""

    def __init__(self, schema):
        """Wrap the field's schema."""
        self.schema = schema


class Null:
    """A field that may be JSON null."""

    def __init__(self, schema):
        """Wrap the field's schema."""
        self.schema = schema


STATUS_CONFIRMED = {"confirmed": bool, "block_height": int, "block_hash": str, "block_time": int}
STATUS_UNCONFIRMED = {"confirmed": bool}
TXOUT = {
    "scriptpubkey": str,
    "scriptpubkey_asm": str,
    "scriptpubkey_type": str,
    "scriptpubkey_address": Opt(str),
    "value": int,
}
VIN = {
    "txid": str,
    "vout": int,
    "prevout": Null(TXOUT),
    "scriptsig": str,
    "scriptsig_asm": str,
    "witness": Opt([str]),
    "is_coinbase": bool,
    "sequence": int,
    "inner_redeemscript_asm": Opt(str),
    "inner_witnessscript_asm": Opt(str),
}
TX = {
    "txid": str,
    "version": int,
    "locktime": int,
    "vin": [VIN],
    "vout": [TXOUT],
    "size": int,
    "weight": int,
    "fee": int,
    "status": STATUS_CONFIRMED,
}
OUTSPEND_SPENT = {"spent": bool, "txid": str, "vin": int, "status": STATUS_CONFIRMED}
OUTSPEND_UNSPENT = {"spent": bool}
STATS = {
    "funded_txo_count": int,
    "funded_txo_sum": int,
    "spent_txo_count": int,
    "spent_txo_sum": int,
    "tx_count": int,
}
ADDRESS = {"address": str, "chain_stats": STATS, "mempool_stats": STATS}
UTXO = {"txid": str, "vout": int, "status": STATUS_CONFIRMED, "value": int}
BLOCK = {
    "id": str,
    "height": int,
    "version": int,
    "timestamp": int,
    "tx_count": int,
    "size": int,
    "weight": int,
    "merkle_root": str,
    "previousblockhash": Null(str),
    "mediantime": int,
    "nonce": int,
    "bits": int,
    "difficulty": float,
}
BLOCK_STATUS = {"in_best_chain": bool, "height": Null(int), "next_best": Null(str)}
MEMPOOL = {"count": int, "vsize": int, "total_fee": int, "fee_histogram": [[(int, float)]]}
RECENT = {"txid": str, "fee": int, "vsize": int, "value": int}


def check(value, schema, path="$"):
    """Assert value has exactly the fields and JSON types of schema (bools are not ints)."""
    if isinstance(schema, Null):
        if value is not None:
            check(value, schema.schema, path)
        return
    if isinstance(schema, dict):
        assert isinstance(value, dict), f"{path}: expected an object, got {value!r}"
        required = {k for k, s in schema.items() if not isinstance(s, Opt)}
        assert required <= value.keys(), f"{path}: missing {required - value.keys()}"
        assert value.keys() <= schema.keys(), f"{path}: unexpected {value.keys() - schema.keys()}"
        for key, sub in schema.items():
            if key in value:
                check(value[key], sub.schema if isinstance(sub, Opt) else sub, f"{path}.{key}")
        return
    if isinstance(schema, list):
        assert isinstance(value, list), f"{path}: expected an array, got {value!r}"
        for i, item in enumerate(value):
            check(item, schema[0], f"{path}[{i}]")
        return
    types = schema if isinstance(schema, tuple) else (schema,)
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    assert ok, f"{path}: expected {schema}, got {value!r}"


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(tiny_world, tmp_path_factory):
    """The explorer on the tiny world; live blocks only when a test mines one."""
    app = create_app(tiny_world, tmp_path_factory.mktemp("explorer"), live_block_seconds=3600)
    yield app
    app.extensions["explorer"].close()


@pytest.fixture(scope="module", params=["alone", "workers"])
def client(request, app, tiny_world):
    """A test client of the explorer: of its app, or of the app its worker processes run
    (create_replica_app) over the same files, passing what it does not answer to the app."""
    if request.param == "alone":
        yield app.test_client()
        return
    with replica_client(app, tiny_world) as client:
        yield client


@contextlib.contextmanager
def replica_client(app, world):
    """A test client of the app the explorer's worker processes run over app's files, app
    served as its own part on a free loopback port."""
    leader = PortalServer("127.0.0.1", 0, app)
    thread = threading.Thread(target=leader.serve_forever, daemon=True)
    thread.start()
    state = app.extensions["explorer"].live.path.parent
    replica = create_replica_app(world, state, f"http://127.0.0.1:{leader.server_port}/")
    try:
        yield replica.test_client()
    finally:
        replica.extensions["explorer"].close()
        leader.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def db(tiny_world):
    """A read-only connection to the tiny world."""
    conn = sqlite3.connect(f"file:{tiny_world}?mode=ro", uri=True)
    yield conn
    conn.close()


def spending_tx(db, input_type: str) -> str:
    """A world transaction with an input spending an address of a type."""
    return db.execute(
        "SELECT t.txid FROM transactions t JOIN inputs i ON i.tx_id = t.id "
        "JOIN outputs o ON o.tx_id = i.prev_tx_id AND o.n = i.prev_n "
        "JOIN addresses a ON a.id = o.address_id WHERE a.type = ? LIMIT 1",
        (input_type,),
    ).fetchone()[0]


def busiest_address(db) -> str:
    """The world address with the most transactions (more than two pages)."""
    return db.execute(
        "SELECT a.address FROM outputs o JOIN addresses a ON a.id = o.address_id "
        "GROUP BY o.address_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]


def world_history(db, address: str) -> set[str]:
    """Every world txid that funds or spends an address."""
    rows = db.execute(
        "SELECT t.txid FROM transactions t WHERE t.id IN ("
        "SELECT o.tx_id FROM outputs o JOIN addresses a ON a.id = o.address_id "
        "WHERE a.address = :a UNION SELECT i.tx_id FROM inputs i JOIN outputs o "
        "ON o.tx_id = i.prev_tx_id AND o.n = i.prev_n JOIN addresses a ON a.id = o.address_id "
        "WHERE a.address = :a)",
        {"a": address},
    )
    return {r[0] for r in rows}


# -- transactions --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["coinbase", "p2wpkh", "p2sh", "p2pkh"])
def test_tx_json_shape_and_numbers(client, db, kind):
    """GET /tx/:txid has Esplora's shape; fee = inputs - outputs = the world's fee."""
    if kind == "coinbase":
        tid = db.execute("SELECT txid FROM transactions WHERE position = 0 LIMIT 1").fetchone()[0]
    else:
        tid = spending_tx(db, kind)
    r = client.get(f"/api/tx/{tid}")
    assert r.status_code == 200 and r.content_type == "application/json"
    tx = r.get_json()
    check(tx, TX)
    assert tx["txid"] == tid
    world_fee, height = db.execute(
        "SELECT fee, height FROM transactions WHERE txid = ?", (tid,)
    ).fetchone()
    assert tx["status"]["block_height"] == height
    if kind == "coinbase":
        assert tx["vin"][0]["is_coinbase"] and tx["vin"][0]["prevout"] is None
        assert tx["fee"] == 0
        return
    value_in = sum(v["prevout"]["value"] for v in tx["vin"])
    value_out = sum(o["value"] for o in tx["vout"])
    assert tx["fee"] == value_in - value_out == world_fee
    types = {v["prevout"]["scriptpubkey_type"] for v in tx["vin"]}
    assert {"p2wpkh": "v0_p2wpkh", "p2sh": "p2sh", "p2pkh": "p2pkh"}[kind] in types
    for v in tx["vin"]:
        address = v["prevout"]["scriptpubkey_address"]
        assert v["prevout"]["scriptpubkey"] == script_pubkey(address).hex()
        if v["prevout"]["scriptpubkey_type"] == "p2sh":
            assert v["inner_redeemscript_asm"].startswith("OP_0 OP_PUSHBYTES_20 ")
            assert len(v["witness"]) == 2
        elif v["prevout"]["scriptpubkey_type"] == "v0_p2wpkh":
            assert v["scriptsig"] == "" and len(v["witness"]) == 2
        else:
            assert "witness" not in v and v["scriptsig_asm"].startswith("OP_PUSHBYTES_")


def test_tx_hex_raw_and_witnesses(client, db):
    """/hex and /raw are the full serialization: same txid, verifying witnesses, weight."""
    for kind in ("p2wpkh", "p2sh", "p2pkh"):
        tid = spending_tx(db, kind)
        hex_text = client.get(f"/api/tx/{tid}/hex")
        assert hex_text.content_type == "text/plain"
        raw = client.get(f"/api/tx/{tid}/raw").data
        assert bytes.fromhex(hex_text.get_data(as_text=True)) == raw
        tx = parse(raw)
        assert txid(tx) == tid
        j = client.get(f"/api/tx/{tid}").get_json()
        assert j["size"] == len(raw)
        assert j["weight"] == 3 * len(serialize(tx, witness=False)) + len(raw)
        for i, v in enumerate(j["vin"]):
            spk = bytes.fromhex(v["prevout"]["scriptpubkey"])
            assert verify_input(tx, i, spk, v["prevout"]["value"])
        has_witness = any(t.witness for t in tx.inputs)
        assert (wtxid(tx) != tid) == has_witness


def test_every_witness_verifies(db):
    """full_transaction: txid unchanged, each witness verifies, wtxid differs where signed."""
    rows = db.execute(
        "SELECT id, txid FROM transactions WHERE position > 0 ORDER BY id LIMIT 400"
    ).fetchall()
    inputs = 0
    for tx_id, tid in rows:
        full = full_transaction(db, tx_id)
        tx = parse(full)
        assert txid(tx) == tid
        assert full == full_transaction(db, tx_id)  # deterministic (RFC 6979)
        spent = db.execute(
            "SELECT i.n, o.value, a.address FROM inputs i JOIN outputs o ON o.tx_id = i.prev_tx_id "
            "AND o.n = i.prev_n JOIN addresses a ON a.id = o.address_id WHERE i.tx_id = ?",
            (tx_id,),
        ).fetchall()
        for n, value, address in spent:
            assert verify_input(tx, n, script_pubkey(address), value), (tid, n)
            inputs += 1
        assert (wtxid(tx) != tid) == any(t.witness for t in tx.inputs)
    assert inputs > 400


def test_status_and_outspends(client, db):
    """/status, /outspend/:vout and /outspends agree with the world's inputs table."""
    tid, tx_id = db.execute(
        "SELECT t.txid, t.id FROM transactions t JOIN inputs i ON i.prev_tx_id = t.id "
        "WHERE t.position > 0 LIMIT 1"
    ).fetchone()
    check(client.get(f"/api/tx/{tid}/status").get_json(), STATUS_CONFIRMED)
    spends = client.get(f"/api/tx/{tid}/outspends").get_json()
    outputs = db.execute("SELECT n FROM outputs WHERE tx_id = ? ORDER BY n", (tx_id,)).fetchall()
    assert len(spends) == len(outputs)
    for (n,) in outputs:
        row = db.execute(
            "SELECT t.txid, i.n FROM inputs i JOIN transactions t ON t.id = i.tx_id "
            "WHERE i.prev_tx_id = ? AND i.prev_n = ?",
            (tx_id, n),
        ).fetchone()
        one = client.get(f"/api/tx/{tid}/outspend/{n}").get_json()
        assert one == spends[n]
        if row is None:
            check(one, OUTSPEND_UNSPENT)
            assert one["spent"] is False
        else:
            check(one, OUTSPEND_SPENT)
            assert (one["txid"], one["vin"]) == row


# -- addresses -------------------------------------------------------------------------


def test_donation_address_stats(client, db):
    """A donation address's funded_txo_sum is the sum of its outputs in the world."""
    address, address_id = db.execute(
        "SELECT a.address, a.id FROM addresses a JOIN wallets w ON w.id = a.wallet_id "
        "WHERE w.kind = 'donation' LIMIT 1"
    ).fetchone()
    j = client.get(f"/api/address/{address}").get_json()
    check(j, ADDRESS)
    count, total = db.execute(
        "SELECT count(*), sum(value) FROM outputs WHERE address_id = ?", (address_id,)
    ).fetchone()
    stats = j["chain_stats"]
    assert (stats["funded_txo_count"], stats["funded_txo_sum"]) == (count, total)
    assert stats["tx_count"] == len(world_history(db, address))
    assert j["mempool_stats"] == dict.fromkeys(STATS, 0)


def test_address_history_pages(client, db):
    """txs/chain/:last_seen_txid continues the history: 25 a page, no gaps, no repeats."""
    address = busiest_address(db)
    expected = world_history(db, address)
    assert len(expected) > 50
    seen: list[str] = []
    url = f"/api/address/{address}/txs/chain"
    while True:
        page = client.get(url).get_json()
        if not page:
            break
        for tx in page:
            check(tx, TX)
        assert len(page) == 25 or len(seen) + len(page) == len(expected)
        seen += [tx["txid"] for tx in page]
        heights = [tx["status"]["block_height"] for tx in page]
        assert heights == sorted(heights, reverse=True)
        url = f"/api/address/{address}/txs/chain/{page[-1]['txid']}"
    assert len(seen) == len(set(seen)) and set(seen) == expected
    first = client.get(f"/api/address/{address}/txs").get_json()
    assert [t["txid"] for t in first] == seen[:25]
    assert client.get(f"/api/address/{address}/txs/mempool").get_json() == []
    # An unknown last_seen_txid ends the history, as in electrs.
    assert client.get(f"/api/address/{address}/txs/chain/{'ab' * 32}").get_json() == []


def test_address_utxo(client, db):
    """/utxo lists exactly the address's outputs no world input spends."""
    address = busiest_address(db)
    utxos = client.get(f"/api/address/{address}/utxo").get_json()
    for u in utxos:
        check(u, UTXO)
    expected = db.execute(
        "SELECT t.txid, o.n, o.value FROM outputs o JOIN transactions t ON t.id = o.tx_id "
        "JOIN addresses a ON a.id = o.address_id WHERE a.address = ? AND NOT EXISTS "
        "(SELECT 1 FROM inputs i WHERE i.prev_tx_id = o.tx_id AND i.prev_n = o.n)",
        (address,),
    ).fetchall()
    assert sorted((u["txid"], u["vout"], u["value"]) for u in utxos) == sorted(expected)
    stats = client.get(f"/api/address/{address}").get_json()["chain_stats"]
    assert sum(u["value"] for u in utxos) == stats["funded_txo_sum"] - stats["spent_txo_sum"]


def test_unused_address_has_empty_stats(client):
    """A valid address the chain never saw: zero counters, empty history (not a 404)."""
    address = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    j = client.get(f"/api/address/{address}").get_json()
    assert j["chain_stats"] == dict.fromkeys(STATS, 0)
    assert client.get(f"/api/address/{address}/txs").get_json() == []
    assert client.get(f"/api/address/{address}/utxo").get_json() == []


# -- blocks ----------------------------------------------------------------------------


def test_blocks_and_tip(client, db):
    """/blocks gives 10 blocks from the tip down; tip height/hash agree with the world."""
    height, block_hash = db.execute(
        "SELECT height, hash FROM blocks ORDER BY height DESC LIMIT 1"
    ).fetchone()
    assert client.get("/api/blocks/tip/height").get_data(as_text=True) == str(height)
    assert client.get("/api/blocks/tip/hash").get_data(as_text=True) == block_hash
    blocks = client.get("/api/blocks").get_json()
    assert [b["height"] for b in blocks] == list(range(height, height - 10, -1))
    for b in blocks:
        check(b, BLOCK)
    older = client.get(f"/api/blocks/{height - 10}").get_json()
    assert older[0]["height"] == height - 10 and older[0]["id"] == blocks[-1]["previousblockhash"]
    genesis = client.get("/api/blocks/0").get_json()
    assert len(genesis) == 1 and genesis[0]["previousblockhash"] is None


def test_block_endpoints(client, db):
    """Block JSON, header, raw, txids, txid/:i, paged txs and status match the world."""
    height, block_hash, tx_count = db.execute(
        "SELECT height, hash, tx_count FROM blocks ORDER BY tx_count DESC LIMIT 1"
    ).fetchone()
    assert tx_count > 25
    b = client.get(f"/api/block/{block_hash}").get_json()
    check(b, BLOCK)
    assert (b["height"], b["tx_count"]) == (height, tx_count)
    assert (
        tx_count
        == db.execute("SELECT count(*) FROM transactions WHERE height = ?", (height,)).fetchone()[0]
    )
    header = bytes.fromhex(client.get(f"/api/block/{block_hash}/header").get_data(as_text=True))
    assert sha256d(header)[::-1].hex() == block_hash
    assert int.from_bytes(sha256d(header), "little") <= bits_to_target(b["bits"])
    assert client.get(f"/api/block-height/{height}").get_data(as_text=True) == block_hash
    txids = client.get(f"/api/block/{block_hash}/txids").get_json()
    world = [
        r[0]
        for r in db.execute(
            "SELECT txid FROM transactions WHERE height = ? ORDER BY position", (height,)
        )
    ]
    assert txids == world
    assert client.get(f"/api/block/{block_hash}/txid/1").get_data(as_text=True) == world[1]
    paged = []
    for start in range(0, tx_count, 25):
        page = client.get(f"/api/block/{block_hash}/txs/{start}").get_json()
        assert len(page) == min(25, tx_count - start)
        paged += [t["txid"] for t in page]
    assert paged == world
    raw = client.get(f"/api/block/{block_hash}/raw").data
    assert raw[:80] == header and len(raw) == b["size"]
    status = client.get(f"/api/block/{block_hash}/status").get_json()
    check(status, BLOCK_STATUS)
    assert status["in_best_chain"] and status["height"] == height
    next_hash = db.execute("SELECT hash FROM blocks WHERE height = ?", (height + 1,)).fetchone()
    assert status["next_best"] == (next_hash[0] if next_hash else None)


def test_mempool_and_fee_endpoints(client):
    """/mempool, /mempool/txids, /mempool/recent and /fee-estimates have Esplora's shapes."""
    check(client.get("/api/mempool").get_json(), MEMPOOL)
    assert isinstance(client.get("/api/mempool/txids").get_json(), list)
    for item in client.get("/api/mempool/recent").get_json():
        check(item, RECENT)
    fees = client.get("/api/fee-estimates").get_json()
    assert {"1", "2", "3", "6", "144", "504", "1008"} <= fees.keys()
    assert all(isinstance(v, float) for v in fees.values())
    assert fees["1"] >= fees["6"] >= fees["144"] >= 1.0


# -- errors ----------------------------------------------------------------------------

UNKNOWN = "ab" * 32


@pytest.mark.parametrize(
    "url, status, body",
    [
        ("/api/tx/xyz", 400, "Invalid hex string"),
        (f"/api/tx/{'g' * 64}", 400, "Invalid hex string"),
        (f"/api/tx/{UNKNOWN}", 404, "Transaction not found"),
        (f"/api/tx/{UNKNOWN}/hex", 404, "Transaction not found"),
        (f"/api/tx/{UNKNOWN}/outspends", 404, "Transaction not found"),
        (f"/api/tx/{UNKNOWN}/outspend/x", 400, "Invalid number"),
        ("/api/address/notanaddress", 400, "Invalid Bitcoin address"),
        ("/api/address/1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", 400, "Invalid Bitcoin address"),
        (
            "/api/address/tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",
            400,
            "Address on invalid network",
        ),
        ("/api/address/notanaddress/txs", 400, "Invalid Bitcoin address"),
        ("/api/block/1234", 400, "Invalid hex string"),
        (f"/api/block/{UNKNOWN}", 404, "Block not found"),
        (f"/api/block/{UNKNOWN}/txids", 404, "Block not found"),
        ("/api/block-height/abc", 400, "Invalid number"),
        ("/api/block-height/99999999", 404, "Block not found"),
        ("/api/blocks/99999999", 404, "Block not found"),
        ("/api/nothing/here", 404, 'endpoint does not exist "/nothing/here"'),
    ],
)
def test_api_errors(client, url, status, body):
    """Malformed ids are 400s, unknown ones 404s, with Esplora's plain-text messages."""
    r = client.get(url)
    assert (r.status_code, r.content_type, r.get_data(as_text=True)) == (status, "text/plain", body)


def test_electrs_lenient_answers(client, db):
    """Like electrs: unknown tx status is unconfirmed, an unknown outpoint unspent."""
    assert client.get(f"/api/tx/{UNKNOWN}/status").get_json() == {"confirmed": False}
    assert client.get(f"/api/tx/{UNKNOWN}/outspend/0").get_json() == {"spent": False}
    assert client.get(f"/api/block/{UNKNOWN}/status").get_json() == {
        "in_best_chain": False,
        "height": None,
        "next_best": None,
    }
    block_hash = db.execute("SELECT hash FROM blocks WHERE tx_count > 1 LIMIT 1").fetchone()[0]
    r = client.get(f"/api/block/{block_hash}/txs/3")
    assert (r.status_code, r.get_data(as_text=True)) == (
        400,
        "start index must be a multiple of 25",
    )
    r = client.get(f"/api/block/{block_hash}/txid/9999")
    assert (r.status_code, r.get_data(as_text=True)) == (404, "tx index out of range")


# -- web pages -------------------------------------------------------------------------


def test_home_page(client, db):
    """The home page has the search box and the latest blocks."""
    tip = db.execute("SELECT max(height) FROM blocks").fetchone()[0]
    page = client.get("/").get_data(as_text=True)
    assert 'name="q"' in page and f">{tip}<" in page
    assert "https://" not in page and "http://" not in page  # nothing loaded from outside


def test_address_page_numbers_and_label(client, db):
    """A labelled service address shows its badge, balance, totals and transactions."""
    address, label = db.execute(
        "SELECT a.address, w.label FROM addresses a JOIN wallets w ON w.id = a.wallet_id "
        "JOIN outputs o ON o.address_id = a.id WHERE w.kind = 'hot' LIMIT 1"
    ).fetchone()
    stats = client.get(f"/api/address/{address}").get_json()["chain_stats"]
    page = client.get(f"/address/{address}").get_data(as_text=True)
    assert label in page and "badge-exchange" in page
    balance = stats["funded_txo_sum"] - stats["spent_txo_sum"]
    assert f"{balance // 10**8:,}.{balance % 10**8:08d} BTC" in page
    received = stats["funded_txo_sum"]
    assert f"{received // 10**8:,}.{received % 10**8:08d} BTC" in page
    for tid in world_history(db, address):
        assert tid in page or len(world_history(db, address)) > 25


def test_address_page_paging(client, db):
    """The address page pages 25 transactions at a time with an "Older" link."""
    address = busiest_address(db)
    first = client.get(f"/address/{address}").get_data(as_text=True)
    assert "Older →" in first and "after=" in first
    chain = client.get(f"/api/address/{address}/txs/chain").get_json()
    older = client.get(f"/address/{address}?after={chain[-1]['txid']}").get_data(as_text=True)
    nxt = client.get(f"/api/address/{address}/txs/chain/{chain[-1]['txid']}").get_json()
    assert nxt[0]["txid"][:12] in older and chain[0]["txid"][:12] not in older


def test_tx_page(client, db):
    """The tx page shows fee, fee rate, inputs' addresses and links to spending txs."""
    tid = spending_tx(db, "p2sh")
    j = client.get(f"/api/tx/{tid}").get_json()
    page = client.get(f"/tx/{tid}").get_data(as_text=True)
    assert f"({j['fee']} sat)" in page
    vsize = (j["weight"] + 3) // 4
    assert f"{j['fee'] / vsize:.2f} sat/vB" in page
    for v in j["vin"]:
        assert v["prevout"]["scriptpubkey_address"] in page
    for n, spend in enumerate(client.get(f"/api/tx/{tid}/outspends").get_json()):
        if spend["spent"]:
            assert f"/tx/{spend['txid']}" in page
        else:
            assert "unspent" in page, n
    assert "confirmation" in page


def test_block_page(client, db):
    """The block page shows the header fields and pages its transactions."""
    height, block_hash, tx_count = db.execute(
        "SELECT height, hash, tx_count FROM blocks ORDER BY tx_count DESC LIMIT 1"
    ).fetchone()
    page = client.get(f"/block/{block_hash}").get_data(as_text=True)
    assert f"Block {height}" in page and f"of {tx_count}" in page and "Next 25" in page
    second = client.get(f"/block/{block_hash}?start=25").get_data(as_text=True)
    assert "Transactions 26–" in second


def test_search_redirects(client, db):
    """Search goes to the address, transaction or block; nonsense gets a 404 page."""
    tid, height = db.execute("SELECT txid, height FROM transactions LIMIT 1 OFFSET 5").fetchone()
    block_hash = db.execute("SELECT hash FROM blocks WHERE height = ?", (height,)).fetchone()[0]
    address = busiest_address(db)
    for q, target in (
        (address, f"/address/{address}"),
        (tid, f"/tx/{tid}"),
        (block_hash, f"/block/{block_hash}"),
        (str(height), f"/block/{block_hash}"),
    ):
        r = client.get("/search", query_string={"q": q})
        assert (r.status_code, r.headers["Location"]) == (302, target)
    assert client.get("/search?q=nonsense").status_code == 404
    assert client.get(f"/tx/{UNKNOWN}").status_code == 404
    assert "Page not found" in client.get("/no/such/page").get_data(as_text=True)


# -- a real Esplora client over HTTP ---------------------------------------------------


@pytest.fixture(scope="module")
def served(app):
    """The explorer on a free loopback port, served by werkzeug's threaded server."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/"
    server.shutdown()
    thread.join(timeout=5)


def test_bloxplorer_reads_the_explorer(served, db):
    """bloxplorer (an Esplora client from PyPI) reads a tx, an address history and the tip."""
    from bloxplorer.explorers import SyncExplorer

    class Sandbox(SyncExplorer):
        """bloxplorer pointed at the sandbox instead of blockstream.info."""

        BASE_URL = served

    explorer = Sandbox()
    tip = db.execute("SELECT max(height) FROM blocks").fetchone()[0]
    assert int(explorer.blocks.get_last_height().data) == tip
    tid = spending_tx(db, "p2wpkh")
    assert explorer.tx.get(tid).data["txid"] == tid
    address = busiest_address(db)
    history = explorer.addr.get_tx_history(address).data
    more = explorer.addr.get_confirmed_tx_history(address, history[-1]["txid"]).data
    assert len(history) == 25 and more and more[0]["txid"] != history[-1]["txid"]
    stats = explorer.addr.get(address).data
    assert stats["chain_stats"]["tx_count"] == len(world_history(db, address))


# -- the fast paths give the same answers as the plain ones ------------------------------


def test_json_text_equals_json_dict(app, db):
    """tx_json_bytes (the API's hand-built text) parses to exactly tx_json's dict."""
    store = app.extensions["explorer"].store
    ids = [r[0] for r in db.execute("SELECT id FROM transactions ORDER BY id LIMIT 600")]
    for view in store.load([("w", i) for i in ids]):
        text = tx_json_bytes(view)
        assert json.loads(text) == tx_json(view)
        assert list(json.loads(text)) == list(tx_json(view))  # same field order as electrs


def test_witness_store_matches_signing_on_demand(tiny_world, tmp_path, db):
    """Precomputed sections and packed prevouts equal what signing and the joins give."""
    store = WitnessStore(tmp_path, tiny_world, "digest-1").start()
    assert store.wait(60)
    heavy = [
        r[0]
        for r in db.execute(
            "SELECT tx_id FROM inputs GROUP BY tx_id HAVING count(*) >= ? LIMIT 50",
            (HEAVY_INPUTS,),
        )
    ]
    stored = store.get_many(heavy)
    assert heavy and stored.keys() == set(heavy)
    for tx_id in heavy:
        section, packed = stored[tx_id]
        raw = db.execute("SELECT raw FROM transactions WHERE id = ?", (tx_id,)).fetchone()[0]
        assert with_witnesses(raw, section) == full_transaction(db, tx_id)
        expected = db.execute(
            "SELECT o.value, a.address, a.type FROM inputs i JOIN outputs o "
            "ON o.tx_id = i.prev_tx_id AND o.n = i.prev_n JOIN addresses a ON a.id = o.address_id "
            "WHERE i.tx_id = ? ORDER BY i.n",
            (tx_id,),
        ).fetchall()
        assert unpack_prevouts(packed) == expected
    store.close()
    # A file made for another world is emptied rather than trusted.
    other = WitnessStore(tmp_path, tiny_world, "digest-2")
    assert other.get_many(heavy) == {}
    other.close()


def test_api_answers_the_same_with_and_without_precomputed_witnesses(app, tiny_world, tmp_path, db):
    """A many-input transaction's JSON is the same from the store and from signing."""
    cold = create_app(tiny_world, tmp_path, live_block_seconds=3600, warm_witnesses=False)
    app.extensions["explorer"].witnesses.wait(60)
    tid = db.execute(
        "SELECT t.txid FROM transactions t JOIN inputs i ON i.tx_id = t.id GROUP BY t.id "
        "ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    warm_json = app.test_client().get(f"/api/tx/{tid}").get_json()
    assert cold.test_client().get(f"/api/tx/{tid}").get_json() == warm_json
    assert len(warm_json["vin"]) >= HEAVY_INPUTS
    cold.extensions["explorer"].close()
