"""Broadcasting signed transactions to the explorer: mempool, live blocks, rejections."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass

import pytest
import yaml

from sandbox.errors import ScenarioError
from sandbox.explorer import create_app
from sandbox.ledger.address import p2wpkh_address, script_pubkey
from sandbox.ledger.block import bits_to_target, subsidy
from sandbox.ledger.codec.hashes import sha256d
from sandbox.ledger.keys import Key
from sandbox.ledger.live.chain import LiveChain, LiveMiner
from sandbox.ledger.tx import Tx, TxIn, TxOut, serialize, sign_input, txid
from sandbox.scenario import load_scenario
from tests.test_explorer import replica_client

DEST_KEY = Key(hashlib.sha256(b"test-broadcast/destination").digest())
DEST = p2wpkh_address(DEST_KEY.public_key)
FEE = 2_000


@dataclass(frozen=True)
class WorldCoin:
    """An unspent world output and the key that can spend it."""

    txid: str
    n: int
    value: int
    address: str
    secret: bytes


@pytest.fixture(scope="module")
def db(tiny_world):
    """A read-only connection to the tiny world."""
    conn = sqlite3.connect(f"file:{tiny_world}?mode=ro", uri=True)
    yield conn
    conn.close()


@pytest.fixture
def app(tiny_world, tmp_path):
    """A fresh explorer whose live blocks are mined only when a test says so."""
    app = create_app(tiny_world, tmp_path, live_block_seconds=3600)
    yield app
    app.extensions["explorer"].close()


@pytest.fixture(params=["alone", "workers"])
def client(request, app, tiny_world):
    """A test client of the explorer: of its app, or of the app its worker processes run,
    which passes broadcasts to the app and reads what it stored."""
    if request.param == "alone":
        yield app.test_client()
        return
    with replica_client(app, tiny_world) as client:
        yield client


def coins(db, address_type: str, count: int = 1) -> list[WorldCoin]:
    """Unspent, non-coinbase world outputs of one address type, with their keys."""
    rows = db.execute(
        "SELECT t.txid, o.n, o.value, a.address, a.secret FROM outputs o "
        "JOIN transactions t ON t.id = o.tx_id JOIN addresses a ON a.id = o.address_id "
        "WHERE a.type = ? AND t.position > 0 AND o.value > 50000 AND NOT EXISTS "
        "(SELECT 1 FROM inputs i WHERE i.prev_tx_id = o.tx_id AND i.prev_n = o.n) "
        "ORDER BY o.tx_id LIMIT ?",
        (address_type, count),
    ).fetchall()
    assert len(rows) == count
    return [WorldCoin(*r) for r in rows]


def spend(spent: list[WorldCoin], fee: int = FEE, to: str = DEST) -> Tx:
    """A transaction paying the coins (less a fee) to an address, signed with their keys."""
    tx = Tx(
        inputs=[TxIn(bytes.fromhex(c.txid)[::-1], c.n) for c in spent],
        outputs=[TxOut(sum(c.value for c in spent) - fee, script_pubkey(to))],
    )
    for i, c in enumerate(spent):
        sign_input(tx, i, Key(c.secret), script_pubkey(c.address), c.value)
    return tx


def post(client, tx: Tx | str):
    """POST a transaction (or any text) to /api/tx."""
    body = tx if isinstance(tx, str) else serialize(tx).hex()
    return client.post("/api/tx", data=body, content_type="text/plain")


def live_rows(app) -> int:
    """How many transactions chain.db holds."""
    return app.extensions["explorer"].live.read.tx_count()


def test_broadcast_mempool_then_block(app, client, db):
    """A signed spend enters the mempool, then the next live block with the right status."""
    coin = coins(db, "p2wpkh")[0]
    tx = spend([coin])
    tid = txid(tx)
    r = post(client, tx)
    assert (r.status_code, r.content_type, r.get_data(as_text=True)) == (200, "text/plain", tid)

    assert client.get("/api/mempool/txids").get_json() == [tid]
    backlog = client.get("/api/mempool").get_json()
    assert backlog["count"] == 1 and backlog["total_fee"] == FEE
    assert client.get("/api/mempool/recent").get_json()[0]["txid"] == tid
    assert [t["txid"] for t in client.get(f"/api/address/{DEST}/txs/mempool").get_json()] == [tid]
    assert client.get(f"/api/address/{DEST}/txs").get_json()[0]["txid"] == tid
    assert client.get(f"/api/tx/{tid}/status").get_json() == {"confirmed": False}
    j = client.get(f"/api/tx/{tid}").get_json()
    assert j["fee"] == FEE and j["status"] == {"confirmed": False}
    assert j["vin"][0]["prevout"]["scriptpubkey_address"] == coin.address
    assert client.get(f"/api/tx/{tid}/hex").get_data(as_text=True) == serialize(tx).hex()
    spent = client.get(f"/api/tx/{coin.txid}/outspend/{coin.n}").get_json()
    assert spent == {"spent": True, "txid": tid, "vin": 0, "status": {"confirmed": False}}
    source = client.get(f"/api/address/{coin.address}").get_json()
    assert source["mempool_stats"]["spent_txo_sum"] == coin.value
    assert (coin.txid, coin.n) not in {
        (u["txid"], u["vout"]) for u in client.get(f"/api/address/{coin.address}/utxo").get_json()
    }

    world_tip = int(client.get("/api/blocks/tip/height").get_data(as_text=True))
    block_hash = app.extensions["explorer"].live.mine_block()
    assert client.get("/api/blocks/tip/height").get_data(as_text=True) == str(world_tip + 1)
    assert client.get("/api/blocks/tip/hash").get_data(as_text=True) == block_hash
    status = client.get(f"/api/tx/{tid}/status").get_json()
    assert status["confirmed"] and status["block_height"] == world_tip + 1
    assert status["block_hash"] == block_hash
    assert client.get("/api/mempool/txids").get_json() == []

    block = client.get(f"/api/block/{block_hash}").get_json()
    assert block["tx_count"] == 2 and block["height"] == world_tip + 1
    previous = client.get(f"/api/block-height/{world_tip}").get_data(as_text=True)
    assert block["previousblockhash"] == previous
    txids = client.get(f"/api/block/{block_hash}/txids").get_json()
    assert txids[1] == tid
    coinbase = client.get(f"/api/tx/{txids[0]}").get_json()
    assert coinbase["vin"][0]["is_coinbase"]
    assert coinbase["vout"][0]["value"] == subsidy(world_tip + 1) + FEE
    assert coinbase["vout"][1]["scriptpubkey_type"] == "op_return"  # BIP141 witness commitment
    header = bytes.fromhex(client.get(f"/api/block/{block_hash}/header").get_data(as_text=True))
    assert sha256d(header)[::-1].hex() == block_hash
    assert int.from_bytes(sha256d(header), "little") <= bits_to_target(block["bits"])
    raw = client.get(f"/api/block/{block_hash}/raw").data
    assert len(raw) == block["size"] and raw[:80] == header

    dest = client.get(f"/api/address/{DEST}").get_json()
    assert dest["chain_stats"]["funded_txo_sum"] == coin.value - FEE
    assert dest["mempool_stats"]["tx_count"] == 0
    utxo = client.get(f"/api/address/{DEST}/utxo").get_json()
    assert utxo == [
        {
            "txid": tid,
            "vout": 0,
            "status": {
                "confirmed": True,
                "block_height": world_tip + 1,
                "block_hash": block_hash,
                "block_time": block["timestamp"],
            },
            "value": coin.value - FEE,
        }
    ]
    page = client.get(f"/tx/{tid}").get_data(as_text=True)
    assert "1 confirmation" in page and coin.address in page


def test_every_input_type_and_a_mempool_child(app, client, db):
    """P2PKH, P2SH-P2WPKH and P2WPKH inputs in one tx; a child of it spends from the mempool."""
    spent = coins(db, "p2pkh") + coins(db, "p2sh") + coins(db, "p2wpkh", 2)[1:]
    parent = spend(spent)
    assert post(client, parent).status_code == 200
    child = Tx(
        inputs=[TxIn(bytes.fromhex(txid(parent))[::-1], 0)],
        outputs=[TxOut(parent.outputs[0].value - FEE, script_pubkey(DEST))],
    )
    sign_input(child, 0, DEST_KEY, script_pubkey(DEST), parent.outputs[0].value)
    r = post(client, child)
    assert r.status_code == 200, r.get_data(as_text=True)
    block_hash = app.extensions["explorer"].live.mine_block()
    txids = client.get(f"/api/block/{block_hash}/txids").get_json()
    assert txids[1:] == [txid(parent), txid(child)]


def _bad_signature(db) -> Tx:
    """A spend whose output was changed after signing."""
    tx = spend(coins(db, "p2wpkh"))
    tx.outputs[0].value -= 1
    return tx


def _wrong_key(db) -> Tx:
    """A spend signed with somebody else's key."""
    coin = coins(db, "p2wpkh")[0]
    tx = spend([coin])
    sign_input(tx, 0, DEST_KEY, script_pubkey(DEST), coin.value)
    return tx


def _same_input_twice(db) -> Tx:
    """A transaction spending one output in two inputs."""
    coin = coins(db, "p2wpkh")[0]
    return spend([coin, coin], fee=coin.value + FEE)


def _overspend(db) -> Tx:
    """A transaction paying out more than it spends."""
    return spend(coins(db, "p2sh"), fee=-1000)


def _missing_output(db) -> Tx:
    """A spend of an output that never existed."""
    coin = coins(db, "p2wpkh")[0]
    return spend([WorldCoin("ab" * 32, 0, coin.value, coin.address, coin.secret)])


def _already_spent(db) -> Tx:
    """A spend of a world output that a world transaction already spent."""
    tid, n, value, address, secret = db.execute(
        "SELECT t.txid, o.n, o.value, a.address, a.secret FROM outputs o "
        "JOIN transactions t ON t.id = o.tx_id JOIN addresses a ON a.id = o.address_id "
        "JOIN inputs i ON i.prev_tx_id = o.tx_id AND i.prev_n = o.n "
        "WHERE a.type = 'p2wpkh' AND t.position > 0 LIMIT 1"
    ).fetchone()
    return spend([WorldCoin(tid, n, value, address, secret)])


def _dust(db) -> Tx:
    """A spend with a 100-satoshi output."""
    coin = coins(db, "p2wpkh")[0]
    tx = Tx(
        inputs=[TxIn(bytes.fromhex(coin.txid)[::-1], coin.n)],
        outputs=[
            TxOut(coin.value - FEE - 100, script_pubkey(DEST)),
            TxOut(100, b"\x00\x14" + bytes(20)),
        ],
    )
    sign_input(tx, 0, Key(coin.secret), script_pubkey(coin.address), coin.value)
    return tx


@pytest.mark.parametrize(
    "make, code, message",
    [
        (
            _bad_signature,
            -26,
            "mandatory-script-verify-flag-failed "
            "(Signature must be zero for failed CHECK(MULTI)SIG operation)",
        ),
        (
            _wrong_key,
            -26,
            "mandatory-script-verify-flag-failed (Script failed an OP_EQUALVERIFY operation)",
        ),
        (_same_input_twice, -26, "bad-txns-inputs-duplicate"),
        (_overspend, -26, "bad-txns-in-belowout, value in ("),
        (_missing_output, -25, "bad-txns-inputs-missingorspent"),
        (_already_spent, -25, "bad-txns-inputs-missingorspent"),
        (_dust, -26, "dust"),
        (lambda db: "this is not hex", -22, "TX decode failed"),
        (lambda db: "0200000001", -22, "TX decode failed"),
    ],
    ids=[
        "bad-sig",
        "wrong-key",
        "same-input-twice",
        "overspend",
        "missing",
        "spent",
        "dust",
        "garbage",
        "truncated",
    ],
)
def test_rejections(app, client, db, make, code, message):
    """Each invalid transaction is refused with bitcoind's code and reason; nothing is stored."""
    before = live_rows(app)
    r = post(client, make(db))
    text = r.get_data(as_text=True)
    assert (r.status_code, r.content_type) == (400, "text/plain")
    prefix = f'sendrawtransaction RPC error: {{"code":{code},"message":"{message}'
    assert text.startswith(prefix), text
    assert live_rows(app) == before
    assert client.get("/api/mempool").get_json()["count"] == 0


def test_overspend_names_the_amounts(client, db):
    """bad-txns-in-belowout says both amounts in BTC, as Core formats them."""
    coin = coins(db, "p2sh")[0]
    text = post(client, spend([coin], fee=-1000)).get_data(as_text=True)
    value_in = f"{coin.value // 10**8}.{coin.value % 10**8:08d}".rstrip("0")
    assert f"value in ({value_in}" in text


def test_conflict_with_the_mempool(app, client, db):
    """A second transaction spending an output a mempool transaction spends is refused."""
    coin = coins(db, "p2wpkh")[0]
    assert post(client, spend([coin])).status_code == 200
    rival = spend([coin], fee=FEE * 5)
    r = post(client, rival)
    assert r.get_data(as_text=True) == (
        'sendrawtransaction RPC error: {"code":-26,"message":"txn-mempool-conflict"}'
    )
    assert client.get("/api/mempool").get_json()["count"] == 1
    # The same transaction again is not a conflict: bitcoind answers its txid.
    again = post(client, spend([coin]))
    assert again.status_code == 200 and client.get("/api/mempool").get_json()["count"] == 1


def test_confirmed_tx_again(app, client, db):
    """Rebroadcasting a confirmed transaction is refused as already in the chain."""
    tx = spend(coins(db, "p2wpkh"))
    assert post(client, tx).status_code == 200
    app.extensions["explorer"].live.mine_block()
    r = post(client, tx)
    assert r.get_data(as_text=True) == (
        'sendrawtransaction RPC error: {"code":-27,"message":"Transaction outputs already in utxo set"}'
    )


def test_state_survives_recreating_the_app(tiny_world, tmp_path, db):
    """Mempool and live blocks are in chain.db: a new app on the same state sees them."""
    tx = spend(coins(db, "p2wpkh"))
    tid = txid(tx)
    first = create_app(tiny_world, tmp_path, live_block_seconds=3600)
    assert post(first.test_client(), tx).status_code == 200
    first.extensions["explorer"].close()

    second = create_app(tiny_world, tmp_path, live_block_seconds=3600)
    c = second.test_client()
    assert c.get("/api/mempool/txids").get_json() == [tid]
    block_hash = second.extensions["explorer"].live.mine_block()
    second.extensions["explorer"].close()

    third = create_app(tiny_world, tmp_path, live_block_seconds=3600)
    c = third.test_client()
    assert c.get("/api/blocks/tip/hash").get_data(as_text=True) == block_hash
    assert c.get(f"/api/tx/{tid}/status").get_json()["block_hash"] == block_hash
    third.extensions["explorer"].close()


def test_zero_seconds_mines_right_after_broadcast(tiny_world, tmp_path, db):
    """With live_block_seconds = 0 an accepted transaction is confirmed at once."""
    app = create_app(tiny_world, tmp_path, live_block_seconds=0)
    c = app.test_client()
    tx = spend(coins(db, "p2wpkh"))
    assert post(c, tx).status_code == 200
    assert c.get(f"/api/tx/{txid(tx)}/status").get_json()["confirmed"] is True
    assert c.get("/api/mempool").get_json()["count"] == 0
    app.extensions["explorer"].close()


def test_live_miner_mines_on_schedule(tiny_world, tmp_path):
    """LiveMiner mines blocks every interval; block times follow the world's block interval."""
    chain = LiveChain(tiny_world, tmp_path)
    start = chain.tip()
    miner = LiveMiner(chain, 0.05).start()
    deadline = time.monotonic() + 10
    while chain.tip()[0] < start[0] + 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    miner.stop()
    height, _, block_time = chain.tip()
    assert height >= start[0] + 2
    assert block_time == start[2] + (height - start[0]) * chain.block_interval
    chain.close()


def test_broadcast_page(client, db):
    """The broadcast page accepts a transaction and shows the reason of a rejection."""
    assert 'name="tx"' in client.get("/broadcast").get_data(as_text=True)
    tx = spend(coins(db, "p2wpkh"))
    ok = client.post("/broadcast", data={"tx": serialize(tx).hex()})
    assert ok.status_code == 200 and f"/tx/{txid(tx)}" in ok.get_data(as_text=True)
    bad = client.post("/broadcast", data={"tx": "00"})
    assert bad.status_code == 400 and "TX decode failed" in bad.get_data(as_text=True)


def test_live_block_seconds_knob(tiny_path, tmp_path):
    """world.live_block_seconds is a scenario knob: an integer >= 0, default 60 (a block a minute)."""
    data = yaml.safe_load(tiny_path.read_text())
    assert load_scenario(str(tiny_path)).world.live_block_seconds == 60
    data.setdefault("world", {})["live_block_seconds"] = 30
    path = tmp_path / "knob.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_scenario(str(path)).world.live_block_seconds == 30
    data["world"]["live_block_seconds"] = -1
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError):
        load_scenario(str(path))


def test_chain_of_another_world_is_set_aside(tiny_world, tmp_path):
    """chain.db made on a world since rebuilt is kept aside, and a new live chain starts."""
    chain = LiveChain(tiny_world, tmp_path)
    world_tip = chain.tip()
    chain.mine_block()
    chain._writer.execute("UPDATE meta SET value = 'an-older-world' WHERE key = 'world_digest'")
    chain._writer.commit()
    chain.close()
    again = LiveChain(tiny_world, tmp_path)
    assert again.tip() == world_tip
    assert list(tmp_path.glob("chain-an-older-wor*.db"))
    again.close()
