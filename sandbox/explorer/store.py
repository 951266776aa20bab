"""The explorer's view of the chain: world.db (read-only) and the live chain.db, as one.

Every read borrows a pooled connection for the duration of one call. World transactions
and blocks never change, so what is expensive to derive from them (signed witnesses,
block sizes) is cached; anything touching the live chain is read fresh each time.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..ledger.address import script_pubkey
from ..ledger.block import block_header
from ..ledger.codec.base58 import b58decode
from ..ledger.codec.bech32 import p2wpkh_hash_unchecked
from ..ledger.codec.compact import encode_compact_size
from ..ledger.live.chain import LiveChainView
from ..ledger.tx import parse, serialize
from ..ledger.witness import (
    Spent,
    cached_section,
    remember_section,
    with_witnesses,
    witness_section,
)
from ..lru import LRU
from ..world import store as world_db
from .models import (
    BadRequest,
    Block,
    NotFound,
    Prevout,
    Ref,
    Spend,
    Stats,
    TxView,
    Utxo,
    decode_tx,
)
from .witnesses import WitnessReader, WitnessStore, unpack_prevouts

CHAIN_TXS_PER_PAGE = 25
MAX_MEMPOOL_TXS = 50
BLOCK_LIMIT = 10
BLOCK_TXS_PER_PAGE = 25
MAX_UTXOS = 1000
ADDRESS_SEARCH_LIMIT = 10


def trusted_script(address: str, typ: str) -> bytes:
    """The output script of a world address of a known type, without re-checking its checksum."""
    # The world's addresses were made from their keys, so decoding can skip validation:
    # a bc1q address's 32 program characters are the key hash in base 32.
    if typ == "p2wpkh":
        return b"\x00\x14" + p2wpkh_hash_unchecked(address)
    h = b58decode(address)[1:21]
    if typ == "p2pkh":
        return b"\x76\xa9\x14" + h + b"\x88\xac"
    return b"\xa9\x14" + h + b"\x87"


def _in(values) -> str:
    """Placeholders for an IN (...) list."""
    return ",".join("?" * len(values))


class ChainStore:
    """Reads transactions, addresses and blocks from the world and the live chain."""

    def __init__(
        self,
        world_path: str | Path,
        live: LiveChainView,
        witnesses: WitnessStore | WitnessReader | None = None,
    ):
        """Serve the world at world_path together with the live chain on top of it."""
        self.world_path = Path(world_path)
        self.live = live
        self.witnesses = witnesses
        self.world_tip = live.world_tip_height
        self._block_meta = LRU(8192)
        # Serialized JSON of world transactions, which never change; filled by the API.
        self.json_cache = LRU(128 << 20, len)
        self._fees: dict[str, float] | None = None

    # -- tip ----------------------------------------------------------------------------

    def tip(self) -> tuple[int, str]:
        """(height, hash) of the best block."""
        height, block_hash, _ = self.live.current_tip()
        return height, block_hash

    # -- transactions -------------------------------------------------------------------

    def tx_ref(self, txid: str) -> Ref:
        """Where a transaction lives, or NotFound."""
        with self.live.world.borrow() as w:
            tx_id = world_db.tx_id_of(w, txid)
        if tx_id is not None:
            return ("w", tx_id)
        if self.live.read.has_tx(txid):
            return ("l", txid)
        raise NotFound("Transaction not found")

    def load(self, refs: list[Ref]) -> list[TxView]:
        """The transactions refs point to, in order (a live one gone meanwhile is left out)."""
        world = [int(r[1]) for r in refs if r[0] == "w"]
        live = [str(r[1]) for r in refs if r[0] == "l"]
        views: dict[Ref, TxView] = {}
        if world:
            with self.live.world.borrow() as w:
                for v in self._world_txs(w, world):
                    views[("w", v.world_id or 0)] = v  # a world transaction has its row id
        for v in self._live_txs(live):
            views[("l", v.txid)] = v
        return [views[r] for r in refs if r in views]

    def tx(self, txid: str) -> TxView:
        """One transaction by txid, or NotFound."""
        views = self.load([self.tx_ref(txid)])
        if not views:
            raise NotFound("Transaction not found")
        return views[0]

    def raw(self, txid: str) -> bytes:
        """The complete serialization of a transaction (witnesses included), or NotFound."""
        return self.tx(txid).full

    def find_tx(self, txid: str) -> TxView | None:
        """One transaction by txid, or None."""
        try:
            return self.tx(txid)
        except NotFound:
            return None

    def _world_txs(self, w, ids: list[int]) -> list[TxView]:
        """World transactions by internal id, in the order of ids, witnesses signed."""
        if not ids:
            return []
        rows = {r[0]: r for r in world_db.txs_by_id(w, ids)}
        # Many-input transactions come ready from the witness store; the rest are joined here.
        stored = self.witnesses.get_many(ids) if self.witnesses is not None else {}
        spent: dict[int, dict[int, tuple]] = {}
        light = [i for i in ids if i not in stored]
        if light:
            for tx_id, n, value, address, typ, secret in world_db.spent_coins(w, light):
                spent.setdefault(tx_id, {})[n] = (value, address, typ, secret)
        sections = self._sections(light, rows, spent)
        blocks = self._world_block_ids(w, {rows[i][2] for i in ids})
        views = []
        for tx_id in ids:
            _, txid, height, position, raw, fee = rows[tx_id]
            if tx_id in stored:
                section, packed = stored[tx_id]
                prevouts: list[Prevout | None] = [
                    Prevout(value, trusted_script(address, typ), address)
                    for value, address, typ in unpack_prevouts(packed)
                ]
            else:
                section = sections[tx_id]
                ins = spent.get(tx_id, {})
                prevouts = [
                    Prevout(ins[i][0], trusted_script(ins[i][1], ins[i][2]), ins[i][1])
                    if i in ins
                    else None
                    for i in range(1 if position == 0 else len(ins))
                ]
            full = with_witnesses(raw, section)
            block_hash, block_time = blocks[height]
            views.append(
                TxView(
                    txid=txid,
                    full=full,
                    weight=3 * len(raw) + len(full),
                    fee=fee,
                    prevouts=prevouts,
                    height=height,
                    position=position,
                    block_hash=block_hash,
                    block_time=block_time,
                    world_id=tx_id,
                )
            )
        return views

    def _sections(self, ids, rows, spent) -> dict[int, bytes]:
        """Witness sections: remembered in memory, else signed now."""
        sections: dict[int, bytes] = {}
        for tx_id in ids:
            key = bytes.fromhex(rows[tx_id][1])[::-1]
            section = cached_section(key)
            if section is None:
                ins = spent.get(tx_id, {})
                signing = [
                    Spent(ins[i][0], ins[i][2], ins[i][3]) if i in ins else None
                    for i in range(1 if rows[tx_id][3] == 0 else len(ins))
                ]
                section = witness_section(rows[tx_id][4], signing)
                remember_section(key, section)
            sections[tx_id] = section
        return sections

    @staticmethod
    def _world_block_ids(w, heights) -> dict[int, tuple[str, int]]:
        """(hash, time) of world blocks by height."""
        return world_db.block_ids(w, heights)

    def _live_txs(self, txids: list[str]) -> list[TxView]:
        """Live (mempool or live-mined) transactions by txid, in order; unknown ones skipped."""
        rows = self.live.read.txs(txids)
        views = []
        for txid in txids:
            row = rows.get(txid)
            if row is None:
                continue
            full = row.raw
            tx = parse(full)
            stripped = len(serialize(tx, witness=False))
            ins = row.spent
            prevouts = [_live_prevout(*ins[i]) if i in ins else None for i in range(len(tx.inputs))]
            views.append(
                TxView(
                    txid=txid,
                    full=full,
                    weight=3 * stripped + len(full),
                    fee=row.fee,
                    prevouts=prevouts,
                    height=row.height,
                    position=row.position,
                    block_hash=row.block_hash,
                    block_time=row.block_time,
                    _tx=tx,
                )
            )
        return views

    def outspends(self, txid: str) -> list[Spend | None]:
        """For each output of a transaction, the input spending it (None if unspent)."""
        spends: list[Spend | None]
        with self.live.world.borrow() as w:
            tx_id = world_db.tx_id_of(w, txid)
            if tx_id is not None:
                rows = world_db.output_spenders(w, tx_id)
                ids = [r[1] for r in rows if r[1] is not None]
                spenders = {}
                if ids:
                    spenders = world_db.tx_places(w, ids)
                blocks = self._world_block_ids(w, {h for _, h in spenders.values()})
                count = len(rows)
                place = world_db.txs_by_id(w, [tx_id])[0]
                if place[3] == 0:
                    # A coinbase's genesis key or witness commitment has no address, no row.
                    count = len(decode_tx(place[4])[2])
                spends = [None] * count
                for n, spender, vin in rows:
                    if spender is not None:
                        stxid, height = spenders[spender]
                        spends[n] = Spend(stxid, vin, height, *blocks[height])
        if tx_id is None:
            n_outputs = self.live.read.output_count(txid)
            if not n_outputs:
                raise NotFound("Transaction not found")
            spends = [None] * n_outputs
        for n, stxid, vin, live_height, block_hash, block_time in self.live.read.spenders(txid):
            if 0 <= n < len(spends):
                spends[n] = Spend(stxid, vin, live_height, block_hash, block_time)
        return spends

    # -- addresses ----------------------------------------------------------------------

    def _address_id(self, w, address: str) -> int | None:
        """The world's id of an address, or None if the world never used it."""
        return world_db.address_id(w, address)

    def _live_history(self, address: str) -> tuple[list[str], list[str]]:
        """(mempool txids newest first, live-confirmed txids newest first) of an address."""
        rows = self.live.read.history(address)
        return [t for t, h in rows if h is None], [t for t, h in rows if h is not None]

    def scripthash_address(self, scripthash: str) -> str | None:
        """The address whose output script hashes (SHA-256, hex) to scripthash, or None."""
        key = bytes.fromhex(scripthash)
        with self.live.world.borrow() as w:
            address = world_db.scripthash_address(w, key)
        return address if address is not None else self.live.read.scripthash_address(key)

    def addresses_with_prefix(self, prefix: str, limit: int = ADDRESS_SEARCH_LIMIT) -> list[str]:
        """Up to limit known addresses starting with prefix, world and live, in order."""
        with self.live.world.borrow() as w:
            found = set(world_db.addresses_with_prefix(w, prefix, limit))
        found.update(self.live.read.addresses_with_prefix(prefix, limit))
        return sorted(found)[:limit]

    def address_mempool_refs(self, address: str) -> list[Ref]:
        """The address's unconfirmed transactions, newest first (at most 50)."""
        mempool, _ = self._live_history(address)
        return [("l", t) for t in mempool[:MAX_MEMPOOL_TXS]]

    def address_mempool(self, address: str) -> list[TxView]:
        """The address's unconfirmed transactions, newest first (at most 50)."""
        return self.load(self.address_mempool_refs(address))

    def address_chain_refs(
        self, address: str, last_seen: str | None = None, limit: int = CHAIN_TXS_PER_PAGE
    ) -> list[Ref]:
        """The address's confirmed transactions, newest first, after last_seen (a txid)."""
        _, confirmed = self._live_history(address)
        before = 1 << 62
        start = 0
        with self.live.world.borrow() as w:
            address_id = self._address_id(w, address)
            if last_seen is not None:
                if last_seen in confirmed:
                    start = confirmed.index(last_seen) + 1
                else:
                    seen = self._world_history_id(w, address_id, last_seen)
                    if seen is None:
                        return []  # as Esplora: an unknown last_seen_txid ends the history
                    start, before = len(confirmed), seen
            refs: list[Ref] = [("l", t) for t in confirmed[start : start + limit]]
            rest = limit - len(refs)
            if rest > 0 and address_id is not None:
                refs += [("w", i) for i in world_db.address_history(w, address_id, before, rest)]
        return refs

    def address_chain(
        self, address: str, last_seen: str | None = None, limit: int = CHAIN_TXS_PER_PAGE
    ) -> list[TxView]:
        """The address's confirmed transactions, newest first, after last_seen (a txid)."""
        return self.load(self.address_chain_refs(address, last_seen, limit))

    @staticmethod
    def _world_history_id(w, address_id: int | None, txid: str) -> int | None:
        """The world id of txid if it is in the address's history, else None."""
        if address_id is None:
            return None
        tx_id = world_db.tx_id_of(w, txid)
        if tx_id is None:
            return None
        return tx_id if world_db.touches_address(w, address_id, tx_id) else None

    def address_stats(self, address: str) -> tuple[Stats, Stats]:
        """(chain_stats, mempool_stats) of an address, world and live together."""
        chain = Stats()
        with self.live.world.borrow() as w:
            address_id = self._address_id(w, address)
            if address_id is not None:
                chain = Stats(*world_db.address_totals(w, address_id))
        # keyed by "in the mempool"
        live = {k: Stats(*v) for k, v in self.live.read.address_totals(address).items()}
        return chain.add(live[False]), live[True]

    def address_utxos(self, address: str) -> list[Utxo]:
        """The address's unspent outputs (mempool spends removed, mempool outputs added)."""
        utxos = []
        with self.live.world.borrow() as w:
            address_id = self._address_id(w, address)
            if address_id is not None:
                rows = world_db.address_unspent(w, address_id, MAX_UTXOS + 1)
                blocks = self._world_block_ids(w, {r[3] for r in rows})
                utxos = [Utxo(t, n, v, h, *blocks[h]) for t, n, v, h in rows]
        candidates = [Utxo(*r) for r in self.live.read.outputs_to(address)]
        candidates += utxos
        spent = self.live.read.spent_from(address) if candidates else set()
        result = [u for u in candidates if (u.txid, u.vout) not in spent]
        if len(result) > MAX_UTXOS:
            raise BadRequest(f"Too many unspent transaction outputs (>{MAX_UTXOS})")
        return result

    # -- blocks -------------------------------------------------------------------------

    def _block_row(self, where: str, value) -> Block | None:
        """One block from the world or the live chain."""
        with self.live.world.borrow() as w:
            row = world_db.block_by(w, where, value)
        if row is not None:
            return _block(row, live=False)
        row = self.live.read.block(where, value)
        return _block(row, live=True) if row else None

    def block(self, block_hash: str) -> Block:
        """A block by hash, or NotFound."""
        b = self._block_row("hash", block_hash)
        if b is None:
            raise NotFound("Block not found")
        return b

    def block_at(self, height: int) -> Block:
        """The block at a height, or NotFound."""
        b = self._block_row("height", height) if 0 <= height < 1 << 62 else None
        if b is None:
            raise NotFound("Block not found")
        return b

    def blocks_from(self, start: int | None = None) -> list[Block]:
        """Up to 10 blocks going down from start (default: the tip)."""
        tip, _ = self.tip()
        top = tip if start is None else start
        if top > tip or top < 0:
            raise NotFound("Block not found")
        low = max(0, top - BLOCK_LIMIT + 1)
        blocks = [_block(r, live=True) for r in self.live.read.blocks_between(low, top)]
        if low <= self.world_tip:
            with self.live.world.borrow() as w:
                blocks += [_block(r, live=False) for r in world_db.blocks_between(w, low, top)]
        return blocks

    def next_hash(self, b: Block) -> str | None:
        """The hash of the block after b, if there is one."""
        try:
            return self.block_at(b.height + 1).hash
        except NotFound:
            return None

    def median_time(self, b: Block) -> int:
        """The median time of the 11 blocks ending at b (BIP113)."""
        low = max(0, b.height - 10)
        with self.live.world.borrow() as w:
            times = world_db.block_times(w, low, b.height)
        if b.height > self.world_tip:
            times += self.live.read.block_times(low, b.height)
        times.sort()
        return times[len(times) // 2]

    def block_txids(self, b: Block) -> list[str]:
        """Every txid of a block, in block order."""
        if b.live:
            return self.live.read.block_txids(b.height)
        with self.live.world.borrow() as w:
            return world_db.block_txids(w, b.height)

    def block_tx_refs(self, b: Block, start: int = 0, count: int = BLOCK_TXS_PER_PAGE) -> list[Ref]:
        """count transactions of a block from position start."""
        if b.live:
            return [("l", t) for t in self.block_txids(b)[start : start + count]]
        with self.live.world.borrow() as w:
            return [("w", i) for i in world_db.block_tx_ids(w, b.height, start, count)]

    def block_txs(self, b: Block, start: int = 0, count: int = BLOCK_TXS_PER_PAGE) -> list[TxView]:
        """count transactions of a block from position start."""
        return self.load(self.block_tx_refs(b, start, count))

    def block_size(self, b: Block) -> tuple[int, int]:
        """(size, weight) of a block, witnesses included."""
        if b.live:
            return self.live.read.block_size(b.height)
        meta = self._block_meta.get(b.height)
        if meta is None:
            views = self.block_txs(b, 0, b.tx_count)
            head = 80 + len(encode_compact_size(len(views)))
            meta = (
                head + sum(v.size for v in views),
                4 * head + sum(v.weight for v in views),
            )
            self._block_meta.put(b.height, meta)
        return meta

    def block_header(self, b: Block) -> bytes:
        """The block's 80-byte header."""
        return block_header(
            b.version,
            bytes.fromhex(b.prev_hash)[::-1],
            bytes.fromhex(b.merkle_root)[::-1],
            b.time,
            b.bits,
            b.nonce,
        )

    def block_raw(self, b: Block) -> bytes:
        """The whole serialized block."""
        views = self.block_txs(b, 0, b.tx_count)
        return b"".join(
            [self.block_header(b), encode_compact_size(len(views))] + [v.full for v in views]
        )

    # -- mempool ------------------------------------------------------------------------

    def mempool_views(self, limit: int | None = None) -> list[TxView]:
        """Mempool transactions, newest first."""
        return self._live_txs(self.live.read.mempool_txids(limit))

    def mempool_entries(self) -> list[tuple[str, int, int, int]]:
        """(txid, fee, vsize, value in) of every mempool transaction, oldest first."""
        return self.live.read.mempool_entries()

    def fee_rates(self, blocks: int = 6) -> list[float]:
        """Fee rates (sat/vB) paid in the last blocks of the world, for fee estimates."""
        low = self.world_tip - blocks + 1
        with self.live.world.borrow() as w:
            rows = world_db.fee_samples(w, low)
        rates = []
        for fee, size, segwit in rows:
            # Witness bytes count a quarter: ~108 per segwit input, plus the marker and flag.
            vsize = size + ((2 + 108 * segwit + 3) // 4 if segwit else 0)
            rates.append(fee / vsize)
        return rates

    def fee_estimates(self) -> dict[str, float]:
        """Esplora's fee estimates: confirmation target -> sat/vB."""
        # From the world's last blocks, which never change: computed once.
        if self._fees is not None:
            return self._fees
        rates = sorted(self.fee_rates())
        estimates = {}
        for target in [*range(1, 26), 144, 504, 1008]:
            # Nearer targets need a rate higher in the recent blocks' distribution.
            q = max(0.02, 0.9 - 0.25 * math.log(target))
            rate = rates[min(len(rates) - 1, int(q * len(rates)))] if rates else 1.0
            estimates[str(target)] = round(max(1.0, rate), 3)
        self._fees = estimates
        return estimates

    # -- labels -------------------------------------------------------------------------

    def labels(self, addresses) -> dict[str, tuple[str, str]]:
        """Public service labels of addresses: address -> (label, wallet kind)."""
        wanted = sorted({a for a in addresses if a})
        if not wanted:
            return {}
        with self.live.world.borrow() as w:
            rows = world_db.service_labels(w, wanted)
        return {a: (label, kind) for a, label, kind in rows}


def _block(row: tuple, live: bool) -> Block:
    """A Block of a (height, hash, prev, merkle, time, version, bits, nonce, tx_count) row."""
    height, block_hash, prev_hash, merkle_root, time, version, bits, nonce, tx_count = row
    return Block(
        height, block_hash, prev_hash, merkle_root, time, version, bits, nonce, tx_count, live
    )


def _live_prevout(value: int, address: str | None) -> Prevout:
    """The coin a live input spends: (value, address) of its spent output."""
    return Prevout(value, script_pubkey(address) if address else b"", address)
