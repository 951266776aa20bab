"""Esplora as wallets use it: scripthash endpoints, merkle proofs, address search; checked
with our own hashing here and with real wallet and block libraries over HTTP."""

from __future__ import annotations

import hashlib
import sqlite3
import struct
import threading

import pytest

from sandbox.classroom.compare import answer_matches
from sandbox.explorer import create_app
from sandbox.ledger.address import p2wpkh_address, script_pubkey
from sandbox.ledger.codec.hashes import sha256d
from sandbox.ledger.keys import Key
from sandbox.ledger.tx import Tx, TxIn, TxOut, serialize, sign_input, txid
from sandbox.portal_server import PortalServer


@pytest.fixture(scope="module")
def app(tiny_world, tmp_path_factory):
    """The explorer on the tiny world; live blocks only when a test mines one."""
    app = create_app(tiny_world, tmp_path_factory.mktemp("esplora"), live_block_seconds=3600)
    yield app
    app.extensions["explorer"].close()


@pytest.fixture(scope="module")
def client(app):
    """A test client of the explorer."""
    return app.test_client()


@pytest.fixture(scope="module")
def busy(tiny_world) -> str:
    """The world address with the most outputs (several pages of history)."""
    conn = sqlite3.connect(f"file:{tiny_world}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT a.address FROM outputs o JOIN addresses a ON a.id = o.address_id "
            "GROUP BY o.address_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
    finally:
        conn.close()


def scripthash(address: str) -> str:
    """Esplora's scripthash: SHA-256 of the output script, hex, not reversed."""
    return hashlib.sha256(script_pubkey(address)).hexdigest()


# -- scripthash endpoints ---------------------------------------------------------------


def test_scripthash_answers_as_the_address(client, busy):
    """Every scripthash endpoint answers what the address endpoint answers."""
    sh = scripthash(busy)
    stats = client.get(f"/api/scripthash/{sh}").get_json()
    assert stats["scripthash"] == sh
    by_address = client.get(f"/api/address/{busy}").get_json()
    assert stats["chain_stats"] == by_address["chain_stats"]
    assert stats["chain_stats"]["tx_count"] > 25
    for tail in ("/txs", "/txs/chain", "/txs/mempool", "/utxo"):
        a = client.get(f"/api/address/{busy}{tail}")
        s = client.get(f"/api/scripthash/{sh}{tail}")
        assert (a.status_code, s.status_code) == (200, 200), tail
        assert a.get_json() == s.get_json(), tail
    first = client.get(f"/api/scripthash/{sh}/txs/chain").get_json()
    last = first[-1]["txid"]
    page = client.get(f"/api/scripthash/{sh}/txs/chain/{last}").get_json()
    assert page == client.get(f"/api/address/{busy}/txs/chain/{last}").get_json()
    assert page and not {t["txid"] for t in page} & {t["txid"] for t in first}


def test_unknown_and_bad_scripthash(client):
    """A script the chain never paid has empty answers; a malformed hash is electrs' 400."""
    empty = client.get("/api/scripthash/" + "ab" * 32).get_json()
    assert empty["chain_stats"]["tx_count"] == 0
    assert client.get("/api/scripthash/" + "ab" * 32 + "/txs").get_json() == []
    assert client.get("/api/scripthash/" + "ab" * 32 + "/utxo").get_json() == []
    bad = client.get("/api/scripthash/nothex/txs")
    assert (bad.status_code, bad.get_data(as_text=True)) == (400, "Invalid scripthash")


def test_address_prefix(client, busy):
    """Up to 10 known addresses with the prefix, the one searched for among them."""
    found = client.get(f"/api/address-prefix/{busy[:8]}").get_json()
    assert busy in found and all(a.startswith(busy[:8]) for a in found)
    assert len(client.get("/api/address-prefix/bc1q").get_json()) == 10
    assert client.get("/api/address-prefix/zzzz").get_json() == []


# -- merkle proofs ----------------------------------------------------------------------


def _block_of(client, txid: str) -> dict:
    """The block a confirmed transaction is in."""
    status = client.get(f"/api/tx/{txid}/status").get_json()
    return client.get(f"/api/block/{status['block_hash']}").get_json()


def test_merkle_proof_reaches_the_root(client, busy):
    """Electrum's proof: hashing up the branch from the txid gives the block's merkle root."""
    for tx in client.get(f"/api/address/{busy}/txs/chain").get_json()[:5]:
        proof = client.get(f"/api/tx/{tx['txid']}/merkle-proof").get_json()
        block = _block_of(client, tx["txid"])
        assert proof["block_height"] == block["height"]
        node, pos = bytes.fromhex(tx["txid"])[::-1], proof["pos"]
        for sibling in proof["merkle"]:
            s = bytes.fromhex(sibling)[::-1]
            node = sha256d(s + node) if pos & 1 else sha256d(node + s)
            pos >>= 1
        assert node[::-1].hex() == block["merkle_root"]
        txids = client.get(f"/api/block/{block['id']}/txids").get_json()
        assert txids[proof["pos"]] == tx["txid"]
        assert client.get(f"/api/block/{block['id']}/txid/{proof['pos']}").text == tx["txid"]


def _read_merkleblock(raw: bytes) -> tuple[bytes, int, list[bytes], list[bool]]:
    """(header, tx count, hashes, flag bits) of a serialized merkleblock (BIP37)."""

    def size(at: int) -> tuple[int, int]:
        first = raw[at]
        if first < 0xFD:
            return first, at + 1
        width = {0xFD: 2, 0xFE: 4, 0xFF: 8}[first]
        return int.from_bytes(raw[at + 1 : at + 1 + width], "little"), at + 1 + width

    header, (total,) = raw[:80], struct.unpack("<I", raw[80:84])
    n, at = size(84)
    hashes = [raw[at + 32 * i : at + 32 * (i + 1)] for i in range(n)]
    n_flags, at = size(at + 32 * n)
    flags = raw[at : at + n_flags]
    assert at + n_flags == len(raw)
    bits = [bool(flags[i >> 3] >> (i & 7) & 1) for i in range(8 * n_flags)]
    return header, total, hashes, bits


def _walk(total: int, hashes: list[bytes], bits: list[bool]) -> tuple[bytes, list[bytes]]:
    """(root, matched txids) of a partial merkle tree, as CPartialMerkleTree extracts them."""
    h_iter, b_iter, matched = iter(hashes), iter(bits), []

    def width(height: int) -> int:
        return (total + (1 << height) - 1) >> height

    def node(height: int, pos: int) -> bytes:
        flag = next(b_iter)
        if height == 0 or not flag:
            h = next(h_iter)
            if height == 0 and flag:
                matched.append(h)
            return h
        left = node(height - 1, 2 * pos)
        right = node(height - 1, 2 * pos + 1) if 2 * pos + 1 < width(height - 1) else left
        return sha256d(left + right)

    height = 0
    while width(height) > 1:
        height += 1
    return node(height, 0), matched


def test_merkleblock_proof(client, busy):
    """bitcoind's merkleblock: the header of the tx's block and a tree matching only the tx."""
    tx = client.get(f"/api/address/{busy}/txs/chain").get_json()[0]
    raw = bytes.fromhex(client.get(f"/api/tx/{tx['txid']}/merkleblock-proof").text)
    header, total, hashes, bits = _read_merkleblock(raw)
    block = _block_of(client, tx["txid"])
    assert header.hex() == client.get(f"/api/block/{block['id']}/header").text
    assert total == block["tx_count"]
    root, matched = _walk(total, hashes, bits)
    assert root[::-1].hex() == block["merkle_root"]
    assert [m[::-1].hex() for m in matched] == [tx["txid"]]


def test_proofs_of_unknown_tx(client):
    """No proof for a transaction the chain does not have: electrs' 404."""
    for tail in ("merkle-proof", "merkleblock-proof"):
        r = client.get("/api/tx/" + "11" * 32 + "/" + tail)
        assert r.status_code == 404
        assert r.get_data(as_text=True) == "Transaction not found or is unconfirmed"
    assert client.get("/api/tx/xyz/merkle-proof").status_code == 400


# -- a mainnet-shaped chain, checked by python-bitcoinlib -------------------------------


def test_block_zero_is_bitcoins_genesis(client):
    """Block 0 is the real genesis block, byte for byte; block 1 builds on it."""
    from bitcoin.core import CoreMainParams

    genesis = client.get("/api/block-height/0").text
    assert genesis == "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    assert client.get(f"/api/block/{genesis}/raw").data == CoreMainParams.GENESIS_BLOCK.serialize()
    first = client.get("/api/block/" + client.get("/api/block-height/1").text).get_json()
    assert first["previousblockhash"] == genesis


def _blocks(client, heights) -> list:
    """python-bitcoinlib's CBlock of each height, from /block/:hash/raw."""
    from bitcoin.core import CBlock

    return [
        CBlock.deserialize(
            client.get(f"/api/block/{client.get(f'/api/block-height/{h}').text}/raw").data
        )
        for h in heights
    ]


def test_blocks_pass_a_validator(client):
    """python-bitcoinlib's CheckBlock (proof of work skipped: regtest difficulty) accepts
    the blocks, segwit ones with their witness commitment; stripping it is caught."""
    from bitcoin.core import CBlock, CheckBlock, CheckBlockError, CMutableTransaction

    tip = int(client.get("/api/blocks/tip/height").text)
    blocks = _blocks(client, range(0, tip + 1, 5))
    segwit = [b for b in blocks if any(not tx.wit.is_null() for tx in b.vtx[1:])]
    assert len(segwit) > 10
    for b in blocks:
        CheckBlock(b, fCheckPoW=False, cur_time=2**40)
    # Without its commitment (merkle root recomputed) a segwit block is rejected.
    b = segwit[0]
    cb = CMutableTransaction.from_tx(b.vtx[0])
    cb.vout = cb.vout[:1]
    vtx = [cb, *b.vtx[1:]]
    stripped = CBlock(b.nVersion, b.hashPrevBlock, b"\0" * 32, b.nTime, b.nBits, b.nNonce, vtx)
    stripped = CBlock(
        b.nVersion, b.hashPrevBlock, stripped.calc_merkle_root(), b.nTime, b.nBits, b.nNonce, vtx
    )
    with pytest.raises(CheckBlockError, match="witness commitment"):
        CheckBlock(stripped, fCheckPoW=False, cur_time=2**40)


# -- bdk, a real wallet library, over HTTP ----------------------------------------------


@pytest.fixture(scope="module")
def served(app):
    """The explorer on a free loopback port, served as `sandbox up` serves it (waitress)."""
    server = PortalServer("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def world_key(tiny_world) -> tuple[str, bytes]:
    """(address, secret) of a P2WPKH world key with a history of several transactions."""
    conn = sqlite3.connect(f"file:{tiny_world}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT a.address, a.secret FROM outputs o JOIN addresses a ON a.id = o.address_id"
            " LEFT JOIN inputs i ON i.prev_tx_id = o.tx_id AND i.prev_n = o.n"
            " WHERE a.type = 'p2wpkh' GROUP BY o.address_id HAVING count(*) BETWEEN 3 AND 20"
            " AND count(*) > count(i.tx_id) ORDER BY count(*) DESC, a.id LIMIT 1"
        ).fetchone()
    finally:
        conn.close()


def _bdk_wallet(secret: bytes):
    """A bdk wallet of the one key: the descriptor wpkh(WIF), on mainnet."""
    import bdkpython as bdk

    descriptor = bdk.Descriptor(f"wpkh({Key(secret).wif()})", bdk.NetworkKind.MAIN)
    return bdk.Wallet.create_single(descriptor, bdk.Network.BITCOIN, bdk.Persister.new_in_memory())


def _explorer_balance(client, address: str) -> int:
    """Confirmed plus unconfirmed balance of an address, from the explorer's counters."""
    j = client.get(f"/api/address/{address}").get_json()
    return sum(
        j[k]["funded_txo_sum"] - j[k]["spent_txo_sum"] for k in ("chain_stats", "mempool_stats")
    )


def test_bdk_full_scan_and_sync(served, client, world_key):
    """bdk's full_scan then sync of a world key: its address, history and balance are the
    explorer's, and its chain of checkpoints starts at Bitcoin's genesis block."""
    import bdkpython as bdk

    address, secret = world_key
    wallet = _bdk_wallet(secret)
    assert str(wallet.peek_address(bdk.KeychainKind.EXTERNAL, 0).address) == address
    esplora = bdk.EsploraClient(served)
    wallet.apply_update(esplora.full_scan(wallet.start_full_scan().build(), 5, 1))
    balance = _explorer_balance(client, address)
    assert balance > 0 and wallet.balance().total.to_sat() == balance
    history = client.get(f"/api/address/{address}").get_json()["chain_stats"]["tx_count"]
    assert len(wallet.transactions()) == history
    wallet.apply_update(esplora.sync(wallet.start_sync_with_revealed_spks().build(), 1))
    assert wallet.balance().total.to_sat() == balance
    assert str(wallet.latest_checkpoint().hash) == client.get("/api/blocks/tip/hash").text
    # bdk's merkle proof of a wallet transaction verifies against its block's merkle root.
    tx = client.get(f"/api/address/{address}/txs/chain").get_json()[0]
    proof = esplora.get_merkle_proof(bdk.Txid.from_string(tx["txid"]))
    node, pos = bytes.fromhex(tx["txid"])[::-1], proof.pos
    for sibling in proof.merkle:
        s = bytes.fromhex(str(sibling))[::-1]
        node = sha256d(s + node) if pos & 1 else sha256d(node + s)
        pos >>= 1
    block = client.get(f"/api/block/{tx['status']['block_hash']}").get_json()
    assert proof.block_height == block["height"]
    assert node[::-1].hex() == block["merkle_root"]


# -- the mempool stage ------------------------------------------------------------------


def _spendable_coin(client, address: str) -> dict:
    """A confirmed unspent output of an address."""
    return next(
        u for u in client.get(f"/api/address/{address}/utxo").get_json() if u["value"] > 10_000
    )


def _sweep_tx(coin: dict, address: str, secret: bytes, to: str) -> Tx:
    """A signed spend of one coin (less a fee) to an address."""
    tx = Tx(
        inputs=[TxIn(bytes.fromhex(coin["txid"])[::-1], coin["vout"])],
        outputs=[TxOut(coin["value"] - 1_000, script_pubkey(to))],
    )
    sign_input(tx, 0, Key(secret), script_pubkey(address), coin["value"])
    return tx


DEST = p2wpkh_address(Key(hashlib.sha256(b"test-esplora-wallet/dest").digest()).public_key)


def test_broadcast_waits_for_the_next_scheduled_block(tiny_world, tmp_path, world_key):
    """At a classroom pace a broadcast is unconfirmed everywhere (API, pages, a sweep
    judged all the same) until the live miner's next block confirms it."""
    address, secret = world_key
    app = create_app(tiny_world, tmp_path, live_block_seconds=5)
    try:
        client = app.test_client()
        tip = int(client.get("/api/blocks/tip/height").text)
        tx = _sweep_tx(_spendable_coin(client, address), address, secret, DEST)
        tid = txid(tx)
        assert client.post("/api/tx", data=serialize(tx).hex()).text == tid
        # The first scheduled block is 5 s after the app started: the tx is still waiting.
        assert client.get(f"/api/tx/{tid}/status").get_json() == {"confirmed": False}
        assert tid in client.get("/api/mempool/txids").get_json()
        assert tid in [t["txid"] for t in client.get("/api/mempool/recent").get_json()]
        assert client.get("/api/mempool").get_json()["count"] >= 1
        stats = client.get(f"/api/address/{DEST}").get_json()["mempool_stats"]
        assert stats["tx_count"] == 1 and stats["funded_txo_sum"] == tx.outputs[0].value
        mempool = client.get(f"/api/scripthash/{scripthash(DEST)}/txs/mempool").get_json()
        assert [t["txid"] for t in mempool] == [tid]
        assert "Unconfirmed" in client.get(f"/tx/{tid}").get_data(as_text=True)
        key = {"spend_from": [address], "pay_to": DEST}
        chain_db = tmp_path / "chain.db"
        assert answer_matches("sweep", tid, key, chain_db=chain_db)  # judged while unconfirmed
        status = {"confirmed": False}
        for _ in range(600):  # the miner's schedule, not this test, decides when
            status = client.get(f"/api/tx/{tid}/status").get_json()
            if status["confirmed"]:
                break
            threading.Event().wait(0.1)
        assert status["confirmed"] and status["block_height"] == tip + 1
        assert tid not in client.get("/api/mempool/txids").get_json()
        assert client.get(f"/api/address/{DEST}").get_json()["chain_stats"]["tx_count"] == 1
        assert answer_matches("sweep", tid, key, chain_db=chain_db)  # the same once mined
        # The live block too commits to its witnesses, and a validator accepts it.
        from bitcoin.core import CheckBlock

        (live_block,) = _blocks(client, [tip + 1])
        CheckBlock(live_block, fCheckPoW=False, cur_time=2**40)
        assert live_block.vtx[0].vout[-1].scriptPubKey[:6].hex() == "6a24aa21a9ed"
    finally:
        app.extensions["explorer"].close()


def test_pace_defaults_and_override(tiny_world, tmp_path, monkeypatch):
    """Worlds default to a block a minute; SANDBOX_LIVE_BLOCK_SECONDS overrides the world's
    pace (0: mine at once); a bad value is refused naming the variable."""
    monkeypatch.delenv("SANDBOX_LIVE_BLOCK_SECONDS", raising=False)
    app = create_app(tiny_world, tmp_path / "a", warm_witnesses=False)
    try:
        explorer = app.extensions["explorer"]
        assert explorer.live.block_seconds == 60
        assert explorer.miner is not None and explorer.miner.interval == 60
        assert not explorer.live.mine_on_broadcast
    finally:
        app.extensions["explorer"].close()
    monkeypatch.setenv("SANDBOX_LIVE_BLOCK_SECONDS", "0")
    app = create_app(tiny_world, tmp_path / "b", warm_witnesses=False)
    try:
        assert app.extensions["explorer"].miner is None
        assert app.extensions["explorer"].live.mine_on_broadcast
    finally:
        app.extensions["explorer"].close()
    monkeypatch.setenv("SANDBOX_LIVE_BLOCK_SECONDS", "soon")
    with pytest.raises(ValueError, match="SANDBOX_LIVE_BLOCK_SECONDS"):
        create_app(tiny_world, tmp_path / "c", warm_witnesses=False)
    assert not (tmp_path / "c" / "chain.db").exists()  # refused before anything was opened


def test_coinbase_outspends_cover_every_output(client):
    """A coinbase's address-less outputs (the genesis key, a witness commitment) are
    listed unspent like any other."""
    genesis = client.get("/api/block/" + client.get("/api/block-height/0").text + "/txids")
    tx = client.get(f"/api/tx/{genesis.get_json()[0]}").get_json()
    assert tx["vout"][0]["scriptpubkey_type"] == "p2pk"
    assert client.get(f"/api/tx/{tx['txid']}/outspends").get_json() == [{"spent": False}]
    tip = int(client.get("/api/blocks/tip/height").text)
    for height in range(tip, 0, -1):
        block = client.get(f"/api/block-height/{height}").text
        cb = client.get(f"/api/tx/{client.get(f'/api/block/{block}/txid/0').text}").get_json()
        if len(cb["vout"]) == 2:
            break
    assert cb["vout"][1]["scriptpubkey"].startswith("6a24aa21a9ed")
    assert cb["vin"][0]["witness"] == ["00" * 32]
    assert len(client.get(f"/api/tx/{cb['txid']}/outspends").get_json()) == 2
