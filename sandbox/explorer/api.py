"""The Esplora-compatible REST API, under /api (paths, shapes, page sizes and errors as electrs)."""

from __future__ import annotations

import orjson
from flask import Blueprint, Response, current_app, request

from ..ledger.block import merkle_block, merkle_branch
from ..ledger.live.mempool import BroadcastError
from .esplora import (
    block_json,
    fee_histogram,
    outspend_json,
    stats_json,
    status_json,
    tx_json_bytes,
    utxo_json,
)
from .models import BadRequest, Block, NotFound, Stats, check_address, check_txid
from .store import BLOCK_TXS_PER_PAGE, ChainStore

bp = Blueprint("api", __name__, url_prefix="/api")

RECENT_TXS = 10


def store() -> ChainStore:
    """The app's chain store."""
    return current_app.extensions["explorer"].store


def json_response(value) -> Response:
    """A compact JSON answer, as electrs sends it."""
    return Response(orjson.dumps(value), content_type="application/json")


def tx_bodies(refs) -> list[bytes]:
    """Each transaction's JSON; world ones are serialized once and reused (they never change)."""
    s = store()
    parts: dict = {}
    missing = []
    for ref in refs:
        cached = s.json_cache.get(ref[1]) if ref[0] == "w" else None
        if cached is None:
            missing.append(ref)
        else:
            parts[ref] = cached
    for view in s.load(missing):
        ref = ("w", view.world_id) if view.world_id is not None else ("l", view.txid)
        parts[ref] = tx_json_bytes(view)
        if ref[0] == "w":
            s.json_cache.put(ref[1], parts[ref])
    return [parts[r] for r in refs if r in parts]


def txs_response(refs) -> Response:
    """A JSON array of transactions."""
    body = b"[" + b",".join(tx_bodies(refs)) + b"]"
    return Response(body, content_type="application/json")


def text_response(text: str, status: int = 200) -> Response:
    """A text/plain answer (heights, hashes, hex, errors)."""
    return Response(text, status=status, content_type="text/plain")


def _number(text: str) -> int:
    """A non-negative integer path segment, or Esplora's 400."""
    if not text.isdigit() or not text.isascii():
        raise BadRequest("Invalid number")
    return int(text)


@bp.after_request
def _cors(response: Response) -> Response:
    """Let browser tools on other origins read the API, as public Esplora servers do."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.errorhandler(BadRequest)
def _bad_request(e: BadRequest) -> Response:
    """400 with Esplora's message."""
    return text_response(str(e), 400)


@bp.errorhandler(NotFound)
def _not_found(e: NotFound) -> Response:
    """404 with Esplora's message."""
    return text_response(str(e), 404)


# -- transactions ---------------------------------------------------------------------


@bp.get("/tx/<txid>")
def tx(txid: str):
    """A transaction."""
    bodies = tx_bodies([store().tx_ref(check_txid(txid))])
    if not bodies:
        raise NotFound("Transaction not found")
    return Response(bodies[0], content_type="application/json")


@bp.get("/tx/<txid>/status")
def tx_status(txid: str):
    """A transaction's confirmation status ({"confirmed": false} when unknown, as electrs)."""
    view = store().find_tx(check_txid(txid))
    if view is None:
        return json_response({"confirmed": False})
    return json_response(status_json(view.height, view.block_hash, view.block_time))


@bp.get("/tx/<txid>/hex")
def tx_hex(txid: str):
    """The raw transaction in hex, witnesses included."""
    return text_response(store().raw(check_txid(txid)).hex())


@bp.get("/tx/<txid>/raw")
def tx_raw(txid: str):
    """The raw transaction as binary."""
    return Response(store().raw(check_txid(txid)), content_type="application/octet-stream")


@bp.get("/tx/<txid>/outspend/<vout>")
def tx_outspend(txid: str, vout: str):
    """Whether one output is spent, and by what ({"spent": false} for unknown outputs)."""
    txid, n = check_txid(txid), _number(vout)
    try:
        spends = store().outspends(txid)
    except NotFound:
        spends = []
    return json_response(outspend_json(spends[n] if n < len(spends) else None))


@bp.get("/tx/<txid>/outspends")
def tx_outspends(txid: str):
    """The spending status of every output."""
    return json_response([outspend_json(s) for s in store().outspends(check_txid(txid))])


def _block_place(txid: str) -> tuple[Block, list[str], int]:
    """(block, its txids, position) of a confirmed transaction, or electrs' 404."""
    s = store()
    view = s.find_tx(check_txid(txid))
    if view is None or view.height is None:
        raise NotFound("Transaction not found or is unconfirmed")
    b = s.block_at(view.height)
    txids = s.block_txids(b)
    return b, txids, txids.index(view.txid)


@bp.get("/tx/<txid>/merkle-proof")
def tx_merkle_proof(txid: str):
    """Electrum's merkle proof: block height, sibling hashes (display hex) and position."""
    b, txids, pos = _block_place(txid)
    branch = merkle_branch([bytes.fromhex(t)[::-1] for t in txids], pos)
    return json_response(
        {"block_height": b.height, "merkle": [h[::-1].hex() for h in branch], "pos": pos}
    )


@bp.get("/tx/<txid>/merkleblock-proof")
def tx_merkleblock_proof(txid: str):
    """bitcoind's merkleblock proving the transaction, in hex (as gettxoutproof)."""
    b, txids, pos = _block_place(txid)
    header = store().block_header(b)
    return text_response(merkle_block(header, [bytes.fromhex(t)[::-1] for t in txids], pos).hex())


def _broadcast(hex_text: str) -> Response:
    """Submit a transaction; its txid, or bitcoind's error as Esplora relays it."""
    try:
        txid = current_app.extensions["explorer"].live.broadcast(hex_text)
    except BroadcastError as e:
        return text_response(e.rpc_text(), 400)
    return text_response(txid)


@bp.post("/tx")
def tx_post():
    """Broadcast a raw transaction given as hex in the body."""
    return _broadcast(request.get_data().decode("utf-8", "replace"))


@bp.get("/broadcast")
def broadcast_get():
    """The legacy GET form of broadcasting (?tx=HEX), which electrs still accepts."""
    hex_text = request.args.get("tx")
    if hex_text is None:
        raise BadRequest("Missing tx")
    return _broadcast(hex_text)


# -- addresses ------------------------------------------------------------------------


def _history_chain(address: str | None, last_seen: str | None) -> Response:
    """25 confirmed transactions of an address (none for an unknown script)."""
    last = check_txid(last_seen) if last_seen is not None else None
    if address is None:
        return txs_response([])
    return txs_response(store().address_chain_refs(address, last))


def _history(address: str | None) -> Response:
    """Up to 50 mempool transactions, then the 25 newest confirmed ones."""
    if address is None:
        return txs_response([])
    s = store()
    return txs_response(s.address_mempool_refs(address) + s.address_chain_refs(address))


def _history_mempool(address: str | None) -> Response:
    """Up to 50 unconfirmed transactions."""
    if address is None:
        return txs_response([])
    return txs_response(store().address_mempool_refs(address))


def _utxos(address: str | None) -> Response:
    """The unspent outputs."""
    if address is None:
        return json_response([])
    return json_response([utxo_json(u) for u in store().address_utxos(address)])


def _stats(key: str, value: str, address: str | None) -> Response:
    """funded/spent counters, confirmed and unconfirmed, under key (address or scripthash)."""
    if address is None:
        chain = mempool = Stats()
    else:
        chain, mempool = store().address_stats(address)
    return json_response(
        {key: value, "chain_stats": stats_json(chain), "mempool_stats": stats_json(mempool)}
    )


@bp.get("/address/<address>")
def address(address: str):
    """An address's funded/spent counters, confirmed and unconfirmed."""
    return _stats("address", address, check_address(address))


@bp.get("/address/<address>/txs")
def address_txs(address: str):
    """Up to 50 mempool transactions, then the 25 newest confirmed ones."""
    return _history(check_address(address))


@bp.get("/address/<address>/txs/chain", defaults={"last_seen": None})
@bp.get("/address/<address>/txs/chain/<last_seen>")
def address_txs_chain(address: str, last_seen: str | None):
    """25 confirmed transactions, newest first, after last_seen_txid."""
    return _history_chain(check_address(address), last_seen)


@bp.get("/address/<address>/txs/mempool")
def address_txs_mempool(address: str):
    """Up to 50 unconfirmed transactions."""
    return _history_mempool(check_address(address))


@bp.get("/address/<address>/utxo")
def address_utxo(address: str):
    """The address's unspent outputs."""
    return _utxos(check_address(address))


# Wallets (bdk, Electrum-style) key scripts by the SHA-256 of the output script, in hex as
# hashed (not reversed); a script the chain never paid has empty answers, as in electrs.


def _scripthash(text: str) -> str:
    """A scripthash as 64 lowercase hex digits, or electrs' 400."""
    try:
        return check_txid(text)
    except BadRequest:
        raise BadRequest("Invalid scripthash") from None


def _script_address(scripthash: str) -> str | None:
    """The address of the script with this hash, None if the chain never paid it."""
    return store().scripthash_address(scripthash)


@bp.get("/scripthash/<scripthash>")
def scripthash(scripthash: str):
    """A script's funded/spent counters, confirmed and unconfirmed."""
    h = _scripthash(scripthash)
    return _stats("scripthash", h, _script_address(h))


@bp.get("/scripthash/<scripthash>/txs")
def scripthash_txs(scripthash: str):
    """Up to 50 mempool transactions, then the 25 newest confirmed ones."""
    return _history(_script_address(_scripthash(scripthash)))


@bp.get("/scripthash/<scripthash>/txs/chain", defaults={"last_seen": None})
@bp.get("/scripthash/<scripthash>/txs/chain/<last_seen>")
def scripthash_txs_chain(scripthash: str, last_seen: str | None):
    """25 confirmed transactions, newest first, after last_seen_txid."""
    return _history_chain(_script_address(_scripthash(scripthash)), last_seen)


@bp.get("/scripthash/<scripthash>/txs/mempool")
def scripthash_txs_mempool(scripthash: str):
    """Up to 50 unconfirmed transactions."""
    return _history_mempool(_script_address(_scripthash(scripthash)))


@bp.get("/scripthash/<scripthash>/utxo")
def scripthash_utxo(scripthash: str):
    """The script's unspent outputs."""
    return _utxos(_script_address(_scripthash(scripthash)))


@bp.get("/address-prefix/<prefix>")
def address_prefix(prefix: str):
    """Up to 10 addresses the chain knows that start with prefix."""
    if not prefix.isascii() or not prefix.isalnum():
        return json_response([])
    return json_response(store().addresses_with_prefix(prefix))


# -- blocks ---------------------------------------------------------------------------


def _block_json(b) -> dict:
    """A block's JSON, with its size, weight and median time."""
    s = store()
    size, weight = s.block_size(b)
    return block_json(b, size, weight, s.median_time(b))


@bp.get("/block/<block_hash>")
def block(block_hash: str):
    """A block's header fields and sizes."""
    return json_response(_block_json(store().block(check_txid(block_hash))))


@bp.get("/block/<block_hash>/status")
def block_status(block_hash: str):
    """Whether a block is in the best chain, and the next one."""
    s = store()
    try:
        b = s.block(check_txid(block_hash))
    except NotFound:
        return json_response({"in_best_chain": False, "height": None, "next_best": None})
    return json_response({"in_best_chain": True, "height": b.height, "next_best": s.next_hash(b)})


@bp.get("/block/<block_hash>/txs")
def block_txs_first(block_hash: str):
    """The first 25 transactions of a block."""
    return block_txs(block_hash, "0")


@bp.get("/block/<block_hash>/txs/<start>")
def block_txs(block_hash: str, start: str):
    """25 transactions of a block from start_index (a multiple of 25)."""
    s = store()
    b = s.block(check_txid(block_hash))
    index = int(start) if start.isdigit() and start.isascii() else 0
    if index % BLOCK_TXS_PER_PAGE:
        raise BadRequest(f"start index must be a multiple of {BLOCK_TXS_PER_PAGE}")
    if index >= b.tx_count:
        raise BadRequest("start index out of range")
    return txs_response(s.block_tx_refs(b, index))


@bp.get("/block/<block_hash>/txids")
def block_txids(block_hash: str):
    """Every txid of a block."""
    s = store()
    return json_response(s.block_txids(s.block(check_txid(block_hash))))


@bp.get("/block/<block_hash>/txid/<index>")
def block_txid(block_hash: str, index: str):
    """The txid at a position of a block."""
    s = store()
    b = s.block(check_txid(block_hash))
    i = _number(index)
    txids = s.block_txids(b)
    if i >= len(txids):
        raise NotFound("tx index out of range")
    return text_response(txids[i])


@bp.get("/block/<block_hash>/raw")
def block_raw(block_hash: str):
    """The serialized block."""
    s = store()
    raw = s.block_raw(s.block(check_txid(block_hash)))
    return Response(raw, content_type="application/octet-stream")


@bp.get("/block/<block_hash>/header")
def block_header(block_hash: str):
    """The 80-byte header in hex."""
    s = store()
    return text_response(s.block_header(s.block(check_txid(block_hash))).hex())


@bp.get("/block-height/<height>")
def block_height(height: str):
    """The hash of the block at a height."""
    return text_response(store().block_at(_number(height)).hash)


@bp.get("/blocks", defaults={"start": None})
@bp.get("/blocks/<start>")
def blocks(start: str | None):
    """The 10 blocks from start_height (default: the tip) downwards."""
    height = int(start) if start is not None and start.isdigit() and start.isascii() else None
    return json_response([_block_json(b) for b in store().blocks_from(height)])


@bp.get("/blocks/tip/height")
def tip_height():
    """The height of the best block."""
    return text_response(str(store().tip()[0]))


@bp.get("/blocks/tip/hash")
def tip_hash():
    """The hash of the best block."""
    return text_response(store().tip()[1])


# -- mempool and fees -----------------------------------------------------------------


@bp.get("/mempool")
def mempool():
    """Mempool backlog: count, vsize, total fee and Electrum's fee histogram."""
    entries = store().mempool_entries()
    return json_response(
        {
            "count": len(entries),
            "vsize": sum(e[2] for e in entries),
            "total_fee": sum(e[1] for e in entries),
            "fee_histogram": fee_histogram([(fee / vsize, vsize) for _, fee, vsize, _ in entries]),
        }
    )


@bp.get("/mempool/txids")
def mempool_txids():
    """Every txid in the mempool."""
    return json_response([e[0] for e in store().mempool_entries()])


@bp.get("/mempool/recent")
def mempool_recent():
    """The last 10 transactions to enter the mempool (txid, fee, vsize, value)."""
    entries = store().mempool_entries()[-RECENT_TXS:][::-1]
    return json_response(
        [
            {"txid": t, "fee": fee, "vsize": vsize, "value": value}
            for t, fee, vsize, value in entries
        ]
    )


@bp.get("/fee-estimates")
def fee_estimates():
    """Confirmation target (blocks) -> fee rate (sat/vB)."""
    return json_response(store().fee_estimates())
